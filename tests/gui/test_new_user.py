"""Issue 9: what a new user hit (unsaved work, a diverged save, an invalid stack, stale messages)."""

from __future__ import annotations

import numpy as np
import torch
from gui_helpers import WAIT_MS, button, find, heatmap, layer_list, run_to_end, small_data
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QSpinBox

from gui.files import experiment_file
from minidl import io


def title(window) -> str:
    return window.windowTitle().split(" — ")[0]


def test_the_title_shows_the_file_name_and_a_modified_mark(window, qtbot, tmp_path):
    assert title(window) == "Untitled"
    small_data(window)
    assert title(window) == "Untitled*"  # changed settings are unsaved too
    assert run_to_end(qtbot, window, epochs=2) == "completed"
    assert title(window) == "Untitled*"
    assert window.files.save_to(tmp_path / "name.minidl")
    assert title(window) == "name.minidl"
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.002)
    assert title(window) == "name.minidl*"
    assert window.files.new() and title(window) == "Untitled"


def test_new_open_and_close_ask_before_discarding_unsaved_training(window, qtbot, tmp_path):
    small_data(window)
    assert window.files.save_to(tmp_path / "other.minidl")
    assert run_to_end(qtbot, window, epochs=3) == "completed"
    asked = []
    window.confirm_discard = lambda: asked.append(True) and False  # the user cancels
    assert not window.files.new()
    assert not window.files.open(tmp_path / "other.minidl")
    window.close()
    assert len(asked) == 3 and window.isVisible() and window.session.history.epochs == 3  # nothing lost
    window.confirm_discard = lambda: True
    assert window.files.new() and window.session.history.epochs == 0


def test_nothing_is_asked_when_nothing_trained_is_unsaved(window, qtbot, tmp_path):
    window.confirm_discard = lambda: (_ for _ in ()).throw(AssertionError("asked for nothing"))
    assert window.files.new()  # an untrained experiment
    small_data(window)
    assert run_to_end(qtbot, window, epochs=2) == "completed"
    assert window.files.save_to(tmp_path / "saved.minidl")
    assert window.files.new()  # everything trained is in a file


def test_reset_can_be_undone_with_ctrl_z(window, qtbot):
    small_data(window)
    assert run_to_end(qtbot, window, epochs=3) == "completed"
    history, weights = window.session.history.train.copy(), [p.clone() for p in window.session.model.parameters()]
    button(window, "resetButton").click()
    assert window.session.history.epochs == 0 and window.undo_action.isEnabled()
    assert window.undo_action.shortcut().toString() == "Ctrl+Z"
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.session.history.train, history)
    assert all(torch.equal(a, b) for a, b in zip(window.session.model.parameters(), weights, strict=True))
    assert not window.undo_action.isEnabled() and "undone" in window.last_message


def test_a_diverged_run_saves_finite_weights_and_reopens_to_a_fresh_start(window, qtbot, tmp_path):
    """The steps of issue 9 item 2: drop the last Tanh, eta 0.01... here eta 10 on small data."""
    small_data(window)
    layer_list(window).setCurrentRow(7)
    button(window, "removeLayerButton").click()
    find(window, QDoubleSpinBox, "etaSpin").setValue(10.0)
    assert run_to_end(qtbot, window, epochs=50) == "diverged"
    path = tmp_path / "diverged.minidl"
    assert window.files.save_to(path)
    loaded = experiment_file.load(path)
    assert all(bool(torch.isfinite(p).all()) for p in loaded.model.parameters())
    assert np.isfinite(loaded.history.train).all() and loaded.history.epochs == window.session.history.epochs
    assert loaded.fresh_start
    assert window.files.new() and window.files.open(path)
    assert "fresh weights" in window.last_message
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.001)
    assert run_to_end(qtbot, window, epochs=5) == "completed"  # from fresh weights: no divergence
    image = heatmap(window)
    assert np.isfinite(image).all() and np.ptp(image) > 0  # not a solid colour


def test_a_history_with_nan_is_refused_with_a_sentence(window, qtbot, tmp_path):
    small_data(window)
    assert run_to_end(qtbot, window, epochs=3) == "completed"
    s = window.session
    s.history.test[:] = np.nan
    path = tmp_path / "nan.minidl"
    with np.errstate(invalid="ignore"):
        io.write(path, s.model, metadata={"experiment": s.experiment.to_json()},
                 tensors={"history.train": torch.from_numpy(s.history.train),
                          "history.test_epochs": torch.from_numpy(s.history.test_epochs.astype(np.float64)),
                          "history.test": torch.from_numpy(s.history.test)})
    assert not window.files.open(path)
    assert "NaN or infinite" in window.files.last_error[1]


def test_an_invalid_stack_clears_the_picture_and_the_hint_agrees(window):
    assert window.boundary_plot.heatmap.image is not None
    rows = layer_list(window)
    while rows.count():
        rows.setCurrentRow(0)
        button(window, "removeLayerButton").click()
    assert window.boundary_plot.heatmap.image is None  # no stale picture of the old network
    text = find(window, QLabel, "metricsLabel").text()
    assert "not valid" in text and "press Run" not in text
    assert not button(window, "runButton").isEnabled()


def test_status_messages_follow_what_happens(window, qtbot):
    small_data(window)
    find(window, QSpinBox, "epochsSpin").setValue(100_000)
    with qtbot.waitSignal(window.trainingStarted, timeout=WAIT_MS):
        button(window, "stepButton").click()
    assert "one epoch" in window.last_message and "to 100000" not in window.last_message
    qtbot.waitUntil(lambda: window.session.state == "paused", timeout=WAIT_MS)
    assert window.last_message.startswith("Paused after epoch 1")
    button(window, "runButton").click()  # Run resumes a paused run
    assert window.last_message.startswith("Resumed") and window.session.state == "running"
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        button(window, "stopButton").click()
    trained = window.session.history.epochs
    find(window, QDoubleSpinBox, "noiseSpin").setValue(0.05)
    assert f"the {trained} trained epochs were discarded" in window.last_message
