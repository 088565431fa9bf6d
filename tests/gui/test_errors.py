"""Uncaught exceptions anywhere in the GUI: shown, logged, and the run stopped."""

from __future__ import annotations

import sys

from gui_helpers import small_data

from gui.qt.window import errors


def test_uncaught_exception_is_shown_logged_and_stops_the_run(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "log_file", lambda: tmp_path / "playground.log")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # pytest-qt's hook comes back after the test
    monkeypatch.setattr(errors.log, "handlers", [])
    errors.install(window)
    small_data(window)
    window.settings_panel.epochs_spin.setValue(100_000)
    window.run_panel.run_button.click()
    assert window.session.running
    try:
        raise RuntimeError("a bug in a slot")
    except RuntimeError:
        with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
            sys.excepthook(*sys.exc_info())
    assert not window.session.running
    title, text = window.files.last_error
    assert title == "Unexpected error" and "a bug in a slot" in text and "still open" in text
    assert "RuntimeError: a bug in a slot" in window.files.dialog.detailedText()
    assert "a bug in a slot" in (tmp_path / "playground.log").read_text()
    assert "Training was stopped" in text


def test_an_error_while_idle_does_not_claim_a_run_was_stopped(window, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(errors, "log_file", lambda: tmp_path / "playground.log")
    monkeypatch.setattr(errors.log, "handlers", [])
    try:
        raise ValueError("a bug while nothing trains")
    except ValueError:
        errors.report(window, *sys.exc_info())
    title, text = window.files.last_error
    assert "a bug while nothing trains" in text and "stopped" not in text
    assert "ValueError: a bug while nothing trains" in capsys.readouterr().err  # a terminal sees it too
