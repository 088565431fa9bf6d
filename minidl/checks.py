"""Every argument check of minidl, in one place.

Each check raises ``ValueError`` with a sentence naming the module or the argument, what it
expects and what it got: never a torch ``RuntimeError``, an ``AssertionError`` or a silent
broadcast. A module declares the checks of its public methods with :func:`checked`, so its
class shows only the math; the training plan (:mod:`minidl.plan`) validates a batch once and
then calls the math through :func:`unchecked`.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import sys

import torch

# torch.manual_seed takes any integer in this range
SEED_RANGE = (-(1 << 63), (1 << 64) - 1)


def checked(check):
    """Decorate a method: ``check(self, *args, **kwargs)`` runs first, and both run with autograd
    off, so a caller's ``requires_grad`` tensor builds no graph. The plain method stays reachable
    as ``.unchecked`` (see :func:`unchecked`)."""

    def decorate(method):
        @functools.wraps(method)
        def method_with_checks(self, *args, **kwargs):
            if torch.is_grad_enabled():  # one flag read when autograd is off already
                with torch.no_grad():
                    check(self, *args, **kwargs)
                    return method(self, *args, **kwargs)
            check(self, *args, **kwargs)
            return method(self, *args, **kwargs)

        method_with_checks.unchecked = method
        return method_with_checks

    return decorate


def unchecked(bound_method):
    """``bound_method`` without the checks :func:`checked` put in front of it (itself if none):
    for callers that validated the arguments already."""
    inner = getattr(getattr(bound_method, "__func__", None), "unchecked", None)
    return bound_method if inner is None else inner.__get__(bound_method.__self__)


def takes_out(bound_method) -> bool:
    """Whether the method accepts an ``out=`` tensor to write its result into."""
    method = unchecked(bound_method)
    return _has_out(getattr(method, "__func__", method))


@functools.lru_cache(maxsize=256)
def _has_out(function) -> bool:  # per function, not per call: inspect takes tens of microseconds
    """``out`` is the last parameter, can be passed by position, and is the only one with a default."""
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return bool(params) and params[-1].name == "out" and params[-1].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD \
        and all(p.default is inspect.Parameter.empty for p in params[:-1])


# -- numbers ---------------------------------------------------------------------------------------
def integer(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` if it is an ``int`` (not a bool) from ``minimum`` to ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or \
            (maximum is not None and value > maximum):
        want = f"an integer of at least {minimum}" if maximum is None else f"an integer from {minimum} to {maximum}"
        raise ValueError(f"{name} must be {want}, got {value!r}")
    return value


def seed(value) -> int:
    return integer("the seed", value, *SEED_RANGE)


# -- where tensors live ------------------------------------------------------------------------------
def dtype(value, who: str) -> torch.dtype:
    """``value`` if it is a floating-point ``torch.dtype``: integer, bool or complex weights
    would silently round every update to nothing."""
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ValueError(f"{who} needs a floating-point dtype such as torch.float32 or torch.float64, got {value!r}")
    return value


def device(spec, who: str = "") -> torch.device:
    """``spec`` as a ``torch.device`` if this torch can hold numbers there."""
    who = f"{who} " if who else ""
    try:
        where = torch.device(spec)
        torch.empty(0, device=where)
    except (RuntimeError, AssertionError, TypeError) as error:  # a CPU-only torch asserts on "cuda"
        raise ValueError(f"{who}cannot use device {spec!r}: {str(error).splitlines()[0]}") from None
    if where.type == "meta":
        raise ValueError(f"{who}cannot use device 'meta': meta tensors have shapes but no numbers")
    return where


def dtype_or_device(target, who: str):
    """The argument of ``.to(...)``: a float dtype, or a device (``torch.device`` or a string)."""
    if isinstance(target, torch.dtype):
        return dtype(target, who)
    if isinstance(target, (str, torch.device)):
        return device(target, who)
    raise ValueError(f"{who}.to expects a dtype such as torch.float64 or a device such as 'cuda', got {target!r}")


def allocation(who: str, make):
    """``make()``, with running out of memory said in a sentence."""
    try:
        return make()
    except (RuntimeError, MemoryError, OverflowError) as error:
        raise ValueError(f"{who} does not fit in memory ({str(error).splitlines()[0]}); use narrower layers") from None


# -- batches, gradients and targets ------------------------------------------------------------------
def finite(t: torch.Tensor, name: str) -> None:
    """Raise unless the float tensor ``t`` is free of NaN and infinity (one host sync)."""
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values; clean or drop those rows first")


def batch(module, x, features: int | None = None, like: torch.Tensor | None = None) -> None:
    """``x`` must be a finite float ``(N, features)`` batch, N >= 1, with the dtype and device of ``like``."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{module!r} expects a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2 or x.shape[0] == 0 or (features is not None and x.shape[1] != features):
        want = f"(N, {features})" if features is not None else "(N, features)"
        raise ValueError(f"{module!r} expects input of shape {want} with N >= 1, got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{module!r} expects a floating-point tensor, got {x.dtype}")
    if like is not None and (x.dtype != like.dtype or x.device != like.device):
        raise ValueError(
            f"{module!r} expects input of dtype {like.dtype} on {like.device} like its weights, got "
            f"{x.dtype} on {x.device}; convert it with x.to(...) or move the layer with layer.to(...)")
    finite(x, f"the input of {module!r}")


