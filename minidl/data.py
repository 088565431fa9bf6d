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


def _generator(n: int, seed: int) -> torch.Generator:
    checks.integer("the number of points", n, 0)
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


def spiral(n: int, seed: int = 0, noise: float = 0.0):
    """Two interleaved spiral arms around (0.5, 0.5), one per class, 1.5 turns each."""
    gen = _generator(n, seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    t = torch.rand(n, generator=gen)
    angle = 3 * math.pi * t + math.pi * labels
    radius = 0.05 + 0.4 * t
    X = 0.5 + radius[:, None] * torch.stack((torch.cos(angle), torch.sin(angle)), 1)
    return _jitter(X, noise, gen), labels


DATASETS = {"Disc": disc, "XOR": xor, "Gaussian blobs": blobs, "Spiral": spiral}


def split(name: str, n_train: int, n_test: int, seed: int = 0, noise: float = 0.0):
    """``(X_train, labels_train, X_test, labels_test)`` drawn from one seed, so one
    seed always gives the same data and train and test never share a point."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    checks.integer("n_train", n_train)
    checks.integer("n_test", n_test)
    X, labels = DATASETS[name](n_train + n_test, seed, noise)
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
