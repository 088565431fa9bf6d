"""The Sequential container: the model a user builds, trains and predicts with."""

from __future__ import annotations

import copy
import weakref
from collections import OrderedDict

import torch

from . import checks
from .layers import Linear
from .module import Loss, Module, SeedNames
from .plan import Packed, Plan
from .training import DivergedError, fit

MAX_PLANS = 4  # per mode: enough for a training batch size, its smaller last batch and a few others


class Sequential(SeedNames):
    """Modules applied in order, kept in an ``OrderedDict`` under readable names
    (``linear0``, ``relu0``, ...), with a loss set by :meth:`set_loss` (report: ``setLoss``).

    Unlike :meth:`Module.backward`, :meth:`backward` takes the *target*: it starts from
    the loss gradient of the last :meth:`forward` and returns the parameter gradients,
    ready for ``optimizer.step(model, gradients)`` - the report's loop.

    ``forward`` and ``backward`` check their arguments, then run a training plan for the
    batch's shape (:mod:`minidl.plan`: reused buffers, in-place activations). A module
    belongs to one Sequential only: it keeps what its backward needs from its last forward.

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
                    f"Linear(2, 25) or ReLU(), got {module!r}; set the loss with setLoss")
            if id(module) in seen:
                first, first_name = seen[id(module)]
                raise ValueError(
                    f"Sequential argument {position} is the same {module!r} object as argument {first} "
                    f"({first_name}); a module can appear only once, so pass a new one, "
                    f"e.g. {type(module).__name__}({_init_args(module)})")
            owner = getattr(module, "_sequential", None)
            if owner is not None and owner() is not None:
                raise ValueError(
                    f"Sequential argument {position}, {module!r}, already belongs to another Sequential; "
                    f"a module keeps what its backward needs from its last forward, so it can be in one "
                    f"model only: pass a new one, e.g. {type(module).__name__}({_init_args(module)})")
            kind = type(module).__name__.lower()
            name = f"{kind}{counts.get(kind, 0)}"
            seen[id(module)] = (position, name)
            counts[kind] = counts.get(kind, 0) + 1
            if isinstance(module, Linear):
                if width is not None and module.in_features != width:
                    raise ValueError(f"{module!r} ({name}) expects {module.in_features} input features, "
                                     f"but the layers before it produce {width}")
                width = module.out_features
            self.modules[name] = module
        if width is None:
            raise ValueError("Sequential needs at least one Linear layer to have parameters to train")
        params = [p for m in modules for p in m.parameters()]
        for name, module in self.modules.items():
            for p in module.parameters():
                if p.dtype != params[0].dtype or p.device != params[0].device:
                    raise ValueError(
                        f"{module!r} ({name}) has {p.dtype} parameters on {p.device}, but the first layer's are "
                        f"{params[0].dtype} on {params[0].device}; build every layer alike or call model.to(...)")
        for module in modules:
            module._sequential = weakref.ref(self)
        linears = [m for m in self.modules.values() if isinstance(m, Linear)]
        self.in_features, self.out_features = linears[0].in_features, linears[-1].out_features
        self.loss: Loss | None = None
        self._refresh()

    def _refresh(self) -> None:
        self._layers = list(self.modules.values())
        self._layers_with_parameters = [m for m in self._layers if m.parameters()]
        self._plans: dict[tuple, Plan] = {}
        self.flat: Packed | None = None  # the flat parameters of minidl.plan.sgd_step, once fit made them
        self.output: torch.Tensor | None = None

    # -- the loss and the parameters ------------------------------------------------
    def set_loss(self, loss: Loss) -> None:
        if not isinstance(loss, Loss):
            raise ValueError(f"setLoss expects a loss such as MSE(), got {loss!r}")
        self.loss = loss
        self._plans.clear()
        self.output = None

    def parameters(self) -> list[torch.Tensor]:
        """Every module's parameters, in order: ``[W0, b0, W1, b1, ...]``."""
        return [p for m in self._layers for p in m.parameters()]

    def grads(self) -> list[torch.Tensor]:
        """Their gradients, asked afresh: a module may make new gradient tensors in each backward."""
        return [g for m in self._layers for g in m.grads()]

    @property
    def dtype(self) -> torch.dtype:
        return self._layers_with_parameters[0].parameters()[0].dtype

    @property
    def device(self) -> torch.device:
        return self._layers_with_parameters[0].parameters()[0].device

    def to(self, target) -> Sequential:
        """Move every parameter to a device or float dtype: ``model.to('cuda')``, ``model.to(torch.float64)``."""
        target = checks.dtype_or_device(target, "Sequential")
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
            raise ValueError(f"{first!r} (the first layer) expects {name} of shape (N, {self.in_features}) "
                             f"with N >= 1, got {got}")
        if x.dtype != self.dtype or x.device != self.device:
            raise ValueError(
                f"the model's parameters are {self.dtype} on {self.device}, but {name} is "
                f"{x.dtype} on {x.device}; convert with {name}.to(...) or move the model with model.to(...)")
        checks.finite(x, name)

    def plan(self, x: torch.Tensor, inference: bool = False) -> Plan:
        """The training plan for batches shaped like ``x`` (see :mod:`minidl.plan`), made on first use.
        ``inference``: for use under ``torch.inference_mode()``, as :func:`fit` does."""
        key = (tuple(x.shape), inference)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 2 * MAX_PLANS:
                self._plans.clear()
            plan = self._plans[key] = Plan(self._layers, self.loss)
        self.output = None  # a plan's next pass changes what the modules kept
        return plan

    def private(self, t: torch.Tensor) -> torch.Tensor:
        """``t``, or a copy of it if it shares memory with a tensor this model writes to (its
        parameters, gradients or buffers: say a model's own output fed back in)."""
        ptr = t.untyped_storage().data_ptr()
        mine = {p.untyped_storage().data_ptr() for p in self.parameters() + self.grads()}
        if ptr in mine or any(ptr in plan.storages for plan in self._plans.values()):
            return t.clone()
        return t

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the modules in order and keep what ``backward`` needs. The result is
        overwritten by the next ``forward``: clone it to keep it."""
        if self.loss is None:
            raise ValueError("no loss is set: call model.setLoss(MSE()) before forward "
                             "(model.predict(x) needs none)")
        with torch.no_grad():
            self.check_input(x)
            x = self.private(x)
            plan = self.plan(x, torch.is_inference_mode_enabled())
            self.output, self._last_plan = plan.forward(x), plan
            return self.output

    def backward(self, target: torch.Tensor) -> list[torch.Tensor]:
        """Gradients of ``loss(output of the last forward, target)`` w.r.t. :meth:`parameters`."""
        if self.loss is None:
            raise ValueError("no loss is set: call model.setLoss(MSE()) before backward")
        if self.output is None:
            raise ValueError("backward needs an output: call model.forward(x) first")
        with torch.no_grad():
            checks.target(self.loss, self.output, target)
            self._last_plan.backward(self.output, target)
            return self.grads()

    # -- the report's wrappers ---------------------------------------------------------
    def train(self, X: torch.Tensor, y: torch.Tensor, epochs: int, mini_batch_size: int, optimizer,
              verbose_every_nth: int = 0, schedule=None, first_epoch: int = 1) -> list[float]:
        """Train in place and return the loss of each epoch (summed loss / number of samples).

        Prints the loss of the first and last epoch and of every ``verbose_every_nth``-th
        one when ``verbose_every_nth`` is positive. Raises :class:`DivergedError` (a
        ``ValueError``) if the loss or a parameter becomes NaN or infinite. ``schedule`` (a
        :mod:`minidl.schedules` object) scales the step size per epoch; ``first_epoch`` numbers the
        epochs from there, so training continued in pieces gets the factors it would get in one go.
        """
        checks.integer("verbose_every_nth", verbose_every_nth, 0)
        checks.integer("first_epoch", first_epoch, 1)
        last = first_epoch + epochs - 1
        history: list[float] = []
        for record in fit(self, X, y, epochs, mini_batch_size, optimizer, first_epoch=first_epoch, schedule=schedule):
            history.append(record.loss)
            if record.diverged:
                became = f"the loss became {record.loss}" if record.loss != record.loss or \
                    abs(record.loss) == float("inf") else "a parameter became NaN or infinite"
                raise DivergedError(f"training diverged at epoch {record.epoch}: {became}; "
                                    f"try a smaller step size than eta={optimizer.eta:g}", history)
            if verbose_every_nth and (record.epoch % verbose_every_nth == 0 or record.epoch in (first_epoch, last)):
                print(f"Loss at epoch {record.epoch} was {record.loss:.4f}")
        return history

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Outputs ``(N, out_features)`` for ``X``, in fresh tensors. Each module runs as a shallow
        copy (the same parameters), so what it keeps for ``backward`` stays as it was: a predict
        between forward and backward, or from another thread during training, changes nothing."""
        with torch.no_grad():
            self.check_input(X, "X")
            for module in self._layers:
                X = checks.unchecked(_twin(module).forward)(X)
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


def _twin(module: Module) -> Module:
    """A shallow copy of ``module`` (the same parameters) whose ``forward`` may keep what it likes.
    ``copy.copy`` does the same through ``__reduce_ex__``, several times slower: predict runs a
    dozen times a second in the playground's training thread."""
    if not hasattr(module, "__dict__") or hasattr(type(module), "__copy__"):
        return copy.copy(module)
    twin = object.__new__(type(module))
    twin.__dict__.update(module.__dict__)
    return twin
