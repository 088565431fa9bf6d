"""What a careful user hits with regression and input features: each view tells the truth after the task,
the dataset or the inputs change, and hostile files give a sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gui_helpers import WAIT_MS, run_to_end
from test_regression_views import regression_of

import minidl
from gui.files.script import checked_edits
from gui.model import tasks


def step_one_batch(window, qtbot) -> None:
    s, steps = window.session, []
    s.events.connect("batch", steps.append)
    window.step_batch_action.trigger()
    qtbot.waitUntil(lambda: len(steps) == 1 and s.state == "paused", timeout=WAIT_MS)
    s.stop()
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)


def rewrite(path, key: str, change) -> None:
    """Change the JSON metadata ``key`` of the saved file ``path`` in place (``change`` edits the parsed object)."""
    model, metadata, tensors = minidl.io.read(path)
    value = json.loads(metadata[key])
    change(value)
    minidl.io.write(path, model, metadata={**metadata, key: json.dumps(value)}, tensors=tensors)

def test_the_batch_steps_small_curve_goes_with_the_step_it_drew(window, qtbot):
    """A Sine step's small curve must not stay on the batch step view once another dataset is chosen."""
    window.qtbot = qtbot
    regression_of(window, "Sine", epochs=0)
    step_one_batch(window, qtbot)
    view = window.batch_step_view
    assert view.curve.isVisible() and len(view.curve.getData()[0]) > 0
    window.session.edit(dataset="Plane")
    assert view.step is None
    x, _ = view.curve.getData()
    assert not view.curve.isVisible() or x is None or len(x) == 0


def test_a_kept_run_whose_dataset_does_not_fit_its_networks_outputs_is_refused(window, qtbot, tmp_path):
    """A Plane run (one output) relabelled Disc (two classes) would draw a lie in the compare view and export
    a script that fails: the runs are left out with a sentence, the experiment opens."""
    window.qtbot = qtbot
    regression_of(window, "Plane", epochs=2)
    path = tmp_path / "plane.playground"
    assert window.files.save_to(path)
    rewrite(path, "runs", lambda runs: runs["runs"][0]["settings"].update(dataset="Disc"))
    assert window.files.open(path, confirmed=True)
    title, text = window.files.last_error[:2]
    assert title == "Runs left out" and window.session.runs == []
    assert "run A" in text and "2 outputs" in text and "1 output" in text
    assert window.session.experiment.dataset == "Plane" and window.session.history.epochs == 2


def test_the_metrics_line_stops_saying_paused_once_the_run_is_stopped(window, qtbot):
    """Step batch (F8) pauses the run; a stop ends it: the metrics line must not still say "paused"."""
    window.qtbot = qtbot
    regression_of(window, "Sine", epochs=2)
    label = window.run_panel.metrics
    step_one_batch(window, qtbot)
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=WAIT_MS)
    assert label.text().startswith("Epoch ") and "paused" not in label.text()


@pytest.mark.parametrize("value", [1e300, -1e39])
def test_a_weight_beyond_what_float32_holds_is_refused_with_a_sentence(window, qtbot, value):
    """Typed in the editor (Enter) or set through automation: a sentence, never a traceback."""
    window.qtbot = qtbot
    regression_of(window, "Sine", epochs=1)
    s, view = window.session, window.network_view
    before = s.model.parameters()[0][0, 0].item()
    with pytest.raises(ValueError, match="finite number"):
        view.set_weight(0, 0, 0, value)
    view.edit_weight(0, 0, 0)
    view.editor.setText(repr(value))
    statuses = []
    s.events.connect("status", statuses.append)
    assert not view.editor.apply()
    assert statuses and "refused" in statuses[-1] and s.model.parameters()[0][0, 0].item() == before


def test_a_files_hand_edit_beyond_float32_is_refused_as_damaged():
    with pytest.raises(ValueError, match="damaged"):
        checked_edits([[0, 0, 0, 1e300]])


@pytest.mark.parametrize("features, words", [([], "no input feature"), (["x2"], "only x2 features")])
def test_a_file_without_an_input_its_data_can_give_says_so(window, qtbot, tmp_path, features, words):
    """Not "its data needs 0 inputs": the file is damaged, and the sentence says what is missing."""
    window.qtbot = qtbot
    regression_of(window, "Sine", epochs=1)
    path = tmp_path / "sine.playground"
    assert window.files.save_to(path)
    rewrite(path, "experiment", lambda settings: settings.update(features=features))
    window.session.edit(eta=0.05)
    assert not window.files.open(path, confirmed=True)
    text = window.files.last_error[1]
    assert "damaged" in text and words in text and "0 inputs" not in text
    assert window.session.experiment.eta == 0.05  # what the user had stays


def test_discretize_on_then_sine_then_a_classification_draws_without_a_traceback(window, qtbot):
    """Discretize stays ticked (disabled) through a Sine regression; back to classes, the plot must not read
    Sine's curve as a picture of classes."""
    window.qtbot = qtbot
    s = window.session
    s.edit(n_train=100, n_test=50)
    assert run_to_end(qtbot, window, 1) == "completed"
    window.boundary_plot.discretize_check.setChecked(True)
    s.edit(**tasks.task_changes(s.experiment, "regression", "Sine"))
    assert run_to_end(qtbot, window, 1) == "completed"
    s.edit(**tasks.task_changes(s.experiment, "classification", "Spiral"))  # raised IndexError
    assert run_to_end(qtbot, window, 1) == "completed"
    classes = window.boundary_plot.current_image()  # the predicted class at each pixel
    assert window.boundary_plot.discretized and classes.ndim == 2
    assert set(np.unique(classes)) <= set(range(s.experiment.num_classes))


def test_leaving_presenter_mode_while_paused_keeps_the_settings_locked(window, qtbot):
    """Presenter mode locks the controls enabled when it starts (idle: problemCombo among them) and lets them
    all go when it ends; a run paused meanwhile (Step batch) must keep them disabled, or changing the task
    raised "stop the run before changing ..."."""
    window.qtbot = qtbot
    s = window.session
    regression_of(window, "Sine", epochs=1)
    window.set_presenter_mode(True, full_screen=False)
    steps = []
    s.events.connect("batch", steps.append)
    window.step_batch_action.trigger()
    qtbot.waitUntil(lambda: len(steps) == 1 and s.state == "paused", timeout=WAIT_MS)
    window.set_presenter_mode(False)
    settings = window.settings_panel
    for widget in (settings.problem_combo, settings.dataset_combo, settings.features.checks["x1"], window.draw.button):
        assert not widget.isEnabled(), widget.objectName()
    s.stop()
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert settings.problem_combo.isEnabled() and settings.features.checks["x1"].isEnabled()


def test_an_export_refused_for_an_invalid_network_ends_its_sentence_once(window, tmp_path):
    s = window.session
    s.edit(dataset="Spiral", classes=3)  # the last Linear keeps 2 outputs: the validation's sentence ends with "."
    assert s.validate()
    assert not window.files.exports.export_model(tmp_path / "model.minidl")
    text = window.files.last_error[1]
    assert "width to 3." in text and ".." not in text


def test_three_compared_runs_legend_stays_inside_the_loss_plot(window, qtbot):
    """Five entries make two legend columns; long "what differs" labels ran them off the plot's left edge."""
    window.resize(1366, 768)
    s = window.session
    s.edit(n_train=100, n_test=50, batch_size=25)
    assert run_to_end(qtbot, window, 1) == "completed"
    s.edit(**tasks.task_changes(s.experiment, "regression", "Sine"))
    assert run_to_end(qtbot, window, 1) == "completed"
    s.edit(**tasks.task_changes(s.experiment, "classification", "Spiral"))
    s.edit(classes=3, features=["x1", "x2", "sinx1"], blocks=[{"type": "Linear", "width": 5}, {"type": "Tanh"},
                                                             {"type": "Linear", "width": 3}])
    assert run_to_end(qtbot, window, 1) == "completed"
    s.compare([r.name for r in s.runs])
    qtbot.wait(50)
    item = window.loss_plot.getPlotItem()
    legend = item.legend
    assert len(legend.items) == 5 and legend.columnCount == 2
    inside = item.vb.mapRectToScene(item.vb.boundingRect())
    drawn = legend.mapRectToScene(legend.boundingRect())
    assert drawn.left() >= inside.left() - 1 and drawn.right() <= inside.right() + 1, (drawn, inside)


def test_a_reset_is_not_undone_into_a_network_of_other_inputs(window, qtbot):
    """Reset, then Regression (Sine: one input): Ctrl+Z brought back the 2-input network, and Run failed."""
    s = window.session
    s.edit(n_train=100, n_test=50, batch_size=25)
    assert run_to_end(qtbot, window, 2) == "completed"
    s.reset()
    assert s.can_undo
    s.edit(**tasks.task_changes(s.experiment, "regression", "Sine"))
    assert not s.can_undo and not window.undo_action.isEnabled()
    assert not s.undo()
    assert s.model.in_features == s.experiment.in_features == 1
    assert run_to_end(qtbot, window, 1) == "completed"
