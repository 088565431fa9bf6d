"""The timeline under the plots: a slider over the epochs trained, a cursor on the loss plot, and
"Resume from here", which branches the run at the epoch shown."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from gui.model.session import Session
from gui.qt.plots.quiet_label import QuietLabel


class TimelineView(QWidget):
    """At its right end the slider follows the head of the run; anywhere else it shows the past
    (the boundary at the nearest snapshot, that epoch's numbers), while a live run goes on."""

    def __init__(self, session: Session, loss_plot, parent=None):
        super().__init__(parent)
        self.session = session
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="timelineSlider")
        self.slider.setToolTip("Timeline: drag to see the boundary and the numbers at an earlier epoch "
                               "(Home/End: first/last epoch). Training goes on meanwhile.")
        self.slider.setPageStep(10)
        self.label = QLabel(objectName="timelineLabel")
        self.label.setMinimumWidth(110)
        self.resume_button = QPushButton("Resume from here", objectName="resumeFromHereButton")
        self.resume_button.setToolTip("Branch: forget the epochs after the one shown and train on from its "
                                      "weights, with the current settings.")
        self.resume_button.clicked.connect(lambda: session.resume_from(self.slider.value()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Timeline"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(QuietLabel(self.label))  # its text changes at every message of a run
        layout.addWidget(self.resume_button)
        dashed = pg.mkPen("#555", width=1, style=Qt.PenStyle.DashLine)
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=dashed)
        self.cursor.setVisible(False)
        loss_plot.getPlotItem().addItem(self.cursor, ignoreBounds=True)
        self.slider.valueChanged.connect(self._moved)
        for name in ("progress", "model", "seek", "state"):
            session.events.connect(name, lambda *_: self.refresh())
        self.refresh()

    def _moved(self, value: int) -> None:
        self.session.seek(None if value >= self.slider.maximum() else value)
        self._show_position()

    def refresh(self) -> None:
        s = self.session
        epochs = s.history.epochs
        self.slider.blockSignals(True)
        self.slider.setMaximum(epochs)
        self.slider.setValue(epochs if s.seek_epoch is None else s.seek_epoch)
        self.slider.blockSignals(False)
        self.slider.setEnabled(epochs > 0)
        self._show_position()

    def _show_position(self) -> None:
        s = self.session
        past = s.seek_epoch is not None
        self.cursor.setVisible(past)
        if past:
            self.cursor.setValue(s.seek_epoch)
        epochs = s.history.epochs
        self.label.setText(f"epoch {s.seek_epoch} of {epochs}" if past else f"epoch {epochs}")
        self.resume_button.setEnabled(past and s.has_model)
