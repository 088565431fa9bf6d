"""The runs kept for comparison, free of Qt: every run the Session holds, and its rules.

A :class:`Run` is one press of Run (a fresh start, a Continue) or a branch from the timeline
(a fork). It keeps what a comparison and a hand-over need: its settings, its whole loss history
from epoch 1 (a fork or a Continue shares its parent's first epochs), a few weight snapshots
(the compare view draws its boundary at any epoch from the nearest one), its final numbers,
its wall time, and its *schedule*: which settings trained which epochs.

The schedule is how "export as Python" replays a run exactly: ``[(first_epoch, {"eta": ...,
"batch_size": ...}), ...]``, each entry in force from its epoch on. A Run starts an entry; an
eta changed during a live run is taken by the run at the start of its next epoch
(:class:`gui.training.control.RunControl`), which reports that epoch. Training goes through the batches in order, so
the same seed, network and schedule give the same numbers, bit for bit.

Memory: a run holds its history (4 bytes an epoch, shared with the session's arrays) and at
most :data:`RUN_SNAPSHOTS` snapshots (no more than :data:`RUN_BYTES` of them, or its last alone where
that is larger), which are the session timeline's own tensors, not copies. All runs' snapshots share
one memory budget with the timeline (:mod:`gui.model.snapshot_budget`): past it, runs give up snapshots, the
last one too (a wide network's runs may keep none), and :attr:`Run.trimmed` says so.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import math
import time
from dataclasses import dataclass, field, fields

import numpy as np

from gui.model import features
from gui.model import points as custom
from gui.model.experiment import Experiment
from gui.model.history import History

RUN_SNAPSHOTS = 64
RUN_BYTES = 32 << 20
# Settings' words in the table; a field missing here is named after itself ("momentum").
LABELS = {"batch_size": "batch size", "n_train": "train points", "n_test": "test points", "eta": "eta", "l1": "L1",
          "weight_decay": "L2"}  # as the Regularization control names them
_stamps = itertools.count(1)  # orders undoable actions: the newest one is undone first


def stamp() -> int:
    return next(_stamps)


def settings_of(experiment: Experiment) -> dict:
    """The experiment's fields as a plain dict (every field, so new ones just work). Its own points
    are the experiment's list itself, not a copy (an edit replaces the list, never changes it): a
    :class:`Run` keeps them once, in :attr:`Run.points`, and only their summary in its settings."""
    return {f.name: getattr(experiment, f.name) if f.name == "points" else _plain(getattr(experiment, f.name))
            for f in fields(experiment)}


def _plain(value):
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else v for v in value]
    return value


_summaries: list = [None, None, None]  # (the last list summarised, its split, its summary): named often


def points_summary(points, test_ratio: float | None = None, seed: int | None = None) -> dict:
    """``{"count": 58, "hash": "9f3a0c1e", "content": ..., "data": ...}``: own points as a run's settings
    name them (a summary passes through). ``hash`` is of the list as written (the file keeps one copy of
    each); ``content`` of the points whatever their order or split; with the run's ``test_ratio`` and
    ``seed``, ``data`` is of the train and test sets they give (:func:`gui.model.points.split`), in
    training order: the same ``data`` trains bit for bit the same, however the points were made (drawn,
    or exported and imported again). Computed once per list."""
    if isinstance(points, dict):
        return points
    split_by = None if test_ratio is None or seed is None else (float(test_ratio), int(seed))
    if _summaries[0] is not points or _summaries[1] != split_by:
        _summaries[:] = [points, split_by, _summary(points, split_by)]
    return dict(_summaries[2])


def _digest(*arrays) -> str:
    h = hashlib.blake2b(digest_size=4)
    for array in arrays:
        h.update(np.ascontiguousarray(array).tobytes())
        h.update(b"|")
    return h.hexdigest()


def _summary(points, split_by) -> dict:
    if not points:
        return {"count": 0, "hash": ""}
    table = np.asarray(points, dtype=np.float64).reshape(-1, 4)
    summary = {"count": len(points), "hash": _digest(table)}
    # As a run sees them: float32 coordinates (gui.model.points.split) and whole labels
    x1, x2, labels = table[:, 0].astype(np.float32), table[:, 1].astype(np.float32), table[:, 2].astype(np.int64)
    order = np.lexsort((labels, x2, x1))
    summary["content"] = _digest(x1[order], x2[order], labels[order])
    if split_by is not None:
        X_train, labels_train, X_test, labels_test = custom.split(points, *split_by)
        summary["data"] = _digest(X_train.numpy(), labels_train.numpy(), X_test.numpy(), labels_test.numpy())
    return summary


def kept_settings(settings: dict) -> tuple[dict, list]:
    """``(settings with their points summarised, the points)``: what a :class:`Run` keeps of them."""
    points = settings.get("points", [])
    if isinstance(points, dict):
        return settings, None
    return {**settings, "points": points_summary(points, settings.get("test_ratio"), settings.get("seed"))}, points


# -- what differs, in words ----------------------------------------------------------------
def block_label(block: dict) -> str:
    """``"Linear 25"``, ``"ReLU"``: a block as the table names it."""
    extra = " ".join(str(v) for k, v in block.items() if k != "type")
    return f"{block.get('type', '?')} {extra}".strip()


def block_changes(old: list[dict], new: list[dict]) -> list[str]:
    """``["+ Linear 25", "Tanh instead of ReLU", "- ReLU"]``: from ``old`` blocks to ``new``."""
    a, b = [block_label(x) for x in old], [block_label(x) for x in new]
    words: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        paired = min(i2 - i1, j2 - j1)  # a replace pairs blocks first: "Tanh instead of ReLU"
        words += [f"{b[j1 + k]} instead of {a[i1 + k]}" for k in range(paired)]
        words += [f"- {x}" for x in a[i1 + paired:i2]] + [f"+ {x}" for x in b[j1 + paired:j2]]
    counted = {}
    for w in words:  # "Tanh instead of ReLU (×3)" rather than the same words three times
        counted[w] = counted.get(w, 0) + 1
    return [w if n == 1 else f"{w} (×{n})" for w, n in counted.items()]


def _fmt(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def points_change(old, new) -> str | None:
    """``"41 points (was 40)"``, ``"40 points (others)"``, ``"40 points (split differs)"``: own points (lists or
    summaries) in words; None when they are the same data (:func:`points_summary`'s ``data``), or the same
    list (a new seed or test share splits it anew, and says so in its own words)."""
    old, new = points_summary(old), points_summary(new)
    if old["count"] != new["count"]:
        return f"{new['count']} points (was {old['count']})"
    same = [key for key in ("hash", "data") if key in old and key in new and old[key] == new[key]]
    if same:
        return None
    content = "content" in old and old.get("content") == new.get("content")
    return f"{new['count']} points ({'split differs' if content else 'others'})"


def feature_changes(old: list[str], new: list[str]) -> list[str]:
    """``["+ x₁²", "- sin x₂"]``: the input features ticked and unticked from ``old`` to ``new``."""
    return ([f"+ {features.label(name)}" for name in new if name not in old]
            + [f"- {features.label(name)}" for name in old if name not in new])


def setting_changes(old: dict, new: dict) -> list[str]:
    """``["eta 0.01 (was 0.001)", "+ Linear 25"]``: every field of ``new`` that differs from ``old``."""
    words = []
    for key, value in new.items():
        if key not in old or old[key] == value:
            continue
        if key == "points":
            change = points_change(old[key], value)
            if change is not None:
                words.append(change)
        elif key == "blocks":
            words += block_changes(old[key], value)
        elif key == "features" and isinstance(value, list) and isinstance(old[key], list):
            words += feature_changes(old[key], value)
        else:
            words.append(f"{LABELS.get(key, key.replace('_', ' '))} {_fmt(value)} (was {_fmt(old[key])})")
    return words


# -- a run -------------------------------------------------------------------------------
@dataclass
class Run:
    """One run kept for comparison; see the module docstring.

    ``final``: ``train_loss``, ``test_loss``, ``train_error``, ``test_error`` (None where unknown).
    ``state``: ``running`` while it trains, then the reason it ended (``completed``, ``stopped``, ...).
    """

    name: str
    settings: dict
    history: History
    kind: str = "fresh"  # fresh | continue | fork
    parent: str | None = None
    start_epoch: int = 0
    schedule: list = field(default_factory=list)
    diff: str = ""
    wall_time: float = 0.0
    final: dict = field(default_factory=lambda: dict.fromkeys(("train_loss", "test_loss", "train_error",
                                                               "test_error")))
    snapshots: dict = field(default_factory=dict)  # epoch -> flat weights (the timeline's tensors)
    trimmed: bool = False  # it kept fewer snapshots for memory (gui.model.snapshot_budget.run_note)
    state: str = "running"
    started: float = field(default_factory=time.perf_counter, repr=False)
    # Own points it trained on: the experiment's list, shared, not copied (``settings`` holds their
    # summary only, so a file's header, the table's words and each progress stay small).
    points: list = field(default_factory=list, repr=False)

    def replay_settings(self) -> dict:
        """Its settings with the points themselves, as export as Python and the compare view need them."""
        return {**self.settings, "points": self.points}

    @property
    def epochs(self) -> int:
        return self.history.epochs

    def nearest(self, epoch: int) -> int | None:
        """The snapshot epoch nearest ``epoch`` (None without snapshots)."""
        if not self.snapshots:
            return None
        return min(self.snapshots, key=lambda e: (abs(e - epoch), e))

    def __repr__(self) -> str:
        return f"Run({self.name!r}, {self.kind}, {self.epochs} epochs, {self.state}, {self.diff!r})"

    def label(self) -> str:
        """The legend's words: the name and what differs."""
        return f"{self.name}: {self.diff}" if self.diff else self.name


def name_for(index: int) -> str:
    """A, B, ..., Z, AA, AB, ...: the ``index``-th run's name (0-based)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


def snapshots_kept(size: int) -> int:
    """How many snapshots of a network of ``size`` parameters a run keeps at most (at least one)."""
    return max(1, min(RUN_SNAPSHOTS, RUN_BYTES // max(1, 4 * size)))


def pick_snapshots(epochs: list[int], size: int) -> list[int]:
    """At most :func:`snapshots_kept` of ``epochs``, evenly spread, the last always among them (and the
    first, where two or more are kept)."""
    most = snapshots_kept(size)
    if len(epochs) <= most:
        return list(epochs)
    if most == 1:
        return epochs[-1:]
    picks = np.unique(np.round(np.linspace(0, len(epochs) - 1, most)).astype(int))
    return [epochs[i] for i in picks]


def schedule_describe(schedule: list, start_epoch: int) -> list[str]:
    """Changes made during a run (after its own first entry), and weights set by hand before any of its
    epochs: ``["eta 0.01 from epoch 301", "weight edited by hand before epoch 31"]``."""
    words, before = [], None
    for first, values in schedule:
        if before is not None and first > start_epoch + 1:
            words += [f"{LABELS.get(k, k)} {_fmt(v)} from epoch {first}" for k, v in values.items()
                      if before.get(k) != v and k not in ("fresh", "edits")]
        if values.get("edits") and first > start_epoch:
            words.append(f"{edit_words(len(values['edits']))} before epoch {first}")
        before = values
    return words


def edit_words(count: int) -> str:
    """The runs table's words for ``count`` weights set by hand (gui/model/hand_edits.py)."""
    return "weight edited by hand" if count == 1 else f"{count} weights edited by hand"


class RunBook:
    """The session's runs: add, update, end, delete (undoable), tick for comparison."""

    def __init__(self):
        self.runs: list[Run] = []
        self.ticked: list[str] = []
        self._deleted: list[tuple[int, int, Run, list[str]]] = []  # (stamp, index, run, ticked before)
        self._made = 0  # runs named so far: a deleted run's name is not given again

    def __getitem__(self, name: str) -> Run:
        for run in self.runs:
            if run.name == name:
                return run
        raise KeyError(f"there is no run named {name!r}; the runs are {', '.join(r.name for r in self.runs) or 'none'}")

    def names(self) -> list[str]:
        return [r.name for r in self.runs]

    # -- lifecycle ----------------------------------------------------------------------
    def begin(self, settings: dict, history: History, kind: str, parent: str | None, start_epoch: int,
              schedule: list) -> Run:
        settings, points = kept_settings(settings)
        run = Run(name_for(self._made), settings, _shared(history), kind, parent, start_epoch, list(schedule),
                  points=points or [])
        self._made += 1
        run.diff = self._describe(run, self.runs)
        self.runs.append(run)
        return run

    def keep(self, run: Run) -> None:
        """Add a run made elsewhere under its own name (a sweep's, :mod:`gui.model.sweeper`)."""
        if run.name in self.names():
            raise ValueError(f"there is a run named {run.name} already")
        self.runs.append(run)

    def _describe(self, run: Run, before: list[Run]) -> str:
        """What differs from its parent (if kept), else from the run before it in ``before``."""
        reference = next((r for r in before if r.name == run.parent), None) if run.parent else None
        if reference is None and before:
            reference = before[-1]
        words = []
        if run.kind == "continue":
            words.append(f"continues {run.parent}")
        elif run.kind == "fork":
            words.append(f"fork of {run.parent} at epoch {run.start_epoch}")
        if reference is not None:  # the settings it started with: changes during it are worded below
            started = [v for e, v in run.schedule if e <= run.start_epoch + 1][-1:]
            words += setting_changes(reference.settings, {**run.settings, **{k: v for d in started
                                                                              for k, v in d.items() if k == "eta"}})
        words += schedule_describe(run.schedule, run.start_epoch)
        if not words:
            words.append("first run" if reference is None else f"same settings as {reference.name}")
        return ", ".join(words)

    @staticmethod
    def update(run: Run, history: History, schedule: list, settings: dict | None = None) -> None:
        """A live run's new epochs (O(1): the arrays are shared, not copied); ``settings`` None keeps
        its settings (the per-progress path: they change only with a live eta)."""
        run.history, run.schedule = _shared(history), list(schedule)
        if settings is not None:
            run.settings = kept_settings(settings)[0]

    def end(self, run: Run, reason: str, history: History, schedule: list, settings: dict, timeline,
            final: dict) -> None:
        self.update(run, history, schedule, settings)
        run.state, run.wall_time, run.final = reason, time.perf_counter() - run.started, final
        run.diff = self._describe(run, self.runs[:self.runs.index(run)] if run in self.runs else self.runs)
        if timeline is not None:
            kept = [e for e in timeline.epochs() if e <= history.epochs]
            run.snapshots = {e: timeline.flat(e) for e in pick_snapshots(kept, timeline.size)}
            most = snapshots_kept(timeline.size)
            run.trimmed = most < RUN_SNAPSHOTS and len(kept) > most  # fewer for their size

    # -- deleting and undoing -------------------------------------------------------------
    def delete(self, name: str) -> Run:
        run = self[name]
        if run.state == "running":
            raise ValueError(f"run {name} is still training: stop it before deleting it")
        index = self.runs.index(run)
        self._deleted.append((stamp(), index, run, list(self.ticked)))
        del self.runs[index]
        self.ticked = [n for n in self.ticked if n != name]
        return run

    @property
    def deleted(self) -> list[Run]:
        """The deleted runs that Undo can bring back, oldest deletion first."""
        return [run for _, _, run, _ in self._deleted]

    @property
    def undo_stamp(self) -> int:
        """When the newest undoable deletion happened (0: none)."""
        return self._deleted[-1][0] if self._deleted else 0

    def undo_delete(self) -> Run | None:
        if not self._deleted:
            return None
        _, index, run, ticked = self._deleted.pop()
        self.runs.insert(min(index, len(self.runs)), run)
        self.ticked = [n for n in ticked if n in self.names()]
        return run

    def compare(self, names) -> list[str]:
        """Tick ``names`` (in the table's order); ``KeyError`` with a sentence for an unknown one."""
        names = [names] if isinstance(names, str) else list(names)
        for n in names:
            self[n]
        self.ticked = [n for n in self.names() if n in names]
        return self.ticked

    def clear(self) -> None:
        self.runs, self.ticked, self._deleted, self._made = [], [], [], 0

    def replace(self, runs: list[Run]) -> None:
        self.clear()
        self.runs = list(runs)
        self._made = max((_index_of(r.name) + 1 for r in runs), default=0)

    @property
    def nbytes(self) -> int:
        """Bytes the runs hold (a tensor shared by several runs counted once)."""
        seen, total = set(), 0
        for run in self.runs:
            for array in (run.history.train, run.history.test_epochs, run.history.test):
                if id(array) not in seen:
                    seen.add(id(array))
                    total += array.nbytes
            for flat in run.snapshots.values():
                if id(flat) not in seen:
                    seen.add(id(flat))
                    total += flat.numel() * flat.element_size()
        return total


def _index_of(name: str) -> int:
    """The index :func:`name_for` gives ``name`` (-1 for another name, a sweep's run's)."""
    if not (name.isascii() and name.isalpha() and name.isupper()):
        return -1
    index = 0
    for ch in name:
        index = index * 26 + (ord(ch) - ord("A") + 1)
    return index - 1


def _shared(history: History) -> History:
    """A History holding the same arrays: the session's History replaces its arrays when it grows
    or is cut (never writes into them), so this is a frozen view of it at no cost."""
    return History(history.train, history.test_epochs, history.test)


def final_numbers(history: History, metrics) -> dict:
    """The table's last columns from the history and the metrics of the last epoch (or None)."""
    final = dict.fromkeys(("train_loss", "test_loss", "train_error", "test_error"))
    if history.epochs:
        final["train_loss"] = float(history.train[-1])
    if metrics is not None and metrics.epoch == history.epochs:
        final.update(test_loss=metrics.test_loss, train_error=metrics.train_error, test_error=metrics.test_error)
    elif len(history.test_epochs) and history.test_epochs[-1] == history.epochs:
        final["test_loss"] = float(history.test[-1])
    return {k: (None if v is None or not math.isfinite(v) else float(v)) for k, v in final.items()}
