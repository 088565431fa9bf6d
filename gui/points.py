"""Your own points, free of Qt: the custom dataset's points, its train/test split, and CSV files.

A point is ``[x1, x2, label, split]``: ``split`` is ``BY_RATIO`` (0: the experiment's test ratio
decides, seeded), ``TRAIN`` (1) or ``TEST`` (2). Drawn points are split by ratio; a CSV file's
optional ``split`` column fixes them. :func:`parse_csv` refuses a bad file with a sentence that
names the line and the problem, before anything changes.

CSV format: columns ``x1,x2,label`` and an optional ``split`` (``train``/``test``), with an
optional header line naming them (in any order). Labels are whole numbers ``0..K-1``, K at most
``MAX_CLASSES``; at most ``MAX_ROWS`` rows. Points may lie outside the unit square.
"""

from __future__ import annotations

import math
import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path

import torch

from minidl.atomic import file_kind

BY_RATIO, TRAIN, TEST = 0, 1, 2
SPLIT_NAMES = {"": BY_RATIO, "train": TRAIN, "test": TEST}
MAX_ROWS = 100_000
MAX_CLASSES = 10
MAX_BYTES = 64 * MAX_ROWS  # generous for rows of four numbers; a larger file is refused unread
COLUMNS = ("x1", "x2", "label")
COORDINATE_LIMIT = 1e6  # the plot's extent follows the points; beyond this a typo is likelier than data
NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends an editor counts


def check_points(points) -> list[list]:
    """``points`` as a list of ``[x1, x2, label, split]``; ``ValueError`` with a sentence if malformed."""
    if not isinstance(points, list):
        raise ValueError("the experiment's points must be a list of [x1, x2, label, split]")
    if len(points) > MAX_ROWS:
        raise ValueError(f"the experiment holds {len(points):,} points; at most {MAX_ROWS:,} are allowed")
    checked = []
    for i, p in enumerate(points):
        ok = (isinstance(p, list) and len(p) == 4
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p)
              and all(abs(v) <= COORDINATE_LIMIT for v in p[:2])  # exact: NaN and 10**400 fail it
              and isinstance(p[2], int) and 0 <= p[2] < MAX_CLASSES and p[3] in (BY_RATIO, TRAIN, TEST)
              and isinstance(p[3], int))
        if not ok:
            raise ValueError(f"point {i + 1} of the experiment must be [x1, x2, label 0..{MAX_CLASSES - 1}, "
                             f"split 0..2] with finite coordinates, got {p!r:.60}")
        checked.append([float(p[0]), float(p[1]), p[2], p[3]])
    return checked


def num_classes(points: list[list]) -> int:
    """K: one more than the largest label, at least 2."""
    return max(2, 1 + max((p[2] for p in points), default=0))


def split(points: list[list], test_ratio: float, seed: int):
    """``(X_train, labels_train, X_test, labels_test)`` of ``points``; those without a fixed split
    go to the test set in the proportion ``test_ratio`` (at least one of each while there are two),
    chosen by a permutation drawn from ``seed``, so the same points and seed give the same split."""
    if not points:
        empty = torch.empty(0, 2)
        return empty, torch.empty(0, dtype=torch.long), empty.clone(), torch.empty(0, dtype=torch.long)
    table = torch.tensor([p[:2] for p in points], dtype=torch.float64).float()
    labels = torch.tensor([p[2] for p in points], dtype=torch.long)
    codes = torch.tensor([p[3] for p in points], dtype=torch.long)
    free = torch.nonzero(codes == BY_RATIO).flatten()
    is_test = codes == TEST
    if len(free):
        count = _free_tests(len(free), test_ratio)
        order = torch.randperm(len(free), generator=torch.Generator().manual_seed(seed))
        is_test[free[order[:count]]] = True
    return table[~is_test], labels[~is_test], table[is_test], labels[is_test]


def _free_tests(free: int, test_ratio: float) -> int:
    """How many of ``free`` points without a fixed split go to the test set."""
    count = round(test_ratio * free)
    return min(max(count, 1), free - 1) if free >= 2 else count


def split_sizes(points: list[list], test_ratio: float) -> tuple[int, int]:
    """``(train, test)`` point counts of :func:`split`, without making the tensors."""
    codes = [p[3] for p in points]
    free, test = codes.count(BY_RATIO), codes.count(TEST)
    test += _free_tests(free, test_ratio)
    return len(points) - test, test


def problems(points: list[list], test_ratio: float = 0.3) -> list[str]:
    """Sentences that stop a run on these points (none when it can run)."""
    if not points:
        return ["The custom data has no points yet: draw some (Draw points) or import a CSV file (File menu)."]
    present = {p[2] for p in points}
    if len(present) < 2:
        return ["The custom data has one class only: draw or import points of a second class."]
    missing = sorted(set(range(num_classes(points))) - present)
    if missing:
        return [f"The custom data's labels skip class {missing[0]}: labels must be 0..K-1 with points in each."]
    train, test = split_sizes(points, test_ratio)
    if not train or not test:
        return [f"The custom data has no {'training' if not train else 'test'} points: mark some rows "
                f"{'train' if not train else 'test'} in the CSV's split column, or leave it empty to split by "
                "the test share."]
    return []


