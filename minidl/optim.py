"""Optimisers: they update a model's parameters in place from its gradients."""

from __future__ import annotations

import math

import torch


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
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"SGD eta must be a finite number above 0, got {value!r}")
        self._eta = float(value)

    def step(self, model, gradients: list[torch.Tensor]) -> None:
        """Apply ``gradients`` (as returned by ``model.backward``) to ``model.parameters()``."""
        params = model.parameters()
        if len(gradients) != len(params):
            raise ValueError(
                f"SGD.step got {len(gradients)} gradients for {len(params)} parameters; "
                "pass the list that model.backward(target) returned"
            )
        # One fused call for all parameters instead of a Python loop of small ops.
        torch._foreach_add_(params, gradients, alpha=-self._eta)

    def __repr__(self) -> str:
        return f"SGD(eta={self._eta:g})"
