"""Toy 2-D classification problems on the unit square, and target encoding.

Every generator takes ``(n, seed, noise)`` and returns ``X`` of shape ``(n, 2)``
(float32, in or near ``[0, 1]^2``) and integer labels of shape ``(n,)``. ``noise`` is
the standard deviation of Gaussian jitter added to the points *after* labelling, so
it blurs the boundary without moving it (0 gives the clean problem).
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


def class_range(name: str) -> tuple[int, int, int]:
    """``(fewest, most, default)`` numbers of classes the dataset ``name`` can draw."""
    return CLASSES.get(name, (2, 2, 2))


def split(name: str, n_train: int, n_test: int, seed: int = 0, noise: float = 0.0, classes: int | None = None):
    """``(X_train, labels_train, X_test, labels_test)`` drawn from one seed, so one
    seed always gives the same data and train and test never share a point.

    ``classes``: how many classes (see :data:`CLASSES`; default: the dataset's own), labels ``0..K-1``."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    checks.integer("n_train", n_train)
    checks.integer("n_test", n_test)
    if n_train + n_test > MAX_POINTS:
        raise ValueError(f"n_train + n_test is {n_train + n_test:,}, but a data set holds at most {MAX_POINTS:,} "
                         "points; draw fewer")
    low, high, default = class_range(name)
    classes = default if classes is None else classes
    if isinstance(classes, bool) or not isinstance(classes, int) or not low <= classes <= high:
        want = f"{low}" if low == high else f"from {low} to {high}"
        raise ValueError(f"the {name} dataset has {want} classes, got classes={classes!r}")
    extra = {"classes": classes} if name in CLASSES else {}
    X, labels = DATASETS[name](n_train + n_test, seed, noise, **extra)
    return X[:n_train], labels[:n_train], X[n_train:], labels[n_train:]


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