# -- CSV ----------------------------------------------------------------------------------------
def read_csv(path) -> list[list]:
    """The points of the CSV file ``path``: a regular file of at most ``MAX_BYTES`` (a FIFO or a device
    is refused before it is read), parsed by :func:`parse_csv`."""
    path = Path(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"it is {file_kind(info.st_mode)}, not a regular file")
        with open(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise ValueError("it is not a regular file")
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise ValueError(error.strerror or str(error)) from None
    return parse_csv(data)


def parse_csv(data: bytes) -> list[list]:
    """The points of a CSV file's bytes; ``ValueError`` naming the line and the problem."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"it is {len(data):,} bytes, more than {MAX_ROWS:,} rows of points could take "
                         f"({MAX_BYTES:,} bytes)")
    if b"\0" in data:
        raise ValueError("it is not a text file (it holds NUL bytes); export a CSV file of x1,x2,label rows")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"it is not UTF-8 text (byte {error.start + 1} cannot be read); save it as a CSV "
                         "text file") from None
    lines = NEWLINE.split(text)  # not str.splitlines(): a form feed or U+2028 would shift the line numbers
    rows = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not rows:
        raise ValueError("it is empty; it needs rows of x1,x2,label")
    columns, has_split = {"x1": 0, "x2": 1, "label": 2, "split": 3}, None
    first_number, first = rows[0]
    if not _is_number(first.split(",")[0]):
        columns, has_split = _header(first_number, first), None
        rows = rows[1:]
        if not rows:
            raise ValueError(f"line {first_number} is a header, but no rows of points follow it")
        has_split = "split" in columns
    points: list[list] = []
    for count, (number, line) in enumerate(rows, 1):
        if count > MAX_ROWS:
            raise ValueError(f"line {number}: more than {MAX_ROWS:,} rows; split the file or thin it out")
        fields = [f.strip() for f in line.split(",")]
        if has_split is None:
            has_split = len(fields) == 4
        want = 4 if has_split else 3
        if len(fields) != want:
            names = "x1,x2,label,split" if has_split else "x1,x2,label"
            raise ValueError(f"line {number}: expected {want} columns ({names}), found {len(fields)}")
        x1, x2 = (_coordinate(number, name, fields[columns[name]]) for name in ("x1", "x2"))
        label = _label(number, fields[columns["label"]])
        code = BY_RATIO
        if has_split:
            word = fields[columns["split"]].lower()
            if word not in SPLIT_NAMES:
                raise ValueError(f"line {number}: split is {fields[columns['split']]!r:.30}; write train, test or "
                                 "leave it empty")
            code = SPLIT_NAMES[word]
        points.append([x1, x2, label, code])
    present = {p[2] for p in points}
    missing = sorted(set(range(max(present) + 1)) - present)
    if missing:
        raise ValueError(f"its labels are not 0..{max(present)}: no row has label {missing[0]}; number the "
                         "classes from 0 without gaps")
    return points


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header(number: int, line: str) -> dict[str, int]:
    names = [f.strip().lower() for f in line.split(",")]
    unknown = [n for n in names if n not in (*COLUMNS, "split")]
    if unknown or len(set(names)) != len(names) or not set(COLUMNS) <= set(names):
        raise ValueError(f"line {number}: the header must name the columns x1, x2, label and optionally split "
                         f"(once each), got {line.strip()!r:.60}")
    return {name: i for i, name in enumerate(names)}


def _coordinate(number: int, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"line {number}: {name} is {text!r:.30}, not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"line {number}: {name} is {text!r:.30}; only finite numbers are allowed (no NaN or inf)")
    if abs(value) > COORDINATE_LIMIT:
        # repr: the shortest digits that tell this value from the limit (":g" shows 1000000.5 as 1e+06)
        raise ValueError(f"line {number}: {name} is {value!r}, beyond ±{COORDINATE_LIMIT:,.0f}; check the file")
    return value


def _label(number: int, text: str) -> int:
    """The label written as ``text``, read exactly (a float would round 0.99999999999999999 up to 1)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"line {number}: label is {text!r:.30}, not a class number 0..{MAX_CLASSES - 1}") from None
    if not (value.is_finite() and value == value.to_integral_value() and value >= 0):
        raise ValueError(f"line {number}: label is {text!r:.30}; labels are whole numbers 0..K-1")
    if value >= MAX_CLASSES:
        raise ValueError(f"line {number}: label is {text:.30}: more than {MAX_CLASSES} classes; the playground "
                         f"draws at most {MAX_CLASSES}")
    return int(value)


def to_csv(X_train, labels_train, X_test, labels_test) -> str:
    """Train and test points as CSV text with a header: ``x1,x2,label,split``."""
    rows = ["x1,x2,label,split"]
    for X, labels, name in ((X_train, labels_train, "train"), (X_test, labels_test, "test")):
        rows += [f"{x1:.9g},{x2:.9g},{label},{name}" for (x1, x2), label in zip(X.tolist(), labels.tolist(),
                                                                                    strict=True)]
    return "\n".join(rows) + "\n"