def out(module, out_tensor, shape: tuple[int, ...], x: torch.Tensor) -> None:
    """An ``out=`` tensor must have the result's shape, dtype and device, and may share memory
    with the input only for a module that may overwrite its input (``in_place``)."""
    if out_tensor is None:
        return
    if not isinstance(out_tensor, torch.Tensor) or out_tensor.shape != shape or out_tensor.dtype != x.dtype \
            or out_tensor.device != x.device:
        raise ValueError(f"{module!r} expects out= to be a {x.dtype} tensor of shape {tuple(shape)} on {x.device}")
    if not module.in_place and shares_memory(out_tensor, x):
        raise ValueError(f"{module!r} reads its input while it writes out=, so they must not share memory")


out_buffer = out  # for checks whose own argument is called out


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def after_forward(module, kept) -> None:
    if kept is None:
        raise ValueError(f"{module!r}: call forward before backward")


def grad_output(module, grad, shape: tuple[int, ...], like: torch.Tensor) -> None:
    """``grad`` must have ``shape``, the shape of the last output, and the dtype and device of ``like``."""
    if not isinstance(grad, torch.Tensor):
        raise ValueError(f"{module!r} expects the gradient as a torch.Tensor, got {type(grad).__name__}")
    if grad.shape != shape:
        raise ValueError(f"{module!r} expects a gradient of the shape of its last output {tuple(shape)}, "
                         f"got {tuple(grad.shape)}; pass dL/d(output) of the last forward")
    if grad.dtype != like.dtype or grad.device != like.device:
        raise ValueError(f"{module!r} expects a gradient of dtype {like.dtype} on {like.device}, got "
                         f"{grad.dtype} on {grad.device}; convert it with grad.to(...)")


def target(loss, output, target_tensor, out=None) -> None:
    """``target_tensor`` must be finite and match ``output`` in shape, dtype and device; so must
    ``out``, where given (the buffer a loss keeps its intermediate in)."""
    if not isinstance(output, torch.Tensor):
        raise ValueError(f"{loss!r} expects the output as a torch.Tensor, got {type(output).__name__}")
    if not isinstance(target_tensor, torch.Tensor):
        raise ValueError(f"{loss!r} expects the target as a torch.Tensor, got {type(target_tensor).__name__}")
    if target_tensor.shape != output.shape:
        raise ValueError(f"{loss!r} expects a target of the output's shape {tuple(output.shape)}, "
                         f"got {tuple(target_tensor.shape)}; encode class labels with minidl.data.one_hot")
    if target_tensor.dtype != output.dtype or target_tensor.device != output.device:
        raise ValueError(f"{loss!r} expects a target of dtype {output.dtype} on {output.device}, "
                         f"got {target_tensor.dtype} on {target_tensor.device}; convert it with target.to(output)")
    finite(target_tensor, "the target")
    out_buffer(loss, out, tuple(output.shape), output)


# -- optimisation --------------------------------------------------------------------------------------
def eta(value, who: str = "SGD") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value == value \
            or value in (float("inf"), float("-inf")) or value <= 0:
        raise ValueError(f"{who} eta must be a finite number above 0, got {value!r}")
    return float(value)


