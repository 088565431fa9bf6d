"""What a lesson scene promises the class, free of Qt: its expectations, read strictly from the file,
said in words, and judged against a headless run (:func:`gui.model.lesson.check` trains it).

An expectation is a JSON object ``{"expect": KIND, ...}``; a scene holds a list of them, one for each
sentence of its note that can be checked. The kinds, and the numbers each takes (``epoch``, optional
everywhere, is when it is read: the scene's last epoch unless given):

==========================================  =====================================================
``diverges``, ``saturates``                 the run diverges by ``epoch``; the Tanh outputs sit at ±1
                                            and the loss no longer moves (see :func:`saturated`)
``loss_below``, ``loss_above``              training loss per point at ``epoch`` vs ``value``
``loss_ratio_below``, ``loss_ratio_above``  loss at ``epoch`` divided by the loss at ``from``
``train_error_below``/``_above``,           error % at the weights of ``epoch``, ``value`` 0..100
``test_error_below``/``_above``
``dead_units_below``, ``dead_units_above``  % of ReLU units that are 0 at every training point, in
                                            Linear layer ``layer`` (1-based) or, without it, all
``gradient_ratio_below``/``_above``         ‖dL/dW‖ of the first Linear over the last's
``weight_change_below``/``_above``          ‖W(epoch) − W(0)‖ / ‖W(0)‖ of Linear ``layer``
``no_flags``                                the inspector flags nothing (:func:`gui.model.inside.flags`)
==========================================  =====================================================

The statistics are the inspector's (:func:`gui.model.inside.layer_stats`): the summed loss over the
whole training set, at the weights after ``epoch``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from gui.model import inside
from gui.model.experiment import EPOCHS_MAX, finite_number

MAX_EXPECTATIONS = 20  # per scene
PERCENT, RATIO, LOSS = "percent", "ratio", "loss"
# kind: (what its "value" is, or None for no value; the other keys it needs). Every kind may have "epoch".
KINDS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "diverges": (None, ()), "saturates": (None, ()), "no_flags": (None, ()),
    "loss_below": (LOSS, ()), "loss_above": (LOSS, ()),
    "loss_ratio_below": (RATIO, ("from",)), "loss_ratio_above": (RATIO, ("from",)),
    "train_error_below": (PERCENT, ()), "train_error_above": (PERCENT, ()),
    "test_error_below": (PERCENT, ()), "test_error_above": (PERCENT, ()),
    "dead_units_below": (PERCENT, ()), "dead_units_above": (PERCENT, ()),
    "gradient_ratio_below": (RATIO, ()), "gradient_ratio_above": (RATIO, ()),
    "weight_change_below": (RATIO, ("layer",)), "weight_change_above": (RATIO, ("layer",)),
}
OPTIONAL = {"dead_units_below": ("layer",), "dead_units_above": ("layer",)}  # besides "epoch"
EXAMPLE = ('{"expect": "diverges"} or {"expect": "test_error_below", "value": 5, "epoch": 300}; '
           'a scene may give a list of them')


# -- reading --------------------------------------------------------------------------------
def read(raw, blocks: list[dict], epochs: int) -> list[dict]:
    """The expectations of a scene whose network is ``blocks`` (already checked) and that runs
    ``epochs``: ``raw`` is None, one expectation, or a list of them. A kind's name alone is short for
    ``{"expect": name}``. Any problem is a ``ValueError`` whose sentence names the expectation."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return [_one(raw, blocks, epochs, "its expect")]
    if len(raw) > MAX_EXPECTATIONS:
        raise ValueError(f"it has {len(raw):,} expectations; a scene may have at most {MAX_EXPECTATIONS}")
    return [_one(item, blocks, epochs, f"its expect number {i + 1}") for i, item in enumerate(raw)]


