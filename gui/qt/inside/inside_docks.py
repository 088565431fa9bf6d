"""Puts the views of the inside of the network into the window: the side panel, the Step-one-batch
action (F8) with its button, and Esc to leave a unit shown in the boundary plot. The window calls
:func:`install` once; the panel's state is the docks' own.

The side panel lies to the right of the plots and shows one view at a time at full height: the
network, the inspector, the batch step, the runs, the hidden layer's space and the sweep are docks tabified in
the right dock area, each one click (its tab) or one key (Ctrl+1 to Ctrl+6) away. The plots keep the
rest of the window: the panel takes ``PANEL_SHARE`` of the window's width, at most ``PANEL_MAX`` pixels
and never more than leaves the plots ``STAGE_MIN`` pixels (the boundary plot's minimum beside the loss
plot's).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QFont, QFontMetrics, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QDockWidget, QTabBar, QTabWidget, QWidget

from gui.model.session import PAUSED, RUNNING
from gui.qt.inside.batch_step_view import BatchStepView
from gui.qt.inside.hidden_space_view import HiddenSpaceView
from gui.qt.inside.inspector_view import Inspector
from gui.qt.inside.network_view import NetworkView
from gui.qt.panels.run_panel import CompactButton

AREA = Qt.DockWidgetArea.RightDockWidgetArea
PANEL_SHARE = 0.34  # of the window's width, in normal mode
PANEL_MAX = 520
PANEL_FLOOR = 240  # the panel's least width, below which a view may cut its words (a window under 1,024 px)
PANEL_MIN = 300  # the network's columns, the inspector's table and the runs' four main columns fit
PRESENTER_SHARE = 0.3  # presenter mode: a view raised there leaves the rest to the plots
STAGE_MIN = 440  # the plots keep at least this much (the boundary plot's 420 and a margin)
STAGE_MIN_NARROW = 360  # up to WIDE_SCREEN pixels across (the boundary plot's 340 and a margin)
WIDE_SCREEN = 1200
SEPARATOR = 8  # the dock area's separator and margins
TAB_PADDING = 6
TAB_PADDING_MIN = 1  # where the panel is narrow (style_tabs)
VIEWS = (("Network", "network_dock", "showNetworkAction", "Ctrl+1"),
         ("Inspector", "inspector_dock", "showInspectorAction", "Ctrl+2"),
         ("Batch step", "batch_step_dock", "showBatchStepAction", "Ctrl+3"),
         ("Runs", "runs_dock", "showRunsAction", "Ctrl+4"),
         ("Space", "hidden_space_dock", "showHiddenSpaceAction", "Ctrl+5"),
         ("Sweep", "sweep_dock", "showSweepAction", "Ctrl+6"))
# A tab's shorter title where the panel is too narrow for the whole ones at the least padding (the six tabs
# on a 1024-pixel screen, where the panel keeps about 280 pixels).
NARROW_TITLES = {"Batch step": "Batch", "Inspector": "Inspect"}


def _dock(window, title: str, name: str, widget, tip: str) -> QDockWidget:
    dock = QDockWidget(title, window, objectName=name)
    dock.setWidget(widget)
    dock.setToolTip(tip)
    return dock


def name_title_buttons(dock: QDockWidget, what: str, panel: str, shown_by: str) -> None:
    """Accessible names and tooltips for a dock's own title-bar buttons (close and float)."""
    words = {"qt_dockwidget_closebutton": (f"Hide {what}", f"Hide {panel} ({shown_by})"),
             "qt_dockwidget_floatbutton": (f"Float {what}", f"Detach {panel} into a window of its own")}
    for button in dock.findChildren(QAbstractButton):
        name, tip = words.get(button.objectName(), (f"{what.capitalize()} dock button", f"A button of {panel}"))
        button.setAccessibleName(name)
        button.setToolTip(tip)


def docks(window) -> list[QDockWidget]:
    """The side panel's docks, in the order of their tabs."""
    return [getattr(window, attribute) for _, attribute, _, _ in VIEWS]


