"""The decision-boundary image: the model's output over a grid of the input plane (Qt-free)."""

from __future__ import annotations

import numpy as np
import torch

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
    output = model.predict(points)
    return (output[:, 1] - output[:, 0]).reshape(resolution, resolution).cpu().numpy()
