"""The inspector: training health per Linear layer, from the timeline's snapshots.

For a snapshot's weights and the whole training set (:func:`gui.model.inside.layer_stats`, on a private
network): the gradient norm of the summed loss, the weight norm, the update ratio, dead ReLU and
saturated Tanh or Sigmoid units, a histogram of each layer's weights, and trouble flagged in words
(:func:`gui.model.inside.flags`: only what has lasted ``PERSIST_EPOCHS`` epochs).

The series: during a run it samples the newest snapshot within ``SHARE`` of the GUI thread's time (the
GUI thread holds the GIL a training thread needs). Whenever the run is not training (paused, stopped,
finished, or a file opened) every snapshot the timeline holds joins it, each epoch up to
``DENSE_EPOCHS``, computed off the GUI thread in chunks (:class:`~gui.qt.window.background.Background`);
a wide network (``SYNC_COST``) keeps the sampled series. The epoch shown is computed when it is shown.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.model import inside
from gui.model.session import Session
from gui.qt.plots.plots import quiet_axes
from gui.qt.window.background import Background

# The GUI thread holds the GIL the training thread needs: the live series samples at most every two
# seconds, within 2 % of the GUI thread's time (each sample repaints two plots: benchmarks/bench_gui.py).
SHARE = 0.02
MIN_INTERVAL = 2.0
SYNC_COST = 5e7  # training rows x parameters computed on the GUI thread; beyond, in a thread
FILL_COST = 2e8  # training rows x parameters of the snapshots one background job of the series computes
LAYER_COLOURS = ("#1f5fa8", "#d9480f", "#2f9e44", "#7048e8", "#e64980", "#868e96")
SERIES = (("grad_norm", "gradient norm ‖dL/dW‖", True), ("weight_norm", "weight norm ‖W‖", True),
          ("update_ratio", "update ratio η‖dL/dW‖/‖W‖", True), ("dead_units", "dead ReLU units", False),
          ("saturated_units", "saturated units", False))
LOG_EMPTY = (-3.0, 0.0)  # decades a log axis shows when it has nothing positive to show
COMPACT_HEIGHT = 120  # pixels of a plot below which its axes lose their titles (Inspector._fit_axes)
COMPACT_TICKS = 0.4  # and its value axis shows this share of pyqtgraph's usual ticks
HEADERS = ("layer", "‖dL/dW‖", "‖W‖", "ratio", "dead", "sat.")


def _decade(k: int) -> str:
    """The label of the decade 10^k: 0.01, 0.1, 1, 10, 100, 1000, and 1e4 or 1e-3 beyond."""
    return f"{10.0 ** k:g}" if -2 <= k <= 3 else f"1e{k}"


def _number(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3g}" if math.isfinite(value) else str(value)


class Inspector(QWidget):
    """``inspectorView``. Automation: :meth:`stats_at`, :meth:`flags_at`, :attr:`series`, :attr:`shown_epoch`."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent, objectName="inspectorView")
        self.setAccessibleName("Training-health inspector")
        self.session = session
        self.background = Background(self)
        self._cache: dict[int, list[dict]] = {}
        self._histograms: dict[int, list] = {}  # of a wide network's snapshots, computed with their stats
        self.series: dict[int, list[dict]] = {}  # snapshot epoch -> stats, sampled during a run
        self.shown_epoch: int | None = None
        self._next_due = 0.0
        self._series_shown = None
        self._generation = 0  # of the newest request: a late result from a thread is dropped
        self._filling = False  # a chunk of the series is computing in the background
        self._weights = 0  # counts resets: a chunk of the series computed for older weights is dropped
        self.combo = QComboBox(objectName="inspectorSeriesCombo")
        self.combo.addItems([label for _, label, _ in SERIES])
        self.combo.setToolTip("Which statistic the curves show, one curve per Linear layer, for the summed "
                              "loss over the whole training set at each sampled epoch's weights.")
        self.combo.currentIndexChanged.connect(lambda _: self._draw_series())
        self.plot = pg.PlotWidget(objectName="inspectorPlot")
        self.plot.setMinimumHeight(60)
        quiet_axes(self.plot.getPlotItem())
        self.plot.setLabel("bottom", "epoch")
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#555", style=Qt.PenStyle.DashLine))
        self.plot.addItem(self.cursor, ignoreBounds=True)
        self.plot.setToolTip("Left: the statistic chosen above, one curve per Linear layer (log scale for the "
                             "norms and the ratio). Bottom: the epoch. The dashed line is the epoch shown.")
        self.compact = False  # short: no axis titles (_fit_axes)
        self.histogram = pg.PlotWidget(objectName="inspectorHistogram")
        self.histogram.setToolTip("Each Linear layer's weights at the epoch shown: the share of its weights "
                                  "(left) in each bin of weight value (bottom).")
        self.histogram.setMinimumHeight(60)
        self.histogram.setLabel("bottom", "weight value")
        self.histogram.setLabel("left", "share of weights")
        self.histogram.getAxis("left").enableAutoSIPrefix(False)
        self.histogram.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        quiet_axes(self.histogram.getPlotItem())
        self.table = QTableWidget(0, len(HEADERS), objectName="inspectorTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setMinimumSectionSize(34)
        for j, tip in enumerate(("Linear layer (colour: its curve)", "gradient norm of the summed training loss",
                                 "weight norm", "update ratio η‖dL/dW‖/‖W‖ (about 1e-3 is healthy)",
                                 "dead ReLU units", "saturated Tanh or Sigmoid units")):
            self.table.horizontalHeaderItem(j).setToolTip(tip)
        self.table.setMaximumHeight(24 + 20 * 5)
        self.table.setMinimumHeight(24 + 20)
        self.table.setToolTip("At the epoch shown: gradient norm of the summed training loss, weight norm, "
                              "update ratio (eta times their quotient: about 1e-3 is healthy), dead ReLU units "
                              "(0 at every training point) and saturated Tanh or Sigmoid units (|y| > 0.97, or "
                              "y within 0.015 of 0 or 1, at 95 % of them).")
        # No word-wrapped labels here: every relayout of the window (the metrics line changes ten times
        # a second) asks such a label to lay its text out again, which costs the run about 5 % of its
        # speed (benchmarks/bench_gui.py). The flags sit in a box of fixed height that scrolls.
        self.flags_label = QPlainTextEdit(objectName="inspectorFlags", readOnly=True)
        self.flags_label.setFixedHeight(2 * self.flags_label.fontMetrics().lineSpacing() + 10)
        self.flags_label.setAccessibleName("Training-health flags")
        self.title = QLabel(objectName="inspectorTitle")
        self._curves: list = []
        self._bars: list = []
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.combo)
        plots = QHBoxLayout()
        plots.addWidget(self.plot, 3)
        plots.addWidget(self.histogram, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addLayout(plots, 1)
        layout.addWidget(self.table)
        layout.addWidget(self.flags_label)
        events = session.events
        events.connect("model", lambda: self.reset())
        events.connect("progress", lambda _message: self._progress())
        events.connect("started", self._started)
        events.connect("state", lambda _state: self._state_changed())
        events.connect("seek", lambda _epoch: self.refresh())
        # After the run's end is shown, not inside it: the statistics cost the GUI thread milliseconds.
        events.connect("finished", lambda *_: QTimer.singleShot(0, self, self.refresh))
        events.connect("batch", lambda _step: self.refresh())
        self.reset()

    # -- automation ----------------------------------------------------------------------
    @property
    def curves(self) -> list:
        """The left plot's curves, one per Linear layer (pyqtgraph items: ``getData()``), for automation."""
        return list(self._curves)

    def stats_at(self, epoch: int) -> list[dict]:
        """One dict per Linear layer (``grad_norm``, ``weight_norm``, ``update_ratio``, ``dead_units``,
        ``saturated_units``) for the snapshot nearest ``epoch`` and the training set."""
        s = self.session
        snapshot = s.timeline.nearest(epoch) if s.timeline is not None else None
        if snapshot is None:
            raise ValueError("there are no weights yet: the network is not valid")
        if snapshot not in self._cache:
            self._cache[snapshot] = self._compute(snapshot)
        return [dict(d) for d in self._cache[snapshot]]

    def background_histograms(self, snapshot: int) -> list[tuple[np.ndarray, np.ndarray]] | None:
        """The weight histograms (``(edges, counts)`` per Linear layer) of ``snapshot`` that the background
        thread computed for a wide network; None where none came from there (a small network's are
        computed as they are drawn). For automation: tells where a histogram was made."""
        return self._histograms.get(snapshot)

    def flags_at(self, epoch: int) -> list[str]:
        """What the inspector flags at the snapshot nearest ``epoch``, a list of sentences (empty when all
        looks healthy): :func:`gui.model.inside.flags` of its statistics, those of the snapshots of the
        last ``PERSIST_EPOCHS`` epochs before it, and the training loss up to it."""
        s = self.session
        snapshot = s.timeline.nearest(epoch) if s.timeline is not None else None
        if snapshot is None:
            raise ValueError("there are no weights yet: the network is not valid")
        for e in (snapshot, *self._window(snapshot)):
            if e not in self._cache:
                self._cache[e] = self._compute(e)
        return self._flags(snapshot)

    def _window(self, snapshot: int) -> list[int]:
        return inside.persist_window(self.session.snapshot_epochs(), snapshot)

    def _flags(self, snapshot: int) -> list[str]:
        """The flags of ``snapshot``, whose statistics and window's are in the cache."""
        s = self.session
        earlier = [self._cache[e] for e in self._window(snapshot)]
        return inside.flags(self._cache[snapshot], inside.columns(s.experiment.blocks), s.experiment.eta,
                            earlier, s.history.train[:snapshot], s.experiment.task == "regression")

    # -- computing ------------------------------------------------------------------------
    def _compute(self, snapshot: int) -> list[dict]:
        s = self.session
        return inside.layer_stats(s.experiment.blocks, self._views(snapshot), s.data.X_train, s.data.y_train,
                                  s.experiment.eta, s.experiment.loss)

    def _views(self, snapshot: int):
        """The snapshot's parameters as views (no copy of a wide network's weights on the GUI thread)."""
        timeline = self.session.timeline
        return inside.parameter_views(timeline.flat(snapshot), timeline.shapes)

    def _heavy(self) -> bool:
        s = self.session
        return s.data.X_train.shape[0] * (s.timeline.size if s.timeline is not None else 0) > SYNC_COST

    def _ensure(self, snapshot: int, then) -> None:
        """Compute the stats of ``snapshot`` and of its flags' window (in a thread for a wide network),
        then call ``then()``."""
        missing = [e for e in (*self._window(snapshot), snapshot) if e not in self._cache]
        if not missing:
            then()
            return
        if not self._heavy():
            for e in missing:
                self._cache[e] = self._compute(e)
            then()
            return
        s = self.session
        blocks, views = [dict(b) for b in s.experiment.blocks], {e: self._views(e) for e in missing}
        data, eta, loss = s.data, s.experiment.eta, s.experiment.loss
        self._generation += 1
        generation = self._generation

        def done(result):
            if generation == self._generation:  # not overtaken: new weights, another epoch shown
                for e, (stats, histograms) in result.items():
                    self._cache[e], self._histograms[e] = stats, histograms
                then()
            self._fill()

        def compute():  # the histograms too: 40-200 ms for a 4096 x 4096 layer, too long for the GUI thread
            return {e: (inside.layer_stats(blocks, params, data.X_train, data.y_train, eta, loss),
                        [inside.histogram(w) for w in params[::2]]) for e, params in views.items()}
        self.background.submit(compute, done)

    def _fill(self) -> None:
        """Compute the next chunk of the snapshots the series lacks, off the GUI thread, while the run is
        not training; each chunk draws the series again and asks for the next."""
        s = self.session
        if (self._filling or self.background.busy or s.state == "running" or not s.has_model
                or self._heavy() or not self.isVisible()):
            return
        missing = [e for e in s.snapshot_epochs() if e not in self.series]
        if not missing:
            return
        cost = max(1, s.data.X_train.shape[0] * s.timeline.size)
        chunk = missing[:max(1, int(FILL_COST // cost))]
        todo = {e: [p.clone() for p in self._views(e)] for e in chunk if e not in self._cache}  # copies: the
        # timeline may drop a snapshot meanwhile
        blocks, data, eta, loss = [dict(b) for b in s.experiment.blocks], s.data, s.experiment.eta, s.experiment.loss
        weights, self._filling = self._weights, True

        def compute():
            return {e: inside.layer_stats(blocks, params, data.X_train, data.y_train, eta, loss)
                    for e, params in todo.items()}

        def done(result):
            self._filling = False
            if weights == self._weights:  # else new weights or another run: this chunk is of the past
                self._cache.update(result)
                for e in chunk:
                    self.series[e] = self._cache[e]
                self._draw_series()
            QTimer.singleShot(0, self, self._fill)
        self.background.submit(compute, done)

    # -- events ---------------------------------------------------------------------------
    def reset(self) -> None:
        """A new network or new weights: forget every statistic and start the series afresh."""
        self._generation += 1
        self._weights += 1
        self._cache.clear()
        self._histograms.clear()
        self.series.clear()
        cols = inside.columns(self.session.experiment.blocks) if self.session.has_model else []
        layers = [c.label for c in cols[1:]]
        if layers != getattr(self, "_layers", None):  # new plot items only for another stack
            self._layers = layers
            self._make_items()
        else:
            for curve in self._curves:
                curve.setData([], [])
        self.refresh()

    def _make_items(self) -> None:
        for item in self._curves:
            self.plot.removeItem(item)
        for item in self._bars:
            self.histogram.removeItem(item)
        self._curves, self._bars = [], []
        self._sized = False
        self.table.setRowCount(len(self._layers))
        for k, label in enumerate(self._layers):
            pen = pg.mkPen(LAYER_COLOURS[k % len(LAYER_COLOURS)], width=1.5)
            self._curves.append(self.plot.plot(name=f"layer {k + 1} ({label})", pen=pen))  # no symbols: cheaper
            self._bars.append(self.histogram.plot(name=f"layer {k + 1}", stepMode="center", pen=pen))
            name = QTableWidgetItem(f"{k + 1} {label}")
            name.setForeground(pen.color())  # the key to the curves' colours (no legend over the plots)
            name.setToolTip(f"Linear layer {k + 1}: its curve and histogram are drawn in this colour.")
            self.table.setItem(k, 0, name)

    def _state_changed(self) -> None:
        """A pause shows its epoch at once (the messages of the epochs before it may come after)."""
        if self.session.state != "running":
            QTimer.singleShot(0, self, self.refresh)

    def _started(self) -> None:
        # The first live sample after MIN_INTERVAL: a short run shows its statistics once, at its end.
        self._next_due = time.perf_counter() + MIN_INTERVAL

    def _progress(self) -> None:
        """Sample the newest snapshot for the live series, within SHARE of the GUI thread's time; while
        paused, show the newest snapshot (the pause's) as it comes."""
        s = self.session
        if s.state == "paused" and s.seek_epoch is None and s.snapshot_epochs():
            if self.shown_epoch != s.snapshot_epochs()[-1]:
                self.refresh()
            return
        now = time.perf_counter()
        if not self.isVisible() or now < self._next_due or not s.snapshot_epochs() or self._heavy():
            return  # a wide network's statistics take seconds of both cores: at pauses, stops and seeks only
        newest = s.snapshot_epochs()[-1]
        if newest in self.series:
            return
        started = time.perf_counter()

        def sampled():
            self.series[newest] = self._cache[newest]
            self._draw_series()
            if s.seek_epoch is None:
                self._show_epoch(newest)
        self._ensure(newest, sampled)
        self._next_due = now + max(MIN_INTERVAL, (time.perf_counter() - started) / SHARE)

    def refresh(self) -> None:
        """Show the timeline's epoch, or the newest snapshot when following the head."""
        s = self.session
        if not s.snapshot_epochs():
            self._show_epoch(None)
            return
        if not self.isVisible():
            return  # showEvent refreshes: no work while the dock is closed
        self._generation += 1  # what an earlier request brings late is no longer wanted
        wanted = s.seek_epoch if s.seek_epoch is not None else s.snapshot_epochs()[-1]
        snapshot = s.timeline.nearest(wanted)

        def ready():
            if s.seek_epoch is None:
                self.series[snapshot] = self._cache[snapshot]
                self._draw_series()
            self._show_epoch(snapshot)
            self._fill()
        self._ensure(snapshot, ready)

    # -- drawing --------------------------------------------------------------------------
    def _draw_series(self) -> None:
        key, label, log = SERIES[self.combo.currentIndex()]
        if self._series_shown != key:  # axis changes relayout the plot: only when the choice changes
            self._series_shown = key
            self.plot.setLabel("left", label)
            self.plot.getPlotItem().showLabel("left", not self.compact)
            self.plot.getPlotItem().setLogMode(y=log)
        epochs = sorted(self.series)
        for k, curve in enumerate(self._curves):
            values = [self.series[e][k][key] for e in epochs]
            if not epochs or values[0] is None:
                curve.setData([], [])
                continue
            y = np.asarray(values, np.float64)
            keep = np.isfinite(y) & ((y > 0) if log else True)
            alone = int(keep.sum()) == 1  # one epoch (a fresh window): a dot, as a line would not show
            curve.setData(np.asarray(epochs, np.float64)[keep], y[keep], symbol="o" if alone else None,
                          symbolSize=5, symbolPen=None, symbolBrush=curve.opts["pen"].color())
        self._decades(key, log)

    def _decades(self, key: str, log: bool) -> None:
        """A log axis spans whole decades and labels decades only, as many as its height holds (pyqtgraph
        labels every minor tick of a narrow range, and piles labels up over an empty or zero series).
        With nothing positive to show (a fresh window, gradients of 0) it shows ``LOG_EMPTY``."""
        axis = self.plot.getAxis("left")
        if not log:
            axis.setTicks(None)
            self.plot.enableAutoRange(axis="y")
            return
        values = [row[key] for stats in self.series.values() for row in stats if row[key] is not None]
        values = [v for v in values if math.isfinite(v) and v > 0]
        if values:
            low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
            high = max(high, low + 1)
        else:
            low, high = (int(v) for v in LOG_EMPTY)
        room = max(2, self.plot.getPlotItem().vb.height() // (2 * self.fontMetrics().height()) + 1)
        step = max(1, math.ceil((high - low) / (room - 1)))
        axis.setTicks([[(k, _decade(k)) for k in range(low, high + 1, step)], []])
        self.plot.setYRange(low, high, padding=0.06)  # the end labels whole, not cut in half

    def _show_epoch(self, snapshot: int | None) -> None:
        self.shown_epoch = snapshot
        if snapshot is None or snapshot not in self._cache:
            self.title.setText("No weights yet")
            self.flags_label.setPlainText("")
            return
        s = self.session
        stats = self._cache[snapshot]
        self.title.setText(f"Epoch {snapshot}")
        self.title.setToolTip(f"Training health at epoch {snapshot}: the summed loss over the "
                              f"{s.data.X_train.shape[0]} training points, step size {s.experiment.eta:g}")
        for k, row in enumerate(stats):
            for j, key in enumerate(inside.STAT_KEYS, 1):
                item = self.table.item(k, j)
                if item is None:
                    self.table.setItem(k, j, QTableWidgetItem(_number(row[key])))
                else:
                    item.setText(_number(row[key]))
        if not self._sized or not s.running:  # measuring every cell's text is slow: not during a run
            self.table.resizeColumnsToContents()
            self._sized = True
        self.cursor.setValue(snapshot)
        words = inside.flags(stats, inside.columns(s.experiment.blocks), s.experiment.eta,
                             regression=s.experiment.task == "regression")
        text = "\n".join(words) if words else "No dead or saturated layers, no vanishing gradient."
        if text != self.flags_label.toPlainText():
            self.flags_label.setPlainText(text)
            self.flags_label.setStyleSheet(f"color: {'#b02a1a' if words else '#2f6f3e'};")
        histograms = self._histograms.get(snapshot)
        if histograms is None:  # a small network: computed here, in a few hundred microseconds
            histograms = [inside.histogram(w) for w in self._views(snapshot)[::2]]
        for bars, (edges, counts) in zip(self._bars, histograms, strict=False):
            bars.setData(edges, counts / max(counts.sum(), 1))  # shares: layers of any size compare

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_axes()

    def _fit_axes(self) -> None:
        """In a short dock (the default window's is about 190 pixels) the axis titles would take the plots'
        height: the data would get 20 pixels, and the left titles would be cut ("dient norm"). Below
        ``COMPACT_HEIGHT`` the titles go (the combo names the left plot's series; the plots' tooltips
        name every axis) and the value axes keep fewer ticks, so that their labels overlap less."""
        if self._series_shown is not None and SERIES[self.combo.currentIndex()][2]:
            self._decades(*SERIES[self.combo.currentIndex()][::2])  # as many decade labels as fit
        compact = self.plot.height() < COMPACT_HEIGHT
        if compact == self.compact:
            return
        self.compact = compact
        for plot in (self.plot, self.histogram):
            item = plot.getPlotItem()
            for side in ("left", "bottom"):
                item.showLabel(side, not compact)
            item.getAxis("left").setTickDensity(COMPACT_TICKS if compact else 1.0)
