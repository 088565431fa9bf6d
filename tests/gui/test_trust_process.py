"""The training process never hangs the window (one that stops answering is lost after a deadline, one that
answers is waited for), a failed run's weights are those of the last epoch its history records, and quitting is
clean however it happens."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, button, run_to_end, set_epochs, small_data, start_long_run
from session_helpers import ROOT, run_script

from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.model.timeline import flatten
from gui.qt import runner as worker
from gui.qt.window.exports import script_text
from gui.qt.window.file_menu import preset_path
from gui.training import process as training_process
from gui.training.messages import Finished
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
        (reason, text, torch.equal(flatten(s.model.parameters()), s.timeline.flat(s.history.epochs)))))
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
    assert isinstance(s.live_run, worker.ProcessRun)
    process = s.live_run.process
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
    _title, text = window.files.last_error  # the dialog says where the weights are now
    assert f"went back to its weights after epoch {s.history.epochs}," in text and "trained so far" not in text
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
    assert isinstance(s.live_run, worker.ProcessRun)
    hung = Hung(s.live_run.process, record_finished(s), Path())
    watchdog = stop_process(hung.process)
    try:
        assert window.classroom.next()  # returns: the wait on the process has a deadline
    finally:
        watchdog.cancel()
    assert_lost_cleanly(window, hung)
    assert window.lesson.index == 1
    window.files.dialog.close()


@pytest.fixture
def own_process(monkeypatch):
    """The shared training process put aside (the fixture's undo brings it back): the test's runs start their own,
    which the test's end closes."""
    monkeypatch.setattr(training_process, "_shared", None)
    monkeypatch.setattr(training_process, "unusable", False)
    yield
    if training_process.shared(start=False) is not None:
        training_process.shared(start=False).kill()


def test_a_stop_while_the_process_starts_ends_the_run_stopped_and_the_next_run_trains(window, qtbot, monkeypatch,
                                                                                       own_process):
    """Still starting (importing torch; here stopped before it could), the process cannot answer yet: the Stop
    neither waits for it nor calls it lost. Nothing trained, so the weights stay; the process is ended (no job
    of the stopped run trains later), and the next Run starts a new one."""
    monkeypatch.setattr(worker.ProcessRun, "LOST_AFTER_S", LOST_AFTER_S)
    s = window.session
    small_data(window)
    set_epochs(window, 1_000_000)
    before = flatten(s.model.parameters())
    process = training_process.shared()  # a new one: it has said nothing yet
    watchdog = stop_process(process)
    try:
        button(window, "runButton").click()
        assert isinstance(s.live_run, worker.ProcessRun) and s.live_run.process is process and not process.ready
        button(window, "stopButton").click()
        qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    finally:
        watchdog.cancel()
    assert s.finish_reason == "stopped" and s.history.epochs == 0
    assert torch.equal(flatten(s.model.parameters()), before)
    assert window.files.last_error is None  # no dialog
    assert process.popen.returncode is not None and not training_process.unusable  # ended and reaped
    assert run_to_end(qtbot, window, epochs=2) == "completed" and s.history.epochs == 2
    assert training_process.shared() is not process


# A schedule for a process of the test's own: while the file ``path`` exists, its factor waits at the start of each
# epoch, in the training process only, and says so in ``path.holding``. The process's main thread is then busy as
# in a long mini-batch (asleep, it leaves the interpreter's lock to the reader thread, as torch does).
HOLD = """import os
import time


class Hold:
    def __init__(self, path, gui):
        self.path, self.gui = path, gui

    def factor(self, epoch):
        if os.getpid() != self.gui and os.path.exists(self.path):
            open(self.path + ".holding", "w").close()
            deadline = time.monotonic() + 60  # a regression fails its test instead of hanging the suite
            while os.path.exists(self.path) and time.monotonic() < deadline:
                time.sleep(0.01)
        return 1.0
"""
BUSY_LOST_AFTER_S = 2.0  # a healthy process answers at once, but this one must answer on a busy machine too


@dataclass
class Held:
    session: Session  # its runs train in a process of their own, with the schedule below
    path: Path  # while it exists, the training waits at the start of each epoch

    @property
    def holding(self) -> bool:
        """Whether the training waits now."""
        return Path(f"{self.path}.holding").exists()


@pytest.fixture
def held(monkeypatch, tmp_path, own_process) -> Held:
    (tmp_path / "hold_schedule.py").write_text(HOLD)
    monkeypatch.delitem(sys.modules, "hold_schedule", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    from hold_schedule import Hold

    path = tmp_path / "held"
    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=1_000_000), runner=worker.start)
    monkeypatch.setattr(s.experiment, "build_schedule", lambda: Hold(str(path), os.getpid()))
    return Held(s, path)


