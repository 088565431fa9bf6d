"""A network as plain data: ``[{"type": "Linear", "width": 25}, {"type": "ReLU"}, ...]``.

The file format and the playground both describe networks this way; :func:`check`
turns anything malformed or absurd into a ``ValueError`` with a sentence *before*
:func:`build` allocates a single parameter.
"""

from __future__ import annotations

import torch

from .activations import ReLU, Sigmoid, Tanh
from .layers import Linear
from .sequential import Sequential

ACTIVATIONS = {"ReLU": ReLU, "Tanh": Tanh, "Sigmoid": Sigmoid}
LAYER_TYPES = ("Linear", *ACTIVATIONS)
KEYS = {"Linear": ("type", "width"), **{name: ("type",) for name in ACTIVATIONS}}  # all a layer may say
# The report's network: 2-25-25-25-2, ReLU hidden layers, Tanh output.
REPORT_LAYERS = [{"type": "Linear", "width": 25}, {"type": "ReLU"}, {"type": "Linear", "width": 25},
                 {"type": "ReLU"}, {"type": "Linear", "width": 25}, {"type": "ReLU"},
                 {"type": "Linear", "width": 2}, {"type": "Tanh"}]
MAX_WIDTH = 16_384
MAX_LAYERS = 256
MAX_PARAMETERS = 50_000_000


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check(layers, in_features: int) -> int:
    """Raise ``ValueError`` unless ``layers`` describes a buildable network; return its parameter count."""
    if not _positive_int(in_features) or in_features > MAX_WIDTH:
        raise ValueError(f"the input width must be an integer from 1 to {MAX_WIDTH}, got {in_features!r}")
    if not isinstance(layers, list) or not layers:
        raise ValueError("the network has no layers; add at least one Linear layer")
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"the network has {len(layers)} layers; at most {MAX_LAYERS} are supported")
    width, count, has_linear = in_features, 0, False
    for position, layer in enumerate(layers, 1):
        kind = layer.get("type") if isinstance(layer, dict) else None
        if kind not in LAYER_TYPES:
            raise ValueError(f"layer {position} must have a type among {', '.join(LAYER_TYPES)}, got {layer!r:.80}")
        unknown = sorted(set(layer) - set(KEYS[kind]), key=str)
        if unknown:  # refused, not ignored: a key nothing reads would travel on into files and scripts
            raise ValueError(f"layer {position} ({kind}) has an unknown key {unknown[0]!r:.40}; a {kind} layer has "
                             f"only {' and '.join(KEYS[kind])}")
        if kind == "Linear":
            out = layer.get("width")
            if not _positive_int(out) or out > MAX_WIDTH:
                raise ValueError(f"layer {position} (Linear) needs a width from 1 to {MAX_WIDTH}, got {out!r:.40}")
            count += (width + 1) * out
            width, has_linear = out, True
            if count > MAX_PARAMETERS:
                raise ValueError(f"the network would have over {MAX_PARAMETERS:,} parameters; use narrower layers")
    if not has_linear:
        raise ValueError("the network has no Linear layer, so nothing to train; add one")
    return count


def build(layers, in_features: int, *, generator: torch.Generator | None = None,
          dtype=torch.float32, device=None) -> Sequential:
    """A fresh :class:`Sequential` from its description (weights drawn from ``generator``)."""
    check(layers, in_features)
    modules, width = [], in_features
    for layer in layers:
        if layer["type"] == "Linear":
            modules.append(Linear(width, layer["width"], generator=generator, dtype=dtype, device=device))
            width = layer["width"]
        else:
            modules.append(ACTIVATIONS[layer["type"]]())
    return Sequential(*modules)


def describe(model: Sequential) -> list[dict]:
    """The description :func:`build` takes, for ``model``."""
    return [{"type": "Linear", "width": m.out_features} if isinstance(m, Linear) else {"type": type(m).__name__}
            for m in model]
