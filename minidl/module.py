"""The base classes every layer, activation and loss derives from.

The report's camelCase names (``compute``, ``gradient``, ``propGrad``,
``returnParamGrads``, ``returnLayerParams``, ``setLoss``) are the public contract of
the seed. They live here, in :class:`SeedNames`, as thin aliases of the PEP 8 methods
that do the work, so there is exactly one implementation of each.
"""

from __future__ import annotations

import functools

import torch

MAX_BUFFERS = 16  # per module: the buffers of two or three batch sizes


def autograd_off(method):
    """Run ``method`` under ``torch.no_grad()`` unless autograd is off already: a checked entry point
    given a caller's ``requires_grad`` tensor must build no graph (and ``out=`` would raise). Inside
    Sequential's entry points and the training loop this costs one flag read, not a context."""

    @functools.wraps(method)
    def off(*args, **kwargs):
        if torch.is_grad_enabled():
            with torch.no_grad():
                return method(*args, **kwargs)
        return method(*args, **kwargs)

    return off


def check_grad_output(module, grad_output, shape: tuple[int, ...], like: torch.Tensor) -> None:
    """Raise ``ValueError`` naming ``module`` unless ``grad_output`` has ``shape``, the shape of the
    output of its last forward, and the dtype and device of ``like`` (never a silent broadcast)."""
    if not isinstance(grad_output, torch.Tensor):
        raise ValueError(f"{module!r} expects the gradient as a torch.Tensor, got {type(grad_output).__name__}")
    if grad_output.shape != shape:
        raise ValueError(
            f"{module!r} expects a gradient of the shape of its last output {tuple(shape)}, "
            f"got {tuple(grad_output.shape)}; pass dL/d(output) of the last forward"
        )
    if grad_output.dtype != like.dtype or grad_output.device != like.device:
        raise ValueError(
            f"{module!r} expects a gradient of dtype {like.dtype} on {like.device}, got "
            f"{grad_output.dtype} on {grad_output.device}; convert it with grad.to(...)"
        )


class SeedNames:
    """The report's method names, each a one-line alias of its PEP 8 twin."""

    def compute(self, *args):
        """Report name of :meth:`forward`."""
        return self.forward(*args)

    def gradient(self, *args):
        """Report name of :meth:`local_grad` (the local derivative)."""
        return self.local_grad(*args)

    def propGrad(self, *args):  # noqa: N802 - the report's name
        """Report name of :meth:`backward` (propagate the gradient)."""
        return self.backward(*args)

    def returnParamGrads(self):  # noqa: N802 - the report's name
        """Report name of :meth:`grads`."""
        return self.grads()

    def returnLayerParams(self):  # noqa: N802 - the report's name
        """Report name of :meth:`parameters`."""
        return self.parameters()

    def setLoss(self, loss):  # noqa: N802 - the report's name
        """Report name of :meth:`set_loss`."""
        return self.set_loss(loss)


class Module(SeedNames):
    """A differentiable function of a batch ``x`` of shape ``(N, features)``.

    Subclasses define ``apply`` (the math, optionally written into ``out``), ``forward``
    (``apply`` plus whatever ``backward`` will need) and ``backward`` (the hand-written
    chain rule), next to each other. Outputs of ``forward``/``backward`` live in
    buffers owned by the module and are overwritten by the next call with the same
    batch shape: clone a result you want to keep. :meth:`apply` without ``out``
    always returns a fresh tensor.

    ``forward`` and ``backward`` check their argument, then call ``forward_unchecked``
    and ``backward_unchecked``, which :class:`~minidl.Sequential` calls directly on
    batches it has validated once (a check costs about half a microsecond, a tenth of a
    small layer's whole forward).

    The checked methods run with autograd off (:func:`autograd_off`), so a caller's
    ``requires_grad`` tensor builds no graph; the ``_unchecked`` ones leave that to their
    caller: :class:`~minidl.Sequential`'s entry points switch autograd off once per call.
    """

    def __init__(self):
        self._buffers: dict[tuple, torch.Tensor] = {}
        self._derivations: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def apply(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_unchecked(self, x: torch.Tensor) -> torch.Tensor:
        """``forward`` for a batch the caller has validated; by default the checked ``forward``."""
        return self.forward(x)

    def backward(self, grad_output: torch.Tensor, input_grad: bool = True):
        """Gradient w.r.t. the input of the last ``forward``; ``None`` when not ``input_grad``."""
        raise NotImplementedError

    def backward_unchecked(self, grad_output: torch.Tensor, input_grad: bool = True):
        """``backward`` for a gradient the caller has validated; by default the checked ``backward``."""
        return self.backward(grad_output, input_grad)

    def local_grad(self):
        """The local derivative of the output w.r.t. the input (report: ``gradient``)."""
        raise NotImplementedError

    def parameters(self) -> list[torch.Tensor]:
        return []

    def grads(self) -> list[torch.Tensor]:
        return []

    def to(self, target) -> Module:
        """Move parameters to a device or dtype (``torch.device``, ``'cuda'``, ``torch.float64``)."""
        self._buffers.clear()
        self.forget_views()
        return self

    def forget_views(self) -> None:
        """Drop views kept of parameters or buffers: their storage has moved."""
        self._derivations.clear()

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _buffer(self, key: str, shape: tuple[int, ...], like: torch.Tensor, fill: float | None = None) -> torch.Tensor:
        """A reusable tensor of ``shape`` with the dtype and device of ``like``, filled with
        ``fill`` when it is made (a constant: never write to it), else uninitialised.

        Buffers are kept per shape, dtype and device (``get_device()``: -1 on the CPU,
        else the index; cheaper than comparing ``torch.device`` objects, and this runs a
        dozen times a step), so an epoch whose last batch is smaller does not reallocate
        twice per epoch. A module that has seen many shapes starts afresh.
        """
        index = (key, shape, like.dtype, like.get_device())
        buf = self._buffers.get(index)
        if buf is None:
            if len(self._buffers) >= MAX_BUFFERS:
                self._buffers.clear()
            # A normal tensor even when called under torch.inference_mode (the training loop):
            # an inference tensor could not be written to later under torch.no_grad.
            with torch.inference_mode(False):
                buf = self._buffers[index] = torch.empty(shape, dtype=like.dtype, device=like.device)
                if fill is not None:
                    buf.fill_(fill)
        return buf

    def _derived(self, key: str, source: torch.Tensor, make) -> torch.Tensor:
        """``make(source)``, kept while the same tensor object comes back. In a training loop the
        same buffers come back every batch, and a view or a buffer lookup costs a few tenths of
        a microsecond to a microsecond, a noticeable share of a small layer's step."""
        entry = self._derivations.get(key)
        if entry is None or entry[0] is not source:
            entry = self._derivations[key] = (source, make(source))
        return entry[1]


class Loss(Module):
    """A loss ``L(output, target)``: ``forward`` gives the scalar, ``local_grad`` dL/d output."""

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def local_grad(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def accumulate(self, output: torch.Tensor, target: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
        """Add ``L(output, target)`` to ``total`` (a 0-d tensor) and return ``local_grad``,
        without checks: the training loop's step. Losses override it to share work."""
        total.add_(self.apply(output, target))
        return self.local_grad(output, target)
