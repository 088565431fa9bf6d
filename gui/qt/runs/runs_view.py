"""The runs table (``runsTable``), Fork (``forkButton``), Delete, and the compare view (``compareView``):
thin views of the session's runs (gui/model/runs.py).

Ticking a row ticks the run for comparison (``session.compare``): the loss plot overlays its
curve (gui/qt/plots/overlays.py) and the compare view draws the ticked runs' boundaries side by side at
the timeline's epoch, small multiples that share one colour scale.
"""

from __future__ import annotations

import json
import time
from dataclasses import fields

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.model import boundary
from gui.model.experiment import Experiment
from gui.model.plain_text import tooltip
from gui.model.snapshot_budget import run_note, run_sentence
from gui.model.weights import model_from
from gui.qt.plots import palette as palettes
from gui.qt.plots.plots import (
    Heatmap,
    class_colours,
    class_symbols,
    margins,
    output_bound,
    paint_boundary,
    pixel_edges,
)

COLUMNS = ("Run", "What differs", "Epochs", "Train loss", "Test loss", "Train error", "Test error", "Wall time")
HEADERS = ("Run", "What differs", "Epochs", "Train\nloss", "Test\nloss", "Train\nerror", "Test\nerror", "Wall\ntime")
# A narrow table drops these columns first (their numbers stay in the row's tooltip); the run, what
# differs, the train loss and the test error always show.
OPTIONAL = (7, 4, 2, 5)
DIFFERS_MIN = 90  # "What differs" keeps at least this width (its text is elided, the tooltip has it whole)
LIVE_HZ = 2  # the training run's row is refreshed at most this often
MAX_COMPARED_PARAMETERS = 1_000_000  # wider networks are not drawn on the GUI thread here
HINT = "Tick runs in the table<br>to compare their boundaries here."  # two lines: it fits a narrow panel
TRAINING_ONLY = ("blocks", "eta", "batch_size", "epochs")  # settings that leave the data as it is


def _number(value, unit: str = "", digits: str = ".4g") -> str:
    return "–" if value is None else f"{value:{digits}}{unit}"


def row_texts(run) -> list[str]:
    f = run.final
    wall = "training…" if run.state == "running" else f"{run.wall_time:.1f} s"
    state = "" if run.state in ("completed", "running") else f" ({run.state})"
    state += f" – {run_note(run)}" if run_note(run) else ""  # a wide network's run kept fewer snapshots
    return [run.name, run.diff + state, f"{run.epochs:,}", _number(f["train_loss"]), _number(f["test_loss"]),
            _number(f["train_error"], " %", ".1f"), _number(f["test_error"], " %", ".1f"), wall]


def _why(run) -> str:
    """What differs, and why the run kept fewer snapshots where it did."""
    return "\n".join(text for text in (run.diff, run_sentence(run)) if text)


class RunsTable(QTableWidget):
    """The table; Delete deletes the selected run. A key handler, not a QShortcut: a second
    Delete shortcut in the window made the block list's own Delete shortcut ambiguous.

    The columns fit the table's width, never a horizontal scroll bar: "What differs" takes what the
    others leave (its text elided), and a narrow table drops the columns of ``OPTIONAL`` in turn."""

    delete_pressed = None

    def fit_columns(self) -> None:
        header = self.horizontalHeader()
        room = self.viewport().width()
        wanted = {j: max(self.sizeHintForColumn(j), header.sectionSizeHint(j)) for j in range(self.columnCount())}
        shown = [j for j in range(self.columnCount()) if j != 1]
        differs = max(DIFFERS_MIN, header.sectionSizeHint(1))  # its title whole, its text elided
        for j in OPTIONAL:
            if sum(wanted[k] for k in shown) + differs <= room:
                break
            shown.remove(j)
        for j in range(self.columnCount()):
            self.setColumnHidden(j, j != 1 and j not in shown)
            if j in shown:
                self.setColumnWidth(j, wanted[j])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_columns()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Delete and self.delete_pressed is not None:
            self.delete_pressed()
            event.accept()
            return
        super().keyPressEvent(event)


