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
  first), the newest of the Reset's timeline (its weights are those of the network Undo brings back,
  which the session keeps), and last the kept runs' last ones (oldest run first).

A snapshot is given up by its tensor: every holder of it lets go together, when the most useful of
them comes in that order, so that each step frees the memory it counts.

A run that gave up snapshots for memory says so (:func:`run_note`, :func:`run_sentence`).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from gui.model import timeline as timeline_module
from gui.model.experiment import Experiment
from minidl import architecture


def budget() -> int:
    return timeline_module.SNAPSHOT_BUDGET


def held_bytes(flats: Iterable[torch.Tensor]) -> int:
    """Bytes of the storages behind ``flats``, each counted once."""
    return sum({f.untyped_storage().data_ptr(): f.untyped_storage().nbytes() for f in flats}.values())


def own(flat: torch.Tensor) -> torch.Tensor:
    """``flat`` as a float32 snapshot in memory of its own: a copy where it is a view of a larger tensor
    (a file's, :func:`gui.files.runs_file.from_file`), else itself."""
    if flat.dtype == torch.float32 and flat.untyped_storage().nbytes() == 4 * flat.numel():
        return flat
    return flat.to(torch.float32, copy=True)


def timeline_flats(timeline) -> list[torch.Tensor]:
    return [] if timeline is None else [timeline.flat(e) for e in timeline.epochs()]


def fit(live, undo_timeline, runs: list, deleted: list) -> None:
    """Make the others (``undo_timeline``, ``runs``, ``deleted`` runs) give up snapshots until they fit
    beside the ``live`` timeline; see the module docstring for the order."""
    share = budget() - (max(live.limit, live.nbytes) if live is not None else timeline_module.timeline_limit())
    newest = undo_timeline.epochs()[-1] if undo_timeline is not None and len(undo_timeline) else None
    order = [(run, e) for run in deleted for e in sorted(run.snapshots)]
    order += [(undo_timeline, e) for e in (undo_timeline.epochs()[:-1] if newest is not None else [])]
    order += [(run, e) for run in runs for e in sorted(run.snapshots)[:-1]]
    order += [(undo_timeline, newest)] if newest is not None else []
    order += [(run, e) for run in runs for e in sorted(run.snapshots)[-1:]]
    # A snapshot is keyed by its data: the same tensor held twice is one. A snapshot owns its storage,
    # except a file's run's until Session.adopt_runs copies it: then its own bytes are the ones it will hold.
    holders: dict[int, list] = {}  # data -> its holders, least useful first
    sizes: dict[int, int] = {}
    turn: dict[int, int] = {}  # data -> the place of its most useful holder in the order
    for place, (holder, epoch) in enumerate(order):
        flat = holder.flat(epoch) if holder is undo_timeline else holder.snapshots[epoch]
        key = flat.data_ptr()
        holders.setdefault(key, []).append((holder, epoch))
        sizes[key], turn[key] = 4 * flat.numel(), place
    total = sum(sizes.values())
    for key in sorted(turn, key=turn.get):  # a storage goes when its most useful holder's turn comes
        if total <= share:
            return
        for holder, epoch in holders[key]:
            if holder is undo_timeline:
                undo_timeline.discard(epoch)
            else:
                del holder.snapshots[epoch]
                holder.trimmed = True
        total -= sizes[key]


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
    size = 4 * architecture.check(run.settings["blocks"], in_features(run.settings))
    count, last = len(run.snapshots), max(run.snapshots, default=0)
    kept = ("keeps no weight snapshots" if not count else f"keeps the weights of epoch {last:,} only" if count == 1
            else f"keeps the weights of {count} epochs only (the last: {last:,})")
    where = "cannot draw it" if not count else "draws it at that epoch only" if count == 1 else "draws it at those only"
    return (f"Run {run.name} {kept}: every weight snapshot of the runs and the timeline shares "
            f"{budget() / 2**20:,.0f} MB of memory, and one of this network takes {size / 2**20:,.1f} MB. "
            f"The compare view {where}; export as Python still replays the run.")


def in_features(settings: dict) -> int:
    """The input width of a run's network, from its settings (the dataset and the input features)."""
    names = settings.get("features", Experiment().features)
    return max(1, Experiment(dataset=settings.get("dataset", "Disc"), features=list(names)).in_features)
