"""How the plots draw a regression: predicted values on the palette's diverging map, and 1-D curves.

A regression's network predicts a number. Over a plane (Plane, Multi-Gaussian) the plots show it as a
heatmap centred on 0 whose range covers the targets, each point filled in its target's colour on the same
map, so a point that stands out from the map around it is one the network gets wrong. Over a line (Sine)
they draw the target points (x, y) and the network's curve (x, y_pred); the network view's thumbnails of
such an input are small curves (:func:`curve_thumbnails`). Plain functions of numpy arrays and colour
lookup tables, so every view draws a regression the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import torch

from gui.model.boundary import line
from gui.qt.plots.common import Heatmap, colour_map_of, lookup_table_of, pixel_edges

VALUE_LABEL = "predicted value"  # the colour bar's words for a regression
CURVE_WIDTH = 2.5  # the network's curve over a 1-D input, in pixels
DISCRETIZE_WHY = ("A regression predicts a number, not a class: there is no class to show, so Discretize "
                  "output is off for it.")
AUTO_RANGE_WHY = ("A regression's colours keep the targets' range for the whole run, so the map and the "
                  "points' colours mean the same number: Auto colour range is off for it.")


def value_limit(data) -> float:
    """The colour scale's reach ±limit for a regression's data: [-1, 1] grown to the largest finite
    |target| of the train and test points (rounded up to a tenth), so every target has its own colour."""
    targets = torch.cat((data.y_train.reshape(-1), data.y_test.reshape(-1))).abs()
    finite = targets[torch.isfinite(targets)]
    peak = float(finite.max()) if finite.numel() else 0.0
    return max(1.0, math.ceil(peak * 10 - 1e-9) / 10)


def value_index(values: np.ndarray, limit: float, size: int = 256) -> np.ndarray:
    """Rows of a ``size``-colour lookup table for ``values`` on ``[-limit, limit]`` (NaN: the middle)."""
    scaled = np.nan_to_num((np.asarray(values, np.float64) + limit) / (2 * limit), nan=0.5)
    return np.clip(np.rint(scaled * (size - 1)), 0, size - 1).astype(np.intp)


def value_brushes(values: np.ndarray, lut: np.ndarray, limit: float) -> list:
    """A brush a value, its colour on ``lut`` (``(256, 3)`` RGB) over ``[-limit, limit]``: one brush
    made a colour, shared by the points that have it."""
    index = value_index(values, limit, len(lut)).tolist()
    made = {i: pg.mkBrush(*(int(c) for c in lut[i])) for i in set(index)}
    return [made[i] for i in index]


def value_pens(values: np.ndarray, lut: np.ndarray, limit: float, width: float = 2.0) -> list:
    """Like :func:`value_brushes`, pens (a hollow test point's outline in its target's colour)."""
    index = value_index(values, limit, len(lut)).tolist()
    made = {i: pg.mkPen(tuple(int(c) for c in lut[i]), width=width) for i in set(index)}
    return [made[i] for i in index]


def point_styles(data, palette, limit: float | None) -> list[tuple[np.ndarray, np.ndarray, dict]]:
    """``(x, y, style)`` of a regression's training points, then of its test points, for a scatter's
    ``setData``: over a line, (x, target) in the palette's first class colour; over the plane, each in
    its target's colour on the map of ``[-limit, limit]``; training points filled, test points hollow."""
    lut, outline = lookup_table_of(palette), pg.mkPen(palette.outline, width=0.8)
    colour, styles = palette.class_colours[0], []
    for X, y, filled in ((data.points_train, data.y_train, True), (data.points_test, data.y_test, False)):
        points, targets = X.numpy(), y[:, 0].numpy()
        if data.dims == 1:
            style = ({"brush": pg.mkBrush(colour), "pen": outline} if filled
                     else {"brush": None, "pen": pg.mkPen(colour, width=1.5)})
            styles.append((points[:, 0], targets, style))
            continue
        style = ({"brush": value_brushes(targets, lut, limit), "pen": outline} if filled
                 else {"brush": None, "pen": value_pens(targets, lut, limit)})
        styles.append((points[:, 0], points[:, 1], style))
    return styles


