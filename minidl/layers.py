"""Fully connected layer."""

from __future__ import annotations

import math

import torch

from .module import Module, autograd_off, check_grad_output

INITS = ("xavier", "xavier_normal", "he")


def check_input(module: Module, x: torch.Tensor, features: int | None) -> None:
    """Raise ``ValueError`` naming ``module`` unless ``x`` is a float ``(N, features)`` batch."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{module!r} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[0] == 0 or (features is not None and x.shape[1] != features):
        want = f"(N, {features})" if features is not None else "(N, features)"
        raise ValueError(
            f"{module!r} expects input of shape {want} with N >= 1, got {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise ValueError(f"{module!r} expects a floating-point tensor, got {x.dtype}")


def _matrix(rows: int, cols: int, dtype, device) -> torch.Tensor:
    """An uninitialised ``(rows, cols)`` matrix stored with its longer side contiguous (a
    transposed view when rows > cols). MKL reads and writes matrices whose rows are only a
    few elements wide several times slower: on our 2-core machines the (1024, 2) weight
    gradient of a 2-1024 layer took 800 us row-major and 74 us transposed, the forward of a
    1024-2 layer 56 us with (2, 1024) rows and 300 us transposed."""
    if rows > cols:
        return torch.empty(cols, rows, dtype=dtype, device=device).t()
    return torch.empty(rows, cols, dtype=dtype, device=device)


class Linear(Module):
    r"""Fully connected layer: :math:`y = x W^T + b`.

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
        input ``(N, in_features)`` -> output ``(N, out_features)``

    Examples::

        >>> layer = Linear(2, 25)
        >>> layer.forward(torch.rand(100, 2)).shape
        torch.Size([100, 25])
    """

    def __init__(self, in_features: int, out_features: int, *, init: str = "xavier",
                 generator: torch.Generator | None = None, dtype=torch.float32, device=None):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Linear {name} must be a positive integer, got {value!r}")
        if init not in INITS:
            raise ValueError(f"Linear init must be one of {', '.join(INITS)}, got {init!r}")
        self.in_features, self.out_features, self.init = in_features, out_features, init
        self.weight = _matrix(out_features, in_features, dtype, device)
        self.bias = torch.empty(out_features, dtype=dtype, device=device)
        self.weight_grad = _matrix(out_features, in_features, dtype, device).zero_()
        self.bias_grad = torch.zeros_like(self.bias)
        self.input: torch.Tensor | None = None
        self._batch = self._weight_t_of = None  # see _prepare
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

    def apply(self, x, out=None):
        return torch.addmm(self.bias, x, self.weight.t(), out=out)

    @autograd_off
    def forward(self, x):
        check_input(self, x, self.in_features)
        w = self.weight
        if x.dtype != w.dtype or x.device != w.device:
            raise ValueError(
                f"{self!r} expects input of dtype {w.dtype} on {w.device} like its weights, got "
                f"{x.dtype} on {x.device}; convert it with x.to(...) or move the layer with layer.to(...)"
            )
        return self.forward_unchecked(x)

    def forward_unchecked(self, x):
        if x.shape[0] != self._batch or self._weight_t_of is not self.weight:
            self._prepare(x.shape[0])
        self.input = x
        return torch.addmm(self.bias, x, self._weight_t, out=self._out)

    @autograd_off
    def backward(self, grad_output, input_grad=True):
        if self.input is None:
            raise ValueError(f"{self!r}: call forward before backward")
        check_grad_output(self, grad_output, (self.input.shape[0], self.out_features), self.weight)
        return self.backward_unchecked(grad_output, input_grad)

    def backward_unchecked(self, grad_output, input_grad=True):
        # dL/dW = g^T x,  dL/db = sum_n g = g^T 1,  dL/dx = g W
        g_t = self._derived("g_t", grad_output, torch.t)
        torch.mm(g_t, self.input, out=self.weight_grad)
        # The sum as a matrix-vector product: half the time of torch.sum(g, 0) at every size we tried.
        torch.mv(g_t, self._ones, out=self.bias_grad)
        if input_grad:
            return torch.mm(grad_output, self.weight, out=self._grad_in)
        return None

    def _prepare(self, batch: int) -> None:
        """Fetch the buffers of this batch size, and make the view W^T, once per batch size and
        weight tensor: a lookup costs a few tenths of a microsecond and a view about one, against
        3 to 5 us for the whole forward of a small layer. In-place updates show through the view."""
        w = self.weight
        self._batch, self._weight_t, self._weight_t_of = batch, w.t(), w
        self._out = self._buffer("out", (batch, self.out_features), w)
        self._grad_in = self._buffer("grad_in", (batch, self.in_features), w)
        self._ones = self._buffer("ones", (batch,), w, fill=1)

    def forget_views(self) -> None:
        super().forget_views()
        self._batch = None  # W^T is made again at the next forward

    def local_grad(self):
        """d y / d x = W, shape ``(out_features, in_features)``."""
        return self.weight

    def parameters(self):
        return [self.weight, self.bias]

    def grads(self):
        return [self.weight_grad, self.bias_grad]

    def to(self, target):
        super().to(target)
        for name in ("weight", "bias", "weight_grad", "bias_grad"):
            setattr(self, name, getattr(self, name).to(target))
        self.input = self._batch = None
        return self

    def extra_repr(self):
        return f"{self.in_features} -> {self.out_features}"
