"""The loss plot: the train and test loss per epoch, drawn live while a run trains.

Built for the GUI thread's budget (it holds the GIL the training needs, benchmarks/README.md): a
range that moves in steps (:class:`SteadyViewBox`), curves of a bounded number of points at any
history length (:class:`Envelope`), drawn in two parts so a frame repaints only its new points
(:class:`LiveCurve`), and a legend and axes kept as pixmaps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QGraphicsItem

from gui.model.plain_text import as_html
from gui.qt.plots.plots import COARSE_STEPS, nice_ceiling, quiet_axes


class SteadyViewBox(pg.ViewBox):
    """A ViewBox whose automatic range moves in a few steps: x from 0 to the end of the planned
    run (``planned``), y from 0 to a nice ceiling of the loss (whole decades in log mode).

    A range that changes every frame makes pyqtgraph lay out and redraw its axes every frame:
    about 40 % of the GUI thread's time during a run, and the GUI thread holds the GIL the
    training thread needs (benchmarks/README.md). Zooming, panning and the "A" button
    work as in any pyqtgraph plot.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.epochs = self.planned = 0
        self.live: set = set()  # LiveCurves and their parts: each change brings its own repaint

    def itemBoundsChanged(self, item):  # noqa: N802 - pyqtgraph's name
        # pyqtgraph marks the whole box dirty here, so that its next paint works out the range again.
        # A live curve's tail asks for its own (small) repaint, which brings that paint: the whole-box
        # update made every frame of a run repaint the whole plot.
        if item in self.live:
            self._itemBoundsCache.pop(item, None)
            self._autoRangeNeedsUpdate = True
        else:
            super().itemBoundsChanged(item)

    def childrenBounds(self, frac=None, orthoRange=(None, None), items=None):  # noqa: N802 - pyqtgraph's name
        # pyqtgraph pads the data's bounds by the pens' width in pixels, which depends on the range
        # itself: the bounds below ignore that padding, so the range settles instead of creeping.
        (x, y) = super().childrenBounds(frac, orthoRange, items)
        if x is not None and self.epochs:
            # The whole planned run once a tenth of it is done (it fills in as it trains); before
            # that, 1, 2 or 5 times a power of ten, so the first epochs of a long run are visible.
            end = max(self.planned, self.epochs)
            x = [0.0, float(end if 10 * self.epochs >= end else nice_ceiling(self.epochs, COARSE_STEPS))]
        elif x is not None:
            # Nothing trained yet, compared runs shown: from 0 to the longest one's last epoch, as a run
            # draws itself. A run of that length then keeps this range, and its first frame does not draw
            # everything again (the compared curves' pixmaps too: 5 ms of the GUI thread at each start).
            ends = [bounds[1] for bounds in (i.dataBounds(0) for i in self.addedItems
                                             if i.isVisible() and hasattr(i, "dataBounds"))
                    if bounds is not None and bounds[1] is not None]  # the epochs, without the pens' padding
            x = [0.0, float(max(ends))] if ends else x
        if y is not None and all(np.isfinite(y)):
            if self.state["logMode"][1]:  # the view holds log10 of the loss
                low = float(np.floor(y[0]))
                y = [low, max(float(np.ceil(y[1])), low + 1)]
            else:  # a loss is never negative
                y = [0.0, nice_ceiling(y[1])]
        return [x, y]


