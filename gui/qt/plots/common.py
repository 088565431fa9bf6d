"""What the plots share: colours and class markers, the class pictures' shading, nice limits, quiet
axes and the fast heatmap item. The boundary plot is in gui/qt/plots/plots.py, the loss plot in
gui/qt/plots/loss_plot.py."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem

from gui.qt.plots import palette as palettes

CLASS_COLOURS = ("#2b6cb0", "#c53030")  # class 0 blue, class 1 red: the colour map's two ends
# Classes 2..9, each with its own marker shape too. Green, purple and teal first: the
# built-in datasets draw at most five classes, and these clash with neither palette's second colour
# (red, or the colour-blind-safe orange); orange comes only with a sixth class of your own data.
MORE_COLOURS = ("#2f9e44", "#7048e8", "#0c8599", "#e8890c", "#8d5524", "#d6336c", "#868e96", "#a9a200")
MORE_SYMBOLS = ("t", "d", "p", "h", "star", "t1", "+", "x")  # after the palette's circle and square
SHADES = 64  # confidence steps per class colour in the K-class map


def colour_map_of(palette: palettes.Palette) -> pg.ColorMap:
    """The palette's diverging colour map (a pyqtgraph name, or its low, middle and high colours)."""
    if isinstance(palette.colour_map, str):
        return pg.colormap.get(palette.colour_map)
    return pg.ColorMap([0.0, 0.5, 1.0], list(palette.colour_map))


def lookup_table_of(palette: palettes.Palette) -> np.ndarray:
    """``(256, 3)`` uint8 RGB of the palette's colour map, for views that colour arrays themselves."""
    return colour_map_of(palette).getLookupTable(nPts=256, alpha=False).astype(np.uint8)


def class_colours(first_two) -> tuple[str, ...]:
    """Ten class colours: the palette's two, then ``MORE_COLOURS``."""
    return (*first_two, *MORE_COLOURS)


def class_symbols(first_two) -> tuple[str, ...]:
    """Ten marker shapes: the palette's two, then ``MORE_SYMBOLS``."""
    return (*first_two, *MORE_SYMBOLS)
COLOUR_MAP = "CET-D1A"  # diverging blue-white-red, perceptually even (colorcet)

pg.setConfigOptions(antialias=True, background="w", foreground="#222")


FINE_STEPS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
COARSE_STEPS = (1, 2, 5, 10)


def nice_ceiling(value: float, steps: tuple[float, ...] = FINE_STEPS) -> float:
    """The smallest step times a power of ten that is at least ``value`` (1 for 0 or less).

    The fine steps give limits within 25 % of the value (colour-bar limits that keep their
    strength); the coarse ones, within a factor 2.5 (an epoch axis that changes rarely)."""
    if not value > 0 or not np.isfinite(value):
        return 1.0
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(m * power for m in steps if m * power >= value * (1 - 1e-12)))


def quiet_axes(plot_item) -> None:
    """Axes that cost nothing while the data changes: ticks outside the view (pyqtgraph's inward
    ticks overlap the data, so every frame would repaint the axes), and each axis kept as a pixmap.
    A changing curve's dirty area still reaches a pixel into them, and replaying an axis's tick
    labels costs 0.15 ms a frame on the GUI thread, which holds the GIL the training needs; the
    pixmap is painted again only when the axis itself changes (range, font, size)."""
    for name in ("left", "bottom"):
        axis = plot_item.getAxis(name)
        axis.setStyle(tickLength=5)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


class Heatmap(pg.ImageItem):
    """An ImageItem that keeps its rendered picture in 32-bit RGB: Qt scales that onto the
    screen four to six times faster than pyqtgraph's 8-bit indexed picture, and the GUI thread
    holds the GIL the training thread needs while it does. ``smooth``: scale with interpolation
    (a projector's large plot; it costs GUI time, so presenter mode turns it on)."""

    smooth = False

    def paint(self, painter, *args):
        if self.smooth:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        super().paint(painter, *args)

    def render(self, *args, **kwargs):
        super().render(*args, **kwargs)
        if self.qimage is not None and self.qimage.format() != QImage.Format.Format_RGB32:
            self.qimage = self.qimage.convertToFormat(QImage.Format.Format_RGB32)


