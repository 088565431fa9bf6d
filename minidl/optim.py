"""Optimisers: they update a model's parameters in place from its gradients.

Each follows ``torch.optim``'s definition of the same name, operation for operation, so the
two agree to the last bit on the same gradients (tests/minidl/test_optimizers.py). State
(momentum buffers, Adam's moments and step count) lives in the optimizer, one tensor per
parameter in ``model.parameters()`` order, made at the first step; :meth:`state_tensors` and
:meth:`load_state_tensors` save and restore it. ``eta`` may change between steps (the
playground does so during a run); ``eta_scale`` is the factor a learning-rate schedule sets
(:mod:`minidl.schedules`): each step uses ``eta * eta_scale``.

The training plan (:mod:`minidl.plan`) steps an optimizer through its public hooks:
:meth:`Optimizer.check_step` once per epoch, :meth:`Optimizer.states`, :meth:`Optimizer.update`
on flat tensors, and :attr:`Optimizer.flat_state`, where it keeps the state packed flat.
The math is written with public in-place tensor operations, one call per tensor: on the
plan's flat tensors that is one kernel per operation.

Regularization: ``weight_decay`` (L2) adds ``weight_decay * theta`` to the gradient of every
parameter, biases included, as ``torch.optim`` does. ``l1`` adds ``l1 * sign(w)`` (sign(0) = 0) to
the gradient of each *weight* only, as TensorFlow Playground regularizes weights only: the gradient
of ``loss + l1 * sum |w|``. A weight is a parameter of two or more dimensions (a ``Linear``'s weight
matrix); a bias (one dimension) is left alone (:meth:`Optimizer.penalized`). With ``l1 = 0`` the
step is the one without L1, to the bit.
"""

from __future__ import annotations

import torch

from . import checks
from .checks import checked


