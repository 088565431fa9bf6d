"""Stray input cannot throw training away (issue 9, items 5 and 6).

- The mouse wheel over an unfocused spin box or combo box scrolls the panel under it instead of
  changing the value (a changed width or dataset wipes every trained epoch).
- Delete, Alt+Up and Alt+Down edit the network only while the block list has the focus.
"""

from __future__ import annotations

import pytest
from gui_helpers import layer_list
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.qt.window.wheel_guard import WheelGuard, guard_spin_boxes_and_combos, ignore_wheel_unless_focused


def wheel(widget: QWidget, notches: int = -1) -> None:
    """One wheel turn over the middle of ``widget`` (negative: towards the user), through the window
    system as a real wheel arrives: spontaneous, so Qt offers it to the parents when it is ignored."""
    top = widget.window()
    QTest.wheelEvent(top.windowHandle(), QPointF(widget.mapTo(top, widget.rect().center())), QPoint(0, 120 * notches))
    QApplication.processEvents()


def focus(qtbot, widget: QWidget) -> None:
    widget.window().activateWindow()
    widget.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=5000)


@pytest.fixture
def panel(qtbot):
    """A short scroll area over a tall column: a spin box, a double spin box and a combo box at its top."""
    area = QScrollArea(widgetResizable=True)
    column = QWidget()
    layout = QVBoxLayout(column)
    spin = QSpinBox(minimum=1, maximum=100, value=25)
    double = QDoubleSpinBox(minimum=0.0, maximum=1.0, value=0.5, singleStep=0.1)
    combo = QComboBox()
    combo.addItems(["Disc", "XOR", "Spiral"])
    elsewhere = QLineEdit(objectName="elsewhere")
    for widget in (elsewhere, spin, double, combo):
        layout.addWidget(widget)
    layout.addSpacing(2000)
    area.setWidget(column)
    area.resize(200, 200)
    qtbot.addWidget(area)
    area.show()
    qtbot.waitExposed(area)
    ignore_wheel_unless_focused(spin, double, combo)
    focus(qtbot, elsewhere)
    return area, spin, double, combo


def test_an_unfocused_wheel_scrolls_the_panel_and_changes_nothing(panel):
    area, spin, double, combo = panel
    scroll = area.verticalScrollBar()
    for widget in (spin, double, combo):
        scroll.setValue(0)
        wheel(widget)
        assert scroll.value() > 0, f"the panel did not scroll under {type(widget).__name__}"
    assert (spin.value(), double.value(), combo.currentText()) == (25, 0.5, "Disc")
    assert QApplication.focusWidget().objectName() == "elsewhere"  # the wheel does not take the focus


def test_a_focused_control_takes_the_wheel(panel, qtbot):
    area, spin, double, combo = panel
    focus(qtbot, spin)
    wheel(spin)
    assert spin.value() == 24
    focus(qtbot, combo)
    wheel(combo)
    assert combo.currentText() == "XOR"
    assert area.verticalScrollBar().value() == 0


def test_guarded_controls_take_the_focus_by_click_or_tab_only(panel):
    _, spin, double, combo = panel
    assert {w.focusPolicy() for w in (spin, double, combo)} == {Qt.FocusPolicy.StrongFocus}


def test_guarding_twice_installs_one_guard(panel):
    _, spin, _, _ = panel
    ignore_wheel_unless_focused(spin)
    assert len(spin.findChildren(WheelGuard)) == 1


def test_the_layer_panels_width_spins_ignore_an_unfocused_wheel(window, qtbot):
    rows = layer_list(window)
    rows.setCurrentRow(0)  # Linear 2 → 25
    selected = window.layers.selected_width_spin
    assert selected.value() == 25 and selected.isEnabled()
    focus(qtbot, window.settings_panel.eta_spin)
    blocks = window.layers.blocks()
    for spin in (selected, window.layers.width_spin):
        before = spin.value()
        wheel(spin)
        assert spin.value() == before
    assert window.layers.blocks() == blocks == window.session.experiment.blocks
    focus(qtbot, selected)
    wheel(selected)
    assert selected.value() == 24 and window.session.experiment.blocks[0]["width"] == 24


def test_the_side_panel_scrolls_over_the_windows_controls_once_guarded(window, qtbot):
    window.resize(1024, 640)
    guard_spin_boxes_and_combos(window)  # the one call the window makes after building its widgets
    focus(qtbot, window.layers.list)
    combo = window.findChild(QComboBox, "datasetCombo")
    area = next(a for a in window.findChildren(QScrollArea) if a.isAncestorOf(combo))
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0, timeout=5000)
    for widget in (combo, window.findChild(QSpinBox, "batchSizeSpin"), window.findChild(QDoubleSpinBox, "etaSpin")):
        value = widget.currentText() if widget is combo else widget.value()
        wheel(widget)
        assert (widget.currentText() if widget is combo else widget.value()) == value
    assert area.verticalScrollBar().value() > 0
    assert window.session.experiment.dataset == "Disc"


# -- keyboard shortcuts of the block list --------------------------------------------------------
def press(qtbot, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(widget, key, modifier)
    # A push button's own shortcut clicks it 100 ms later (animateClick): give any such click its
    # time, or "nothing happened" would prove nothing.
    qtbot.wait(250)


BLOCK_KEYS = [(Qt.Key.Key_Delete, Qt.KeyboardModifier.NoModifier), (Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier),
              (Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)]


@pytest.mark.parametrize("elsewhere", ["etaSpin", "datasetCombo", "seedSpin"])
def test_block_keys_do_nothing_while_the_focus_is_elsewhere(window, qtbot, elsewhere):
    layer_list(window).setCurrentRow(2)
    blocks = window.layers.blocks()
    widget = window.findChild(QWidget, elsewhere)
    focus(qtbot, widget)
    for key, modifier in BLOCK_KEYS:
        press(qtbot, widget, key, modifier)
        assert window.layers.blocks() == blocks == window.session.experiment.blocks, (key, modifier)


def test_block_keys_act_in_the_block_list(window, qtbot):
    rows = layer_list(window)
    rows.setCurrentRow(2)  # Linear 25 → 25
    focus(qtbot, rows)
    blocks = window.layers.blocks()
    press(qtbot, rows, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert rows.currentRow() == 1 and window.layers.blocks()[1] == blocks[2]
    press(qtbot, rows, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert rows.currentRow() == 2 and window.layers.blocks() == blocks
    press(qtbot, rows, Qt.Key.Key_Delete)
    assert window.layers.blocks() == blocks[:2] + blocks[3:] == window.session.experiment.blocks


def test_the_buttons_keep_their_keys_in_the_tooltips_and_hand_the_focus_to_the_list(window, qtbot):
    rows = layer_list(window)
    rows.setCurrentRow(2)
    focus(qtbot, rows)
    for name, keys in (("removeLayerButton", "Delete"), ("moveLayerUpButton", "Alt+Up"),
                       ("moveLayerDownButton", "Alt+Down")):
        assert keys in window.findChild(QWidget, name).toolTip()
    qtbot.mouseClick(window.findChild(QWidget, "moveLayerUpButton"), Qt.MouseButton.LeftButton)
    assert rows.currentRow() == 1 and rows.hasFocus()
    press(qtbot, rows, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert rows.currentRow() == 0

