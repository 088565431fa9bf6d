"""The training worker: a QObject that lives in a QThread and drives minidl's one loop.

It owns the model while it trains and sends the GUI copies only (floats, numpy
arrays), never a tensor. It throttles itself by time: at most ``PROGRESS_HZ`` progress
messages and ``IMAGE_HZ`` boundary images a second, and boundary images take at most
a tenth of its time, so fast training cannot flood the event queue and slow
training still shows every epoch.
"""

from __future__ import annotations

import math
import time
import traceback

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot

import minidl

from . import boundary

# Every message costs the GUI thread time holding the GIL, and so the training thread: on the
# report's network (the worst case: its training is Python-bound) a run went at 0.72 of its
# headless speed with 20 messages and 10 images a second; with these rates and the cheaper
# frames of plots.py it goes at 0.85-0.89 (benchmarks/bench_gui.py).
PROGRESS_HZ = 10
IMAGE_HZ = 5
IMAGE_SHARE = 0.1
# The test loss is sampled more often than the GUI is told (the samples travel with the next
# message), so the test curve keeps its shape; it costs no GUI time, and at most 5 % of the
# worker's (about 0.15 ms a sample on the report's network).
TEST_HZ = 60
TEST_SHARE = 0.05


class TrainingWorker(QObject):
    """Trains ``model`` on ``data`` for ``epochs`` epochs from ``first_epoch``.

    Signals:
        progress(dict): ``epoch``, ``train_losses`` (numpy, the epochs since the last
            message), ``test_epochs`` and ``test_losses`` (numpy, the test loss sampled at
            some of those epochs), and at ``epoch``: ``test_loss``, ``train_error``, ``test_error``.
        image(object): a numpy boundary image.
        finished(str, str): reason (``completed``, ``stopped``, ``diverged``, ``failed``)
            and a sentence for the status bar (or the traceback when it failed).
    """

    progress = Signal(dict)
    image = Signal(object)
    finished = Signal(str, str)

    def __init__(self, model, data, optimizer, epochs: int, batch_size: int, first_epoch: int,
                 grid: torch.Tensor, control: minidl.TrainingControl):
        super().__init__()
        self.model, self.data, self.optimizer = model, data, optimizer
        self.epochs, self.batch_size, self.first_epoch = epochs, batch_size, first_epoch
        self.imager, self.control = boundary.Imager(model, grid), control
        self._pending: list[float] = []
        self._test_epochs: list[int] = []
        self._test_losses: list[float] = []
        self._last_epoch = first_epoch - 1
        self._next_progress = self._next_image = self._next_test = 0.0  # set again when the run starts
        control.on_wait = self._flush  # show everything before the loop blocks on Pause

    @Slot()
    def run(self) -> None:
        # The images and metrics this thread computes are small products, and the GUI thread
        # needs the other core: one intra-op thread (fit picks its own count per epoch).
        torch.set_num_threads(1)
        # The first message after one message interval, not after the first epoch: a fast run's
        # first frame then already shows a tenth of it, and the plots' ranges settle at once.
        self._next_progress = self._next_image = time.perf_counter() + 1 / PROGRESS_HZ
        try:
            reason, message = self._train()
        except Exception:  # shown to the user in a dialog, never left to kill the thread
            reason, message = "failed", traceback.format_exc()
        self.control.on_wait = None
        self.finished.emit(reason, message)

    def _train(self) -> tuple[str, str]:
        data, last = self.data, self.first_epoch + self.epochs - 1
        records = minidl.fit(self.model, data.X_train, data.y_train, self.epochs, self.batch_size,
                             self.optimizer, self.control, self.first_epoch)
        for record in records:
            if record.diverged:
                self._flush(force_image=False)
                return "diverged", (
                    f"Training diverged at epoch {record.epoch}: the loss became "
                    f"{'infinite' if math.isinf(record.loss) else 'NaN'}. The plots show the last finite "
                    f"state. Try a smaller step size (eta is {self.optimizer.eta:g}; try "
                    f"{self.optimizer.eta / 10:g}), then press Run: it starts again from fresh weights.")
            self._pending.append(record.loss)
            self._last_epoch = record.epoch
            now = time.perf_counter()
            due = now >= self._next_progress or record.epoch == last or self.control.paused
            if now >= self._next_test and not due:  # a flush takes its own sample, in evaluate
                self._sample_test_loss(now)
            if due:
                self._flush(force_image=record.epoch == last or self.control.paused)
        if self.control.stopped:
            self._flush(force_image=True)
            return "stopped", f"Stopped after epoch {self._last_epoch}."
        return "completed", f"Trained {self._last_epoch} epochs."

    def _flush(self, force_image: bool = True) -> None:
        """Send what the GUI has not seen yet: losses, metrics and (when due) an image."""
        # The image is computed before anything is sent: while the GUI thread draws a message it
        # holds the GIL, and each of the image's tensor operations would wait for it.
        now = time.perf_counter()
        picture = None
        if force_image or now >= self._next_image:
            picture = self.imager()
            spent = time.perf_counter() - now
            self._next_image = now + max(1 / IMAGE_HZ, spent / IMAGE_SHARE)
        if self._pending:
            metrics = self.data.evaluate(self.model)
            if metrics["test_loss"] is not None and self._test_epochs[-1:] != [self._last_epoch]:
                self._test_epochs.append(self._last_epoch)
                self._test_losses.append(metrics["test_loss"])
            self.progress.emit({"epoch": self._last_epoch, "train_losses": np.asarray(self._pending, np.float32),
                                "test_epochs": np.asarray(self._test_epochs, np.int64),
                                "test_losses": np.asarray(self._test_losses, np.float32), **metrics})
            self._pending, self._test_epochs, self._test_losses = [], [], []
            self._next_progress = now + 1 / PROGRESS_HZ
        if picture is not None and np.isfinite(picture).all():
            self.image.emit(picture)

    def _sample_test_loss(self, now: float) -> None:
        loss = self.data.test_loss(self.model)
        if math.isfinite(loss):
            self._test_epochs.append(self._last_epoch)
            self._test_losses.append(loss)
        self._next_test = now + max(1 / TEST_HZ, (time.perf_counter() - now) / TEST_SHARE)
