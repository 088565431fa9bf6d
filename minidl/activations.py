r"""Element-wise activations, each with its backward :math:`dL/dx = g \odot f'(x)` written in the
output :math:`y = f(x)`.

Shape (every activation):
    - forward: input ``(N, *)`` -> output of the same shape
    - backward: ``g = dL/dy`` of the output's shape -> dL/dx of the same shape
"""

from __future__ import annotations

import torch

from . import checks
from .checks import checked
from .module import Module


def writable(x: torch.Tensor, out: torch.Tensor | None) -> torch.Tensor:
    """The tensor an element-wise method works on in place: ``out`` holding ``x`` (``x`` itself when
    the caller lets us overwrite it, as the training plan does), else a copy of ``x``. In-place
    methods such as ``relu_`` cost half of their ``out=`` forms on small tensors."""
    if out is None:
        return x.clone()
    return out if out is x else out.copy_(x)


class Activation(Module):
    """An element-wise function. ``forward`` keeps its output ``y``: both derivatives below
    are functions of it. Element-wise, so either method may write over its argument."""

    in_place = True

    def __init__(self):
        super().__init__()
        self.output: torch.Tensor | None = None

    def _check_forward(self, x, out=None):
        checks.batch(self, x)
        checks.out(self, out, tuple(x.shape), x)

    def _check_backward(self, grad_output, out=None):
        checks.after_forward(self, self.output)
        checks.grad_output(self, grad_output, self.output.shape, self.output)
        checks.out(self, out, tuple(grad_output.shape), grad_output)


class ReLU(Activation):
    r""":math:`y = \mathrm{ReLU}(x) = \max(0, x)`. Backward, from :math:`g = dL/dy`:

    .. math::
        \frac{dL}{dx} = g \odot [x > 0]

    (0 at :math:`x = 0`, as torch has it). Shape: input ``(N, *)`` -> output of the same shape.
    """

    @checked(Activation._check_forward)
    def forward(self, x, out=None):
        self.output = writable(x, out).relu_()  # max(0, x)
        return self.output

    @checked(Activation._check_backward)
    def backward(self, grad_output, out=None):
        # dL/dx = g [x > 0] = g sign(y), since y = max(0, x) >= 0: two cheap kernels
        # (g * (y > 0) costs several times more: a bool tensor, then a type promotion)
        return writable(grad_output, out).mul_(self.output.sign())

    def local_grad(self):
        return torch.sign(self.output)


class Tanh(Activation):
    r""":math:`y = \tanh(x)`. Backward, from :math:`g = dL/dy`:

    .. math::
        \frac{dL}{dx} = g \odot (1 - y^2)

    Shape: input ``(N, *)`` -> output of the same shape.
    """

    @checked(Activation._check_forward)
    def forward(self, x, out=None):
        self.output = writable(x, out).tanh_()
        return self.output

    @checked(Activation._check_backward)
    def backward(self, grad_output, out=None):
        # dL/dx = g (1 - y^2), computed as g - (g y) y: no scalar operand, which costs a tensor per call
        y = self.output
        return writable(grad_output, out).addcmul_(grad_output * y, y, value=-1)

    def local_grad(self):
        return 1 - self.output * self.output


class Sigmoid(Activation):
    r""":math:`y = \sigma(x) = 1 / (1 + e^{-x})`. Backward, from :math:`g = dL/dy`:

    .. math::
        \frac{dL}{dx} = g \odot y \odot (1 - y)

    Shape: input ``(N, *)`` -> output of the same shape.
    """

    @checked(Activation._check_forward)
    def forward(self, x, out=None):
        self.output = writable(x, out).sigmoid_()
        return self.output

    @checked(Activation._check_backward)
    def backward(self, grad_output, out=None):
        # dL/dx = g y (1 - y), computed as (g y) - (g y) y
        y = self.output
        gy = writable(grad_output, out).mul_(y)
        return gy.sub_(gy * y)

    def local_grad(self):
        return self.output * (1 - self.output)
