"""Sweeps as a careful user meets them: a regression's errors said as an MSE, hostile sweep sections,
and the window's actions while a sweep trains."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch
from session_helpers import InlineRun
from test_sweep_gui import FakeSession, _result
from test_sweep_model import drive
from test_sweep_model import pool as pool  # the fixture: two warm workers for the module's sweeps

from gui.files import sweep_file
from gui.model import sweep as grids
from gui.model import tasks
from gui.model.experiment import Experiment
from gui.model.history import History
from gui.model.session import Session
from gui.qt.runs import sweep_dialog
from gui.qt.runs.sweep_view import SweepView


def _regression_view(qtbot, results):
    session = FakeSession(results, [])
    session.runs = [types.SimpleNamespace(name=n, history=History(np.asarray([1.0, 0.5], np.float32)),
                                          settings={"dataset": "Sine"}) for r in results for n in r["runs"]]
    view = SweepView(session)
    qtbot.addWidget(view)
    view.resize(460, 700)
    view.show()
    return view


def test_a_regression_sweep_says_its_errors_as_an_mse_per_point(qtbot):
    results = [_result({"eta": 0.001}, ["a1", "a2"], [0.0123, 0.0145], [0.011, 0.013]),
               _result({"eta": 0.01}, ["b1", "b2"], [0.0456, 0.0478], [0.04, 0.05])]
    view = _regression_view(qtbot, results)
    headers = [view.table.horizontalHeaderItem(j).text() for j in range(view.table.columnCount())]
    assert not any("%" in h for h in headers) and "Test MSE" in headers[1]
    assert view.table.item(0, 1).text() == "0.0134 (0.0123–0.0145)"  # not "0.0 (0.0–0.0)"
    assert "%" not in view.table.item(0, 1).toolTip() and "MSE" in view.table.item(0, 1).toolTip()
    assert "%" not in view.message.text() and "MSE" in view.message.text()
    assert "MSE" in view.plot.getPlotItem().getAxis("left").labelText


def test_a_regression_heatmap_shows_the_mse_in_each_cell(qtbot):
    results = [_result({"eta": e, "width": w}, [f"r{i}{j}"], [0.01 * (i + 1) + 0.001 * j])
               for i, e in enumerate((0.001, 0.01)) for j, w in enumerate((4, 8))]
    view = _regression_view(qtbot, results)
    assert sorted(t.toPlainText() for t in view.plot.texts) == ["0.01", "0.011", "0.02", "0.021"]
    assert "%" not in view.message.text()


def test_a_long_count_and_sentence_leave_the_dialogs_fields_their_height(window, qtbot):
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    dialog.param2_combo.setCurrentIndex(dialog.param2_combo.findData("width"))
    dialog.values_edit.setText("1e-4..1e-1 x20")
    qtbot.keyClicks(dialog.values2_edit, "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11")  # 220 runs: refused
    assert not dialog.start()
    qtbot.wait(50)
    for field in (dialog.param_combo, dialog.values_edit, dialog.param2_combo, dialog.values2_edit,
                  dialog.seeds_spin):
        assert field.height() >= field.sizeHint().height()
    for label in (dialog.count_label, dialog.error_label):
        assert label.height() >= label.heightForWidth(label.width())


def test_editing_the_values_clears_the_sentence_about_the_old_ones(window, qtbot):
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    dialog.values_edit.setText("0.01, fast")
    assert not dialog.start() and dialog.error_label.text()
    qtbot.keyClick(dialog.values_edit, "x")
    assert dialog.error_label.text() == ""


@pytest.mark.parametrize(("sweep", "words"), [
    ('{"grid": {"eta": [0.1]}, "seeds": "1", "runs": [["A"]]}', "1 to 10 seeds"),
    ('{"grid": [["eta", [0.1]]], "seeds": 1, "runs": [["A"]]}', "one or two settings"),
    ('{"grid": {"colour": [1]}, "seeds": 1, "runs": [["A"]]}', "cannot vary 'colour'"),
    ('{"grid": {"eta": [0.1, NaN]}, "seeds": 1, "runs": [["A"], [null]]}', "a number from"),
    ('{"grid": {"eta": [1e400]}, "seeds": 1, "runs": [["A"]]}', "a number from"),
    ('{"grid": {"eta": [0.1]}, "seeds": 1, "runs": [["B"]]}', "does not hold"),
    ('{"grid": {"eta": [0.1, 0.2]}, "seeds": 1, "runs": [["A"], ["A"]]}', "or one twice"),
    ('{"grid": {"eta": [0.1]}, "seeds": 1, "runs": [[1]]}', "does not hold"),
    ('{"grid": {"eta": [0.1]}, "seeds": 1, "runs": ["A"]}', "1 lists of 1 names"),
    ('{"grid": {"eta": [0.1]}, "seeds": 1}', "grid, seeds and runs"),
    ('{"grid": {"width": ' + str(list(range(1, 51))) + ', "layers": [0, 1, 2, 3, 4, 5]}, "seeds": 1, "runs": []}',
     "at most 200"),
    ('{"grid": {"width": ' + str(list(range(1, 60))) + '}, "seeds": 1, "runs": []}', "at most 50"),
    ("[" * 100_000, "not valid JSON"),
])
def test_a_hostile_sweep_section_gets_a_sentence_and_the_runs_open(window, tmp_path, sweep, words):
    from gui.files import experiment_file, runs_file

    s = window.session
    s.edit(n_train=100, n_test=100, epochs=2)
    s.run()
    s.stop()
    qt_free = runs_file.to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path / "hostile.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline,
                         extra_metadata={**qt_free[0], "sweep": sweep}, extra_tensors=qt_free[1])
    assert window.files.open(path)
    title, text = window.files.last_error[:2]
    assert title == "Sweep left out" and words in text and "Traceback" not in text
    assert [r.name for r in s.runs] == ["A"] and s.sweep_definition() is None and window.sweep_view.cells() == []


def test_a_remembered_text_with_control_characters_is_ignored(window):
    window.settings.setValue("sweep/param", "width")
    window.settings.setValue("sweep/values/width", "1, 2,\x00\x1b[2J")
    window.settings.setValue("sweep/seeds", "many")
    window.sweep_action.trigger()
    dialog = window.sweep_dialog
    assert dialog.setting(1) == "width"
    assert dialog.values_edit.text() == sweep_dialog.DEFAULTS["width"]
    assert dialog.seeds_spin.value() == 1 and dialog.error_label.text() == ""


def _regression(**changes):
    return tasks.with_task(Experiment(n_train=100, n_test=100, batch_size=20, epochs=15, **changes), "regression",
                           "Plane")


FEATURES = ["x1", "x2", "x1sq", "x2sq"]
SCORES = [{"type": "Linear", "width": 8}, {"type": "ReLU"}, {"type": "Linear", "width": 2}]


@pytest.mark.parametrize(("make", "grid"), [
    (lambda: _regression(), {"eta": [0.003], "layers": [1, 2]}),
    (lambda: _regression(features=FEATURES), {"width": [3]}),
    (lambda: Experiment(n_train=100, n_test=100, batch_size=20, epochs=15, features=FEATURES, loss="Cross-entropy",
                        blocks=SCORES), {"optimizer": ["Adam", "SGD + momentum"]}),
])
def test_a_regression_or_features_sweep_run_equals_its_lone_run_bit_for_bit(pool, make, grid):
    experiment = make()
    assert not experiment.validate()
    s = Session(experiment)
    s.sweeper.pool = pool
    s.sweep(grid, seeds=2)
    drive(s)
    variants = grids.variants(grids.check(grid, 2, s.experiment), 2, s.experiment)
    assert sorted(s.run_book.names()) == sorted(v.name for v in variants)
    for variant in variants:
        alone = Session(variant.experiment, runner=InlineRun)
        assert alone.run() and alone.finish_reason == "completed"
        run = s.run_book[variant.name]
        assert (run.history.train == alone.history.train).all() and len(run.history.train) == 15
        assert run.final["test_error"] == alone.current_run.final["test_error"]
        assert torch.equal(run.snapshots[15], alone.timeline.flat(15))


def test_a_sweep_run_deleted_while_the_sweep_trains_leaves_the_others_to_join(pool, monkeypatch):
    errors = []
    monkeypatch.setattr("sys.excepthook", lambda *info: errors.append(info))
    s = Session(Experiment(n_train=200, n_test=200, batch_size=20, epochs=50))
    s.sweeper.pool = pool
    progress = []
    s.events.connect("sweep_progress", lambda done, total, _left: progress.append(done))
    s.sweep({"epochs": [2, 3, 400]})
    drive(s, until=lambda: len(s.run_book.names()) >= 1)
    first = s.run_book.names()[0]
    s.delete_run(first)
    drive(s)
    assert errors == []
    assert s.sweep_state == "finished" and progress[-1] == 3
    kept = [n for r in s.sweep_results() for n in r["runs"]]
    assert first not in kept and len(kept) == 2 and sorted(s.run_book.names()) == sorted(kept)
    assert s.undo_delete_run() and first in s.run_book.names()
    assert [n for r in s.sweep_results() for n in r["runs"]] == ["epochs 2", "epochs 3", "epochs 400"]


def test_layers_keep_the_blocks_before_the_first_linear():
    blocks = [{"type": "Tanh"}, {"type": "Linear", "width": 8}, {"type": "ReLU"}, {"type": "Linear", "width": 2}]
    assert grids.with_layers(blocks, 1) == blocks  # the stack's own depth: the network itself
    assert grids.with_layers(blocks, 0) == [{"type": "Tanh"}, {"type": "Linear", "width": 2}]
    assert grids.with_layers(blocks, 2) == blocks[:3] + blocks[1:3] + blocks[3:]


def test_the_dialog_during_a_sweep_says_how_to_stop_it_in_the_window(window):
    window.session.edit(n_train=100, n_test=100, epochs=4000, batch_size=10)
    window.session.sweep({"eta": [0.01, 0.02]})
    try:
        window.sweep_action.trigger()
        dialog = window.sweep_dialog
        assert not dialog.start()
        sentence = dialog.error_label.text()
        assert "Stop sweep in the Sweep tab" in sentence
        assert window.session.sweep_state == "running" and dialog.isVisible()
    finally:
        window.session.stop_sweep()
    assert window.session.sweep_state == "finished"


def test_fifty_sweep_runs_keep_their_last_snapshot_only_within_the_budget(pool):
    from gui.model import snapshot_budget

    s = Session(Experiment(n_train=100, n_test=100, batch_size=50, epochs=2))  # the report's network
    s.sweeper.pool = pool
    s.sweep({"eta": [0.001 * i for i in range(1, 11)], "batch_size": [10, 20, 25, 50, 100]})
    drive(s, timeout=180)
    runs = s.run_book.runs
    assert len(runs) == 50 and all(list(r.snapshots) == [2] for r in runs)
    weights = runs[0].snapshots[2].numel() * runs[0].snapshots[2].element_size()
    assert 50 * weights <= s.snapshot_bytes() <= 51 * weights  # the runs' last ones, the session's epoch 0
    assert s.snapshot_bytes() <= snapshot_budget.budget()


def test_numpy_numbers_in_a_grid_are_numbers():
    grid = grids.check({"width": list(np.array([8, 16])), "eta": list(np.array([0.01, 0.1], np.float32))}, 1,
                       Experiment())
    assert grid == {"width": [8, 16], "eta": [float(np.float32(0.01)), float(np.float32(0.1))]}
    assert [type(v) for v in grid["width"] + grid["eta"]] == [int, int, float, float]  # a file's JSON takes them
    with pytest.raises(ValueError, match="whole number"):
        grids.check({"width": [np.True_]}, 1, Experiment())
    s = Session(Experiment(n_train=100, n_test=100, epochs=1))
    s.sweeper.prepare = lambda runs=None: None  # no workers: only the definition is read here
    s.sweeper.pool = types.SimpleNamespace(wanted=1, idle=lambda: 0)
    s.sweep({"width": list(np.array([4, 8]))}, seeds=np.int64(2))
    saved = sweep_file.to_file(s.sweep_definition(), s.sweeper.kept_names())["sweep"]
    assert saved.startswith('{"grid": {"width": [4, 8]}, "seeds": 2')


def test_a_sweep_that_kept_no_run_says_so(qtbot):
    results = [_result({"eta": 0.01}, [], []), _result({"eta": 0.1}, [], [])]
    session = FakeSession(results, [])
    view = SweepView(session)
    qtbot.addWidget(view)
    assert view.cells() == [({"eta": 0.01}, None), ({"eta": 0.1}, None)]
    assert "kept no run" in view.message.text() and "Click" not in view.message.text()


@pytest.mark.parametrize(("setting", "text", "example"), [
    ("width", "4..64 x0", "4..64 x5"),
    ("batch_size", "..", "10..1000 x3"),
    ("epochs", "0..100 x3", "10..1000 x3"),
    ("layers", "1..fast x2", "1..8 x4"),
    ("eta", "1e-3..1e-3 x3", "1e-4..1e-1 x4"),
])
def test_a_bad_range_gets_an_example_of_its_own_setting(setting, text, example):
    from gui.model.sweep_grid import parse_values

    with pytest.raises(ValueError) as error:
        parse_values(setting, text)
    assert example in str(error.value)
    assert setting == "eta" or "1e-4" not in str(error.value)
    assert parse_values(setting, example)  # the example itself reads


def test_a_variant_whose_runs_all_diverged_says_diverged_in_the_table(qtbot):
    results = [_result({"eta": 0.001}, ["a1", "a2"], [2.0, 3.0]),
               _result({"eta": 10.0}, ["b1", "b2"], [None, None], [None, None])]
    session = FakeSession(results, ["a1", "a2", "b1", "b2"])
    for run in session.runs:
        run.state = "diverged" if run.name.startswith("b") else "completed"
    view = SweepView(session)
    qtbot.addWidget(view)
    assert view.cells()[1] == ({"eta": 10.0}, None)
    assert [view.table.item(1, j).text() for j in (1, 2)] == ["diverged", "diverged"]
    assert view.table.item(0, 1).text() == "2.5 (2.0–3.0)"
    assert "diverged" in view.table.item(1, 0).toolTip()
