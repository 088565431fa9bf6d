"""Optimisers: they update a model's parameters in place from its gradients."""

from __future__ import annotations

import torch

from . import checks
from .checks import checked


class SGD:
    r"""Stochastic gradient descent, in place: :math:`\theta \leftarrow \theta - \eta \, \nabla_\theta L`.

    ``eta`` may be changed between steps (the playground does so during a run); it takes
    effect at the next :meth:`step`.
    """

    def __init__(self, eta: float = 1e-3):
        self.eta = eta

    @property
    def eta(self) -> float:
        return self._eta

    @eta.setter
    def eta(self, value: float) -> None:
        self._eta = checks.eta(value)

    def _check_step(self, model, gradients):
        params = model.parameters()
        checks.gradients(params, gradients)
        checks.eta_fits(self._eta, params[0].dtype)

    @checked(_check_step)
    def step(self, model, gradients: list[torch.Tensor]) -> None:
        """Apply ``gradients`` (as returned by ``model.backward``) to ``model.parameters()``."""
        # theta <- theta - eta grad, for all parameters in one fused call instead of a Python loop
        torch._foreach_add_(model.parameters(), gradients, alpha=-self._eta)

    def __repr__(self) -> str:
        return f"SGD(eta={self._eta:g})"
