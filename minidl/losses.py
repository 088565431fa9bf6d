"""Loss functions."""

from __future__ import annotations

import torch

from . import checks
from .checks import checked
from .module import Loss
from .plan import Kept, flattened


class MSE(Loss):
    r"""Summed squared error: :math:`L(y, t) = \sum_{n,k} (y_{nk} - t_{nk})^2`. Backward:

    .. math::
        \frac{dL}{dy} = 2 (y - t)

    The course's convention: the *sum* over the batch, not the mean (no :math:`1/N`), so the
    gradient grows with the batch size and the report's ``eta = 1e-3`` works as printed.
    ``torch.nn.MSELoss(reduction="sum")``.

    Shape:
        - forward: output ``(N, K)``, target ``(N, K)`` -> loss: a 0-d tensor
        - backward: -> dL/dy ``(N, K)``
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


class CrossEntropy(Loss):
    r"""Softmax cross-entropy on raw scores (logits), summed over the batch like :class:`MSE`:
    :math:`L(z, t) = -\sum_{n,k} t_{nk} \log \mathrm{softmax}(z_n)_k`, with
    :math:`\mathrm{softmax}(z_n)_k = e^{z_{nk}} / \sum_j e^{z_{nj}}`.

    Each target row holds class probabilities that sum to 1 (one-hot: :func:`minidl.data.one_hot`),
    so the fused backward is

    .. math::
        \frac{dL}{dz} = \mathrm{softmax}(z) - t

    (the textbook chain, :math:`dL/dp = -t / p` through the softmax's Jacobian, folded into one
    difference). The softmax subtracts each
    row's maximum first (:math:`m_n`), so large scores never overflow:
    :math:`L = \sum_n (m_n + \log \sum_k e^{z_{nk} - m_n}) - \sum_{n,k} t_{nk} z_{nk}`.
    The model's output stays the raw scores: ``predict`` and :func:`minidl.metrics.error_rate`
    (the argmax) need no softmax. ``torch.nn.CrossEntropyLoss(reduction="sum")`` on class indices.

    Shape:
        - forward: output ``(N, K)``, target ``(N, K)`` -> loss: a 0-d tensor
        - backward: -> dL/dz ``(N, K)``
    """

    in_place = True  # forward(out=b) keeps the softmax in b, and backward(out=b) writes the gradient over it

    def __init__(self):
        super().__init__()
        self.probs: torch.Tensor | None = None
        self.target: torch.Tensor | None = None

    def _check_forward(self, output, target, out=None):
        checks.target(self, output, target, out)
        checks.distributions(self, target)

    @checked(_check_forward)
    def forward(self, output, target, out=None):
        m = output.amax(1, keepdim=True)
        p = torch.sub(output, m, out=out).exp_()  # e^(z - m), kept (in out= when given)
        sums = p.sum(1, keepdim=True)
        self.probs, self.target = p.div_(sums), target  # softmax(z)
        # sum_n (m_n + log sum_k e^(z_nk - m_n)) - sum_nk t_nk z_nk  (each row of t sums to 1)
        return sums.log_().add_(m).sum() - torch.dot(target.reshape(-1), output.reshape(-1))

    def check_targets(self, target):
        checks.distributions(self, target)

    def _check_backward(self, out=None):
        checks.after_forward(self, self.probs)

    @checked(_check_backward)
    def backward(self, out=None):
        return torch.sub(self.probs, self.target, out=out)  # dL/dz = softmax(z) - t