def test_a_process_busy_in_a_long_mini_batch_answers_so_a_stop_waits_for_it(qtbot, monkeypatch, held):
    monkeypatch.setattr(worker.ProcessRun, "LOST_AFTER_S", BUSY_LOST_AFTER_S)
    s = held.session
    before = flatten(s.model.parameters())
    held.path.touch()
    s.run()
    run = s.live_run
    assert isinstance(run, worker.ProcessRun)
    qtbot.waitUntil(lambda: held.holding, timeout=WAIT_MS)  # before its first mini-batch
    s.request_stop()  # the Stop button
    assert s.state == "stopping"
    asked = time.monotonic()
    qtbot.waitUntil(lambda: not s.running or time.monotonic() > asked + 2 * BUSY_LOST_AFTER_S, timeout=WAIT_MS)
    assert s.state == "stopping"  # past the deadline, and not lost: it answered
    assert run.answers >= 2
    held.path.unlink()  # the mini-batch ends: the Stop is seen
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "stopped" and s.history.epochs == 0
    assert torch.equal(flatten(s.model.parameters()), before)
    assert run.process.alive and training_process.shared() is run.process  # it serves the next run


def test_new_open_and_close_end_a_process_still_busy_at_the_wait_limit(qtbot, monkeypatch, held):
    """It answers, but its mini-batch does not end: the wait ends at ``WAIT_LIMIT_S``, the process is ended, and
    the run stops at the newest snapshot that came (the training process has newer weights; the window not)."""
    monkeypatch.setattr(worker.ProcessRun, "WAIT_LIMIT_S", 1.0)
    s = held.session
    finished = record_finished(s)
    s.run()
    run = s.live_run
    assert isinstance(run, worker.ProcessRun)
    qtbot.waitUntil(lambda: s.history.epochs >= 2, timeout=WAIT_MS)
    held.path.touch()
    qtbot.waitUntil(lambda: held.holding, timeout=WAIT_MS)  # at the start of an epoch
    s.stop()  # as New, Open and Close do
    assert finished and finished[-1][0] == "stopped" and "had not ended its mini-batch" in finished[-1][1]
    assert finished[-1][2] and s.history.epochs >= 1  # the weights are those of the last epoch its history records
    assert run.process.popen.returncode is not None  # ended and reaped
    assert training_process.shared() is not run.process


class Popen:
    """The process of a scripted TrainingProcess: ``killed`` says whether the run gave it up."""

    pid, returncode, killed = -1, None, False

    def kill(self) -> None:
        self.killed, self.returncode = True, -9

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode


@dataclass
class Clock:
    """A stand-in for the ``time`` module of gui.qt.runner: the real clock, ``ahead`` seconds later."""

    ahead: float = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead


def test_an_answer_already_in_the_pipe_at_the_deadline_is_read_not_discarded(qtbot, monkeypatch):
    """The GUI thread was busy past the deadline (here: the clock jumps), and the process's Finished came
    meanwhile: it is read before anything is judged, and the healthy process is not killed."""
    monkeypatch.setattr(worker.ProcessRun, "LOST_AFTER_S", LOST_AFTER_S)
    command_read, command_write = os.pipe()
    message_read, message_write = os.pipe()
    process = training_process.TrainingProcess.__new__(training_process.TrainingProcess)
    process.commands, process.messages, process.popen = Outbox(command_write), Inbox(message_read), Popen()
    process.busy, process.runs, process.ready = False, 0, True
    theirs = Connection(message_write, readable=False)
    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=5),
                runner=lambda job, deliver: worker.ProcessRun(job, deliver, process, b"the job", 1))
    before = flatten(s.model.parameters())
    try:
        s.run()
        s.request_stop()
        assert s.state == "stopping"
        theirs.send_bytes(training_process.envelope(1, Finished("stopped", "Stopped after epoch 0.", 0)))
        monkeypatch.setattr(worker, "time", Clock(ahead=10 * LOST_AFTER_S))
        s.stop()  # as New and Open do
        assert s.finish_reason == "stopped" and not process.popen.killed
        assert torch.equal(flatten(s.model.parameters()), before)
    finally:
        theirs.close()
        process.commands.close()
        process.messages.close()
        os.close(command_read)


def test_a_job_larger_than_the_pipe_goes_as_the_process_reads_it(qtbot, own_process):
    """Its weights alone (1.4 MB) are more than the pipe holds: the rest waits in the GUI's queue, which the
    event loop writes as the process reads; nothing waits for the process."""
    blocks = [{"type": "Linear", "width": 600}, {"type": "ReLU"}, {"type": "Linear", "width": 600}, {"type": "ReLU"},
              {"type": "Linear", "width": 2}, {"type": "Tanh"}]
    s = Session(Experiment(blocks=blocks, n_train=100, n_test=100, batch_size=50, epochs=2), runner=worker.start)
    assert sum(p.numel() for p in s.model.parameters()) * 4 > training_process.PIPE_BYTES
    # A process of its own, stopped at once: it reads nothing while the job is sent, and nothing else (an earlier
    # test, the other suite on the machine) can have ended or replaced it in between.
    process = training_process.shared()
    os.kill(process.popen.pid, signal.SIGSTOP)
    try:
        s.run()
        assert isinstance(s.live_run, worker.ProcessRun) and s.live_run.process is process
        assert process.commands.pending
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
        assert isinstance(s.live_run, worker.ProcessRun)
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
