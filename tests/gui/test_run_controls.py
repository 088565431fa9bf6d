"""Run, Pause/Resume, Step, Stop and Reset on short runs; every wait ends on a signal or a condition."""

import numpy as np
import pytest
import torch
from gui_helpers import (
    WAIT_MS,
    button,
    find,
    heatmap,
    observe_pauses,
    run_to_end,
    set_epochs,
    small_data,
    start_long_run,
    wait_until_blocked,
)
from PySide6.QtWidgets import QDoubleSpinBox, QPushButton, QWidget

import minidl
from gui.model import boundary
from gui.qt import runner as worker


@pytest.fixture
def quick(window):
    """The report's window with 200 + 200 points and pauses that tests can observe."""
    observe_pauses(window)
    small_data(window)
    return window


def stop(qtbot, window) -> str:
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        button(window, "stopButton").click()
    return finished.args[0]


def test_pause_holds_and_resume_goes_on(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    button(window, "pauseButton").click()
    wait_until_blocked(qtbot, window)
    held = window.session.history.epochs
    assert window.session.running and button(window, "pauseButton").text() == "Resume"
    assert button(window, "runButton").isEnabled()  # Run resumes too
    assert window.run_panel.progress.value() == held and len(window.loss_plot.train_curve.getData()[1]) == held
    button(window, "pauseButton").click()
    assert button(window, "pauseButton").text() == "Pause"
    qtbot.waitUntil(lambda: window.session.history.epochs > held + 2, timeout=WAIT_MS)
    assert stop(qtbot, window) == "stopped"


def test_run_button_resumes_a_paused_run(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    button(window, "pauseButton").click()
    wait_until_blocked(qtbot, window)
    held = window.session.history.epochs
    with qtbot.assertNotEmitted(window.trainingStarted):
        button(window, "runButton").click()
    qtbot.waitUntil(lambda: window.session.history.epochs > held, timeout=WAIT_MS)
    assert stop(qtbot, window) == "stopped"


def test_step_from_idle_trains_exactly_one_epoch_then_waits(quick, qtbot):
    window = quick
    set_epochs(window, 5)
    with qtbot.waitSignal(window.trainingStarted, timeout=WAIT_MS):
        button(window, "stepButton").click()
    wait_until_blocked(qtbot, window)
    assert window.session.history.epochs == 1 and window.session.running
    assert button(window, "pauseButton").text() == "Resume"
    button(window, "stepButton").click()
    wait_until_blocked(qtbot, window, times=2)
    assert window.session.history.epochs == 2
    assert window.run_panel.progress.value() == 2
    assert stop(qtbot, window) == "stopped"
    assert window.session.history.epochs == 2 and window.last_message == "Stopped after epoch 2."


def test_step_while_paused_trains_one_more_epoch(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    button(window, "pauseButton").click()
    wait_until_blocked(qtbot, window)
    held = window.session.history.epochs
    for times in (2, 3):
        button(window, "stepButton").click()
        wait_until_blocked(qtbot, window, times=times)
        assert window.session.history.epochs == held + times - 1
    assert stop(qtbot, window) == "stopped"


def test_stop_keeps_the_weights_and_the_history(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    qtbot.waitUntil(lambda: window.session.history.epochs >= 5, timeout=WAIT_MS)
    assert stop(qtbot, window) == "stopped"
    epochs = window.session.history.epochs
    model = window.session.model
    # The weights kept are those at the end of the last epoch in the history, the timeline's last snapshot.
    assert window.session.snapshot_epochs()[-1] == epochs
    for kept, snapshot in zip(model.parameters(), window.session.parameters_at(epochs), strict=True):
        assert torch.equal(kept, snapshot)
    # the final image
    np.testing.assert_allclose(heatmap(window), boundary.image(model, window.session.grid), atol=1e-5)
    assert not window.session.running and window.session.model is model  # no copy once the run is over
    assert window.last_message == f"Stopped after epoch {epochs}."
    assert not button(window, "stopButton").isEnabled() and not button(window, "pauseButton").isEnabled()
    assert button(window, "runButton").isEnabled()
    assert np.isfinite(window.session.history.train).all() and len(window.session.history.train) == epochs


def test_run_again_goes_on_from_the_epoch_reached(quick, qtbot):
    window = quick
    assert run_to_end(qtbot, window, epochs=3) == "completed"
    first = window.session.history.train.copy()
    assert run_to_end(qtbot, window) == "completed"
    assert window.session.history.epochs == 6
    np.testing.assert_array_equal(window.session.history.train[:3], first)
    assert window.run_panel.progress.value() == window.run_panel.progress.maximum() == 6


def test_reset_repeats_the_same_run_exactly(quick, qtbot):
    window = quick
    initial = np.array(window.boundary_plot.heatmap.image, copy=True)
    assert run_to_end(qtbot, window, epochs=4) == "completed"
    first = window.session.history.train.copy()
    button(window, "resetButton").click()
    assert window.session.history.epochs == 0 and window.run_panel.progress.value() == 0
    np.testing.assert_array_equal(window.boundary_plot.heatmap.image, initial)  # the same initial weights
    assert run_to_end(qtbot, window) == "completed"
    assert window.session.history.train[0] == first[0]
    np.testing.assert_array_equal(window.session.history.train, first)


def test_reset_during_a_run_stops_it_first(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        button(window, "resetButton").click()
    assert finished.args == ["stopped"]
    assert not window.session.running and window.session.history.epochs == 0


def test_eta_changed_during_a_run_reaches_the_optimizer(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    eta = find(window, QDoubleSpinBox, "etaSpin")
    assert eta.isEnabled()
    button(window, "pauseButton").click()
    wait_until_blocked(qtbot, window)  # the history now holds every epoch the worker trained
    eta.setValue(0.0005)
    assert window.session.experiment.eta == 0.0005
    # A pause lands between mini-batches: the first Step finishes the epoch it interrupted, the
    # second trains a whole epoch after the edit.
    for times in (2, 3):
        button(window, "stepButton").click()
        wait_until_blocked(qtbot, window, times=times)
    assert stop(qtbot, window) == "stopped"
    # The live optimizer took the new step: that epoch trains like a fresh run at eta 0.0005 from its start.
    s = window.session
    start = s.history.epochs - 1
    model = minidl.architecture.build(s.experiment.blocks, 2)
    for p, value in zip(model.parameters(), s.parameters_at(start), strict=True):
        p.copy_(value)
    model.setLoss(minidl.MSE())
    assert s.snapshot_epochs()[-2:] == [start, start + 1]
    [record] = minidl.fit(model, s.data.X_train, s.data.y_train, 1, s.experiment.batch_size, minidl.SGD(0.0005),
                          first_epoch=start + 1)
    assert record.loss == pytest.approx(float(s.history.train[start]), rel=1e-7)


def test_blocks_and_data_are_locked_during_a_run(quick, qtbot):
    window = quick
    locked = ("layerList", "addLinearButton", "removeLayerButton", "batchSizeSpin", "epochsSpin", "seedSpin",
              "datasetCombo", "noiseSpin", "trainSizeSpin", "testSizeSpin")
    start_long_run(qtbot, window)
    for name in locked:
        assert not find(window, QWidget, name).isEnabled(), name
    assert find(window, QDoubleSpinBox, "etaSpin").isEnabled()
    assert not window.files.save_action.isEnabled()
    assert not window.files.save_to("never-written.minidl")
    assert stop(qtbot, window) == "stopped"
    for name in locked[:1] + locked[3:]:
        assert find(window, QWidget, name).isEnabled(), name
    assert window.files.save_action.isEnabled()


def test_close_during_a_run_stops_and_waits(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        window.close()
    assert finished.args == ["stopped"]
    assert not window.session.running  # the autouse fixture also checks that no QThread is left


def test_close_while_paused_stops_and_waits(quick, qtbot):
    window = quick
    start_long_run(qtbot, window)
    button(window, "pauseButton").click()
    wait_until_blocked(qtbot, window)
    window.close()
    assert not window.session.running


def test_an_error_inside_training_is_reported_not_left_running(quick, qtbot, monkeypatch):
    def broken_fit(*args, **kwargs):
        raise RuntimeError("simulated fault inside the training loop")
        yield  # a generator, like minidl.fit

    monkeypatch.setattr(minidl, "fit", broken_fit)
    quick.session.runner = worker.QtRun  # fit is broken in this process: train here, in a thread
    assert run_to_end(qtbot, quick, epochs=3) == "failed"
    assert not quick.session.running
    title, text = quick.files.last_error
    assert "failed" in title.lower() and text
    assert "simulated fault" in quick.files.dialog.detailedText()
    quick.files.dialog.close()
    assert button(quick, "runButton").isEnabled()


def test_buttons_follow_the_run_state(quick, qtbot):
    window = quick
    idle = {name: button(window, name).isEnabled() for name in
            ("runButton", "pauseButton", "stepButton", "stopButton", "resetButton")}
    assert idle == {"runButton": True, "pauseButton": False, "stepButton": True, "stopButton": False,
                    "resetButton": True}
    start_long_run(qtbot, window)
    assert not button(window, "runButton").isEnabled()
    for name in ("pauseButton", "stepButton", "stopButton", "resetButton"):
        assert window.findChild(QPushButton, name).isEnabled(), name
    assert stop(qtbot, window) == "stopped"