class RunsPanel(QWidget):
    """The table of runs with its buttons, beside the compare view."""

    def __init__(self, session, parent=None, palette_of=lambda: palettes.STANDARD):
        super().__init__(parent)
        self.session = session
        self.table = RunsTable(0, len(COLUMNS), objectName="runsTable")
        self.table.delete_pressed = self.delete_selected
        self.table.setAccessibleName("Runs")
        self.table.setToolTip("Every run is kept: tick runs to overlay their loss curves and compare their "
                              "boundaries.\nDelete removes the selected run (Ctrl+Z brings it back).")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Sized to their contents by refresh, not by the header: in ResizeToContents mode every cell's
        # new text measures its whole column again (0.5 ms a set with 25 runs, each live message).
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._ticked)
        self.fork_button = QPushButton("Fork", objectName="forkButton")
        self.fork_button.setToolTip("Start a new run from the weights at the timeline's epoch, with the current "
                                    "settings (change eta first):\nthe run trained past it stays for comparison.")
        self.fork_button.clicked.connect(session.fork)
        self.delete_button = QPushButton("Delete run", objectName="deleteRunButton")
        self.delete_button.setToolTip("Forget the selected run (Delete); Ctrl+Z brings it back.")
        self.delete_button.clicked.connect(self.delete_selected)
        self.compare_view = CompareView(session, palette_of=palette_of)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table_actions: dict[str, QAction] = {}
        for key, text, slot in (("script", "Export this run as Python…", self._export_selected_script),
                                ("copy", "Copy this run as code", self._copy_selected),
                                ("delete", "Delete run", self.delete_selected)):
            act = QAction(text, self.table)
            act.triggered.connect(slot)
            self.table.addAction(act)
            self.table_actions[key] = act
        self.files = None  # the window's FileActions (set by the window): the exports' dialogs and messages
        buttons = QHBoxLayout()
        buttons.addWidget(self.fork_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        # The table over the compare view: the side panel that holds them is taller than wide.
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(left)
        split.addWidget(self.compare_view)
        split.setSizes([400, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._next_live = 0.0
        self._filling = False
        events = session.events
        events.connect("runs", self.refresh)
        events.connect("progress", self._progress)
        for name in ("state", "model", "seek"):
            events.connect(name, lambda *_: self._update_buttons())
        self.refresh()

    # -- the table ---------------------------------------------------------------------
    def refresh(self) -> None:
        runs, ticked = self.session.runs, set(self.session.run_book.ticked)
        self._filling = True
        self.table.setRowCount(len(runs))
        # Only what changed is set: every set repaints its cell, and a run's start and end come here
        # with a table of dozens of runs (on the GUI thread, which holds the GIL the training needs).
        for row, run in enumerate(runs):
            texts = row_texts(run)
            for column, text in enumerate(texts):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    if column == 0:  # a box shows once the item has a check state
                        item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled
                                      | Qt.ItemFlag.ItemIsSelectable)
                        item.setCheckState(Qt.CheckState.Unchecked)
                    self.table.setItem(row, column, item)
                if item.text() != text:
                    item.setText(text)
                tip = f"Tick to compare run {run.name}" if column == 0 else tooltip(_why(run)) if column == 1 else None
                if column == 0:  # the numbers of the columns a narrow table drops
                    tip += "\n" + " · ".join(f"{COLUMNS[j].lower()} {texts[j]}" for j in (2, 3, 4, 5, 6, 7))
                if tip is not None and item.toolTip() != tip:
                    item.setToolTip(tip)
                if column == 0:
                    state = Qt.CheckState.Checked if run.name in ticked else Qt.CheckState.Unchecked
                    if item.checkState() != state:
                        item.setCheckState(state)
        self._filling = False
        self.table.fit_columns()  # once for the whole table (the stretched column stays)
        self._update_buttons()

    def _progress(self, _message) -> None:
        run, now = self.session.current_run, time.perf_counter()
        if run is None or run.state != "running" or now < self._next_live:
            return
        self._next_live = now + 1 / LIVE_HZ
        row = self.session.runs.index(run) if run in self.session.runs else -1
        item = self.table.item(row, 2) if row >= 0 else None
        if item is not None:
            text, before = f"{run.epochs:,}", item.text()
            item.setText(text)
            if len(text) > len(before):  # 1,000 -> 10,000: the column grows with it
                self.table.fit_columns()

    def _ticked(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != 0:
            return
        names = [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                 if self.table.item(r, 0).checkState() == Qt.CheckState.Checked]
        self.session.compare(names)

    def selected(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).text() if rows else None

    def delete_selected(self) -> None:
        name = self.selected()
        if name is None:
            self.session.events.emit("status", "Select a run in the table to delete it.")
            return
        try:
            self.session.delete_run(name)
        except ValueError as error:
            self.session.events.emit("status", str(error)[0].upper() + str(error)[1:] + ".")

    def _export_selected_script(self) -> None:
        name = self.selected()
        if name is not None and self.files is not None:
            self.files._export_dialog(f"run_{name}.py", lambda path: self.files.exports.export_script(path, name))

    def _copy_selected(self) -> None:
        name = self.selected()
        if name is not None and self.files is not None:
            self.files.exports.copy_as_code(name)

    def _update_buttons(self) -> None:
        s = self.session
        self.fork_button.setEnabled(s.has_model and s.history.epochs > 0)
        self.delete_button.setEnabled(bool(s.runs))


class CompareView(pg.GraphicsLayoutWidget):
    """The ticked runs' boundaries side by side at one epoch (the timeline's, or the last that all
    of them reached), each titled with its name and the epoch of the snapshot drawn."""

    def __init__(self, session, parent=None, palette_of=lambda: palettes.STANDARD):
        super().__init__(parent)
        self.palette_of = palette_of  # the boundary plot's palette (gui/qt/plots/palette.py), followed here
        self.setObjectName("compareView")
        self.setAccessibleName("Compare runs")
        self.setToolTip("The ticked runs' decision boundaries at the same epoch (move the timeline to pick it).")
        self.session = session
        self.panels: list[tuple[str, int]] = []  # (run name, epoch drawn)
        self._data_cache: dict[str, tuple] = {}
        self._shown: list | None = None  # what is drawn: [palette name, (run name, (epoch, id of its weights)), ...]
        self.hint = self.addLabel(HINT)
        for name in ("runs", "seek"):
            session.events.connect(name, lambda *_: self.refresh())

    @property
    def drawn_palette(self) -> str | None:
        """The name of the palette the shown panels were drawn in; None before the first drawing
        (for automation: a palette change redraws them)."""
        return None if self._shown is None else self._shown[0]

    def epoch(self) -> int:
        s = self.session
        if s.seek_epoch is not None:
            return s.seek_epoch
        ticked = [s.run_book[n].epochs for n in s.run_book.ticked]
        return min(ticked) if ticked else s.history.epochs

    def _data(self, run):
        """The run's data (made again from its settings; the last few kept), its grid and extent. The key
        names own points by their summary (count and hash), not by the points themselves."""
        key = json.dumps({k: v for k, v in run.settings.items() if k not in TRAINING_ONLY}, sort_keys=True)
        if key not in self._data_cache:
            known = {f.name for f in fields(Experiment)}
            data = Experiment(**{k: v for k, v in run.replay_settings().items() if k in known}).make_data()
            if len(self._data_cache) >= 8:
                self._data_cache.clear()
            self._data_cache[key] = (data, boundary.inputs_grid(data, data.extent()), data.extent())
        return self._data_cache[key]

    @staticmethod
    def _heatmap(image: np.ndarray, blocks, palette, classes: int) -> Heatmap:
        """Two classes: class 1 - class 0 on the palette's diverging map; more: each class's shade by
        the winner's margin, as the boundary plot draws them (gui/qt/plots/plots.py)."""
        heat = Heatmap(axisOrder="col-major")
        paint_boundary(heat, image, palette, output_bound(blocks) or max(1e-6, float(margins(image).max())), classes)
        return heat

    def refresh(self) -> None:
        """Draw the ticked runs at :meth:`epoch`; nothing to do (and no time spent: a run starts and
        ends with this event) when the same snapshots are shown already."""
        s = self.session
        names = s.run_book.ticked
        epoch = self.epoch()
        found = {name: s.run_weights(name, epoch) for name in names}
        palette = self.palette_of()
        key = [palette.name] + [(name, None if f is None else (f[0], id(f[1]))) for name, f in found.items()]
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        self.panels = []
        if not names:
            self.hint = self.addLabel(HINT)
            return
        for column, name in enumerate(names):
            run = s.run_book[name]
            blocks = run.settings["blocks"]
            if found[name] is None or found[name][1].numel() > MAX_COMPARED_PARAMETERS:
                why = run_note(run) if found[name] is None and run_note(run) else "no weights to draw here"
                self.addLabel(f"{name}: {why}", row=0, col=column)
                continue
            drawn, flat = found[name]
            data, grid, extent = self._data(run)
            with torch.no_grad():
                image = np.nan_to_num(boundary.image(model_from(blocks, flat), grid))
            # A short title in a small font: three panels must fit the runs dock's default 280 pixels
            # (with "A · epoch 300" at the default size, the third panel fell off the edge).
            plot = self.addPlot(row=0, col=column, title=f"{name} · {drawn:,}", size="9pt")
            plot.setToolTip(tooltip(f"Run {name} at epoch {drawn}: {run.diff}"))
            plot.setMinimumWidth(40)  # the panels share the width, however narrow the dock
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            points, labels = data.points_train.numpy(), data.labels_train.numpy()
            heat = self._heatmap(image, blocks, palette, int(labels.max(initial=1)) + 1)
            x0, x1, y0, y1 = pixel_edges(extent, image.shape[:2])  # pixel centres on the grid, as in the boundary plot
            heat.setRect(x0, y0, x1 - x0, y1 - y0)
            plot.addItem(heat)
            colours, symbols = class_colours(palette.class_colours), class_symbols(palette.symbols)
            for label in np.unique(labels):  # one brush a class: a brush a point is slow
                chosen = points[labels == label]
                plot.addItem(pg.ScatterPlotItem(chosen[:, 0], chosen[:, 1], size=4, pen=None, brush=colours[label],
                                                symbol=symbols[label]))
            self.panels.append((name, drawn))
        # New panels lay themselves out at their preferred widths; the view sets the layout's size
        # only when it is resized, so without this a third panel could fall off a narrow dock.
        self.ci.setGeometry(self.range)
