"""The one training loop of the code base, as a generator of per-epoch records.

``Sequential.train`` drives it to the end; the playground's worker drives it from a
QThread and steers it through a :class:`TrainingControl` (pause, single epoch, stop),
which the loop consults between mini-batches.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch


class DivergedError(ValueError):
    """The loss became NaN or infinite; ``history`` holds the per-epoch losses up to it."""

    def __init__(self, message: str, history: list[float]):
        super().__init__(message)
        self.history = history


@dataclass(frozen=True, slots=True)
class EpochRecord:
    """One finished epoch. ``loss`` is the epoch's summed loss divided by the number of
    samples, so it does not depend on the batch size; ``diverged`` is true when it is
    NaN or infinite (the loop ends after such a record)."""

    epoch: int
    loss: float

    @property
    def diverged(self) -> bool:
        return not math.isfinite(self.loss)


class TrainingControl:
    """Thread-safe switches for a running :func:`fit`: pause, resume, step one epoch, stop."""

    def __init__(self, paused: bool = False):
        self._changed = threading.Condition()
        self._paused = paused
        self._stopped = False
        self._epochs_to_step = 0
        self.on_wait = None  # called in the training thread just before it blocks on a pause

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def pause(self) -> None:
        self._set(paused=True)

    def resume(self) -> None:
        self._set(paused=False, epochs_to_step=0)

    def step(self, epochs: int = 1) -> None:
        """Run ``epochs`` more epochs, then pause."""
        self._set(paused=False, epochs_to_step=epochs)

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def _set(self, **state) -> None:
        with self._changed:
            for key, value in state.items():
                setattr(self, "_" + key, value)
            self._changed.notify_all()

    @property
    def halted(self) -> bool:
        """Paused or stopped: the loop must call :meth:`proceed` before its next batch."""
        return self._paused or self._stopped

    def proceed(self) -> bool:
        """Block while paused; return False once stopped. Called between mini-batches."""
        if not (self._paused or self._stopped):  # the lock-free fast path
            return True
        if self._paused and self.on_wait is not None:
            self.on_wait()  # e.g. the playground shows the last epochs before it waits
        with self._changed:
            while self._paused and not self._stopped:
                self._changed.wait()
            return not self._stopped

    def epoch_finished(self) -> None:
        with self._changed:
            if self._epochs_to_step > 0:
                self._epochs_to_step -= 1
                self._paused = self._epochs_to_step == 0


def check_data(model, X, y) -> None:
    """Raise ``ValueError`` with a sentence unless ``X`` and ``y`` fit ``model``."""
    model.check_input(X, "X")
    if not isinstance(y, torch.Tensor) or y.dim() != 2 or y.shape != (X.shape[0], model.out_features):
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(
            f"the targets y must have shape ({X.shape[0]}, {model.out_features}) to match X "
            f"and the model's output, got {got}; encode labels with minidl.data.one_hot"
        )
    if y.dtype != X.dtype or y.device != X.device:
        raise ValueError(f"the targets y must be {X.dtype} on {X.device} like X, got {y.dtype} on {y.device}")
    check_finite(y, "y")  # and X, in model.check_input


def check_finite(t: torch.Tensor, name: str) -> None:
    """Raise ``ValueError`` if the float tensor ``t`` holds a NaN or an infinity (one host sync)."""
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop those rows first")


def check_count(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}")


def fit(model, X: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, optimizer,
        control: TrainingControl | None = None, first_epoch: int = 1) -> Iterator[EpochRecord]:
    """Train ``model`` in place: ``epochs`` passes over ``(X, y)`` in order, in mini-batches.

    Yields an :class:`EpochRecord` after each epoch. Stops early, between mini-batches,
    when ``control`` is stopped, and after the first epoch whose loss is not finite.
    On the CPU the mini-batches run with :func:`threads_for` intra-op threads; the
    caller's setting is back in force whenever the loop yields or waits on ``control``.

    Shape:
        X ``(N, in_features)``, y ``(N, out_features)``
    """
    if model.loss is None:
        raise ValueError("no loss is set: call model.setLoss(MSE()) before training")
    check_count("epochs", epochs, 0)
    check_count("mini_batch_size", batch_size, 1)
    check_data(model, X, y)
    control = control or TrainingControl()
    n = X.shape[0]
    batches = [(X[s:s + batch_size], y[s:s + batch_size]) for s in range(0, n, batch_size)]
    threads = threads_for(model, min(batch_size, n))
    forward, backward, step = model.forward_unchecked, model.backward_unchecked, optimizer.step
    total = X.new_zeros(())
    for epoch in range(first_epoch, first_epoch + epochs):
        total.zero_()
        done = 0
        while done < len(batches):
            if not control.proceed():  # blocks while paused, outside the context below
                return
            # inference_mode rather than no_grad: it skips autograd's bookkeeping in every op,
            # about 6 % of a small step. It is entered per epoch, never around the yield: a
            # generator that yields inside a context leaves it in force in the caller's code.
            with torch.inference_mode(), intra_op_threads(threads):
                for xb, yb in batches[done:]:
                    if control.halted:  # paused or stopped: back to proceed() above
                        break
                    forward(xb)
                    step(model, backward(yb, total))  # backward also adds the batch's loss to total
                    done += 1
        record = EpochRecord(epoch, total.item() / n)  # the one host sync per epoch
        control.epoch_finished()
        yield record
        if record.diverged:
            return


SMALL_PRODUCT = 1 << 20  # multiply-adds


def threads_for(model, batch_size: int) -> int:
    """The intra-op thread count :func:`fit` trains ``model`` with: one thread when every
    matrix product of a step has fewer than ``SMALL_PRODUCT`` multiply-adds, else the
    caller's count (``torch.get_num_threads()``); never more than the caller's.

    A small product is over before a second thread has done its share: on our 2-core
    machines a (100, 25) x (25, 25) product takes about 6 us on two threads against 3.6 on
    one, and its timings swing; from about a million multiply-adds two threads win, and
    the 1024-wide layers of ``benchmarks/bench_engine.py`` need both.
    """
    caller = torch.get_num_threads()
    if model.device.type != "cpu":
        return caller
    largest = max((batch_size * p.numel() for p in model.parameters() if p.dim() == 2), default=0)
    return 1 if largest < SMALL_PRODUCT else caller


@contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch intra-op threads, then restore the caller's count."""
    before = torch.get_num_threads()
    if count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