def shown_view(window) -> QDockWidget | None:
    """The dock the side panel shows (its raised tab), None while the panel is hidden."""
    return next((dock for dock in docks(window) if dock.isVisible() and not dock.visibleRegion().isEmpty()),
                next((dock for dock in docks(window) if dock.isVisible()), None))


def panel_width(window, presenter: bool | None = None) -> int:
    """The side panel's width for the window's width (see the module docstring); 0 where the plots
    would keep less than their minimum beside the narrowest view."""
    presenter = _presenting(window) if presenter is None else presenter
    share = PRESENTER_SHARE if presenter else PANEL_SHARE
    main = window.centralWidget()
    left = sum(size + main.handleWidth() for i, size in enumerate(main.sizes()[:-1]) if main.widget(i).isVisible())
    stage = max(STAGE_MIN if window.width() > WIDE_SCREEN else STAGE_MIN_NARROW,
                main.widget(main.count() - 1).minimumSizeHint().width())
    room = window.width() - left - stage - SEPARATOR
    narrowest = max([dock.minimumSizeHint().width() for dock in docks(window)]  # the tabs' group: the widest
                    + [_tabs_width(window)])
    wanted = max(narrowest, min(PANEL_MAX, max(PANEL_MIN, int(window.width() * share))))
    return min(wanted, room) if room >= narrowest else 0


def _presenting(window) -> bool:
    return getattr(window, "classroom", None) is not None and window.presenter_mode


def _tabs_width(window) -> int:
    """The width the panel's tabs need, whole, in the window's font (larger in presenter mode), at their least
    padding (:func:`style_tabs` pads them more where the panel has the room)."""
    font = QFont(window.font())
    if _presenting(window):
        from gui.qt.classroom.presenter import FONT_PT  # presenter mode's text size (that module imports this one)
        font.setPointSizeF(FONT_PT)
    metrics = QFontMetrics(font)
    return sum(metrics.horizontalAdvance(NARROW_TITLES.get(title, title)) + 2 * TAB_PADDING_MIN + 4
               for title, *_ in VIEWS)


def fit_panel(window) -> None:
    """The side panel's width for the window's new width (on a resize)."""
    shown = shown_view(window)
    if shown is not None and not shown.isFloating():
        # Where the window is too small for the panel's width, what the plots' minimum leaves it.
        least = window.width() - window.centralWidget().minimumSizeHint().width() - SEPARATOR
        width = panel_width(window) or max(PANEL_FLOOR, least)
        window.resizeDocks([shown], [width], Qt.Orientation.Horizontal)


def raise_view(window, dock: QDockWidget, width: int | None = None) -> bool:
    """Show the side panel with ``dock``'s view in front (at ``width`` pixels where given); False, with a
    sentence in the status bar, where the plots would keep less than their minimum beside it."""
    width = width or panel_width(window)
    hidden, size = shown_view(window) is None, window.size()
    if width:
        for d in docks(window) if hidden else ():
            d.show()
        dock.show()
        dock.raise_()
        # A dock's fonts follow presenter mode's style sheet once it is shown: it may then need more room.
        need = window.centralWidget().minimumSizeHint().width() + max([d.minimumSizeHint().width()
                                                                       for d in docks(window)] + [_tabs_width(window)])
        width = width if need + SEPARATOR <= size.width() else 0
        window.resizeDocks([dock], [width or 1], Qt.Orientation.Horizontal)
    if not width:
        if hidden:
            for d in docks(window):
                d.hide()
        window.layout().activate()
        window.resize(size)  # a dock too wide for the screen made the window grow
        window.set_status(f"No room for the {dock.windowTitle().lower()} view beside the plots at this window "
                          "size: leave presenter mode (Esc) to show it.")
        return False
    window.side_panel_action.setChecked(True)
    window.last_view = dock
    style_tabs(window)
    return True


def set_panel_shown(window, on: bool) -> None:
    """Show (the view shown last in front) or hide the whole side panel (View › Side panel, Ctrl+0)."""
    if on:
        raise_view(window, window.last_view or window.network_dock)
        return
    shown = shown_view(window)
    if shown is not None:
        window.last_view = shown
    for dock in docks(window):
        dock.hide()
    window.side_panel_action.setChecked(False)


