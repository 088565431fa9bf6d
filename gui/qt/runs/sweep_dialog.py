"""Run › Sweep… (``sweepAction``, Ctrl+F5): the dialog that starts a sweep (``sweepDialog``).

It asks for one setting and its values (``sweepParamCombo``, ``sweepValuesEdit``), an optional second
one (``sweepParam2Combo``, "(none)" first; ``sweepValues2Edit``) and the seeds per variant
(``sweepSeedsSpin``, 1 to 10); ``sweepRunButton`` reads the values (gui/model/sweep_grid.py) and calls
``window.session.sweep(grid, seeds)``. Text that cannot be read, or a sweep the session refuses, gets
its sentence in the dialog (``sweepErrorLabel``, plain text) and the dialog stays open with the text as
typed. The dialog is not modal: the window stays usable while it is open. The values last started are
remembered (QSettings, ``sweep/...``) and read back as any stored text is: checked, or ignored.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from gui.model import sweep_grid as grids
from gui.qt.inside import inside_docks
from gui.qt.plots.sweep_bands import SweepBands

NONE = "(none)"
SEEDS_MAX = 10
SHORTCUT = "Ctrl+F5"
DEFAULTS = {"eta": "1e-4..1e-1 x4", "batch_size": "10, 50, 100", "epochs": "100, 300, 1000", "width": "4, 8, 25",
            "layers": "1, 2, 3", "optimizer": "SGD, Adam", "seed": "0, 1, 2, 3"}
STORED_CHARS = 200  # a remembered text longer than this is not read back


class SweepDialog(QDialog):
    """See the module docstring; ``start()`` is what ``sweepRunButton`` does (True when a sweep started)."""

    def __init__(self, window):
        super().__init__(window, objectName="sweepDialog")
        self.window = window
        self.setWindowTitle("Sweep")
        self.texts: dict[str, str] = {}  # setting -> the values typed for it, kept while the dialog lives
        intro = QLabel("Train every combination of the values below from the current experiment, each as a kept "
                       "run, and see in the Sweep tab what the setting does to the test error.", wordWrap=True,
                       textFormat=Qt.TextFormat.PlainText)
        self.param_combo = self._combo("sweepParamCombo", with_none=False)
        self.values_edit = QLineEdit(objectName="sweepValuesEdit")
        self.param2_combo = self._combo("sweepParam2Combo", with_none=True)
        self.values2_edit = QLineEdit(objectName="sweepValues2Edit")
        self.seeds_spin = QSpinBox(objectName="sweepSeedsSpin", minimum=1, maximum=SEEDS_MAX, value=1)
        self.seeds_spin.setToolTip("Each variant trains this many times, with seeds experiment seed + 0, + 1, …: "
                                   "the plots then show the median and the range over the seeds")
        for edit in (self.values_edit, self.values2_edit):
            edit.setToolTip("Values separated by commas (0.001, 0.003, 0.01), or a log range: first..last x count "
                            "(1e-4..1e-1 x4: 4 values evenly spaced on a log scale, both ends included)")
            edit.textEdited.connect(lambda _text: self._edited())
        self.param_combo.setToolTip("The setting the sweep varies")
        self.param2_combo.setToolTip("A second setting to vary with the first (a heatmap shows both), or (none)")
        for widget, name in ((self.param_combo, "Setting to sweep"), (self.values_edit, "Its values"),
                             (self.param2_combo, "Second setting to sweep"), (self.values2_edit, "The second's values"),
                             (self.seeds_spin, "Seeds per variant")):
            widget.setAccessibleName(name)
        self.count_label = QLabel(objectName="sweepCountLabel", wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.error_label = QLabel(objectName="sweepErrorLabel", wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.error_label.setStyleSheet("color: #c92a2a;")
        self.run_button = QPushButton("Run sweep", objectName="sweepRunButton", default=True)
        self.run_button.setToolTip("Start the sweep: its runs train in parallel, the Sweep tab shows the progress")
        self.run_button.setAccessibleName("Run the sweep")
        self.run_button.clicked.connect(self.start)
        # Plain buttons, not a QDialogButtonBox: it makes its Close the default, and Enter in a field closed the dialog.
        close = QPushButton("Close", objectName="sweepCloseButton", autoDefault=False)
        close.setToolTip("Close the dialog; its fields are kept for the next time (Esc)")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.run_button)
        buttons.addWidget(close)

        form = QFormLayout()
        form.addRow("Setting", self.param_combo)
        form.addRow("Values", self.values_edit)
        form.addRow("Second setting", self.param2_combo)
        form.addRow("Its values", self.values2_edit)
        form.addRow("Seeds per variant", self.seeds_spin)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addWidget(self.error_label)
        layout.addLayout(buttons)
        self.param_combo.currentIndexChanged.connect(lambda _i: self._setting_changed(self.param_combo,
                                                                                      self.values_edit))
        self.param2_combo.currentIndexChanged.connect(lambda _i: self._setting_changed(self.param2_combo,
                                                                                       self.values2_edit))
        self.seeds_spin.valueChanged.connect(lambda _v: self._edited())
        self._recall()
        self.setMinimumWidth(440)

    def _combo(self, name: str, with_none: bool) -> QComboBox:
        combo = QComboBox(objectName=name)
        if with_none:
            combo.addItem(NONE, None)
        for setting, words in grids.LABELS.items():
            combo.addItem(words, setting)
        return combo

    def setting(self, which: int = 1) -> str | None:
        """The setting chosen in the first (``which`` 1) or second combo (None for "(none)")."""
        return (self.param_combo if which == 1 else self.param2_combo).currentData()

    def _setting_changed(self, combo: QComboBox, edit: QLineEdit) -> None:
        old = getattr(edit, "setting", None)
        if old is not None:
            self.texts[old] = edit.text()
        setting = combo.currentData()
        edit.setting = setting
        edit.setEnabled(setting is not None)
        edit.setText("" if setting is None else self.texts.get(setting, DEFAULTS[setting]))
        edit.setPlaceholderText("" if setting is None else f"e.g. {grids.EXAMPLES[setting]}")
        self.error_label.clear()
        self._count()

    def runs(self) -> int | None:
        """How many runs the fields give (None where they cannot be read)."""
        try:
            grid = self._grid()
        except ValueError:
            return None
        return self.seeds_spin.value() * math.prod(len(values) for values in grid.values())

    def _edited(self) -> None:
        """A field changed: the sentence about the old values no longer holds; the count follows."""
        self.error_label.clear()
        self._count()

    def _count(self) -> None:
        runs = self.runs()
        if runs is None:
            self.count_label.setText("")
        else:
            grid, seeds = self._grid(), self.seeds_spin.value()
            parts = [f"{grids.SHORT[k]} {grids.format_values(v)}" for k, v in grid.items()]
            parts.append(f"{seeds} seed{'s' if seeds != 1 else ''} each")
            self.count_label.setText(f"{runs} run{'s' if runs != 1 else ''}: {'; '.join(parts)}")
        self._fit()

    def _fit(self) -> None:
        """Grow to the wrapped count and sentence: a window keeps its size, and its layout would squeeze the
        fields below their height to make room for the labels' lines."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        height = layout.totalHeightForWidth(self.width())
        if height > self.height():
            self.resize(self.width(), height)

    def _grid(self) -> dict:
        return grids.grid_from(self.setting(1), self.values_edit.text(), self.setting(2), self.values2_edit.text())

    def start(self) -> bool:
        """Read the fields and start the sweep; a sentence in the dialog where that cannot be done."""
        try:
            grid = self._grid()
            self.window.session.sweep(grid, seeds=self.seeds_spin.value())
        except ValueError as error:
            self.error_label.setText(str(error))
            self._fit()
            return False
        self.error_label.clear()
        self._remember()
        inside_docks.raise_view(self.window, self.window.sweep_dock)
        self.accept()
        return True

    # -- remembered between sessions ---------------------------------------------------------
    def _remember(self) -> None:
        store = self.window.settings
        for combo, edit, key in ((self.param_combo, self.values_edit, "sweep/param"),
                                 (self.param2_combo, self.values2_edit, "sweep/param2")):
            store.setValue(key, combo.currentData() or NONE)
            if combo.currentData() is not None:
                store.setValue(f"sweep/values/{combo.currentData()}", edit.text())
        store.setValue("sweep/seeds", self.seeds_spin.value())

    def _recall(self) -> None:
        """The last sweep's fields; anything stored that is not a setting, a short printable text or a count is
        ignored."""
        store = self.window.settings
        for setting in grids.LABELS:
            text = store.value(f"sweep/values/{setting}", None)
            if isinstance(text, str) and len(text) <= STORED_CHARS and text.isprintable():  # no control characters
                self.texts[setting] = text
        for combo, key in ((self.param_combo, "sweep/param"), (self.param2_combo, "sweep/param2")):
            value = store.value(key, None)
            index = combo.findData(value) if value in grids.LABELS else -1
            combo.setCurrentIndex(max(index, 0))
        self._setting_changed(self.param_combo, self.values_edit)
        self._setting_changed(self.param2_combo, self.values2_edit)
        seeds = store.value("sweep/seeds", 1)
        try:
            self.seeds_spin.setValue(min(max(int(seeds), 1), SEEDS_MAX))
        except (TypeError, ValueError):
            self.seeds_spin.setValue(1)


