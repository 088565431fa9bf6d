"""The training process never hangs the window (a stopped one is lost after a deadline), a failed run's
weights are those of the last epoch its history records, and quitting is clean however it happens."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, button, run_to_end, small_data, start_long_run
from session_helpers import ROOT, run_script

from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.model.timeline import flatten
from gui.qt import runner as worker
from gui.qt.window.exports import script_text
from gui.qt.window.file_menu import preset_path
from gui.training import process as training_process
from gui.training.pipes import Inbox, Outbox, frame

LOST_AFTER_S = 1.0  # the tests' deadline for an answer from the process (the application's is a few seconds)


# -- a stopped (SIGSTOP) training process ---------------------------------------------------------
@dataclass
class Hung:
    process: training_process.TrainingProcess
    finished: list  # (reason, text, whether the weights were the last snapshot's) of each run that ended
    saved: Path  # a file of the experiment, for the Open case


def stop_process(process: training_process.TrainingProcess) -> threading.Timer:
    """Stop ``process`` (SIGSTOP: it reads nothing and answers nothing). The watchdog returned kills it after
    a while, so that a window still waiting for it fails the test instead of hanging the suite (the run
    then ended "unexpectedly" instead of "did not answer")."""
    os.kill(process.popen.pid, signal.SIGSTOP)
    watchdog = threading.Timer(20, lambda: process.popen.poll() is None and process.popen.kill())
    watchdog.start()
    return watchdog


def record_finished(s: Session) -> list:
    finished = []
    s.events.connect("finished", lambda reason, text: finished.append(
        (reason, text, torch.equal(flatten(s._model.parameters()), s.timeline.flat(s.history.epochs)))))
    return finished


@pytest.fixture
def hung(window, qtbot, monkeypatch, tmp_path):
    """The window trains a long run in the training process, then that process stops."""
    monkeypatch.setattr(worker.ProcessRun, "LOST_AFTER_S", LOST_AFTER_S)
    s = window.session
    small_data(window)
    saved = tmp_path / "saved.minidl"
    assert window.files.save_to(saved)
    s.edit(seed=s.experiment.seed + 1)  # a change, so that Open replaces something
    start_long_run(qtbot, window)
    assert isinstance(s._run, worker.ProcessRun)
    process = s._run.process
    finished = record_finished(s)
    watchdog = stop_process(process)
    yield Hung(process, finished, saved)
    watchdog.cancel()
    if process.popen.poll() is None:  # a regression: end it, or the window's teardown would wait for it
        process.popen.kill()
        process.popen.wait()


def assert_lost_cleanly(window, hung: Hung) -> None:
    """The run failed as a lost process, its weights those of its last snapshot; the process was killed and reaped."""
    assert hung.finished and hung.finished[-1][0] == "failed"
    _reason, text, weights_match = hung.finished[-1]
    assert "did not answer" in text
    assert weights_match
    assert hung.process.popen.returncode is not None  # killed and reaped
    assert not window.session.running


def test_stop_of_a_stopped_process_fails_the_run_and_the_next_run_starts_another(window, qtbot, hung):
    s = window.session
    button(window, "stopButton").click()
    qtbot.waitUntil(lambda: s.state == "finished", timeout=15_000)
    assert s.finish_reason == "failed"
    assert_lost_cleanly(window, hung)
    assert torch.equal(flatten(s.model.parameters()), s.timeline.flat(s.history.epochs))
    assert s.history.epochs == s.snapshot_epochs()[-1] >= 1
    window.files.dialog.close()
    assert run_to_end(qtbot, window, epochs=s.history.epochs + 2) == "completed"
    assert training_process.shared() is not hung.process and not training_process.unusable


ACTIONS = {"new": lambda w, _hung: w.files.new(), "open": lambda w, hung: w.files.open(hung.saved),
           "example": lambda w, _hung: w.files.open_example("xor.json"),
           "reset": lambda w, _hung: w.session.reset(), "close": lambda w, _hung: w.close()}


@pytest.mark.parametrize("action", ACTIONS)
def test_new_open_reset_and_close_return_while_the_process_does_not_answer(window, qtbot, hung, action):
    ACTIONS[action](window, hung)  # returns: the wait on the process has a deadline
    assert_lost_cleanly(window, hung)
    if action == "close":
        assert not window.isVisible()
        return
    window.files.dialog.close()
    assert run_to_end(qtbot, window, epochs=2) == "completed"
    assert training_process.shared() is not hung.process


def test_a_scene_change_returns_while_the_process_does_not_answer(window, qtbot, monkeypatch):
    monkeypatch.setattr(worker.ProcessRun, "LOST_AFTER_S", LOST_AFTER_S)
    assert window.files.open_lesson(preset_path("lessons/step_size.json"))
    s = window.session
    start_long_run(qtbot, window)
    assert isinstance(s._run, worker.ProcessRun)
    hung = Hung(s._run.process, record_finished(s), Path())
    watchdog = stop_process(hung.process)
    try:
        assert window.classroom.next()  # returns: the wait on the process has a deadline
    finally:
        watchdog.cancel()
    assert_lost_cleanly(window, hung)
    assert window.lesson.index == 1
    window.files.dialog.close()


def test_a_process_stopped_while_it_starts_is_replaced_not_given_up(qtbot, monkeypatch):
    """It may only be slow on a busy machine: the next Run starts another process, not a thread."""
    monkeypatch.setattr(worker.ProcessRun, "LOST_AFTER_S", LOST_AFTER_S)
    old = training_process.shared()
    monkeypatch.setattr(training_process, "_shared", None)  # put aside; the fixture's undo brings it back
    monkeypatch.setattr(training_process, "unusable", False)
    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=1_000_000), runner=worker.start)
    try:
        s.run()
        run = s._run
        assert isinstance(run, worker.ProcessRun) and not run.process.ready
        watchdog = stop_process(run.process)
        try:
            s.stop()
        finally:
            watchdog.cancel()
        assert s.finish_reason == "failed" and s.history.epochs == 0
        assert run.process.popen.returncode is not None and not training_process.unusable
        s.edit(epochs=2)
        s.run()
        assert isinstance(s._run, worker.ProcessRun) and s._run.process is not run.process
        qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
        assert s.finish_reason == "completed" and s.history.epochs == 2
    finally:
        if training_process._shared not in (None, old):
            training_process._shared.close()


def test_a_job_larger_than_the_pipe_goes_as_the_process_reads_it(qtbot):
    """Its weights alone (1.4 MB) are more than the pipe holds: the rest waits in the GUI's queue, which the
    event loop writes as the process reads; nothing waits for the process."""
    blocks = [{"type": "Linear", "width": 600}, {"type": "ReLU"}, {"type": "Linear", "width": 600}, {"type": "ReLU"},
              {"type": "Linear", "width": 2}, {"type": "Tanh"}]
    s = Session(Experiment(blocks=blocks, n_train=100, n_test=100, batch_size=50, epochs=2), runner=worker.start)
    assert sum(p.numel() for p in s.model.parameters()) * 4 > training_process.PIPE_BYTES
    process = training_process.shared()
    os.kill(process.popen.pid, signal.SIGSTOP)  # it reads nothing while the job is sent
    try:
        s.run()
        assert isinstance(s._run, worker.ProcessRun) and process.commands.pending
    finally:
        os.kill(process.popen.pid, signal.SIGCONT)
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "completed" and s.history.epochs == 2


# -- the GUI's ends of the pipes -------------------------------------------------------------------
BIG = bytes(range(256)) * 8192  # 2 MB: more than a pipe holds


def test_the_outbox_queues_what_the_pipe_cannot_take_and_frames_it_as_a_connection():
    read, write = os.pipe()
    outbox, theirs = Outbox(write), Connection(read, writable=False)
    try:
        assert outbox.send_bytes(b"first") and outbox.send_bytes(BIG) and outbox.send_bytes(b"")
        assert outbox.pending  # the caller went on; the rest waits for room
        got = []
        reader = threading.Thread(target=lambda: got.extend(theirs.recv_bytes() for _ in range(3)), daemon=True)
        reader.start()
        while outbox.pending:
            select.select([], [outbox.fileno()], [], WAIT_MS / 1000)
            outbox.flush()
        reader.join(WAIT_MS / 1000)
        assert got == [b"first", BIG, b""]
        theirs.close()
        assert not outbox.send_bytes(b"to nobody") and outbox.closed  # the reader is gone: said, not raised
    finally:
        outbox.close()


def test_the_inbox_keeps_a_part_of_a_message_until_the_rest_comes():
    read, write = os.pipe()
    inbox, theirs = Inbox(read), Connection(write, readable=False)
    try:
        message = frame(b"hello")
        os.write(write, message[:3])  # not even the whole length
        assert inbox.take() is None
        os.write(write, message[3:7])
        assert inbox.take() is None
        os.write(write, message[7:])
        assert inbox.take() == b"hello" and inbox.take() is None
        writer = threading.Thread(target=lambda: (theirs.send_bytes(BIG), theirs.send_bytes(b"x")), daemon=True)
        writer.start()
        got = []
        while len(got) < 2:
            assert select.select([inbox.fileno()], [], [], WAIT_MS / 1000)[0]
            taken = inbox.take()
            if taken is not None:
                got.append(taken)
        writer.join(WAIT_MS / 1000)
        assert got == [BIG, b"x"]
        theirs.close()
        with pytest.raises(EOFError):
            inbox.take()
    finally:
        inbox.close()


# -- an error inside the trainer ------------------------------------------------------------------
@pytest.mark.parametrize("runner", [worker.QtRun, worker.start], ids=["thread", "process"])
def test_an_error_in_the_trainer_leaves_the_weights_of_the_last_recorded_epoch(qtbot, tmp_path, runner):
    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=5, optimizer="SGD + momentum",
                           momentum=0.9), runner=runner)
    s.run()
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "completed" and s.history.epochs == 5
    grid = s.grid
    # Not RESOLUTION**2 points: the first boundary image of the next run raises inside the trainer, after
    # it trained epochs it has not yet reported.
    s.grid = grid[:16]
    s.run()
    if runner is worker.start:
        assert isinstance(s._run, worker.ProcessRun)
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "failed"
    assert s.history.epochs == 5 and s.snapshot_epochs()[-1] == 5
    assert torch.equal(flatten(s.model.parameters()), s.timeline.flat(s.history.epochs))
    s.grid = grid
    s.run()  # a Continue from the weights the history describes
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "completed" and s.history.epochs == 10
    printed = run_script(script_text(s), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]


@pytest.mark.parametrize("runner", [worker.QtRun, worker.start], ids=["thread", "process"])
def test_an_error_in_the_trainer_s_set_up_fails_the_run(qtbot, runner):
    """Before it trains (here: a grid of three columns for a network of two inputs): the run fails, and says
    so, in both runners; the weights stay."""
    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=3), runner=runner)
    before = flatten(s.model.parameters())
    s.grid = torch.zeros(16, 3)
    s.run()
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "failed" and s.history.epochs == 0
    assert torch.equal(flatten(s.model.parameters()), before)


# -- quitting ---------------------------------------------------------------------------------------
def test_a_process_whose_window_closes_at_once_exits_quietly(capfd):
    """The GUI closes its pipes while the process still starts: it ends without a traceback."""
    process = training_process.TrainingProcess()
    process.close(wait=False)
    assert process.popen.wait(WAIT_MS / 1000) == 0
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipeError" not in err


WIDE = [{"type": "Linear", "width": 2048}, {"type": "ReLU"}, {"type": "Linear", "width": 2048}, {"type": "ReLU"},
        {"type": "Linear", "width": 2}, {"type": "Tanh"}]
ENDINGS = {
    "a run in a thread": "w.session.runner = worker.QtRun\nw.session.run()\napp.processEvents()",
    "a wide network being drawn": f"w.session.edit(blocks={WIDE!r})\napp.processEvents()",
    # exit(), not quit(): quit() closes the windows first, and this one would ask to save its training
    "the event loop ended": "w.show()\nw.session.runner = worker.QtRun\nw.session.run()\n"
                            "QTimer.singleShot(50, lambda: app.exit(0))\napp.exec()",
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_script_that_leaves_the_window_open_exits_cleanly(tmp_path, ending):
    script = ("from PySide6.QtCore import QTimer\nfrom PySide6.QtWidgets import QApplication\n"
              "app = QApplication([])\nfrom gui.qt import runner as worker\n"
              "from gui.qt.window.main_window import MainWindow\n"
              f"w = MainWindow()\n{ENDINGS[ending]}\nprint('done', flush=True)\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(ROOT), env=env, capture_output=True, text=True,
                          timeout=120)
    assert "QThread: Destroyed while thread" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert "done" in done.stdout and "Traceback" not in done.stderr