def panel_restored(window) -> None:
    """After ``window.restoreState``: the View menu's check follows the panel, whose width fits the window."""
    window.side_panel_action.setChecked(shown_view(window) is not None)
    style_tabs(window)
    fit_panel(window)


def style_tabs(window) -> None:
    """The panel's tabs with a narrow padding and whole words (the style's padding cut them to "Netw…",
    "Inspe…"). Where the panel is narrower than the tabs at ``TAB_PADDING`` (the five tabs on a 1024-pixel
    screen, where the panel keeps about 280 pixels), the padding shrinks until they fit, down to a pixel.
    Called again whenever a dock of the panel changes size (:class:`_Resized`)."""
    shown = shown_view(window)
    room = shown.width() if shown is not None and not shown.isFloating() else None
    for bar in window.findChildren(QTabBar):
        if bar.parentWidget() is not window:
            continue
        bar.setElideMode(Qt.TextElideMode.ElideNone)
        bar.setExpanding(False)
        wanted = TAB_PADDING
        if room is not None:
            _title_tabs(window, bar, room)
            # Each tab is its text, its frame (4 pixels at most) and twice the padding: the widest padding that fits.
            texts = sum(bar.fontMetrics().horizontalAdvance(bar.tabText(i)) + 4 for i in range(bar.count()))
            wanted = next((p for p in range(TAB_PADDING, TAB_PADDING_MIN - 1, -1)
                           if texts + 2 * p * bar.count() <= room), TAB_PADDING_MIN)
        if bar.styleSheet() != tab_style(wanted):
            bar.setStyleSheet(tab_style(wanted))


def _title_tabs(window, bar: QTabBar, room: int) -> None:
    """The docks' whole titles where they fit ``room`` at the least padding, else their :data:`NARROW_TITLES`."""
    metrics = bar.fontMetrics()
    whole = sum(metrics.horizontalAdvance(title) + 4 + 2 * TAB_PADDING_MIN for title, *_ in VIEWS)
    for (title, attribute, _, _) in VIEWS:
        shown = title if whole <= room else NARROW_TITLES.get(title, title)
        dock = getattr(window, attribute)
        if dock.windowTitle() != shown:
            dock.setWindowTitle(shown)


def tab_style(padding: int) -> str:
    return f"QTabBar::tab {{ padding: 3px {padding}px; }}"


