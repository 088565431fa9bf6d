"""The runs table, Fork, the overlays, the compare view, runs in files and the hand-over exports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, button, find, run_to_end, set_epochs, small_data
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QProgressDialog, QSlider, QTableWidget

import minidl
from gui.files import experiment_file

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def two_runs(window, qtbot):
    """Run A (eta 0.001), then Fork at epoch 40 with eta 0.01: run B."""
    small_data(window)
    set_epochs(window, 80)
    assert run_to_end(qtbot, window) == "completed"
    find(window, QSlider, "timelineSlider").setValue(40)
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.01)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        button(window, "forkButton").click()
    return window


def table(window) -> QTableWidget:
    return find(window, QTableWidget, "runsTable")


def test_fork_keeps_both_branches_and_the_table_says_what_differs(two_runs):
    s = two_runs.session
    assert [r.name for r in s.runs] == ["A", "B"]
    a, b = s.runs
    assert b.diff == "fork of A at epoch 40, eta 0.01 (was 0.001)"
    assert (a.epochs, b.epochs) == (80, 80)
    np.testing.assert_array_equal(a.history.train[:40], b.history.train[:40])  # the same start, same batches
    assert not np.array_equal(a.history.train[40:], b.history.train[40:])
    rows = [[table(two_runs).item(r, c).text() for c in range(table(two_runs).columnCount())] for r in range(2)]
    assert rows[1][:3] == ["B", "fork of A at epoch 40, eta 0.01 (was 0.001)", "80"]
    assert rows[0][3] == f"{a.final['train_loss']:.4g}" and rows[0][6].endswith("%") and rows[0][7].endswith(" s")


def test_compare_overlays_one_curve_per_ticked_run_and_draws_small_multiples(two_runs):
    window, s = two_runs, two_runs.session
    assert window.loss_plot.curves() == []
    table(window).item(0, 0).setCheckState(Qt.CheckState.Checked)  # as a click on the box does
    assert s.run_book.ticked == ["A"]
    s.compare(["A", "B"])
    curves = window.loss_plot.curves()
    assert [name for name, _, _ in curves] == ["A", "B"]
    for (_, x, y), run in zip(curves, s.runs, strict=True):
        np.testing.assert_array_equal(x, np.arange(1, 81))
        np.testing.assert_array_equal(y, run.history.train)
    legend = [label.text for _, label in window.loss_plot.getPlotItem().legend.items]
    assert any("B: fork of A at epoch 40" in text for text in legend)
    assert table(window).item(1, 0).checkState() == Qt.CheckState.Checked
    view = window.runs_panel.compare_view
    assert [name for name, _ in view.panels] == ["A", "B"]
    find(window, QSlider, "timelineSlider").setValue(20)
    assert {epoch for _, epoch in view.panels} == {20}  # both at the timeline's epoch
    s.compare(["B"])
    assert [name for name, _, _ in window.loss_plot.curves()] == ["B"]
    window.grab().save(str(ROOT / "tests" / ".runs_window.png")) if os.environ.get("KEEP_SHOTS") else None


def test_delete_asks_nothing_and_ctrl_z_brings_the_run_back(two_runs):
    window, s = two_runs, two_runs.session
    s.compare(["A", "B"])
    table(window).selectRow(0)
    button(window, "deleteRunButton").click()
    assert [r.name for r in s.runs] == ["B"] and table(window).rowCount() == 1
    assert [n for n, _, _ in window.loss_plot.curves()] == ["B"]
    assert window.undo_action.isEnabled() and window.undo_action.shortcut().toString() == "Ctrl+Z"
    window.undo_action.trigger()
    assert [r.name for r in s.runs] == ["A", "B"] and table(window).rowCount() == 2
    assert [n for n, _, _ in window.loss_plot.curves()] == ["A", "B"]


def test_runs_come_back_on_open(two_runs, tmp_path):
    window, s = two_runs, two_runs.session
    path = tmp_path / "runs.minidl"
    assert window.files.save_to(path)
    before = [(r.name, r.diff, r.history.train.copy(), dict(r.final), sorted(r.snapshots)) for r in s.runs]
    assert window.files.new()
    assert s.runs == []
    assert window.files.open(path)
    after = [(r.name, r.diff, r.history.train, r.final, sorted(r.snapshots)) for r in s.runs]
    for (n0, d0, h0, f0, e0), (n1, d1, h1, f1, e1) in zip(before, after, strict=True):
        assert (n0, d0, e0) == (n1, d1, e1) and f0 == pytest.approx(f1)
        np.testing.assert_array_equal(h0, h1)
    assert s.current_run is s.runs[-1] and eta_and_batch(s.schedule) == [(1, 0.001, 20), (41, 0.01, 20)]
    s.compare(["A", "B"])
    assert len(window.runs_panel.compare_view.panels) == 2  # their snapshots came back too
    s.run()  # the next run is C, and it continues B
    window.session.stop()
    assert s.runs[-1].name == "C" and s.runs[-1].parent == "B"


def test_a_damaged_runs_section_is_said_and_the_rest_opens(window, tmp_path):
    s = window.session
    s.edit(n_train=100, n_test=100)
    path = tmp_path / "damaged.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline,
                         extra_metadata={"runs": '{"runs": [{"name": 3}]}'})
    window.session.edit(eta=0.05)
    assert window.files.open(path)
    assert window.files.last_error[0] == "Runs left out"
    assert "damaged (run 1 has no valid name" in window.files.last_error[1]
    assert s.experiment.n_train == 100 and s.experiment.eta == 0.001 and s.runs == []
    old = tmp_path / "old.minidl"
    experiment_file.save(old, s.experiment, s.model, s.history, s.timeline)  # a file from before runs
    window.files.last_error = None
    assert window.files.open(old) and window.files.last_error is None and s.runs == []


def test_the_exported_script_prints_the_playground_s_final_loss_after_a_live_eta_change(window, qtbot, tmp_path):
    small_data(window, 200, 200, 20)
    set_epochs(window, 3000)
    s = window.session
    changed = []

    def change_eta(_message):
        if not changed and s.history.epochs >= 5:
            changed.append(s.history.epochs)
            find(window, QDoubleSpinBox, "etaSpin").setValue(0.004)  # as a person does, during the run

    s.events.connect("progress", change_eta)
    assert run_to_end(qtbot, window) == "completed"
    assert changed and len(s.schedule) == 2 and s.schedule[1][1]["eta"] == 0.004
    path = tmp_path / "run.py"
    assert window.files.export_script(path)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.splitlines()
    final = [line for line in out if line.startswith("final train loss per point: ")]
    assert final and np.float32(float(final[0].split(": ")[1])) == s.history.train[-1]
    assert out[-2].startswith("train error: ") and out[-1].startswith("test error: ")
    window.files.exports.copy_as_code()
    assert QApplication.clipboard().text() == path.read_text()


def test_the_animation_is_a_gif_of_the_timeline_and_can_be_cancelled(two_runs, tmp_path, monkeypatch):
    from PIL import Image

    window = two_runs
    path = tmp_path / "run.gif"
    assert window.files.export_animation(path, frames=12)
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 12 and gif.width >= 480
        first = np.asarray(gif.convert("RGB"))
        gif.seek(11)
        last = np.asarray(gif.convert("RGB"))
    assert not np.array_equal(first, last)  # the boundary moved (and the epoch in the title changed)
    calls = []
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: calls.append(1) or len(calls) >= 3)
    other = tmp_path / "cancelled.gif"
    assert not window.files.export_animation(other, frames=12)
    assert not other.exists() and len(calls) == 3 and "cancelled" in window.last_message


def test_plots_export_to_svg_and_the_model_to_minidl_and_torch(two_runs, tmp_path):
    window, s = two_runs, two_runs.session
    for name, export in (("loss.svg", window.files.exports.export_loss_svg),
                         ("boundary.svg", window.files.exports.export_boundary_svg)):
        assert export(tmp_path / name), window.files.last_error
        text = (tmp_path / name).read_text("utf-8")
        assert "<svg" in text[:400] and "pyqtgraph SVG export" in text and "<polyline" in text
    assert window.files.exports.export_model(tmp_path / "model.safetensors")
    loaded = minidl.load(tmp_path / "model.safetensors")
    X = s.data.X_test
    torch.testing.assert_close(loaded.predict(X), s.model.predict(X), rtol=0, atol=0)
    assert window.files.exports.export_torch(tmp_path / "model.pt")
    net = s.model.to_torch()
    net.load_state_dict(torch.load(tmp_path / "model.pt"))
    with torch.no_grad():
        torch.testing.assert_close(net(X), s.model.predict(X), rtol=1e-6, atol=1e-6)
    assert not window.files.exports.export_model(tmp_path / "missing" / "model.safetensors")
    assert window.files.last_error[0] == "Cannot export"


def test_comparing_costs_a_run_nothing_per_epoch(two_runs, qtbot, monkeypatch):
    """The overlays and the compare view are drawn when what they show changes, never per message:
    a run with runs ticked makes no extra boundary image and redraws no kept run's curve."""
    import time

    from gui.qt.plots import overlays
    from gui.qt.runs import runs_view
    from gui.training.job import TrainerConfig

    window, s = two_runs, two_runs.session
    s.trainer_config = TrainerConfig(progress_hz=100)  # messages during a short run, on a fast machine too
    s.compare(["A", "B"])
    images, drawn = [], []
    real = runs_view.model_from
    monkeypatch.setattr(runs_view, "model_from", lambda *a: images.append(1) or real(*a))
    for item in window.run_overlays.items.values():
        monkeypatch.setattr(item, "setData", lambda *a, **k: drawn.append(1))
    progress = []
    s.events.connect("progress", progress.append)
    started = time.perf_counter()
    set_epochs(window, 400)
    assert run_to_end(qtbot, window) == "completed"  # C continues B, unticked
    assert len(progress) >= 2 and images == [] and drawn == []
    s.compare(["A", "B", "C"])  # now the live run is ticked: its curve follows at most LIVE_HZ a second
    drawn.clear()
    started = time.perf_counter()
    assert run_to_end(qtbot, window) == "completed"
    assert len(drawn) <= overlays.LIVE_HZ * (time.perf_counter() - started) + 2


