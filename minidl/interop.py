"""The boundary to ``torch.nn``, for users who outgrow minidl. The only module that imports it."""

from __future__ import annotations

import torch
from torch import nn

from .activations import ReLU, Sigmoid, Tanh
from .layers import Linear
from .losses import MSE, CrossEntropy
from .sequential import Sequential

_TO_TORCH = {ReLU: nn.ReLU, Tanh: nn.Tanh, Sigmoid: nn.Sigmoid}
_FROM_TORCH = {nn.ReLU: ReLU, nn.Tanh: Tanh, nn.Sigmoid: Sigmoid}
# Both of minidl's losses sum over the batch. torch's CrossEntropyLoss takes class indices where
# minidl's CrossEntropy takes one-hot rows: loss(z, labels) == CrossEntropy()(z, one_hot(labels, K)).
_LOSSES_TO_TORCH = {MSE: lambda: nn.MSELoss(reduction="sum"),
                    CrossEntropy: lambda: nn.CrossEntropyLoss(reduction="sum")}


def to_torch(model: Sequential) -> nn.Sequential:
    """An ``nn.Sequential`` with copies of ``model``'s weights, on its device and dtype."""
    layers = []
    for module in model:
        if isinstance(module, Linear):
            layer = nn.Linear(module.in_features, module.out_features, device=model.device, dtype=model.dtype)
            with torch.no_grad():
                layer.weight.copy_(module.weight)
                layer.bias.copy_(module.bias)
            layers.append(layer)
        elif type(module) in _TO_TORCH:
            layers.append(_TO_TORCH[type(module)]())
        else:
            raise ValueError(f"{module!r} has no torch.nn counterpart; to_torch exports only Linear, ReLU, Tanh "
                             "and Sigmoid")
    return nn.Sequential(*layers)


def from_torch(net: nn.Sequential) -> Sequential:
    """A minidl ``Sequential`` with copies of the weights of a stack of nn.Linear, nn.ReLU, nn.Tanh and nn.Sigmoid.

    Weights must be finite and each layer's own: minidl's Sequential holds a module once (it keeps what
    its backward needs from its last forward), so tied weights (an nn.Linear used twice, or a parameter
    shared by two) are refused rather than silently untied into copies that would train apart."""
    if not isinstance(net, nn.Sequential):
        raise ValueError(f"from_torch expects a torch.nn.Sequential, got {type(net).__name__}")
    modules = []
    owners: dict[int, int] = {}  # id of an nn.Linear or of its parameters -> the first layer index holding it
    for index, layer in enumerate(net):
        if isinstance(layer, nn.Linear):
            if layer.bias is None:
                raise ValueError(f"layer {index} is an nn.Linear without bias; minidl's Linear always has one")
            _check_own_finite(index, layer, owners)
            weight = layer.weight.detach()
            module = Linear(layer.in_features, layer.out_features, dtype=weight.dtype, device=weight.device)
            module.weight.copy_(weight)
            module.bias.copy_(layer.bias.detach())
            modules.append(module)
        elif type(layer) in _FROM_TORCH:
            modules.append(_FROM_TORCH[type(layer)]())
        else:
            raise ValueError(f"layer {index} is {type(layer).__name__}; minidl imports only Linear, ReLU, Tanh "
                             "and Sigmoid")
    return Sequential(*modules)


def _check_own_finite(index: int, layer: nn.Linear, owners: dict[int, int]) -> None:
    """Refuse an nn.Linear met before, one sharing a parameter with an earlier layer, or non-finite weights."""
    if id(layer) in owners:
        raise ValueError(f"layer {index} is the same nn.Linear as layer {owners[id(layer)]} (tied weights); minidl "
                         "gives each layer its own weights: use two nn.Linear modules, or train the tied net in torch")
    for name in ("weight", "bias"):
        param = getattr(layer, name)
        if id(param) in owners:
            raise ValueError(f"layer {index} shares its {name} with layer {owners[id(param)]} (tied weights); minidl "
                             "gives each layer its own weights: give each nn.Linear its own parameters")
        if not bool(torch.isfinite(param.detach()).all()):
            raise ValueError(f"layer {index} is an nn.Linear whose {name} holds NaN or infinite values; minidl "
                             "imports finite weights only (was the net's training diverging?)")
    owners.update({id(layer): index, id(layer.weight): index, id(layer.bias): index})


def loss_to_torch(loss) -> nn.Module:
    """The ``torch.nn`` loss that computes what ``loss`` does: ``MSELoss(reduction="sum")`` for
    :class:`MSE`, ``CrossEntropyLoss(reduction="sum")`` (on class indices) for :class:`CrossEntropy`."""
    if type(loss) not in _LOSSES_TO_TORCH:
        raise ValueError(f"{loss!r} has no torch.nn counterpart; loss_to_torch exports MSE and CrossEntropy")
    return _LOSSES_TO_TORCH[type(loss)]()


def loss_from_torch(loss: nn.Module):
    """The minidl loss for ``MSELoss(reduction="sum")`` or ``CrossEntropyLoss(reduction="sum")`` (plain:
    no class weights, no label smoothing, no ignored index in use)."""
    if isinstance(loss, nn.MSELoss) and loss.reduction == "sum":
        return MSE()
    if (isinstance(loss, nn.CrossEntropyLoss) and loss.reduction == "sum" and loss.weight is None
            and loss.label_smoothing == 0):
        return CrossEntropy()
    raise ValueError(f"{loss!r} has no minidl counterpart; minidl sums over the batch: use "
                     'nn.MSELoss(reduction="sum") or a plain nn.CrossEntropyLoss(reduction="sum")')
