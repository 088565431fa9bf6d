"""The hidden layer's view of space (ConvNetJS's lesson), free of Qt: the training points and a grid of
lines of the input plane, as a hidden layer of exactly two units maps them (after its activations).

A network that separates two classes with its last Linear must first bend the plane until they lie on
either side of a line: a two-unit layer can be drawn as a plane of its own, where that bending shows.
Everything here runs on a private network rebuilt from a copy of the weights, so any thread may call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gui.model.inside import Column, columns
from gui.model.timeline import flatten
from gui.model.weights import model_from

WIDTH = 2  # units a layer needs to be drawn as a plane
LINES = 11  # grid lines each way across the input plane
SAMPLES = 50  # points along each grid line


@dataclass(frozen=True)
class Mapped:
    """What the view draws for one layer at one epoch: ``points`` ``(N, 2)``, the training points in the
    layer's space, and ``lines`` ``(2 * LINES, SAMPLES, 2)``, the grid lines (the first ``LINES`` at
    constant x2, the others at constant x1) in the same space."""

    epoch: int
    layer: int
    points: np.ndarray
    lines: np.ndarray


def _hidden(blocks: list[dict]) -> list[Column]:
    """The columns of the stack's Linear layers, from the first to the output."""
    return columns(blocks)[1:]


def layers(blocks: list[dict]) -> list[int]:
    """The Linear layers (0-based among the Linear layers) that can be drawn: hidden, two units wide."""
    return [c.linear for c in _hidden(blocks) if why_not(blocks, c.linear) is None]


def why_not(blocks: list[dict], layer: int) -> str | None:
    """Why Linear layer ``layer`` (0-based) cannot be drawn as a plane, in a sentence; None where it can."""
    cols = _hidden(blocks)
    if not 0 <= layer < len(cols):
        return f"The network has {len(cols)} Linear layers: there is no layer {layer + 1}."
    column = cols[layer]
    if layer == len(cols) - 1:
        return (f"Layer {layer + 1} is the output: the boundary plot shows it. Only a hidden layer shows how "
                "the network bends the plane before its last step.")
    if column.units != WIDTH:
        return (f"Layer {layer + 1} ({column.label}) has {column.units} units: only a hidden layer of exactly "
                f"{WIDTH} units is a plane that can be drawn. Make one {WIDTH} wide to see how the network "
                "bends the input plane.")
    return None


def summary(blocks: list[dict]) -> str:
    """One sentence for a stack without any drawable layer (empty where it has one)."""
    if layers(blocks):
        return ""
    cols = _hidden(blocks)
    if len(cols) < 2:
        return ("The network has no hidden layer: add a Linear of 2 units (and an activation) before the "
                "output to see how the network bends the input plane.")
    widths = ", ".join(f"{c.label} has {c.units}" for c in cols[:-1])
    return (f"No hidden layer has exactly {WIDTH} units ({widths}): make one {WIDTH} wide to see how the "
            "network bends the input plane until a line separates the classes.")


def grid_lines(extent: tuple[float, float, float, float], lines: int = LINES,
               samples: int = SAMPLES) -> torch.Tensor:
    """A grid of the input plane ``extent = (x0, x1, y0, y1)``: shape ``(2 * lines, samples, 2)``, the first
    ``lines`` lines at constant x2 (x1 running), the others at constant x1 (x2 running)."""
    x0, x1, y0, y1 = extent
    run_x, run_y = torch.linspace(x0, x1, samples), torch.linspace(y0, y1, samples)
    at_y, at_x = torch.linspace(y0, y1, lines), torch.linspace(x0, x1, lines)
    across = torch.stack((run_x.expand(lines, samples), at_y[:, None].expand(lines, samples)), 2)
    down = torch.stack((at_x[:, None].expand(lines, samples), run_y.expand(lines, samples)), 2)
    return torch.cat((across, down))


def mapped(blocks: list[dict], parameters: list[torch.Tensor] | torch.Tensor, X: torch.Tensor,
           layer: int) -> np.ndarray:
    """``X`` ``(N, 2)`` mapped through the network of ``blocks`` with ``parameters`` (``[W0, b0, ...]`` or a
    flat copy) up to Linear layer ``layer`` and the activations after it: shape ``(N, 2)``, float64."""
    reason = why_not(blocks, layer)
    if reason is not None:
        raise ValueError(reason)
    flat = parameters if isinstance(parameters, torch.Tensor) else flatten(parameters)
    model = model_from(blocks, flat)
    end = _hidden(blocks)[layer].module
    with torch.no_grad():
        x = X.to(flat.dtype)
        for module in list(model)[:end + 1]:
            x = module.forward(x)
    return x.to(torch.float64).cpu().numpy()


def compute(blocks: list[dict], flat: torch.Tensor, X: torch.Tensor, extent: tuple[float, float, float, float],
            layer: int, epoch: int, inputs=None) -> Mapped:
    """The points (the network's inputs ``X``) and the grid lines of the input plane ``extent`` in Linear
    layer ``layer``'s space; ``inputs`` turns points of the plane into the network's inputs (their
    features, :meth:`gui.model.data.Data.inputs`; None: the points themselves)."""
    grid = grid_lines(extent).to(flat.dtype)
    plane = grid.reshape(-1, 2)
    lines = mapped(blocks, flat, plane if inputs is None else inputs(plane), layer).reshape(*grid.shape[:2], -1)
    return Mapped(epoch, layer, mapped(blocks, flat, X, layer), lines)