def install(window) -> None:
    """Add Run › Sweep… (``window.sweep_action``, Ctrl+F5) and the sweep's bands on the loss plot
    (``window.sweep_bands``); the view itself is a tab of the side panel (gui/qt/inside/inside_docks.py)."""
    tip = f"Train a grid of variants of this experiment, one or two settings over a few values ({SHORTCUT})"
    action = QAction("S&weep…", window, objectName="sweepAction", statusTip=tip, toolTip=tip)
    action.setShortcut(QKeySequence(SHORTCUT))
    action.triggered.connect(lambda: open_dialog(window))
    window.run_menu.addSeparator()
    window.run_menu.addAction(action)
    window.sweep_action = action
    window.sweep_dialog = None
    window.sweep_bands = SweepBands(window.session, window.loss_plot, window.sweep_view.bands_check)
    window.log_check.toggled.connect(lambda _on: window.sweep_bands.redraw())  # after the plot's own scale


def open_dialog(window) -> SweepDialog:
    """Show the sweep dialog (one per window, raised again if it is open) and start the sweep's workers."""
    if window.sweep_dialog is None:
        window.sweep_dialog = SweepDialog(window)
    dialog = window.sweep_dialog
    window.session.sweeper.prepare(dialog.runs())  # the workers import torch while the values are typed
    dialog.error_label.clear()
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
