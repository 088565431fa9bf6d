"""The speed a class can follow: ``speedSlider`` (1 to 50 epochs a second, or max), and the optional
per-batch loss curve on the loss plot (``batchLossCheck``). This view sets the speed through the session
(:meth:`~gui.model.session.Session.set_speed`, which sends it to a live run) and draws what the run sends."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QWidget

from gui.model.pace import PER_BATCH_AT, SPEEDS, nearest_stop
from gui.model.session import Session

MAX_BATCH_POINTS = 200_000  # beyond this the curve keeps its first points (a long run at max speed)


def speed_text(epochs_per_second: float | None) -> str:
    if epochs_per_second is None:
        return "max"
    text = f"{epochs_per_second:g} epoch{'' if epochs_per_second == 1 else 's'}/s"
    return text + (" · every batch" if epochs_per_second <= PER_BATCH_AT else "")


class SpeedControl(QWidget):
    """A slider over :data:`gui.model.pace.SPEEDS`, its value in words, and the per-batch loss switch."""

    def __init__(self, session: Session, loss_plot, parent=None):
        super().__init__(parent)
        self.session = session
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="speedSlider", minimum=0,
                              maximum=len(SPEEDS) - 1, pageStep=1, tickPosition=QSlider.TickPosition.TicksBelow)
        self.slider.setValue(len(SPEEDS) - 1)
        self.slider.setToolTip("Training speed: 1 to 50 epochs a second, or max (as fast as it can). "
                               "Slow speeds draw every epoch; at 1 epoch/s every mini-batch's update is drawn.")
        self.slider.setAccessibleName("Training speed")
        self.value_label = QLabel(speed_text(None), objectName="speedLabel")
        self.value_label.setToolTip("The training speed the slider sets.")
        self.value_label.setMinimumWidth(self.value_label.fontMetrics().horizontalAdvance("50 epochs/s · every batch"))
        self.batch_check = QCheckBox("Per-batch loss", objectName="batchLossCheck")
        self.batch_check.setToolTip("Also draw the loss of every mini-batch (thin grey curve): a step size that is "
                                    "too large shows as an oscillating or rising curve.")
        caption = QLabel("Speed")
        caption.setBuddy(self.slider)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(caption)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.value_label)
        layout.addWidget(self.batch_check)
        self.slider.valueChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        self.batch_check.toggled.connect(self._batch_losses)
        self.curve = BatchLossCurve(session, loss_plot)

    def set_speed(self, epochs_per_second: float | None) -> None:
        """``None``: max. Any positive speed is kept exactly; the slider shows the nearest stop."""
        self.session.set_speed(epochs_per_second)
        self.slider.blockSignals(True)
        self.slider.setValue(nearest_stop(epochs_per_second))
        self.slider.blockSignals(False)
        self.value_label.setText(speed_text(self.session.pace.epochs_per_second))

    def _batch_losses(self, on: bool) -> None:
        self.session.set_batch_losses(on)
        self.curve.set_visible(on)


class BatchLossCurve:
    """The per-batch losses of the current history, drawn as one thin curve on the loss plot."""

    def __init__(self, session: Session, loss_plot):
        self.session = session
        self.item = pg.PlotDataItem(pen=pg.mkPen("#888888", width=1), name="per batch")
        self.item.setVisible(False)
        self.item.setZValue(-1)  # under the epoch curves, which it would hide
        self.plot_item = loss_plot.getPlotItem()
        self.plot_item.addItem(self.item)
        self.plot_item.legend.removeItem(self.item)  # in the legend only while shown
        self._x: list[np.ndarray] = []
        self._y: list[np.ndarray] = []
        self._count = 0
        session.events.connect("batches", self._add)
        session.events.connect("model", lambda: self.clear())

    def set_visible(self, on: bool) -> None:
        self.item.setVisible(on)
        legend = self.plot_item.legend
        if on and all(sample.item is not self.item for sample, _label in legend.items):
            legend.addItem(self.item, "per batch")
        elif not on:
            legend.removeItem(self.item)

    def set_width(self, width: float) -> None:
        self.item.setPen(pg.mkPen("#888888", width=width))

    def clear(self) -> None:
        self._x, self._y, self._count = [], [], 0
        self.item.setData([], [])

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        if not self._x:
            return np.empty(0), np.empty(0, np.float32)
        return np.concatenate(self._x), np.concatenate(self._y)

    def _add(self, message) -> None:
        if self._count >= MAX_BATCH_POINTS:
            return
        if self._x and len(message.positions) and message.positions[0] <= self._x[-1][-1]:
            self.clear()  # a branch or a fresh run: the batches start again
        self._x.append(message.positions)
        self._y.append(message.losses)
        self._count += len(message.positions)
        x, y = self.data()
        finite = np.isfinite(y)
        self.item.setData(x[finite], y[finite])
