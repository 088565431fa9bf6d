"""Your own points, free of Qt: the custom dataset's points and its train/test split.

A point is ``[x1, x2, label, split]``: ``split`` is ``BY_RATIO`` (0: the experiment's test ratio
decides, seeded), ``TRAIN`` (1) or ``TEST`` (2). Drawn points are split by ratio; a CSV file's
optional ``split`` column fixes them (``gui.files.points_csv`` reads and writes CSV files).
Labels are whole numbers ``0..K-1``, K at most ``MAX_CLASSES``; at most ``MAX_ROWS`` rows.
Points may lie outside the unit square.
"""

from __future__ import annotations

import numpy as np
import torch

BY_RATIO, TRAIN, TEST = 0, 1, 2
MAX_ROWS = 100_000
MAX_CLASSES = 10
COORDINATE_LIMIT = 1e6  # the plot's extent follows the points; beyond this a typo is likelier than data


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
    rows = torch.from_numpy(np.asarray(points, dtype=np.float64).reshape(-1, 4))  # one pass over the list
    table, labels, codes = rows[:, :2].float(), rows[:, 2].long(), rows[:, 3].long()
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
