"""Every string from a file is shown as plain text, and no text makes Qt open a file it names.

The hostile strings name a real, tall picture in the working folder (never a device file: reading
/dev/zero would kill the test process). Qt's rich text reads such a picture to lay the text out, so a label, legend or
tooltip that took the string for HTML grows to the picture's height: that height is how these tests
see that a file was read."""

from __future__ import annotations

import json

import pyqtgraph as pg
import pytest
from gui_helpers import find
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QLabel, QTableWidget, QTextBrowser
from test_trust_code import hostile_file

from gui.qt.window import exports

TALL = 900  # pixels: a picture that was read makes the text at least this tall
SHORT = 200  # a few lines of text


@pytest.fixture
def hostile(tmp_path, monkeypatch) -> str:
    """Short enough for a legend entry (a relative name: Qt looks for it in the working folder)."""
    monkeypatch.chdir(tmp_path)
    image = QImage(20, TALL, QImage.Format.Format_RGB32)
    image.fill(0xFF336699)
    assert image.save("t.png")
    return '<b>x</b><img src="t.png"> & more'


def lesson_file(tmp_path, title: str, scene_title: str, note: str = "", **scene) -> str:
    path = tmp_path / "hostile.lesson.json"
    path.write_text(json.dumps({"title": title, "scenes": [{"title": scene_title, "note": note, **scene},
                                                           {"title": "second"}]}), "utf-8")
    return path


def as_qt_shows(text: str) -> QTextDocument:
    """``text`` laid out as a tooltip or an AutoText label lays it out: as HTML when it looks like HTML."""
    document = QTextDocument()
    if QtGui.mightBeRichText(text):
        document.setHtml(text)
    else:
        document.setPlainText(text)
    return document


def as_html(text: str) -> QTextDocument:
    """``text`` laid out as pyqtgraph lays out a title or a legend entry: always as HTML."""
    document = QTextDocument()
    document.setHtml(text)
    return document


def assert_no_label_takes_html(window) -> None:
    """The safety net: any label showing a tag shows it as plain text."""
    for label in window.findChildren(QLabel):
        if "<img" in label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName() or label.text()


def test_the_oracle_sees_a_picture_read(hostile):
    assert as_qt_shows(hostile).size().height() >= TALL
    assert as_html(hostile).size().height() >= TALL


def test_a_lessons_titles_are_shown_as_written_and_read_no_file(window, tmp_path, hostile):
    assert window.files.open_lesson(lesson_file(tmp_path, hostile, hostile, f"**bold** {hostile}"))
    caption = find(window, QLabel, "sceneTitleLabel")
    assert caption.textFormat() == Qt.TextFormat.PlainText
    assert caption.text() == f"{hostile} · Scene 1 of 2: {hostile}"
    assert caption.sizeHint().height() < SHORT
    notes = find(window, QTextBrowser, "sceneNotes")
    assert hostile in notes.toPlainText()
    assert "font-weight:700;\">bold<" in notes.toHtml()  # the note's markdown still works
    assert notes.document().size().height() < SHORT
    assert hostile in window.windowTitle()  # a window title is always plain text
    assert_no_label_takes_html(window)
    window.grab().save(str(tmp_path / "lesson.png"))


def test_the_notes_never_load_a_resource_even_when_given_html(window, tmp_path, hostile):
    assert window.files.open_lesson(lesson_file(tmp_path, "L", "S"))
    notes = find(window, QTextBrowser, "sceneNotes")
    notes.setHtml(f'<p>{hostile}</p><a href="t.png">link</a>')
    assert notes.document().size().height() < SHORT
    assert not notes.openLinks() and not notes.openExternalLinks()


def test_a_refused_lessons_message_is_plain_text(window, tmp_path, hostile):
    assert not window.files.open_lesson(lesson_file(tmp_path, "L", hostile, expect="explodes"))
    dialog = window.files.dialog
    assert dialog.textFormat() == Qt.TextFormat.PlainText
    assert hostile in dialog.text()
    assert_no_label_takes_html(window)  # the message box's own label
    dialog.close()


def test_a_kept_runs_words_ticked_are_plain_in_the_table_legend_and_compare_view(window, tmp_path, hostile):
    assert window.files.open(hostile_file(tmp_path, hostile), confirmed=True)
    window.session.compare(["A"])
    table = find(window, QTableWidget, "runsTable")
    assert table.item(0, 1).text().startswith(hostile)  # a table item is plain text
    tip = as_qt_shows(table.item(0, 1).toolTip())
    assert tip.toPlainText().splitlines()[0] == hostile and tip.size().height() < SHORT
    legend = window.loss_plot.getPlotItem().legend
    shown = [label.item for _, label in legend.items if "A:" in label.item.toPlainText()]
    assert [item.toPlainText() for item in shown] == [f"A: {hostile}"]
    assert shown[0].boundingRect().height() < SHORT
    compare = find(window, pg.GraphicsLayoutWidget, "compareView")
    plot = compare.getItem(0, 0)
    tip = as_qt_shows(plot.toolTip())
    assert tip.toPlainText().endswith(hostile) and tip.size().height() < SHORT
    assert_no_label_takes_html(window)
    window.runs_dock.show()
    window.grab().save(str(tmp_path / "runs.png"))


def test_a_tooltip_without_markup_is_left_as_it_is():
    from gui.model.plain_text import tooltip

    assert tooltip("Run B at epoch 80: fork of A") == "Run B at epoch 80: fork of A"
    for text in ("a & b", "a &lt; b", "<b>x</b>", "x\n<img src='y'>"):
        assert as_qt_shows(tooltip(text)).toPlainText() == text


def test_an_animations_title_is_escaped(window, tmp_path, monkeypatch, hostile):
    titles = []
    monkeypatch.setattr(pg.PlotItem, "setTitle", lambda self, title=None, **args: titles.append(title))
    assert window.files.open(hostile_file(tmp_path, "first run"), confirmed=True)
    exports.write_gif(tmp_path / "run.gif", window.session, 2, title=hostile)
    titles = [t for t in titles if t is not None]  # None: the plot takes its title away
    assert titles and all(as_html(t).toPlainText().startswith(hostile) and as_html(t).size().height() < SHORT
                          for t in titles)