def _one(raw, blocks: list[dict], epochs: int, where: str) -> dict:
    if isinstance(raw, str):
        raw = {"expect": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("expect"), str) or raw["expect"] not in KINDS:
        raise ValueError(f'{where}: "expect" must be one of {", ".join(KINDS)} (e.g. {EXAMPLE})')
    kind = raw["expect"]
    name = f"{where} {kind!r}" if where == "its expect" else f"{where} ({kind!r})"
    value_kind, needed = KINDS[kind]
    allowed = {"expect", "epoch", *needed, *OPTIONAL.get(kind, ()), *(("value",) if value_kind else ())}
    if set(raw) - allowed:
        raise ValueError(f"unknown field {sorted(set(raw) - allowed)[0]!r} in {name}; it has "
                         f"{', '.join(sorted(allowed))}")
    for key in ("value", *needed):
        if key in allowed and key not in raw:
            raise ValueError(f'{name} needs {"a number" if key == "value" else "a whole number"} "{key}"')
    if value_kind:
        _check_value(raw["value"], value_kind, name)
    epoch = raw.get("epoch")
    if epoch is not None and not _whole(epoch, 1, EPOCHS_MAX):
        raise ValueError(f'the "epoch" of {name} must be a whole number from 1 to {EPOCHS_MAX:,} '
                         "(the epochs a run may have)")
    at = epoch if epoch is not None else epochs
    if "from" in raw and not _whole(raw["from"], 1, at - 1):
        raise ValueError(f'the "from" of {name} must be a whole number from 1 to {at - 1:,}: an epoch '
                         f"before epoch {at:,}, where it is read" if at > 1 else
                         f'{name} compares two epochs, but it is read at epoch 1: give it a later "epoch"')
    if "layer" in raw or kind.startswith(("dead_units", "gradient_ratio")):
        _check_layer(raw, kind, name, inside.columns(blocks)[1:])
    return dict(raw)


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _check_value(value, value_kind: str, name: str) -> None:
    # finite_number first: NaN, the infinities and integers beyond any float fail it exactly.
    if not finite_number(value):
        raise ValueError(f'{name} needs a number "value", got {value!r:.40}')
    if value_kind == PERCENT and not 0 <= value <= 100:
        raise ValueError(f'{name} needs a number "value" from 0 to 100 (a percentage), got {value!r:.40}')
    if value_kind == RATIO and not value > 0:
        raise ValueError(f'{name} needs a number "value" above 0 (a ratio), got {value!r:.40}')


def _check_layer(raw: dict, kind: str, name: str, cols: list[inside.Column]) -> None:
    if kind.startswith("gradient_ratio"):
        if len(cols) < 2:
            raise ValueError(f"{name} compares the first and the last Linear layer, but the network has one")
        return
    relu = [c.linear + 1 for c in cols if c.activation == "ReLU"]
    if "layer" not in raw:
        if not relu:
            raise ValueError(f"{name} counts dead ReLU units, but no Linear layer has a ReLU after it")
        return
    layer = raw["layer"]
    if not _whole(layer, 1, len(cols)):
        raise ValueError(f'the "layer" of {name} must be a whole number from 1 to {len(cols)} '
                         f"(the network's Linear layers, the first is 1), got {layer!r:.40}")
    if kind.startswith("dead_units") and layer not in relu:
        which = f"the layers with one are {', '.join(map(str, relu))}" if relu else "no layer has one"
        raise ValueError(f"{name} counts dead ReLU units in layer {layer}, which has no ReLU after it; {which}")


def epochs_read(expects: list[dict], epochs: int) -> set[int]:
    """The epochs at which some expectation reads the run (``epochs``: the scene's last)."""
    return {x.get("epoch", epochs) for x in expects}


# -- in words -----------------------------------------------------------------------------------
def sentence(expect: dict, epochs: int | None = None, regression: bool = False) -> str:
    """What ``expect`` promises, in words for the class, without a full stop (``epochs``: the scene's;
    ``regression``: its error is the MSE per point, not a percentage)."""
    kind, value = expect["expect"], expect.get("value")
    at = f"at epoch {expect['epoch']:,}" if "epoch" in expect else (
        f"at epoch {epochs:,}" if epochs else "at the end of the run")
    how = "below" if kind.endswith("_below") else "above"
    when = at.replace("at ", "by ", 1) if how == "below" else at  # falls below by epoch E, stays above at E
    if kind == "diverges":
        return "training diverges: the loss becomes infinite and a banner says so"
    if kind == "saturates":
        return "the outputs saturate and the loss sticks: the network stops learning"
    if kind == "no_flags":
        return f"the inspector flags nothing {at}"
    than = "less than" if how == "below" else "more than"
    if kind.startswith("loss_ratio"):
        return f"the training loss {at} is {than} {value:g} times its value at epoch {expect['from']:,}"
    if kind.startswith("loss"):
        return f"the training loss {'falls below' if how == 'below' else 'stays above'} {value:g} {when}"
    if kind.startswith(("train_error", "test_error")):
        what = "training" if kind.startswith("train") else "test"
        if regression:
            return f"the {what} MSE per point {'falls below' if how == 'below' else 'stays above'} {value:g} {when}"
        return f"the {what} error {'falls below' if how == 'below' else 'stays above'} {value:g} % {when}"
    if kind.startswith("dead_units"):
        where = f"layer {expect['layer']}'s" if "layer" in expect else "the network's"
        return f"{than} {value:g} % of {where} ReLU units are dead {at}"
    if kind.startswith("gradient_ratio"):
        return f"the first layer's gradient norm ‖dL/dW‖ is {than} {value:g} times the last layer's {at}"
    return f"layer {expect['layer']}'s weights have moved by {than} {value:g} times their starting size {at}"


def sentences(expects: list[dict], epochs: int | None = None, regression: bool = False) -> str:
    """All of them, in one sentence (empty when there are none)."""
    return "; ".join(sentence(x, epochs, regression) for x in expects) + ("." if expects else "")


