"""The base classes every layer, activation and loss derives from.

The report's camelCase names (``compute``, ``gradient``, ``propGrad``,
``returnParamGrads``, ``returnLayerParams``, ``setLoss``) are the public contract of
the seed. They live here, in :class:`SeedNames`, as thin aliases of the PEP 8 methods
that do the work, so there is exactly one implementation of each.
"""

from __future__ import annotations

import torch

from . import checks


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

    A subclass defines ``forward(x)``, which returns the output and keeps what the backward
    pass needs, and ``backward(grad_output)``, which returns dL/dx from dL/d(output) (and fills
    the gradients of its parameters), next to each other. That is all a module must do to
    train in :class:`~minidl.Sequential`, in the report's loop and in :func:`~minidl.fit`.

    Results are fresh tensors unless the caller passes ``out=``. The built-in modules take an
    optional ``out=`` in both methods and declare two facts, so that the training plan
    (:mod:`minidl.plan`) can reuse memory; a module that declares nothing just runs slower:

    - ``in_place``: ``forward(x, out=x)`` and ``backward(g, out=g)`` are right (element-wise math).
    - ``keeps_output``: ``backward`` reads the output of ``forward``, so nothing may overwrite it.

    And one switch the plan sets: ``input_grad``, True unless this module comes first in a
    :class:`~minidl.Sequential`, whose plan then sets it False, since nobody reads dL/dx of the
    data. A module may then skip that product and return ``None``; one that ignores it is right too.
    """

    in_place = False
    keeps_output = True
    input_grad = True

    def __init__(self):
        pass  # nothing yet; subclasses call it so that the base class can grow

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def backward(self, grad_output: torch.Tensor) -> torch.Tensor:
        """dL/dx for the input of the last ``forward``, given dL/d(output)."""
        raise NotImplementedError

    def local_grad(self):
        """The local derivative of the output w.r.t. the input (report: ``gradient``)."""
        raise NotImplementedError

    def parameters(self) -> list[torch.Tensor]:
        return []

    def grads(self) -> list[torch.Tensor]:
        return []

    def to(self, target) -> Module:
        """Move every tensor attribute to a float dtype or a device (``torch.float64``, ``'cuda'``)."""
        target = checks.dtype_or_device(target, type(self).__name__)
        for name, value in list(vars(self).items()):
            if isinstance(value, torch.Tensor):
                setattr(self, name, value.to(target))
        return self

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class Loss(Module):
    """A loss ``L(output, target)``: ``forward`` gives the 0-d loss and keeps what ``backward``
    needs; ``backward()`` gives dL/d(output); ``local_grad(output, target)`` both at once.
    A built-in loss's ``forward`` takes an optional ``out=``: a buffer shaped like ``output`` to
    keep that in (the training plan passes one; see ``MSE``)."""

    def forward(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def backward(self, out: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def local_grad(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """dL/d(output) at ``(output, target)`` (report: ``gradient``)."""
        self.forward(output, target)
        return self.backward(out=None)
