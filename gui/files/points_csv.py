"""Points as CSV files: :func:`read_csv`/:func:`parse_csv` refuse a bad file with a sentence that
names the line and the problem, before anything changes; :func:`to_csv` writes the data.

CSV format: columns ``x1,x2,label`` and an optional ``split`` (``train``/``test``), with an
optional header line naming them (in any order). Labels are whole numbers ``0..K-1``, K at most
``MAX_CLASSES``; at most ``MAX_ROWS`` rows. Points may lie outside the unit square.

A regression's data is written by :func:`targets_to_csv` as ``x1,x2,target,split`` (``x1,target,split``
for a 1-D dataset such as Sine), for other tools: your own points are classes, so importing such a
file is refused with a sentence that says so.
"""

from __future__ import annotations

import math
import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path

from gui.model.points import BY_RATIO, COORDINATE_LIMIT, MAX_CLASSES, MAX_ROWS, TEST, TRAIN
from minidl.atomic import file_kind

SPLIT_NAMES = {"": BY_RATIO, "train": TRAIN, "test": TEST}
MAX_BYTES = 64 * MAX_ROWS  # generous for rows of four numbers; a larger file is refused unread
COLUMNS = ("x1", "x2", "label")
NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends an editor counts


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
    if "target" in names and "label" not in names:
        raise ValueError(f"line {number} names a target column: it holds a regression's values, but your own "
                         "points are classes; import a file of x1,x2,label rows (labels 0..K-1)")
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


def targets_to_csv(P_train, y_train, P_test, y_test) -> str:
    """A regression's train and test points with their targets as CSV text with a header:
    ``x1,x2,target,split`` (``x1,target,split`` for 1-D points)."""
    dims = P_train.shape[1]
    rows = [",".join(["x1", "x2"][:dims] + ["target", "split"])]
    for P, y, name in ((P_train, y_train, "train"), (P_test, y_test, "test")):
        rows += [",".join(f"{v:.9g}" for v in (*point, target)) + f",{name}"
                 for point, (target,) in zip(P.tolist(), y.tolist(), strict=True)]
    return "\n".join(rows) + "\n"
