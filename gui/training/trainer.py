"""One run of the playground, driven in the training thread; free of Qt so it can be tested alone.

The :class:`Trainer` owns the model while it trains and hands out copies only, as the typed
messages of :mod:`gui.training.messages`, through a ``send`` callable (the Qt worker emits a signal;
a test collects them in a list). It throttles itself by time, not by epoch, as the job's
:class:`~gui.training.job.TrainerConfig` says, and reads its commands (pause, eta, pace, units, the
GUI's load) from the job's :class:`~gui.training.control.RunControl`.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Callable

import numpy as np
import torch

import minidl
from gui.model import boundary, hand_edits, inside
from gui.model.pace import wait_until
from gui.model.timeline import flatten, parameter_order
from gui.model.weights import load_flat
from gui.training.job import Job
from gui.training.messages import BatchLosses, BatchStepped, Finished, Frame, Metrics, Progress
from minidl import architecture
from minidl.plan import intra_op_threads, threads_for


class Trainer:
    """Runs ``job`` and reports through ``send``; :meth:`run` always ends with a :class:`Finished`."""

    def __init__(self, job: Job, send: Callable[[object], None]):
        self.job, self.send, self.config = job, send, job.config
        self.imager = boundary.Imager(job.model, job.grid)
        # The test loss (up to ``test_hz`` a second) and the metrics through kept buffers too: fresh ones
        # made every sample slowed the training itself by 2 % (their pages, then the cache it lost).
        self._passes: dict[str, boundary.KeptPass] = {}  # made at their first use, by _outputs
        self._first_pending = job.first_epoch
        self._pending: list[float] = []
        self._test_epochs: list[int] = []
        self._test_losses: list[float] = []
        self._snapshots: list[tuple[int, torch.Tensor, bool]] = []
        self._last_epoch = self._pinned = job.first_epoch - 1
        self._last_flat = flatten(job.model.parameters())  # the weights at the end of the last epoch
        self._order = (None, None)  # (packed parameters, the index that reads them in parameter order)
        self._next_progress = self._next_image = self._next_test = self._next_metrics = 0.0  # set at the start
        self._first_test = True
        self._next_test_epoch = job.first_epoch  # the next of the run's epochs 1, 2, 3, 5, 8, ... (test_growth)
        size = sum(p.numel() for p in job.model.parameters())
        heavy = job.grid.shape[0] * size > self.config.heavy
        self._chunk = max(16, int(self.config.chunk // size)) if heavy else job.grid.shape[0]
        # The views' passes get the thread count the training's batches get: one for a small
        # network, which leaves the other core to the GUI thread (a second intra-op thread's
        # OpenMP workers spin after each product and cost both threads 5 % of the run).
        self._threads = threads_for(job.model, job.batch_size)
        job.control.on_wait = self._pausing  # show everything before the loop blocks on Pause
        job.control.edit_sink = self._edit
        self._batches = 0  # mini-batches an epoch, counted when batches are first observed
        self._observing = False
        self._mark: float | None = None  # when the last paced epoch or batch was shown
        self._batch_positions: list[float] = []
        self._batch_losses: list[float] = []
        self._watch_batches()

    def run(self) -> None:
        # The first message after one interval, not after the first epoch: a fast run's first
        # frame then already shows a tenth of it, and the plots' ranges settle at once.
        self._next_progress = self._next_image = time.perf_counter() + 1 / self.config.progress_hz
        try:
            finished = self._train()
        except Exception:  # shown to the user in a dialog, never left to kill the thread
            finished = Finished("failed", traceback.format_exc(), self._last_epoch)
        self.job.control.on_wait = self.job.control.edit_sink = None
        self._send_batch_step(image=False)
        self.job.control.batch_sink = None  # the job outlives the run in the session: it must not keep the worker
        self._send_batches()
        self.send(finished)

    def _train(self) -> Finished:
        job = self.job
        last = job.first_epoch + job.epochs - 1
        records = minidl.fit(job.model, job.data.X_train, job.data.y_train, job.epochs, job.batch_size,
                             job.optimizer, job.control, job.first_epoch,
                             **({} if job.schedule is None else {"schedule": job.schedule}))
        self._observe()
        for record in records:
            if record.diverged:
                self._restore_last_epoch()  # the model keeps the last finite weights
                self._flush(image=False, pin=True)
                what = ("some weights became infinite or NaN" if math.isfinite(record.loss)
                        else f"the loss became {'infinite' if math.isinf(record.loss) else 'NaN'}")
                return Finished("diverged", (
                    f"Training diverged at epoch {record.epoch}: {what}. The plots show the last finite "
                    f"state (epoch {self._last_epoch}). Try a smaller step size (eta is {job.optimizer.eta:g}; "
                    f"try {job.optimizer.eta / 10:g}), then press Run: it starts again from fresh weights."),
                    self._last_epoch)
            self._pending.append(record.loss)
            self._last_epoch = record.epoch
            self._remember_epoch()
            if record.epoch == last or job.snapshot_wanted(record.epoch):
                self._snapshots.append((record.epoch, self._last_flat, record.epoch == last))
            now = time.perf_counter()
            paced = job.control.pace.paced  # a class's speed: every epoch is drawn
            due = now >= self._next_progress or record.epoch == last or job.control.paused or paced
            if (now >= self._next_test or record.epoch >= self._next_test_epoch) and not due:
                # a flush takes its own sample, in its metrics
                self._sample_test_loss(now)
            if due:
                self._flush(image=record.epoch == last or job.control.paused or paced or None,
                            pin=record.epoch == last or job.control.paused)
            self._keep_pace()
        if job.control.stopped:
            # A stop lands between mini-batches: the model goes back to the end of its last whole
            # epoch, so the weights kept always match the history. No image or metrics here: for a
            # wide network they take seconds, and Stop waits for this thread (the window asks later).
            self._restore_last_epoch()
            self._flush(image=False, metrics=False, pin=True)
            return Finished("stopped", f"Stopped after epoch {self._last_epoch}.", self._last_epoch)
        return Finished("completed", f"Trained {self._last_epoch} epochs.", self._last_epoch)

    # -- a class's speed (gui.model.pace) -----------------------------------------------------------
    def _observe(self) -> None:
        """Observe the mini-batches only while the pace asks for them: the plain loop stays fast."""
        wanted = self.job.control.pace.observing
        if self.job.control.trace:
            return  # a batch step is armed (Session.step_batch): its observer goes first, then ours is back
        if wanted != self._observing:
            self._observing = wanted
            self.job.control.observe(self._on_batch if wanted else None)

    def _interrupted(self) -> bool:
        return self.job.control.stopped or self.job.control.paused

    def _wait(self, interval: float) -> None:
        """Wait until ``interval`` after the last thing shown; a Stop or a Pause ends the wait."""
        now = time.perf_counter()
        wait_until((self._mark or now) + interval, self._interrupted)
        self._mark = None if self._interrupted() else time.perf_counter()

    def _keep_pace(self) -> None:
        pace = self.job.control.pace
        self._observe()
        if pace.paced and not pace.per_batch:  # per batch, the batches wait (_on_batch)
            self._wait(1 / pace.epochs_per_second)

    def _on_batch(self, record: minidl.BatchRecord) -> None:
        """After each mini-batch, in the training thread: keep its loss; per batch, show its update."""
        pace, size, n = self.job.control.pace, self.job.batch_size, self.job.data.X_train.shape[0]
        self._batches = self._batches or -(-n // size)
        points = min(size, n - record.index * size)
        if pace.batch_losses:
            self._batch_positions.append(record.epoch - 1 + (record.index + 1) / self._batches)
            self._batch_losses.append(record.loss / points)
        if pace.per_batch and not self.job.control.stopped:
            self._send_batches()
            # Not the imager: its kept buffers would be made here, inside the loop's inference mode,
            # and could not be written outside it. A fresh pass costs little at this speed.
            out = self._outputs(self.job.grid)
            picture = None if out is None else boundary.difference(out, self.imager.resolution)
            if picture is not None and np.isfinite(picture).all():
                self.send(Frame(record.epoch, picture))
            self._wait(1 / (pace.epochs_per_second * self._batches))

    def _send_batches(self) -> None:
        if self._batch_losses:
            self.send(BatchLosses(np.asarray(self._batch_positions), np.asarray(self._batch_losses, np.float32)))
            self._batch_positions, self._batch_losses = [], []

    def _pausing(self) -> None:
        flushed = bool(self._pending or self._pinned != self._last_epoch)
        if flushed:  # a Step's pause was sent with its epoch
            self._flush(image=True, pin=True)
        self._send_batch_step(image=not flushed)

    # -- batch steps (Session.step_batch) ---------------------------------------------------
    def _watch_batches(self) -> None:
        self._stepped: minidl.BatchRecord | None = None
        self._units: np.ndarray | None = None
        self._units_step = 1
        self._columns = inside.columns(architecture.describe(self.job.model))
        self.job.control.batch_sink = self._batch_stepped

    def _batch_stepped(self, record: minidl.BatchRecord) -> None:
        """Called by fit after a traced batch: keep it for the pause that follows, and observe as
        before it (the pace's batch losses, or nothing: a plain run keeps fit's fast path)."""
        self._stepped = record
        if self._observing:
            self._on_batch(record)  # its loss belongs on the per-batch curve too
        self.job.control.observe(self._on_batch if self._observing else None)

    def _send_batch_step(self, image: bool) -> None:
        """Send the traced batch (and, mid-epoch, the boundary after its step) before the loop waits."""
        if self._stepped is None:
            return
        record, self._stepped = self._stepped, None
        picture = self._image() if image else None
        if picture is not None and np.isfinite(picture).all():
            self.send(Frame(self._last_epoch, picture, self._units, self._units_step))
        control = self.job.control
        acked = control.acked  # first: a command applied after it shows in ``paused`` only, and is ignored
        self.send(BatchStepped(record, self.job.optimizer.eta, acked, control.paused))

    def _remember_epoch(self) -> None:
        """Keep the weights at the end of this epoch as a flat copy in parameter order (what the
        timeline stores): one gather from the model's packed parameters through a kept index, about
        3 us on the report's network (copying parameter by parameter costs 36 us an epoch, 4 % of
        the run)."""
        packed = getattr(self.job.model, "flat", None)
        if packed is None:  # a module that is not written for the plan: nothing packed
            self._last_flat = flatten(self.job.model.parameters())
            return
        if self._order[0] is not packed:
            self._order = (packed, parameter_order(packed))
        self._last_flat = packed.flat_params.index_select(0, self._order[1])

    def _edit(self, edits: list) -> None:
        """Hand edits at an epoch's start (RunControl.proceed): in the model, and in the weights a stop goes
        back to, so that those and the schedule (the edits before this epoch) always agree."""
        hand_edits.apply(self.job.model, edits)
        shapes = [tuple(p.shape) for p in self.job.model.parameters()]
        self._last_flat = hand_edits.edited_flat(self._last_flat, shapes, edits)

    def _restore_last_epoch(self) -> None:
        load_flat(self.job.model, self._last_flat)

    def _flush(self, image: bool | None = None, metrics: bool = True, pin: bool = False) -> None:
        """Send what the GUI has not seen: losses, snapshots, metrics and an image (``None``: when due)."""
        # The image is computed before anything is sent: while the GUI thread draws a message it
        # holds the GIL, and each of the image's tensor operations would wait for it.
        now = time.perf_counter()
        picture = None
        if image or (image is None and now >= self._next_image):
            picture = self._image()
            spent = time.perf_counter() - now
            self._next_image = now + max(self._stretch() / self.config.image_hz, spent / self.config.image_share)
        if pin:
            self._pinned = self._last_epoch
            if self._snapshots and self._snapshots[-1][0] == self._last_epoch:
                self._snapshots[-1] = (self._last_epoch, self._snapshots[-1][1], True)
            else:
                self._snapshots.append((self._last_epoch, self._last_flat, True))
        if self._pending or self._snapshots:
            measured, started = None, time.perf_counter()
            forced = image is True  # the last epoch, or a pause: the numbers a person reads off
            due = metrics and self._pending and (forced or started >= self._next_metrics)
            values = self._metrics() if due else None
            if values is not None:
                spent = time.perf_counter() - started
                self._next_metrics = started + max(1 / self.config.metrics_hz, spent / self.config.metrics_share)
                measured = Metrics(self._last_epoch, **values)
                if values["test_loss"] is not None and self._test_epochs[-1:] != [self._last_epoch]:
                    self._test_epochs.append(self._last_epoch)
                    self._test_losses.append(values["test_loss"])
            control = self.job.control
            acked = control.acked  # first: a command applied after it shows in ``paused`` only, and is ignored
            self.send(Progress(self._first_pending, np.asarray(self._pending, np.float32),
                               np.asarray(self._test_epochs, np.int64), np.asarray(self._test_losses, np.float32),
                               self._snapshots, measured, paused=control.paused, acked=acked,
                               etas=control.take_applied(), edits=control.take_edits()))
            self._first_pending = self._last_epoch + 1
            self._pending, self._test_epochs, self._test_losses, self._snapshots = [], [], [], []
            self._next_progress = now + self._stretch() / self.config.progress_hz
        if picture is not None and np.isfinite(picture).all():
            self.send(Frame(self._last_epoch, picture, self._units, self._units_step))
        self._send_batches()

    def _stretch(self) -> float:
        return self.config.stretch(self.job.control.load)

    def _outputs(self, X: torch.Tensor, kept: str | None = None) -> torch.Tensor | None:
        """The model's outputs for ``X``, in chunks for a wide network; None if a stop came meanwhile.
        ``kept``: ``X`` is that set (``"train"``, ``"test"``), whose kept pass a small network uses."""
        if kept is not None and 0 < X.shape[0] <= self._chunk:
            if kept not in self._passes:
                self._passes[kept] = boundary.KeptPass(self.job.model, X)
            with intra_op_threads(self._threads):
                return self._passes[kept].output()
        chunks = []
        with intra_op_threads(self._threads):
            for start in range(0, X.shape[0], self._chunk):
                if chunks and self.job.control.stopped:
                    return None
                chunks.append(self.job.model.predict(X[start:start + self._chunk]))
        return torch.cat(chunks) if len(chunks) > 1 else chunks[0]

    def _image(self) -> np.ndarray | None:
        self._units = None  # a wide network's frames come without unit outputs
        if not self.config.frames:
            return None
        if self._chunk >= self.job.grid.shape[0]:
            with intra_op_threads(self._threads):
                picture = self.imager()  # buffers kept from frame to frame: cheaper for small networks
                wanted = self.job.control.units
                if wanted.on:  # none while the view is closed; coarse for its thumbnails
                    self._units_step = wanted.step
                    self._units = self._unit_images(self._units_step)
                return picture
        out = self._outputs(self.job.grid)
        return None if out is None else boundary.difference(out, self.imager.resolution)

    def _unit_images(self, step: int) -> np.ndarray:
        """Every column's units from the pass the boundary image just made (one pass, all layers)."""
        return inside.unit_images(self.imager.outputs, self._columns, self.imager.resolution, step)

    def _metrics(self) -> dict | None:
        data = self.job.data
        train_out = self._outputs(data.X_train, "train")
        test_out = None if train_out is None else self._outputs(data.X_test, "test")
        return None if test_out is None else data.metrics(self.job.model, train_out, test_out)

    def _sample_test_loss(self, now: float) -> None:
        if self._chunk < self.job.data.X_test.shape[0]:
            # A wide network's test loss comes with the metrics, within their share of time.
            self._next_test = self._next_test_epoch = math.inf
            return
        X = self.job.data.X_test
        loss = self.job.data.test_loss(self.job.model, self._outputs(X, "test") if X.shape[0] else None)
        if math.isfinite(loss):
            self._test_epochs.append(self._last_epoch)
            self._test_losses.append(loss)
        done = self._last_epoch - self.job.first_epoch + 1
        self._next_test_epoch = self.job.first_epoch - 1 + max(done + 1, math.ceil(done * self.config.test_growth))
        # The first pass of a run makes its tensors (1 ms against 0.2 ms later on the report's network):
        # its cost would keep the next sample 50 ms away, just where the test loss falls fastest.
        spent = 0.0 if self._first_test else time.perf_counter() - now
        self._first_test = False
        self._next_test = now + max(1 / self.config.test_hz, spent / self.config.test_share)
