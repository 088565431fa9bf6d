"""Toy problems on the unit square (and one on a line), input features, and target encoding.

Classification (:data:`DATASETS`): every generator takes ``(n, seed, noise)`` and returns ``X`` of
shape ``(n, 2)`` (float32, in or near ``[0, 1]^2``) and integer labels of shape ``(n,)``. ``noise``
is the standard deviation of Gaussian jitter added to the points *after* labelling, so it blurs
the boundary without moving it (0 gives the clean problem).

Regression (:data:`REGRESSION`): the same arguments; ``X`` of shape ``(n, 2)`` uniform on the unit
square (Sine: ``(n, 1)`` uniform on ``[-1, 1]``) and float32 targets ``y`` of shape ``(n, 1)``, in or
near ``[-1, 1]``. ``noise`` is the standard deviation of Gaussian noise added to the *targets*:
the points stay where they are drawn, so one seed draws the same ``X`` at every noise.

:data:`TASKS` says which of the two each name is; :func:`split` draws either.
"""

from __future__ import annotations

import math

import torch

from . import checks

DISC_RADIUS = 1 / math.sqrt(2 * math.pi)  # the disc then covers half of the unit square
# The most points one call draws: 10 million 2-D points take 80 MB of float32 and their labels 80 MB,
# fifty times the playground's largest data (2 x 100,000); far more would exhaust memory inside torch.
MAX_POINTS = 10_000_000


def _generator(n: int, seed: int) -> torch.Generator:
    checks.integer("the number of points", n, 0)
    if n > MAX_POINTS:
        raise ValueError(f"the number of points is {n:,}, but a data set holds at most {MAX_POINTS:,} points; "
                         "draw fewer")
    return torch.Generator().manual_seed(checks.seed(seed))


def _jitter(X: torch.Tensor, noise: float, gen: torch.Generator) -> torch.Tensor:
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number of at least 0, got {noise!r}")
    return X + noise * torch.randn(X.shape, generator=gen) if noise else X


def disc(n: int, seed: int = 0, noise: float = 0.0):
    """The assignment's problem: uniform points, label 1 inside the disc of radius
    :math:`1/\\sqrt{2\\pi}` centred at (0.5, 0.5), 0 outside (about half are inside)."""
    gen = _generator(n, seed)
    X = torch.rand(n, 2, generator=gen)
    labels = ((X - 0.5).pow(2).sum(1) < DISC_RADIUS ** 2).long()
    return _jitter(X, noise, gen), labels


def xor(n: int, seed: int = 0, noise: float = 0.0):
    """Uniform points; label 1 in the top-left and bottom-right quarters."""
    gen = _generator(n, seed)
    X = torch.rand(n, 2, generator=gen)
    labels = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).long()
    return _jitter(X, noise, gen), labels


def blobs(n: int, seed: int = 0, noise: float = 0.0):
    """Two Gaussian blobs (std 0.12) centred at (0.3, 0.3) (label 0) and (0.7, 0.7) (label 1)."""
    gen = _generator(n, seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    centres = torch.tensor([[0.3, 0.3], [0.7, 0.7]])[labels]
    X = centres + 0.12 * torch.randn(n, 2, generator=gen)
    return _jitter(X, noise, gen), labels


def spiral(n: int, seed: int = 0, noise: float = 0.0, classes: int = 2):
    r"""``classes`` (2 to 5) interleaved spiral arms around (0.5, 0.5), one per class, 1.5 turns
    each: at t ~ U(0, 1), arm k has angle :math:`3\pi t + 2\pi k / K` and radius 0.05 + 0.4 t."""
    gen = _generator(n, seed)
    labels = torch.randint(0, classes, (n,), generator=gen)
    t = torch.rand(n, generator=gen)
    angle = 3 * math.pi * t + (2 * math.pi / classes) * labels  # 2 pi / 2 is pi exactly: two arms as ever
    radius = 0.05 + 0.4 * t
    X = 0.5 + radius[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), 1)
    return _jitter(X, noise, gen), labels


