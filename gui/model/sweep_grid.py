"""A sweep's values as a person types them, free of Qt: ``"0.001, 0.003, 0.01"``, ``"8, 25"``,
``"Adam, SGD"`` or a log range ``"1e-4..1e-1 x4"`` (4 values evenly spaced on a log scale, both ends
included), read into the lists of ``session.sweep(grid, seeds)``.

Every text that cannot be read gets a sentence that says what is wrong and how to write it; the
session checks the grid as a whole again (gui/model/sweep.py), so this module checks only what the
text alone can tell: numbers, whole numbers, ranges, names and repeats.
"""

from __future__ import annotations

import math
import re

from gui.model.experiment import EPOCHS_MAX, ETA_RANGE, OPTIMIZERS, POINTS_RANGE, SEED_MAX, WIDTH_MAX
from gui.model.sweep import LAYERS_MAX

# The settings a sweep varies, in the dialog's order, with the words it shows for each.
LABELS = {"eta": "Step size (eta)", "batch_size": "Batch size", "epochs": "Epochs",
          "width": "Hidden width (every hidden Linear)", "layers": "Hidden layers", "optimizer": "Optimizer",
          "seed": "Seed"}
SHORT = {"eta": "eta", "batch_size": "batch size", "epochs": "epochs", "width": "width", "layers": "layers",
         "optimizer": "optimizer", "seed": "seed"}
# Whole-number settings and the values they allow.
WHOLE = {"batch_size": (1, POINTS_RANGE[1]), "epochs": (1, EPOCHS_MAX), "width": (1, WIDTH_MAX),
         "layers": (0, LAYERS_MAX), "seed": (0, SEED_MAX)}
MAX_VALUES = 20  # per setting: the session limits the runs in all (values x values x seeds)
EXAMPLES = {"eta": "0.001, 0.003, 0.01 or 1e-4..1e-1 x4", "batch_size": "25, 100", "epochs": "100, 300",
            "width": "8, 25", "layers": "1, 2, 3", "optimizer": ", ".join(OPTIMIZERS), "seed": "0, 1, 2"}
# A log range of each setting's own values, for the sentences about ranges (the optimizer has none).
RANGES = {"eta": "1e-4..1e-1 x4", "batch_size": "10..1000 x3", "epochs": "10..1000 x3", "width": "4..64 x5",
          "layers": "1..8 x4", "seed": "1..100 x3"}
_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+?)\s*[x×]\s*(\S+)\s*$", re.IGNORECASE)
_TEXT_SHOWN = 40  # characters of a bad entry quoted back in a sentence


def label(setting: str) -> str:
    """The dialog's words for ``setting`` (a name it does not know is shown as written)."""
    return LABELS.get(setting, setting)


def parse_values(setting: str, text: str) -> list:
    """The values ``text`` names for ``setting``: floats for eta, whole numbers for the counts, names for the
    optimizer. ``ValueError`` with a sentence (what is wrong, how to write it) for anything else."""
    if setting not in LABELS:
        raise ValueError(f"A sweep cannot vary {_quote(setting)}: choose one of {', '.join(LABELS)}.")
    text = str(text).strip()
    how = f"Write the values separated by commas, e.g. {EXAMPLES[setting]}."
    if not text:
        raise ValueError(f"The values for {SHORT[setting]} are empty. {how}")
    match = _RANGE.match(text)
    if match:
        values = _log_range(setting, *match.groups())
    elif ".." in text:
        raise ValueError(f"{_quote(text)} is not a range: write the first value, two dots, the last value, "
                         f"x and how many values, e.g. {RANGES.get(setting, RANGES['eta'])}.")
    else:
        parts = [part.strip() for part in text.replace(";", ",").split(",")]
        if any(not part for part in parts):
            raise ValueError(f"The values for {SHORT[setting]} have an empty entry (two commas in a row, or a comma "
                             f"at an end). {how}")
        values = [_one(setting, part, how) for part in parts]
    if len(values) > MAX_VALUES:
        raise ValueError(f"{len(values)} values for {SHORT[setting]} are too many for one sweep: give at most "
                         f"{MAX_VALUES}.")
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"The value {format_value(value)} is given twice for {SHORT[setting]}: give each value "
                             "once.")
        seen.add(value)
    return values