def test_the_delete_key_in_the_table_deletes_the_selected_run(two_runs, qtbot):
    window = two_runs
    table(window).setFocus()
    table(window).selectRow(1)
    qtbot.keyClick(table(window), Qt.Key.Key_Delete)
    assert [r.name for r in window.session.runs] == ["A"]
    assert "Run B deleted" in window.last_message


def test_an_eta_changed_during_a_pause_at_an_epoch_s_end_trains_the_next_epoch_and_is_replayed(window, qtbot,
                                                                                                tmp_path):
    """Step pauses at the end of an epoch: an eta set then trains the very next epoch, and the
    schedule says so; the exported script reproduces the run."""
    from gui_helpers import observe_pauses, start_long_run, wait_until_blocked

    observe_pauses(window)
    small_data(window, 200, 200, 20)
    start_long_run(qtbot, window)
    button(window, "pauseButton").click()
    wait_until_blocked(qtbot, window)
    button(window, "stepButton").click()  # finishes the interrupted epoch, pauses at its end
    wait_until_blocked(qtbot, window, times=2)
    s = window.session
    boundary = s.history.epochs
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.0005)
    button(window, "stepButton").click()
    wait_until_blocked(qtbot, window, times=3)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        button(window, "stopButton").click()
    assert s.history.epochs == boundary + 1
    assert eta_and_batch(s.schedule)[-1] == (boundary + 1, 0.0005, 20)
    path = tmp_path / "paused.py"
    assert window.files.export_script(path)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    final = next(line for line in out.splitlines() if line.startswith("final train loss per point: "))
    assert np.float32(float(final.split(": ")[1])) == s.history.train[-1]


