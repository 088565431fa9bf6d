"""Element-wise activations. Shape: input ``(N, *)`` -> output of the same shape."""

from __future__ import annotations

import torch

from .layers import check_input
from .module import Module


class Activation(Module):
    """Keeps the output of ``forward``: both derivatives below are functions of it."""

    def __init__(self):
        super().__init__()
        self.output: torch.Tensor | None = None

    def forward(self, x):
        check_input(self, x, None)
        self.output = self.apply(x, out=self._buffer("out", x.shape, x))
        return self.output

    def backward(self, grad_output, input_grad=True):
        if not input_grad:
            return None
        if self.output is None:
            raise ValueError(f"{self!r}: call forward before backward")
        return self._chain(grad_output, self._buffer("grad_in", grad_output.shape, grad_output))

    def to(self, target):
        self.output = None
        return super().to(target)


class ReLU(Activation):
    r""":math:`\mathrm{ReLU}(x) = \max(0, x)`, with :math:`\mathrm{ReLU}'(x) = [x > 0]`."""

    def apply(self, x, out=None):
        return torch.clamp_min(x, 0, out=out)

    def local_grad(self):
        # sign(y) is 1 where y > 0 and 0 where y = 0, since y = max(0, x) >= 0.
        return torch.sign(self.output)

    def _chain(self, grad_output, out):
        mask = torch.sign(self.output, out=self._buffer("mask", self.output.shape, self.output))
        return torch.mul(grad_output, mask, out=out)


class Tanh(Activation):
    r""":math:`\tanh(x)`, with :math:`\tanh'(x) = 1 - \tanh^2(x)`."""

    def apply(self, x, out=None):
        return torch.tanh(x, out=out)

    def local_grad(self):
        return 1 - self.output * self.output

    def _chain(self, grad_output, out):
        # g * (1 - y^2) = g - g * y * y
        torch.mul(grad_output, self.output, out=out)
        return torch.addcmul(grad_output, out, self.output, value=-1, out=out)
