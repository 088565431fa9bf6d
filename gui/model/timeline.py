"""The timeline of a run: snapshots of every weight and bias at chosen epochs (Qt-free).

Which epochs are kept:

- every epoch up to ``DENSE_EPOCHS`` (the first epochs are where a boundary changes most);
- after that, the multiples of a power-of-two ``stride``, chosen at the start of each run
  from the epoch it will reach, so that a run holds at most about ``MAX_SNAPSHOTS`` of them
  (a wide network fewer: see below);
- pinned epochs: the last epoch of every run and every pause and stop, whatever the stride (at
  most :data:`MAX_PINS` of them).

Memory: every weight snapshot the session holds shares one budget, :data:`SNAPSHOT_BUDGET`
(:mod:`gui.model.snapshot_budget`). The live timeline may use half of it, :attr:`Timeline.limit`, pins
included, and leaves room there for :data:`PIN_ROOM` pins beside its regular snapshots: past the
limit, the timeline gives up its oldest pins first, then regular snapshots where they lie closest
together, never its newest one (the current weights). A 2-4096-4096-2 network (67 MB a snapshot)
keeps one; a network at minidl's 50 M-parameter limit needs 200 MB for it. A timeline read from a
file is picked with tensor operations and only the snapshots it keeps are copied, so a file of
millions of rows costs no Python object per row.

Powers of two nest, so when a longer run doubles the stride, the snapshots already kept at the
new stride stay and the others are dropped (:meth:`Timeline.thin`). A snapshot is one flat
float tensor, the parameters in :meth:`minidl.Sequential.parameters` order, each flattened
row-major in its logical shape; the report's network (1,427 numbers) needs 5.7 kB a snapshot.
"""

from __future__ import annotations

import bisect
import functools
import heapq
import math

import torch

DENSE_EPOCHS = 200
MAX_SNAPSHOTS = 2000
MAX_PINS = 1000  # past it the oldest pins go, however small the network
PIN_ROOM = 8  # pins the limit holds beside a full set of regular snapshots
# Bytes of every weight snapshot the session holds together (the timeline, its pins, the kept runs' and
# what Undo can bring back). Read when used, so that a test may lower it.
SNAPSHOT_BUDGET = 256 << 20


def timeline_limit() -> int:
    """The bytes a live timeline may hold: half the budget (the kept runs share the other half)."""
    return SNAPSHOT_BUDGET // 2


def flatten(parameters: list[torch.Tensor]) -> torch.Tensor:
    """One flat copy of ``parameters`` (a snapshot)."""
    return torch.cat([p.detach().reshape(-1) for p in parameters])


def snapshot_wanted(epoch: int, dense: int, stride: int) -> bool:
    """Whether a timeline keeps ``epoch`` as a regular snapshot: each epoch up to ``dense``, then each ``stride``-th."""
    return epoch <= dense or epoch % stride == 0


def parameter_order(packed) -> torch.Tensor:
    """The index that reads a model's packed parameters (:class:`minidl.plan.Packed`) in snapshot
    order: ``packed.flat_params.index_select(0, index)`` equals ``flatten(packed.params)``, in one gather."""
    start = packed.flat_params.storage_offset()
    positions = torch.arange(packed.flat_params.numel(), device=packed.flat_params.device)
    return torch.cat([positions.as_strided(p.shape, p.stride(), p.storage_offset() - start).reshape(-1)
                      for p in packed.params])


