"""Learning-rate schedules: small objects that :func:`minidl.fit` asks at each epoch.

A schedule maps the epoch number (1, 2, ...) to a factor; ``fit`` sets the optimizer's
``eta_scale`` to it before the epoch's first step, so each step uses ``eta * factor(epoch)``.
The factor depends on the epoch number alone, so a run continued from epoch ``e`` (``fit``'s
``first_epoch``) gets the factors it would have had in one go.
"""

from __future__ import annotations

import math

from . import checks


class Constant:
    """:math:`f(e) = 1`: the step size as set (the default)."""

    def factor(self, epoch: int) -> float:
        return 1.0

    def __repr__(self) -> str:
        return "Constant()"


class StepDecay:
    r""":math:`f(e) = \gamma^{\lfloor (e - 1) / s \rfloor}`: multiply the step size by ``gamma`` every
    ``every`` epochs (``torch.optim.lr_scheduler.StepLR`` with ``step_size=every``)."""

    def __init__(self, every: int = 100, gamma: float = 0.5):
        self.every = checks.integer("StepDecay every", every)
        self.gamma = checks.coefficient("StepDecay gamma", gamma)

    def factor(self, epoch: int) -> float:
        try:
            return self.gamma ** ((epoch - 1) // self.every)
        except OverflowError:  # gamma > 1 after many steps: fit refuses the infinite factor with a sentence
            return math.inf

    def __repr__(self) -> str:
        return f"StepDecay(every={self.every}, gamma={self.gamma:g})"


class Cosine:
    r""":math:`f(e) = f_{min} + (1 - f_{min}) (1 + \cos(\pi (e - 1) / T)) / 2` for :math:`e \le T`, then
    :math:`f_{min}`: from 1 down to ``floor`` over ``epochs`` epochs (``CosineAnnealingLR`` with
    ``T_max=epochs``, ``eta_min = floor * eta``)."""

    def __init__(self, epochs: int, floor: float = 0.0):
        self.epochs = checks.integer("Cosine epochs", epochs)
        self.floor = checks.coefficient("Cosine floor", floor, below_one=True)

    def factor(self, epoch: int) -> float:
        if epoch - 1 >= self.epochs:
            return self.floor
        return self.floor + (1 - self.floor) * (1 + math.cos(math.pi * (epoch - 1) / self.epochs)) / 2

    def __repr__(self) -> str:
        return f"Cosine(epochs={self.epochs}, floor={self.floor:g})"
