"""A label whose text changes at every message of a run does not lay out the window each time."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.qt.plots.quiet_label import QuietLabel


class LayoutRequests(QObject):
    def __init__(self, widget):
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def window_with(label: QLabel, qtbot, width: int = 300):
    window = QWidget()
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    holder = QuietLabel(label)
    layout.addWidget(holder)
    layout.addWidget(QLabel("below"))
    window.resize(width, 200)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(10)
    return window, holder


def test_new_texts_that_fit_lay_out_nothing_and_a_longer_one_gets_its_room(qtbot):
    label = QLabel("epoch 100", objectName="timelineLabel")
    window, holder = window_with(label, qtbot)
    requests = LayoutRequests(window)
    for epoch in range(101, 140):
        label.setText(f"epoch {epoch}")
        qtbot.wait(1)
    assert requests.count == 0
    assert window.findChild(QLabel, "timelineLabel") is label and label.text() == "epoch 139"
    label.setText("epoch 139 of 1000000")  # more than the holder had: it grows, once
    qtbot.wait(10)
    assert requests.count >= 1 and holder.sizeHint().width() >= label.sizeHint().width()
    assert label.width() >= label.sizeHint().width()  # the whole text shows
    before = requests.count
    label.setText("epoch 1")  # shorter: the holder keeps its size, so nothing moves
    qtbot.wait(10)
    assert requests.count == before


def test_a_wrapped_label_gets_the_lines_its_text_needs_at_its_width(qtbot):
    label = QLabel("Epoch 1 of 1000", wordWrap=True)
    window, holder = window_with(label, qtbot, width=200)
    one_line = holder.sizeHint().height()
    label.setText("Epoch 300 of 1000 · loss train 0.0553, test 0.0342 · error train 2.5 %, test 1.7 %")
    qtbot.wait(20)
    lines = label.heightForWidth(holder.width())
    assert lines > one_line and holder.sizeHint().height() >= lines and holder.height() >= lines
    label.setText("Epoch 301 of 1000")
    qtbot.wait(20)
    assert holder.sizeHint().height() >= lines  # keeps its lines while the run goes on: the plots do not jump


def test_a_bigger_font_measures_again(qtbot):
    label = QLabel("epoch 100")
    window, holder = window_with(label, qtbot)
    small = holder.sizeHint()
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 2)  # presenter mode
    label.setFont(font)
    qtbot.wait(10)
    assert holder.sizeHint().width() > small.width() and holder.sizeHint().height() > small.height()
