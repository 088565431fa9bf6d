"""The run controls (Run, Pause/Resume, Step, Stop, Reset), the progress bar and the metrics line.

A thin view of the session: the buttons call its methods, and its ``state`` event decides what
is enabled and what the pause button says (never read back from a label).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from gui.model.session import PAUSED, RUNNING, Session
from gui.qt.plots.quiet_label import QuietLabel

PROGRESS_STYLE = ("QProgressBar { border: 1px solid #9a9a9a; border-radius: 3px; background: #fafafa;"
                  " color: #1a1a1a; text-align: center; }"
                  " QProgressBar::chunk { background: #a8c7ee; border-radius: 2px; }")


class CompactButton(QPushButton):
    """A push button as wide as its text needs: the style's 80-pixel minimum a button kept the row of six
    from fitting beside the side panel on a 1024-pixel screen."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        metrics = self.fontMetrics()
        wide = metrics.horizontalAdvance(self.text().replace("&", "")) + metrics.averageCharWidth() + 16
        return QSize(min(hint.width(), wide), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.sizeHint()


class ProgressBar(QProgressBar):
    """``progressBar``: "epoch 56 of 300" where that fits, "56 / 300" or "56" where it does not: never
    a text cut at both ends."""

    def text(self) -> str:
        value, top = self.value(), self.maximum()
        room = self.width() - 8
        for text in (f"epoch {value} of {top}", f"{value} / {top}", f"{value}"):
            if self.fontMetrics().horizontalAdvance(text) <= room:
                return text
        return f"{value}"

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(f"{self.maximum()}") + 12, hint.height())


class RunPanel(QWidget):
    """``actions`` maps a button's objectName to the QAction (with its shortcut) it triggers."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent)
        self.session = session
        self.run_button = CompactButton("Run", objectName="runButton")
        self.pause_button = CompactButton("Pause", objectName="pauseButton")
        self.step_button = CompactButton("Step", objectName="stepButton")
        self.stop_button = CompactButton("Stop", objectName="stopButton")
        self.reset_button = CompactButton("Reset", objectName="resetButton")
        self.progress = ProgressBar(objectName="progressBar", toolTip="Epochs trained of this run's target.")
        # Flat: the Fusion style's gradients and two-tone text cost 0.4 ms a repaint (ten a second during a
        # run, on the GUI thread that holds the GIL the training needs); drawn from this sheet, 0.07 ms.
        self.progress.setStyleSheet(PROGRESS_STYLE)
        self.metrics = QLabel(objectName="metricsLabel", wordWrap=True)
        font = self.metrics.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)  # the numbers a class reads off the projector
        self.metrics.setFont(font)
        self.metrics.setToolTip("Latest epoch (or the epoch the timeline shows), loss per point and the "
                                "error on both sets: % misclassified, or for a regression the MSE per point.")
        for widget in (self.progress, self.metrics):
            # Opaque, so their many updates during a run do not repaint the window behind them
            # (the GUI thread holds the GIL the training thread needs while it paints).
            widget.setAutoFillBackground(True)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in self.buttons():
            buttons.addWidget(button)
        buttons.addWidget(self.progress, 1)
        self._row = buttons
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(QuietLabel(self.metrics))  # its text changes at every message of a run

    def insert_button(self, button: QPushButton, after: QPushButton) -> None:
        """Put ``button`` (with its own action) in the row right after ``after``."""
        self._row.insertWidget(self._row.indexOf(after) + 1, button)

    def buttons(self) -> tuple[QPushButton, ...]:
        return self.run_button, self.pause_button, self.step_button, self.stop_button, self.reset_button

    def connect_actions(self, actions) -> None:
        """Each button triggers its action, and shows the action's tooltip (with the shortcut)."""
        for button, action in zip(self.buttons(), actions, strict=True):
            button.clicked.connect(action.trigger)
            button.setToolTip(action.toolTip())
        self.actions = actions

    def update_controls(self) -> None:
        s = self.session
        valid, running = not s.validate(), s.running
        paused, live = s.state == PAUSED, s.state in (RUNNING, PAUSED)  # not while stopping
        self.pause_button.setText("Resume" if paused else "Pause")
        enabled = (valid and (not running or paused), live, valid and (live or not running), live,
                   (s.has_model and not running) or live)
        for button, action, on in zip(self.buttons(), self.actions, enabled, strict=True):
            button.setEnabled(on)
            action.setEnabled(on)
