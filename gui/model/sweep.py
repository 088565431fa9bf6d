"""A sweep's grid, free of Qt: which settings vary over which values, and the variants that gives.

A sweep varies one or two settings of the current experiment (:data:`SETTINGS`) over lists of values and
trains every combination, each ``seeds`` times with the seeds ``experiment.seed + 0 .. seeds - 1``. Each
:class:`Variant` is an :class:`~gui.model.experiment.Experiment` copy (``dataclasses.replace``) and becomes an
ordinary kept run, named with the values it differs in: ``"eta 0.01, seed 2"``.

Two settings change the network rather than one field:

- ``width``: the width of every hidden Linear (every Linear but the last, which gives one output per class);
- ``layers``: the number of hidden Linear + activation pairs, made by repeating the stack's first hidden
  Linear and the activation after it (0: the last Linear alone, a linear model).

:func:`check` refuses a bad grid with a sentence that says what is wrong and how to fix it (a ``ValueError``),
before anything trains.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

from gui.model.experiment import EPOCHS_MAX, ETA_RANGE, OPTIMIZERS, POINTS_RANGE, SEED_MAX, WIDTH_MAX, Experiment

SETTINGS = ("eta", "batch_size", "epochs", "width", "layers", "optimizer", "seed")
LABELS = {"batch_size": "batch size"}  # a setting's words in a run's name; the others are named as they are
MAX_RUNS = 200
SEEDS_RANGE = (1, 10)
LAYERS_MAX = 10
NAME_MAX = 200  # characters of a run's name: two settings, a seed and a "#2"
MAX_VALUES = 50  # values of one setting: more would not fit a table or a plot's axis


@dataclass(frozen=True)
class Variant:
    """One combination of the grid with one seed: ``values`` (setting -> value, in the grid's order),
    ``seed`` (the experiment's), its ``name`` and the ``experiment`` it trains."""

    values: dict
    seed: int
    name: str
    experiment: Experiment
    index: int  # of its combination, in grid order
    repeat: int  # 0 .. seeds - 1


def is_run_name(value) -> bool:
    """A sweep's run's name as a file may hold it: printable text of at most ``NAME_MAX`` characters."""
    return isinstance(value, str) and 0 < len(value) <= NAME_MAX and value.isprintable() and value == value.strip()


def words(value) -> str:
    """A value in a run's name: ``0.01``, ``25``, ``Adam``."""
    return format(value, "g") if isinstance(value, float) else str(value)


def name_of(values: dict, seed: int | None) -> str:
    """``"eta 0.01, seed 2"``: the values a variant differs in (``seed`` None: one seed, not named)."""
    parts = [f"{LABELS.get(k, k)} {words(v)}" for k, v in values.items()]
    if seed is not None:
        parts.append(f"seed {seed}")
    return ", ".join(parts)


def _whole(value) -> bool:
    """An integer (numpy's too, as automation may pass them), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _value_problem(setting: str, value) -> str | None:
    """Why ``value`` cannot be a value of ``setting`` (None: it can)."""
    ranges = {"batch_size": (1, POINTS_RANGE[1]), "epochs": (1, EPOCHS_MAX), "width": (1, WIDTH_MAX),
              "layers": (0, LAYERS_MAX), "seed": (0, SEED_MAX)}
    if setting == "eta":
        ok = _real(value) and ETA_RANGE[0] <= value <= ETA_RANGE[1]
        return None if ok else f"a number from {ETA_RANGE[0]:g} to {ETA_RANGE[1]:g}"
    if setting == "optimizer":
        return None if isinstance(value, str) and value in OPTIMIZERS else f"one of {', '.join(OPTIMIZERS)}"
    low, high = ranges[setting]
    return None if _whole(value) and low <= value <= high else f"a whole number from {low:,} to {high:,}"


def check(grid, seeds, experiment: Experiment | None) -> dict:
    """The grid as ``{setting: [values]}`` (eta as floats, counts as ints), or ``ValueError`` with a sentence;
    ``experiment`` None: the grid alone (a file's sweep, whose experiment may have changed since)."""
    if not (_whole(seeds) and SEEDS_RANGE[0] <= seeds <= SEEDS_RANGE[1]):
        raise ValueError(f"A sweep repeats each variant with 1 to {SEEDS_RANGE[1]} seeds; got {seeds!r:.40}.")
    if not isinstance(grid, dict) or not 1 <= len(grid) <= 2:
        raise ValueError("A sweep varies one or two settings: give a dict such as {'eta': [0.001, 0.01]} or "
                         "{'eta': [0.001, 0.01], 'width': [8, 25]}.")
    checked = {}
    for setting, values in grid.items():
        if setting not in SETTINGS:
            raise ValueError(f"A sweep cannot vary {setting!r:.40}: choose among {', '.join(SETTINGS)}.")
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"The values of {setting} must be a non-empty list, such as [0.001, 0.01].")
        if len(values) > MAX_VALUES:
            raise ValueError(f"{setting} has {len(values)} values; a sweep takes at most {MAX_VALUES} a setting.")
        for value in values:
            problem = _value_problem(setting, value)
            if problem:
                raise ValueError(f"Each value of {setting} must be {problem}; got {value!r:.40}.")
        # Plain floats and ints: numpy's would not go into a file's JSON.
        values = [float(v) if setting == "eta" else v if setting == "optimizer" else int(v) for v in values]
        if len(set(values)) != len(values):
            raise ValueError(f"The values of {setting} repeat one: give each value once.")
        checked[setting] = values
    if "seed" in checked and seeds > 1:
        raise ValueError("The grid varies the seed already: leave the seeds at 1, or take seed out of the grid.")
    runs = math.prod(len(v) for v in checked.values()) * seeds
    if runs > MAX_RUNS:
        raise ValueError(f"This sweep would train {runs:,} runs; a sweep trains at most {MAX_RUNS}: use fewer "
                         "values or fewer seeds.")
    if experiment is None:
        return checked
    if "seed" not in checked and experiment.seed + seeds - 1 > SEED_MAX:
        raise ValueError(f"The seeds would pass {SEED_MAX:,}: lower the experiment's seed.")
    if {"width", "layers"} & set(checked) and not _hidden(experiment.blocks):
        raise ValueError("The network has no hidden Linear block (a Linear before the last one), so its width "
                         "and depth cannot vary: add a Linear and an activation before the last Linear.")
    return checked


def _hidden(blocks: list[dict]) -> list[int]:
    """The indices of the hidden Linear blocks: every Linear but the last."""
    linears = [i for i, b in enumerate(blocks) if b.get("type") == "Linear"]
    return linears[:-1]


def with_layers(blocks: list[dict], layers: int) -> list[dict]:
    """``blocks`` with ``layers`` hidden Linear + activation pairs: what comes before the first Linear, the
    first hidden Linear and the block after it (when that is not a Linear) repeated, then the last Linear and
    what follows it."""
    hidden = _hidden(blocks)
    first, last = hidden[0], [i for i, b in enumerate(blocks) if b.get("type") == "Linear"][-1]
    pair = [blocks[first]] + ([blocks[first + 1]] if blocks[first + 1].get("type") != "Linear" else [])
    return [dict(b) for b in blocks[:first]] + [dict(b) for _ in range(layers) for b in pair] + \
        [dict(b) for b in blocks[last:]]


def with_width(blocks: list[dict], width: int) -> list[dict]:
    """``blocks`` with every hidden Linear ``width`` wide."""
    hidden = set(_hidden(blocks))
    return [{**b, "width": width} if i in hidden else dict(b) for i, b in enumerate(blocks)]


def variant_experiment(experiment: Experiment, values: dict, seed: int) -> Experiment:
    """``experiment`` with ``values`` and ``seed`` (a copy; the network's settings change its blocks)."""
    changes = {k: v for k, v in values.items() if k in ("eta", "batch_size", "epochs", "optimizer")}
    blocks = [dict(b) for b in experiment.blocks]
    if "layers" in values:
        blocks = with_layers(blocks, values["layers"])
    if "width" in values:
        blocks = with_width(blocks, values["width"])
    return dataclasses.replace(experiment, blocks=blocks, seed=seed, **changes)


def combinations(grid: dict) -> list[dict]:
    """Every combination of the grid's values, in grid order (the first setting varies slowest)."""
    combos = [{}]
    for setting, values in grid.items():
        combos = [{**c, setting: v} for c in combos for v in values]
    return combos


def variants(grid: dict, seeds: int, experiment: Experiment) -> list[Variant]:
    """Every variant of a checked grid, combination by combination, seeds in order; ``ValueError`` with
    the variant's name and the sentence of :meth:`Experiment.validate` when one cannot train."""
    out = []
    for index, values in enumerate(combinations(grid)):
        for repeat in range(seeds):
            seed = values.get("seed", experiment.seed + repeat)
            name = name_of(values, seed if seeds > 1 else None)
            variant = variant_experiment(experiment, values, seed)
            problems = variant.validate()
            if problems:
                raise ValueError(f"The variant {name} cannot train: {problems[0]}")
            out.append(Variant(values, seed, name, variant, index, repeat))
    return out


def results(grid: dict, seeds: int, runs: list[list]) -> list[dict]:
    """:meth:`gui.model.session.Session.sweep_results`: one dict per combination, in grid order;
    ``runs[i]``: combination ``i``'s finished runs, in seed order (objects with ``name`` and ``final``)."""
    keys = ("train_loss", "test_loss", "train_error", "test_error")
    return [{"values": dict(values), "runs": [r.name for r in done],
             "final": {k: [r.final.get(k) for r in done] for k in keys}}
            for values, done in zip(combinations(grid), runs, strict=True)]