class Envelope:
    """A growing series drawn in at most about ``4 * capacity`` points, at the same cost per update
    whatever its length (a 10-million-epoch history would otherwise stall every message).

    Up to ``capacity`` samples it hands back the samples themselves. Beyond, it keeps the minimum
    and maximum of consecutive blocks of samples, drawn as a vertical stroke from one to the other
    at the block's centre, so the band holds every true value. Only the samples added since the
    last call are folded in; when the blocks fill ``capacity``, neighbours merge and the block
    size doubles (amortised O(1) per sample, never the whole series again).
    """

    def __init__(self, capacity: int = 2048):
        self.capacity = capacity
        self.reset()

    def reset(self, source=None) -> None:
        self.source = source
        self.block = 1  # samples per block: a power of two
        self.blocks = 0  # completed blocks
        self.folded = 0  # samples inside completed blocks (= blocks * block)
        self.lo = np.empty(self.capacity)
        self.hi = np.empty(self.capacity)
        self.x0 = np.empty(self.capacity)  # x of each block's first and last sample
        self.x1 = np.empty(self.capacity)
        self._last = None  # the last folded sample, to notice a series that was replaced

    def points(self, y: np.ndarray, x: np.ndarray | None = None, source=None) -> tuple[np.ndarray, np.ndarray]:
        """``(xs, ys)`` to draw for the series ``y`` at ``x`` (default: 1, 2, 3, ...).

        ``y`` must extend the series of the previous call from the same ``source`` (any object
        standing for the series, e.g. a History); anything else starts afresh."""
        if (source is not self.source or len(y) < self.folded
                or (self.folded and not _same(y[self.folded - 1], self._last))):
            self.reset(source)
        self._fold(y, x)
        if self.block == 1:  # fewer samples than blocks: draw them as they are
            return (np.arange(1.0, len(y) + 1) if x is None else np.asarray(x, np.float64)), np.asarray(y)
        m, tail = self.blocks, y[self.folded:]
        n = 2 * (m + (len(tail) > 0))
        xs, ys = np.empty(n), np.empty(n)
        xs[0:2 * m:2] = xs[1:2 * m:2] = (self.x0[:m] + self.x1[:m]) / 2
        ys[0:2 * m:2], ys[1:2 * m:2] = self.lo[:m], self.hi[:m]
        if len(tail):
            first, last = (self.folded + 1, len(y)) if x is None else (x[self.folded], x[-1])
            xs[-2:] = (first + last) / 2
            ys[-2:] = tail.min(), tail.max()
        return xs, ys

    def _fold(self, y: np.ndarray, x: np.ndarray | None) -> None:
        while (k := min((len(y) - self.folded) // self.block, self.capacity - self.blocks)) > 0:
            start, end, b = self.folded, self.folded + k * self.block, self.block
            chunk = np.asarray(y[start:end], np.float64).reshape(k, b)
            into = slice(self.blocks, self.blocks + k)
            self.lo[into], self.hi[into] = chunk.min(1), chunk.max(1)
            if x is None:
                self.x0[into] = np.arange(start + 1, end + 1, b)
                self.x1[into] = self.x0[into] + (b - 1)
            else:
                self.x0[into], self.x1[into] = x[start:end:b], x[start + b - 1:end:b]
            self.blocks, self.folded, self._last = self.blocks + k, end, y[end - 1]
            if self.blocks == self.capacity:
                self._halve()

    def _halve(self) -> None:
        half = self.capacity // 2
        self.lo[:half] = np.minimum(self.lo[0::2], self.lo[1::2])
        self.hi[:half] = np.maximum(self.hi[0::2], self.hi[1::2])
        self.x0[:half], self.x1[:half] = self.x0[0::2], self.x1[1::2]
        self.blocks, self.block = half, 2 * self.block


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)  # NaN equals NaN here


class LiveCurve(pg.PlotCurveItem):
    """A growing curve (the live train or test loss) that holds the whole series (``getData``, its
    legend entry, its pen, the range) and draws through two parts: ``settled``, the points up to a
    split, kept as a pixmap, and ``tail``, the points since. A frame then repaints the strip of its
    new points instead of the whole plot (the curve's bounds): a frame, data and paint, costs the GUI
    thread about 0.9 ms against 1.2 for the whole plot with three runs compared, and that thread holds the GIL the
    training needs (benchmarks/README.md). The split moves to the end when the tail passes ``TAIL``
    points or an eighth of the plot's width, and whenever the settled points change (a new history,
    log mode, an envelope that merged its blocks)."""

    TAIL = 128

    def __init__(self, view: SteadyViewBox, pen, name: str):
        super().__init__(pen=pen, name=name)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)  # its parts draw it
        self.settled, self.tail = pg.PlotCurveItem(pen=pen), pg.PlotCurveItem(pen=pen)
        self.settled.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._split = 0
        for part in (self.settled, self.tail):
            view.addItem(part, ignoreBounds=True)  # this item stands for their bounds
        view.live.update((self, self.settled, self.tail))

    def setData(self, *args, **kwargs):  # noqa: N802 - pyqtgraph's name
        super().setData(*args, **kwargs)
        if not hasattr(self, "tail"):  # PlotCurveItem's own __init__ sets its (empty) data first
            return
        xs, ys = self.getData()
        if xs is None:
            xs = ys = np.empty(0)
        n, split = len(xs), self._split
        settled_x, settled_y = self.settled.getData()
        (x0, x1), _ = self.getViewBox().viewRange()
        keep = (0 < split < n and n - split <= self.TAIL and xs[-1] - xs[split] <= (x1 - x0) / 8
                and settled_x is not None and np.array_equal(xs[:split + 1], settled_x)
                and np.array_equal(ys[:split + 1], settled_y, equal_nan=True))
        if not keep:
            # Up to the third point from the end: past 2,048 epochs the Envelope's last two points
            # (a block still filling) change at every message.
            split = self._split = max(n - 3, 0)
            self.settled.setData(xs[:split + 1], ys[:split + 1])
        self.tail.setData(xs[split:], ys[split:])

    def setPen(self, *args, **kwargs):  # noqa: N802 - pyqtgraph's name
        super().setPen(*args, **kwargs)
        if hasattr(self, "tail"):
            for part in (self.settled, self.tail):
                part.setPen(self.opts["pen"])

    def itemChange(self, change, value):  # noqa: N802 - Qt's name
        if change == QGraphicsItem.GraphicsItemChange.ItemVisibleHasChanged and hasattr(self, "tail"):
            for part in (self.settled, self.tail):  # the legend's sample hides and shows the curve
                part.setVisible(self.isVisible())
        return super().itemChange(change, value)


