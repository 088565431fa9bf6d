"""The timeline in the window: the slider shows the past live and after a file is opened, Resume from here
branches, and nothing but the training thread touches the model while a run is live."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, button, find, heatmap, run_to_end, small_data, start_long_run
from PySide6.QtWidgets import QLabel, QPushButton, QSlider, QSpinBox

from gui.model import boundary
from gui.model.weights import model_from
from gui.qt import runner as worker
from gui.training import process as training_process


def slider(window) -> QSlider:
    return find(window, QSlider, "timelineSlider")


def image_at(window, epoch: int) -> np.ndarray:
    s = window.session
    model = model_from(s.experiment.blocks, torch.cat([p.reshape(-1) for p in s.parameters_at(epoch)]))
    return boundary.image(model, s.grid)


@pytest.fixture
def trained(window, qtbot):
    small_data(window)
    assert run_to_end(qtbot, window, epochs=40) == "completed"
    return window


def test_dragging_the_slider_shows_that_epoch_s_boundary_cursor_and_numbers(trained):
    window = trained
    s = window.session
    assert slider(window).maximum() == 40 and slider(window).value() == 40 and s.seek_epoch is None
    slider(window).setValue(15)
    assert s.seek_epoch == 15
    np.testing.assert_allclose(heatmap(window), image_at(window, 15), atol=1e-6)
    assert not np.allclose(heatmap(window), image_at(window, 40), atol=1e-3)
    assert window.timeline.cursor.isVisible() and window.timeline.cursor.value() == 15
    text = find(window, QLabel, "metricsLabel").text()
    assert text.startswith("Timeline: epoch 15 of 40") and f"{s.history.train[14]:.4f}" in text
    assert find(window, QPushButton, "resumeFromHereButton").isEnabled()
    slider(window).setValue(40)  # back at the head
    assert s.seek_epoch is None and not window.timeline.cursor.isVisible()
    np.testing.assert_allclose(heatmap(window), image_at(window, 40), atol=1e-6)
    assert find(window, QLabel, "metricsLabel").text().startswith("Epoch 40 of 40")


def test_resume_from_here_branches_and_repeats_the_original_losses(trained, qtbot):
    window = trained
    original = window.session.history.train.copy()
    slider(window).setValue(10)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        button(window, "resumeFromHereButton").click()
    assert finished.args == ["completed"]
    np.testing.assert_array_equal(window.session.history.train, original)  # the same batches after epoch 10


def test_the_slider_follows_a_live_run_and_shows_the_past_without_stopping_it(window, qtbot):
    small_data(window)
    start_long_run(qtbot, window)
    s = window.session
    qtbot.waitUntil(lambda: s.history.epochs >= 3 and slider(window).maximum() == s.history.epochs, timeout=WAIT_MS)
    assert slider(window).value() == slider(window).maximum()  # following the head
    slider(window).setValue(1)
    held = s.history.epochs
    qtbot.waitUntil(lambda: s.history.epochs > held + 5, timeout=WAIT_MS)
    assert s.running and s.seek_epoch == 1 and slider(window).value() == 1
    assert slider(window).maximum() == s.history.epochs  # the range grows, the position stays
    np.testing.assert_allclose(heatmap(window), image_at(window, 1), atol=1e-6)  # frames do not overwrite it
    slider(window).setValue(slider(window).maximum())  # back to the head: the run's frames show again
    assert s.seek_epoch is None
    s.stop()
    assert not s.running


def test_the_timeline_is_saved_and_works_after_opening(trained, tmp_path):
    window = trained
    path = tmp_path / "run.minidl"
    epochs = window.session.snapshot_epochs()
    expected = image_at(window, 7)
    assert window.files.save_to(path)
    assert window.files.new()
    assert window.session.snapshot_epochs() == [0]
    assert window.files.open(path)
    assert window.session.snapshot_epochs() == epochs
    slider(window).setValue(7)
    np.testing.assert_allclose(heatmap(window), expected, atol=1e-6)


@pytest.mark.parametrize("in_process", [False, True], ids=["thread", "training process"])
def test_fifty_steps_from_a_trained_state_never_touch_the_model_on_the_gui_thread(window, qtbot, monkeypatch,
                                                                                  in_process):
    """The race of issue 10: the window evaluated the model on the GUI thread while the worker trained it.
    A run in the training process leaves the GUI's model alone but to send it and to take it back."""
    window.session.runner = worker.start if in_process else worker.QtRun
    small_data(window, n_train=100, n_test=100, batch=10)
    assert run_to_end(qtbot, window, epochs=3) == "completed"
    find(window, QSpinBox, "epochsSpin").setValue(1000)  # no Step reaches the end of a run
    s, gui_thread = window.session, threading.get_ident()
    calls: list[tuple[int, bool, str]] = []
    handing = []  # inside the training process's hand-over: the job sent, the weights taken back

    def handover(function):
        def call(*args, **kwargs):
            handing.append(True)
            try:
                return function(*args, **kwargs)
            finally:
                handing.pop()
        return call
    # Starting a run (the runner picks where it trains, and packs the job) and taking its weights back
    # happen on the GUI thread while no one trains the model.
    window.session.runner = handover(worker.start) if in_process else worker.QtRun
    monkeypatch.setattr(training_process.Handback, "apply", handover(training_process.Handback.apply))

    def recording(obj, name):
        method = getattr(obj, name)

        def record(*args, **kwargs):
            calls.append((threading.get_ident(), s.running and not handing, name))
            return method(*args, **kwargs)
        return record

    model = s.model
    for obj in (model, *model):
        for name in dir(obj):
            if not name.startswith("__") and callable(getattr(obj, name)) and name not in ("to", "set_loss"):
                setattr(obj, name, recording(obj, name))
    runs_before = training_process.shared().runs
    for press in range(50):
        button(window, "stepButton").click()
        qtbot.waitUntil(lambda: s.state == "paused", timeout=WAIT_MS)
        if press % 5 == 4:
            s.stop()  # the next press starts a run from a stopped, trained state
    s.stop()
    assert s.history.epochs == 53
    on_gui_during_a_run = [name for thread, running, name in calls if thread == gui_thread and running]
    assert on_gui_during_a_run == []
    if in_process:  # 10 runs (a Stop every 5 steps) went to the process, and no thread here trained the model
        assert training_process.shared().runs == runs_before + 10
        assert all(t == gui_thread for t, _, _ in calls) and any(name == "parameters" for _, _, name in calls)
    else:
        assert any(thread != gui_thread for thread, _, _ in calls)  # the worker did use the wrapped model


def test_a_file_from_before_timelines_opens_with_its_weights_as_the_only_snapshot(trained, tmp_path):
    import minidl
    from gui.files import experiment_file

    s = trained.session
    path = tmp_path / "old.minidl"
    tensors = {"history.train": torch.from_numpy(s.history.train),
               "history.test_epochs": torch.from_numpy(s.history.test_epochs.astype(np.float64)),
               "history.test": torch.from_numpy(s.history.test)}
    minidl.io.write(path, s.model, metadata={"experiment": s.experiment.to_json()}, tensors=tensors)
    assert "timeline.epochs" not in experiment_file.load(path).timeline.to_tensors()
    assert trained.files.open(path)
    assert s.snapshot_epochs() == [40] and s.history.epochs == 40
    assert all(torch.equal(a, b) for a, b in zip(s.parameters_at(0), s.model.parameters(), strict=True))
