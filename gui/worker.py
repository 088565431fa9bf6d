"""The Qt side of a run: the worker object that lives in a QThread, and the runner that starts it.

The worker-object pattern of the Qt docs: a :class:`TrainingWorker` is moved to a QThread and
runs a Qt-free :class:`~gui.trainer.Trainer` there; the trainer's typed messages cross to the
GUI thread as a queued signal and reach the :class:`~gui.session.Session` as plain calls.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QThread, Signal, Slot

from .messages import Progress
from .trainer import GuiLoad, Job, Trainer


class TrainingWorker(QObject):
    """Runs one :class:`Job` in its thread. ``message(object)``: a :mod:`gui.messages` dataclass."""

    message = Signal(object)

    def __init__(self, job: Job):
        super().__init__()
        self.job = job

    @Slot()
    def run(self) -> None:
        # The trainer is made here, in the training thread: even its set-up reads the model.
        Trainer(self.job, self.message.emit).run()
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


def start(job: Job, deliver) -> QtRun:
    """The session's runner: train ``job`` in a new QThread, its messages to ``deliver``."""
    return QtRun(job, deliver)