def _one(setting: str, part: str, how: str):
    if setting == "optimizer":
        names = {name.lower().replace(" ", ""): name for name in OPTIMIZERS}
        name = names.get(part.lower().replace(" ", ""))
        if name is None:
            raise ValueError(f"{_quote(part)} is not an optimizer: choose among {', '.join(OPTIMIZERS)}.")
        return name
    number = _number(part)
    if number is None:
        raise ValueError(f"{_quote(part)} is not a number. {how}")
    return _checked(setting, number)


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _checked(setting: str, number: float):
    if setting == "eta":
        low, high = ETA_RANGE
        if not low <= number <= high:
            raise ValueError(f"The step size {format_value(number)} is out of range: eta must lie between {low:g} "
                             f"and {high:g}.")
        return float(number)
    low, high = WHOLE[setting]
    if number != int(number):
        raise ValueError(f"{format_value(number)} is not a whole number: {SHORT[setting]} takes whole numbers.")
    if not low <= number <= high:
        raise ValueError(f"{format_value(number)} is out of range for {SHORT[setting]}: give whole numbers from "
                         f"{low:,} to {high:,}.")
    return int(number)


def _log_range(setting: str, first: str, last: str, count: str) -> list:
    if setting == "optimizer":
        raise ValueError("The optimizer has no range: name the optimizers separated by commas, e.g. "
                         f"{EXAMPLES['optimizer']}.")
    example = RANGES[setting]
    a, b, n = _number(first), _number(last), _number(count)
    if a is None or b is None:
        bad = first if a is None else last
        raise ValueError(f"{_quote(bad)} is not a number: write a range as first..last x count, e.g. {example}.")
    if n is None or n != int(n) or not 2 <= n <= MAX_VALUES:
        raise ValueError(f"{_quote(count)} is not a count of values: after x give a whole number from 2 to "
                         f"{MAX_VALUES}, e.g. {example}.")
    if a <= 0 or b <= 0:
        raise ValueError("A log range needs both ends above 0 (it spaces the values by their logarithm): "
                         f"e.g. {example}, or list the values separated by commas.")
    if a == b:
        raise ValueError(f"The range's two ends are equal: give two different ends, e.g. {example}.")
    n = int(n)
    step = (math.log10(b) - math.log10(a)) / (n - 1)
    raw = [a if i == 0 else b if i == n - 1 else 10 ** (math.log10(a) + i * step) for i in range(n)]
    if setting == "eta":
        return [_checked(setting, float(f"{value:.3g}")) for value in raw]  # 0.000464, not 0.00046415888...
    values = [_checked(setting, round(value)) for value in raw]
    if len(set(values)) < len(values):
        raise ValueError(f"{first}..{last} x{n} repeats whole numbers once rounded ({format_values(values)}): "
                         "ask for fewer values or a wider range.")
    return values


def format_value(value) -> str:
    """A value as the dialog writes it: ``0.001``, ``25``, ``Adam``."""
    if isinstance(value, float):
        return format(value, "g")
    return str(value)


def format_values(values) -> str:
    """``"0.001, 0.01"``: the text :func:`parse_values` reads back as ``values``."""
    return ", ".join(format_value(v) for v in values)


def grid_from(first: str, first_text: str, second: str | None = None, second_text: str = "") -> dict:
    """The grid for ``session.sweep`` from the dialog's fields: one setting, or two (``second`` None or
    ``"(none)"``: one). ``ValueError`` with a sentence that names the field at fault."""
    grid = {first: parse_values(first, first_text)}
    if second and second in LABELS:
        if second == first:
            raise ValueError(f"Both settings are {SHORT[first]}: choose a different second setting, or (none).")
        try:
            grid[second] = parse_values(second, second_text)
        except ValueError as error:
            raise ValueError(f"Second setting: {error}") from None
    return grid


def values_label(values: dict) -> str:
    """``"eta 0.01, width 8"``: a variant's values in words (strings from a file are shown as written)."""
    return ", ".join(f"{SHORT.get(k, k)} {format_value(v)}" for k, v in values.items())


def _quote(text) -> str:
    text = str(text)
    return repr(text if len(text) <= _TEXT_SHOWN else text[:_TEXT_SHOWN - 1] + "…")