class Optimizer:
    """What every optimizer shares: the step size, the schedule's factor, the checks and the state."""

    state_names: tuple[str, ...] = ()  # the per-parameter state tensors, by name
    #: The training plan's flat copy of the state, ``(packed, [one flat tensor per state name])``
    #: with ``packed`` the :class:`minidl.plan.Packed` parameters it is laid out like, or ``None``.
    #: The tensors of :attr:`state` are views into it while it is kept (see :func:`minidl.plan.pack_like`).
    #: It belongs to one model's parameters, so it stays out of pickles and :meth:`state_tensors`.
    flat_state: tuple | None = None
    l1 = 0.0  # the L1 coefficient (a class default: an optimizer pickled without one has none)

    def __init__(self, eta: float, weight_decay: float = 0.0, l1: float = 0.0):
        self.eta = eta
        self.eta_scale = 1.0
        self.weight_decay = checks.coefficient(f"{type(self).__name__} weight_decay", weight_decay)
        self.l1 = checks.coefficient(f"{type(self).__name__} l1", l1)
        self.step_count = 0
        self.state: dict[str, list[torch.Tensor]] = {}

    @property
    def eta(self) -> float:
        return self._eta

    @eta.setter
    def eta(self, value: float) -> None:
        self._eta = checks.eta(value, type(self).__name__)

    @property
    def stateless(self) -> bool:
        """True when a step depends on the gradients alone (plain SGD): no state to keep."""
        return not self.state_names

    def check_step(self, model, gradients) -> None:
        """Raise ``ValueError`` unless :meth:`step` can apply ``gradients`` to ``model``: one finite-sized
        gradient per parameter, shaped and typed like it, a step size its dtype holds, and state
        (if any) made for these parameters. :meth:`step` calls it; the training plan calls it
        once per epoch and then steps through :meth:`update`."""
        params = model.parameters()
        checks.gradients(params, gradients, type(self).__name__)
        checks.eta_fits(self._eta * self.eta_scale, params[0].dtype, type(self).__name__)
        checks.optimizer_state(self, params)

    def states(self, params: list[torch.Tensor]) -> list[list[torch.Tensor]]:
        """The state lists, one per name in ``state_names``, each aligned with ``params``: made (zeros
        shaped and laid out like each parameter) at the first step, the optimizer's own afterwards."""
        if not self.state:
            self.state = {name: [torch.zeros_like(p) for p in params] for name in self.state_names}
        return [self.state[name] for name in self.state_names]

    @staticmethod
    def penalized(params: list[torch.Tensor]) -> list[bool]:
        """Which of ``params`` L1 applies to: the weights (two or more dimensions), not the biases
        (one dimension); nanoGPT splits its parameters the same way for weight decay."""
        return [p.dim() >= 2 for p in params]

    def _regularized(self, params, gradients, weights=None):
        """The gradients with L2 weight decay as torch.optim has it, g + lambda theta, then L1 on the
        weights, g + l1 sign(w) (new tensors; the model's stay). ``weights``: see :meth:`update`."""
        if self.weight_decay:
            gradients = [g.add(p, alpha=self.weight_decay) for g, p in zip(gradients, params, strict=True)]
        if not self.l1:
            return gradients
        regularized = []
        for g, p, w in zip(gradients, params, self.penalized(params) if weights is None else weights, strict=True):
            if w is False:  # a bias
                regularized.append(g)
                continue
            sign = p.sign()  # sign(0) = 0, as autograd's d|w|/dw at 0
            if w is not True:
                sign.mul_(w)  # a 0/1 mask: 1 on weights, 0 on biases
            regularized.append(g.add(sign, alpha=self.l1))
        return regularized

    def __getstate__(self) -> dict:
        """A pickled optimizer carries its step size and state, not :attr:`flat_state` (tied to one
        model's parameters: the plan packs the state again)."""
        state = dict(self.__dict__)
        state.pop("flat_state", None)
        return state

    def reset(self) -> None:
        """Forget the state (a new model, or fresh weights): the next step starts it afresh."""
        self.state, self.step_count = {}, 0

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """The state as named tensors (``"exp_avg.0"``, ..., and ``"steps"``), for a file."""
        tensors = {f"{name}.{i}": t for name, ts in self.state.items() for i, t in enumerate(ts)}
        return {**tensors, "steps": torch.tensor([self.step_count], dtype=torch.float64)} if tensors else {}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], params: list[torch.Tensor]) -> None:
        """Restore :meth:`state_tensors` for ``params``; ``ValueError`` if they do not fit."""
        if not tensors:
            self.reset()
            return
        state = {}
        for name in self.state_names:
            state[name] = []
            for i, p in enumerate(params):
                t = tensors.get(f"{name}.{i}")
                if t is None or t.shape != p.shape or not bool(torch.isfinite(t).all()):
                    raise ValueError(f"the saved {type(self).__name__} state {name}.{i} is missing, does not "
                                     f"match parameter {i} {tuple(p.shape)} or is not finite")
                state[name].append(torch.zeros_like(p).copy_(t))
        steps = tensors.get("steps")
        if steps is None or steps.numel() != 1 or not 0 <= float(steps) < 2**53 or float(steps) != int(steps):
            raise ValueError(f"the saved {type(self).__name__} state has no valid step count")
        self.state, self.step_count = state, int(steps)

    @checked(check_step)
    def step(self, model, gradients: list[torch.Tensor]) -> None:
        """Apply ``gradients`` (as returned by ``model.backward``) to ``model.parameters()``."""
        self.step_count += 1
        params = model.parameters()
        self.update(params, gradients, self.states(params), self._eta * self.eta_scale)

    def update(self, params, gradients, states, eta: float, weights=None) -> None:
        """One step of the math on lists of tensors, unchecked, ``step_count`` already counting it:
        ``states`` holds a list per name in ``state_names`` (:meth:`states`), aligned with ``params``
        (the training plan passes one flat tensor each, see minidl/plan.py). ``weights``, read only
        when ``l1`` is set: which of ``params`` L1 applies to, one entry per tensor, ``True``,
        ``False`` or a 0/1 tensor shaped like it (the plan's flat tensors hold weights and biases);
        ``None``: :meth:`penalized` decides."""
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent, in place, as ``torch.optim.SGD`` (no dampening, no Nesterov):

    .. math::
        g \leftarrow \nabla_\theta L + \lambda \theta, \quad
        b \leftarrow \mu b + g \ (b = g \text{ at the first step}), \quad
        \theta \leftarrow \theta - \eta \, b

    with ``momentum`` :math:`\mu` (0: plain SGD, :math:`\theta \leftarrow \theta - \eta g`),
    ``weight_decay`` :math:`\lambda` (L2, on every parameter) and ``l1`` (:math:`g` gains
    :math:`l_1 \operatorname{sign}(w)` on the weights only, not the biases; see the module's
    docstring). Plain SGD keeps no state.
    """

    def __init__(self, eta: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(eta, weight_decay, l1)
        self.momentum = checks.coefficient("SGD momentum", momentum, below_one=True)
        self.state_names = ("momentum_buffer",) if self.momentum else ()

    def update(self, params, gradients, states, eta, weights=None):
        g = self._regularized(params, gradients, weights)
        if self.momentum:
            (buffers,) = states
            for b, g_ in zip(buffers, g, strict=True):
                if self.step_count == 1:  # b = g
                    b.copy_(g_)
                else:  # b = mu b + g
                    b.mul_(self.momentum).add_(g_)
            g = buffers
        for p, g_ in zip(params, g, strict=True):
            p.add_(g_, alpha=-eta)  # theta <- theta - eta g

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v:g}" for k, v in (("momentum", self.momentum), ("weight_decay", self.weight_decay),
                                                     ("l1", self.l1)) if v)
        return f"SGD(eta={self._eta:g}{extra})"


class Adam(Optimizer):
    r"""Adam (Kingma and Ba), as ``torch.optim.Adam``: at step :math:`t`,

    .. math::
        g \leftarrow \nabla_\theta L + \lambda \theta, \quad
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2, \\
        \theta \leftarrow \theta - \frac{\eta}{1 - \beta_1^t} \,
        \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}

    ``weight_decay`` :math:`\lambda` is L2 on the gradient (torch's Adam, not AdamW); ``l1`` adds
    :math:`l_1 \operatorname{sign}(w)` to the gradient of the weights only, after it (see the module's docstring).
    """

    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, eta: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, l1: float = 0.0):
        super().__init__(eta, weight_decay, l1)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam betas must be a pair (beta1, beta2), got {betas!r:.40}")
        self.betas = tuple(checks.coefficient(f"Adam beta{i}", b, below_one=True) for i, b in enumerate(betas, 1))
        self.eps = checks.coefficient("Adam eps", eps)

    def update(self, params, gradients, states, eta, weights=None):
        (beta1, beta2), t = self.betas, self.step_count
        g = self._regularized(params, gradients, weights)
        step_size, correction2 = eta / (1 - beta1 ** t), (1 - beta2 ** t) ** 0.5
        for p, g_, m, v in zip(params, g, *states, strict=True):
            m.lerp_(g_, 1 - beta1)  # m <- m + (1 - beta1)(g - m)
            v.mul_(beta2).addcmul_(g_, g_, value=1 - beta2)  # v <- beta2 v + (1 - beta2) g^2
            denominator = v.sqrt().div_(correction2).add_(self.eps)  # sqrt(v) / sqrt(1 - beta2^t) + eps
            p.addcdiv_(m, denominator, value=-step_size)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v:g}" for k, v in (("weight_decay", self.weight_decay), ("l1", self.l1)) if v)
        return f"Adam(eta={self._eta:g}, betas=({self.betas[0]:g}, {self.betas[1]:g}), eps={self.eps:g}{extra})"
