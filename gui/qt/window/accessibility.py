"""Accessibility basics for the whole window: accessible names and a tab order that follows the layout.

:func:`prepare` walks the window's widgets in layout order (boxes, forms, grids and splitters in
reading order; scroll areas and docks included) and chains every focusable control in that order
with ``setTabOrder``. A control without an accessible name gets one from what a sighted user
reads: its text, its label (a buddy or a form row's label), else its tooltip's first sentence.
It is generic, so controls added later by other views are covered once they call it again
(``window.update_tab_order()``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QScrollBar,
    QSplitter,
    QTextEdit,
    QWidget,
)

CONTROLS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QAbstractItemView, QLineEdit, QTextEdit)


def is_control(widget: QWidget) -> bool:
    """A widget a person operates (its inner parts, like a spin box's line edit, are not separate)."""
    if not isinstance(widget, CONTROLS):
        return False
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox)):
            return False
        if isinstance(widget, QScrollBar) and isinstance(parent, QAbstractScrollArea):
            return False  # a part of its scroll area (a list, a text view, a plot)
        parent = parent.parentWidget()
    return True


def _layout_items(layout: QLayout) -> list:
    if isinstance(layout, QFormLayout):
        items = []
        for row in range(layout.rowCount()):
            for role in (QFormLayout.ItemRole.LabelRole, QFormLayout.ItemRole.FieldRole,
                         QFormLayout.ItemRole.SpanningRole):
                item = layout.itemAt(row, role)
                if item is not None:
                    items.append(item)
        return items
    if isinstance(layout, QGridLayout):
        positions = [(layout.getItemPosition(i)[:2], i) for i in range(layout.count())]
        return [layout.itemAt(i) for _pos, i in sorted(positions)]
    return [layout.itemAt(i) for i in range(layout.count())]


def _children(widget: QWidget) -> list[QWidget]:
    """``widget``'s child widgets in reading order."""
    if isinstance(widget, QMainWindow):
        ordered = [widget.centralWidget()]
        docks = widget.findChildren(QDockWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
        ordered += sorted(docks, key=lambda d: (d.geometry().x(), d.geometry().y()))
        return [w for w in ordered if w is not None]
    if isinstance(widget, QScrollArea):
        return [widget.widget()] if widget.widget() is not None else []
    if isinstance(widget, QSplitter):
        return [widget.widget(i) for i in range(widget.count())]
    ordered: list[QWidget] = []

    def walk(layout: QLayout) -> None:
        for item in _layout_items(layout):
            if item.widget() is not None:
                ordered.append(item.widget())
            elif item.layout() is not None:
                walk(item.layout())

    if widget.layout() is not None:
        walk(widget.layout())
    if isinstance(widget, QDockWidget) and widget.widget() is not None and widget.widget() not in ordered:
        ordered.append(widget.widget())
    extra = [c for c in widget.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
             if c not in ordered and not c.isWindow()]
    return ordered + extra


def reading_order(root: QWidget) -> list[QWidget]:
    """Every control under ``root`` in the order a reader meets it in the layout."""
    found: list[QWidget] = []
    seen: set[QWidget] = set()

    def visit(widget: QWidget) -> None:
        if widget in seen:
            return
        seen.add(widget)
        if is_control(widget):
            found.append(widget)
            if isinstance(widget, (QAbstractSpinBox, QComboBox, QAbstractItemView, QTextEdit)):
                return
        for child in _children(widget):
            visit(child)

    visit(root)
    return found


def _label_for(widget: QWidget) -> str:
    """The text a sighted user reads as ``widget``'s name."""
    text = widget.text() if isinstance(widget, QAbstractButton) else ""
    if text:
        return text.replace("&", "")
    window = widget.window()
    for label in window.findChildren(QLabel):
        if label.buddy() is widget and label.text():
            return label.text().replace("&", "").rstrip(":")
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    if isinstance(layout, QFormLayout):
        label = layout.labelForField(widget)
        if isinstance(label, QLabel) and label.text():
            return label.text().replace("&", "").rstrip(":")
    tip = widget.toolTip().split("\n")[0]
    if tip:
        return tip.split(". ")[0].split(": ")[0].rstrip(".")
    return widget.objectName()


def prepare(window: QWidget) -> list[QWidget]:
    """Give every control an accessible name and chain the tab order in reading order; returns the order."""
    order = [w for w in reading_order(window) if w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    for widget in reading_order(window):
        if not widget.accessibleName():
            widget.setAccessibleName(_label_for(widget))
    for first, second in zip(order, order[1:], strict=False):
        QWidget.setTabOrder(first, second)
    return order
