"""The one training loop of the code base, as a generator of per-epoch records.

``Sequential.train`` drives it to the end; the playground's worker drives it from a
QThread and steers it through a :class:`TrainingControl` (pause, single epoch, single
mini-batch, stop), which the loop consults between mini-batches. A control can also ask to
see each mini-batch (:class:`BatchRecord`): its loss, and on request every number of its step.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from . import checks
from .plan import nonfinite_parameters, sgd_step, threads_for, training_mode


class DivergedError(ValueError):
    """The loss became NaN or infinite; ``history`` holds the per-epoch losses up to it."""

    def __init__(self, message: str, history: list[float]):
        super().__init__(message)
        self.history = history


@dataclass(frozen=True, slots=True)
class EpochRecord:
    """One finished epoch. ``loss`` is the epoch's summed loss divided by the number of
    samples, so it does not depend on the batch size; ``diverged`` is true when the loss or
    a parameter is NaN or infinite (the loop ends after such a record)."""

    epoch: int
    loss: float
    diverged: bool = False

    def __post_init__(self):
        if not math.isfinite(self.loss):  # a non-finite loss is a divergence, whoever made the record
            object.__setattr__(self, "diverged", True)


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """One trained mini-batch, for a :class:`TrainingControl` that observes batches.

    ``index`` is 0-based in the epoch's order; ``loss`` is the batch's summed loss at the
    weights it was trained on (before its step). With ``trace`` asked for, the rest holds
    copies of every number of the step: the batch, the loss after the step, and per
    parameter (``model.parameters()`` order) its value before, its gradient and its value after.
    """

    epoch: int
    index: int
    loss: float
    X: torch.Tensor | None = None
    y: torch.Tensor | None = None
    loss_after: float | None = None
    parameters_before: list[torch.Tensor] | None = None
    gradients: list[torch.Tensor] | None = None
    parameters_after: list[torch.Tensor] | None = None


class TrainingControl:
    """Thread-safe switches for a running :func:`fit`: pause, resume, step one epoch or a
    number of mini-batches, stop; and an optional observer of every mini-batch."""

    def __init__(self, paused: bool = False):
        self._changed = threading.Condition()
        self._paused = paused
        self._stopped = False
        self._epochs_to_step = 0
        self._batches_to_step = 0
        self._on_batch: Callable[[BatchRecord], None] | None = None
        self.trace = False
        self.on_wait = None  # called in the training thread just before it blocks on a pause
        # True when the loop must look at this control before a batch: paused, stopped, stepping
        # batches or observing them. One attribute read per batch keeps the plain loop fast.
        self.attention = paused

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
        self._set(paused=False, epochs_to_step=epochs, batches_to_step=0)

    def step_batches(self, batches: int = 1) -> None:
        """Run ``batches`` more mini-batches (across an epoch's end if need be), then pause."""
        self._set(paused=False, batches_to_step=batches, epochs_to_step=0)

    def observe(self, on_batch: Callable[[BatchRecord], None] | None, trace: bool = False) -> None:
        """Call ``on_batch(record)`` in the training thread after every mini-batch (``None``: stop
        observing); ``trace``: fill the record's copies of the batch, parameters and gradients."""
        with self._changed:
            self._on_batch, self.trace = on_batch, trace
            self._update()

    def stop(self) -> None:
        self._set(stopped=True)

    def _set(self, **state) -> None:
        with self._changed:
            for key, value in state.items():
                setattr(self, "_" + key, value)
            self._update()
            self._changed.notify_all()

    def _update(self) -> None:
        self.attention = self._paused or self._stopped or self._batches_to_step > 0 or self._on_batch is not None

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
                self._update()

    def batch_finished(self, record: BatchRecord) -> None:
        """Called by the loop after an observed or stepped batch: tell the observer, count the step."""
        if self._on_batch is not None:
            self._on_batch(record)
        with self._changed:
            if self._batches_to_step > 0:
                self._batches_to_step -= 1
                self._paused = self._batches_to_step == 0
                self._update()


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
    checks.finite(y, "y")  # and X, in model.check_input
    check_targets = getattr(model.loss, "check_targets", None)
    if check_targets is not None:  # what a loss asks of the targets (CrossEntropy: probability rows)
        check_targets(y)


def fit(model, X: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, optimizer,
        control: TrainingControl | None = None, first_epoch: int = 1, schedule=None) -> Iterator[EpochRecord]:
    """Train ``model`` in place: ``epochs`` passes over ``(X, y)`` in order, in mini-batches.

    Yields an :class:`EpochRecord` after each epoch. Stops early, between mini-batches,
    when ``control`` is stopped, and after the first epoch whose loss or parameters are not
    finite. ``schedule`` (see :mod:`minidl.schedules`) is asked for each epoch's step-size factor,
    which becomes the optimizer's ``eta_scale``; without one, the factor is 1. The speed (buffers,
    flat parameters, threads, inference mode) comes from the model's training plans,
    :mod:`minidl.plan`; the caller's thread count is back in force whenever the loop yields or
    waits on ``control``.

    Shape:
        X ``(N, in_features)``, y ``(N, out_features)``
    """
    if model.loss is None:
        raise ValueError("no loss is set: call model.setLoss(MSE()) before training")
    checks.integer("epochs", epochs, 0)
    checks.integer("mini_batch_size", batch_size, 1)
    checks.optimizer(optimizer)
    check_data(model, X, y)
    if schedule is None and hasattr(optimizer, "eta_scale"):
        optimizer.eta_scale = 1.0
    elif schedule is not None and not callable(getattr(schedule, "factor", None)):
        raise ValueError(f"the schedule must be a schedule such as minidl.schedules.Cosine(100), got {schedule!r}")
    X, y = model.private(X), model.private(y)  # never a tensor the model writes to
    control = control or TrainingControl()
    n = X.shape[0]
    # At most two batch shapes (a smaller last one), so at most two plans, fetched once; each
    # batch with its plan and the plan's two passes as bound methods (no attribute lookups in the loop).
    batches = []
    for s in range(0, n, batch_size):
        plan = model.plan(X[s:s + batch_size], inference=True)
        batches.append((plan, plan.forward, plan.backward, X[s:s + batch_size], y[s:s + batch_size]))
    threads = threads_for(model, min(batch_size, n))
    total = X.new_zeros(())
    for epoch in range(first_epoch, first_epoch + epochs):
        total.zero_()
        if schedule is not None:
            optimizer.eta_scale = checks.schedule_factor(schedule, epoch)
        step, packed = sgd_step(model, optimizer)  # once per epoch: it checks where the parameters live
        done = 0
        while done < len(batches):
            if not control.proceed():  # blocks while paused, outside the context below
                return
            with training_mode(threads):
                for plan, forward, backward, xb, yb in batches[done:]:
                    if control.attention:
                        if control.halted:  # paused or stopped: back to proceed() above
                            break
                        control.batch_finished(_observed_step(model, plan, step, xb, yb, total,
                                                              epoch, done, control.trace))
                        done += 1
                        continue
                    backward(forward(xb), yb, total)  # the backward also adds the batch's loss to total
                    step()
                    done += 1
        loss = total.item() / n  # the one host sync per epoch, with the next line's
        record = EpochRecord(epoch, loss, nonfinite_parameters(model, packed).item() != 0)
        control.epoch_finished()
        yield record
        if record.diverged:
            return


def _observed_step(model, plan, step, X, y, total, epoch: int, index: int, trace: bool) -> BatchRecord:
    """One mini-batch exactly as the plain loop trains it, with its loss (and, traced, copies of
    every number) read out: the same passes, and the batch's loss added to ``total`` as 0 + loss."""
    before = _copies(model.parameters()) if trace else None
    loss = total.new_zeros(())
    plan.backward(plan.forward(X), y, loss)
    total.add_(loss)
    gradients = _copies(model.grads()) if trace else None
    step()
    if not trace:
        return BatchRecord(epoch, index, loss.item())
    after = plan.loss.forward(plan.forward(X), y).item()  # the plan's own copy of the loss
    return BatchRecord(epoch, index, loss.item(), *_copies([X, y]), after, before, gradients,
                       _copies(model.parameters()))


def _copies(tensors) -> list[torch.Tensor]:
    """Copies the caller may use anywhere, autograd included (not inference tensors)."""
    with torch.inference_mode(False), torch.no_grad():
        return [t.clone() for t in tensors]