def test_any_kept_run_exports_as_a_script_that_reproduces_it(two_runs, tmp_path):
    """Run A, whose later epochs the fork replaced in the session, still hands on exactly."""
    window, s = two_runs, two_runs.session
    path = tmp_path / "run_a.py"
    table(window).selectRow(0)
    assert window.files.exports.export_script(path, "A")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=600, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    final = next(line for line in out.splitlines() if line.startswith("final train loss per point: "))
    assert np.float32(float(final.split(": ")[1])) == s.runs[0].history.train[-1] != s.history.train[-1]
    window.runs_panel.table_actions["copy"].trigger()
    assert QApplication.clipboard().text() == path.read_text()


def test_presenter_mode_s_lock_holds_over_the_runs_table(two_runs, qtbot):
    window = two_runs
    window.set_presenter_mode(True, full_screen=False)
    assert not button(window, "forkButton").isEnabled() and not button(window, "deleteRunButton").isEnabled()
    window.session.delete_run("A")  # a "runs" event: the views refresh, the lock holds
    assert not button(window, "forkButton").isEnabled() and not button(window, "deleteRunButton").isEnabled()
    assert not window.files.new_action.isEnabled()
    window.set_presenter_mode(False)
    assert button(window, "forkButton").isEnabled() and button(window, "deleteRunButton").isEnabled()


def test_the_compare_view_and_the_animation_follow_the_colour_blind_palette(two_runs, tmp_path):
    from PIL import Image

    from gui.qt.plots import palette

    window = two_runs
    window.classroom.colour_blind_action.trigger()  # the "Colour-blind-safe palette" menu item
    assert window.boundary_plot.palette is palette.COLOUR_BLIND
    window.session.compare(["A"])
    view = window.runs_panel.compare_view
    assert view.drawn_palette == palette.COLOUR_BLIND.name
    path = tmp_path / "blind.gif"
    assert window.files.export_animation(path, frames=2)
    with Image.open(path) as gif:
        colours = {c for _, c in gif.convert("RGB").getcolors(1 << 16)}
    orange = np.array([0xE6, 0x61, 0x01])
    assert min(np.abs(np.array(c) - orange).sum() for c in colours) < 40  # the orange end of its map


def eta_and_batch(schedule: list) -> list[tuple]:
    """``(first epoch, eta, batch size)`` of each entry (which also names the optimizer and schedule)."""
    return [(first, values["eta"], values["batch_size"]) for first, values in schedule]


def test_the_compare_panels_share_a_narrow_view(two_runs, qtbot):
    """However narrow the view, every ticked run's panel is inside it (a third one fell off the runs dock)."""
    from gui.qt.runs.runs_view import CompareView

    view = CompareView(two_runs.session)
    qtbot.addWidget(view)
    view.resize(170, 170)
    view.show()
    QApplication.processEvents()
    two_runs.session.compare(["A", "B"])
    assert [name for name, _ in view.panels] == ["A", "B"]
    for column in range(2):
        assert view.getItem(0, column).geometry().right() <= view.width()
    assert view.getItem(0, 1).toolTip().startswith("Run B at epoch 80: fork of A")
