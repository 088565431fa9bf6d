"""What a teacher or a student hits in passing: the batch-step panel after New, the note on a batch larger
than the drawn points, points named by their content, the unit view's scale and markers, the metrics
line's words, and the ticked runs kept in a file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, find, run_to_end, small_data
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from session_helpers import small

from gui.files import experiment_file, points_csv, runs_file
from gui.model.experiment import CUSTOM, Experiment
from gui.model.runs import kept_settings, setting_changes
from gui.qt.classroom.classroom import lessons_folder
from gui.qt.inside.batch_step_view import MatrixView
from gui.qt.plots.plots import UNIT_MARKERS


def drawn(n: int, seed: int = 0) -> list[list]:
    xy = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).tolist()
    return [[x, y, int(x + y > 1), 0] for x, y in xy]


def batch_step(qtbot, window):
    s = window.session
    small_data(window, 200, 100, 50)
    window.step_batch_action.trigger()
    qtbot.waitUntil(lambda: s.last_batch_step() is not None and s.state == "paused", timeout=WAIT_MS)
    s.stop()
    return window.batch_step_view


def assert_cleared(view) -> None:
    assert view.step is None and view.matrices == {}
    assert not [m for m in view.findChildren(MatrixView) if m.isVisibleTo(view)]  # none of the old ones shows
    assert view.loss_label.text().startswith("Press F8")
    assert view.boundary_image() is None and view.heatmap.image is None
    assert not view.boundary_toggle.isEnabled()


# -- 1. the batch-step panel follows the network -----------------------------------------------
def test_the_batch_step_panel_clears_after_new_a_scene_or_an_opened_file(qtbot, window, tmp_path):
    view = batch_step(qtbot, window)
    assert len(view.matrices) == 4 * len(view.NAMES) and view.boundary_image() is not None
    assert window.files.new()
    assert_cleared(view)

    assert window.classroom.open_lesson(lessons_folder() / "step_size.json")
    view = batch_step(qtbot, window)
    assert window.classroom.next()  # the next scene: its own network
    assert_cleared(view)
    window.classroom.close_lesson()

    view = batch_step(qtbot, window)
    assert window.files.save_to(tmp_path / "stepped.minidl")
    assert window.files.open(tmp_path / "stepped.minidl", confirmed=True)  # a file's weights: no F8 step of them
    assert window.session.last_batch_step() is None
    assert_cleared(view)


# -- 2. the note on a batch larger than the training set ------------------------------------------
def test_the_batch_note_counts_the_drawn_training_points():
    points = drawn(58)  # a test share of 0.3: 41 of them train
    e = Experiment(dataset=CUSTOM, points=points, batch_size=100, n_train=1000)
    assert e.train_points == 41
    assert len(e.notes()) == 1 and "larger than the 41 training points" in e.notes()[0]
    assert e.effective_batch_size == 41
    few = Experiment(dataset=CUSTOM, points=points, batch_size=100, n_train=30)  # the box is not the data
    assert few.effective_batch_size == 41 and "each step uses all 41" in few.notes()[0]
    assert Experiment(dataset=CUSTOM, points=points, batch_size=40, n_train=30).notes() == []
    assert Experiment(batch_size=100, n_train=50).train_points == 50  # a built-in dataset: the box


def test_the_window_shows_the_note_for_drawn_points(window):
    window.session.edit(dataset=CUSTOM, points=drawn(58), batch_size=100)
    assert "larger than the 41 training points" in find(window, QLabel, "validationLabel").text()


# -- 3. points named by their content ------------------------------------------------------------
def test_points_exported_and_imported_again_are_the_same_data(tmp_path):
    s = small(dataset=CUSTOM, points=drawn(58), epochs=3, batch_size=10, eta=0.01)
    assert s.run()
    d = s.data
    path = tmp_path / "points.csv"
    path.write_text(points_csv.to_csv(d.X_train, d.labels_train, d.X_test, d.labels_test))
    s.edit(points=[])
    s.edit(points=points_csv.read_csv(path))
    assert torch.equal(s.data.X_train, d.X_train) and torch.equal(s.data.X_test, d.X_test)
    assert s.run()
    a, b = s.runs
    assert np.array_equal(a.history.train, b.history.train)  # bit for bit the same training
    assert b.diff == "same settings as A"
    # other points of the same count are other data; so is a split of the same points drawn anew
    s.edit(points=drawn(58, 1))
    assert s.run()
    assert s.runs[2].diff == "58 points (others)"
    moved = [[x, y, label, 2 if k < 20 else 1] for k, (x, y, label, _) in enumerate(drawn(58, 1))]
    s.edit(points=moved)
    assert s.run()
    assert s.runs[3].diff == "58 points (split differs)"


def test_the_same_points_with_another_seed_name_the_seed_only():
    a = {"points": drawn(58), "test_ratio": 0.3, "seed": 0}
    b = {**a, "seed": 1}
    assert setting_changes(kept_settings(a)[0], kept_settings(b)[0]) == ["seed 1 (was 0)"]


# -- 5. the metrics line says which numbers are of which weights ---------------------------------
def test_the_metrics_line_names_the_epoch_mean_and_the_end_of_epoch(qtbot, window):
    small_data(window, 200, 100, 50)
    assert run_to_end(qtbot, window, 3) == "completed"
    text = find(window, QLabel, "metricsLabel").text()
    train = window.session.history.train[-1]
    assert f"train loss {train:.4f} (mean over the epoch)" in text
    assert "at the epoch's end: test loss" in text and "error train" in text


# -- 6. the ticked runs travel with the file -------------------------------------------------------
def test_the_ticked_runs_are_saved_and_opened(qtbot, window, tmp_path):
    small_data(window, 200, 100, 50)
    for _ in range(3):
        assert run_to_end(qtbot, window, 2) == "completed"
    s = window.session
    assert s.compare(["A", "C"]) == ["A", "C"]
    assert window.files.save_to(tmp_path / "ticked.minidl")
    s.compare(["B"])
    assert window.files.open(tmp_path / "ticked.minidl", confirmed=True)
    assert s.run_book.ticked == ["A", "C"]
    assert [name for name, _, _ in window.loss_plot.curves()][:2] == ["A", "C"]


def test_a_file_without_ticked_runs_opens_and_a_bad_list_is_refused(tmp_path):
    s = small(epochs=2)
    assert s.run() and s.run()
    s.compare(["B"])
    metadata, tensors = runs_file.to_file(s.runs, s.current_run, s.schedule, s.run_book.ticked)
    assert runs_file.ticked_in(metadata, ["A", "B"]) == ["B"]
    raw = json.loads(metadata["runs"])
    del raw["ticked"]  # a file written before the ticked runs were kept
    old = {"runs": json.dumps(raw)}
    runs, schedule, current = runs_file.from_file(old, tensors)
    assert runs_file.ticked_in(old, [r.name for r in runs]) == []
    opened = small(epochs=2)
    opened.adopt_runs(runs, schedule, current)
    assert opened.run_book.ticked == []
    for bad in ("B", ["Z"], [1], ["A", "A"]):
        raw["ticked"] = bad
        with pytest.raises(ValueError, match="ticked runs"):
            runs_file.ticked_in({"runs": json.dumps(raw)}, ["A", "B"])
    path = tmp_path / "runs.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=metadata, extra_tensors=tensors)
    loaded = experiment_file.load(path)
    again = small(epochs=2)
    again.adopt_runs(*runs_file.from_file(loaded.metadata, loaded.tensors),
                     ticked=runs_file.ticked_in(loaded.metadata, ["A", "B"]))
    assert again.run_book.ticked == ["B"]


# -- 4. the unit view: a one-sided scale for a ReLU or a Sigmoid, markers that let it show ------------
def test_the_unit_view_scales_relu_and_sigmoid_from_zero_and_marks_few_points(qtbot, window):
    s = window.session
    small_data(window, 600, 400, 50)
    assert run_to_end(qtbot, window, 3) == "completed"
    plot, view = window.boundary_plot, window.network_view
    full_map = plot.heatmap.getColorMap().getLookupTable(nPts=8).tolist()
    qtbot.waitUntil(lambda: view.shown_epoch is not None, timeout=WAIT_MS)
    view.select(2, 7)  # hidden 2: ReLU
    qtbot.waitUntil(lambda: plot.showing_unit is not None, timeout=WAIT_MS)
    image = plot.current_image()
    low, high = plot.levels()
    assert low == 0.0 and high >= image.max() and image.min() >= 0  # never a symmetric scale for a ReLU
    shown = plot.train_points.data
    assert 0 < len(shown) <= UNIT_MARKERS and not plot.test_points.isVisible()
    assert all(p["brush"] is None or p["brush"].style() == Qt.BrushStyle.NoBrush for p in shown)  # hollow
    assert plot.heatmap.getColorMap().getLookupTable(nPts=8).tolist() != full_map  # white (0) to the high end
    view.select(None)
    assert plot.levels()[0] < 0 and len(plot.train_points.data) == 600 and plot.test_points.isVisible()
    assert plot.heatmap.getColorMap().getLookupTable(nPts=8).tolist() == full_map
    plot.show_unit(np.full((10, 10), 0.3), s.extent, "a sigmoid", "Sigmoid(w·h + b)", "Sigmoid")
    assert plot.levels() == (0.0, 1.0)
    plot.show_unit(np.linspace(-0.3, 0.7, 100).reshape(10, 10), s.extent, "a tanh", "Tanh(w·h + b)", "Tanh")
    assert plot.levels() == (-0.8, 0.8)
    plot.show_output()
    assert len(plot.train_points.data) == 600
