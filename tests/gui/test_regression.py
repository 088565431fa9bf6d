"""A regression in the playground, its settings side: problemCombo and datasetCombo, the task's loss and
output width in one edit, the metrics line's and runs table's words, Export as Python (regressions and
input features), files, kept runs and the CSV export. Small experiments: a few points, a few epochs."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from session_helpers import InlineRun, run_script, small

from gui.files import experiment_file, points_csv
from gui.files.runs_file import from_file, to_file
from gui.files.script import script
from gui.model import lesson
from gui.model.experiment import CLASSIFICATION_NAMES, REGRESSION_NAMES, Experiment, linear
from gui.model.runs import final_numbers
from gui.model.session import Session
from gui.model.tasks import edit_for, error_cell, error_words, task_changes, with_task
from gui.qt.panels.settings_panel import SettingsPanel

TANH = {"type": "Tanh"}
FEATURES = ["x1", "x2", "x1sq", "x2sq"]


def regression(dataset: str = "Plane", **changes) -> Session:
    """A small session on a regression dataset (the report's stack, its last Linear 1 wide)."""
    e = with_task(Experiment(), "regression", dataset)
    return small(dataset=e.dataset, blocks=e.blocks, loss=e.loss, **changes)


def linears(e: Experiment) -> list[int]:
    return [b["width"] for b in e.blocks if b["type"] == "Linear"]


@pytest.fixture
def panel(qtbot):
    """The Training and Data settings of a small session (the window's views of a regression are another
    helper's; the panel alone is the settings)."""
    s = small(n_train=40, n_test=40, epochs=2)
    settings = SettingsPanel(s)
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.addWidget(settings.training)
    layout.addWidget(settings.data)
    qtbot.addWidget(holder)
    holder.show()
    settings.holder = holder
    return settings


def items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


# -- choosing a task -------------------------------------------------------------------------------
def test_with_task_sets_dataset_loss_and_the_last_linear_width_in_a_copy():
    e = Experiment(loss="Cross-entropy", blocks=[linear(8), {"type": "ReLU"}, linear(2)])
    r = with_task(e, "regression")
    assert (r.dataset, r.loss, r.task, linears(r)) == ("Sine", "MSE", "regression", [8, 1])
    assert (e.dataset, e.loss, linears(e)) == ("Disc", "Cross-entropy", [8, 2])  # the original is untouched
    assert not r.validate()
    back = with_task(r, "classification", "Blobs")
    assert (back.dataset, linears(back)) == ("Blobs", [8, 3])  # one output per class: Blobs has 3
    assert task_changes(e, "regression", "Plane") == {"dataset": "Plane", "loss": "MSE", "blocks": r.blocks}
    with pytest.raises(ValueError, match="not a regression dataset"):
        with_task(e, "regression", "Disc")
    with pytest.raises(ValueError, match="the task must be one of"):
        with_task(e, "clustering")


def test_problem_combo_lists_the_task_s_datasets_and_switches_in_one_edit(panel):
    s = panel.session
    assert panel.problem_combo.objectName() == "problemCombo"
    assert items(panel.problem_combo) == ["Classification", "Regression"]
    assert items(panel.dataset_combo) == list(CLASSIFICATION_NAMES)
    edits = []
    s.events.connect("experiment", lambda: edits.append(s.experiment.dataset))
    panel.problem_combo.setCurrentText("Regression")
    assert edits == ["Sine"]  # one edit: dataset, loss and width together
    e = s.experiment
    assert (e.task, e.dataset, e.loss, linears(e)[-1]) == ("regression", "Sine", "MSE", 1)
    assert items(panel.dataset_combo) == list(REGRESSION_NAMES)
    assert "regression" in panel.dataset_combo.toolTip() and "Sine" in panel.dataset_combo.toolTip()
    assert "sin(2πx)" in panel.dataset_combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert not s.validate() and s.has_model and s.data.regression and s.model.out_features == 1
    panel.dataset_combo.setCurrentText("Multi-Gaussian")
    panel.problem_combo.setCurrentText("Classification")
    assert (s.experiment.dataset, linears(s.experiment)[-1]) == ("Disc", 2)
    assert "classification" in panel.dataset_combo.toolTip()
    panel.problem_combo.setCurrentText("Regression")
    assert s.experiment.dataset == "Multi-Gaussian"  # the one used last for the task


def test_a_classification_gets_its_loss_back_after_a_regression(panel):
    s = panel.session
    s.edit(loss="Cross-entropy",
           blocks=[{"type": "Linear", "width": 8}, {"type": "ReLU"}, {"type": "Linear", "width": 2}])
    panel.problem_combo.setCurrentText("Regression")
    assert s.experiment.loss == "MSE"
    panel.problem_combo.setCurrentText("Classification")
    assert (s.experiment.loss, linears(s.experiment)[-1]) == ("Cross-entropy", 2) and not s.validate()


def test_drawing_or_importing_points_in_a_regression_makes_a_classification(qtbot, tmp_path):
    from gui.qt.panels.draw import DrawTool

    s = regression(n_train=40, n_test=40)
    plot = mock.MagicMock()
    tool = DrawTool(s, plot)
    qtbot.addWidget(tool)
    tool.set_drawing(True)
    e = s.experiment
    assert (e.dataset, e.task, linears(e)[-1]) == ("Custom", "classification", 2)
    t = regression(n_train=40, n_test=40)
    changes = edit_for(t.experiment, dataset="Custom", points=[[0.1, 0.1, 0, 0], [0.9, 0.9, 2, 0], [0.5, 0.5, 1, 0]])
    assert changes["blocks"][-2]["width"] == 3 and changes["dataset"] == "Custom"
    assert edit_for(s.experiment, dataset="Disc") == {"dataset": "Disc"}  # the same task: just the dataset


def test_a_file_s_task_shows_in_the_combos(panel):
    s = panel.session
    s.replace(with_task(Experiment(n_train=30, n_test=30), "regression", "Plane"))
    assert panel.problem_combo.currentText() == "Regression"
    assert panel.dataset_combo.currentText() == "Plane" and items(panel.dataset_combo) == list(REGRESSION_NAMES)


def test_regression_hides_the_classes_and_disables_cross_entropy(panel):
    s, form = panel.session, panel._data_form
    loss_item = panel.loss_combo.model().item(panel.loss_combo.findText("Cross-entropy"))
    assert form.isRowVisible(panel.classes_spin) and loss_item.isEnabled()
    panel.problem_combo.setCurrentText("Regression")
    assert not form.isRowVisible(panel.classes_spin) and not panel.classes_spin.isEnabled()
    assert not loss_item.isEnabled() and "needs classes" in loss_item.toolTip()
    s.edit(loss="Cross-entropy")  # automation may still set it: the validation says what to do
    assert any("choose MSE" in p for p in s.validate())
    panel.problem_combo.setCurrentText("Classification")
    assert loss_item.isEnabled() and form.isRowVisible(panel.classes_spin)


def test_another_last_width_gets_the_validation_sentence(panel):
    s = panel.session
    panel.problem_combo.setCurrentText("Regression")
    blocks = [dict(b) for b in s.experiment.blocks]
    blocks[-2]["width"] = 2
    s.edit(blocks=blocks)
    assert s.validate() == ["The last Linear block has 2 outputs, but a regression predicts one value: "
                            "set the last Linear's width to 1."]
    assert not s.has_model


def test_the_task_cannot_change_during_a_run(panel, monkeypatch):
    s = panel.session
    monkeypatch.setattr(type(s), "running", property(lambda self: True))
    panel.enable_controls()
    assert not panel.problem_combo.isEnabled() and not panel.dataset_combo.isEnabled()


# -- the words: metrics line, runs table ---------------------------------------------------------
def test_error_words_say_mse_per_point_for_a_regression():
    assert error_words(0.0123, 0.0131, "regression") == "train MSE 0.0123 per point, test MSE 0.0131 per point"
    assert error_words(2.04, 3.0, "classification") == "error train 2.0 %, test 3.0 %"
    assert error_cell(0.012345, "regression") == "0.01235" and error_cell(12.34, "classification") == "12.3 %"
    assert error_cell(None, "regression") == "–"


def test_the_metrics_line_of_a_regression_run(qtbot):
    from gui.qt.panels.run_panel import RunPanel
    from gui.qt.plots.display import Display
    from gui.qt.plots.loss_plot import LossPlot

    s = regression(n_train=40, n_test=40, epochs=3)
    run_panel, loss_plot, check = RunPanel(s), LossPlot(), mock.MagicMock()
    qtbot.addWidget(run_panel)
    qtbot.addWidget(loss_plot)
    Display(s, mock.MagicMock(), loss_plot, run_panel, check)  # the boundary plot of a regression: not here
    assert s.run()
    text = run_panel.metrics.text()
    values = s.data.evaluate(s.model)
    assert text.startswith("Epoch 3 of 3")
    assert f"train MSE {values['train_error']:.4g} per point, test MSE {values['test_error']:.4g} per point" in text
    assert "%" not in text and "MSE per point" in run_panel.metrics.toolTip()


def test_the_runs_table_shows_a_regression_s_error_as_mse(qtbot):
    from gui.qt.runs.runs_view import row_texts

    s = regression(n_train=40, n_test=40, epochs=2)
    s.run()
    run = s.runs[-1]
    texts = row_texts(run)
    assert texts[5] == f"{run.final['train_error']:.4g}" and "%" not in texts[5] + texts[6]
    c = small(n_train=40, n_test=40, epochs=2)
    c.run()
    assert row_texts(c.runs[-1])[6].endswith(" %")


def test_saturation_is_judged_on_a_regression_s_targets():
    blocks = [linear(1), TANH]
    stuck = [0.5] * 10  # the loss no longer moves
    targets = torch.linspace(-0.5, 0.5, 100)[:, None]
    pinned = torch.full((100, 1), 0.999)
    assert lesson.saturated(blocks, pinned, stuck, targets)  # pinned at 1, the targets lie between
    assert not lesson.saturated(blocks, pinned, stuck, torch.ones(100, 1))  # pinned at targets that are 1
    assert not lesson.saturated(blocks, targets.clone(), stuck, targets)  # the outputs reach the targets


def test_a_saturated_regression_output_is_not_told_to_try_relu():
    from gui.model import inside

    cols = inside.columns([linear(4), TANH, linear(1), TANH])
    stats = [{"grad_norm": 1.0, "weight_norm": 1.0, "update_ratio": 0.01, "dead_units": None,
              "saturated_units": units} for units in (0, 1)]
    words = inside.flags(stats, cols, 0.01, regression=True)
    assert len(words) == 1 and "no activation after the last Linear" in words[0] and "ReLU" not in words[0]
    assert inside.flags(stats, cols, 0.01)[0].endswith("or ReLU.")  # a classifier's 0/1 targets: ReLU can


def test_a_regression_lesson_scene_speaks_of_mse_per_point():
    import json

    e = with_task(Experiment(), "regression", "Plane")
    scene = lesson.parse(json.dumps({"title": "L", "scenes": [{"title": "S", "experiment": {
        "dataset": "Plane", "blocks": e.blocks, "n_train": 50, "n_test": 50, "epochs": 5, "batch_size": 10},
        "expect": {"expect": "test_error_below", "value": 5}}]})).scene
    assert lesson.expect_sentence(scene.expects, 5, regression=True) == (
        "the test MSE per point falls below 5 by epoch 5.")
    outcome = lesson.check(scene)
    assert outcome.holds and "test MSE" in outcome.sentence and "%" not in outcome.sentence, outcome.sentence


# -- export as Python ------------------------------------------------------------------------------
def replayed(s: Session, tmp_path, settings=None, schedule=None, epochs=None) -> dict[str, str]:
    """The script's printed numbers; its final loss is the session's, exactly (float32)."""
    text = script(settings or s.run_settings(), schedule or s.schedule, epochs or s.history.epochs)
    printed = run_script(text, tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]
    return printed


def test_a_regression_run_exports_a_script_that_replays_it(tmp_path):
    s = regression("Plane", n_train=60, n_test=40, epochs=20)
    assert s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "one_hot" not in text and "error_rate" not in text and "Linear(25, 1," in text
    printed = replayed(s, tmp_path)
    values = s.data.evaluate(s.model)
    assert float(printed["train MSE per point"]) == values["train_error"]
    assert float(printed["test MSE per point"]) == values["test_error"]


def test_a_sine_run_continued_at_another_eta_replays(tmp_path):
    s = regression("Sine", n_train=50, n_test=20, epochs=8, noise=0.05)
    s.run()
    s.edit(eta=0.003)
    s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "Linear(1, 25," in text and "features(" not in text  # Sine's one coordinate is the input
    printed = replayed(s, tmp_path)
    assert float(printed["test MSE per point"]) == s.data.evaluate(s.model)["test_error"]


def test_a_features_run_exports_features_of_the_points(tmp_path):
    s = small(features=FEATURES, blocks=[linear(2), TANH], eta=0.01, epochs=20)
    assert s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "X_train = features(P_train, ['x1', 'x2', 'x1sq', 'x2sq'])" in text and "Linear(4, 2," in text
    printed = replayed(s, tmp_path)
    values = s.data.evaluate(s.model)
    assert printed["test error"] == f"{values['test_error']:.2f} %"


def test_drawn_points_with_features_replay_from_the_runs_table(tmp_path):
    generator = torch.Generator().manual_seed(2)
    points = [[x, y, int((x - 0.5) ** 2 + (y - 0.5) ** 2 < 0.1), 0]
              for x, y in torch.rand(40, 2, generator=generator).tolist()]
    s = small(dataset="Custom", points=points, epochs=5, eta=0.01, blocks=[linear(2), TANH], features=FEATURES)
    s.run()
    s.edit(eta=0.03)
    s.run()
    assert s.runs[-1].settings["features"] == FEATURES
    text = script(s.runs[-1].replay_settings(), s.runs[-1].schedule, s.runs[-1].epochs)
    assert "P_train = _table(" in text and "split(" not in text
    printed = replayed(s, tmp_path)
    assert printed["test error"] == f"{s.data.evaluate(s.model)['test_error']:.2f} %"


def test_the_plain_features_script_is_unchanged():
    s = small(epochs=2)
    s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "features" not in text and "X_train, labels_train, X_test, labels_test = split('Disc'" in text
    assert "from minidl.data import one_hot, split\n" in text


def test_a_sine_with_features_and_a_hand_edit_replays(tmp_path):
    s = regression("Sine", n_train=40, n_test=20, epochs=6, features=["x1", "x2", "x1sq", "sinx1"])
    assert s.experiment.input_names == ["x1", "x1sq", "sinx1"]  # Sine has no x2
    s.run()
    s.set_weight(0, 0, 1, 0.25)
    s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "features(P_train, ['x1', 'x1sq', 'sinx1'])" in text and "Linear(3, 25," in text
    replayed(s, tmp_path)


def test_a_file_s_feature_names_reach_the_script_only_as_validated_literals():
    s = small(epochs=2, features=FEATURES)
    s.run()
    settings = {**s.run_settings(), "features": ["x1", "__import__('os')"]}
    with pytest.raises(ValueError, match="the experiment's features must be a list of distinct names"):
        script(settings, s.schedule, 2)
    sine = {**s.run_settings(), "dataset": "Sine", "features": ["x2", "x2sq"]}
    with pytest.raises(ValueError, match="no input feature of x2, x2sq can be computed from the Sine points"):
        script(sine, s.schedule, 2)


# -- files, kept runs, CSV -------------------------------------------------------------------------
def test_a_regression_with_features_round_trips_with_its_runs(tmp_path):
    s = regression("Multi-Gaussian", n_train=40, n_test=20, epochs=4, features=["x1", "x2", "x1x2"])
    s.run()
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path / "r.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=metadata, extra_tensors=tensors)
    loaded = experiment_file.load(path)
    e = loaded.experiment
    assert (e.dataset, e.task, e.features, e.in_features, e.out_features) == (
        "Multi-Gaussian", "regression", ["x1", "x2", "x1x2"], 3, 1)
    runs, schedule, _ = from_file(loaded.metadata, loaded.tensors)
    assert runs[-1].settings["features"] == ["x1", "x2", "x1x2"] and runs[-1].settings["dataset"] == "Multi-Gaussian"
    assert runs[-1].final == s.runs[-1].final and runs[-1].final["test_error"] is not None
    t = Session(runner=InlineRun)
    t.replace(e, loaded.model, loaded.history, loaded.timeline)
    t.adopt_runs(runs, schedule, None)
    assert torch.equal(t.model.predict(t.data.X_test), s.model.predict(s.data.X_test))
    t.run()  # a Continue after opening the file trains on
    assert t.history.epochs == 8


def test_a_kept_regression_run_replays_after_save_and_open(tmp_path):
    s = regression("Plane", n_train=40, n_test=20, epochs=5)
    s.run()
    s.edit(eta=0.01)
    s.run()
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    runs, _, _ = from_file(metadata, tensors)
    run = runs[-1]
    printed = replayed(s, tmp_path, run.replay_settings(), run.schedule, run.epochs)
    assert float(printed["test MSE per point"]) == pytest.approx(run.final["test_error"], rel=1e-6)


def test_a_fork_of_a_regression_run_repeats_it():
    s = regression("Sine", n_train=40, n_test=20, epochs=10)
    s.run()
    s.seek(5)
    s.fork()
    assert s.runs[-1].kind == "fork"
    np.testing.assert_array_equal(s.runs[-1].history.train, s.runs[0].history.train)
    assert final_numbers(s.history, s.metrics)["test_error"] == pytest.approx(s.runs[0].final["test_error"])


def test_a_regression_s_data_exports_as_csv_with_targets_and_import_says_why_not():
    s = regression("Sine", n_train=12, n_test=10, epochs=1)
    d = s.data
    text = points_csv.targets_to_csv(d.points_train, d.y_train, d.points_test, d.y_test)
    lines = text.splitlines()
    assert lines[0] == "x1,target,split" and len(lines) == 23 and lines[-1].endswith(",test")
    x, y, _ = lines[1].split(",")
    assert np.float32(float(x)) == d.points_train[0, 0] and np.float32(float(y)) == d.y_train[0, 0]
    plane = regression("Plane", n_train=10, n_test=10, epochs=1).data
    assert points_csv.targets_to_csv(plane.points_train, plane.y_train, plane.points_test,
                                     plane.y_test).startswith("x1,x2,target,split\n")
    with pytest.raises(ValueError, match="your own points are classes"):
        points_csv.parse_csv(text.encode())