def describe(palette, dims: int) -> str:
    """The boundary plot's tooltip for a regression over ``dims`` input coordinates, in ``palette``."""
    if dims == 1:
        return (f"Regression: the dots are the targets y at each x (filled: training points, hollow: test "
                f"points);\nthe {palette.class_names[1]} curve is the network's prediction.")
    low, high = palette.class_names
    return (f"Regression: the network's predicted value, {high} above 0, {low} below, white at 0.\nThe points "
            "are coloured by their target on the same scale (filled: training, hollow: test):\na point that "
            "stands out from the colour around it is one the network gets wrong.")


def curve_thumbnails(curves: np.ndarray, side: int, ink=(26, 26, 26), axis=(200, 200, 200)) -> np.ndarray:
    """RGB thumbnails ``(units, side, side, 3)`` of ``curves`` ``(units, points)``: each unit's output
    against x (left to right), scaled by its own largest |value| to the full height with 0 in the middle
    (a grey line), drawn in ``ink`` on white. Each column joins the curve's rows at it and at the column
    before, so a steep curve stays one connected line."""
    n, points = curves.shape
    picks = (np.arange(side) * points) // side  # nearest points (any count)
    small = curves[:, picks].astype(np.float64)
    peak = np.nanmax(np.abs(small), axis=1) if n and points else np.zeros(n)
    peak = np.where(np.isfinite(peak) & (peak > 0), peak, 1.0)
    scaled = np.clip(np.nan_to_num(small / peak[:, None], nan=0.0), -1, 1)
    rows = np.rint((1 - scaled) / 2 * (side - 1)).astype(np.intp)  # row 0 at the top (the largest value)
    before = np.concatenate((rows[:, :1], rows[:, :-1]), 1)
    low, high = np.minimum(rows, before), np.maximum(rows, before)
    r = np.arange(side)[None, :, None]
    drawn = (r >= low[:, None, :]) & (r <= high[:, None, :])  # [unit, row, column]
    tiles = np.full((n, side, side, 3), 255, np.uint8)
    tiles[:, (side - 1) // 2] = axis
    if side % 2 == 0:
        tiles[:, side // 2] = axis
    tiles[drawn] = ink
    return tiles


def add_prediction(plot, picture: np.ndarray, data, extent, palette, size: float = 4) -> None:
    """Draw a regression's prediction ``picture`` (:func:`gui.model.boundary.difference`: ``(res, res)``
    over the plane, ``(points,)`` along a 1-D input's line) and ``data``'s training points on ``plot``
    (a PlotItem), as the boundary plot draws them: the compare view's small multiples."""
    if picture.ndim == 1:
        plot.addItem(pg.ScatterPlotItem(data.points_train[:, 0].numpy(), data.y_train[:, 0].numpy(), size=size,
                                        pen=None, brush=palette.class_colours[0]))
        x = line(extent, picture.shape[0])[:, 0].numpy()
        plot.addItem(pg.PlotCurveItem(x, picture, pen=pg.mkPen(palette.class_colours[1], width=2)))
        return
    limit = value_limit(data)
    heat = Heatmap(axisOrder="col-major")
    heat.setColorMap(colour_map_of(palette))
    heat.setImage(picture, autoLevels=False, levels=(-limit, limit))
    x0, x1, y0, y1 = pixel_edges(extent, picture.shape)
    heat.setRect(x0, y0, x1 - x0, y1 - y0)
    plot.addItem(heat)
    points = data.points_train.numpy()
    brushes = value_brushes(data.y_train[:, 0].numpy(), lookup_table_of(palette), limit)
    plot.addItem(pg.ScatterPlotItem(points[:, 0], points[:, 1], size=size, brush=brushes,
                                    pen=pg.mkPen(palette.outline, width=0.5)))
