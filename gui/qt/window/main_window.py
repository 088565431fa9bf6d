"""The playground's main window: lays out the views of one :class:`~gui.model.session.Session` and its menus.

The window holds no run state and no run rules: the session does. Views subscribe to the
session's events and call its methods; the window only composes them, builds the menus,
shows the file name in the title and asks before unsaved training is discarded.
"""

from __future__ import annotations

import atexit
import weakref

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.qt import runner as worker
from gui.qt.classroom.classroom import Classroom
from gui.qt.inside import inside_docks
from gui.qt.panels.draw import DrawTool
from gui.qt.panels.layer_panel import LayerPanel
from gui.qt.panels.run_panel import RunPanel
from gui.qt.panels.settings_panel import SettingsPanel
from gui.qt.panels.timeline_view import TimelineView
from gui.qt.plots.display import Display
from gui.qt.plots.loss_plot import LossPlot
from gui.qt.plots.overlays import RunOverlays
from gui.qt.plots.plots import BoundaryPlot
from gui.qt.runs import sweep_dialog
from gui.qt.runs.runs_view import RunsPanel
from gui.qt.runs.sweep_view import SweepView
from gui.qt.sweep_runner import SweepPump
from gui.qt.window import accessibility, wheel_guard
from gui.qt.window import file_menu as files
from gui.qt.window.background import Background
from gui.qt.window.exports_menu import counted

TITLE = "minidl playground"
PREWARM_MS = 500  # after start-up: the training process (gui.training.process) starts meanwhile


class Stage(QSplitter):
    """The plots, the window's stage: side by side where their room is wide, the boundary over the loss
    where it is narrow (the side panel open on a laptop's screen). Each arrangement keeps its own shares
    (a drag on the handle changes them), so the plots come back to their sizes when the room does."""

    WIDE = 1.5  # width over height from which the plots stand side by side
    SHARES = {Qt.Orientation.Horizontal: (0.6, 0.4), Qt.Orientation.Vertical: (0.66, 0.34)}  # boundary, loss

    def __init__(self):
        super().__init__(objectName="plotsSplitter")
        self.setChildrenCollapsible(False)
        self.shares = dict(self.SHARES)
        self.splitterMoved.connect(lambda *_: self._remember())

    def _remember(self) -> None:
        sizes = self.sizes()
        if sum(sizes) > 0:
            self.shares[self.orientation()] = tuple(size / sum(sizes) for size in sizes)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The larger plot's minimum either way: the arrangement follows the room (a side-by-side minimum
        made the window refuse a 1024-pixel width with the side panel open)."""
        hints = [self.widget(i).minimumSizeHint() for i in range(self.count())]
        return QSize(max((h.width() for h in hints), default=0), max((h.height() for h in hints), default=0))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        size = event.size()
        wanted = Qt.Orientation.Horizontal if size.width() >= self.WIDE * size.height() else Qt.Orientation.Vertical
        if wanted != self.orientation() or not getattr(self, "_placed", False):
            self._placed = True
            self.setOrientation(wanted)
            total = size.width() if wanted == Qt.Orientation.Horizontal else size.height()
            self.setSizes([round(total * share) for share in self.shares[wanted]])
        super().resizeEvent(event)


class StatusLine(QLabel):
    """The status bar's sentence: it wraps instead of cutting a long one (presenter mode's large font, a
    1024-pixel screen), in room kept for two lines, so that the plots never jump when a sentence wraps."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(super().minimumSizeHint().width(), 2 * self.fontMetrics().lineSpacing())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        return QSize(hint.width(), max(hint.height(), 2 * self.fontMetrics().lineSpacing()))


