"""The lesson panel: the scene's title and note, Previous/Next, and what the class should see.

A thin view: :class:`~gui.qt.classroom.classroom.Classroom` loads the scene into the session; this panel shows
it and asks for another (``sceneRequested(index)``)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from gui.model.lesson import Lesson, expect_sentence, note_html

NOTES_TIP = "The teacher's note for this scene."


class NotesBrowser(QTextBrowser):
    """The scene's note: HTML without resources. Nothing a note names (a picture, a style sheet, a link)
    is ever read or followed."""

    def __init__(self, **kwargs):
        super().__init__(openExternalLinks=False, openLinks=False, **kwargs)

    def loadResource(self, kind, name):  # noqa: N802 - Qt's name
        # Something, never nothing: on an empty answer the document reads the file itself.
        return QImage() if kind == QTextDocument.ResourceType.ImageResource else ""


class LessonView(QWidget):
    """Hidden until a lesson is open. ``sceneRequested(int)``: the scene a button asks for."""

    sceneRequested = Signal(int)
    closeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.lesson: Lesson | None = None
        self.caption = QLabel(objectName="sceneTitleLabel", wordWrap=True,
                              textFormat=Qt.TextFormat.PlainText)  # the lesson's words, as written
        self.caption.setToolTip("The lesson, and the scene shown: PageDown/PageUp move between scenes "
                                "in presenter mode.")
        font = self.caption.font()
        font.setBold(True)
        self.caption.setFont(font)
        self.notes = NotesBrowser(objectName="sceneNotes")
        self.notes.setToolTip(NOTES_TIP)
        self.notes.setAccessibleName("Scene notes")
        self.previous_button = QPushButton("◀ Previous scene", objectName="previousSceneButton")
        self.previous_button.setToolTip("Load the previous scene's experiment (PageUp in presenter mode).")
        self.next_button = QPushButton("Next scene ▶", objectName="nextSceneButton")
        self.next_button.setToolTip("Load the next scene's experiment (PageDown in presenter mode).")
        self.close_button = QPushButton("Close lesson", objectName="closeLessonButton")
        self.close_button.setToolTip("Close the lesson panel; the experiment of the scene shown stays open.")
        self.previous_button.clicked.connect(lambda: self._ask(-1))
        self.next_button.clicked.connect(lambda: self._ask(+1))
        self.close_button.clicked.connect(self.closeRequested)
        self.top = QHBoxLayout()
        self.buttons = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.top)
        layout.addWidget(self.notes, 1)
        layout.addLayout(self.buttons)
        self.arrange(column=False)
        self.setVisible(False)

    def arrange(self, column: bool) -> None:
        """Above the plots (a row: the caption, then the buttons, the notes under them), or as a
        column beside the plots in presenter mode (caption, notes, then the buttons)."""
        for layout in (self.top, self.buttons):
            while layout.count():
                layout.takeAt(0)
        self.top.addWidget(self.caption, 1)
        row = self.buttons if column else self.top
        for button in (self.previous_button, self.next_button, self.close_button):
            row.addWidget(button)
        # Beside the plots (presenter mode) the column is narrow: short words, and no Close
        # (leaving the lesson is not something a teacher does in front of the class).
        self.previous_button.setText("◀ Previous" if column else "◀ Previous scene")
        self.next_button.setText("Next ▶" if column else "Next scene ▶")
        self.close_button.setVisible(not column)
        self.notes.setMaximumHeight(16777215 if column else 7 * self.notes.fontMetrics().lineSpacing())
        self.column = column

    def show_lesson(self, lesson: Lesson | None) -> None:
        self.lesson = lesson
        self.setVisible(lesson is not None)
        if lesson is None:
            return
        scene = lesson.scene
        self.caption.setText(f"{lesson.title} · {lesson.caption()}")
        # The first expectation is the scene's headline; the note says the others in its own words,
        # and the tooltip lists every one that the tests check.
        regression = scene.experiment.task == "regression"  # its errors: the MSE per point
        what = expect_sentence(scene.expect, scene.experiment.epochs, regression)
        self.notes.setHtml(note_html(scene.note) + (f"<p><i>What to see: {what}</i></p>" if what else ""))
        checked = html.escape(expect_sentence(scene.expects, scene.experiment.epochs, regression), quote=False)
        self.notes.setToolTip(NOTES_TIP + (f" What the tests check: {checked}" if checked else ""))
        self.previous_button.setEnabled(lesson.index > 0)
        self.next_button.setEnabled(lesson.index < len(lesson.scenes) - 1)

    def _ask(self, step: int) -> None:
        if self.lesson is not None:
            self.sceneRequested.emit(self.lesson.index + step)
