"""A holder for a label whose text changes at every message of a run (the epoch count, the metrics line).

Qt answers ``QLabel.setText`` on a label in a layout by laying out the window again: the label's
layout is invalidated, and its size hint travels up through every layout to the main window. Ten
times a second that costs the GUI thread 3 ms a run of 1,000 epochs, while it holds the GIL the
training thread needs (benchmarks/bench_gui.py). In a :class:`QuietLabel` the label's parent has no
layout, so a new text only asks the holder, which grows (and lays out the window once) when the text
needs more room than it has, and otherwise keeps its size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import QLabel, QWidget


class QuietLabel(QWidget):
    """Shows ``label`` (still found as itself: its objectName, ``text()``) at the holder's full size.

    The holder's size hint fits the label's text so far and only grows: a word-wrapped label keeps
    the height of its most lines at the current width, another label the width of its longest text.
    A new font (presenter mode) or a new width measures again."""

    def __init__(self, label: QLabel, parent=None):
        super().__init__(parent)
        self.label = label
        label.setParent(self)
        label.installEventFilter(self)  # a font set on the label itself
        self.setSizePolicy(label.sizePolicy())
        self._hint = QSize(0, 0)
        self._wrap_width = 0
        self._fit(shrink=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self._hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        if self.label.wordWrap():
            return QSize(self.label.minimumSizeHint().width(), self._hint.height())
        return self._hint

    def _needed(self, measure_width: bool) -> QSize:
        label = self.label
        if not label.wordWrap():
            return label.sizeHint().expandedTo(label.minimumSize())
        if measure_width or not self._wrap_width:
            # A word-wrapped label's size hint lays its text out at several widths (60 us): only with a new font.
            self._wrap_width = label.sizeHint().expandedTo(label.minimumSize()).width()
        width = self.width() if self.width() > 0 else self._wrap_width
        return QSize(self._wrap_width, max(label.heightForWidth(width), label.fontMetrics().height()))

    def _fit(self, shrink: bool = False) -> None:
        needed = self._needed(measure_width=shrink)
        hint = needed if shrink else self._hint.expandedTo(needed)
        if hint != self._hint:
            self._hint = hint
            self.updateGeometry()  # the one layout of the window a longer text costs

    def event(self, event) -> bool:
        # The label's setText posts a LayoutRequest here, as its parent has no layout.
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit()
            return True
        return super().event(event)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self.label and event.type() == QEvent.Type.FontChange:
            self._fit(shrink=True)
        return False

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._fit()  # texts set while hidden posted nothing here

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        if self.label.wordWrap() and event.size().width() != event.oldSize().width():
            self._fit(shrink=True)  # as many lines as this width needs
