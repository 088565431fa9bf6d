"""Puts the views of the inside of the network into the window: the network view, the inspector
and the one-batch step as docks, the Step-one-batch action (F8) with its button, and Esc to leave
a unit shown in the boundary plot. The window calls :func:`install` once; nothing here holds state."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QPushButton

from gui.model.session import PAUSED, RUNNING
from gui.qt.inside.batch_step_view import BatchStepView
from gui.qt.inside.inspector_view import Inspector
from gui.qt.inside.network_view import NetworkView


def _dock(window, title: str, name: str, widget, tip: str) -> QDockWidget:
    dock = QDockWidget(title, window, objectName=name)
    dock.setWidget(widget)
    dock.setToolTip(tip)
    dock.toggleViewAction().setStatusTip(tip)
    window.view_menu.addAction(dock.toggleViewAction())
    what = title.lower()
    name_title_buttons(dock, what, f"the {what} panel", "the View menu shows it")
    return dock


def name_title_buttons(dock: QDockWidget, what: str, panel: str, shown_by: str) -> None:
    """Accessible names and tooltips for a dock's own title-bar buttons (close and float)."""
    words = {"qt_dockwidget_closebutton": (f"Hide {what}", f"Hide {panel} ({shown_by})"),
             "qt_dockwidget_floatbutton": (f"Float {what}", f"Detach {panel} into a window of its own")}
    for button in dock.findChildren(QAbstractButton):
        name, tip = words.get(button.objectName(), (f"{what.capitalize()} dock button", f"A button of {panel}"))
        button.setAccessibleName(name)
        button.setToolTip(tip)


def install(window) -> None:
    """Add ``window.network_view``, ``window.inspector``, ``window.batch_step_view``,
    ``window.step_batch_action`` (F8) and the ``stepBatchButton`` to ``window``."""
    s = window.session
    window.network_view = NetworkView(s, window.boundary_plot)
    window.inspector = Inspector(s)
    window.batch_step_view = BatchStepView(s)
    window.view_menu.addSeparator()
    docks = (_dock(window, "Network", "networkDock", window.network_view,
                   "Every unit's output over the input plane; links coloured by the weights (red +, blue −)."),
             _dock(window, "Inspector", "inspectorDock", window.inspector,
                   "Training health per Linear layer: gradient and weight norms, update ratio, dead and "
                   "saturated units, weight histograms."),
             _dock(window, "Batch step", "batchStepDock", window.batch_step_view,
                   "Every number of one mini-batch's step (F8)."))
    window.network_dock, window.inspector_dock, window.batch_step_dock = docks
    # In the strip under the plots, beside the runs dock: the network, then the inspector; the batch
    # step opens beside them at the first F8. A column beside the plots read better, but the window
    # must fit 1024 pixels across (tests/gui/test_window_fits.py); drag a dock out to enlarge it.
    runs = getattr(window, "runs_dock", None)
    if runs is not None:
        window.splitDockWidget(runs, docks[0], Qt.Orientation.Horizontal)
    else:
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, docks[0])
    window.splitDockWidget(docks[0], docks[1], Qt.Orientation.Horizontal)
    window.splitDockWidget(docks[1], docks[2], Qt.Orientation.Horizontal)
    docks[2].hide()
    window.resizeDocks([docks[0], docks[1]], [380, 520], Qt.Orientation.Horizontal)

    tip = "Train exactly one mini-batch (the next in order), then pause; its numbers appear in Batch step (F8)"
    action = QAction("Step one &batch", window, statusTip=tip, toolTip=tip, objectName="stepBatchAction")
    action.setShortcut(QKeySequence("F8"))
    action.triggered.connect(lambda: _step_batch(window))
    actions = window.run_menu.actions()
    after = actions.index(window.step_action) + 1  # right after Step one epoch
    window.run_menu.insertAction(actions[after] if after < len(actions) else None, action)
    window.step_batch_action = action
    button = QPushButton("Step batch", objectName="stepBatchButton", toolTip=tip)
    button.setAccessibleName("Step one mini-batch")
    button.clicked.connect(action.trigger)
    window.run_panel.insert_button(button, after=window.run_panel.step_button)
    window.step_batch_button = button

    back = QAction("Show the network's output", window, objectName="showOutputAction")
    back.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    back.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    back.triggered.connect(lambda: window.network_view.select(None))
    window.addAction(back)

    def update(*_):
        on = not s.validate() and (not s.running or s.state in (PAUSED, RUNNING))
        action.setEnabled(on)
        button.setEnabled(on)
        back.setEnabled(window.network_view.selected is not None)
    for name in ("state", "model", "experiment"):
        s.events.connect(name, update)
    window.network_view.selection_changed = update
    update()


def _step_batch(window) -> None:
    window.batch_step_dock.show()
    window.batch_step_dock.raise_()
    window.session.step_batch()


def wait(window) -> None:
    """Let the views' background work end (closing the window)."""
    window.network_view.background.wait()
    window.inspector.background.wait()
