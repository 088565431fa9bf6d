"""Element-wise activations. Shape: input ``(N, *)`` -> output of the same shape."""

from __future__ import annotations

import torch

from .layers import check_input
from .module import Module, autograd_off, check_grad_output


class Activation(Module):
    """Keeps the output of ``forward``: both derivatives below are functions of it.

    Each activation defines ``apply`` (the function, optionally into ``out``),
    ``apply_`` (the same, in place) and ``chain_`` (multiply a gradient in place by the
    local derivative). ``forward`` and ``backward`` write into the module's own
    buffers; the ``_inplace`` variants overwrite their argument instead, which saves a
    buffer and a few tenths of a microsecond per call. :class:`~minidl.Sequential` uses
    them where it owns the argument: the output of the Linear before, and any gradient.
    """

    def __init__(self):
        super().__init__()
        self.output: torch.Tensor | None = None

    @autograd_off
    def forward(self, x):
        check_input(self, x, None)
        return self.forward_unchecked(x)

    def forward_unchecked(self, x):
        self.output = self.apply(x, out=self._buffer("out", x.shape, x))
        return self.output

    def forward_inplace(self, x):
        """``forward`` that overwrites ``x``, for an ``x`` nothing else needs (unchecked)."""
        self.output = self.apply_(x)
        return x

    @autograd_off
    def backward(self, grad_output, input_grad=True):
        self._check_grad(grad_output)
        if not input_grad:
            return None
        return self.chain_(self._buffer("grad_in", grad_output.shape, grad_output).copy_(grad_output))

    @autograd_off
    def backward_inplace(self, grad_output, input_grad=True):
        """``backward`` that overwrites ``grad_output``, for a gradient nothing else needs."""
        self._check_grad(grad_output)
        if not input_grad:
            return None
        return self.chain_(grad_output)

    def _check_grad(self, grad_output) -> None:
        if self.output is None:
            raise ValueError(f"{self!r}: call forward before backward")
        check_grad_output(self, grad_output, self.output.shape, self.output)

    def _scratch(self, y):
        """A work buffer shaped like the output ``y`` (for Tanh's ``chain_``)."""
        return self._buffer("scratch", y.shape, y)

    def to(self, target):
        self.output = None
        return super().to(target)


class ReLU(Activation):
    r""":math:`\mathrm{ReLU}(x) = \max(0, x)`, with :math:`\mathrm{ReLU}'(x) = [x > 0]`."""

    def apply(self, x, out=None):
        return torch.clamp_min(x, 0, out=out)

    def apply_(self, x):
        return x.relu_()  # the same max(x, 0), through a cheaper call than clamp_min_

    def local_grad(self):
        # sign(y) is 1 where y > 0 and 0 where y = 0, since y = max(0, x) >= 0.
        return torch.sign(self.output)

    def chain_(self, grad):
        # g * [y > 0] as g * sign(y): two cheap kernels, where g.mul(y > 0) costs several times more.
        return grad.mul_(self.output.sign())


class Tanh(Activation):
    r""":math:`\tanh(x)`, with :math:`\tanh'(x) = 1 - \tanh^2(x)`."""

    def apply(self, x, out=None):
        return torch.tanh(x, out=out)

    def apply_(self, x):
        return x.tanh_()

    def local_grad(self):
        return 1 - self.output * self.output

    def chain_(self, grad):
        # g * (1 - y^2) = g - (g * y) * y: no scalar operand, which costs a tensor per call
        y = self.output
        return grad.addcmul_(torch.mul(grad, y, out=self._derived("scratch", y, self._scratch)), y, value=-1)
