"""Draw mode: click on the boundary plot to add points of a class, right-click or Shift+click to
erase, Clear to remove them all. What is drawn becomes the experiment's Custom dataset
(``experiment.points``, split into train and test by its test share), saved with the experiment.

The view is thin: every change goes down as ``session.edit(dataset="Custom", points=...)``, so the
session's rules apply (new data means new initial weights, no edits during a run).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QWidget

from gui.model.experiment import CUSTOM
from gui.model.points import BY_RATIO, MAX_CLASSES, MAX_ROWS
from gui.model.tasks import edit_for
from gui.qt.plots.plots import CLASS_COLOURS, MORE_COLOURS
from gui.qt.window.wheel_guard import ignore_wheel_unless_focused

ERASE_RADIUS = 0.03  # of the plot's larger side: a click erases the nearest point within it


class DrawTool(QWidget):
    """The draw-mode controls under the boundary plot, and the clicks on it while the mode is on."""

    def __init__(self, session, boundary_plot, parent=None):
        super().__init__(parent)
        self.session, self.plot = session, boundary_plot
        self.button = QPushButton("Draw points", objectName="drawModeButton", checkable=True)
        self.button.setToolTip("Draw your own data on the plot: click adds a point of the chosen class, "
                               "right-click or Shift+click erases the nearest one. The points become the "
                               "Custom dataset (saved with the experiment, exported with File ▸ Export data).")
        self.button.toggled.connect(self.set_drawing)
        self.class_combo = QComboBox(objectName="drawClassCombo", toolTip="The class of the points a click adds.")
        for k, colour in enumerate((*CLASS_COLOURS, *MORE_COLOURS)[:MAX_CLASSES]):
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(colour))
            self.class_combo.addItem(QIcon(swatch), f"Class {k}")
        self.class_combo.setAccessibleName("Class of drawn points")
        ignore_wheel_unless_focused(self.class_combo)
        self.clear_button = QPushButton("Clear points", objectName="clearPointsButton",
                                        toolTip="Remove every drawn or imported point.")
        self.clear_button.clicked.connect(self.clear)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget in (self.button, self.class_combo, self.clear_button):
            row.addWidget(widget)
        row.addStretch(1)
        boundary_plot.scene().sigMouseClicked.connect(self._clicked)
        session.events.connect("state", lambda _state: self.enable_controls())
        session.events.connect("experiment", self._experiment)
        self.enable_controls()

    def _experiment(self) -> None:
        # Another experiment (New, Open, a lesson's scene) with its own dataset ends draw mode: a
        # click must not turn an opened file's data into Custom and throw its trained epochs away.
        if self.drawing and self.session.experiment.dataset != CUSTOM:
            self.set_drawing(False)
        self.enable_controls()

    @property
    def drawing(self) -> bool:
        return self.button.isChecked()

    def set_drawing(self, on: bool) -> None:
        """Turn draw mode on (the dataset becomes Custom, keeping any points it had) or off."""
        if self.button.isChecked() != on:
            self.button.setChecked(on)  # comes back here through toggled
            return
        if on and self.session.experiment.dataset != CUSTOM and not self.session.running:
            self.session.edit(**edit_for(self.session.experiment, dataset=CUSTOM))  # from a regression too
        # While drawing, a drag must not pan the plane under the pen (nor the wheel zoom it).
        self.plot.getPlotItem().getViewBox().setMouseEnabled(x=not on, y=not on)
        self.session.events.emit("status", "Draw mode: click adds a point of the chosen class, right-click or "
                                 "Shift+click erases one." if on else "Draw mode off.")
        self.enable_controls()

    # -- edits ----------------------------------------------------------------------------------
    def add_point(self, x: float, y: float, label: int | None = None) -> bool:
        points = self.session.experiment.points
        if self.session.running or len(points) >= MAX_ROWS:
            return False
        label = self.class_combo.currentIndex() if label is None else label
        self.session.edit(**edit_for(self.session.experiment, dataset=CUSTOM,
                                     points=[*points, [float(x), float(y), int(label), BY_RATIO]]))
        return True

    def erase_near(self, x: float, y: float) -> bool:
        """Erase the point nearest (x, y) if it lies within ``ERASE_RADIUS`` of the plot's size."""
        points = self.session.experiment.points
        if self.session.running or not points:
            return False
        x0, x1, y0, y1 = self.session.extent
        radius = ERASE_RADIUS * max(x1 - x0, y1 - y0)
        distance, nearest = min(((p[0] - x) ** 2 + (p[1] - y) ** 2, i) for i, p in enumerate(points))
        if distance > radius ** 2:
            return False
        self.session.edit(points=points[:nearest] + points[nearest + 1:])
        return True

    def clear(self) -> None:
        if not self.session.running and self.session.experiment.points:
            self.session.edit(points=[])
            self.session.events.emit("status", "Cleared the points: draw new ones or import a CSV file.")

    def click(self, x: float, y: float, erase: bool) -> bool:
        """A click at (x, y) in data coordinates while drawing: add, or erase (right button or Shift)."""
        if not self.drawing:
            return False
        return self.erase_near(x, y) if erase else self.add_point(x, y)

    def _clicked(self, event) -> None:
        if not self.drawing or event.button() not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        view = self.plot.getPlotItem().vb
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        erase = event.button() == Qt.MouseButton.RightButton or bool(
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if self.click(point.x(), point.y(), erase):
            event.accept()

    def enable_controls(self) -> None:
        idle = not self.session.running
        self.button.setEnabled(idle)
        self.class_combo.setEnabled(idle and self.drawing)
        self.clear_button.setEnabled(idle and bool(self.session.experiment.points))
