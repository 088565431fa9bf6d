"""The base classes every layer, activation and loss derives from.

The report's camelCase names (``compute``, ``gradient``, ``propGrad``,
``returnParamGrads``, ``returnLayerParams``, ``setLoss``) are the public contract of
the seed. They live here, in :class:`SeedNames`, as thin aliases of the PEP 8 methods
that do the work, so there is exactly one implementation of each.
"""

from __future__ import annotations

import torch


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

    These methods do not switch autograd off themselves (that costs microseconds a
    call); :class:`~minidl.Sequential`'s entry points do, once per call.
    """

    def __init__(self):
        self._buffers: dict[str, torch.Tensor] = {}

    def apply(self, x: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def backward(self, grad_output: torch.Tensor, input_grad: bool = True):
        """Gradient w.r.t. the input of the last ``forward``; ``None`` when not ``input_grad``."""
        raise NotImplementedError

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
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _buffer(self, key: str, shape: torch.Size, like: torch.Tensor) -> torch.Tensor:
        """A reusable tensor of ``shape``, allocated again only when shape, dtype or device change."""
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != like.dtype or buf.device != like.device:
            buf = self._buffers[key] = torch.empty(shape, dtype=like.dtype, device=like.device)
        return buf


class Loss(Module):
    """A loss ``L(output, target)``: ``forward`` gives the scalar, ``local_grad`` dL/d output."""

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def local_grad(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError
