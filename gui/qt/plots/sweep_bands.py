"""A finished sweep on the loss plot: each variant's median train loss over its seeds, with a band
from the least to the greatest (pyqtgraph's FillBetweenItem), coloured along a colour map in grid order,
while the sweep view's ``sweepBandsCheck`` is on. The numbers come from gui/model/sweep_summary.py (``loss_bands``).

Drawn when the sweep ends (or its runs change), never per epoch: the bands cost a live run nothing.
The band's two edges are PlotDataItems, so they follow the loss plot's log scale as its curves do; the
fill between them does not, so the window draws the bands afresh when the scale changes (:meth:`redraw`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from gui.model import sweep_summary as summary
from gui.model.sweep_grid import values_label
from gui.qt.plots.overlays import LEGEND_CHARS

BAND_ALPHA = 60  # of 255: the bands overlap, and the medians must show through them
EDGE = pg.mkPen((0, 0, 0, 0))
COLOUR_MAP = "viridis"  # the variants in grid order, dark to light: the order of the values shows
COLOUR_SPAN = (0.0, 0.85)  # the map's lightest yellow is hard to see on white
LEGEND_MOST = 4  # variants named in the legend (two rows of its two columns); the sweep view's table names them
# all, in the colours' order: more entries covered the curves of a 1366x768 window's loss plot


class SweepBands:
    """Keeps ``loss_plot``'s sweep bands equal to the session's sweep results (see the module docstring)."""

    def __init__(self, session, loss_plot, check):
        self.session, self.plot, self.check = session, loss_plot, check
        self.items: list = []
        self.bands: list[summary.Band] = []
        session.events.connect("sweep", self.refresh)
        session.events.connect("runs", self.refresh)
        check.toggled.connect(lambda _on: self.refresh())

    def redraw(self) -> None:
        """Draw the bands afresh: a fill keeps the path its edges had (the loss plot's log scale changes them)."""
        self.clear()
        self.refresh()

    def refresh(self, *_) -> None:
        s = self.session
        results = s.sweep_results()
        shown = self.check.isChecked() and s.sweep_state != "running"
        bands = summary.loss_bands(results, s.runs) if shown and results else []
        if _same(bands, self.bands):
            return
        self.clear()
        self.bands = bands
        item = self.plot.getPlotItem()
        for index, band in enumerate(bands):
            colour = colour_of(index, len(bands))
            label = values_label(band.values)
            label = label if len(label) <= LEGEND_CHARS else label[:LEGEND_CHARS - 1] + "…"
            # Invisible edges, not pen=None: a PlotDataItem without a pen keeps no path for the fill to follow.
            low = pg.PlotDataItem(band.epochs, band.low, pen=EDGE)
            high = pg.PlotDataItem(band.epochs, band.high, pen=EDGE)
            item.addItem(low)
            item.addItem(high)  # in the plot before the fill reads their paths: in its log scale, if on
            fill = pg.FillBetweenItem(low, high, brush=QColor(colour.red(), colour.green(), colour.blue(), BAND_ALPHA))
            median = pg.PlotDataItem(band.epochs, band.median, pen=pg.mkPen(colour, width=2),
                                     name=label if index < LEGEND_MOST else None)
            item.addItem(fill)
            item.addItem(median)
            self.items += [low, high, fill, median]

    def clear(self) -> None:
        item = self.plot.getPlotItem()
        for graphic in self.items:
            item.removeItem(graphic)
        self.items, self.bands = [], []

    def curves(self) -> list:
        """``[(values, epochs, median, low, high), ...]``: the bands as drawn (for automation)."""
        return [(b.values, b.epochs, b.median, b.low, b.high) for b in self.bands]


def colour_of(index: int, count: int) -> QColor:
    """The ``index``-th of ``count`` variants' colour: along the colour map, not the compared runs' colours
    (gui/qt/plots/overlays.py), so that a variant's runs ticked for comparison stand apart from the bands."""
    low, high = COLOUR_SPAN
    return pg.colormap.get(COLOUR_MAP).map(low + (high - low) * index / max(1, count - 1), mode="qcolor")


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x.values == y.values and len(x.epochs) == len(y.epochs)
                                    and np.array_equal(x.median, y.median, equal_nan=True)
                                    for x, y in zip(a, b, strict=True))
