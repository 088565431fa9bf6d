"""The one-batch step (F8): every number of one mini-batch's backpropagation step, per Linear layer.

For each layer: the batch as the layer sees it, W before the step, dL/dW, the update
ΔW = −η·dL/dW and dL/db, as colour matrices with the exact value on hover (the top-left corner of
a large one, with a note); the batch's loss before and after the step; and the boundary before or
after it. The numbers are :meth:`gui.model.session.Session.last_batch_step`'s: shown equals computed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from gui.model import boundary
from gui.model.inside import BatchStep
from gui.model.session import Session
from gui.model.timeline import flatten
from gui.model.weights import model_from
from gui.qt.plots import palette as palettes
from gui.qt.plots.plots import Heatmap, lookup_table_of, margins, paint_boundary, quiet_axes
from gui.qt.plots.regression import value_limit

MAX_CELLS = 24  # rows and columns shown of a matrix (its top-left corner)
SIDE = 150  # pixels of a matrix's longer side at most


class MatrixView(QWidget):
    """One matrix as colours (the palette's low colour negative, its high colour positive, scaled by
    its own largest |value|);
    hover a cell for its exact value. ``values`` holds the shown corner, ``shape`` the whole."""

    def __init__(self, name: str, lut: np.ndarray, parent=None):
        super().__init__(parent)
        self.name, self._lut = name, lut
        self.values = np.zeros((0, 0))
        self.shape: tuple[int, int] = (0, 0)
        self._image: QImage | None = None
        self.setMouseTracking(True)
        self.setAccessibleName(name)

    def set_matrix(self, matrix: torch.Tensor) -> None:
        m = matrix.detach().reshape(matrix.shape[0], -1).to(torch.float64).cpu().numpy()
        self.shape = m.shape
        self.values = m[:MAX_CELLS, :MAX_CELLS].copy()
        self._colour()

    @property
    def lut(self) -> np.ndarray:
        """The colour map the cells are drawn with: 256 RGB rows, low (negative) to high (positive)."""
        return self._lut

    def set_lut(self, lut: np.ndarray) -> None:
        """Colour the same numbers with another map (a palette change)."""
        self._lut = lut
        self._colour()

    def _colour(self) -> None:
        peak = np.nanmax(np.abs(self.values)) if self.values.size else 0.0
        scale = peak if np.isfinite(peak) and peak > 0 else 1.0
        index = np.clip(((np.nan_to_num(self.values / scale) + 1) * 0.5 * 255).round(), 0, 255).astype(np.intp)
        rgb = self._lut[index]
        rows, cols = self.values.shape
        self._array = np.full((rows, cols, 4), 255, np.uint8)
        self._array[..., 2::-1] = rgb
        self._image = QImage(self._array.data, cols, rows, cols * 4, QImage.Format.Format_RGB32)
        self.cell = max(3, min(12, SIDE // max(rows, cols, 1)))
        self.setFixedSize(max(cols * self.cell, 150), rows * self.cell + 32)
        self.setToolTip(self.note())
        self.update()

    def note(self) -> str:
        rows, cols = self.shape
        cut = rows > MAX_CELLS or cols > MAX_CELLS
        return f"{self.name} {rows}×{cols}" + (f"\n(top-left {min(rows, MAX_CELLS)}×{min(cols, MAX_CELLS)} shown)"
                                               if cut else "")

    def value_at(self, row: int, col: int) -> str:
        return f"{self.name}[{row}, {col}] = {self.values[row, col]:.8g}"

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setPen(QColor("#222"))
        painter.drawText(QRectF(0, 0, self.width(), 30), Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                         self.note())
        if self._image is not None:
            rows, cols = self.values.shape
            painter.drawImage(QRectF(0, 32, cols * self.cell, rows * self.cell), self._image)
        painter.end()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = event.position()
        row, col = int((p.y() - 32) // self.cell), int(p.x() // self.cell)
        if p.y() >= 32 and 0 <= row < self.values.shape[0] and 0 <= col < self.values.shape[1]:
            QToolTip.showText(event.globalPosition().toPoint(), self.value_at(row, col), self)


class BatchStepView(QWidget):
    """``batchStepView``: the numbers of :meth:`Session.last_batch_step`. Automation: :attr:`matrices`
    (``{(layer, name): MatrixView}``), :attr:`loss_label`, :attr:`boundary_toggle`, :meth:`boundary_image`."""

    NAMES = ("batch input", "W before", "dL/dW", "ΔW", "dL/db")  # ΔW = W after − W before (−η·dL/dW with SGD)

    def __init__(self, session: Session, parent=None):
        super().__init__(parent, objectName="batchStepView")
        self.setAccessibleName("One-batch step")
        self.session = session
        self._lut = lookup_table_of(palettes.STANDARD)
        self.step: BatchStep | None = None
        self.matrices: dict[tuple[int, str], MatrixView] = {}
        # Lines broken by hand, not word-wrapped: see inspector_view (a wrapped label costs every relayout).
        self.loss_label = QLabel("Press F8 (Step one batch) to train one\nmini-batch and see every number of its\n"
                                 "step here.", objectName="batchLossLabel")
        self.loss_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.boundary_toggle = QPushButton("Showing: after the step", objectName="batchBoundaryToggle",
                                           checkable=True, enabled=False)
        self.boundary_toggle.setToolTip("Switch the small boundary between the weights before and after this step.")
        self.boundary_toggle.toggled.connect(lambda _: self._show_boundary())
        self.plot = pg.PlotWidget(objectName="batchBoundaryPlot")
        self.plot.setFixedSize(110, 100)
        self.plot.getPlotItem().setAspectLocked(True)
        self.plot.getPlotItem().hideAxis("left")
        self.plot.getPlotItem().hideAxis("bottom")
        self.heatmap = Heatmap(axisOrder="col-major")
        self.palette = palettes.STANDARD
        self.plot.addItem(self.heatmap)
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(self.palette.class_colours[1], width=2))  # a 1-D input's
        self.plot.addItem(self.curve)
        quiet_axes(self.plot.getPlotItem())
        self._images: dict[bool, np.ndarray] = {}
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        inner = QWidget()
        inner.setLayout(self.grid)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(inner)
        # The losses above the toggle and the small boundary: the side panel is narrow and tall.
        row = QHBoxLayout()
        row.addWidget(self.boundary_toggle, 0, Qt.AlignmentFlag.AlignTop)
        row.addStretch(1)
        row.addWidget(self.plot)
        top = QVBoxLayout()
        top.addWidget(self.loss_label)
        top.addLayout(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        session.events.connect("batch", self.show_step)
        session.events.connect("model", lambda: self.show_step(session.last_batch_step()))

    def show_step(self, step: BatchStep | None) -> None:
        self.step = step
        self.boundary_toggle.setEnabled(step is not None)
        if step is None:  # a new network (New, a scene, a file, an edit): nothing of the old one stays
            self.loss_label.setText("Press F8 (Step one batch) to train one\nmini-batch and see every number of its\n"
                                    "step here.")
            self._build(0)
            self._images.clear()
            self.heatmap.clear()
            self.curve.setData([], [])
            self.boundary_toggle.setChecked(False)
            return
        n = step.X.shape[0]
        self.loss_label.setText(
            f"Epoch {step.epoch}, batch {step.batch_index + 1}\n{n} points, η = {step.eta:g}\n"
            f"batch loss (summed): {step.loss_before:.6g}\n→ {step.loss_after:.6g} after the step "
            f"({step.loss_after - step.loss_before:+.3g})\nHover a cell for its exact value.")
        if len(self.matrices) != len(step.layers) * len(self.NAMES):
            self._build(len(step.layers))
        for k, layer in enumerate(step.layers):
            shown = (layer.input, layer.weight_before, layer.weight_grad, layer.weight_update,
                     layer.bias_grad.reshape(-1, 1))
            for name, matrix in zip(self.NAMES, shown, strict=True):
                self.matrices[(k, name)].set_matrix(matrix)
        s = self.session
        self._images = {after: boundary.image(model_from(step.blocks, flatten(step.parameters(after))), s.grid)
                        for after in (False, True)}
        self._show_boundary()

    def _build(self, layers: int) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # at once: the deletion waits for the event loop
                item.widget().deleteLater()
        self.matrices.clear()
        for k in range(layers):
            self.grid.addWidget(QLabel(f"Linear {k + 1}"), k, 0, Qt.AlignmentFlag.AlignTop)
            for j, name in enumerate(self.NAMES, 1):
                view = MatrixView(name, self._lut)
                self.matrices[(k, name)] = view
                self.grid.addWidget(view, k, j, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

    def set_palette(self, palette) -> None:
        """The boundary plot's palette (:mod:`gui.qt.plots.palette`) for the matrices and the small boundary."""
        self.palette, self._lut = palette, lookup_table_of(palette)
        for view in self.matrices.values():
            view.set_lut(self._lut)
        self._show_boundary()

    def boundary_image(self) -> np.ndarray | None:
        """The small boundary shown now (before the step when the toggle is down), indexed ``[x, y]``."""
        return self._images.get(not self.boundary_toggle.isChecked())

    def _show_boundary(self) -> None:
        image = self.boundary_image()
        self.boundary_toggle.setText("Showing: before the step" if self.boundary_toggle.isChecked()
                                     else "Showing: after the step")
        if image is None:
            return
        s = self.session
        x0, x1, y0, y1 = s.extent
        self.heatmap.setVisible(image.ndim == 2)
        self.curve.setVisible(image.ndim == 1)
        if image.ndim == 1:  # a 1-D input: the network's curve against x, before or after the step
            self.curve.setData(boundary.line(s.extent, image.shape[0])[:, 0].numpy(), image,
                               pen=pg.mkPen(self.palette.class_colours[1], width=2))
            self.plot.getPlotItem().vb.setRange(QRectF(x0, y0, x1 - x0, y1 - y0), padding=0.02)
            return
        if s.data.regression:  # the predicted value on the boundary plot's scale: the targets' reach
            limit = value_limit(s.data)
        else:  # one scale for before and after, so the two pictures compare (K classes: the winner's margin)
            limit = max(float(np.max([margins(i).max() for i in self._images.values()])), 1e-6)
        paint_boundary(self.heatmap, image, self.palette, limit, s.experiment.num_classes)
        self.heatmap.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