ONE_COLUMN_MOST = 4  # legend entries in one column (train, test and two more)


class CachedLegend(pg.LegendItem):
    """A legend whose labels are kept as pixmaps: it lies over the live curves, and laying out and
    drawing its text at every frame costs the GUI thread 0.1 ms with five entries (runs compared).
    A label's pixmap is made again when its text changes. The line samples stay live: they
    follow their curve's pen, which presenter mode and the compared runs change."""

    def addItem(self, item, name):  # noqa: N802 - pyqtgraph's name
        super().addItem(item, as_html(name))  # a compared run's words, from a file maybe: shown as written
        self.items[-1][1].item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._fit_columns()

    def removeItem(self, item):  # noqa: N802 - pyqtgraph's name
        super().removeItem(item)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Two columns past ``ONE_COLUMN_MOST`` entries (a sweep's variants, runs compared): one tall
        column covered the curves and ran off the bottom of a 1366x768 window's loss plot."""
        columns = 1 if len(self.items) <= ONE_COLUMN_MOST else 2
        if columns != self.columnCount:
            self.setColumnCount(columns)


class EpochAxis(pg.AxisItem):
    """The epoch axis: major ticks no closer than their labels are wide (pyqtgraph spaces them by the
    axis's length alone, and at presenter mode's 18 pt "100" ran into "200")."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph's names
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or not maxVal > minVal or size <= 0:
            return levels
        font = self.style.get("tickFont") or QFont()
        label = QFontMetrics(font).horizontalAdvance(f"{max(abs(minVal), abs(maxVal)):,.0f}0")
        least = 1.5 * label * (maxVal - minVal) / size  # epochs between two labels with room between them
        major = levels[0][0]
        if major >= least:
            return levels
        power = 10.0 ** np.floor(np.log10(least))
        major = next(step * power for step in (1, 2, 5, 10) if step * power >= least)
        return [(major, 0)] + [(minor, offset) for minor, offset in levels[1:] if minor < major][:1]


class LossPlot(pg.PlotWidget):
    """MSE loss per sample against epoch: the train curve (first data item) and the test curve.

    ``hovered(str)`` describes the epoch under the mouse.
    """

    hovered = Signal(str)

    def __init__(self, parent=None):
        self.view = SteadyViewBox()
        super().__init__(parent, viewBox=self.view, axisItems={"bottom": EpochAxis("bottom")})
        self.setObjectName("lossPlot")
        self.setToolTip("Training and test loss per epoch (summed squared error / number of points).\n"
                        "Point at the curve to read an epoch's values.")
        item = self.getPlotItem()
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "MSE loss per point")
        item.getAxis("left").enableAutoSIPrefix(False)  # 0.2, not 200 (x0.001): a loss, not a unit
        item.legend = CachedLegend(offset=(-10, 10))  # what PlotItem.addLegend does, with our legend
        item.legend.setParentItem(item.vb)
        quiet_axes(item)
        # One-pixel pens: Qt strokes a wider antialiased pen about four times slower, and
        # the GUI thread holds the GIL while it paints (benchmarks/bench_gui.py).
        self.train_curve = self._live_curve("train", "#1f5fa8")
        self.test_curve = self._live_curve("test", "#d9480f")
        self._history = None
        self._train = np.empty(0, np.float32)
        self._test_epochs = np.empty(0)
        self._test = np.empty(0, np.float32)
        self._train_envelope, self._test_envelope = Envelope(), Envelope()
        self.scene().sigMouseMoved.connect(self._mouse_moved)

    def show_history(self, history, planned: int = 0) -> None:
        """Draw ``history``; the epoch axis reaches at least ``planned`` (the end of the run).

        A message costs the same at any history length: the curves get a min/max envelope of at
        most a few thousand points (:class:`Envelope`), updated with the new epochs only."""
        self.view.epochs, self.view.planned = len(history.train), planned
        self._history = history
        self._train, self._test_epochs, self._test = history.train, history.test_epochs, history.test
        self.train_curve.setData(*self._drawn(self._train_envelope.points(history.train, source=history)))
        self.test_curve.setData(*self._drawn(self._test_envelope.points(history.test, history.test_epochs,
                                                                         source=history)))

    def _live_curve(self, name: str, colour: str) -> LiveCurve:
        """A :class:`LiveCurve`, a bare PlotCurveItem underneath: the :class:`Envelope` already bounds
        its points, and a PlotDataItem's own downsampling, clipping and log layer costs 0.3 ms of a 1 ms
        frame, on the GUI thread that holds the GIL the training needs (benchmarks/bench_gui.py).
        Log mode is :meth:`_drawn`'s."""
        curve = LiveCurve(self.view, pg.mkPen(colour, width=1), name)
        self.getPlotItem().addItem(curve)
        return curve

    def _drawn(self, points: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``points`` as the view holds them: log10 of the loss in log mode (a loss of 0 leaves a gap)."""
        xs, ys = points
        if self.view.state["logMode"][1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                ys = np.log10(ys)
        return xs, ys

    def set_loss_name(self, name: str) -> None:
        """Label the loss axis with the experiment's loss ("MSE", "Cross-entropy")."""
        label = f"{name} loss per point"
        if self.getPlotItem().getAxis("left").labelText != label:  # a label change re-lays out the plot
            self.getPlotItem().setLabel("left", label)

    def set_log_scale(self, on: bool) -> None:
        self.getPlotItem().setLogMode(y=on)  # the overlays and the per-batch curve follow by themselves
        if self._history is not None:
            self.show_history(self._history, self.view.planned)

    def curves(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, x, y)`` of each compared run's curve (drawn by gui/qt/plots/overlays.py); [] when none."""
        overlays = getattr(self, "run_overlays", None)
        return overlays.curves() if overlays is not None else []

    @property
    def train_envelope(self) -> Envelope:
        """The min/max envelope the train curve is drawn from (for automation: its blocks can be
        checked against the history)."""
        return self._train_envelope

    def hover_text(self, epoch: int) -> str:
        """What the cursor label says at ``epoch`` (clamped to the history): read from the full
        history, never from the drawn envelope; "" before any epoch."""
        if not len(self._train):
            return ""
        epoch = min(max(epoch, 1), len(self._train))
        text = f"epoch {epoch}: train loss {self._train[epoch - 1]:.4g}"
        if len(self._test_epochs):
            nearest = int(np.abs(self._test_epochs - epoch).argmin())
            text += f", test loss {self._test[nearest]:.4g} (epoch {int(self._test_epochs[nearest])})"
        return text

    def _mouse_moved(self, position: QPointF) -> None:
        if not len(self._train) or not self.getPlotItem().sceneBoundingRect().contains(position):
            return
        self.hovered.emit(self.hover_text(int(round(self.getPlotItem().vb.mapSceneToView(position).x()))))
