"""Puts the views of the inside of the network into the window: the network view, the inspector
and the one-batch step as docks, the Step-one-batch action (F8) with its button, and Esc to leave
a unit shown in the boundary plot. The window calls :func:`install` once; nothing here holds state."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QPushButton

from .batch_step_view import BatchStepView
from .inspector_view import Inspector
from .network_view import NetworkView
from .session import PAUSED, RUNNING


def _dock(window, title: str, name: str, widget, tip: str) -> QDockWidget:
    dock = QDockWidget(title, window, objectName=name)
    dock.setWidget(widget)
    dock.setToolTip(tip)
    dock.toggleViewAction().setStatusTip(tip)
    window.view_menu.addAction(dock.toggleViewAction())
    return dock


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
    # A column beside the plots: the network (a few columns of up to 16 units) over the inspector,
    # the batch step a tab of the inspector. Beside, not under: the side panel and the plots keep
    # the window's whole height (a strip under them hid the side panel's lower controls).
    # The column runs down to the window's bottom edge (a dock under the plots stops beside it).
    window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks[0])
    window.splitDockWidget(docks[0], docks[1], Qt.Orientation.Vertical)
    window.tabifyDockWidget(docks[1], docks[2])
    docks[1].raise_()
    window.resizeDocks([docks[0]], [380], Qt.Orientation.Horizontal)
    window.resizeDocks([docks[0], docks[1]], [400, 420], Qt.Orientation.Vertical)

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
