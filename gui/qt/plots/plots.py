"""The boundary plot, and what the plots share: colours, nice limits, quiet axes. The loss plot is
in gui/qt/plots/loss_plot.py. Each plot is created once and updated with setData / setImage."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QCheckBox, QGraphicsItem

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


# A unit in the big plot: its outputs' reach, and the points that mark the classes on it.
ONE_SIDED = {"ReLU": None, "Sigmoid": 1.0}  # never negative: a 0..top scale (None: the largest output)
UNIT_MARKERS = 300  # training points drawn over a unit, evenly chosen: enough to place the classes


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


class BoundaryPlot(pg.PlotWidget):
    """The network's class-1 minus class-0 output over the input plane (one ImageItem),
    a colour bar, and the data points in their class colours (test points as triangles).

    The colour scale means the same thing in every frame of a run, so a pale map is a network
    that is unsure: ±``set_output_bound(bound)`` for an output that cannot go further (±2 after
    a Tanh), otherwise the largest |output| seen since ``reset_range()``, which only grows.
    ``auto_range_check`` (objectName ``autoRangeCheck``, off; the window lays it out) scales
    each frame to its own largest output instead. ``discretize_check`` (``discretizeCheck``, off)
    shows the predicted class alone, in flat class colours (TensorFlow Playground's "Discretize
    output"): :meth:`current_image` then holds the class at each pixel.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("boundaryPlot")
        self.palette = palettes.STANDARD
        self.setToolTip(palettes.describe(self.palette))
        item = self.getPlotItem()
        item.setAspectLocked(True)
        item.setLabel("bottom", "x₁")
        item.setLabel("left", "x₂")
        item.setMenuEnabled(False)
        quiet_axes(item)
        self.heatmap = Heatmap(axisOrder="col-major")
        item.addItem(self.heatmap)
        colour_map = pg.colormap.get(COLOUR_MAP)
        self.heatmap.setColorMap(colour_map)
        self.colour_bar = pg.ColorBarItem(values=(-1, 1), colorMap=colour_map, interactive=False,
                                          width=15, label="class 1 − class 0", colorMapMenu=False)
        self.colour_bar.setImageItem(self.heatmap, insert_in=item)
        # More than two classes: the argmax's colour, shaded by its margin over the runner-up (one
        # indexed image of its own, so the two-class map and its colour bar stay as they were).
        self.class_map = Heatmap(axisOrder="col-major")
        self.class_map.setVisible(False)
        item.addItem(self.class_map)
        self._classes, self._extent = 2, (0.0, 1.0, 0.0, 1.0)
        self.train_points = pg.ScatterPlotItem(size=6, pen=pg.mkPen(self.palette.outline, width=0.8), symbol="o")
        self.test_points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#333", width=0.6), symbol="o")
        for points in (self.train_points, self.test_points):
            # Painted once into a pixmap and reused while the heatmap under them changes.
            points.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            item.addItem(points)
        self._brushes = [pg.mkBrush(c) for c in class_colours(CLASS_COLOURS)]
        self._test_pens = [pg.mkPen(c, width=2) for c in class_colours(CLASS_COLOURS)]
        self._framed = False
        self._bound: float | None = None
        self._seen = 0.0  # the largest finite |output| since reset_range()
        self._image: np.ndarray | None = None
        self._extent = (0.0, 1.0, 0.0, 1.0)
        self._rect = QRectF()
        self._class_rect = QRectF()  # the class map's (set apart from the heatmap's)
        item.vb.sigResized.connect(lambda _vb: self._reframe())
        self._unit: tuple[np.ndarray, str] | None = None  # a unit shown instead of the output (network view)
        self._unit_args: tuple = ()  # show_unit's arguments, to draw it again with another palette
        self._data, self._show_test = None, True  # show_points's, to mark the points again after a unit
        self.auto_range_check = QCheckBox("Auto colour range", objectName="autoRangeCheck", checked=False)
        self.auto_range_check.setToolTip(
            "Off: the colours keep one scale for the whole run (±2 after a Tanh, otherwise the largest "
            "output seen since the run began),\nso a pale map means an unsure network. On: every frame "
            "spans its own largest output, which shows the shape of a weak boundary\nbut makes any "
            "network look confident.")
        self.auto_range_check.toggled.connect(lambda _: self._relevel())
        self.discretize_check = QCheckBox("Discretize output", objectName="discretizeCheck", checked=False)
        self.discretize_check.setToolTip(
            "Show the predicted class only, in flat class colours (TensorFlow Playground's \"Discretize "
            "output\"):\nthe boundary is sharp, and how sure the network is no longer shows.")
        self.discretize_check.toggled.connect(lambda _: self._redraw_output())

    # -- the colour scale --------------------------------------------------------------
    def levels(self) -> tuple[float, float]:
        """The colour bar's ``(low, high)``."""
        low, high = self.colour_bar.levels()
        return float(low), float(high)

    def set_output_bound(self, bound: float | None) -> None:
        """The output's reach: ±``bound`` (2.0 when the last block is Tanh), or None for unbounded."""
        if bound is not None and not (np.isfinite(bound) and bound > 0):
            raise ValueError(f"an output bound must be positive and finite, got {bound}")
        self._bound = None if bound is None else float(bound)
        self._relevel()

    def reset_range(self) -> None:
        """Forget the range seen so far (a new network or a new run): the next frame sets it afresh."""
        self._seen = 0.0

    def _limit(self, peak: float) -> float:
        if self.auto_range_check.isChecked():
            return nice_ceiling(peak)
        if self._bound is not None:
            return self._bound
        self._seen = max(self._seen, peak)
        return nice_ceiling(self._seen)

    def _redraw_output(self) -> None:
        if self._unit is None and self._image is not None:
            self.show_image(self._image, self._extent)

    @property
    def discretized(self) -> bool:
        """True while the output is shown as the predicted class alone (``discretizeCheck`` on)."""
        return self.discretize_check.isChecked()

    def _relevel(self) -> None:
        if self._unit is not None:
            self.show_unit(*self._unit_args)  # its own colour scale, in the palette's colours
        elif self._image is not None and (self._image.ndim == 3 or self.discretized):
            self._show_classes(self._image, self._extent)
        elif self._image is not None:
            self._set_levels(self._limit(_peak(self._image)))

    def _set_levels(self, limit: float) -> None:
        self.heatmap.setLevels((-limit, limit))
        if self.colour_bar.levels() != (-limit, limit):  # redrawing the bar costs more than the image
            self.colour_bar.setLevels((-limit, limit))

    # -- frames --------------------------------------------------------------------------
    def show_image(self, image: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        """Two classes: ``image`` is class 1 − class 0. More: ``(res, res, 2)``, the winning class and
        its margin (:func:`gui.model.boundary.difference`). While a unit is shown (:meth:`show_unit`) the
        image is only kept, for :meth:`show_output`."""
        self._image, self._extent = image, extent
        if self._unit is not None:
            if image.ndim == 2:
                self._limit(_peak(image))  # the range seen grows as if it were drawn
            return
        k_classes = image.ndim == 3 or self.discretized
        self.heatmap.setVisible(not k_classes)
        self.colour_bar.setVisible(not k_classes)
        self.class_map.setVisible(k_classes)
        if k_classes:
            self._show_classes(image, extent)
            return
        self._draw(image, extent, self._limit(_peak(image)))

    def _draw(self, image: np.ndarray, extent, limit: float, low: float | None = None) -> None:
        levels = (-limit if low is None else low, limit)
        self.heatmap.setImage(image, autoLevels=False, levels=levels)
        if self.colour_bar.levels() != levels:
            self.colour_bar.setLevels(levels)
        x0, x1, y0, y1 = pixel_edges(extent, image.shape)
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        if rect != self._rect or not self._framed:  # (the item's boundingRect is in pixels: not comparable)
            self.heatmap.setRect(rect)
            self.getPlotItem().vb.setRange(rect, padding=0.02)
            self._rect, self._framed = rect, True

    def _reframe(self) -> None:
        # Frame the image again when the view is resized: with the aspect locked, a plot made
        # narrower (a dock opened beside it) would otherwise cut the image's right side off.
        if self._framed:
            self.getPlotItem().vb.setRange(self._rect, padding=0.02)

    # -- one unit instead of the output (the network view) ---------------------------------
    def show_unit(self, image: np.ndarray, extent, title: str, bar_label: str = "unit output",
                  activation: str | None = None) -> None:
        """Show a unit's output ``image`` (indexed ``[x, y]``) with its own colour scale, ``title`` (keep
        it short: a title wider than the plot widens the whole plot) and ``bar_label`` on the colour bar.

        The scale follows the unit's last ``activation``: 0 to the largest output after a ReLU, 0 to 1
        after a Sigmoid (white at 0, in the upper half of the palette's map), ± the largest |output|
        otherwise. The classes are marked by at most :data:`UNIT_MARKERS` training points as hollow
        shapes in a dark outline, a colour the map does not have, so the unit's picture shows
        between them."""
        self._unit, self._unit_args = (image, title), (image, extent, title, bar_label, activation)
        self.class_map.setVisible(False)  # a unit's values, on the two-class heatmap and its colour bar
        self.heatmap.setVisible(True)
        self.colour_bar.setVisible(True)
        if activation in ONE_SIDED:
            top = ONE_SIDED[activation] or nice_ceiling(_peak(image))
            colour_map, low = upper_half(self.palette), 0.0
        else:
            top = nice_ceiling(_peak(image))
            colour_map, low = colour_map_of(self.palette), -top
        self.heatmap.setColorMap(colour_map)
        self.colour_bar.setColorMap(colour_map)
        self._draw(image, extent, top, low)
        self.colour_bar.getAxis("left").setLabel(bar_label)
        self.setTitle(title)
        self._mark_points()

    def show_output(self) -> None:
        """Back to the network's output (class 1 − class 0)."""
        if self._unit is None:
            return
        self._unit, self._unit_args = None, ()
        self.colour_bar.getAxis("left").setLabel("class 1 − class 0")
        self.getPlotItem().titleLabel.setText("")  # a hidden title keeps its text's width otherwise
        self.setTitle(None)
        self.heatmap.setColorMap(colour_map_of(self.palette))
        self.colour_bar.setColorMap(colour_map_of(self.palette))
        self._mark_points()
        if self._image is not None:
            self.show_image(self._image, self._extent)

    @property
    def showing_unit(self) -> str | None:
        """The title of the unit shown, None while the plot shows the output."""
        return None if self._unit is None else self._unit[1]

    # -- automation ------------------------------------------------------------------------
    def current_image(self) -> np.ndarray | None:
        """The 2-D array displayed now: ``image[i, j]`` is the value at x1 = the centre of pixel column
        j and x2 = the centre of pixel row i; row 0 is the bottom row (the smallest x2). Discretized
        (:attr:`discretized`), the output is the predicted class at each pixel (0, 1, ...)."""
        if self._unit is None and self._image is not None and self.discretized:
            return self.current_classes().astype(np.float64)
        shown = self._unit[0] if self._unit is not None else self._image
        if shown is not None and shown.ndim == 3:
            shown = shown[..., 1]  # more than two classes: the winning class's margin (current_classes())
        return None if shown is None else np.array(shown.T, dtype=np.float64)  # the item holds [x, y]

    def current_classes(self) -> np.ndarray | None:
        """The predicted class at each pixel (like :meth:`current_image`) with more than two classes, or
        with two while :attr:`discretized`; None while a unit is shown."""
        if self._unit is not None or self._image is None or (self._image.ndim != 3 and not self.discretized):
            return None
        return np.array(predicted_classes(self._image).T)

    def current_extent(self) -> tuple[float, float, float, float]:
        """``(x1_min, x1_max, x2_min, x2_max)``: the edges of the displayed image."""
        shown = self._unit[0] if self._unit is not None else self._image
        return pixel_edges(self._extent, shown.shape[:2] if shown is not None else (2, 2))

    def clear_image(self) -> None:
        """No picture (an invalid stack): neither the two-class heatmap nor the K-class map."""
        self.heatmap.clear()
        self.class_map.clear()
        self._image = None

    def _show_classes(self, image: np.ndarray, extent) -> None:
        classes = predicted_classes(image)
        k = max(self._classes, int(classes.max(initial=0)) + 1)
        if self.discretized:  # one flat colour a class: its surest shade, on which the points still show
            if image.ndim == 2:
                self._limit(_peak(image))  # the range seen grows as if it were drawn
            index = classes * SHADES + (SHADES - 1)
        else:
            index = class_shades(image, k, self._limit(_peak(image[..., 1])))
        if self.class_map.lut is None or len(self.class_map.lut) != k * SHADES:
            self.class_map.setLookupTable(class_lookup_table(k, self.palette.class_colours))
        self.class_map.setImage(index, autoLevels=False, levels=(0, k * SHADES))
        x0, x1, y0, y1 = pixel_edges(extent, image.shape[:2])  # pixel centres on the grid points
        rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        if rect != self._class_rect:  # the two-class heatmap and this map each keep their own
            self.class_map.setRect(rect)
            self._class_rect = rect
        if rect != self._rect or not self._framed:
            self.getPlotItem().vb.setRange(rect, padding=0.02)
            self._rect, self._framed = rect, True

    def show_points(self, data, show_test: bool) -> None:
        self._data, self._show_test = data, show_test
        self._mark_points()

    def _mark_points(self) -> None:
        data, show_test = self._data, self._show_test
        if data is None:
            return
        if self._unit is not None:  # a unit's picture: few small hollow shapes, no colour of the map
            step = -(-data.points_train.shape[0] // UNIT_MARKERS)
            points, classes = data.points_train[::step].numpy(), data.labels_train[::step].tolist()
            symbols = class_symbols(self.palette.symbols)
            self.train_points.setData(points[:, 0], points[:, 1], symbol=[symbols[c] for c in classes],
                                      brush=None, pen=pg.mkPen(self.palette.outline, width=1.2))
            self.test_points.setVisible(False)
            return
        self._classes = data.y_train.shape[1]
        # The colour bar reads "class 1 − class 0": it belongs to two classes only.
        self.colour_bar.setVisible(self._classes == 2 and not self.discretized
                                   and (self._image is None or self._image.ndim == 2))
        for scatter, X, labels in ((self.train_points, data.points_train, data.labels_train),
                                   (self.test_points, data.points_test, data.labels_test)):
            points, classes = X.numpy(), labels.tolist()
            # Shapes per class, so the classes never differ by colour alone; test points hollow.
            if scatter is self.train_points:
                style = {"brush": [self._brushes[c] for c in classes], "pen": pg.mkPen(self.palette.outline, width=0.8)}
            else:
                style = {"brush": None, "pen": [self._test_pens[c] for c in classes]}
            symbols = class_symbols(self.palette.symbols)
            scatter.setData(points[:, 0], points[:, 1], symbol=[symbols[c] for c in classes], **style)
        self.test_points.setVisible(show_test)

    def set_palette(self, palette: palettes.Palette) -> None:
        """Colour map, class colours and shapes (:mod:`gui.qt.plots.palette`); call :meth:`show_points` after."""
        self.palette = palette
        colour_map = colour_map_of(palette)
        self.heatmap.setColorMap(colour_map)
        self.colour_bar.setColorMap(colour_map)
        self._brushes = [pg.mkBrush(c) for c in class_colours(palette.class_colours)]
        self._test_pens = [pg.mkPen(c, width=2) for c in class_colours(palette.class_colours)]
        self.class_map.setLookupTable(None)  # made again with the palette's colours, just below
        self.setToolTip(palettes.describe(palette))
        self._relevel()


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


def _peak(image: np.ndarray) -> float:
    """The largest finite |value| of ``image`` (0 when it has none)."""
    peak = float(np.abs(image).max()) if image.size else 0.0
    if not np.isfinite(peak):
        finite = np.abs(image[np.isfinite(image)])
        peak = float(finite.max()) if finite.size else 0.0
    return peak
