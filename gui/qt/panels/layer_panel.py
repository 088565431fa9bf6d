"""The block stack: a list of Linear / ReLU / Tanh / Sigmoid blocks and the buttons that edit it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.model.experiment import WIDTH_MAX, linear
from gui.qt.window.wheel_guard import ignore_wheel_unless_focused

BLOCK_TIPS = {
    "Linear": "Fully connected layer y = xWᵀ + b (Xavier-initialised). Its input width follows the block above.",
    "ReLU": "ReLU(x) = max(0, x): keeps positive values, zeroes the rest.",
    "Tanh": "tanh(x): squashes values into (−1, 1). A good last block for ±1-style targets.",
    "Sigmoid": "σ(x) = 1 / (1 + e⁻ˣ): squashes values into (0, 1); σ′ = σ(1 − σ).",
}


class LayerPanel(QWidget):
    """Edits a list of block dicts; emits ``blocksChanged(list)`` after every edit."""

    blocksChanged = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.input_width = 2  # x1 and x2 (set_input_width)
        self.list = QListWidget(objectName="layerList")
        self.list.setMinimumHeight(150)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setToolTip("The network, input at the top. Drag blocks to reorder them; select a Linear "
                             "block to change its width below.")
        self.list.model().rowsMoved.connect(self._changed)
        self.list.currentRowChanged.connect(self._selection_changed)

        def button(name, text, tip, slot):
            widget = QPushButton(text, objectName=name, toolTip=tip)
            widget.clicked.connect(slot)
            return widget

        self.width_spin = QSpinBox(objectName="linearWidthSpin", minimum=1, maximum=WIDTH_MAX, value=25)
        self.width_spin.setToolTip("Width (number of outputs) of the next Linear block you add.")
        # keyboardTracking off: typing "3000" rebuilds the network once, when the edit is done, not
        # at each keystroke (a 3000-wide network takes a while to draw).
        self.selected_width_spin = QSpinBox(objectName="selectedWidthSpin", minimum=0, maximum=WIDTH_MAX,
                                            keyboardTracking=False)
        self.selected_width_spin.setSpecialValueText("–")  # shown (at 0) while no Linear block is selected
        self.selected_width_spin.setToolTip("Width of the selected Linear block.")
        self.selected_width_spin.valueChanged.connect(self._edit_selected_width)
        self.add_linear = button("addLinearButton", "+ Linear", "Add a Linear block of the width on the right, "
                                 "after the selected block (or at the end).", self.add_linear_block)
        self.add_relu = button("addReluButton", "+ ReLU", "Add a ReLU block after the selected block.",
                               lambda: self.add_block({"type": "ReLU"}))
        self.add_tanh = button("addTanhButton", "+ Tanh", "Add a Tanh block after the selected block.",
                               lambda: self.add_block({"type": "Tanh"}))
        self.add_sigmoid = button("addSigmoidButton", "+ Sigmoid", "Add a Sigmoid block after the selected block.",
                                  lambda: self.add_block({"type": "Sigmoid"}))
        self.remove = button("removeLayerButton", "Remove", "Remove the selected block (Delete in the block list).",
                             self.remove_block)
        self.up = button("moveLayerUpButton", "Up", "Move the selected block up (Alt+Up in the block list).",
                         lambda: self.move(-1))
        self.down = button("moveLayerDownButton", "Down", "Move the selected block down (Alt+Down in the block "
                           "list).", lambda: self.move(1))
        # The keys act only while the block list has the focus: the same keys edit a number or pick
        # a dataset elsewhere, and a window-wide shortcut there removed or moved a block.
        self.shortcuts = {}
        for keys, slot in (("Delete", self.remove_block), ("Alt+Up", lambda: self.move(-1)),
                           ("Alt+Down", lambda: self.move(1))):
            shortcut = QShortcut(QKeySequence(keys), self.list, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[keys] = shortcut
        for widget in (self.remove, self.up, self.down):
            # A click hands the focus (back) to the block list, so its keys go on working there.
            widget.clicked.connect(lambda: self.list.setFocus(Qt.FocusReason.OtherFocusReason))
        ignore_wheel_unless_focused(self.width_spin, self.selected_width_spin)
        self.validation = QLabel(objectName="validationLabel", wordWrap=True)
        self.validation.setStyleSheet("color: #b7410e;")
        self.validation.setToolTip("What keeps the network from training, and how to fix it.")

        grid = QGridLayout()
        grid.addWidget(self.add_linear, 0, 0)
        grid.addWidget(QLabel("width", buddy=self.width_spin), 0, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.width_spin, 0, 2)
        grid.addWidget(self.add_relu, 1, 0)
        grid.addWidget(self.add_tanh, 1, 1)
        grid.addWidget(self.add_sigmoid, 1, 2)
        grid.addWidget(self.remove, 2, 0)
        grid.addWidget(self.up, 2, 1)
        grid.addWidget(self.down, 2, 2)
        grid.addWidget(QLabel("Selected Linear width", buddy=self.selected_width_spin), 3, 0, 1, 2)
        grid.addWidget(self.selected_width_spin, 3, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(grid)
        layout.addWidget(self.validation)
        self._selection_changed(-1)

    # -- reading and showing ---------------------------------------------------------
    def blocks(self) -> list[dict]:
        return [dict(self.list.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.list.count())]

    def set_blocks(self, blocks: list[dict]) -> None:
        self.list.clear()
        for block in blocks:
            self.list.addItem(QListWidgetItem())
            self.list.item(self.list.count() - 1).setData(Qt.ItemDataRole.UserRole, dict(block))
        self._relabel()

    def set_input_width(self, width: int) -> None:
        """The network's input width (one per input feature), shown on the first Linear's row."""
        if width != self.input_width:
            self.input_width = width
            self._relabel()

    def set_problems(self, problems: list[str]) -> None:
        self.validation.setText("\n".join(problems))

    def _relabel(self) -> None:
        width = self.input_width
        for row in range(self.list.count()):
            item = self.list.item(row)
            block = item.data(Qt.ItemDataRole.UserRole)
            if block["type"] == "Linear":
                item.setText(f"Linear   {width} → {block['width']}")
                width = block["width"]
            else:
                item.setText(block["type"])
            item.setToolTip(BLOCK_TIPS.get(block["type"], ""))

    # -- editing -----------------------------------------------------------------------
    def add_linear_block(self) -> None:
        self.add_block(linear(self.width_spin.value()))

    def add_block(self, block: dict) -> None:
        row = self.list.currentRow() + 1 if self.list.currentRow() >= 0 else self.list.count()
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, dict(block))
        self.list.insertItem(row, item)
        self.list.setCurrentRow(row)
        self._changed()

    def remove_block(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            self.list.takeItem(row)
            self._changed()

    def move(self, offset: int) -> None:
        row = self.list.currentRow()
        target = row + offset
        if row < 0 or not 0 <= target < self.list.count():
            return
        self.list.insertItem(target, self.list.takeItem(row))
        self.list.setCurrentRow(target)
        self._changed()

    def _edit_selected_width(self, width: int) -> None:
        item = self.list.currentItem()
        block = item.data(Qt.ItemDataRole.UserRole) if item else None
        if block and block["type"] == "Linear" and block["width"] != width:
            item.setData(Qt.ItemDataRole.UserRole, linear(width))
            self._changed()

    def _selection_changed(self, row: int) -> None:
        item = self.list.item(row) if row >= 0 else None
        block = item.data(Qt.ItemDataRole.UserRole) if item else None
        is_linear = bool(block) and block["type"] == "Linear"
        spin = self.selected_width_spin
        spin.blockSignals(True)
        spin.setEnabled(is_linear)
        spin.setMinimum(1 if is_linear else 0)
        spin.setValue(block["width"] if is_linear else 0)
        spin.blockSignals(False)
        for widget in (self.remove, self.up, self.down):
            widget.setEnabled(item is not None)

    def _changed(self, *_) -> None:
        self._relabel()
        self._selection_changed(self.list.currentRow())
        self.blocksChanged.emit(self.blocks())
