"""The sweep in an experiment file (Qt-free): its definition and which kept runs belong to it.

Metadata ``sweep`` is a JSON object ``{"grid": {setting: [values]}, "seeds": n, "runs": [[name, ...], ...]}``:
``runs[i]`` lists combination ``i``'s runs (grid order, the first setting varying slowest) in seed order, each
the name of one of the file's runs (:mod:`gui.files.runs_file`), or null where that run failed or was
stopped. The runs themselves are ordinary kept runs. Everything read back is checked as hostile data: the
grid as :func:`gui.model.sweep.check` checks a new one, every name against the file's runs; a damaged
section is a ``ValueError`` with a sentence (the window opens the rest of the file without it).
"""

from __future__ import annotations

import json

from gui.model import sweep as grids

KEY = "sweep"


def to_file(definition: dict | None, names: list[list]) -> dict:
    """The metadata for :func:`gui.files.experiment_file.save` (empty without a sweep)."""
    if definition is None:
        return {}
    return {KEY: json.dumps({"grid": definition["grid"], "seeds": definition["seeds"], "runs": names})}


def from_file(metadata: dict, run_names: list[str]) -> dict | None:
    """``{"grid", "seeds", "runs"}`` read back, or None when the file has no sweep; ``run_names``: the runs
    the file's runs section holds."""
    if KEY not in metadata:
        return None
    try:
        raw = json.loads(metadata[KEY])
    except (ValueError, TypeError, RecursionError):
        raise ValueError("its sweep is not valid JSON") from None
    if not isinstance(raw, dict) or set(raw) != {"grid", "seeds", "runs"}:
        raise ValueError("its sweep must be a JSON object with grid, seeds and runs, and nothing else")
    try:
        grid = grids.check(raw["grid"], raw["seeds"], None)
    except ValueError as error:
        raise ValueError(f"its sweep is damaged: {error}") from None
    seeds, runs = raw["seeds"], raw["runs"]
    combinations = len(grids.combinations(grid))
    if not (isinstance(runs, list) and len(runs) == combinations
            and all(isinstance(r, list) and len(r) == seeds for r in runs)):
        raise ValueError(f"its sweep's runs must be {combinations} lists of {seeds} names (one a seed)")
    known, seen = set(run_names), set()
    for name in (n for r in runs for n in r):
        if name is None:
            continue
        if not (isinstance(name, str) and name in known and name not in seen):
            raise ValueError(f"its sweep names a run it does not hold, or one twice: {name!r:.40}")
        seen.add(name)
    return {"grid": grid, "seeds": seeds, "runs": runs}
