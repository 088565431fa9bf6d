"""The runs in an experiment file (Qt-free): JSON metadata for their words, tensors for their numbers.

Metadata ``runs`` is a JSON object ``{"runs": [...], "current": name, "schedule": [...]}``;
run ``i`` keeps its history in ``run.i.train``, ``run.i.test_epochs``, ``run.i.test`` and its
snapshots in ``run.i.params`` ``(k, size)`` at the epochs its JSON lists. Its own points (its JSON
settings hold their count and hash only) lie in the ``(N, 4)`` tensor its ``points_at`` names, one
tensor for runs on the same points: 100,000 points in the JSON header would outgrow it. A file without runs (an
older one) opens with none; a damaged runs section is a ``ValueError`` with a sentence, and the
window opens the rest of the file without them.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import torch

from minidl import architecture

from . import points as custom
from .experiment import IN_FEATURES, Experiment, History, _checked, _points
from .runs import Run, points_summary

KEY = "runs"
STATES = ("running", "completed", "stopped", "diverged", "failed")
EXTRA_KEYS = ("optimizer", "momentum", "weight_decay", "schedule", "epochs")  # of a schedule entry


def to_file(runs: list[Run], current: Run | None, schedule: list | None) -> tuple[dict, dict]:
    """``(metadata, tensors)`` for :func:`gui.experiment.save`."""
    described, tensors, points_at = [], {}, {}
    for i, run in enumerate(runs):
        epochs = sorted(run.snapshots)
        item = {"name": run.name, "settings": run.settings, "kind": run.kind, "parent": run.parent,
                "start_epoch": run.start_epoch, "schedule": run.schedule, "diff": run.diff,
                "wall_time": run.wall_time, "final": run.final,
                "state": "stopped" if run.state == "running" else run.state, "snapshots": epochs}
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
                       "schedule": schedule})
    return {KEY: text}, tensors


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
    if current is not None and current not in names:
        raise ValueError(f"its current run {current!r:.20} is not among its runs")
    schedule = raw.get("schedule")
    return runs, None if schedule is None else _schedule("the current weights", schedule), current


def _run(i: int, item, tensors: dict) -> Run:
    if not isinstance(item, dict):
        raise ValueError(f"run {i + 1} is not a JSON object")
    name = item.get("name")
    if not isinstance(name, str) or not name.isalpha() or not name.isupper() or len(name) > 4:
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
    size = architecture.check(checked.blocks, IN_FEATURES)
    epochs = item.get("snapshots", [])
    snapshots = {}
    if epochs:
        params = tensors.get(f"run.{i}.params")
        if (not isinstance(epochs, list) or params is None or params.shape != (len(epochs), size)
                or not all(isinstance(e, int) and 0 <= e <= history.epochs for e in epochs)):
            raise ValueError(f"{who}'s weight snapshots do not match its network or its epochs")
        if not bool(torch.isfinite(params).all()):
            raise ValueError(f"{who}'s weight snapshots hold NaN or infinite values")
        snapshots = {e: params[k].clone() for k, e in enumerate(epochs)}
    state = item.get("state", "completed")
    kind = item.get("kind", "fresh")
    final = item.get("final") or {}
    if state not in STATES or kind not in ("fresh", "continue", "fork") or not isinstance(final, dict):
        raise ValueError(f"{who} has an unknown state, kind or final numbers")
    start = item.get("start_epoch", 0)
    wall = item.get("wall_time", 0.0)
    if not (isinstance(start, int) and 0 <= start <= history.epochs and isinstance(wall, (int, float))
            and math.isfinite(wall) and wall >= 0):
        raise ValueError(f"{who} has an impossible start epoch or wall time")
    numbers = {k: final.get(k) for k in ("train_loss", "test_loss", "train_error", "test_error")}
    if not all(v is None or (isinstance(v, (int, float)) and math.isfinite(v)) for v in numbers.values()):
        raise ValueError(f"{who}'s final numbers are not finite numbers")
    parent = item.get("parent")
    return Run(name, {**asdict(checked), "points": points_summary(points)}, history, kind,
               parent if isinstance(parent, str) else None, start, _schedule(who, item.get("schedule", [])),
               str(item.get("diff", ""))[:500], float(wall), numbers, snapshots, state, points=points)


def _run_points(who: str, named, at, tensors: dict) -> list:
    """A run's own points: a list in its JSON (a file written before they moved out), else the tensor
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
        return _points(table)
    except ValueError as error:
        raise ValueError(f"{who}'s points are damaged: {error}") from None


def _history(who: str, i: int, tensors: dict) -> History:
    try:
        train, test_epochs, test = (tensors[f"run.{i}.{k}"].double().numpy() for k in ("train", "test_epochs", "test"))
    except KeyError:
        raise ValueError(f"{who}'s loss history is missing") from None
    if train.ndim != 1 or test.ndim != 1 or test.shape != test_epochs.shape:
        raise ValueError(f"{who}'s loss history has inconsistent shapes")
    if not (np.isfinite(train).all() and np.isfinite(test).all() and np.isfinite(test_epochs).all()):
        raise ValueError(f"{who}'s loss history holds NaN or infinite values")
    if len(test_epochs) and (test_epochs.min() < 1 or test_epochs.max() > len(train)):
        raise ValueError(f"{who}'s test losses lie outside its epochs")
    return History(train.astype(np.float32), test_epochs.astype(np.int64), test.astype(np.float32))


def _schedule(who: str, schedule) -> list:
    out = []
    if not isinstance(schedule, list):
        raise ValueError(f"the schedule of {who} is not a list")
    for entry in schedule:
        ok = isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int) and entry[0] >= 1 \
            and isinstance(entry[1], dict)
        values = entry[1] if ok else {}
        eta, batch = values.get("eta"), values.get("batch_size")
        if not (ok and isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0
                and isinstance(batch, int) and batch >= 1):
            raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}")
        out.append((entry[0], {"eta": float(eta), "batch_size": batch, **_training_extras(who, entry, values)}))
    return out


def _training_extras(who: str, entry, values: dict) -> dict:
    """The optimizer and learning-rate schedule of a schedule entry (absent from files written before
    they were recorded: the script then takes the run's settings), checked like the experiment's."""
    extras = {}
    for name in EXTRA_KEYS:
        if name in values:
            try:
                extras[name] = _checked(name, values[name])
            except ValueError:
                raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}") from None
    if "fresh" in values:
        if not isinstance(values["fresh"], bool):
            raise ValueError(f"the schedule of {who} is damaged: {entry!r:.60}")
        extras["fresh"] = values["fresh"]
    return extras
