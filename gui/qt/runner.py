"""The Qt side of a run, and the runner that starts it (:func:`start`).

A run trains in the training process (:mod:`gui.training.process`): a :class:`ProcessRun` sends
it the job and the session's commands, and reads the trainer's messages from the event loop, as
the pipe has them. Where that process cannot serve (it is busy with another window's run, or the
platform has no ``pass_fds``), the run trains in a thread of this process instead, the worker-object
pattern of the Qt docs: a :class:`TrainingWorker` is moved to a QThread and runs the same Qt-free
:class:`~gui.training.trainer.Trainer` there; its typed messages cross to the GUI thread as a queued signal.
Either way they reach the :class:`~gui.model.session.Session` as plain calls, in order.
"""

from __future__ import annotations

import math
import sys
import time
import traceback

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSocketNotifier, Qt, QThread, QTimer, Signal, Slot

from gui.model.weights import load_flat
from gui.training import process as training_process
from gui.training.job import Job
from gui.training.messages import Finished, Progress
from gui.training.process import ALIVE, READY, Handback, TrainingProcess, dumps, job_spec, loads
from gui.training.trainer import Trainer

# A network this wide trains in a thread here. Its time is in large products, which run outside the
# interpreter's lock, so the GUI thread costs it little; and each of its snapshots (67 MB for
# 2-4096-4096-2) would be copied through a pipe and read on the GUI thread: 161 ms for the Stop button
# in benchmarks/bench_gui.py, against a 100 ms target.
PROCESS_MAX_PARAMETERS = 1_000_000


class TrainingWorker(QObject):
    """Runs one :class:`Job` in its thread. ``message(object)``: a :mod:`gui.training.messages` dataclass."""

    message = Signal(object)

    def __init__(self, job: Job):
        super().__init__()
        self.job = job

    @Slot()
    def run(self) -> None:
        # The trainer is made here, in the training thread: even its set-up reads the model.
        try:
            trainer = Trainer(self.job, self.message.emit)
        except Exception:  # its set-up failed, before any training: the run fails, as in the process
            self.message.emit(Finished("failed", traceback.format_exc(), self.job.first_epoch - 1))
        else:
            trainer.run()
        self.job = None  # the model belongs to the session again


class Receiver(QObject):
    """Lives in the GUI thread: the worker's queued messages are delivered to ``deliver`` here."""

    def __init__(self, deliver):
        super().__init__()
        self._deliver = deliver

    @Slot(object)
    def receive(self, message) -> None:
        self._deliver(message)


class QtRun:
    """A run in a thread of this process. The runner protocol (:mod:`gui.training.control`):
    :meth:`command` applies a command to the run's control at once; :meth:`wait` blocks until the
    thread has ended and delivers its last messages; :meth:`close` forgets it."""

    def __init__(self, job: Job, deliver):
        self.control = job.control
        self.receiver = Receiver(deliver)
        self.thread = QThread()
        self.worker = TrainingWorker(job)
        self.worker.moveToThread(self.thread)
        self.worker.message.connect(self.receiver.receive)
        self.thread.started.connect(self.worker.run)
        self.thread.start()

    def command(self, name: str, *args) -> None:
        self.control.apply(name, *args)

    def wait(self, milliseconds: int | None = None) -> bool:
        """Wait for the thread (at most ``milliseconds``); True, with its last messages delivered,
        once it has ended."""
        self.thread.quit()
        if not (self.thread.wait() if milliseconds is None else self.thread.wait(milliseconds)):
            return False
        # The worker's last epochs and its Finished are queued for the receiver: deliver them now,
        # or the history would lag the weights it keeps.
        QCoreApplication.sendPostedEvents(self.receiver, QEvent.Type.MetaCall)
        return True

    def close(self) -> None:
        """Forget the thread once it has finished (the session calls this after Finished)."""
        self.thread.quit()
        self.thread.wait()
        self.thread.started.disconnect(self.worker.run)
        self.worker.message.disconnect(self.receiver.receive)


