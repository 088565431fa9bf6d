"""Fully connected layer."""

from __future__ import annotations

import math

import torch

from . import checks
from .checks import checked
from .module import Module
from .plan import Kept, transposed

INITS = ("xavier", "xavier_normal", "he")


def _matrix(rows: int, cols: int, dtype, device) -> torch.Tensor:
    """An uninitialised ``(rows, cols)`` matrix stored with its longer side contiguous (a
    transposed view when rows > cols): BLAS reads and writes matrices whose rows are only a
    few elements wide several times slower (timings in benchmarks/README.md)."""
    if rows > cols:
        return torch.empty(cols, rows, dtype=dtype, device=device).t()
    return torch.empty(rows, cols, dtype=dtype, device=device)


def _transposed_and_ones(g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return g.mT, g.new_ones(g.shape[0])


class Linear(Module):
    r"""Fully connected layer: :math:`y = x W^T + b`. Backward, from :math:`g = dL/dy`:

    .. math::
        \frac{dL}{dx} = g W, \quad \frac{dL}{dW} = g^T x, \quad \frac{dL}{db} = \sum_n g_n

    (dL/db: the sum of :math:`g` over the batch). ``backward(g)`` returns dL/dx (``None`` when
    ``input_grad`` is False, see ``Module``) and writes dL/dW and dL/db over ``weight_grad`` and
    ``bias_grad`` (set, not accumulated).

    Weights and bias start Xavier (Glorot) uniform, :math:`U(-a, a)` with
    :math:`a = \sqrt{6 / (\text{in} + \text{out})}`, as in the report. ``weight`` and
    ``weight_grad`` have shape ``(out_features, in_features)``, stored with the longer side
    contiguous (a transposed view when ``out_features > in_features``; see ``_matrix``).

    Args:
        in_features: width of each input row.
        out_features: width of each output row.
        init: ``"xavier"`` (default), ``"xavier_normal"`` or ``"he"`` (Kaiming uniform).
        generator: a ``torch.Generator`` for reproducible initial weights.
        dtype, device: where the parameters live (default float32 on the CPU).

    Shape:
        - forward: input ``(N, in_features)`` -> output ``(N, out_features)``
        - backward: ``g`` ``(N, out_features)`` -> dL/dx ``(N, in_features)``; ``weight_grad``
          ``(out_features, in_features)``, ``bias_grad`` ``(out_features,)``

    Examples::

        >>> layer = Linear(2, 25)
        >>> layer.forward(torch.rand(100, 2)).shape
        torch.Size([100, 25])
    """

    keeps_output = False  # backward needs the input and the weights, never the output

    def __init__(self, in_features: int, out_features: int, *, init: str = "xavier",
                 generator: torch.Generator | None = None, dtype=torch.float32, device=None):
        super().__init__()
        checks.integer("Linear in_features", in_features)
        checks.integer("Linear out_features", out_features)
        if init not in INITS:
            raise ValueError(f"Linear init must be one of {', '.join(INITS)}, got {init!r}")
        dtype = checks.dtype(dtype, "Linear")
        device = checks.device("cpu" if device is None else device, "Linear")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        who = f"Linear({in_features} -> {out_features})"
        self.weight = checks.allocation(who, lambda: _matrix(out_features, in_features, dtype, device))
        self.weight_grad = checks.allocation(who, lambda: _matrix(out_features, in_features, dtype, device).zero_())
        self.bias = torch.empty(out_features, dtype=dtype, device=device)
        self.bias_grad = torch.zeros_like(self.bias)
        self.input: torch.Tensor | None = None
        # W^T, and g^T with the 1 of g^T 1: kept while the same tensors come back (minidl/plan.py)
        self._weight_t, self._grad_t = Kept(transposed), Kept(_transposed_and_ones)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw fresh weights and bias (on the CPU, so a seed gives the same numbers on every device)."""
        fan_in, fan_out = self.in_features, self.out_features
        if self.init == "xavier_normal":
            std = math.sqrt(2.0 / (fan_in + fan_out))
            draw = lambda shape: torch.randn(shape, generator=generator, dtype=torch.float64) * std  # noqa: E731
        else:
            bound = math.sqrt(6.0 / (fan_in + fan_out)) if self.init == "xavier" else math.sqrt(6.0 / fan_in)
            draw = lambda shape: (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound  # noqa: E731
        self.weight.copy_(draw(self.weight.shape))
        self.bias.copy_(draw(self.bias.shape))

    def _check_forward(self, x, out=None):
        checks.batch(self, x, self.in_features, like=self.weight)
        checks.out(self, out, (x.shape[0], self.out_features), x)

    @checked(_check_forward)
    def forward(self, x, out=None):
        self.input = x
        # y = x W^T + b: the product, then b added to each row in place. Cheaper than torch.addmm on
        # small batches (it first copies b into every row of y); the same numbers for the report's
        # layers, while with over a few hundred inputs a float may round differently in its last place.
        return torch.mm(x, self._weight_t(self.weight), out=out).add_(self.bias)

    def _check_backward(self, grad_output, out=None):
        checks.after_forward(self, self.input)
        checks.grad_output(self, grad_output, (self.input.shape[0], self.out_features), self.weight)
        checks.out(self, out, tuple(self.input.shape), grad_output)

    @checked(_check_backward)
    def backward(self, grad_output, out=None):
        # dL/dW = g^T x,  dL/db = g^T 1 (the column sums, as a BLAS product: faster than torch.sum),  dL/dx = g W
        g_t, ones = self._grad_t(grad_output)  # the transpose view, and a vector of N ones
        torch.mm(g_t, self.input, out=self.weight_grad)
        torch.mv(g_t, ones, out=self.bias_grad)
        return torch.mm(grad_output, self.weight, out=out) if self.input_grad else None  # see Module

    def local_grad(self):
        """d y / d x = W, shape ``(out_features, in_features)``."""
        return self.weight

    def parameters(self):
        return [self.weight, self.bias]

    def grads(self):
        return [self.weight_grad, self.bias_grad]

    def extra_repr(self):
        return f"{self.in_features} -> {self.out_features}"
