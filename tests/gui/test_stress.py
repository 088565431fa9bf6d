"""Reliability under abuse: random run-control actions, and uncaught exceptions."""

from __future__ import annotations

import os
import random
import sys

from gui_helpers import small_data

from gui import errors

ACTIONS = int(os.environ.get("STRESS_ACTIONS", "200"))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def test_random_run_controls_then_close(window, qtbot, qtlog):
    """``ACTIONS`` random Run/Stop/Pause/Step/Reset clicks with random short delays, then close."""
    small_data(window)
    window.epochs_spin.setValue(50)
    rng = random.Random(1234)
    buttons = [window.run_button, window.stop_button, window.pause_button, window.step_button,
               window.reset_button]
    finished = []
    window.trainingFinished.connect(finished.append)
    memory = []
    for index in range(ACTIONS):
        button = rng.choice(buttons)
        if button.isEnabled():
            button.click()
        qtbot.wait(rng.randint(0, 15))  # the random short delay is the point of this test
        if index == ACTIONS // 4:
            memory.append(rss_mb())
        assert window.running == (window._thread is not None)
    memory.append(rss_mb())
    assert set(finished) <= {"completed", "stopped"}, finished
    assert memory[1] - memory[0] < 30, f"memory grew from {memory[0]:.0f} to {memory[1]:.0f} MB"
    thread = window._thread
    window.close()
    assert not window.running
    assert thread is None or not thread.isRunning()
    warnings = [r.message for r in qtlog.records if "propagateSizeHints" not in r.message]
    assert not warnings, warnings


def test_uncaught_exception_is_shown_logged_and_stops_the_run(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "log_file", lambda: tmp_path / "playground.log")
    errors.install(window)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    small_data(window)
    window.epochs_spin.setValue(100_000)
    window.run_button.click()
    assert window.running
    try:
        raise RuntimeError("a bug in a slot")
    except RuntimeError:
        with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
            sys.excepthook(*sys.exc_info())
    assert not window.running
    title, text = window.files.last_error
    assert title == "Unexpected error" and "a bug in a slot" in text and "still open" in text
    assert "RuntimeError: a bug in a slot" in window.files.dialog.detailedText()
    assert "a bug in a slot" in (tmp_path / "playground.log").read_text()
