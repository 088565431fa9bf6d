"""How fast a run goes, for a class to follow it (Qt-free; the worker thread reads it live).

A :class:`Pace` is shared by the window (which sets it) and the training thread (which reads it
between epochs and batches: one attribute read, atomic under the GIL). ``epochs_per_second``
None is "max", today's behaviour; otherwise the trainer waits between epochs and draws every
epoch. At ``PER_BATCH_AT`` epochs a second or slower it draws every mini-batch's update too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

SPEEDS = (1, 2, 5, 10, 20, 50, None)  # the slider's stops; None: max
PER_BATCH_AT = 1.0
# The longest single sleep while pacing: a Stop or a Pause is noticed within this.
SLICE = 0.02


@dataclass
class Pace:
    """``epochs_per_second`` (None: as fast as it can); ``batch_losses``: report each batch's loss."""

    epochs_per_second: float | None = None
    batch_losses: bool = False

    @property
    def paced(self) -> bool:
        return self.epochs_per_second is not None

    @property
    def per_batch(self) -> bool:
        """Every mini-batch drawn: a speed of ``PER_BATCH_AT`` epochs a second or slower."""
        return self.epochs_per_second is not None and self.epochs_per_second <= PER_BATCH_AT

    @property
    def observing(self) -> bool:
        """Whether the training loop must report its batches (only then: the plain path stays fast)."""
        return self.batch_losses or self.per_batch

    def set(self, epochs_per_second: float | None) -> None:
        if epochs_per_second is not None:
            epochs_per_second = float(epochs_per_second)
            if not epochs_per_second > 0 or epochs_per_second != epochs_per_second:
                raise ValueError(f"a speed must be a positive number of epochs a second or None (max), "
                                 f"got {epochs_per_second!r}")
        self.epochs_per_second = epochs_per_second


def wait_until(deadline: float, interrupted) -> None:
    """Sleep until ``deadline`` (a ``time.perf_counter()`` value) in slices of at most ``SLICE``,
    returning early once ``interrupted()`` is true (a Stop or a Pause must not wait for the pace)."""
    while not interrupted():
        left = deadline - time.perf_counter()
        if left <= 0:
            return
        time.sleep(min(left, SLICE))


def nearest_stop(epochs_per_second: float | None) -> int:
    """The slider position that shows ``epochs_per_second`` best."""
    if epochs_per_second is None:
        return len(SPEEDS) - 1
    finite = SPEEDS[:-1]
    return min(range(len(finite)), key=lambda i: abs(finite[i] - epochs_per_second))