# -- judging --------------------------------------------------------------------------------------
@dataclass
class Snapshot:
    """What a run looked like after one epoch: errors %, the inspector's statistics and flags, the
    Linear weights (copies), and whether the outputs are saturated."""

    train_error: float | None
    test_error: float | None
    stats: list[dict]
    flags: list[str]
    weights: list[torch.Tensor]
    saturated: bool


@dataclass
class Run:
    """A headless run of a scene: the loss per point of each epoch (1-based: ``losses[0]`` is epoch
    1's), the epoch it diverged at (None if it did not), the Linear weights it started from, the
    units of each Linear, and a :class:`Snapshot` at each epoch an expectation reads."""

    losses: list[float] = field(default_factory=list)
    diverged_at: int | None = None
    start: list[torch.Tensor] = field(default_factory=list)
    columns: list[inside.Column] = field(default_factory=list)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    regression: bool = False  # its errors are the MSE per point


@dataclass
class Outcome:
    """Whether an expectation holds, and a sentence saying what was measured. For a whole scene
    (:func:`gui.model.lesson.check`), ``parts`` holds one per expectation and ``sentence`` names the
    failing ones."""

    holds: bool
    sentence: str
    parts: list[Outcome] = field(default_factory=list)


def judge(expect: dict, run: Run, epochs: int) -> Outcome:
    """Does ``expect`` hold in ``run`` (of a scene of ``epochs`` epochs)?"""
    measured, holds = _measure(expect, run, expect.get("epoch", epochs))
    words = f"{sentence(expect, epochs, run.regression)}: {measured}"
    return Outcome(holds, f"{'holds' if holds else 'fails'}: {words}")


def _measure(expect: dict, run: Run, at: int) -> tuple[str, bool]:
    kind, value = expect["expect"], expect.get("value")
    if kind == "diverges":
        if run.diverged_at is not None and run.diverged_at <= at:
            return f"diverged at epoch {run.diverged_at:,}", True
        return f"did not diverge in {at:,} epochs (last loss {run.losses[-1]:.4g})", False
    if run.diverged_at is not None and run.diverged_at <= at:
        return f"the run diverged at epoch {run.diverged_at:,}", False
    below = kind.endswith("_below")

    def compare(number: float, text: str) -> tuple[str, bool]:
        holds = math.isfinite(number) and (number < value if below else number > value)
        return text, holds

    loss = run.losses[at - 1]
    if kind.startswith("loss_ratio"):
        ratio = loss / run.losses[expect["from"] - 1] if run.losses[expect["from"] - 1] > 0 else math.nan
        return compare(ratio, f"loss {run.losses[expect['from'] - 1]:.4g} at epoch {expect['from']:,}, "
                              f"{loss:.4g} at epoch {at:,} (ratio {ratio:.3g})")
    if kind.startswith("loss"):
        return compare(loss, f"loss per point {loss:.4g} at epoch {at:,}")
    snap = run.snapshots[at]
    if kind == "saturates":
        return f"{'saturated' if snap.saturated else 'not saturated'}; loss {loss:.4g} at epoch {at:,}", snap.saturated
    if kind == "no_flags":
        return (f"flags {len(snap.flags)} thing(s) at epoch {at:,}: {snap.flags[0]}" if snap.flags
                else f"no flags at epoch {at:,}"), not snap.flags
    if kind.startswith(("train_error", "test_error")):
        error = snap.train_error if kind.startswith("train") else snap.test_error
        what = "training" if kind.startswith("train") else "test"
        if error is None:
            return f"the {what} error is undefined at epoch {at:,}: the weights are not finite", False
        if run.regression:
            return compare(error, f"{what} MSE {error:.4g} per point at epoch {at:,}")
        return compare(error, f"{what} error {error:.1f} % at epoch {at:,}")
    if kind.startswith("dead_units"):
        linears = [expect["layer"] - 1] if "layer" in expect else [
            c.linear for c in run.columns if c.activation == "ReLU"]
        dead = sum(snap.stats[k]["dead_units"] for k in linears)
        units = sum(run.columns[k].units for k in linears)
        return compare(100 * dead / units, f"{dead} of {units} ReLU units dead at epoch {at:,}")
    if kind.startswith("gradient_ratio"):
        first, last = snap.stats[0]["grad_norm"], snap.stats[-1]["grad_norm"]
        ratio = first / last if last > 0 else math.nan
        return compare(ratio, f"‖dL/dW‖ {first:.3g} in the first layer, {last:.3g} in the last "
                              f"(ratio {ratio:.3g}) at epoch {at:,}")
    k = expect["layer"] - 1
    start, size = run.start[k], float(torch.linalg.vector_norm(run.start[k]))
    change = float(torch.linalg.vector_norm(snap.weights[k] - start)) / size if size > 0 else math.nan
    return compare(change, f"layer {k + 1}'s weights moved by {change:.3g} times their size at epoch {at:,}")
