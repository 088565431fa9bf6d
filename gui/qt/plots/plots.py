"""The boundary plot: the network's output over the input plane, and the data points. What the plots
share (colours, nice limits, quiet axes, the heatmap item) is in gui/qt/plots/common.py, imported here
too for the views that read it from this module; the loss plot is in gui/qt/plots/loss_plot.py. Each
plot is created once and updated with setData / setImage."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QGraphicsItem

from gui.model.boundary import line
from gui.qt.plots import palette as palettes
from gui.qt.plots import regression
from gui.qt.plots.common import (  # noqa: F401 - the views import these from here too
    CLASS_COLOURS,
    COARSE_STEPS,
    COLOUR_MAP,
    FINE_STEPS,
    MORE_COLOURS,
    MORE_SYMBOLS,
    SHADES,
    Heatmap,
    class_colours,
    class_lookup_table,
    class_shades,
    class_symbols,
    colour_map_of,
    lookup_table_of,
    margins,
    nice_ceiling,
    output_bound,
    paint_boundary,
    pixel_edges,
    predicted_classes,
    quiet_axes,
    upper_half,
)

# A unit in the big plot: its outputs' reach, and the points that mark the classes on it.
ONE_SIDED = {"ReLU": None, "Sigmoid": 1.0}  # never negative: a 0..top scale (None: the largest output)
UNIT_MARKERS = 300  # training points drawn over a unit, evenly chosen: enough to place the classes


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

    A regression (:mod:`gui.qt.plots.regression`): over a plane, the predicted value on the diverging
    map, ± the targets' reach, with the points in their targets' colours; over a line (Sine), the
    target points (x, y) and the network's curve, :meth:`current_curve`.
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
        # A 1-D regression's curve (x, y_pred), over the points (hidden otherwise).
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(CLASS_COLOURS[1], width=regression.CURVE_WIDTH))
        self.curve.setVisible(False)
        item.addItem(self.curve)
        self._task: tuple = ("classification", 2)  # what show_points was last given: the task and dims
        self._values: float | None = None  # a 2-D regression's colour reach ±; None otherwise
        self._line: tuple = (None, None)  # (extent and count, x values) of the curve's last line
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
        """True while the output is shown as the predicted class alone (``discretizeCheck`` on; never for
        a regression, which has no class)."""
        return self.discretize_check.isChecked() and self._task[0] != "regression"

    @property
    def curved(self) -> bool:
        """True while the plot shows a 1-D regression's curve rather than a picture of the plane."""
        return self._task == ("regression", 1)

    def _relevel(self) -> None:
        if self._unit is not None:
            self.show_unit(*self._unit_args)  # its own colour scale, in the palette's colours
        elif self._values is not None:
            if self._image is not None and self._image.ndim == 2:
                self._set_levels(self._values)
        elif self._image is not None and self._image.ndim == 1:
            return  # a Sine curve's values, drawn before the task changed: the next frame draws this task's picture
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
        if image.ndim == 1:  # a 1-D input's curve
            if self._unit is None:
                self.curve.setData(self._line_x(extent, image.shape[0]), image)
                self._frame_rect(QRectF(extent[0], extent[2], extent[1] - extent[0], extent[3] - extent[2]))
            return
        if self._values is not None:  # a regression over the plane: its targets' scale
            if self._unit is None:
                self._draw(image, extent, self._values)
            return
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
        self._frame_rect(rect)

    def _frame_rect(self, rect: QRectF) -> None:
        if rect != self._rect or not self._framed:
            self.getPlotItem().vb.setRange(rect, padding=0.02)
            self._rect, self._framed = rect, True

    def _line_x(self, extent, count: int) -> np.ndarray:
        """The x values of a 1-D input's line (the session's grid: :func:`gui.model.boundary.line`), kept."""
        if self._line[0] != (extent, count):
            self._line = ((extent, count), line(extent, count)[:, 0].numpy())
        return self._line[1]

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
        if image.ndim == 1:  # a unit of a 1-D input: its curve against x, in the outline's colour
            self._show_unit_curve(image, extent, title)
            return
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

    def _show_unit_curve(self, curve: np.ndarray, extent, title: str) -> None:
        for part in (self.heatmap, self.colour_bar, self.class_map, self.test_points):
            part.setVisible(False)
        x = self._line_x(extent, curve.shape[0])
        self.curve.setData(x, curve, pen=pg.mkPen(self.palette.outline, width=regression.CURVE_WIDTH))
        self.curve.setVisible(True)
        finite = curve[np.isfinite(curve)]
        low, high = min(float(finite.min(initial=0.0)), -1.0), max(float(finite.max(initial=0.0)), 1.0)
        self._framed = False  # the unit's own range; the output's is framed again by show_output
        self._frame_rect(QRectF(float(x[0]), low, float(x[-1] - x[0]), high - low))
        self.getPlotItem().setLabel("left", "unit output")
        self.setTitle(title)
        self._mark_points()

    def show_output(self) -> None:
        """Back to the network's output (class 1 − class 0, or a regression's predicted value)."""
        if self._unit is None:
            return
        curve = self._unit[0].ndim == 1
        self._unit, self._unit_args = None, ()
        if curve:
            self.curve.setPen(pg.mkPen(self.palette.class_colours[1], width=regression.CURVE_WIDTH))
            self.getPlotItem().setLabel("left", "y")
            self._framed = False
        self.colour_bar.getAxis("left").setLabel(self._bar_label())
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
        (:attr:`discretized`), the output is the predicted class at each pixel (0, 1, ...); for a
        regression, the predicted value. None while a curve is shown (a 1-D input: :meth:`current_curve`)."""
        if self._unit is None and self._image is not None and self.discretized:
            return self.current_classes().astype(np.float64)
        shown = self._unit[0] if self._unit is not None else self._image
        if shown is not None and shown.ndim == 1:
            return None
        if shown is not None and shown.ndim == 3:
            shown = shown[..., 1]  # more than two classes: the winning class's margin (current_classes())
        return None if shown is None else np.array(shown.T, dtype=np.float64)  # the item holds [x, y]

    def current_classes(self) -> np.ndarray | None:
        """The predicted class at each pixel (like :meth:`current_image`) with more than two classes, or
        with two while :attr:`discretized`; None while a unit is shown."""
        if self._unit is not None or self._image is None or (self._image.ndim != 3 and not self.discretized):
            return None
        return np.array(predicted_classes(self._image).T)

    def current_curve(self) -> tuple[np.ndarray, np.ndarray] | None:
        """A 1-D regression's ``(x, y_pred)``: the network's prediction at each x of the session's line
        (x increasing, :data:`gui.model.boundary.CURVE_POINTS` of them), also while a unit is shown; None
        for a picture of the plane."""
        if self._image is None or self._image.ndim != 1:
            return None
        return self._line_x(self._extent, self._image.shape[0]).copy(), np.array(self._image, np.float64)

    def current_extent(self) -> tuple[float, float, float, float]:
        """``(x1_min, x1_max, x2_min, x2_max)``: the edges of the displayed image (a curve: the extent of
        its plane, x against the target)."""
        shown = self._unit[0] if self._unit is not None else self._image
        if shown is not None and shown.ndim == 1:
            return self._extent
        return pixel_edges(self._extent, shown.shape[:2] if shown is not None else (2, 2))

    def clear_image(self) -> None:
        """No picture (an invalid stack): neither the two-class heatmap nor the K-class map nor a curve."""
        self.heatmap.clear()
        self.class_map.clear()
        self.curve.setData([], [])
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
        self._set_task(data.task, data.dims, regression.value_limit(data) if data.regression else None)
        self._mark_points()

    def _bar_label(self) -> str:
        return regression.VALUE_LABEL if self._task[0] == "regression" else "class 1 − class 0"

    def _set_task(self, task: str, dims: int, values: float | None) -> None:
        """Axes, colour bar, check boxes and tooltip for a classification or a regression over ``dims``
        coordinates (``values``: a regression's colour reach)."""
        self._values = values if dims == 2 else None
        if (task, dims) == self._task:
            if self._values is not None and self._image is not None and self._unit is None:
                self._relevel()  # new targets, a new reach
            return
        if self._unit is not None:  # a unit of the other task's network: the network view shows it again
            self.show_output()
        self._task = (task, dims)
        item, curve, values_shown = self.getPlotItem(), dims == 1, task == "regression"
        item.setAspectLocked(not curve)  # x against y: the curve takes the plot's whole width
        item.setLabel("bottom", "x" if curve else "x₁")
        item.setLabel("left", "y" if curve else "x₂")
        self.curve.setVisible(curve)
        self.train_points.setVisible(True)  # hidden under a 1-D unit's curve, which this task may not have
        self.colour_bar.getAxis("left").setLabel(self._bar_label())
        for check, why in ((self.discretize_check, regression.DISCRETIZE_WHY),
                           (self.auto_range_check, regression.AUTO_RANGE_WHY)):
            if not hasattr(check, "own_tip"):
                check.own_tip = check.toolTip()
            check.setEnabled(not values_shown)
            check.setToolTip(why if values_shown else check.own_tip)
        self.set_palette(self.palette)  # the tooltip and the colours of this task
        if curve:
            for part in (self.heatmap, self.colour_bar, self.class_map):
                part.setVisible(False)
        elif values_shown:
            self.class_map.setVisible(False)
            self.heatmap.setVisible(self._unit is None or self._unit[0].ndim == 2)
        self._framed, self._image = False, None  # the other task's picture is not drawn again

    def _mark_points(self) -> None:
        data, show_test = self._data, self._show_test
        if data is None:
            return
        if data.regression:
            self._mark_values(data, show_test)
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
        task, dims = self._task
        self.setToolTip(regression.describe(palette, dims) if task == "regression" else palettes.describe(palette))
        if self._unit is None:
            self.curve.setPen(pg.mkPen(palette.class_colours[1], width=regression.CURVE_WIDTH))
        self._relevel()

    def _mark_values(self, data, show_test: bool) -> None:
        """A regression's points: over a line, (x, target) in the palette's first class colour; over the
        plane, each in its target's colour on the map (a unit shown: small hollow circles); test points hollow."""
        curve = data.dims == 1
        if self._unit is not None:
            if curve:  # the unit's outputs have their own axis: the targets do not belong on it
                self.train_points.setVisible(False)
                self.test_points.setVisible(False)
                return
            step = -(-data.points_train.shape[0] // UNIT_MARKERS)
            points = data.points_train[::step].numpy()
            self.train_points.setData(points[:, 0], points[:, 1], symbol="o", brush=None,
                                      pen=pg.mkPen(self.palette.outline, width=1.2))
            self.train_points.setVisible(True)
            self.test_points.setVisible(False)
            return
        self.colour_bar.setVisible(not curve)
        styles = regression.point_styles(data, self.palette, self._values)
        for scatter, (x, y, style) in zip((self.train_points, self.test_points), styles, strict=True):
            scatter.setData(x, y, symbol="o", **style)
        self.train_points.setVisible(True)
        self.test_points.setVisible(show_test)


def _peak(image: np.ndarray) -> float:
    """The largest finite |value| of ``image`` (0 when it has none)."""
    peak = float(np.abs(image).max()) if image.size else 0.0
    if not np.isfinite(peak):
        finite = np.abs(image[np.isfinite(image)])
        peak = float(finite.max()) if finite.size else 0.0
    return peak
