"""Spin boxes and combo boxes take the mouse wheel only when they have the keyboard focus.

Qt lets a wheel turn over any spin box or combo box change its value, focused or not. In the
side panel, itself a scroll area, that would turn "scroll down the panel" into "change the dataset
and throw away 1,000 trained epochs". Guarded widgets pass an unfocused
wheel on to their parents, so the panel scrolls; click or tab into one to wheel its value.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """An event filter: a wheel event over an unfocused widget goes to its parent instead."""

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            # Ignored and filtered: the widget never sees it, and QApplication offers it to the
            # parent next, as it does with any wheel event a widget ignores.
            event.ignore()
            return True
        return False


def ignore_wheel_unless_focused(*widgets: QWidget) -> None:
    """Guard ``widgets``: they take the wheel only with the focus, and the wheel does not give it.

    Idempotent: a widget guarded twice has one guard.
    """
    for widget in widgets:
        if widget.findChild(WheelGuard, "wheelGuard", Qt.FindChildOption.FindDirectChildrenOnly) is None:
            guard = WheelGuard(widget)  # a child: it lives exactly as long as the widget
            guard.setObjectName("wheelGuard")
            widget.installEventFilter(guard)
        # StrongFocus: click or Tab, but not the wheel (spin boxes and combos default to WheelFocus).
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)


def guard_spin_boxes_and_combos(container: QWidget) -> list[QWidget]:
    """Guard every spin box and combo box inside ``container``; return them."""
    widgets = [w for kind in GUARDED for w in container.findChildren(kind)]
    ignore_wheel_unless_focused(*widgets)
    return widgets