class Timeline:
    """Snapshots ``epoch -> flat parameters`` of one network architecture.

    ``shapes`` are the parameter shapes (``[(out, in), (out,), ...]``) a snapshot unflattens to;
    ``limit`` the bytes it may hold (:func:`timeline_limit` by default).
    """

    def __init__(self, shapes: list[tuple[int, ...]], limit: int | None = None):
        self.shapes = [tuple(s) for s in shapes]
        self.size = sum(math.prod(s) for s in self.shapes)
        self.limit = timeline_limit() if limit is None else limit
        self._epochs: list[int] = []
        self._flats: dict[int, torch.Tensor] = {}
        self._pinned: set[int] = set()
        self._nbytes = 0
        self.stride = 1
        # How many regular snapshots a run may hold for this network's size, and how many of
        # them go to the first epochs (all of them but one for a network too wide for DENSE_EPOCHS).
        # The limit keeps room for PIN_ROOM pins, and for the two snapshots that the stride's rounding
        # may add to the capacity (at most half the limit goes to that room).
        fits = max(1, self.limit // max(1, self.size * 4))
        self.capacity = max(1, min(MAX_SNAPSHOTS, fits - min(PIN_ROOM + 2, fits // 2)))
        self.dense = min(DENSE_EPOCHS, self.capacity - 1)

    # -- what is kept ----------------------------------------------------------------
    def stride_for(self, last_epoch: int) -> int:
        """The smallest power of two that keeps the epochs after :attr:`dense` up to
        ``last_epoch`` within :attr:`capacity`."""
        spaced = max(1, self.capacity - self.dense)
        stride = 1
        while (last_epoch - self.dense) / stride > spaced:
            stride *= 2
        return stride

    def wanted(self, epoch: int, stride: int | None = None) -> bool:
        """Whether ``epoch`` is a regular snapshot at ``stride`` (the timeline's own by default)."""
        return snapshot_wanted(epoch, self.dense, self.stride if stride is None else stride)

    def rule(self, stride: int) -> functools.partial:
        """:meth:`wanted` at ``stride`` for a run to call: it reads only two numbers, so any thread
        may call it, and it pickles small (the training process gets it, not the snapshots)."""
        return functools.partial(snapshot_wanted, dense=self.dense, stride=stride)

    def thin(self, stride: int) -> None:
        """Use ``stride`` from now on and drop regular snapshots it does not keep (never a pinned one)."""
        self.stride = max(self.stride, stride)
        keep = [e for e in self._epochs if e in self._pinned or self.wanted(e)]
        for epoch in set(self._epochs) - set(keep):
            self._nbytes -= _bytes(self._flats.pop(epoch))
        self._epochs = keep

    def discard(self, epoch: int) -> None:
        """Forget the snapshot at ``epoch`` (pinned or not), if there is one."""
        if epoch in self._flats:
            self._nbytes -= _bytes(self._flats.pop(epoch))
            self._epochs.remove(epoch)
            self._pinned.discard(epoch)

    def _fit(self) -> None:
        """Past :attr:`limit` or :data:`MAX_PINS` pins, give up the oldest pins, then regular snapshots where
        they lie closest together (the dense first epochs go before the spaced ones), never the newest one.
        The snapshots to give up are chosen in one pass, then dropped together."""
        over, pins_over = self._nbytes - self.limit, len(self._pinned) - MAX_PINS
        if (over <= 0 and pins_over <= 0) or len(self._epochs) < 2:
            return
        newest, drop = self._epochs[-1], set()
        for epoch in sorted(self._pinned):
            if epoch == newest or (over <= 0 and pins_over <= 0):
                break
            drop.add(epoch)
            over, pins_over = over - _bytes(self._flats[epoch]), pins_over - 1
        if over > 0:
            drop |= self._closest([e for e in self._epochs if e not in drop], over)
        for epoch in drop:
            self._nbytes -= _bytes(self._flats.pop(epoch))
            self._pinned.discard(epoch)
        self._epochs = [e for e in self._epochs if e not in drop]

    def _closest(self, kept: list[int], over: int) -> set[int]:
        """Epochs of ``kept`` (increasing) whose snapshots free ``over`` bytes: each time the one whose
        neighbours lie closest together, the earlier on a tie, the first of all last and never the newest.
        A heap of the gaps, each refreshed when it is popped after a neighbour went (gaps only grow)."""
        before, after = list(range(-1, len(kept) - 1)), list(range(1, len(kept) + 1))

        def gap(i: int) -> float:
            return kept[after[i]] - (kept[before[i]] if before[i] >= 0 else -math.inf)

        heap = [(gap(i), kept[i], i) for i in range(len(kept) - 1)]
        heapq.heapify(heap)
        drop: set[int] = set()
        while over > 0 and heap:
            stored, epoch, i = heapq.heappop(heap)
            if stored != gap(i):
                heapq.heappush(heap, (gap(i), epoch, i))
                continue
            drop.add(epoch)
            over -= _bytes(self._flats[epoch])
            if before[i] >= 0:
                after[before[i]] = after[i]
            before[after[i]] = before[i]
        return drop

    # -- adding and reading ----------------------------------------------------------
    def add(self, epoch: int, flat: torch.Tensor, pinned: bool = False, check: bool = True) -> bool:
        """Keep ``flat`` as the parameters after ``epoch``; a non-finite one is refused (False).
        ``check=False`` skips that test for weights known to be finite (fresh ones)."""
        if flat.shape != (self.size,):
            raise ValueError(f"a snapshot of this network has {self.size} numbers, got shape {tuple(flat.shape)}")
        if check and not bool(torch.isfinite(flat).all()):
            return False
        self._put(epoch, flat, pinned)
        self._fit()
        return True

    def _put(self, epoch: int, flat: torch.Tensor, pinned: bool) -> None:
        if epoch in self._flats:
            self._nbytes -= _bytes(self._flats[epoch])
        else:
            bisect.insort(self._epochs, epoch)
        self._flats[epoch] = flat
        self._nbytes += _bytes(flat)
        if pinned:
            self._pinned.add(epoch)

    def epochs(self) -> list[int]:
        return list(self._epochs)

    def pinned(self) -> list[int]:
        return sorted(self._pinned)

    def __len__(self) -> int:
        return len(self._epochs)

    @property
    def nbytes(self) -> int:
        """Bytes of its snapshots, pinned ones included."""
        return self._nbytes

    def nearest(self, epoch: int) -> int | None:
        """The snapshot epoch nearest ``epoch`` (the earlier one on a tie); None when empty."""
        if not self._epochs:
            return None
        i = bisect.bisect_left(self._epochs, epoch)
        candidates = self._epochs[max(0, i - 1):i + 1]
        return min(candidates, key=lambda e: (abs(e - epoch), e))

    def at_or_before(self, epoch: int) -> int | None:
        i = bisect.bisect_right(self._epochs, epoch)
        return self._epochs[i - 1] if i else None

    def flat(self, epoch: int) -> torch.Tensor:
        if epoch not in self._flats:
            raise ValueError(f"the timeline has no snapshot at epoch {epoch}; it has {self._describe()}")
        return self._flats[epoch]

    def parameters(self, epoch: int) -> list[torch.Tensor]:
        """The snapshot at ``epoch`` as ``[W0, b0, W1, b1, ...]`` (W of shape ``(out, in)``), copies."""
        flat, out, offset = self.flat(epoch), [], 0
        for shape in self.shapes:
            n = math.prod(shape)
            out.append(flat[offset:offset + n].reshape(shape).clone())
            offset += n
        return out

    def truncate(self, epoch: int) -> None:
        """Forget every snapshot after ``epoch`` (a branch starts there)."""
        cut = bisect.bisect_right(self._epochs, epoch)
        for e in self._epochs[cut:]:
            self._nbytes -= _bytes(self._flats.pop(e))
            self._pinned.discard(e)
        del self._epochs[cut:]

    def _describe(self) -> str:
        if not self._epochs:
            return "none"
        return f"{len(self._epochs)} from epoch {self._epochs[0]} to {self._epochs[-1]}"

    # -- files -----------------------------------------------------------------------
    def to_tensors(self) -> dict[str, torch.Tensor]:
        """``timeline.epochs`` (float64: minidl files hold float tensors) and ``timeline.params``
        ``(snapshots, size)`` float32, and ``timeline.pinned`` (1.0 where pinned)."""
        if not self._epochs:
            return {}
        return {"timeline.epochs": torch.tensor(self._epochs, dtype=torch.float64),
                "timeline.pinned": torch.tensor([float(e in self._pinned) for e in self._epochs], dtype=torch.float64),
                "timeline.params": torch.stack([self._flats[e].to(torch.float32) for e in self._epochs])}

    @classmethod
    def from_tensors(cls, shapes, tensors: dict[str, torch.Tensor], last_epoch: int) -> Timeline:
        """The timeline saved by :meth:`to_tensors`, thinned to the stride and :attr:`limit` of this one
        (the rows it keeps are picked with tensor operations, and only they are copied); ``ValueError``
        with a sentence if it is damaged."""
        timeline = cls(shapes)
        if "timeline.epochs" not in tensors:
            return timeline  # a file from before timelines: fine
        epochs, params = tensors["timeline.epochs"], tensors.get("timeline.params")
        pinned = tensors.get("timeline.pinned", torch.zeros_like(epochs))
        if (params is None or epochs.dim() != 1 or params.shape != (epochs.shape[0], timeline.size)
                or pinned.shape != epochs.shape):
            raise ValueError("its timeline of weight snapshots has inconsistent shapes")
        chunk = max(1, (1 << 20) // max(1, timeline.size))  # rows tested a few MB at a time: no copy of them all
        if not bool(torch.isfinite(epochs).all()) or not all(bool(torch.isfinite(part).all())
                                                                for part in params.split(chunk)):
            raise ValueError("its timeline of weight snapshots holds NaN or infinite values")
        as_int = epochs.long()
        if (not torch.equal(as_int.double(), epochs.double()) or (as_int < 0).any() or (as_int > last_epoch).any()
                or (as_int[1:] <= as_int[:-1]).any()):
            raise ValueError("its timeline's epochs are not increasing whole numbers within the history")
        timeline.stride = timeline.stride_for(last_epoch)
        pin = pinned != 0
        rows = (pin | (as_int <= timeline.dense) | (as_int % timeline.stride == 0)).nonzero().squeeze(1)
        rows = timeline._without_oldest_pins(rows, pin[rows])
        for row, epoch, pin_row in zip(rows.tolist(), as_int[rows].tolist(), pin[rows].tolist(), strict=True):
            timeline._put(epoch, params[row].to(torch.float32, copy=True), pin_row)  # memory of its own
        timeline._fit()  # the regular snapshots past the limit, if any: a few at most
        return timeline

    def _without_oldest_pins(self, rows: torch.Tensor, pinned: torch.Tensor) -> torch.Tensor:
        """``rows`` (a file's, increasing) less the oldest pins that :meth:`_fit` would give up for them,
        chosen with tensor operations: what is left is at most the capacity's regular snapshots and
        :data:`MAX_PINS` pins."""
        if not len(rows):
            return rows
        fits = max(1, self.limit // max(1, 4 * self.size))
        excess = max(len(rows) - fits, int(pinned.sum()) - MAX_PINS, 0)
        older_pins = pinned[:-1].nonzero().squeeze(1)  # never the newest
        keep = torch.ones(len(rows), dtype=torch.bool)
        keep[older_pins[:excess]] = False
        return rows[keep]


def _bytes(flat: torch.Tensor) -> int:
    return flat.numel() * flat.element_size()