class ProcessRun:
    """A run in the training process. Its messages are read as the pipe has them (a socket notifier
    in the event loop), and delivered in order; ``wait()`` reads until its :class:`Finished`.

    No wait on the process is unbounded, and the process is judged by its answers, not by its progress:
    after a Stop it is asked whenever it has been quiet a while, and one that leaves a question unanswered
    for ``LOST_AFTER_S`` is lost (killed, and the run fails as if it had died). One that answers but is
    inside a long mini-batch is waited for: by the Stop button as long as the mini-batch takes, by
    :meth:`wait` (New, Open, Reset, Close) at most ``WAIT_LIMIT_S``. One that has not answered at all yet
    (it still imports torch) is ended at the Stop, and the run stops with the weights it started from."""

    # A healthy process answers each command within milliseconds, inside a mini-batch of seconds too (its
    # reader thread runs while torch computes): one that leaves a question unanswered this long is
    # stopped (SIGSTOP), hung or dead. It is asked again after a quarter of this without a word from it.
    LOST_AFTER_S = 5.0
    # New, Open, Reset and Close return within 10 s whatever the process does: one still inside its
    # mini-batch this long after the Stop (a wide network on a large batch) is ended, its run stopped at
    # the newest snapshot.
    WAIT_LIMIT_S = 6.0

    def __init__(self, job: Job, deliver, process: TrainingProcess, spec: bytes, run: int):
        """``spec``: the job as :func:`start` pickled it, as run number ``run`` of ``process``."""
        self.job, self._deliver, self.process = job, deliver, process
        process.busy, process.runs = True, run
        self.run, self.finished = run, False
        self.answers = 0  # the process's answers (ALIVE) read during this run
        self._kept = (job.first_epoch - 1, None)  # the newest snapshot delivered (epoch, weights), for an end
        self._stopping = False
        self._asked: float | None = None  # when the oldest question that no message has followed yet was sent
        self._heard = time.monotonic()  # when the process last sent something
        self.notifier = QSocketNotifier(process.messages.fileno(), QSocketNotifier.Type.Read)
        self.notifier.activated.connect(self._readable)
        self.writable = QSocketNotifier(process.commands.fileno(), QSocketNotifier.Type.Write)
        self.writable.activated.connect(self._flush)
        # Precise: a coarse timer may fire 5 % early, and then wait again in select for the rest.
        self.watchdog = QTimer(singleShot=True, timerType=Qt.TimerType.PreciseTimer)
        self.watchdog.timeout.connect(self._watch)
        if not self._send_bytes(spec):
            QTimer.singleShot(0, self._lost)

    # -- to the process ------------------------------------------------------------------------
    def command(self, name: str, *args) -> None:
        """Send a command of :data:`gui.training.control.COMMANDS` to the run over there."""
        self._send_bytes(dumps(("cmd", self.run, name, args)))
        if name == "stop" and not self._stopping:
            self._stopping = True
            self.watchdog.start(0)  # judged from the event loop as well, while the window shows "stopping"

    def _send_bytes(self, data: bytes) -> bool:
        """Send a job or a command (each is a question: the process answers it); False once the process is gone."""
        if self._asked is None:
            self._asked = time.monotonic()
        sent = self.process.send_bytes(data)
        self._flush()
        return sent

    def _flush(self) -> None:
        """Write the commands the pipe could not take yet; the notifier calls again while some wait."""
        if not self.finished:
            self.process.commands.flush()
            self.writable.setEnabled(self.process.commands.pending)

    # -- from the process ----------------------------------------------------------------------
    def _readable(self) -> None:
        # One message a call (the notifier fires again while the pipe has more): other events, such
        # as the work a view posts for after a message, come between them as between queued signals.
        if not self.finished:
            self._read_one()

    def _read_one(self) -> None:
        inbox = self.process.messages
        received = inbox.received
        try:
            data = inbox.take()
            if data is not None:
                run, message = loads(data)
        except (EOFError, OSError):
            self._lost()
            return
        except Exception:  # a message this side cannot read: the run cannot go on
            self._lost(traceback.format_exc())
            return
        if inbox.received != received:  # a message, or a part of one: the process is alive
            self._asked, self._heard = None, time.monotonic()
        if data is None:  # a part of a message: the rest follows
            return
        if run != self.run:
            if message == ALIVE:
                self.answers += 1
            self.process.ready |= message in (READY, ALIVE)
            return  # or a message of an earlier run (none come after its Finished)
        job = self.job
        if isinstance(message, Handback):
            try:
                message.apply(job.model, job.optimizer)
            except Exception:  # weights that do not fit: the run cannot end well
                self._lost(traceback.format_exc())
            return
        if isinstance(message, Finished):
            self.finished = True
            self.watchdog.stop()
        elif isinstance(message, Progress) and message.snapshots:
            self._kept = message.snapshots[-1][:2]
        try:
            self._deliver(message)
        except Exception:  # a view's error: reported as a queued signal's would be, and the next messages come
            sys.excepthook(*sys.exc_info())

    def _drain(self, wanted) -> None:
        """Read what the pipe holds already, while ``wanted()``: what came while this thread was busy counts."""
        while wanted() and not self.finished and self.process.poll(0):
            self._read_one()

    # -- is it alive? ------------------------------------------------------------------------
    def _due(self) -> float:
        """When :meth:`_judge` has something to do: a question's deadline, or the time to ask one (never, while
        the process has not said a word: only a Stop ends such a run)."""
        if not self.process.ready:
            return math.inf
        if self._asked is not None:
            return self._asked + self.LOST_AFTER_S
        return self._heard + self.LOST_AFTER_S / 4

    def _judge(self) -> None:
        """After a Stop: end a run the process cannot serve yet; give up a process that left a question
        unanswered for ``LOST_AFTER_S``; ask one that has been quiet whether it is alive."""
        if not self.process.ready:
            self._drain(lambda: not self.process.ready)  # its first word may wait unread
            if self._stopping and not self.process.ready and not self.finished:
                self._stopped_before_ready()
            return
        if time.monotonic() >= self._due():
            if self._asked is not None:
                self._drain(lambda: self._asked is not None)
                if self._asked is not None and not self.finished:
                    self._lost(what=f"did not answer for {self.LOST_AFTER_S:g} s (stopped, hung or swapped out), "
                               "so it was ended")
            else:
                self._send_bytes(dumps(("ping",)))

    def _watch(self) -> None:
        """The watchdog, while the window shows "stopping": judge, then come back when there is more to judge."""
        if not self.finished:
            self._judge()
        if not self.finished:
            due = min(self._due() - time.monotonic(), self.LOST_AFTER_S)
            self.watchdog.start(max(0, math.ceil(due * 1000)))

    # -- the end of a run that no Finished ends --------------------------------------------------
    def _end(self) -> None:
        """Stop reading, and kill and reap the process; the next run starts a new one."""
        self.finished = True
        self.watchdog.stop()
        self.notifier.setEnabled(False)
        self.writable.setEnabled(False)
        self.process.kill()

    def _stopped_before_ready(self) -> None:
        """Stopped before the process said a word (it still imports torch, or it is stuck there): nothing
        trained, so the run stops with the weights it started from. The process is ended, so that no job
        of this run trains later."""
        self._end()
        epoch = self.job.first_epoch - 1
        self._deliver(Finished("stopped", f"Stopped after epoch {epoch}, before the training process was ready "
                               "(it was ended; the next Run starts a new one).", epoch))

    def _stopped_while_busy(self) -> None:
        """Still inside its mini-batch after :meth:`wait` waited ``WAIT_LIMIT_S``, though it may answer: it is
        ended, and the run stops at the newest snapshot that came (the session's history goes back to it)."""
        epoch, flat = self._kept
        self._end()
        if flat is not None:
            load_flat(self.job.model, flat)
        self._deliver(Finished("stopped", f"Stopped after epoch {epoch}: the training process had not ended its "
                               f"mini-batch after {self.WAIT_LIMIT_S:g} s of waiting, so it was ended.", epoch))

    def _lost(self, details: str = "", what: str = "") -> None:
        """The process ended mid-run (killed, out of memory), did not answer (``what`` says so), or sent what
        cannot be read: it is killed and reaped, the run fails (the session takes the weights back to its
        last snapshot), and the next run starts a new process (or trains in a thread, if this one ended
        before it was ever ready)."""
        if self.finished:
            return
        self._end()
        text = (f"The training process {what or 'ended unexpectedly'}. The network keeps its weights after epoch "
                f"{self._kept[0]}, the last the timeline holds.")
        if not self.process.ready and not what:  # it never worked here: the next runs train in a thread instead
            training_process.unusable = True
            text += " The training process could not start: from now on the runs train in a thread of the window."
        self._deliver(Finished("failed", text + "\n" + details, self._kept[0]))

    def wait(self, milliseconds: int | None = None) -> bool:
        """Read and deliver the run's messages until its Finished; True once it came. At most ``milliseconds``;
        with no limit, at most ``WAIT_LIMIT_S``, then the process is ended and the run stopped. After a Stop,
        sooner if the process cannot serve the run or stops answering (see the class)."""
        limit = time.monotonic() + (self.WAIT_LIMIT_S if milliseconds is None else milliseconds / 1000)
        while not self.finished:
            self._judge()
            if self.finished:
                break
            now = time.monotonic()
            if now >= limit:
                if milliseconds is not None:
                    return False
                self._stopped_while_busy()
            elif self.process.poll(min(limit, self._due()) - now):
                self._read_one()
        return True

    def close(self) -> None:
        """Forget the run once it has finished (the session calls this after Finished)."""
        self.watchdog.stop()
        for notifier, slot in ((self.notifier, self._readable), (self.writable, self._flush)):
            notifier.setEnabled(False)
            notifier.activated.disconnect(slot)
        self.watchdog.timeout.disconnect(self._watch)
        self._kept = (self._kept[0], None)
        self.process.busy = False


def start(job: Job, deliver):
    """The session's runner: train ``job`` in the training process, its messages to ``deliver``; in a
    new QThread where that process cannot serve, or for a wide network (above ``PROCESS_MAX_PARAMETERS``)."""
    if sum(p.numel() for p in job.model.parameters()) > PROCESS_MAX_PARAMETERS:
        return QtRun(job, deliver)
    process = training_process.shared()
    if process is None or process.busy:
        return QtRun(job, deliver)
    run = process.runs + 1
    try:
        spec = dumps(("job", job_spec(job, run)))
    except Exception:  # a network the process cannot rebuild (a module of the user's own): train here
        return QtRun(job, deliver)
    return ProcessRun(job, deliver, process, spec, run)


def prewarm() -> None:
    """Start the training process ahead of the first Run (it takes over a second to be ready)."""
    training_process.shared()
