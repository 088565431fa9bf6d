"""The File and Help menus: experiment files, exports, presets, About, and error dialogs."""

from __future__ import annotations

import logging
from pathlib import Path

import pyqtgraph as pg
import PySide6
import torch
from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

import minidl
from gui.files import experiment_file, points_csv, runs_file, sweep_file
from gui.model import experiment as exp
from gui.qt.window import exports
from gui.qt.window.exports_menu import ExportActions, counted
from minidl.io import write_bytes_atomically

FILE_FILTER = "minidl experiments (*.minidl *.safetensors);;All files (*)"
LESSON_FILTER = "Lessons (*.json);;All files (*)"
log = logging.getLogger("gui")
PRESETS = {"The report: disc, 2-25-25-25-2": "report.json", "XOR, small Tanh network": "xor.json",
           "Spiral, 3 × 64 ReLU": "spiral.json",
           "Four blobs, cross-entropy and Adam": "blobs.json"}


def preset_path(name: str) -> Path:
    """The file of a preset shipped in ``resources/``, wherever this ``gui`` package was imported from.

    A wheel installs ``resources/`` as ``gui/resources``; an editable install and a plain checkout on
    ``PYTHONPATH`` import ``gui`` from the checkout, whose ``resources/`` sits next to it. The lookup
    follows this module's own file rather than an import of ``gui.resources``: setuptools' editable
    finder cannot import a folder without ``__init__.py``, and a second copy of the project
    installed elsewhere must not lend this one its presets.
    """
    here = Path(__file__).resolve().parents[2]  # the gui package (this file is gui/qt/window/file_menu.py)
    for folder in (here / "resources", here.parent / "resources"):  # a wheel; a checkout
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"the preset {name} is missing: looked in {here / 'resources'} and "
                            f"{here.parent / 'resources'}")


def preset(name: str) -> exp.Experiment:
    """An experiment shipped in ``resources/`` (inside the wheel as ``gui/resources``)."""
    return exp.Experiment.from_json(preset_path(name).read_text("utf-8"))


def report_experiment() -> exp.Experiment:
    """The report's experiment, as shipped.

    A missing or broken ``report.json`` is a packaging bug: it is logged as an error (on stderr
    and in the playground's log), and the window still opens with the same settings built in.
    """
    try:
        return preset("report.json")
    except (OSError, ValueError) as error:
        log.error("could not load the report's preset, using the built-in defaults: %s", error)
        return exp.Experiment()


