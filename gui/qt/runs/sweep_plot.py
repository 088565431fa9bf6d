"""The sweep view's plot (``sweepPlot``): what one or two settings do to the final test error.

One setting: a point per value at the median over the seeds, a bar from the least to the greatest
(log x axis for eta, and for counts that span a factor of ten or more; the optimizer's names sit at
even steps). Two settings: a heatmap, the first setting's values across, the second's up, the median
in each cell. A click on a point or a cell reports its variant (``picked(index)``); :meth:`click` does
the same for automation. The plot is drawn again only when the results change (a sweep's run ends).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPen

from gui.model import sweep_summary as summary
from gui.model.sweep_grid import SHORT, format_value
from gui.qt.plots.plots import quiet_axes

POINT = "#1f5fa8"
PICKED = "#e8590c"
MISSING = (200, 200, 200, 255)  # a cell without a number (its runs failed or were stopped)
MAX_TICKS = 8  # values labelled on an axis; past it every second (third, ...) one
TICK_GAP = 8  # pixels between two labels of an axis
CELL_FONT = 1.15  # a cell's number, larger than the axes' labels: it is what the heatmap says
LOG_SPAN = 10  # a count's values spanning this factor or more get a log axis


def positions(setting: str, values: list) -> tuple[np.ndarray, bool]:
    """``(x positions, log)`` of ``values`` on the axis: log10 for eta (and for counts spanning a factor
    of :data:`LOG_SPAN`), the numbers themselves for other counts, 0, 1, 2... for names."""
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    if not numeric or not values:
        return np.arange(len(values), dtype=np.float64), False
    positive = all(v > 0 for v in values)
    log = positive and (setting == "eta" or (setting in ("batch_size", "width", "epochs")
                                             and max(values) >= LOG_SPAN * min(values)))
    xs = np.array(values, np.float64)
    return (np.log10(xs) if log else xs), log


def tick_label(value) -> str:
    """A value on an axis: as the dialog writes it, small numbers short (``4.6e-4`` for 0.000464)."""
    if isinstance(value, float) and 0 < abs(value) < 1e-3:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return format_value(value)


def ticks(xs, values, pixels: float | None = None, width=None) -> list:
    """One tick a value, labelled (:func:`tick_label`). Past :data:`MAX_TICKS` values, every k-th; with the axis's
    ``pixels`` per unit of x and a ``width(text)`` in pixels, a label that would run into the one before is left
    out (the points keep their place; the table names every value)."""
    every = max(1, math.ceil(len(values) / MAX_TICKS))
    out, last = [], None  # (right edge in pixels) of the last label kept
    for i, (x, v) in enumerate(zip(xs, values, strict=True)):
        text = tick_label(v)
        if i % every:
            continue
        if pixels is not None and width is not None:
            left = float(x) * pixels - width(text) / 2
            if last is not None and left < last + TICK_GAP:
                continue
            last = left + width(text)
        out.append((float(x), text))
    return [out]


class _Cells(pg.ImageItem):
    """The heatmap's picture; a click reports the cell under it (image pixel = cell)."""

    clicked = None

    def mouseClickEvent(self, event):  # noqa: N802 - pyqtgraph's name
        if event.button() == Qt.MouseButton.LeftButton and self.clicked is not None and self.image is not None:
            pos = event.pos()
            self.clicked(int(math.floor(pos.x())), int(math.floor(pos.y())))
            event.accept()


