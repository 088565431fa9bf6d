"""One memory budget for every weight snapshot the session holds (Qt-free).

The snapshots are the live timeline's (its pins included), every kept run's, those of a deleted run
that Undo can bring back, and the timeline that Undo of a Reset can bring back. Together they hold
at most :data:`gui.model.timeline.SNAPSHOT_BUDGET` bytes (256 MB):

- the live timeline holds at most half of it (:attr:`gui.model.timeline.Timeline.limit`), or its newest
  snapshot alone where that is larger;
- the others share the rest, counted as if the live timeline shared none of their tensors (a run's
  snapshots are the timeline's own until a Reset), so that the sum bounds the memory during a run too,
  when only the live timeline changes. Past their share they give up snapshots, least useful first:
  a deleted run's, the Reset's timeline but its newest, the kept runs' but their last (oldest run
  first), the kept runs' last ones (oldest first), and last the newest of the Reset's timeline (whose
  weights Undo still brings back: the session keeps that network itself).

A run that gave up snapshots for memory says so (:func:`run_note`, :func:`run_sentence`).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from gui.model import timeline as timeline_module
from gui.model.experiment import IN_FEATURES
from minidl import architecture


def budget() -> int:
    return timeline_module.SNAPSHOT_BUDGET


def _key(flat: torch.Tensor) -> int:
    return flat.untyped_storage().data_ptr()


def held_bytes(flats: Iterable[torch.Tensor]) -> int:
    """Bytes of the storages behind ``flats``, each counted once."""
    return sum({_key(f): f.untyped_storage().nbytes() for f in flats}.values())


def timeline_flats(timeline) -> list[torch.Tensor]:
    return [] if timeline is None else [timeline.flat(e) for e in timeline.epochs()]


class _Holdings:
    """Storages and how many snapshots hold each: :attr:`total` drops when the last holder lets go."""

    def __init__(self, flats: Iterable[torch.Tensor]):
        self.holders: dict[int, int] = {}
        self.sizes: dict[int, int] = {}
        for flat in flats:
            key = _key(flat)
            self.holders[key] = self.holders.get(key, 0) + 1
            self.sizes[key] = flat.untyped_storage().nbytes()
        self.total = sum(self.sizes.values())

    def release(self, flat: torch.Tensor) -> None:
        key = _key(flat)
        self.holders[key] -= 1
        if not self.holders[key]:
            self.total -= self.sizes[key]


def fit(live, undo_timeline, runs: list, deleted: list) -> None:
    """Make the others (``undo_timeline``, ``runs``, ``deleted`` runs) give up snapshots until they fit
    beside the ``live`` timeline; see the module docstring for the order."""
    share = budget() - (max(live.limit, live.nbytes) if live is not None else timeline_module.timeline_limit())
    others = [*timeline_flats(undo_timeline), *(f for run in [*runs, *deleted] for f in run.snapshots.values())]
    holdings = _Holdings(others)
    if holdings.total <= share:
        return
    newest = undo_timeline.epochs()[-1] if undo_timeline is not None and len(undo_timeline) else None
    order = [(run, e) for run in deleted for e in sorted(run.snapshots)]
    order += [(undo_timeline, e) for e in (undo_timeline.epochs()[:-1] if newest is not None else [])]
    order += [(run, e) for run in runs for e in sorted(run.snapshots)[:-1]]
    order += [(run, e) for run in runs for e in sorted(run.snapshots)[-1:]]
    order += [(undo_timeline, newest)] if newest is not None else []
    for holder, epoch in order:
        if holdings.total <= share:
            return
        if holder is undo_timeline:
            holdings.release(undo_timeline.flat(epoch))
            undo_timeline.discard(epoch)
        else:
            holdings.release(holder.snapshots.pop(epoch))
            holder.trimmed = True


def run_note(run) -> str:
    """The runs table's words for a run that gave up snapshots for memory ("" for any other run)."""
    if not run.trimmed:
        return ""
    if not run.snapshots:
        return "no snapshots kept: too large"
    return "last snapshot only: too large" if len(run.snapshots) == 1 else f"{len(run.snapshots)} snapshots kept"


def run_sentence(run) -> str:
    """:func:`run_note` as a sentence that says why and what it changes ("" for any other run)."""
    if not run_note(run):
        return ""
    size = 4 * architecture.check(run.settings["blocks"], IN_FEATURES)
    count, last = len(run.snapshots), max(run.snapshots, default=0)
    kept = ("keeps no weight snapshots" if not count else f"keeps the weights of epoch {last:,} only" if count == 1
            else f"keeps the weights of {count} epochs only (the last: {last:,})")
    where = "cannot draw it" if not count else "draws it at that epoch only" if count == 1 else "draws it at those only"
    return (f"Run {run.name} {kept}: every weight snapshot of the runs and the timeline shares "
            f"{budget() / 2**20:,.0f} MB of memory, and one of this network takes {size / 2**20:,.1f} MB. "
            f"The compare view {where}; export as Python still replays the run.")
