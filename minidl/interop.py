"""The boundary to ``torch.nn``, for users who outgrow minidl. The only module that imports it."""

from __future__ import annotations

import torch
from torch import nn

from .activations import ReLU, Tanh
from .layers import Linear
from .sequential import Sequential

_TO_TORCH = {ReLU: nn.ReLU, Tanh: nn.Tanh}
_FROM_TORCH = {nn.ReLU: ReLU, nn.Tanh: Tanh}


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
            raise ValueError(f"{module!r} has no torch.nn counterpart; to_torch exports only Linear, ReLU and Tanh")
    return nn.Sequential(*layers)


def from_torch(net: nn.Sequential) -> Sequential:
    """A minidl ``Sequential`` with copies of the weights of a stack of nn.Linear, nn.ReLU and nn.Tanh."""
    if not isinstance(net, nn.Sequential):
        raise ValueError(f"from_torch expects a torch.nn.Sequential, got {type(net).__name__}")
    modules = []
    for index, layer in enumerate(net):
        if isinstance(layer, nn.Linear):
            if layer.bias is None:
                raise ValueError(f"layer {index} is an nn.Linear without bias; minidl's Linear always has one")
            weight = layer.weight.detach()
            module = Linear(layer.in_features, layer.out_features, dtype=weight.dtype, device=weight.device)
            module.weight.copy_(weight)
            module.bias.copy_(layer.bias.detach())
            modules.append(module)
        elif type(layer) in _FROM_TORCH:
            modules.append(_FROM_TORCH[type(layer)]())
        else:
            raise ValueError(f"layer {index} is {type(layer).__name__}; minidl imports only Linear, ReLU and Tanh")
    return Sequential(*modules)
