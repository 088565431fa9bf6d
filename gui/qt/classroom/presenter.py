"""Presenter mode: legible from the back row, colour-blind safe, locked, driven by the keyboard.

On: full screen, every text at least ``FONT_PT`` points (widgets by a style sheet; the plots'
axes, ticks and legends by pyqtgraph's own calls), loss pens ``PEN_PX`` wide, data points
``POINT_PX`` across, a smoothly scaled heatmap, the colour-blind-safe palette (the presenter's
own palette setting), and the controls locked: only Run/Pause, Step, batch step, the timeline,
the scene buttons, the side panel's views (Ctrl+1 to Ctrl+4) and Exit respond, under a visible lock
indicator. Ctrl+Shift+L unlocks. The side panel is hidden until a view is raised, and never takes
the plots' minimum (gui/qt/inside/inside_docks.py); leaving the mode gives back the panel as it was.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from gui.qt.inside import inside_docks

FONT_PT = 18
PEN_PX = 3
POINT_PX = 10
# The inspector's table holds a row a Linear layer at any text size (its own height is for the default size).
STYLE = (f"* {{ font-size: {FONT_PT}pt; }} QCheckBox::indicator {{ width: {FONT_PT}pt; height: {FONT_PT}pt; }}"
         f" QTableWidget#inspectorTable {{ max-height: {7 * FONT_PT * 2}px; }}")
# The controls that stay active while locked (objectNames), and the actions (window attributes).
UNLOCKED = {"runButton", "pauseButton", "stepButton", "stepBatchButton", "timelineSlider", "nextSceneButton",
            "previousSceneButton", "exitPresenterButton", "sceneNotes", "unlockButton"}
UNLOCKED_ACTIONS = ("run_action", "pause_action", "step_action", "step_batch_action")
CONTROLS = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QAbstractItemView, QLineEdit)


def top_room(plot_item, points: float) -> None:
    """Room above a plot's top tick label (without it, half of the label stands above the plot and is cut off)."""
    pixels = points * QApplication.primaryScreen().logicalDotsPerInch() / 72
    plot_item.layout.setContentsMargins(0, pixels * 0.6, 4, 0)


class LockBar(QWidget):
    """The visible lock indicator, with Unlock and Exit buttons."""

    def __init__(self, parent=None):
        super().__init__(parent, objectName="lockBar")
        self.label = QLabel("Presenter mode · locked", objectName="lockIndicator")
        self.label.setToolTip("Only Run/Pause, Step, batch step, the timeline and the scenes respond. "
                              "Ctrl+Shift+L unlocks the other controls.")
        self.label.setAccessibleName("Presenter mode lock indicator")
        self.unlock_button = QPushButton("Unlock", objectName="unlockButton",
                                         toolTip="Unlock every control (Ctrl+Shift+L); again locks them.")
        self.exit_button = QPushButton("Exit (Esc)", objectName="exitPresenterButton",
                                       toolTip="Leave presenter mode (Esc).")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.unlock_button)
        layout.addWidget(self.exit_button)
        self.setStyleSheet("QLabel#lockIndicator { font-weight: bold; }")
        self.setVisible(False)

    def show_lock(self, locked: bool) -> None:
        self.label.setText("Presenter mode · locked" if locked else "Presenter mode · unlocked")
        self.unlock_button.setText("Unlock" if locked else "Lock")


