"""The classroom features of the window, in one place: lessons, the speed, the banner over the plots,
the colour-blind-safe palette and presenter mode.

:class:`Classroom` is built by the window once its views and menus exist; it adds its widgets
to the window's right column, its actions to the View menu, and answers the window's automation
interface (``presenter_mode``, ``set_presenter_mode``, ``lesson``, ``set_speed``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from gui.model import lesson as lessons
from gui.model.experiment import Experiment
from gui.qt.classroom.banner import PlotBanner
from gui.qt.classroom.lesson_view import LessonView
from gui.qt.classroom.presenter import LockBar, Presenter
from gui.qt.inside import inside_docks
from gui.qt.panels.speed_view import SpeedControl
from gui.qt.plots import palette as palettes


def lessons_folder() -> Path:
    """``resources/lessons``, in a checkout or a wheel (as :func:`gui.qt.window.file_menu.preset_path` finds
    presets)."""
    here = Path(__file__).resolve().parents[2]  # the gui package (this file is gui/qt/classroom/classroom.py)
    for folder in (here / "resources" / "lessons", here.parent / "resources" / "lessons"):
        if folder.is_dir():
            return folder
    return here.parent / "resources" / "lessons"


class Classroom(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.lesson: lessons.Lesson | None = None
        self._sizes: list[int] = []
        session = window.session
        self.speed = SpeedControl(session, window.loss_plot)
        self.banner = PlotBanner(session)
        self.lesson_view = LessonView()
        self.lesson_view.sceneRequested.connect(self.go)
        self.lesson_view.closeRequested.connect(self.close_lesson)
        self.lock_bar = LockBar()
        layout = window.right_layout
        at = layout.indexOf(window.plots_splitter)
        layout.insertWidget(at, self.banner)
        layout.insertWidget(at, self.lesson_view)
        layout.insertWidget(at, self.speed)
        layout.insertWidget(0, self.lock_bar)
        self._build_actions()
        self.presenter = Presenter(window, self.lock_bar, {
            "Space": self.run_or_pause, "Right": session.step, "Shift+Right": self.step_batch,
            "PgDown": self.next, "PgUp": self.previous, "Home": lambda: session.seek(0),
            "End": lambda: session.seek(None), "Escape": lambda: window.set_presenter_mode(False)})
        self.apply_palette()

    def _build_actions(self) -> None:
        w = self.window
        view = w.view_menu
        view.addSeparator()
        self.presenter_action = QAction("&Presenter mode", w, checkable=True, objectName="presenterAction",
                                        shortcut=QKeySequence("Ctrl+Shift+P"))
        self.presenter_action.setToolTip("Full screen, large text, thick lines, locked controls; the keyboard drives "
                                         "it (Ctrl+Shift+P; Esc leaves)")
        self.presenter_action.toggled.connect(w.set_presenter_mode)
        self.lock_action = QAction("&Lock controls in presenter mode", w, checkable=True, objectName="lockAction",
                                   shortcut=QKeySequence("Ctrl+Shift+L"), enabled=False)
        self.lock_action.setToolTip("Lock or unlock the controls other than Run/Pause, Step, the timeline and "
                                    "the scenes (Ctrl+Shift+L)")
        self.lock_action.triggered.connect(lambda: self.presenter.set_locked(not self.presenter.locked))
        self.colour_blind_action = QAction("&Colour-blind-safe palette", w, checkable=True,
                                           objectName="colourBlindAction")
        self.colour_blind_action.setToolTip("Blue-orange colours for the boundary (class markers always differ in "
                                            "shape); the default in presenter mode")
        self.colour_blind_action.toggled.connect(self._palette_toggled)
        for act in (self.presenter_action, self.lock_action, self.colour_blind_action):
            act.setStatusTip(act.toolTip())
            view.addAction(act)
        lessons_menu = w.files.lessons_menu
        lessons_menu.setToolTipsVisible(True)
        for path in sorted(lessons_folder().glob("*.json")):
            act = QAction(path.stem.replace("_", " ").capitalize(), w, objectName=f"lessonAction_{path.stem}")
            act.setToolTip(f"Open the lesson {path.name}: its first scene replaces the current experiment")
            act.triggered.connect(lambda _=False, p=path: w.files.open_lesson(p))
            lessons_menu.addAction(act)

    # -- presenter mode --------------------------------------------------------------------
    def set_presenter_mode(self, on: bool, full_screen: bool = True) -> None:
        self.presenter.set_on(bool(on), full_screen)
        self.presenter_action.blockSignals(True)
        self.presenter_action.setChecked(self.presenter.on)
        self.presenter_action.blockSignals(False)
        self.lock_action.setEnabled(self.presenter.on)
        self.apply_palette()
        self.window.update_tab_order()

    def place_lesson(self, column: bool) -> None:
        """The lesson panel beside the plots in presenter mode (where the side panel was), above them otherwise."""
        view, w = self.lesson_view, self.window
        main = w.centralWidget()
        view.arrange(column)  # first: the splitter respects the arranged panel's minimum width
        if column and main.indexOf(view) < 0:
            self._sizes = main.sizes()  # the side panel's width, given back on leaving
            w.right_layout.removeWidget(view)
            main.insertWidget(0, view)
            main.setStretchFactor(0, 0)  # a wider screen gives its room to the plots
            notes = min(max(300, w.width() * 3 // 10), 480)
            main.setSizes([notes, 0, w.width() - notes])
        elif not column and main.indexOf(view) >= 0:
            view.setParent(None)
            w.right_layout.insertWidget(w.right_layout.indexOf(self.banner), view)
            main.setSizes(self._sizes)
        view.setVisible(self.lesson is not None)

    def run_or_pause(self) -> None:
        s = self.window.session
        if s.running:
            s.pause()
        else:
            s.run()

    def step_batch(self) -> None:
        """Shift+→: the window's one-batch step, F8's ``step_batch_action``."""
        self.window.step_batch_action.trigger()

    # -- palette ---------------------------------------------------------------------------
    def _palette_key(self) -> str:
        return "palette/presenter" if self.presenter.on else "palette/normal"

    def apply_palette(self) -> None:
        """The palette remembered for this mode: colour-blind safe by default in presenter mode."""
        value = self.window.settings.value(self._palette_key(), "colour-blind" if self.presenter.on else "standard")
        colour_blind = value == "colour-blind"
        self.colour_blind_action.blockSignals(True)
        self.colour_blind_action.setChecked(colour_blind)
        self.colour_blind_action.blockSignals(False)
        self._use_palette(colour_blind)

    def _palette_toggled(self, on: bool) -> None:
        self.window.settings.setValue(self._palette_key(), "colour-blind" if on else "standard")
        self._use_palette(on)

    def _use_palette(self, colour_blind: bool) -> None:
        w, palette = self.window, palettes.COLOUR_BLIND if colour_blind else palettes.STANDARD
        w.boundary_plot.set_palette(palette)
        if w.session.data is not None:
            w.boundary_plot.show_points(w.session.data, w.settings_panel.show_test_check.isChecked())
        # Every view that colours numbers follows it (the compare view reads the boundary plot's).
        for view in (w.network_view, w.batch_step_view):
            view.set_palette(palette)
        w.runs_panel.compare_view.refresh()

    # -- lessons ---------------------------------------------------------------------------
    def open_lesson(self, path) -> bool:
        """Open a lesson file and load its first scene; a bad file changes nothing (a sentence says why)."""
        w = self.window
        try:
            lesson = lessons.load(path)
        except ValueError as error:
            w.files.show_error("Cannot open lesson", f"Could not open the lesson {Path(path).name}: {error}. "
                               "The current experiment is unchanged.")
            return False
        if not w.may_discard():
            return False
        self.lesson = lesson
        lesson.on_change = lambda _scene: self._show_scene()
        self._show_scene()
        return True

    def go(self, index: int) -> bool:
        return self.lesson is not None and self.lesson.go(index) is not None

    def next(self) -> bool:
        return self.lesson is not None and self.go(self.lesson.index + 1)

    def previous(self) -> bool:
        return self.lesson is not None and self.go(self.lesson.index - 1)

    def _show_scene(self) -> None:
        w, scene = self.window, self.lesson.scene
        w.session.replace(Experiment.from_json(scene.experiment.to_json()))  # the scene stays as written
        if self.presenter.on:  # a view raised for the scene before gives the next one the whole stage
            inside_docks.set_panel_shown(w, False)
        self.lesson_view.show_lesson(self.lesson)
        w.refresh_title()
        w.set_status(f"{self.lesson.caption()}: press Run (F5, or Space in presenter mode) to train it.")

    def close_lesson(self) -> None:
        self.lesson = None
        self.lesson_view.show_lesson(None)
        self.window.refresh_title()

    def title(self) -> str | None:
        """The window title while a lesson is open: ``Scene 2 of 5: … — Step size``."""
        return None if self.lesson is None else f"{self.lesson.caption()} — {self.lesson.title}"
