"""The runs in an experiment file (Qt-free): JSON metadata for their words, tensors for their numbers.

Metadata ``runs`` is a JSON object ``{"runs": [...], "current": name, "schedule": [...], "ticked": [names]}``
(``ticked``: the runs ticked for comparison, in the table's order; a file without it ticks none);
run ``i`` keeps its history in ``run.i.train``, ``run.i.test_epochs``, ``run.i.test`` and its
snapshots in ``run.i.params`` ``(k, size)`` at the epochs its JSON lists (at most
:data:`gui.model.runs.RUN_SNAPSHOTS`; ``"trimmed": true`` where it kept fewer for memory). Its own points (its JSON
settings hold their count and hash only) lie in the ``(N, 4)`` tensor its ``points_at`` names, one
tensor for runs on the same points: 100,000 points in the JSON header would outgrow it. A file without runs (an
older one) opens with none; a damaged runs section is a ``ValueError`` with a sentence, and the
window opens the rest of the file without them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import torch

from gui.files.experiment_file import plural, points_from_table, read_history
from gui.files.script import checked_edits
from gui.model import points as custom
from gui.model.experiment import CUSTOM, POINTS_RANGE, Experiment, checked_field, finite_number
from gui.model.history import History
from gui.model.runs import RUN_SNAPSHOTS, Run, pick_snapshots, points_summary
from gui.model.sweep import is_run_name
from minidl import architecture

KEY = "runs"
STATES = ("running", "completed", "stopped", "diverged", "failed")
KINDS = ("fresh", "continue", "fork")
EPOCH_MAX = 2**63 - 1  # the largest epoch number the history's int64 tensors hold
EXTRA_KEYS = ("optimizer", "momentum", "weight_decay", "l1", "schedule", "epochs")  # of a schedule entry


def to_file(runs: list[Run], current: Run | None, schedule: list | None, ticked=()) -> tuple[dict, dict]:
    """``(metadata, tensors)`` for :func:`gui.files.experiment_file.save`; ``ticked``: the names of the runs
    ticked for comparison."""
    described, tensors, points_at = [], {}, {}
    for i, run in enumerate(runs):
        epochs = sorted(run.snapshots)
        item = {"name": run.name, "settings": run.settings, "kind": run.kind, "parent": run.parent,
                "start_epoch": run.start_epoch, "schedule": run.schedule, "diff": run.diff,
                "wall_time": run.wall_time, "final": run.final,
                "state": "stopped" if run.state == "running" else run.state, "snapshots": epochs,
                "trimmed": run.trimmed}
        if run.points:
            summary = points_summary(run.points)
            same = (summary["count"], summary["hash"])
            if same not in points_at:
                points_at[same] = f"run.{i}.points"
                tensors[points_at[same]] = torch.tensor(run.points, dtype=torch.float64)
            item["points_at"] = points_at[same]
        described.append(item)
        tensors[f"run.{i}.train"] = torch.from_numpy(run.history.train.astype(np.float32))
        tensors[f"run.{i}.test_epochs"] = torch.from_numpy(run.history.test_epochs.astype(np.float64))
        tensors[f"run.{i}.test"] = torch.from_numpy(run.history.test.astype(np.float32))
        if epochs:
            tensors[f"run.{i}.params"] = torch.stack([run.snapshots[e].to(torch.float32) for e in epochs])
    text = json.dumps({"runs": described, "current": current.name if current is not None else None,
                       "schedule": schedule, "ticked": [name for name in ticked if name in {r.name for r in runs}]})
    return {KEY: text}, tensors


def ticked_in(metadata: dict, names: list[str]) -> list[str]:
    """The runs a file ticked for comparison, of ``names`` (the runs :func:`from_file` read); [] for a file
    written before it kept them. ``ValueError`` with a sentence when the list is damaged."""
    try:
        raw = json.loads(metadata[KEY]) if KEY in metadata else {}
    except (ValueError, TypeError, RecursionError):
        raise ValueError("its runs are not valid JSON") from None
    ticked = raw.get("ticked", []) if isinstance(raw, dict) else []
    if not (isinstance(ticked, list) and all(isinstance(n, str) and n in names for n in ticked)
            and len(set(ticked)) == len(ticked)):
        raise ValueError(f"its ticked runs must be a list of the names of its runs ({', '.join(names) or 'none'}), "
                         f"each once, got {ticked!r:.40}")
    return [n for n in names if n in ticked]


def from_file(metadata: dict, tensors: dict) -> tuple[list[Run], list | None, str | None] | None:
    """``(runs, schedule, current name)`` from a file's metadata and tensors; None when it has no runs.
    ``ValueError`` with a sentence when the runs section is damaged."""
    if KEY not in metadata:
        return None
    try:
        raw = json.loads(metadata[KEY])
    except (ValueError, TypeError, RecursionError):
        raise ValueError("its runs are not valid JSON") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("runs"), list):
        raise ValueError("its runs section is not a list of runs")
    runs, names = [], set()
    for i, item in enumerate(raw["runs"]):
        run = _run(i, item, tensors)
        if run.name in names:
            raise ValueError(f"two runs are named {run.name}")
        names.add(run.name)
        runs.append(run)
    current = raw.get("current")
    if current is not None and not (isinstance(current, str) and current in names):
        raise ValueError(f"its current run must be the name of one of its runs ({', '.join(sorted(names))}) or null, "
                         f"got {current!r:.20}")
    schedule = raw.get("schedule")
    return runs, None if schedule is None else _schedule("the current weights", schedule), current


def _run(i: int, item, tensors: dict) -> Run:
    if not isinstance(item, dict):
        raise ValueError(f"run {i + 1} is not a JSON object")
    name = item.get("name")
    if not _is_name(name):
        raise ValueError(f"run {i + 1} has no valid name (A, B, C, ...)")
    who = f"run {name}"
    settings = item.get("settings")
    if not isinstance(settings, dict):
        raise ValueError(f"{who} has no settings")
    points = _run_points(who, settings.get("points", []), item.get("points_at"), tensors)
    try:  # fields added after the file was written take their defaults
        checked = Experiment.from_json(json.dumps({**asdict(Experiment()), **settings, "points": []}))
    except ValueError as error:
        raise ValueError(f"{who}'s settings are damaged: {error}") from None
    history = _history(who, i, tensors)
    size = architecture.check(checked.blocks, max(1, checked.in_features))
    _check_outputs(who, replace(checked, points=points))  # your own points say how many classes
    trimmed = item.get("trimmed", False)  # absent from files written before runs said so
    if not isinstance(trimmed, bool):
        raise ValueError(f"{who}'s note that it kept fewer snapshots must be true or false, got {trimmed!r:.20}")
    snapshots, fewer = _snapshots(who, item.get("snapshots", []), tensors.get(f"run.{i}.params"), size,
                                  history.epochs)
    state, kind = item.get("state", "completed"), item.get("kind", "fresh")
    for field, value, allowed in (("state", state, STATES), ("kind", kind, KINDS)):
        if not (isinstance(value, str) and value in allowed):
            raise ValueError(f"{who}'s {field} must be one of {', '.join(allowed)}, got {value!r:.20}")
    final = item.get("final") or {}
    if not isinstance(final, dict):
        raise ValueError(f"{who}'s final numbers must be a JSON object of losses and error rates, got {final!r:.20}")
    numbers = {k: final.get(k) for k in ("train_loss", "test_loss", "train_error", "test_error")}
    for key, value in numbers.items():
        if not (value is None or finite_number(value)):
            raise ValueError(f"{who}'s final {key} must be a finite number or null, got {value!r:.20}")
    start = item.get("start_epoch", 0)
    if not (_whole(start) and 0 <= start <= history.epochs):
        raise ValueError(f"{who}'s start epoch must be a whole number from 0 to its {history.epochs:,} epochs, "
                         f"got {start!r:.20}")
    wall = item.get("wall_time", 0.0)
    if not (finite_number(wall) and wall >= 0):
        raise ValueError(f"{who}'s wall time must be a number of seconds of at least 0, got {wall!r:.20}")
    parent, diff = item.get("parent"), item.get("diff", "")
    if not (parent is None or _is_name(parent)):
        raise ValueError(f"{who}'s parent must be the name of a run or null, got {parent!r:.20}")
    if not isinstance(diff, str):
        raise ValueError(f"{who}'s description of what changed must be a text, got {diff!r:.20}")
    summary = points_summary(points, checked.test_ratio, checked.seed)
    return Run(name, {**asdict(checked), "points": summary}, history, kind, parent, start,
               _schedule(who, item.get("schedule", [])), diff[:500], float(wall), numbers, snapshots,
               trimmed=trimmed or fewer, state=state, points=points)


def _check_outputs(who: str, settings: Experiment) -> None:
    """Refuse a run whose last Linear is not as wide as its dataset needs (a regression's one output, one per
    class): its pictures and its exported script would read the outputs as what they are not."""
    linears = [b.get("width") for b in settings.blocks if b.get("type") == "Linear"]
    if settings.dataset == CUSTOM and not settings.points:  # no points kept: nothing to count classes from
        return
    k = settings.out_features
    if linears and linears[-1] != k:
        needs = "1 output (a regression)" if settings.task == "regression" else f"{k} outputs (one per class)"
        raise ValueError(f"{who}'s network has {plural(linears[-1], 'output')}, but its {settings.dataset} data "
                         f"needs {needs}")


def _snapshots(who: str, epochs, params: torch.Tensor | None, size: int, last: int) -> tuple[dict, bool]:
    """``(epoch -> flat weights, whether some were left out)``: at most :data:`~gui.model.runs.RUN_SNAPSHOTS` of
    them, and of those only the ones a run of this network keeps (:func:`gui.model.runs.pick_snapshots`). They are
    views of the file's tensor: :meth:`gui.model.session.Session.adopt_runs` copies the ones the memory
    budget keeps, so no snapshot is copied only to be given up."""
    if not epochs:
        return {}, False
    if isinstance(epochs, list) and len(epochs) > RUN_SNAPSHOTS:
        raise ValueError(f"{who} keeps {len(epochs):,} weight snapshots; a run keeps at most {RUN_SNAPSHOTS}")
    if (not isinstance(epochs, list) or params is None or params.shape != (len(epochs), size)
            or not all(_whole(e) and 0 <= e <= last for e in epochs) or epochs != sorted(set(epochs))):
        raise ValueError(f"{who}'s weight snapshots do not match its network or its epochs")
    if not bool(torch.isfinite(params).all()):
        raise ValueError(f"{who}'s weight snapshots hold NaN or infinite values")
    picked = pick_snapshots(epochs, size)
    return {e: params[epochs.index(e)] for e in picked}, len(picked) < len(epochs)


def _is_name(value) -> bool:
    """A run's name: one to four capital letters (A, B, ..., Z, AA, ...), or a sweep's run's ("eta 0.01,
    seed 2": printable text, :func:`gui.model.sweep.is_run_name`)."""
    letters = isinstance(value, str) and value.isalpha() and value.isupper() and len(value) <= 4
    return letters or is_run_name(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _run_points(who: str, named, at, tensors: dict) -> list:
    """A run's own points: a list in its JSON (the older format, still read), else the tensor
    ``at`` names, whose count its summary ``named`` states; checked like the experiment's."""
    if isinstance(named, list):
        try:
            return custom.check_points(named)
        except ValueError as error:
            raise ValueError(f"{who}'s points are damaged: {error}") from None
    count = named.get("count") if isinstance(named, dict) else None
    if not isinstance(count, int) or count < 0:
        raise ValueError(f"{who}'s settings do not say how many points it trained on")
    if not count:
        return []
    table = tensors.get(at) if isinstance(at, str) and at.startswith("run.") else None
    if table is None or table.dim() != 2 or table.shape[0] != count:
        raise ValueError(f"{who}'s {count:,} points are missing from the file or do not match their count")
    try:
        return points_from_table(table)
    except ValueError as error:
        raise ValueError(f"{who}'s points are damaged: {error}") from None


def _history(who: str, i: int, tensors: dict) -> History:
    """Run ``i``'s history, checked as the experiment's is (:func:`gui.files.experiment_file.read_history`)."""
    try:
        stored = [tensors[f"run.{i}.{k}"] for k in ("train", "test_epochs", "test")]
    except KeyError:
        raise ValueError(f"{who}'s loss history is missing") from None
    return read_history(*stored, owner=f"{who}'s")


def _schedule(who: str, schedule) -> list:
    """``[(first epoch, settings), ...]``; the first epochs start at 1 and increase, so that each entry trains
    the epochs up to the next one's (or an empty list: a run whose settings were not recorded)."""
    out = []
    if not isinstance(schedule, list):
        raise ValueError(f"the schedule of {who} is not a list")
    for entry in schedule:
        ok = isinstance(entry, list) and len(entry) == 2 and _whole(entry[0]) and 1 <= entry[0] <= EPOCH_MAX \
            and isinstance(entry[1], dict)
        values = entry[1] if ok else {}
        eta, batch = values.get("eta"), values.get("batch_size")
        if not (ok and finite_number(eta) and eta > 0 and _whole(batch) and 1 <= batch <= POINTS_RANGE[1]):
            raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}; each entry is [epoch, "
                             f"{{\"eta\": a number above 0, \"batch_size\": 1 to {POINTS_RANGE[1]:,}, ...}}]")
        out.append((entry[0], {"eta": float(eta), "batch_size": batch, **_training_extras(who, entry, values)}))
    firsts = [first for first, _ in out]
    if firsts and (firsts[0] != 1 or firsts != sorted(set(firsts))):  # strictly increasing from 1
        raise ValueError(f"the schedule of {who} is damaged: its first epochs must start at 1 and increase, "
                         f"got {firsts!r:.60}")
    return out


def _training_extras(who: str, entry, values: dict) -> dict:
    """The optimizer and learning-rate schedule of a schedule entry (absent from files written before
    they were recorded: the script then takes the run's settings), checked like the experiment's."""
    extras = {}
    for name in EXTRA_KEYS:
        if name in values:
            try:
                extras[name] = checked_field(name, values[name])
            except ValueError:
                raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}") from None
    if "edits" in values:  # weights set by hand before this entry's first epoch (gui.model.hand_edits)
        try:
            extras["edits"] = [list(e) for e in checked_edits(values["edits"])]
        except ValueError:
            raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}") from None
    if "fresh" in values:
        if not isinstance(values["fresh"], bool):
            raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}")
        extras["fresh"] = values["fresh"]
    return extras
