"""What the training thread tells the session: typed copies, never a live tensor of the model (Qt-free)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass(frozen=True)
class Metrics:
    """Test loss per point and error % of the network at ``epoch`` (None where not finite)."""

    epoch: int
    test_loss: float | None
    train_error: float | None
    test_error: float | None


@dataclass(frozen=True)
class Progress:
    """The epochs trained since the last message.

    ``train_losses[i]`` is the loss of epoch ``first_epoch + i``; ``test_epochs``/``test_losses``
    the test loss sampled at some of them; ``snapshots`` ``(epoch, flat parameters, pinned)``
    copies for the timeline; ``metrics`` of the last epoch when the worker measured them; ``etas`` the
    step sizes taken since the last message, ``(epoch, eta)``; ``edits`` the hand edits made since, ``(epoch,
    [(layer, out, in_, value), ...])`` (:mod:`gui.model.hand_edits`). ``paused`` is the run's pause after
    ``acked`` switches (:data:`gui.training.control.SWITCHES`): it tells the session the run's state
    once the session has sent no switch since.
    """

    first_epoch: int
    train_losses: np.ndarray
    test_epochs: np.ndarray
    test_losses: np.ndarray
    snapshots: list[tuple[int, torch.Tensor, bool]] = field(default_factory=list)
    metrics: Metrics | None = None
    paused: bool = False
    acked: int = 0
    etas: list[tuple[int, float]] = field(default_factory=list)
    edits: list[tuple[int, list]] = field(default_factory=list)


@dataclass(frozen=True)
class Frame:
    """The boundary image (class-1 minus class-0 output, indexed ``[x, y]``; with more than two classes
    ``(res, res, 2)``: the winning class and its margin, see :func:`gui.model.boundary.difference`) after ``epoch``;
    ``units``: every column's unit outputs from the same pass over the grid (:func:`gui.model.inside.unit_images`,
    ``(units, x, y)``), None when the network is too wide to send them, at every ``units_step``-th grid
    point a side (:mod:`gui.model.units_wanted`: coarse for the network view's thumbnails)."""

    epoch: int
    image: np.ndarray
    units: np.ndarray | None = None
    units_step: int = 1


@dataclass(frozen=True)
class BatchStepped:
    """One mini-batch trained by a batch step (:meth:`gui.model.session.Session.step_batch`), traced,
    with the step size it was trained with; ``paused`` and ``acked`` as in :class:`Progress`."""

    record: object  # minidl.BatchRecord
    eta: float
    acked: int = 0
    paused: bool = False


@dataclass(frozen=True)
class Finished:
    """The run ended: ``reason`` is ``completed``, ``stopped``, ``diverged`` or ``failed``; ``text``
    a sentence for the status bar (the traceback when it failed); ``epoch`` the last one trained."""

    reason: str
    text: str
    epoch: int


@dataclass(frozen=True)
class BatchLosses:
    """Mini-batch losses (per point) since the last message, for the optional per-batch curve:
    ``positions[i]`` is ``epoch - 1 + (index + 1) / batches``, so batch ends fall between epochs."""

    positions: np.ndarray
    losses: np.ndarray
