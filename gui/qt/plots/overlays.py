"""The compared runs' loss curves over the loss plot: one curve a ticked run, its own colour and
line style, the legend naming what differs.

The curves are redrawn when the ticked runs change, not per epoch: a ticked run that is still
training is redrawn at most ``LIVE_HZ`` times a second, so comparing costs the worker nothing
it would not pay anyway (benchmarks/bench_gui.py --compare).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem

from gui.qt.plots.loss_plot import ONE_COLUMN_MOST

COLOURS = ("#2f9e44", "#9c36b5", "#e67700", "#1098ad", "#c2255c", "#5c940d", "#364fc7", "#862e9c")
STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)
LIVE_HZ = 2
LEGEND_CHARS = 48
LEGEND_CHARS_TWO_COLUMNS = 22  # two columns side by side fit a 1366x768 window's loss plot


def pen_for(index: int):
    """The ``index``-th compared run's pen: a colour, and a line style that differs as well
    (for readers who cannot tell the colours apart, and for grey print-outs)."""
    return pg.mkPen(COLOURS[index % len(COLOURS)], width=1, style=STYLES[(index // 2) % len(STYLES)])


class RunOverlays:
    """Keeps ``loss_plot``'s overlay curves equal to the session's ticked runs."""

    def __init__(self, session, loss_plot):
        self.session, self.plot = session, loss_plot
        self.items: dict[str, pg.PlotDataItem] = {}
        self._drawn: dict[str, int] = {}  # run name -> id of the train array drawn
        self._index: dict[str, int] = {}  # run name -> its place among the ticked (its pen)
        self._next_live = 0.0
        loss_plot.run_overlays = self
        session.events.connect("runs", lambda: self.refresh())
        session.events.connect("progress", self._progress)

    def refresh(self) -> None:
        book = self.session.run_book
        ticked = [book[n] for n in book.ticked]
        for name in [n for n in self.items if n not in book.ticked]:
            self.plot.getPlotItem().removeItem(self.items.pop(name))
            self._drawn.pop(name, None)
            self._index.pop(name, None)
        # train and test, then the ticked runs: past ONE_COLUMN_MOST entries the legend takes two columns
        chars = LEGEND_CHARS if len(ticked) + 2 <= ONE_COLUMN_MOST else LEGEND_CHARS_TWO_COLUMNS
        for index, run in enumerate(ticked):
            label = run.label()
            label = label if len(label) <= chars else label[:chars - 1] + "…"
            item = self.items.get(run.name)
            if item is None:
                item = self.plot.getPlotItem().plot(name=label, pen=pen_for(index))
                item.setDownsampling(auto=True, method="peak")
                item.setClipToView(True)
                # Painted once into a pixmap and reused while the live curves under it change: a
                # dashed antialiased line costs Qt many times a solid one, on the GUI thread that
                # holds the GIL the training needs (`benchmarks/bench_gui.py --compare` measures it).
                item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                self.items[run.name] = item
            else:
                if self._index.get(run.name) != index:  # a new pen paints the cached curve again
                    item.setPen(pen_for(index))
                self._rename(item, label)
            self._index[run.name] = index
            self._draw(run, item)

    def _rename(self, item, label: str) -> None:
        legend = self.plot.getPlotItem().legend
        if legend is not None and item.name() != label:
            legend.removeItem(item)
            item.opts["name"] = label
            legend.addItem(item, label)

    def _draw(self, run, item) -> None:
        train = run.history.train
        if self._drawn.get(run.name) != id(train):
            item.setData(np.arange(1, len(train) + 1, dtype=np.float64), train)
            self._drawn[run.name] = id(train)

    def _progress(self, _message) -> None:
        live = self.session.current_run
        if live is None or live.name not in self.items:
            return
        now = time.perf_counter()
        if now >= self._next_live:
            self._next_live = now + 1 / LIVE_HZ
            self._draw(live, self.items[live.name])

    def curves(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, x, y)`` of each ticked run's curve, in the table's order."""
        out = []
        for name in self.session.run_book.ticked:
            if name in self.items:
                x, y = self.items[name].getOriginalDataset()
                out.append((name, np.asarray(x), np.asarray(y)))
        return out