class FileActions:
    """Builds the File and Help menus of ``window`` and does what they ask."""

    def __init__(self, window):
        self.window = window
        self.last_error: tuple[str, str] | None = None
        self.dialog: QMessageBox | None = None

    # -- menus -------------------------------------------------------------------------
    def _action(self, menu, text, slot, shortcut=None, tip=""):
        act = QAction(text, self.window, statusTip=tip, toolTip=tip)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def build_file_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&File")
        a = self._action
        self.new_action = a(menu, "&New", self.new, QKeySequence.StandardKey.New,
                            "Start again from the report's experiment")
        self.open_action = a(menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open, "Open an experiment file")
        self.open_lesson_action = a(menu, "Open &lesson…", self.open_lesson_dialog,
                                    tip="Open a lesson: scenes a teacher steps through like slides "
                                        "(gui/qt/classroom/classroom.py)")
        self.open_lesson_action.setObjectName("openLessonAction")
        self.lessons_menu = menu.addMenu("Lesso&ns")  # the shipped lessons (filled by gui/qt/classroom/classroom.py)
        examples = menu.addMenu("&Examples")
        examples.setToolTipsVisible(True)
        for title, name in PRESETS.items():
            act = a(examples, title, lambda _=False, n=name: self.open_example(n),
                    tip=f"Replace the current experiment with this example ({name}): untrained, with its own "
                        "blocks, data and settings")
            act.setObjectName(f"exampleAction_{Path(name).stem}")
        self.save_action = a(menu, "&Save", self.save, QKeySequence.StandardKey.Save,
                             "Save the experiment, its weights and its loss history")
        self.save_as_action = a(menu, "Save &As…", self.save_as_dialog, QKeySequence.StandardKey.SaveAs)
        menu.addSeparator()
        a(menu, "Export &boundary as PNG…", lambda: self._export_dialog("boundary.png", self.export_boundary_png))
        a(menu, "Export &loss plot as PNG…", lambda: self._export_dialog("loss.png", self.export_loss_png))
        a(menu, "Export loss history as &CSV…", lambda: self._export_dialog("loss.csv", self.export_loss_csv))
        self.exports = ExportActions(self)
        self.exports.build(menu)
        menu.addSeparator()
        self.import_data_action = a(menu, "&Import data from CSV…", self.import_data_dialog,
                                    tip="Use your own points: a CSV file of x1,x2,label rows (optional header and "
                                        "split column)")
        self.import_data_action.setObjectName("importDataAction")
        self.export_data_action = a(menu, "Export &data as CSV…",
                                    lambda: self._export_dialog("data.csv", self.export_data_csv),
                                    tip="Write the training and test points as x1,x2,label,split rows")
        self.export_data_action.setObjectName("exportDataAction")
        menu.addSeparator()
        a(menu, "&Quit", self.window.close, QKeySequence.StandardKey.Quit)
        self.blocked_while_running = (self.new_action, self.open_action, self.save_action, self.save_as_action,
                                      self.import_data_action)

    def build_help_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Help")
        self._action(menu, "&About minidl playground", self.about)

    def update_actions(self, running: bool) -> None:
        for act in self.blocked_while_running[2:]:
            act.setEnabled(not running)
            act.setStatusTip("Stop the run to save." if running else act.toolTip())

    # -- messages ----------------------------------------------------------------------
    def show_error(self, title: str, text: str, details: str = "") -> None:
        """A window-modal message that does not block the caller (nor an automated test)."""
        self.last_error = (title, text)
        self.window.set_status(text)
        self.dialog = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=self.window)
        self.dialog.setTextFormat(Qt.TextFormat.PlainText)  # the text quotes files: names, values, titles
        if details:
            self.dialog.setDetailedText(details)
        self.dialog.open()

    def about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "About minidl playground",
                          f"<b>minidl playground</b><br>Build and train small networks by pointing and clicking."
                          f"<br><br>minidl {minidl.__version__}<br>torch {torch.__version__}<br>"
                          f"Qt {PySide6.QtCore.qVersion()} (PySide6 {PySide6.__version__})<br>"
                          f"pyqtgraph {pg.__version__}", parent=self.window)
        self.dialog = box
        box.open()

    # -- folders -----------------------------------------------------------------------
    def _folder(self) -> str:
        default = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        return str(self.window.settings.value("lastFolder", default))

    def _remember(self, path: str) -> None:
        self.window.settings.setValue("lastFolder", str(Path(path).parent))

    # -- experiment files ---------------------------------------------------------------
    def new(self) -> bool:
        if not self.window.may_discard():
            return False
        self.window.classroom.close_lesson()  # the lesson's scenes no longer apply
        self.window.session.replace(report_experiment())
        self.window.set_status("New experiment: the report's settings.")
        return True

    def open_example(self, name: str) -> bool:
        if not self.window.may_discard():
            return False
        self.window.classroom.close_lesson()
        self.window.session.replace(preset(name))
        self.window.set_status(f"Opened the example {Path(name).stem}: press Run to train it.")
        return True

    def open_dialog(self) -> None:
        if not self.window.may_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open experiment", self._folder(), FILE_FILTER)
        if path:
            self.open(path, confirmed=True)

    def open(self, path, confirmed: bool = False) -> bool:
        """Open ``path``; on any problem say so and leave the current experiment untouched."""
        if not confirmed and not self.window.may_discard():
            return False
        try:
            loaded = experiment_file.load(path)
        except (ValueError, MemoryError) as error:
            reason = "it is too large to read" if isinstance(error, MemoryError) else str(error)
            self.show_error("Cannot open file", f"Could not open {Path(path).name}: {reason}. "
                            "The current experiment is unchanged.")
            return False
        self._remember(path)
        try:
            runs = runs_file.from_file(loaded.metadata, loaded.tensors)
            ticked = runs_file.ticked_in(loaded.metadata, [r.name for r in runs[0]]) if runs is not None else []
            damaged = None
        except ValueError as error:
            runs, damaged = None, str(error)
        try:
            sweep = sweep_file.from_file(loaded.metadata, [r.name for r in runs[0]] if runs is not None else [])
            sweep_damaged = None
        except ValueError as error:
            sweep, sweep_damaged = None, str(error)
        self.window.classroom.close_lesson()
        self.window.session.replace(loaded.experiment, loaded.model, loaded.history, loaded.timeline,
                                    fresh_weights_needed=loaded.fresh_start, path=Path(path),
                                    optimizer_state=loaded.optimizer_state)
        if runs is not None:
            self.window.session.adopt_runs(*runs, ticked=ticked)
            self.window.session.sweeper.adopt(sweep)
        if damaged:
            self.show_error("Runs left out", f"The runs kept in {Path(path).name} are damaged ({damaged}), so they "
                            "were left out; the experiment, its weights and its history opened. The file itself is "
                            "unchanged: use Save As to keep it while you go on.")
            return True
        if sweep_damaged:
            self.show_error("Sweep left out", f"The sweep kept in {Path(path).name} is damaged ({sweep_damaged}), so "
                            "it was left out; its runs, the experiment, its weights and its history opened.")
            return True
        note = " It had diverged: Run starts again from fresh weights." if loaded.fresh_start else ""
        self.window.set_status(f"Opened {Path(path).name}: {counted(loaded.history.epochs, 'epoch')} trained.{note}")
        return True

    def open_lesson_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open lesson", self._folder(), LESSON_FILTER)
        if path:
            self.open_lesson(path)

    def open_lesson(self, path) -> bool:
        """Open a lesson file and show its first scene (see :mod:`gui.model.lesson`); a bad file changes nothing."""
        opened = self.window.classroom.open_lesson(path)
        if opened:
            self._remember(path)
        return opened

    def save(self) -> bool:
        if self.window.session.path is None:
            return self.save_as_dialog()
        return self.save_to(self.window.session.path)

    def save_as_dialog(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save experiment", str(Path(self._folder()) /
                                              "experiment.minidl"), FILE_FILTER)
        return bool(path) and self.save_to(path)

    def save_to(self, path) -> bool:
        """Save atomically; a failure keeps the old file and the open experiment as they were."""
        s = self.window.session
        if s.running:
            self.window.set_status("Stop the run to save.")
            return False
        model = s.model
        if model is None:
            self.show_error("Cannot save", "The network is not valid yet, so there is nothing to save: "
                            + " ".join(s.validate()))
            return False
        try:
            meta, tensors = runs_file.to_file(s.runs, s.current_run, s.schedule, s.run_book.ticked)
            meta |= sweep_file.to_file(s.sweep_definition(), s.sweeper.kept_names())
            experiment_file.save(path, s.experiment, model, s.history, s.timeline, fresh_start=s.fresh_weights_needed,
                                 optimizer=s.optimizer, extra_metadata=meta, extra_tensors=tensors)
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            self.show_error("Cannot save", f"Could not save {Path(path).name}: {reason}. Any earlier file "
                            "of that name is intact, and your experiment is still open: try another folder.")
            return False
        self._remember(path)
        s.mark_saved(Path(path))
        self.window.set_status(f"Saved {Path(path).name}.")
        return True

    # -- exports -------------------------------------------------------------------------
    def _export_dialog(self, suggestion: str, export) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Export", str(Path(self._folder()) / suggestion))
        if path:
            export(path)

    def _export(self, path, write) -> bool:
        try:
            write(Path(path))
        except (OSError, ValueError) as error:  # ValueError: a special file in the way
            reason = getattr(error, "strerror", None) or error
            self.show_error("Cannot export", f"Could not write {Path(path).name}: {reason}.")
            return False
        self._remember(path)
        self.window.set_status(f"Exported {Path(path).name}.")
        return True

    def export_boundary_png(self, path, width: int = exports.PNG_WIDTH) -> bool:
        """The boundary plot as a PNG ``width`` pixels wide, text and lines scaled with it (for slides)."""
        return self._export(path, lambda p: exports.write_png(p, self.window.boundary_plot, width))

    def export_loss_png(self, path, width: int = exports.PNG_WIDTH) -> bool:
        """The loss plot as a PNG ``width`` pixels wide, text and lines scaled with it (for slides)."""
        return self._export(path, lambda p: exports.write_png(p, self.window.loss_plot, width))

    # -- your own data -------------------------------------------------------------------------
    def import_data_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import data", self._folder(),
                                              "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self.import_data_csv(path)

    def import_data_csv(self, path) -> bool:
        """Make the points of a CSV file the dataset (Custom); a bad file changes nothing and says why."""
        s, name = self.window.session, Path(path).name
        if s.running:
            self.window.set_status("Stop the run to import data.")
            return False
        try:
            rows = points_csv.read_csv(path)
        except (ValueError, MemoryError) as error:
            reason = "it is too large to read" if isinstance(error, MemoryError) else str(error)
            self.show_error("Cannot import data", f"Could not import {name}: {reason}. Your data is unchanged.")
            return False
        self._remember(path)
        s.edit(dataset=exp.CUSTOM, points=rows)
        k = s.experiment.num_classes
        self.window.set_status(f"Imported {counted(len(rows), 'point')} in {k} classes from {name}."
                               + (" " + s.validate()[0] if s.validate() else ""))
        return True

    def export_data_csv(self, path) -> bool:
        d = self.window.session.data
        text = points_csv.to_csv(d.points_train, d.labels_train, d.points_test, d.labels_test)
        return self._export(path, lambda p: write_bytes_atomically(p, text.encode()))

    def export_loss_csv(self, path) -> bool:
        return self._export(path, lambda p: write_bytes_atomically(p, self.window.session.history.to_csv().encode()))

    # -- the exports of gui/qt/window/exports_menu.py --------------------------------------------------
    def export_animation(self, path, frames: int = 60) -> bool:
        """The boundary over the run's timeline as an animated GIF (a cancellable progress dialog)."""
        return self.exports.export_animation(path, frames)

    def export_script(self, path) -> bool:
        """The current run as a standalone Python script that reproduces its final loss exactly."""
        return self.exports.export_script(path)