class _Resized(QObject):
    """Styles the panel's tabs for its width whenever one of its docks is resized (laid out)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            style_tabs(self.window)
        return False


def _install_panel(window) -> None:
    s = window.session
    window.network_view = NetworkView(s, window.boundary_plot)
    window.inspector = Inspector(s)
    window.batch_step_view = BatchStepView(s)
    window.hidden_space = HiddenSpaceView(s, window.boundary_plot)
    window.network_dock = _dock(window, "Network", "networkDock", window.network_view,
                                "Every unit's output over the input plane; links coloured by the weights "
                                "(red +, blue −).")
    window.inspector_dock = _dock(window, "Inspector", "inspectorDock", window.inspector,
                                  "Training health per Linear layer: gradient and weight norms, update ratio, "
                                  "dead and saturated units, weight histograms.")
    window.batch_step_dock = _dock(window, "Batch step", "batchStepDock", window.batch_step_view,
                                   "Every number of one mini-batch's step (F8).")
    window.runs_dock = _dock(window, "Runs", "runsDock", window.runs_panel,
                             "Every run kept: tick runs to overlay their loss curves and compare their boundaries.")
    window.hidden_space_dock = _dock(window, "Space", "hiddenSpaceDock", window.hidden_space,
                                     "The training points and the input plane's grid as a hidden layer of 2 units "
                                     "maps them: watch the network bend the plane until a line separates the "
                                     "classes.")
    window.sweep_dock = _dock(window, "Sweep", "sweepDock", window.sweep_view,
                              "A sweep's variants: the final test error against the values of one or two settings, "
                              "the median over the seeds and its range; click one to compare its runs.")
    window.setTabPosition(AREA, QTabWidget.TabPosition.North)
    window.setDockOptions(window.dockOptions() | window.DockOption.AnimatedDocks)
    first, *others = docks(window)
    window.addDockWidget(AREA, first)
    for dock in others:
        window.tabifyDockWidget(first, dock)
    for dock in docks(window):
        # The tabs name the views: a title bar above them would repeat the name and take a line.
        dock.setTitleBarWidget(QWidget(dock))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        # The window's own minimum fits a 1000-pixel screen; the panel's width (panel_width) gives each view
        # the room it asks for wherever the screen has it.
        dock.widget().setMinimumWidth(PANEL_FLOOR)
        what = dock.windowTitle().lower()
        name_title_buttons(dock, what, f"the {what} view", "its tab, or the View menu, shows it")
    window.last_view = first
    resized = _Resized(window)
    for dock in docks(window):
        dock.installEventFilter(resized)
    first.raise_()
    style_tabs(window)

    window.view_menu.addSeparator()
    panel = QAction("Side &panel", window, checkable=True, checked=True, objectName="sidePanelAction",
                    shortcut=QKeySequence("Ctrl+0"))
    panel.setToolTip("Show or hide the side panel right of the plots: the network, the inspector, the batch "
                     "step, the runs and the hidden space, one at a time (Ctrl+0)")
    panel.setStatusTip(panel.toolTip())
    panel.triggered.connect(lambda on: set_panel_shown(window, on))
    window.view_menu.addAction(panel)
    window.side_panel_action = panel
    window.view_actions = {}
    for (title, attribute, name, key), dock in zip(VIEWS, docks(window), strict=True):
        act = QAction(f"&{title}", window, objectName=name, shortcut=QKeySequence(key))
        act.setToolTip(f"Show the {title.lower()} view in the side panel ({key}): {dock.toolTip()}")
        act.setStatusTip(act.toolTip())
        act.triggered.connect(lambda _=False, d=dock: raise_view(window, d))
        window.view_menu.addAction(act)
        window.view_actions[attribute] = act
    space = window.view_actions["hidden_space_dock"]  # its tab says "Space": five tabs fit a 1024-pixel screen
    space.setText("&Hidden space")
    space.setToolTip(f"Show the hidden layer's view of space in the side panel (Ctrl+5): "
                     f"{window.hidden_space_dock.toolTip()}")
    space.setStatusTip(space.toolTip())
    runs = window.view_actions["runs_dock"]
    runs.setShortcuts([QKeySequence("Ctrl+4"), QKeySequence("Ctrl+R")])
    runs.setToolTip("Show the runs table and the compare view in the side panel (Ctrl+4 or Ctrl+R)")


def install(window) -> None:
    """Add the side panel (``window.network_view``, ``inspector``, ``batch_step_view`` and the runs in their
    docks ``window.network_dock``, ``inspector_dock``, ``batch_step_dock``, ``runs_dock``),
    ``window.step_batch_action`` (F8) and the ``stepBatchButton`` to ``window``."""
    s = window.session
    _install_panel(window)

    tip = "Train exactly one mini-batch (the next in order), then pause; its numbers appear in Batch step (F8)"
    action = QAction("Step one &batch", window, statusTip=tip, toolTip=tip, objectName="stepBatchAction")
    action.setShortcut(QKeySequence("F8"))
    action.triggered.connect(lambda: _step_batch(window))
    actions = window.run_menu.actions()
    after = actions.index(window.step_action) + 1  # right after Step one epoch
    window.run_menu.insertAction(actions[after] if after < len(actions) else None, action)
    window.step_batch_action = action
    button = CompactButton("Step batch", objectName="stepBatchButton", toolTip=tip)
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
    """F8: one mini-batch, its numbers in the batch-step view raised in the side panel; where the panel
    has no room beside the plots (presenter mode on a small screen), the status bar's sentence about the
    step's loss is all it shows."""
    raise_view(window, window.batch_step_dock)
    window.session.step_batch()


def wait(window) -> None:
    """Let the views' background work end (closing the window)."""
    window.network_view.background.wait()
    window.inspector.background.wait()
    window.hidden_space.background.wait()
