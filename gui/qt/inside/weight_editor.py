"""The network view's small editor of one weight or bias: its exact value; Enter applies, Esc cancels.

A click on a link opens it for that weight, a double click on a unit for its bias (a single click
keeps showing the unit in the boundary plot). It calls the session's :meth:`set_weight` or
:meth:`set_bias` (gui/model/hand_edits.py says when the edit is made); a value that is not a number, or
an edit the session refuses, is said in the status line and the editor stays open.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QLineEdit


class WeightEditor(QLineEdit):
    """``weightEditor``: :attr:`target` is ``(layer, out, in_)`` (``in_`` None: the bias) while it is open."""

    def __init__(self, view):
        super().__init__(view, objectName="weightEditor")
        self.setAccessibleName("Weight editor")
        self.setToolTip("The exact value of the weight or bias clicked: type a value, Enter applies it, Esc cancels.")
        self.view = view
        self.target: tuple[int, int, int | None] | None = None
        self.returnPressed.connect(self.apply)
        self.hide()

    def open(self, target: tuple[int, int, int | None], value: float, at: QPointF, what: str) -> None:
        """Show ``value`` (exactly: the shortest text that reads back to it) for ``target`` near ``at``."""
        self.target = target
        self.setText(repr(float(value)))
        self.setToolTip(f"{what}: type a value, Enter applies it, Esc cancels.")
        width = max(120, self.fontMetrics().horizontalAdvance("-0.0000000000000000") + 12)
        self.resize(width, self.sizeHint().height())
        x = min(max(0.0, at.x() - width / 2), max(0.0, self.view.width() - width))
        y = min(max(0.0, at.y() + 6), max(0.0, self.view.height() - self.height()))
        self.move(int(x), int(y))
        self.show()
        self.raise_()
        self.setFocus()
        self.selectAll()
        self.view.session.events.emit("status", f"{what}: type a value, Enter applies it, Esc cancels.")

    def apply(self) -> bool:
        """Enter: set the typed value; True when the session took it (the editor closes)."""
        if self.target is None:
            return False
        text = self.text().strip()
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.view.session.events.emit("status", f"{text[:40]!r} is not a finite number: type a value such as "
                                          "0.5 or -1e-3.")
            return False
        layer, out, in_ = self.target
        try:
            if in_ is None:
                self.view.set_bias(layer, out, value)
            else:
                self.view.set_weight(layer, out, in_, value)
        except ValueError as error:
            self.view.session.events.emit("status", f"The edit was refused: {error}.")
            return False
        self.cancel()
        return True

    def cancel(self) -> None:
        """Esc: close without a change."""
        self.target = None
        self.hide()
        self.view.setFocus()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Escape:
            event.accept()  # Esc is the editor's, not the window's shortcut (which leaves a unit shown)
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            event.accept()
            return
        super().keyPressEvent(event)