def circles(n: int, seed: int = 0, noise: float = 0.0):
    r"""A ring around a core, both centred at (0.5, 0.5): class 1 in the core (radius
    :math:`0.2\sqrt{u}`, uniform over the disc), class 0 in the ring (radius 0.3 + 0.15 u),
    at a uniform angle."""
    gen = _generator(n, seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    u, angle = torch.rand(n, generator=gen), 2 * math.pi * torch.rand(n, generator=gen)
    radius = torch.where(labels == 1, 0.2 * u.sqrt(), 0.3 + 0.15 * u)
    X = 0.5 + radius[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), 1)
    return _jitter(X, noise, gen), labels


def moons(n: int, seed: int = 0, noise: float = 0.0):
    r"""Two interleaved half circles (scikit-learn's make_moons, scaled into the unit square): at
    t ~ U(0, π), class 0 at (cos t, sin t), class 1 at (1 − cos t, 0.5 − sin t), then
    :math:`X = (p + (1, 0.5)) / 3 + (0, 0.25)`."""
    gen = _generator(n, seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    t = math.pi * torch.rand(n, generator=gen)
    lower = labels == 1
    p = torch.stack((torch.where(lower, 1 - torch.cos(t), torch.cos(t)),
                     torch.where(lower, 0.5 - torch.sin(t), torch.sin(t))), 1)
    X = (p + torch.tensor([1.0, 0.5])) / 3 + torch.tensor([0.0, 0.25])
    return _jitter(X, noise, gen), labels


def checkerboard(n: int, seed: int = 0, noise: float = 0.0):
    r"""Uniform points on a 4 × 4 board: label :math:`(\lfloor 4 x_1 \rfloor + \lfloor 4 x_2 \rfloor) \bmod 2`."""
    gen = _generator(n, seed)
    X = torch.rand(n, 2, generator=gen)
    labels = (torch.floor(4 * X).long().sum(1) % 2)
    return _jitter(X, noise, gen), labels


def blobs_k(n: int, seed: int = 0, noise: float = 0.0, classes: int = 3):
    r"""``classes`` (3 to 5) Gaussian blobs (std 0.08), centred on the circle of radius 0.3 around
    (0.5, 0.5): class k at angle :math:`\pi / 2 + 2\pi k / K`."""
    gen = _generator(n, seed)
    labels = torch.randint(0, classes, (n,), generator=gen)
    angle = math.pi / 2 + (2 * math.pi / classes) * labels
    centres = 0.5 + 0.3 * torch.stack((torch.cos(angle), torch.sin(angle)), 1)
    X = centres + 0.08 * torch.randn(n, 2, generator=gen)
    return _jitter(X, noise, gen), labels


# Name -> generator. The existing names keep drawing exactly the points they always drew.
DATASETS = {"Disc": disc, "XOR": xor, "Gaussian blobs": blobs, "Spiral": spiral, "Circles": circles,
            "Moons": moons, "Checkerboard": checkerboard, "Blobs": blobs_k}
# Name -> (fewest, most, default) classes; a dataset missing here has two.
CLASSES = {"Spiral": (2, 5, 2), "Blobs": (3, 5, 3)}


# -- regression ------------------------------------------------------------------------------------
def sine(n: int, seed: int = 0, noise: float = 0.0):
    r"""One input: :math:`x \sim U(-1, 1)`, :math:`y = \sin(2 \pi x) + \text{noise} \cdot \varepsilon`
    (:math:`\varepsilon \sim N(0, 1)`): one period of a sine. ``X`` ``(n, 1)``, ``y`` ``(n, 1)``."""
    gen = _generator(n, seed)
    X = 2 * torch.rand(n, 1, generator=gen) - 1
    return X, _jitter(torch.sin(2 * math.pi * X), noise, gen)


def plane(n: int, seed: int = 0, noise: float = 0.0):
    r"""TensorFlow Playground's plane on the unit square: :math:`y = x_1 + x_2 - 1 + \text{noise} \cdot
    \varepsilon`, the sum of the inputs scaled to the output range [-1, 1]."""
    gen = _generator(n, seed)
    X = torch.rand(n, 2, generator=gen)
    return X, _jitter(X.sum(1, keepdim=True) - 1, noise, gen)


# TensorFlow Playground's six bumps, (x1, x2, sign), its [-6, 6] plane mapped onto the unit square
# ((c + 6) / 12): two rows of three, the signs alternating.
BUMPS = ((1 / 6, 8.5 / 12, 1.0), (0.5, 8.5 / 12, -1.0), (5 / 6, 8.5 / 12, 1.0),
         (1 / 6, 3.5 / 12, -1.0), (0.5, 3.5 / 12, 1.0), (5 / 6, 3.5 / 12, -1.0))
BUMP_WIDTH = 0.08  # the standard deviation of each bump, in the unit square's units


def multi_gaussian(n: int, seed: int = 0, noise: float = 0.0):
    r"""A sum of signed Gaussian bumps over the unit square, at TensorFlow Playground's six
    centres :math:`c_k` with its signs :math:`s_k` (:data:`BUMPS`):
    :math:`y = \sum_k s_k \exp(-\lVert x - c_k \rVert^2 / (2 \sigma^2)) + \text{noise} \cdot \varepsilon`,
    :math:`\sigma` = 0.08. (The playground takes the largest bump, each a cone; the sum is smooth.)"""
    gen = _generator(n, seed)
    X = torch.rand(n, 2, generator=gen)
    centres, signs = torch.tensor([b[:2] for b in BUMPS]), torch.tensor([b[2] for b in BUMPS])
    squared = (X[:, None, :] - centres).pow(2).sum(2)  # (n, 6): the distance to each centre, squared
    y = (signs * torch.exp(-squared / (2 * BUMP_WIDTH ** 2))).sum(1, keepdim=True)
    return X, _jitter(y, noise, gen)


# Name -> generator of a regression problem.
REGRESSION = {"Sine": sine, "Plane": plane, "Multi-Gaussian": multi_gaussian}
# Every dataset name -> "classification" or "regression".
TASKS = {**dict.fromkeys(DATASETS, "classification"), **dict.fromkeys(REGRESSION, "regression")}


def input_width(name: str) -> int:
    """How many input columns the dataset ``name`` draws: 1 for Sine, else 2."""
    return 1 if name == "Sine" else 2


def class_range(name: str) -> tuple[int, int, int]:
    """``(fewest, most, default)`` numbers of classes the dataset ``name`` can draw."""
    return CLASSES.get(name, (2, 2, 2))


def split(name: str, n_train: int, n_test: int, seed: int = 0, noise: float = 0.0, classes: int | None = None):
    """``(X_train, labels_train, X_test, labels_test)`` drawn from one seed, so one
    seed always gives the same data and train and test never share a point.

    ``classes``: how many classes (see :data:`CLASSES`; default: the dataset's own), labels ``0..K-1``.
    A regression dataset (:data:`REGRESSION`) gives float targets ``(N, 1)`` in place of labels and
    takes no ``classes``."""
    if name not in TASKS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(TASKS)}")
    checks.integer("n_train", n_train)
    checks.integer("n_test", n_test)
    if n_train + n_test > MAX_POINTS:
        raise ValueError(f"n_train + n_test is {n_train + n_test:,}, but a data set holds at most {MAX_POINTS:,} "
                         "points; draw fewer")
    if name in REGRESSION:
        if classes is not None:
            raise ValueError(f"the {name} dataset is a regression problem: it has no classes, got classes={classes!r}")
        X, y = REGRESSION[name](n_train + n_test, seed, noise)
        return X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    low, high, default = class_range(name)
    classes = default if classes is None else classes
    if isinstance(classes, bool) or not isinstance(classes, int) or not low <= classes <= high:
        want = f"{low}" if low == high else f"from {low} to {high}"
        raise ValueError(f"the {name} dataset has {want} classes, got classes={classes!r}")
    extra = {"classes": classes} if name in CLASSES else {}
    X, labels = DATASETS[name](n_train + n_test, seed, noise, **extra)
    return X[:n_train], labels[:n_train], X[n_train:], labels[n_train:]