class MainWindow(QMainWindow):
    """The playground. ``MainWindow()`` opens with the report's experiment loaded.

    Signals:
        trainingStarted(): a run began.
        trainingFinished(str): a run ended: ``completed``, ``stopped``, ``diverged`` or ``failed``.

    ``session`` is the run model (the automation interface); ``confirm_discard`` is called before
    New, Open or Close discard trained epochs that are not saved, and returns True to go on
    (the default asks with a dialog; tests set it to ``lambda: True`` or ``lambda: False``).
    """

    trainingStarted = Signal()
    trainingFinished = Signal(str)

    def __init__(self, experiment: Experiment | None = None, settings: QSettings | None = None):
        super().__init__()
        self.settings = settings or QSettings("minidl", "playground")
        self.builds = Background(self)
        self.session = Session(experiment or files.report_experiment(), runner=worker.start, builder=self.builds.submit)
        # The training process takes over a second to start: once the window is up, not before it.
        QTimer.singleShot(PREWARM_MS, self, worker.prewarm)
        self.sweep_pump = SweepPump(self.session, self)  # reads a sweep's workers (gui/qt/sweep_runner.py)
        self.confirm_discard = self._ask_to_save
        self.last_message = ""
        self.status_label = StatusLine(objectName="statusLabel", wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.statusBar().addWidget(self.status_label, 1)
        self._build_views()
        self.files = files.FileActions(self)
        self.files.build_file_menu()
        self.runs_panel.files = self.files
        self._build_menus()
        self.files.build_help_menu()
        inside_docks.install(self)
        sweep_dialog.install(self)
        events = self.session.events
        events.connect("status", self.set_status)
        events.connect("state", lambda _state: self._update_controls())
        events.connect("model", self._update_controls)
        events.connect("experiment", self._experiment_changed)
        events.connect("modified", lambda _modified: self._update_title())
        events.connect("started", self.trainingStarted.emit)
        events.connect("finished", self._finished)
        events.connect("runs", lambda: self.undo_action.setEnabled(self.session.can_undo))
        self.classroom = Classroom(self)  # lessons, speed, banner, palette, presenter mode
        self.restoreGeometry(self.settings.value("geometry", b""))
        self._experiment_changed()
        self.update_tab_order()
        _track(self)

    # -- construction --------------------------------------------------------------
    def _build_views(self) -> None:
        session = self.session
        self.layers = LayerPanel()
        self.layers.blocksChanged.connect(lambda blocks: session.edit(blocks=blocks))
        self.settings_panel = SettingsPanel(session)
        self.run_panel = RunPanel(session)
        self.boundary_plot = BoundaryPlot()
        self.settings_panel.add_view_check(self.boundary_plot.discretize_check)  # the row under the plot is full
        self.loss_plot = LossPlot()
        self.timeline = TimelineView(session, self.loss_plot)
        self.display = Display(session, self.boundary_plot, self.loss_plot, self.run_panel,
                               self.settings_panel.show_test_check, self)
        self.log_check = QCheckBox("Log scale", objectName="logScaleCheck", toolTip="Logarithmic loss axis (Ctrl+L).")
        self.log_check.toggled.connect(self.loss_plot.set_log_scale)
        self.cursor_label = QLabel(objectName="lossCursorLabel")
        self.loss_plot.hovered.connect(self.cursor_label.setText)

        side = QWidget()
        column = QVBoxLayout(side)
        network = QGroupBox("Network")
        QVBoxLayout(network).addWidget(self.layers)
        column.addWidget(network, 1)
        column.addWidget(self.settings_panel.training)
        column.addWidget(self.settings_panel.data)
        # The side panel scrolls: its spin boxes and combos take the wheel only when focused.
        wheel_guard.guard_spin_boxes_and_combos(side)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(side)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(side.sizeHint().width() + 20)
        self.side_panel = scroll

        loss_box = QWidget()
        loss_layout = QVBoxLayout(loss_box)
        loss_layout.setContentsMargins(0, 0, 0, 0)
        loss_layout.addWidget(self.loss_plot, 1)
        row = QHBoxLayout()
        row.addWidget(self.log_check)
        row.addWidget(self.cursor_label, 1)
        loss_layout.addLayout(row)
        boundary_box = QWidget()
        boundary_layout = QVBoxLayout(boundary_box)
        boundary_layout.setContentsMargins(0, 0, 0, 0)
        boundary_layout.addWidget(self.boundary_plot, 1)
        self.draw = DrawTool(session, self.boundary_plot)
        tools = QHBoxLayout()  # one row under the plot: its height goes to the plots
        tools.setSpacing(0)
        tools.addWidget(self.boundary_plot.auto_range_check)
        tools.addWidget(self.draw, 1)
        boundary_layout.addLayout(tools)
        plots = Stage()
        plots.addWidget(boundary_box)
        plots.addWidget(loss_box)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addWidget(self.run_panel)
        right_layout.addWidget(plots, 1)
        right_layout.addWidget(self.timeline)
        # where gui/qt/classroom/classroom.py adds its views
        self.right_layout, self.plots_splitter = right_layout, plots
        main = QSplitter()
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        self.setCentralWidget(main)
        self.resize(1400, 800)
        # The runs kept for comparison: a view of the side panel (gui/qt/inside/inside_docks.py).
        self.run_overlays = RunOverlays(session, self.loss_plot)
        self.runs_panel = RunsPanel(session, palette_of=lambda: self.boundary_plot.palette)
        self.sweep_view = SweepView(session)  # the sweep's tab of the side panel

    def _action(self, menu, text, slot, shortcut=None, tip="") -> QAction:
        act = QAction(text, self, statusTip=tip, toolTip=tip)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        a, s = self._action, self.session
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = a(edit, "&Undo", s.undo, QKeySequence.StandardKey.Undo,
                             "Bring back what the last Reset discarded, or the last run deleted (Ctrl+Z)")
        run = self.run_menu = self.menuBar().addMenu("&Run")
        self.run_action = a(run, "&Run", self.run, "F5", "Train up to the number of epochs (F5)")
        self.pause_action = a(run, "&Pause / Resume", s.pause, "F6", "Pause or resume training (F6)")
        self.step_action = a(run, "&Step one epoch", s.step, "F7", "Train exactly one more epoch (F7)")
        self.stop_action = a(run, "S&top", s.request_stop, "Shift+F5", "Stop training, keep the weights (Shift+F5)")
        self.reset_action = a(run, "R&eset weights", s.reset, "Ctrl+Shift+F5",
                              "Draw the initial weights again from the seed (Ctrl+Shift+F5; Ctrl+Z undoes it)")
        self.run_panel.connect_actions((self.run_action, self.pause_action, self.step_action, self.stop_action,
                                        self.reset_action))
        view = self.menuBar().addMenu("&View")
        self.log_action = a(view, "&Log-scale loss", self.log_check.toggle, "Ctrl+L", "Logarithmic loss axis")
        a(view, "Show &test points", self.settings_panel.show_test_check.toggle, "Ctrl+T",
          "Show or hide the test points")
        self.view_menu = view

    # -- classroom: the automation interface, see gui/qt/classroom/classroom.py ---------------
    @property
    def presenter_mode(self) -> bool:
        return self.classroom.presenter.on

    def set_presenter_mode(self, on: bool, full_screen: bool = True) -> None:
        self.classroom.set_presenter_mode(on, full_screen)

    @property
    def lesson(self):
        """The open :class:`gui.model.lesson.Lesson` (``title``, ``scenes``, ``index``, ``next()``, ``previous()``)."""
        return self.classroom.lesson

    def set_speed(self, epochs_per_second: float | None) -> None:
        """Epochs a second for a class to follow (``None``: max); the ``speedSlider`` shows it."""
        self.classroom.speed.set_speed(epochs_per_second)

    def refresh_controls(self) -> None:
        """Every control enabled as the session's state allows, each view's rule run again: presenter mode's
        lock lets go of the controls it disabled, which a run started or paused meanwhile wants disabled."""
        self._update_controls()
        for view in (self.settings_panel, self.settings_panel.features, self.draw):
            view.enable_controls()  # what their "state" handlers run

    def refresh_title(self) -> None:
        self._update_title()

    def update_tab_order(self) -> None:
        accessibility.prepare(self)

    # -- run controls (the menu's and the buttons' slots) ---------------------------
    @Slot()
    def run(self) -> None:
        self.session.run()

    def stop(self) -> None:
        self.session.stop()

    def set_status(self, text: str) -> None:
        self.last_message = text
        self.status_label.setText(text)

    def _finished(self, reason: str, text: str) -> None:
        if reason == "failed":
            self.files.show_error("Training failed", "Training stopped because of an error. The network went back "
                                  f"to its weights after epoch {self.session.history.epochs}, the last epoch its "
                                  "history records; the details below say what happened.", text)
        self._update_controls()
        self.trainingFinished.emit(reason)

    def _experiment_changed(self) -> None:
        if self.layers.blocks() != self.session.experiment.blocks:
            self.layers.set_blocks(self.session.experiment.blocks)
        self.layers.set_input_width(self.session.experiment.in_features)
        self.loss_plot.set_loss_name(self.session.experiment.loss)
        self._update_controls()
        self._update_title()

    def _update_controls(self) -> None:
        s = self.session
        self.layers.setEnabled(not s.running)
        self.layers.set_problems(s.validate() + s.experiment.notes())
        self.run_panel.update_controls()
        self.undo_action.setEnabled(s.can_undo)
        self.files.update_actions(s.running)

    def _update_title(self) -> None:
        s = self.session
        name = s.path.name if s.path is not None else "Untitled"
        scene = self.classroom.title() if hasattr(self, "classroom") else None
        self.setWindowTitle(f"{scene or name}{'*' if s.modified else ''} — {TITLE}")

    # -- unsaved work ----------------------------------------------------------------
    def _ask_to_save(self) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Save changes?",
                          f"This experiment's training ({counted(self.session.history.epochs, 'epoch')}) is not saved. "
                          "Save it before it is discarded?", parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.files.save()
        return answer == QMessageBox.StandardButton.Discard

    def may_discard(self) -> bool:
        """True when nothing unsaved would be lost, or ``confirm_discard`` agrees to lose it."""
        return not self.session.unsaved_training or bool(self.confirm_discard())

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        # A resize made before the window was shown (a script's, --screenshot's) is laid out only now.
        QTimer.singleShot(0, self, lambda: inside_docks.fit_panel(self))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if 0 <= event.oldSize().width() != event.size().width():
            # After this resize is laid out: a dock's width set by resizeDocks is its minimum until then,
            # and a resize that follows at once (a script's, a test's) would be refused.
            QTimer.singleShot(0, self, lambda: inside_docks.fit_panel(self))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if not self.may_discard():
            event.ignore()
            return
        self.set_presenter_mode(False)  # the geometry saved below is the normal window's
        self.shut_down()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        super().closeEvent(event)

    def shut_down(self) -> None:
        """Stop the run (a training process that does not answer is killed) and let every thread of the
        window end: as it closes, or as the application quits with the window still open."""
        _open.discard(self)
        self.session.stop()
        self.session.sweeper.close()  # its finished runs are kept; its workers end
        self.display.preview.wait()
        self.builds.wait()
        inside_docks.wait(self)


# The windows not closed yet: a script or an application may quit with them open, and Qt aborts the
# process if a QThread object is destroyed while its thread runs.
_open: weakref.WeakSet[MainWindow] = weakref.WeakSet()
_hooked = False


def _track(window: MainWindow) -> None:
    """Remember ``window`` until it closes, and stop every open window's threads when the application
    quits: at the end of its event loop (aboutToQuit), or at the interpreter's exit without one."""
    global _hooked
    _open.add(window)
    if not _hooked:  # at the first window: an exit handler registered now runs before Qt's own clean-up
        _hooked = True
        QApplication.instance().aboutToQuit.connect(_shut_down_all)
        atexit.register(_shut_down_all)


def _shut_down_all() -> None:
    for window in list(_open):
        try:
            window.shut_down()
        except RuntimeError:  # its C++ side is gone already, and its threads with it
            _open.discard(window)
