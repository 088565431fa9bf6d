"""The decision-boundary image: the model's output over a grid of the input plane (Qt-free)."""

from __future__ import annotations

import numpy as np
import torch

from minidl.checks import unchecked

RESOLUTION = 100  # grid points a side: smooth enough on a projector, 10,000 points a frame


def grid(extent: tuple[float, float, float, float], resolution: int = RESOLUTION) -> torch.Tensor:
    """Points ``(resolution**2, 2)`` covering ``extent = (x0, x1, y0, y1)``, row-major in x."""
    x0, x1, y0, y1 = extent
    xs = torch.linspace(x0, x1, resolution)
    ys = torch.linspace(y0, y1, resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    return torch.stack((gx.reshape(-1), gy.reshape(-1)), 1)


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
    runner-up (how sure the network is), which the plot shades the class colour by."""
    if output.shape[1] == 2:
        return (output[:, 1] - output[:, 0]).reshape(resolution, resolution).cpu().numpy()
    top, index = output.topk(2, dim=1)
    picture = torch.stack((index[:, 0].to(output.dtype), top[:, 0] - top[:, 1]), 1)
    return picture.reshape(resolution, resolution, 2).cpu().numpy()
