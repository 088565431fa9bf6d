"""What a sweep's views draw, free of Qt: the median and the range over seeds of each variant's final
numbers, the cells of the sweep view, and each variant's median train-loss curve with its band.

Everything here reads plain data: ``session.sweep_results()`` (one dict per variant: ``values``,
``runs``, ``final``) and the runs' loss histories (``run.history.train``, gui/model/runs.py). A number
that is unknown (None, or not finite) is left out of a median; a variant without any is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gui.model.tasks import task_of

METRICS = ("train_loss", "test_loss", "train_error", "test_error")


@dataclass(frozen=True)
class Spread:
    """The median and the range of one number over a variant's seeds (all None without numbers)."""

    median: float | None
    low: float | None
    high: float | None
    count: int = 0

    def __repr__(self) -> str:
        return f"Spread({self.median}, {self.low}..{self.high}, n={self.count})"


def spread(numbers) -> Spread:
    """:class:`Spread` of ``numbers``, leaving out None and what is not finite."""
    known = [float(n) for n in numbers if n is not None and math.isfinite(float(n))]
    if not known:
        return Spread(None, None, None, 0)
    return Spread(float(np.median(known)), min(known), max(known), len(known))


@dataclass(frozen=True)
class Variant:
    """One variant of a sweep as the views show it: its values, its runs and the spread of each final
    number (``spreads["test_error"]``)."""

    values: dict
    runs: tuple
    spreads: dict

    @property
    def median_test_error(self) -> float | None:
        return self.spreads["test_error"].median


def variants(results) -> list[Variant]:
    """One :class:`Variant` per entry of ``sweep_results()``, in its order."""
    out = []
    for result in results or ():
        final = result.get("final", {}) or {}
        out.append(Variant(dict(result.get("values", {})), tuple(result.get("runs", ())),
                           {m: spread(final.get(m, ()) or ()) for m in METRICS}))
    return out


def cells(results) -> list[tuple[dict, float | None]]:
    """``[(values, median_test_error), ...]``: what the sweep view draws, a point or a cell per variant."""
    return [(v.values, v.median_test_error) for v in variants(results)]


def settings_of(results) -> list[str]:
    """The settings the sweep varies, in the grid's order (the keys of the first variant's values)."""
    return list(results[0].get("values", {})) if results else []


def axis_values(results, setting: str) -> list:
    """The values of ``setting`` in the order they first appear (the grid's order)."""
    seen = []
    for result in results or ():
        value = result.get("values", {}).get(setting)
        if value not in seen:
            seen.append(value)
    return seen


def matrix(results) -> tuple[list, list, np.ndarray]:
    """``(xs, ys, table)`` for two settings: ``table[i, j]`` the median test error of ``ys[i]`` and ``xs[j]``
    (NaN where unknown or not run); xs are the first setting's values, ys the second's."""
    first, second = settings_of(results)[:2]
    xs, ys = axis_values(results, first), axis_values(results, second)
    table = np.full((len(ys), len(xs)), np.nan)
    for values, median in cells(results):
        if median is not None:
            table[ys.index(values[second]), xs.index(values[first])] = median
    return xs, ys, table


def task(results, runs) -> str:
    """``"classification"`` or ``"regression"``: the task of the sweep's runs (the dataset of the first one still
    in ``runs``), which says whether its errors are % misclassified or a regression's MSE per point. The current
    experiment may have changed since the sweep; without a run, ``"classification"``."""
    by_name = {run.name: run for run in runs}
    for result in results or ():
        for name in result.get("runs", ()):
            settings = getattr(by_name.get(name), "settings", None)
            if isinstance(settings, dict):
                return task_of(settings.get("dataset", ""))
    return "classification"


def error_words(task_name: str) -> tuple[str, str, str]:
    """``(unit, digits, name)`` of a sweep's errors: ``(" %", ".1f", "error %")`` misclassified, or
    ``("", ".4g", "MSE per point")`` for a regression."""
    if task_name == "regression":
        return "", ".4g", "MSE per point"
    return " %", ".1f", "error %"


@dataclass(frozen=True)
class Band:
    """A variant's train loss over its seeds, per epoch (from 1): the median, and the least and the
    greatest; epochs that every seed reached."""

    values: dict
    epochs: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray


def loss_bands(results, runs) -> list[Band]:
    """One :class:`Band` per variant whose runs are in ``runs`` (``{name: Run}`` or a list of Runs); a
    variant whose runs are all gone (deleted) has none."""
    by_name = runs if isinstance(runs, dict) else {run.name: run for run in runs}
    bands = []
    for result in results or ():
        curves = [np.asarray(by_name[n].history.train, np.float64) for n in result.get("runs", ()) if n in by_name]
        curves = [c for c in curves if len(c)]
        if not curves:
            continue
        length = min(len(c) for c in curves)
        stack = np.stack([c[:length] for c in curves])
        with np.errstate(invalid="ignore"):
            bands.append(Band(dict(result.get("values", {})), np.arange(1, length + 1, dtype=np.float64),
                              np.median(stack, axis=0), stack.min(axis=0), stack.max(axis=0)))
    return bands
