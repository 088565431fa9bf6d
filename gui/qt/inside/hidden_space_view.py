"""The hidden layer's view of space (ConvNetJS): the training points and a grid of lines of the input plane,
drawn where a hidden layer of exactly two units maps them (:mod:`gui.model.hidden_space`). The student sees
the network bend the plane, epoch after epoch, until a line separates the classes.

It draws the epoch the timeline shows: the newest snapshot while a run trains (sampled within ``SHARE`` of
the GUI thread's time, at most every ``MIN_INTERVAL`` seconds, and only while the view is seen), the
seeked snapshot after a seek, the last epoch when idle. A wide network's pass (``SYNC_COST``) is computed off
the GUI thread.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from gui.model import hidden_space
from gui.model.inside import columns
from gui.model.session import Session
from gui.qt.plots.plots import CLASS_COLOURS, class_colours, class_symbols, quiet_axes
from gui.qt.window.background import Background

SHARE = 0.03  # of the GUI thread's time the live view may take (the GUI thread's time is the run's too)
MIN_INTERVAL = 0.2  # seconds between two live redraws at the least
SYNC_COST = 5e7  # points mapped x parameters computed on the GUI thread; beyond, in a thread
ACROSS, DOWN = "#3b8f8f", "#9a6fb0"  # the grid lines at constant x2 (teal) and at constant x1 (purple)


class HiddenSpaceView(QWidget):
    """``hiddenSpaceView``. Automation: :meth:`layers`, :meth:`points`, :meth:`why_not`, :attr:`message`,
    :attr:`shown_epoch`, :attr:`shown_layer`, :meth:`select`."""

    def __init__(self, session: Session, boundary_plot=None, parent=None):
        super().__init__(parent, objectName="hiddenSpaceView")
        self.setAccessibleName("The hidden layer's view of space")
        self.session = session
        self.boundary_plot = boundary_plot  # whose palette colours the classes, as in the boundary plot
        self.background = Background(self)
        self.shown_epoch: int | None = None
        self.shown_layer: int | None = None
        self._shown: hidden_space.Mapped | None = None
        self._generation = 0  # of the newest request: a late result from a thread is dropped
        self._next_due = 0.0
        self._layers: list[int] = []
        self.title = QLabel(objectName="hiddenSpaceTitle")
        self.combo = QComboBox(objectName="hiddenSpaceLayerCombo")
        self.combo.setAccessibleName("Hidden layer drawn")
        self.combo.setToolTip("The hidden layer of 2 units whose space is drawn (after its activation).")
        self.combo.currentIndexChanged.connect(lambda _: self.refresh())
        self.plot = pg.PlotWidget(objectName="hiddenSpacePlot")
        self.plot.setMinimumHeight(120)
        item = self.plot.getPlotItem()
        quiet_axes(item)
        item.setMenuEnabled(False)
        self.plot.setAspectLocked(True)
        self.plot.setToolTip("The training points and the input plane's grid as the hidden layer maps them: "
                             "left and bottom are its two units' outputs. Teal lines are lines of constant x2 "
                             "of the input plane, purple ones of constant x1. Where a straight line separates "
                             "the colours here, the next layers can separate the classes.")
        self.across = pg.PlotCurveItem(pen=pg.mkPen(ACROSS, width=1))
        self.down = pg.PlotCurveItem(pen=pg.mkPen(DOWN, width=1))
        self.scatter = pg.ScatterPlotItem(size=6)
        for part in (self.across, self.down, self.scatter):
            item.addItem(part)
        # A text box in the plot's place rather than a word-wrapped label: a wrapped label is laid out again
        # at every relayout of the window, which the metrics line asks for ten times a second.
        self.message_box = QPlainTextEdit(objectName="hiddenSpaceMessage", readOnly=True)
        self.message_box.setMinimumHeight(3 * self.message_box.fontMetrics().lineSpacing() + 10)
        self.message_box.setAccessibleName("Why no layer is drawn")
        self.message_box.setToolTip("Why the network has no hidden layer this view can draw.")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.message_box, 1)
        events = session.events
        events.connect("model", lambda: self.reset())
        events.connect("experiment", lambda: self.reset())
        events.connect("progress", lambda _message: self._progress())
        events.connect("seek", lambda _epoch: self.refresh())
        events.connect("state", lambda _state: self._state_changed())
        events.connect("finished", lambda *_: QTimer.singleShot(0, self, self.refresh))
        self.reset()

    # -- automation ----------------------------------------------------------------------
    def layers(self) -> list[int]:
        """The Linear layers (0-based among the Linear layers) this view can draw: hidden, 2 units wide."""
        return hidden_space.layers(self.session.experiment.blocks) if self.session.has_model else []

    def why_not(self, layer: int) -> str | None:
        """Why Linear layer ``layer`` cannot be drawn, in a sentence; None where it can."""
        if not self.session.has_model:
            return "There are no weights yet: the network is not valid."
        return hidden_space.why_not(self.session.experiment.blocks, layer)

    @property
    def message(self) -> str:
        """The sentence the view shows where no layer can be drawn (empty where one can)."""
        return self.message_box.toPlainText()

    def select(self, layer: int) -> None:
        """Draw Linear layer ``layer`` (one of :meth:`layers`); any other raises ``ValueError`` with a sentence."""
        if layer not in self._layers:
            raise ValueError(self.why_not(layer) or f"layer {layer + 1} cannot be drawn")
        self.combo.setCurrentIndex(self._layers.index(layer))

    def points(self, layer: int) -> np.ndarray:
        """The training points ``(N, 2)`` mapped through the network up to Linear layer ``layer``'s activation,
        with the weights of the epoch shown (:attr:`shown_epoch`; the timeline's epoch where none is shown yet)."""
        reason = self.why_not(layer)
        if reason is not None:
            raise ValueError(reason)
        shown = self._shown
        if shown is not None and shown.layer == layer and shown.epoch == self._wanted_epoch():
            return shown.points.copy()
        request = self._request()
        return hidden_space.mapped(request.blocks, request.flat, self.session.data.X_train, layer)

    # -- computing -------------------------------------------------------------------------
    def _request(self):
        s = self.session
        return s.view_request(s.seek_epoch)

    def _wanted_epoch(self) -> int | None:
        request = self._request()
        return None if request is None else request.epoch

    def _current(self) -> int | None:
        """The layer chosen in the combo (None where none can be drawn)."""
        index = self.combo.currentIndex()
        return self._layers[index] if 0 <= index < len(self._layers) else None

    def _heavy(self) -> bool:
        s = self.session
        return s.data.X_train.shape[0] * (s.timeline.size if s.timeline is not None else 0) > SYNC_COST

    def refresh(self) -> None:
        """Draw the epoch the timeline shows (the newest snapshot when following the head)."""
        layer = self._current()
        request = self._request() if layer is not None else None
        if request is None:
            self._draw(None)
            return
        if not self.isVisible():
            return  # showEvent refreshes: no work while the dock is closed
        s = self.session
        self._generation += 1
        generation = self._generation
        blocks, flat, X, extent = request.blocks, request.flat, s.data.X_train, s.extent

        def work():
            return hidden_space.compute(blocks, flat, X, extent, layer, request.epoch, s.data.inputs)

        def done(result):
            if generation == self._generation:  # not overtaken by newer weights or another layer
                self._draw(result)
        if self._heavy():
            self.background.submit(work, done)
        else:
            done(work())

    # -- events ---------------------------------------------------------------------------
    def reset(self) -> None:
        """New weights or another stack: list the drawable layers again and draw."""
        self._shown = None
        layers = self.layers()
        if layers != self._layers:
            current = self._current()
            self._layers = layers
            self.combo.blockSignals(True)
            self.combo.clear()
            blocks = self.session.experiment.blocks
            labels = {c.linear: c.label for c in columns(blocks)[1:]}
            self.combo.addItems([f"layer {k + 1} ({labels[k]})" for k in layers])
            self.combo.setCurrentIndex(layers.index(current) if current in layers else 0 if layers else -1)
            self.combo.blockSignals(False)
        self.combo.setEnabled(len(layers) > 1)
        text = hidden_space.summary(self.session.experiment.blocks) if self.session.has_model else (
            "There are no weights yet: the network is not valid.")
        if text != self.message_box.toPlainText():
            self.message_box.setPlainText(text)
        self.message_box.setVisible(bool(text))
        self.plot.setVisible(not text)
        self.combo.setVisible(bool(layers))
        self.refresh()

    def _state_changed(self) -> None:
        if self.session.state != "running":
            QTimer.singleShot(0, self, self.refresh)

    def _progress(self) -> None:
        """While following the head, draw the newest snapshot within SHARE of the GUI thread's time."""
        s = self.session
        now = time.perf_counter()
        if s.seek_epoch is not None or not self.isVisible() or now < self._next_due or self.background.busy:
            return
        self.refresh()
        self._next_due = now + max(MIN_INTERVAL, (time.perf_counter() - now) / SHARE)

    # -- drawing --------------------------------------------------------------------------
    def _draw(self, result: hidden_space.Mapped | None) -> None:
        self._shown = result
        if result is None or not (np.isfinite(result.points).all() and np.isfinite(result.lines).all()):
            self.shown_epoch = self.shown_layer = None
            for curve in (self.across, self.down):
                curve.setData([], [])
            self.scatter.setData([], [])
            self.title.setText("Diverged: nothing to draw" if result is not None else "Nothing to draw")
            return
        self.shown_epoch, self.shown_layer = result.epoch, result.layer
        half = result.lines.shape[0] // 2
        for curve, lines in ((self.across, result.lines[:half]), (self.down, result.lines[half:])):
            count, samples = lines.shape[:2]
            connect = np.ones(count * samples, dtype=bool)
            connect[samples - 1::samples] = False  # each line stops at its end
            curve.setData(lines[..., 0].reshape(-1), lines[..., 1].reshape(-1), connect=connect)
        palette = getattr(self.boundary_plot, "palette", None)
        colours = class_colours(palette.class_colours if palette is not None else CLASS_COLOURS)
        symbols = class_symbols(palette.symbols if palette is not None else ("o", "s"))
        labels = self.session.data.labels_train.cpu().numpy().astype(int) % len(colours)
        outline = pg.mkPen(palette.outline if palette is not None else "#1a1a1a", width=0.8)
        brushes = [pg.mkBrush(c) for c in colours]
        self.scatter.setData(result.points[:, 0], result.points[:, 1], brush=[brushes[c] for c in labels],
                             symbol=[symbols[c] for c in labels], pen=outline)
        label = self.combo.currentText() or f"layer {result.layer + 1}"
        self.title.setText(f"Epoch {result.epoch}: {label}")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh()
