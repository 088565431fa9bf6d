"""The decision-boundary image: the model's output over a grid of the input plane (Qt-free).

A regression's picture is the predicted value itself: over the plane's grid, or for a 1-D input
(Sine) along a line of :data:`CURVE_POINTS` values of x (the network's curve).
"""

from __future__ import annotations

import numpy as np
import torch

from minidl.checks import unchecked

RESOLUTION = 100  # grid points a side: smooth enough on a projector, 10,000 points a frame
CURVE_POINTS = 240  # points along a 1-D input's curve: smooth on a projector (not a square: see inside.unit_images)


def grid(extent: tuple[float, float, float, float], resolution: int = RESOLUTION) -> torch.Tensor:
    """Points ``(resolution**2, 2)`` covering ``extent = (x0, x1, y0, y1)``, row-major in x."""
    x0, x1, y0, y1 = extent
    xs = torch.linspace(x0, x1, resolution)
    ys = torch.linspace(y0, y1, resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    return torch.stack((gx.reshape(-1), gy.reshape(-1)), 1)


def line(extent: tuple[float, float, float, float], count: int = CURVE_POINTS) -> torch.Tensor:
    """Points ``(count, 1)`` from ``x0`` to ``x1`` of ``extent``, increasing: a 1-D input's "grid"."""
    return torch.linspace(extent[0], extent[1], count)[:, None]


def inputs_grid(data, extent: tuple[float, float, float, float]) -> torch.Tensor:
    """The network's inputs over ``extent``: the features (``data.inputs``) of the plane's grid, or of
    the line of x values for a 1-D dataset."""
    return data.inputs(grid(extent) if data.dims == 2 else line(extent))


def image(model, points: torch.Tensor, resolution: int = RESOLUTION) -> np.ndarray:
    """Class-1 score minus class-0 score at each grid point, shape ``(resolution, resolution)``
    indexed ``[x, y]`` (pyqtgraph's ImageItem order): positive where class 1 wins."""
    return difference(model.predict(points), resolution)


class KeptPass:
    """The output of one network for one set of points (a grid, a test set), again and again (the
    training worker's frames and samples): the activations go into buffers kept from the previous
    call, because fresh tensors of thousands of rows cost more in page faults than their arithmetic
    (about 2.7 ms a frame fresh against under 1 ms kept, on the report's network; see
    benchmarks/README.md). The network's layers must not change meanwhile, and the first call must
    not be made in inference mode (its buffers could not be written outside it)."""

    def __init__(self, model, points: torch.Tensor, what: str = "the points"):
        model.check_input(points, what)
        self.model, self.points = model, points
        self._buffers: list[torch.Tensor] = []

    def output(self) -> torch.Tensor:
        """The network's output for the points, ``(N, outputs)``: a kept buffer, overwritten by the next call."""
        with torch.no_grad():
            x = self.points
            if not self._buffers:
                for module in self.model:
                    x = unchecked(module.forward)(x)
                    self._buffers.append(x)
            else:
                for module, buffer in zip(self.model, self._buffers, strict=True):
                    x = unchecked(module.forward)(x, out=buffer)
        return x

    @property
    def outputs(self) -> list[torch.Tensor]:
        """Every module's output from the last call (the network view's units)."""
        return self._buffers


class Imager(KeptPass):
    """:func:`image` of one network over one grid, again and again (see :class:`KeptPass`)."""

    def __init__(self, model, points: torch.Tensor, resolution: int = RESOLUTION):
        super().__init__(model, points, "the grid")
        self.resolution = resolution

    def __call__(self) -> np.ndarray:
        return difference(self.output(), self.resolution)


def difference(output: torch.Tensor, resolution: int) -> np.ndarray:
    """Two classes: class-1 minus class-0 score, ``(resolution, resolution)``. K > 2 classes:
    ``(resolution, resolution, 2)``, the winning class (the argmax) and its margin over the
    runner-up (how sure the network is), which the plot shades the class colour by. One output (a
    regression): the predicted value, ``(resolution, resolution)`` over a grid, or ``(points,)``
    along a 1-D input's line."""
    if output.shape[1] == 1:
        values = output[:, 0]
        square = values.numel() == resolution * resolution
        return (values.reshape(resolution, resolution) if square else values).cpu().numpy()
    if output.shape[1] == 2:
        return (output[:, 1] - output[:, 0]).reshape(resolution, resolution).cpu().numpy()
    top, index = output.topk(2, dim=1)
    picture = torch.stack((index[:, 0].to(output.dtype), top[:, 0] - top[:, 1]), 1)
    return picture.reshape(resolution, resolution, 2).cpu().numpy()