def coefficient(name: str, value, below_one: bool = False) -> float:
    """A finite number of at least 0 (below 1 when ``below_one``): momentum, betas, weight decay, eps."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value == value \
            or value in (float("inf"), float("-inf")) or value < 0 or (below_one and value >= 1):
        want = "from 0 up to (not including) 1" if below_one else "of at least 0"
        raise ValueError(f"{name} must be a finite number {want}, got {value!r}")
    return float(value)


def eta_fits(value: float, dtype_: torch.dtype, who: str = "SGD") -> None:
    """A step size the parameters' dtype can hold (torch refuses a larger scalar with a RuntimeError)."""
    largest = torch.finfo(dtype_).max
    if value > largest:
        raise ValueError(f"{who} eta={value:g} is too large for {dtype_} parameters (at most {largest:g})")


def optimizer_state(optimizer, params: list[torch.Tensor]) -> None:
    """An optimizer's state, once made, must belong to parameters of these shapes and this dtype and device."""
    for name, tensors in optimizer.state.items():
        if len(tensors) != len(params) or any(t.shape != p.shape or t.dtype != p.dtype or t.device != p.device
                                              for t, p in zip(tensors, params, strict=False)):
            raise ValueError(f"{optimizer!r} holds {name} state for other parameters than this model's; "
                             "call optimizer.reset() or make a new optimizer for a new model")


def gradients(params: list[torch.Tensor], grads, who: str = "SGD") -> None:
    """``grads`` must match ``params`` in number, and each in shape, dtype and device."""
    if not isinstance(grads, (list, tuple)) or not all(isinstance(g, torch.Tensor) for g in grads):
        raise ValueError(f"{who}.step expects the list of gradient tensors that model.backward(target) returned, "
                         f"got {type(grads).__name__}")
    if len(grads) != len(params):
        raise ValueError(f"{who}.step got {len(grads)} gradients for {len(params)} parameters; "
                         "pass the list that model.backward(target) returned")
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        if g.shape != p.shape or g.dtype != p.dtype or g.device != p.device:
            raise ValueError(f"{who}.step: gradient {i} is {g.dtype} {tuple(g.shape)} on {g.device}, but parameter {i} "
                             f"is {p.dtype} {tuple(p.shape)} on {p.device}; pass the list that model.backward "
                             f"returned, in its order")


def schedule_factor(schedule, epoch: int) -> float:
    """``schedule.factor(epoch)`` as a float if it is a finite number of at least 0 (a real number or a
    one-element tensor): a negative factor would climb the loss, a string or an infinite one has no meaning."""
    want = "a factor must be a finite number of at least 0 (it multiplies the step size)"
    try:
        value = schedule.factor(epoch)
    except ArithmeticError as error:  # OverflowError, ZeroDivisionError
        raise ValueError(f"the schedule {schedule!r} could not give a step-size factor at epoch {epoch} "
                         f"({type(error).__name__}: {error}); {want}") from None
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    # an exact comparison: NaN, infinity and integers beyond the largest float fail it
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= sys.float_info.max:
        raise ValueError(f"the schedule {schedule!r} gave the step-size factor {value!r:.40} at epoch {epoch}; {want}")
    return float(value)


def optimizer(value) -> None:
    if not callable(getattr(value, "step", None)):
        raise ValueError(f"the optimizer must be an optimizer such as SGD(eta=1e-3), got {value!r}")


def distributions(loss, target_tensor) -> None:
    """Each row of ``target_tensor`` must be class probabilities: at least 0, summing to 1.

    The fused gradient ``softmax(z) - t`` is exact only for rows that sum to 1; it is off by ``(sum - 1)
    softmax(z)`` otherwise. A row of probabilities rounded to the targets' dtype sums to 1 within eps/2
    whatever the number of classes K, so the tolerance does not grow with K: a tenth of sqrt(eps), about
    3e-5 in float32, 3e-3 in float16 and 9e-3 in bfloat16. The sums are added and compared in float32 or
    wider: rounded to half precision, a sum would move by as much as the tolerance."""
    if target_tensor.numel() == 0:
        return
    tolerance = 0.1 * torch.finfo(target_tensor.dtype).eps ** 0.5
    sums = target_tensor.sum(1, dtype=torch.promote_types(target_tensor.dtype, torch.float32))
    if bool((target_tensor < 0).any()) or bool(((sums - 1).abs() > tolerance).any()):
        raise ValueError(f"{loss!r} expects targets whose rows are class probabilities (at least 0, summing "
                         f"to 1), such as minidl.data.one_hot(labels, K); got rows summing to {float(sums.min()):g}.."
                         f"{float(sums.max()):g} (allowed: 1 ± {tolerance:.1g} in {target_tensor.dtype})")