# -- input features --------------------------------------------------------------------------------
# Name -> (the input columns it reads, how it is computed from x1 and x2). Sines in radians of the
# raw coordinate, as TensorFlow Playground has them.
FEATURES = {
    "x1": ((0,), lambda x1, x2: x1), "x2": ((1,), lambda x1, x2: x2),
    "x1sq": ((0,), lambda x1, x2: x1 * x1), "x2sq": ((1,), lambda x1, x2: x2 * x2),
    "x1x2": ((0, 1), lambda x1, x2: x1 * x2),
    "sinx1": ((0,), lambda x1, x2: torch.sin(x1)), "sinx2": ((1,), lambda x1, x2: torch.sin(x2)),
}


def features(X: torch.Tensor, names) -> torch.Tensor:
    r"""The input features ``names`` of the points ``X``, one column each in the order given:
    ``"x1"``, ``"x2"`` (the coordinates), ``"x1sq"``, ``"x2sq"`` (:math:`x_1^2, x_2^2`), ``"x1x2"``
    (:math:`x_1 x_2`), ``"sinx1"``, ``"sinx2"`` (:math:`\sin x_1, \sin x_2`, in radians of the
    coordinate itself). The squares let a linear model draw a circle: on the unit square the
    disc centred at (0.5, 0.5) is :math:`x_1^2 - x_1 + x_2^2 - x_2 < r^2 - 0.5`, linear in
    x1, x2, x1sq and x2sq. A 1-D input (Sine) has only the x1 features.

    Shape: ``X`` ``(N, 2)`` or ``(N, 1)`` -> ``(N, len(names))``, in ``X``'s dtype and device.
    """
    if not isinstance(X, torch.Tensor) or X.dim() != 2 or X.shape[1] not in (1, 2) or not X.dtype.is_floating_point:
        got = f"shape {tuple(X.shape)} and dtype {X.dtype}" if isinstance(X, torch.Tensor) else f"{X!r:.40}"
        raise ValueError(f"features expects points X of shape (N, 2) or, for a 1-D dataset, (N, 1), "
                         f"as a floating-point tensor; got {got}")
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        raise ValueError(f"features expects a non-empty list of feature names from {', '.join(FEATURES)}; "
                         f"got {names!r:.60}")
    for name in names:
        if not isinstance(name, str) or name not in FEATURES:
            raise ValueError(f"unknown input feature {name!r:.40}; choose from {', '.join(FEATURES)}")
        if max(FEATURES[name][0]) >= X.shape[1]:
            x1_only = ", ".join(n for n, (columns, _) in FEATURES.items() if columns == (0,))
            raise ValueError(f"the input feature {name!r} needs x2, but the points have one coordinate (a 1-D "
                             f"dataset such as Sine): choose from {x1_only}")
    if len(set(names)) != len(names):
        raise ValueError(f"each input feature may be listed once; got {', '.join(names)}")
    x1, x2 = X[:, 0], X[:, 1] if X.shape[1] == 2 else None
    return torch.stack([FEATURES[name][1](x1, x2) for name in names], 1)


def one_hot(labels: torch.Tensor, num_classes: int = 2, on: float = 1.0, off: float = 0.0,
            dtype=torch.float32) -> torch.Tensor:
    """Targets ``(N, num_classes)``: ``on`` in each label's column, ``off`` elsewhere.

    The default 1/0 fits a Tanh output: both values lie in Tanh's range, so the
    network can drive its outputs onto them, and the predicted class is the column
    with the largest output (:func:`minidl.metrics.labels`). Pass ``off=-1`` for
    symmetric targets.
    """
    if (not isinstance(labels, torch.Tensor) or labels.dim() != 1 or labels.dtype.is_floating_point
            or labels.dtype.is_complex or labels.dtype == torch.bool):
        raise ValueError(f"one_hot expects a 1-D tensor of integer labels, got {labels!r:.80}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    targets = torch.full((labels.shape[0], num_classes), off, dtype=dtype, device=labels.device)
    # .long(): uint8 or bool indices would be read as a mask, not as column numbers
    targets[torch.arange(labels.shape[0], device=labels.device), labels.long()] = on
    return targets
