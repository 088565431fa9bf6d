"""The sweep view (``sweepView``, the side panel's Sweep tab): a sweep's progress, what its settings do
to the final test error (gui/qt/runs/sweep_plot.py) and its results table, a thin view of
``session.sweep_results()`` (gui/model/sweep_summary.py computes every number it shows).

A click on a point, a cell or a row ticks that variant's runs for comparison (``session.compare``):
the loss plot overlays their curves and the runs tab's compare view draws their boundaries.
While a sweep trains, a progress bar says how many runs are done and about how long the rest take,
and Stop ends the sweep, keeping the runs it finished.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.model import sweep_summary as summary
from gui.model.plain_text import tooltip
from gui.model.sweep_grid import SHORT, format_value, values_label
from gui.qt.runs.sweep_plot import SweepPlot

EMPTY = ("No sweep yet. Run › Sweep… (Ctrl+F5) trains every combination of one or two settings' values, "
         "with a few seeds each, and shows here what each setting does to the test error.")
NONE_KEPT = ("The sweep kept no run (each was stopped or failed), so there is nothing to draw: Run › Sweep… "
             "trains it again.")
RUNNING = "Training the sweep's runs: each point or cell appears as its runs finish."
HINT = {1: "Final test {error}: the median over the seeds, bars from the least to the greatest. Click a point or "
           "a row to compare its runs in the loss plot and the Runs tab.",
        2: "Final test {error}: the median over the seeds in each cell. Click a cell or a row to compare its "
           "runs in the loss plot and the Runs tab."}


def time_left(seconds) -> str:
    """``"about 40 s left"``, ``"about 3 min left"``; without an estimate yet, says so."""
    if seconds is None:
        return "estimating the time left"
    seconds = max(0.0, float(seconds))
    return f"about {seconds:.0f} s left" if seconds < 90 else f"about {seconds / 60:.0f} min left"


def spread_text(spread: summary.Spread, unit: str = " %", digits: str = ".1f") -> str:
    """``"2.1 % (1.7–2.9)"``; the median alone for one seed; "–" without a number."""
    if spread.median is None:
        return "–"
    text = f"{spread.median:{digits}}{unit}"
    if spread.count > 1:
        text += f" ({spread.low:{digits}}–{spread.high:{digits}})"
    return text


class SweepTable(QTableWidget):
    """The results table, its columns fitted to its width: where they do not fit (a 1024-pixel screen), the
    runs' count and then the train error are hidden (each row's tooltip keeps every number)."""

    optional: list[int] = []

    def fit_columns(self) -> None:
        header = self.horizontalHeader()
        count = self.columnCount()
        wanted = {j: max(self.sizeHintForColumn(j), header.sectionSizeHint(j)) for j in range(count)}
        shown = list(range(count))
        for j in self.optional:
            if sum(wanted[k] for k in shown) <= self.viewport().width():
                break
            shown.remove(j)
        for j in range(count):
            self.setColumnHidden(j, j not in shown)
            if j in shown:
                self.setColumnWidth(j, wanted[j])

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_columns()


class SweepView(QWidget):
    """See the module docstring. ``cells()`` returns what the plot draws; ``tick(index)`` does what a click
    on variant ``index`` does."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.setObjectName("sweepView")
        self.session = session
        self.message = QLabel(EMPTY, objectName="sweepMessage", wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.progress = QProgressBar(objectName="sweepProgressBar", textVisible=True)
        self.progress.setToolTip("Runs of the sweep done, of all its runs, and about how long the rest take")
        self.stop_button = QPushButton("Stop sweep", objectName="sweepStopButton")
        self.stop_button.setToolTip("End the sweep: the runs it finished stay, with their points in this view")
        self.stop_button.clicked.connect(self._stop)
        self.plot = SweepPlot()
        self.plot.picked.connect(self.tick)
        self.bands_check = QCheckBox("Median and range on the loss plot", objectName="sweepBandsCheck", checked=True)
        self.bands_check.setToolTip("Draw each variant's median train loss over its seeds on the loss plot, "
                                    "with a band from the least to the greatest. The colours run from dark to light in "
                                    "the table's order; the legend names the first four variants")
        self.table = SweepTable(0, 0, objectName="sweepTable")
        self.table.setAccessibleName("Sweep results")
        self.table.setToolTip("Each variant's final errors over its seeds: the median, and in brackets the least "
                              "and the greatest.\nClick a row to compare its runs.")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.cellClicked.connect(lambda row, _column: self.tick(row))

        for widget, name in ((self.progress, "Sweep progress"), (self.stop_button, "Stop the sweep"),
                             (self.plot, "Sweep plot: final test error against the values"),
                             (self.bands_check, "Sweep bands on the loss plot")):
            widget.setAccessibleName(name)
        self.plot.setToolTip("Final test error of each variant: the median over its seeds, a bar from the least "
                             "to the greatest (two settings: a heatmap, the median in each cell).\nClick a point or "
                             "a cell to compare its runs.")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.stop_button)
        self.progress_row = QWidget(objectName="sweepProgress")
        self.progress_row.setLayout(bar)
        self.progress_row.hide()
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.message)
        column.addWidget(self.progress_row)
        column.addWidget(self.plot, 1)
        column.addWidget(self.bands_check)
        split = QSplitter(Qt.Orientation.Vertical)  # the plot over the table: the panel is taller than wide
        split.setChildrenCollapsible(False)
        split.addWidget(top)
        split.addWidget(self.table)
        split.setSizes([500, 260])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self.results: list = []
        self.task = "classification"
        events = session.events
        events.connect("sweep_progress", self._progress)
        events.connect("sweep", self.refresh)
        events.connect("runs", self.refresh)  # a sweep's run deleted, or brought back
        self.refresh()

    # -- the automation interface ----------------------------------------------------------
    def cells(self) -> list:
        """``[(values, median_test_error), ...]``: what the plot draws, one point or cell per variant."""
        return self.plot.cells()

    def tick(self, index: int) -> list[str]:
        """Tick variant ``index``'s runs for comparison (a click on its point, cell or row); returns their names."""
        if not 0 <= index < len(self.results):
            raise ValueError(f"the sweep has no variant {index}: it has {len(self.results)}, numbered from 0")
        names = [n for n in self.results[index]["runs"] if n in {run.name for run in self.session.runs}]
        self.session.compare(names)
        self.plot.select(index)
        self.table.selectRow(index)
        return names

    # -- following the session -------------------------------------------------------------
    def refresh(self, *_) -> None:
        """Everything again from the session: the results, the message, the progress row."""
        s = self.session
        results = list(s.sweep_results())
        running = s.sweep_state == "running"
        self.progress_row.setVisible(running)
        if running:
            self.message.setText(RUNNING)
        else:
            dims = min(2, len(summary.settings_of(results)))
            error = summary.error_words(summary.task(results, s.runs))[2]
            kept = any(r.get("runs") for r in results)
            self.message.setText(EMPTY if not (results and dims) else HINT[dims].format(error=error) if kept
                                 else NONE_KEPT)
        if results != self.results or not results:  # a run kept, deleted or back: else the marks stay
            self.results = results
            self.task = summary.task(results, s.runs)  # % misclassified, or a regression's MSE per point
            self.plot.select(None)
            self.plot.show_results(results, self.task)
            self._fill_table()

    def _progress(self, done: int, total: int, seconds_left) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{done} of {total} runs, {time_left(seconds_left)}")
        self.refresh()

    def _stop(self) -> None:
        self.session.stop_sweep()  # its event "sweep" hides the progress row

    def _fill_table(self) -> None:
        settings = summary.settings_of(self.results)
        _, digits, error = summary.error_words(self.task)
        headers = [SHORT.get(s, s) for s in settings] + [f"Test {error}", f"Train {error}", "Runs"]
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        variants = summary.variants(self.results)
        self.table.setRowCount(len(variants))
        states = {run.name: getattr(run, "state", None) for run in self.session.runs}
        for row, variant in enumerate(variants):
            texts = [format_value(variant.values.get(s)) for s in settings]
            # A variant whose every run diverged has no error to give: the table says why, not "–".
            diverged = bool(variant.runs) and all(states.get(n) == "diverged" for n in variant.runs)
            test, train = ("diverged" if diverged and variant.spreads[m].median is None
                           else spread_text(variant.spreads[m], unit="", digits=digits)
                           for m in ("test_error", "train_error"))
            texts += [test, train, f"{len(variant.runs)} run{'s' if len(variant.runs) != 1 else ''}"]
            tip = (f"{values_label(variant.values)}\ntest {error}: {test}\ntrain {error}: {train}\nruns: "
                   + ", ".join(variant.runs))
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(tooltip(tip))  # run names and values may come from a file
                if column >= len(settings) and column < len(texts) - 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.optional = [len(headers) - 1, len(headers) - 2]  # the runs' count, then the train error
        self.table.fit_columns()