def upper_half(palette: palettes.Palette) -> pg.ColorMap:
    """The palette's colour map from its middle (white, 0) to its high end: a scale for values never negative."""
    lut = lookup_table_of(palette)[128:]
    return pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut)


def output_bound(blocks: list[dict]) -> float | None:
    """How far class 1 − class 0 (or the winner's margin) can reach for a stack of blocks: 2 after a
    Tanh (each output lies in [−1, 1]), 1 after a Sigmoid, None (unbounded) after a Linear or a ReLU."""
    last = blocks[-1].get("type") if blocks else None
    return {"Tanh": 2.0, "Sigmoid": 1.0}.get(last)


def class_lookup_table(classes: int, first_two=CLASS_COLOURS) -> np.ndarray:
    """``(classes * SHADES, 3)`` colours: for each class, white shading into its colour as the
    network's margin for it grows (row ``c * SHADES + s``)."""
    colours = [pg.mkColor(c) for c in class_colours(first_two)[:classes]]
    table = np.empty((classes * SHADES, 3), np.ubyte)
    strength = np.linspace(0.0, 0.85, SHADES)[:, None]  # the surest still lets points show on it
    for c, colour in enumerate(colours):
        rgb = np.array(colour.getRgb()[:3], float)
        table[c * SHADES:(c + 1) * SHADES] = np.rint(255 * (1 - strength) + rgb * strength)
    return table


def class_shades(picture: np.ndarray, classes: int, limit: float) -> np.ndarray:
    """A K-class picture (:func:`gui.model.boundary.difference`: the winning class and its margin) as rows of
    :func:`class_lookup_table`: the class's shade, from white at margin 0 to its colour at ``limit``."""
    return picture[..., 0] * SHADES + np.rint(np.clip(picture[..., 1] / limit, 0, 1) * (SHADES - 1))


def margins(picture: np.ndarray) -> np.ndarray:
    """How sure the network is at each pixel of a boundary picture (:func:`gui.model.boundary.difference`):
    |class 1 − class 0| for two classes, the winner's margin over the runner-up for more."""
    return picture[..., 1] if picture.ndim == 3 else np.abs(picture)


def paint_boundary(heat, picture: np.ndarray, palette: palettes.Palette, limit: float, classes: int = 2) -> None:
    """Show a boundary picture (:func:`gui.model.boundary.difference`) on ``heat`` (a :class:`Heatmap`) as the
    boundary plot does: two classes on the palette's diverging map from ``-limit`` to ``limit``; more,
    each winner's class colour shaded by its margin up to ``limit`` (the small views' pictures)."""
    if picture.ndim == 3:
        classes = max(classes, int(picture[..., 0].max()) + 1)
        heat.setLookupTable(class_lookup_table(classes, palette.class_colours))
        heat.setImage(class_shades(picture, classes, limit), autoLevels=False, levels=(0, classes * SHADES))
        return
    heat.setColorMap(colour_map_of(palette))
    heat.setImage(picture, autoLevels=False, levels=(-limit, limit))


def predicted_classes(picture: np.ndarray) -> np.ndarray:
    """The class the network predicts at each pixel of a boundary picture (:func:`gui.model.boundary.difference`):
    the winner for more than two classes, 1 where class 1 − class 0 is above 0 for two (argmax's choice:
    a tie, or NaN, is class 0)."""
    if picture.ndim == 3:
        return picture[..., 0].astype(np.int64)
    return (picture > 0).astype(np.int64)


def pixel_edges(extent, shape) -> tuple[float, float, float, float]:
    """The edges of an image whose pixel centres are the grid points spanning ``extent`` (the
    first and last point of each axis are pixel centres, half a pixel inside the edges)."""
    x0, x1, y0, y1 = extent
    hx, hy = (x1 - x0) / max(shape[0] - 1, 1) / 2, (y1 - y0) / max(shape[1] - 1, 1) / 2
    return x0 - hx, x1 + hx, y0 - hy, y1 + hy