class SweepPlot(pg.PlotWidget):
    """See the module docstring. ``cells()`` returns what is drawn: ``[(values, median_test_error), ...]``."""

    picked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepPlot")
        self.setMinimumSize(220, 180)
        self.setMenuEnabled(False)
        item = self.getPlotItem()
        item.hideButtons()
        quiet_axes(item)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        self.bars = pg.ErrorBarItem(pen=pg.mkPen(POINT, width=2), beam=0.0)
        self.points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w"), brush=pg.mkBrush(POINT), hoverable=True)
        self.points.sigClicked.connect(self._point_clicked)
        self.image = _Cells(axisOrder="row-major")
        self.image.clicked = self._cell_clicked
        self.frame = pg.QtWidgets.QGraphicsRectItem()  # the ticked cell's outline
        self.texts: list[pg.TextItem] = []
        self._cells: list = []
        self._where: dict = {}  # (column, row) of a heatmap cell -> variant index
        self._order: list[int] = []  # the scatter's points -> variant index
        self.dims = 0
        self.task = "classification"
        self.selected: int | None = None
        self._axes: dict = {}  # axis name -> (positions, values) it labels

    # -- drawing ---------------------------------------------------------------------
    def show_results(self, results, task: str = "classification") -> None:
        """Draw ``sweep_results()``: points with bars for one setting, a heatmap for two; nothing for none.
        ``task``: a regression's errors are its MSE per point, not a percentage."""
        self.task = task
        item = self.getPlotItem()
        for graphic in (self.bars, self.points, self.image, self.frame, *self.texts):
            if graphic.scene() is not None:
                item.removeItem(graphic)
        self.texts, self._where, self._order, self._axes = [], {}, [], {}
        self._cells = summary.cells(results)
        settings = summary.settings_of(results)
        self.dims = len(settings)
        if self.dims == 1:
            self._draw_line(results, settings[0])
        elif self.dims == 2:
            self._draw_heatmap(results, settings[:2])
        self._draw_selected()
        self._label_axes()

    def _label_axes(self) -> None:
        """The value labels of the axes, as many as their length holds (again at each resize)."""
        item = self.getPlotItem()
        box = item.getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        size = box.size()
        for name, span, length in (("bottom", x1 - x0, size.width()), ("left", y1 - y0, size.height())):
            data = self._axes.get(name)
            if data is None:
                continue
            axis = item.getAxis(name)
            metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
            # Along the left axis the labels stack: each takes a line of text, not its width.
            width = metrics.horizontalAdvance if name == "bottom" else (lambda _text, m=metrics: m.height())
            pixels = length / span if span > 0 and length > 0 else None
            axis.setTicks(ticks(*data, pixels=pixels, width=width))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if getattr(self, "_axes", None):  # not while pyqtgraph builds the widget
            self._label_axes()

    def _draw_line(self, results, setting: str) -> None:
        item = self.getPlotItem()
        values = summary.axis_values(results, setting)
        xs, log = positions(setting, values)
        variants = summary.variants(results)
        known = [i for i, v in enumerate(variants) if v.median_test_error is not None]
        x = np.array([xs[values.index(variants[i].values[setting])] for i in known], np.float64)
        spread = [variants[i].spreads["test_error"] for i in known]
        median = np.array([s.median for s in spread], np.float64)
        low = np.array([s.low for s in spread], np.float64)
        high = np.array([s.high for s in spread], np.float64)
        self._order = known
        self.bars.setData(x=x, y=median, top=high - median, bottom=median - low)
        self.points.setData(x=x, y=median, data=known)
        item.addItem(self.bars)
        item.addItem(self.points)
        self._axes = {"bottom": (list(xs), values), "left": None}
        item.getAxis("left").setTicks(None)
        item.setLabel("bottom", f"{SHORT.get(setting, setting)}{' (log scale)' if log else ''}")
        item.setLabel("left", f"test {summary.error_words(self.task)[2]}")
        span = (xs.max() - xs.min()) if len(xs) > 1 else 1.0
        top = float(np.nanmax(high)) if len(high) else 1.0
        item.getViewBox().setRange(xRange=(xs.min() - 0.08 * span, xs.max() + 0.08 * span),
                                   yRange=(0.0, max(top * 1.12, 1e-9)), padding=0)

    def _draw_heatmap(self, results, settings: list[str]) -> None:
        item = self.getPlotItem()
        xs, ys, table = summary.matrix(results)
        known = table[np.isfinite(table)]
        low, high = (float(known.min()), float(known.max())) if len(known) else (0.0, 1.0)
        scaled = (table - low) / (high - low) if high > low else np.zeros_like(table)
        colours = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=True)[::-1]  # low error: light
        rgba = np.empty(table.shape + (4,), np.ubyte)
        for (row, column), value in np.ndenumerate(scaled):
            rgba[row, column] = MISSING if not np.isfinite(value) else colours[int(round(value * 255))]
        self.image.setImage(rgba, levels=None, autoLevels=False)
        self.image.setRect(QRectF(-0.5, -0.5, len(xs), len(ys)))
        item.addItem(self.image)
        first, second = settings
        for index, (values, median) in enumerate(self._cells):
            column, row = xs.index(values[first]), ys.index(values[second])
            self._where[(column, row)] = index
            r, g, b, _ = rgba[row, column]
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 140
            digits = ".3g" if self.task == "regression" else ".1f"  # an MSE per point, or % misclassified
            text = pg.TextItem("–" if median is None else f"{median:{digits}}", anchor=(0.5, 0.5),
                               color="w" if dark else "k")
            font = QFont(self.font())
            font.setPointSizeF(font.pointSizeF() * CELL_FONT)
            font.setBold(True)
            text.setFont(font)
            text.setPos(column, row)
            item.addItem(text)
            self.texts.append(text)
        self._axes = {"bottom": (list(range(len(xs))), xs), "left": (list(range(len(ys))), ys)}
        item.setLabel("bottom", SHORT.get(first, first))
        item.setLabel("left", SHORT.get(second, second))
        item.getViewBox().setRange(xRange=(-0.5, len(xs) - 0.5), yRange=(-0.5, len(ys) - 0.5), padding=0)

    def _draw_selected(self) -> None:
        item = self.getPlotItem()
        if self.frame.scene() is not None:
            item.removeItem(self.frame)
        if self.dims == 1:
            brushes = [pg.mkBrush(PICKED if i == self.selected else POINT) for i in self._order]
            if brushes:
                self.points.setBrush(brushes)
        elif self.dims == 2 and self.selected is not None:
            where = next((cell for cell, i in self._where.items() if i == self.selected), None)
            if where is not None:
                self.frame.setRect(QRectF(where[0] - 0.5, where[1] - 0.5, 1, 1))
                pen = QPen(QColor(PICKED), 3)
                pen.setCosmetic(True)
                self.frame.setPen(pen)
                item.addItem(self.frame)

    def select(self, index: int | None) -> None:
        """Mark variant ``index`` as the one ticked (None: none)."""
        self.selected = index
        self._draw_selected()

    # -- clicks ----------------------------------------------------------------------
    def cells(self) -> list:
        """``[(values, median_test_error), ...]``: a point or cell per variant, as drawn (None: no number)."""
        return [(dict(values), median) for values, median in self._cells]

    def click(self, index: int) -> None:
        """What a click on variant ``index``'s point or cell does."""
        if not 0 <= index < len(self._cells):
            raise ValueError(f"the sweep has no variant {index}: it has {len(self._cells)}, numbered from 0")
        self.picked.emit(index)

    def _point_clicked(self, _item, points, *_) -> None:
        if len(points):
            self.picked.emit(int(points[0].data()))

    def _cell_clicked(self, column: int, row: int) -> None:
        index = self._where.get((column, row))
        if index is not None:
            self.picked.emit(index)
