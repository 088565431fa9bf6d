"""The Sequential container: the model a user builds, trains and predicts with."""

from __future__ import annotations

from collections import OrderedDict

import torch

from .activations import Activation
from .layers import Linear
from .module import Loss, Module, SeedNames
from .optim import Packed, pack
from .training import DivergedError, check_count, check_finite, fit


class Sequential(SeedNames):
    """Modules applied in order, kept in an ``OrderedDict`` under readable names
    (``linear0``, ``relu0``, ...), with a loss set by :meth:`set_loss` (report: ``setLoss``).

    Unlike :meth:`Module.backward`, :meth:`backward` takes the *target*: it starts from
    the loss gradient of the last :meth:`forward` and returns the parameter gradients,
    ready for ``optimizer.step(model, gradients)`` - the report's loop.

    For speed, a Sequential moves the parameters of its modules into one flat tensor and
    their gradients into another (:func:`minidl.optim.pack`; the tensors stay the same
    objects), so that an SGD step is one kernel; and its activations work in place on
    buffers it owns. Neither changes any number.

    Shape:
        input ``(N, in_features)`` -> output ``(N, out_features)``

    Examples::

        >>> model = Sequential(Linear(2, 25), ReLU(), Linear(25, 2), Tanh())
        >>> model.setLoss(MSE())
        >>> history = model.train(X, y, 100, 10, SGD(eta=1e-3))
    """

    def __init__(self, *modules: Module):
        if not modules:
            raise ValueError("Sequential needs at least one module, e.g. Sequential(Linear(2, 2), Tanh())")
        self.modules: OrderedDict[str, Module] = OrderedDict()
        counts: dict[str, int] = {}
        width = None
        seen: dict[int, tuple[int, str]] = {}  # id(module) -> (position, name)
        for position, module in enumerate(modules):
            if not isinstance(module, Module) or isinstance(module, Loss):
                raise ValueError(
                    f"Sequential argument {position} must be a layer or an activation such as "
                    f"Linear(2, 25) or ReLU(), got {module!r}; set the loss with setLoss"
                )
            if id(module) in seen:
                # A module keeps what its backward needs from its last forward; a second use would
                # overwrite it and make the gradients of the first use silently wrong.
                first, first_name = seen[id(module)]
                raise ValueError(
                    f"Sequential argument {position} is the same {module!r} object as argument {first} "
                    f"({first_name}); a module can appear only once, so pass a new one, "
                    f"e.g. {type(module).__name__}({_init_args(module)})"
                )
            kind = type(module).__name__.lower()
            name = f"{kind}{counts.get(kind, 0)}"
            seen[id(module)] = (position, name)
            counts[kind] = counts.get(kind, 0) + 1
            if isinstance(module, Linear):
                if width is not None and module.in_features != width:
                    raise ValueError(
                        f"{module!r} ({name}) expects {module.in_features} input features, "
                        f"but the layers before it produce {width}"
                    )
                width = module.out_features
            self.modules[name] = module
        if width is None:
            raise ValueError("Sequential needs at least one Linear layer to have parameters to train")
        linears = [m for m in self.modules.values() if isinstance(m, Linear)]
        self.in_features, self.out_features = linears[0].in_features, linears[-1].out_features
        self.loss: Loss | None = None
        self.output: torch.Tensor | None = None
        self._refresh()

    def _refresh(self) -> None:
        self._layers = list(self.modules.values())
        self._reversed = self._layers[::-1]
        self._params = [p for m in self._layers for p in m.parameters()]
        self._grads = [g for m in self._layers for g in m.grads()]
        self._packed = pack(self._params, self._grads, getattr(self, "_packed", None))
        for module in self._layers:
            module.forget_views()  # packing may have moved the parameters' storage
        self.output = None
        # The calls of a forward and a backward pass, bound once. An activation right after a
        # Linear overwrites that Linear's output buffer, which nothing else reads (a Linear's
        # backward needs its input, not its output); an activation after another activation
        # must not, since that one keeps its output for its own backward. In the backward pass
        # every gradient is a buffer of the module above or of the loss, so activations
        # overwrite theirs (``chain_``: backward_inplace without its check, since backward
        # has checked that a forward ran). The first module's input is the caller's data:
        # never overwritten.
        self._forward_calls = [
            m.forward_inplace if isinstance(m, Activation) and isinstance(before, Linear) else m.forward_unchecked
            for before, m in zip([None, *self._layers[:-1]], self._layers, strict=True)]
        self._backward_calls = [m.chain_ if isinstance(m, Activation) else m.backward_unchecked
                                for m in self._reversed[:-1]]

    # -- the loss and the parameters ------------------------------------------------
    def set_loss(self, loss: Loss) -> None:
        if not isinstance(loss, Loss):
            raise ValueError(f"setLoss expects a loss such as MSE(), got {loss!r}")
        self.loss = loss

    def parameters(self) -> list[torch.Tensor]:
        return self._params

    def grads(self) -> list[torch.Tensor]:
        return self._grads

    def packed_parameters(self) -> Packed | None:
        """:meth:`parameters` and :meth:`grads` as two flat tensors (see :func:`minidl.optim.pack`),
        or ``None`` when they could not be packed."""
        return self._packed

    @property
    def dtype(self) -> torch.dtype:
        return self._params[0].dtype

    @property
    def device(self) -> torch.device:
        return self._params[0].device

    def to(self, target) -> Sequential:
        """Move every parameter to a device or dtype: ``model.to('cuda')``, ``model.to(torch.float64)``."""
        for module in self._layers:
            module.to(target)
        self._refresh()
        return self

    # -- forward and backward -------------------------------------------------------
    def check_input(self, x, name: str = "input") -> None:
        """Raise ``ValueError`` unless ``x`` is a batch this model accepts."""
        first = self._layers[0]
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] == 0 or x.shape[1] != self.in_features:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(
                f"{first!r} (the first layer) expects {name} of shape (N, {self.in_features}) "
                f"with N >= 1, got {got}"
            )
        if x.dtype != self.dtype or x.device != self.device:
            raise ValueError(
                f"the model's parameters are {self.dtype} on {self.device}, but {name} is "
                f"{x.dtype} on {x.device}; convert with {name}.to(...) or move the model with model.to(...)"
            )
        check_finite(x, name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the modules in order and keep what ``backward`` needs. The result is
        overwritten by the next ``forward``: clone it to keep it."""
        if self.loss is None:
            raise ValueError("no loss is set: call model.setLoss(MSE()) before forward "
                             "(model.predict(x) needs none)")
        with torch.no_grad():
            self.check_input(x)
            return self.forward_unchecked(x)

    def forward_unchecked(self, x: torch.Tensor) -> torch.Tensor:
        """``forward`` for a validated batch with autograd already off (the training loop)."""
        for call in self._forward_calls:
            x = call(x)
        self.output = x
        return x

    def backward(self, target: torch.Tensor) -> list[torch.Tensor]:
        """Gradients of ``loss(output of the last forward, target)`` w.r.t. :meth:`parameters`."""
        if self.loss is None:
            raise ValueError("no loss is set: call model.setLoss(MSE()) before backward")
        if self.output is None:
            raise ValueError("backward needs an output: call model.forward(x) first")
        with torch.no_grad():
            if isinstance(target, torch.Tensor) and target.shape == self.output.shape:
                check_finite(target, "the target")
            return self.backward_unchecked(target)

    def backward_unchecked(self, target: torch.Tensor, total: torch.Tensor | None = None) -> list[torch.Tensor]:
        """``backward`` for a validated target with autograd already off (the training loop).
        With ``total`` (a 0-d tensor), also add the loss to it, sharing work with its gradient."""
        if total is None:
            grad = self.loss.local_grad(self.output, target)
        else:
            grad = self.loss.accumulate(self.output, target, total)
        for call in self._backward_calls:
            grad = call(grad)
        self._reversed[-1].backward_unchecked(grad, input_grad=False)  # nobody needs dL/dx of the data
        return self._grads

    # -- the report's wrappers ---------------------------------------------------------
    def train(self, X: torch.Tensor, y: torch.Tensor, epochs: int, mini_batch_size: int, optimizer,
              verbose_every_nth: int = 0) -> list[float]:
        """Train in place and return the loss of each epoch (summed loss / number of samples).

        Prints the loss of the first and last epoch and of every ``verbose_every_nth``-th
        one when ``verbose_every_nth`` is positive. Raises :class:`DivergedError` (a
        ``ValueError``) if the loss becomes NaN or infinite.
        """
        check_count("verbose_every_nth", verbose_every_nth, 0)
        history: list[float] = []
        for record in fit(self, X, y, epochs, mini_batch_size, optimizer):
            history.append(record.loss)
            if record.diverged:
                raise DivergedError(
                    f"training diverged at epoch {record.epoch}: the loss became {record.loss}; "
                    f"try a smaller step size than eta={optimizer.eta:g}", history)
            if verbose_every_nth and (record.epoch % verbose_every_nth == 0 or record.epoch in (1, epochs)):
                print(f"Loss at epoch {record.epoch} was {record.loss:.4f}")
        return history

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Outputs ``(N, out_features)`` for ``X``, in fresh tensors, keeping nothing for backward."""
        with torch.no_grad():
            self.check_input(X, "X")
            for module in self._layers:
                X = module.apply(X)
            return X

    # -- files and torch -------------------------------------------------------------
    def to_torch(self):
        """An equivalent ``torch.nn.Sequential`` holding copies of the weights."""
        from .interop import to_torch

        return to_torch(self)

    @classmethod
    def from_torch(cls, net) -> Sequential:
        """Import a ``torch.nn.Sequential`` of Linear, ReLU and Tanh modules."""
        from .interop import from_torch

        return from_torch(net)

    # -- container protocol ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers)

    def __getitem__(self, index: int) -> Module:
        return self._layers[index]

    def __repr__(self) -> str:
        lines = [f"  ({name}): {module!r}" for name, module in self.modules.items()]
        return "Sequential(\n" + "\n".join(lines) + "\n)"


def _init_args(module: Module) -> str:
    """The constructor arguments that make a twin of ``module``, for an error message."""
    return f"{module.in_features}, {module.out_features}" if isinstance(module, Linear) else ""
