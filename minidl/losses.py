"""Loss functions."""

from __future__ import annotations

import torch

from . import checks
from .checks import checked
from .module import Loss
from .plan import Kept, flattened


class MSE(Loss):
    r"""Summed squared error: :math:`L(y, t) = \sum_{n,k} (y_{nk} - t_{nk})^2`.

    The course's convention: the *sum* over the batch, not the mean, so the gradient
    :math:`dL/dy = 2 (y - t)` grows with the batch size and the report's ``eta = 1e-3``
    works as printed.

    Shape:
        output ``(N, K)``, target ``(N, K)`` -> loss: a 0-d tensor
    """

    in_place = True  # forward(out=b) keeps the difference in b, and backward(out=b) writes over it

    def __init__(self):
        super().__init__()
        self.diff: torch.Tensor | None = None
        self._flat = Kept(flattened)  # d as a vector: a view kept while d is the same buffer (minidl/plan.py)

    @checked(checks.target)
    def forward(self, output, target, out=None):
        # L = d.d with d = y - t, kept (in out=, a buffer shaped like output, when given): the gradient is 2 d
        self.diff = d = torch.sub(output, target, out=out)
        flat = self._flat(d)
        return torch.dot(flat, flat)

    def _check_backward(self, out=None):
        checks.after_forward(self, self.diff)

    @checked(_check_backward)
    def backward(self, out=None):
        # dL/dy = 2 d, as d + d: exact, and a scalar multiplier would cost a tensor per call
        return torch.add(self.diff, self.diff, out=out)