class Presenter(QObject):
    """Presenter mode of ``window`` (a :class:`~gui.qt.window.main_window.MainWindow`); see the module docstring."""

    def __init__(self, window, lock_bar: LockBar, keys: dict):
        super().__init__(window)
        self.window, self.bar = window, lock_bar
        self.on = self.locked = False
        self._was_maximized = False
        self._dock_state = None
        self._stage_shares = {}
        self._locked_widgets: list[QWidget] = []
        self._locked_actions: list[QAction] = []
        self.keys = []
        for shortcut, slot in keys.items():
            act = QAction(window, shortcut=QKeySequence(shortcut), enabled=False)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            window.addAction(act)
            self.keys.append(act)
        lock_bar.unlock_button.clicked.connect(lambda: self.set_locked(not self.locked))
        lock_bar.exit_button.clicked.connect(lambda: window.set_presenter_mode(False))
        for plot in (window.loss_plot, window.boundary_plot):
            top_room(plot.getPlotItem(), QApplication.font().pointSizeF())
        for name in ("state", "model", "experiment", "finished", "runs"):  # views re-enable controls then
            window.session.events.connect(name, lambda *_: self._relock())

    # -- on and off ------------------------------------------------------------------------
    def set_on(self, on: bool, full_screen: bool = True) -> None:
        if on == self.on:
            return
        self.on = on
        w = self.window
        if on:
            self._was_maximized = w.isMaximized()
            # The side panel leaves its room to the plots; Ctrl+1 to Ctrl+4 raise a view in it, as wide
            # as the plots' minimum allows. Leaving the mode gives back the panel as it was: its view,
            # its width, and so the plots' sizes.
            self._dock_state = w.saveState()
            self._stage_shares = dict(w.plots_splitter.shares)
            inside_docks.set_panel_shown(w, False)
            w.setStyleSheet(STYLE)
            if full_screen:
                w.showFullScreen()
        else:
            w.setStyleSheet("")
            if w.isFullScreen():
                w.showMaximized() if self._was_maximized else w.showNormal()
        self._style_plots(on)
        for view in w.findChildren(QWidget):  # other views restyle themselves (e.g. thicker network links)
            if callable(getattr(view, "set_presenter_style", None)):
                view.set_presenter_style(on)
        w.classroom.place_lesson(column=on)
        if not on:
            size = w.size()
            w.plots_splitter.shares = self._stage_shares
            w.restoreState(self._dock_state)
            w.layout().activate()
            w.resize(size)  # the docks shown again may still have presenter mode's minimum for a moment
            inside_docks.panel_restored(w)
        for act in self.keys:
            act.setEnabled(on)
        self.bar.setVisible(on)
        self.set_locked(on)

    def _style_plots(self, on: bool) -> None:
        w = self.window
        size = FONT_PT if on else QApplication.font().pointSizeF()
        font = QFont(QApplication.font())
        font.setPointSizeF(size)
        for plot in (w.loss_plot, w.boundary_plot):
            item = plot.getPlotItem()
            for name in ("left", "bottom"):
                axis = item.getAxis(name)
                axis.setStyle(tickFont=font if on else None)
                axis.setTickDensity(0.5 if on else 1.0)  # pyqtgraph spaces ticks for small text
                axis.setLabel(axis.labelText, **{"font-size": f"{size:g}pt"})
            top_room(item, size)
            if item.legend is not None:
                legend_size = f"{size:g}pt" if on else item.legend.opts.get("labelTextSize", "9pt")
                for _sample, label in item.legend.items:
                    label.setText(label.text, size=legend_size)
                    label.setMinimumHeight(0)
                    label.setMaximumHeight(label.itemRect().height() + 2)
                item.legend.updateSize()
        bar = w.boundary_plot.colour_bar
        bar.axis.setStyle(tickFont=font if on else None)
        bar.axis.setWidth(int(3.5 * size * QApplication.primaryScreen().logicalDotsPerInch() / 72) if on else 45)
        label = bar.getAxis("left")
        label.setLabel(label.labelText, **{"font-size": f"{size:g}pt"})
        pen = PEN_PX if on else 1
        w.loss_plot.train_curve.setPen(pg.mkPen("#1f5fa8", width=pen))
        w.loss_plot.test_curve.setPen(pg.mkPen("#d9480f", width=pen))
        w.classroom.speed.curve.set_width(2 if on else 1)
        w.boundary_plot.train_points.setSize(POINT_PX if on else 6)
        w.boundary_plot.test_points.setSize(POINT_PX + 1 if on else 7)
        w.boundary_plot.heatmap.smooth = on
        w.boundary_plot.heatmap.update()

    # -- the lock --------------------------------------------------------------------------
    def set_locked(self, locked: bool) -> None:
        self._unlock()
        self.locked = locked and self.on
        self.bar.show_lock(self.locked)
        # Locked, the side panel's settings and the plots' check boxes cannot change: they give
        # their room to the plots (the lesson's notes take the side panel's place).
        w = self.window
        for widget in (w.side_panel, w.log_check, w.cursor_label, w.boundary_plot.auto_range_check):
            widget.setVisible(not self.locked)
        if self.locked:
            self._lock()
        else:
            self.window.refresh_controls()

    def _lock(self) -> None:
        w = self.window
        for widget in w.findChildren(QWidget):
            if isinstance(widget, CONTROLS) and widget.objectName() not in UNLOCKED and widget.isEnabled() \
                    and not self._inside_allowed(widget):
                widget.setEnabled(False)
                self._locked_widgets.append(widget)
        allowed = {getattr(w, name, None) for name in UNLOCKED_ACTIONS} | {w.classroom.presenter_action,
                                                                          w.classroom.lock_action}
        allowed |= {w.side_panel_action, *w.view_actions.values()}  # the side panel's views are shown, not changed
        for menu_action in w.menuBar().actions():
            menu = menu_action.menu()
            for act in (menu.actions() if menu is not None else []):
                if act not in allowed and act.isEnabled() and not act.isSeparator() and act.menu() is None:
                    act.setEnabled(False)
                    self._locked_actions.append(act)

    @staticmethod
    def _inside_allowed(widget: QWidget) -> bool:
        parent = widget.parentWidget()
        while parent is not None:
            if parent.objectName() in UNLOCKED:
                return True  # e.g. the scroll bars of the scene notes
            parent = parent.parentWidget()
        return False

    def _unlock(self) -> None:
        for widget in self._locked_widgets:
            widget.setEnabled(True)
        for act in self._locked_actions:
            act.setEnabled(True)
        self._locked_widgets, self._locked_actions = [], []

    def _relock(self) -> None:
        if self.locked:
            self._unlock()
            self.window.refresh_controls()
            self._lock()
