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

import sys
import time
import traceback

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSocketNotifier, QThread, QTimer, Signal, Slot

from gui.training import process as training_process
from gui.training.messages import Finished, Progress
from gui.training.process import (
    CONTROLS,
    READY,
    Handback,
    TrainingProcess,
    dumps,
    job_spec,
    loads,
    pace_state,
    units_state,
)
from gui.training.trainer import GuiLoad, Job, Trainer

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
    """Lives in the GUI thread: the worker's queued messages are delivered to ``deliver`` here, and
    ``load`` (if any) measures the GUI thread's share of the time at each progress message."""

    def __init__(self, deliver, load: GuiLoad | None):
        super().__init__()
        self._deliver, self._load = deliver, load

    @Slot(object)
    def receive(self, message) -> None:
        if self._load is not None and isinstance(message, Progress):
            self._load.measure()
        self._deliver(message)


class QtRun:
    """A started run: ``wait()`` blocks until its thread has ended and delivers its last messages."""

    def __init__(self, job: Job, deliver):
        if job.gui_load is not None:
            job.gui_load.start()
        self.receiver = Receiver(deliver, job.gui_load)
        self.thread = QThread()
        self.worker = TrainingWorker(job)
        self.worker.moveToThread(self.thread)
        self.worker.message.connect(self.receiver.receive)
        self.thread.started.connect(self.worker.run)
        self.thread.start()

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
    in the event loop), and delivered in order; ``wait()`` reads until its :class:`Finished`. No wait
    on the process is unbounded: one that does not end its run within ``LOST_AFTER_S`` of a Stop is
    lost (killed, and the run fails as if it had died)."""

    SYNC_MS = 100  # how often the pace, the units wanted and the GUI's load are compared and sent
    # A process stops within a mini-batch (milliseconds for the networks it trains): one that does not
    # answer a Stop for this long is stopped (SIGSTOP), hung or swapped out, and New, Open and Close
    # must not wait for it.
    LOST_AFTER_S = 5.0

    def __init__(self, job: Job, deliver, process: TrainingProcess, spec: bytes, run: int):
        """``spec``: the job as :func:`start` pickled it, as run number ``run`` of ``process``."""
        self.job, self._deliver, self.process = job, deliver, process
        process.busy, process.runs = True, run
        self.run, self._seq, self.finished = run, 0, False
        self._kept = job.first_epoch - 1  # the epoch of the newest snapshot delivered, for a lost process
        self._stop_deadline: float | None = None  # time.monotonic() by which a Stop must have ended the run
        if job.gui_load is not None:
            job.gui_load.start()
        self._synced = self._wanted()
        job.control.forward = self._command
        if job.live is not None:
            job.live.forward = self._command
        self.notifier = QSocketNotifier(process.messages.fileno(), QSocketNotifier.Type.Read)
        self.notifier.activated.connect(self._readable)
        self.writable = QSocketNotifier(process.commands.fileno(), QSocketNotifier.Type.Write)
        self.writable.activated.connect(self._flush)
        self.watchdog = QTimer(singleShot=True)
        self.watchdog.timeout.connect(self.wait)  # past the Stop's deadline: the process is lost
        self.timer = QTimer()
        self.timer.timeout.connect(self.sync)
        self.timer.start(self.SYNC_MS)
        if not process.send_bytes(spec):
            QTimer.singleShot(0, self._lost)
        self._flush()

    # -- to the process ------------------------------------------------------------------------
    def _command(self, name: str, *args) -> None:
        if name in CONTROLS:  # only these change the process's pause: its messages count them
            self.sync()  # a speed set just before a Step or a Resume applies to it
            self._seq += 1
        if name == "stop" and self._stop_deadline is None:
            self._stop_deadline = time.monotonic() + self.LOST_AFTER_S
            self.watchdog.start(round(self.LOST_AFTER_S * 1000))
        self.process.send(("cmd", self.run, self._seq, name, args))
        self._flush()

    def _flush(self) -> None:
        """Write the commands the pipe could not take yet; the notifier calls again while some wait."""
        if not self.finished:
            self.process.commands.flush()
            self.writable.setEnabled(self.process.commands.pending)

    def _wanted(self) -> tuple:
        load = self.job.gui_load
        return pace_state(self.job.pace), units_state(self.job.units_wanted), 0.0 if load is None else load.share

    def sync(self) -> None:
        """Send what changed of the pace (the speed slider), the units wanted (the network view) and the load."""
        wanted = self._wanted()
        for name, old, new in zip(("pace", "units", "load"), self._synced, wanted, strict=True):
            if new != old and new is not None:
                self._command(name, *(new if isinstance(new, tuple) else (new,)))
        self._synced = wanted

    # -- from the process ----------------------------------------------------------------------
    def _readable(self) -> None:
        # One message a call (the notifier fires again while the pipe has more): other events, such
        # as the work a view posts for after a message, come between them as between queued signals.
        if not self.finished:
            self._read_one()

    def _read_one(self) -> None:
        try:
            data = self.process.messages.take()
            if data is None:  # a part of a message: the rest follows
                return
            run, acked, paused, applied, message = loads(data)
        except (EOFError, OSError):
            self._lost()
            return
        except Exception:  # a message this side cannot read: the run cannot go on
            self._lost(traceback.format_exc())
            return
        if run != self.run:
            self.process.ready |= message == READY
            return  # or a message of an earlier run (none come after its Finished)
        job = self.job
        if applied and job.live is not None:  # before the Progress: the session records them with it
            job.live.add_applied(applied)
            job.optimizer.eta = applied[-1][1]
        if acked == self._seq:  # no command on its way: the process's pause is the run's
            job.control.mirror(paused)
        if isinstance(message, Handback):
            try:
                message.apply(job.model, job.optimizer)
            except Exception:  # weights that do not fit: the run cannot end well
                self._lost(traceback.format_exc())
            return
        if isinstance(message, Finished):
            self.finished = True
            self.watchdog.stop()
        elif isinstance(message, Progress):
            if message.snapshots:
                self._kept = message.snapshots[-1][0]
            if job.gui_load is not None:
                job.gui_load.measure()
        try:
            self._deliver(message)
        except Exception:  # a view's error: reported as a queued signal's would be, and the next messages come
            sys.excepthook(*sys.exc_info())

    def _lost(self, details: str = "", what: str = "") -> None:
        """The process ended mid-run (killed, out of memory), did not answer (``what`` says so), or sent what
        cannot be read: it is killed and reaped, the run fails (the session takes the weights back to its
        last snapshot), and the next run starts a new process (or trains in a thread, if this one ended
        before it was ever ready)."""
        if self.finished:
            return
        self.finished = True
        self.watchdog.stop()
        self.notifier.setEnabled(False)
        self.writable.setEnabled(False)
        self.process.kill()
        text = (f"The training process {what or 'ended unexpectedly'}. The network keeps its weights after epoch "
                f"{self._kept}, the last the timeline holds.")
        if not self.process.ready and not what:  # it never worked here: the next runs train in a thread instead
            training_process.unusable = True
            text += " The training process could not start: from now on the runs train in a thread of the window."
        self._deliver(Finished("failed", text + "\n" + details, self._kept))

    def wait(self, milliseconds: int | None = None) -> bool:
        """Read and deliver the run's messages until its Finished; True once it came. At most ``milliseconds``;
        with no limit, until the Stop's deadline (``LOST_AFTER_S`` after it was sent, or from now if none
        was), past which the process is lost and the run fails."""
        now = time.monotonic()
        if milliseconds is not None:
            deadline = now + milliseconds / 1000
        else:
            deadline = self._stop_deadline if self._stop_deadline is not None else now + self.LOST_AFTER_S
        while not self.finished:
            left = deadline - time.monotonic()
            if left <= 0:
                if milliseconds is not None:
                    return False
                self._lost(what=f"did not answer within {self.LOST_AFTER_S:g} s (stopped, hung, or still "
                           "starting on a busy machine), so it was ended")
            elif self.process.poll(left):
                self._read_one()
        return True

    def close(self) -> None:
        """Forget the run once it has finished (the session calls this after Finished)."""
        self.timer.stop()
        self.watchdog.stop()
        for notifier, slot in ((self.notifier, self._readable), (self.writable, self._flush)):
            notifier.setEnabled(False)
            notifier.activated.disconnect(slot)
        self.watchdog.timeout.disconnect(self.wait)
        self.job.control.forward = None
        if self.job.live is not None:
            self.job.live.forward = None
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
        spec = dumps(("job", job_spec(job, run, 0.0 if job.gui_load is None else job.gui_load.share)))
    except Exception:  # a network the process cannot rebuild (a module of the user's own): train here
        return QtRun(job, deliver)
    return ProcessRun(job, deliver, process, spec, run)


def prewarm() -> None:
    """Start the training process ahead of the first Run (it takes over a second to be ready)."""
    training_process.shared()
