"""Sweeps in the window: the values as typed, the summaries, the dialog, the sweep view (its cells, a click
ticking runs, the progress bar), the bands on the loss plot, and a whole sweep from the dialog."""

from __future__ import annotations

import types

import numpy as np
import pytest
from gui_helpers import WAIT_MS, small_data
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox, QWidget

from gui.model import sweep_summary as summary
from gui.model.events import Events
from gui.model.history import History
from gui.model.sweep_grid import format_values, grid_from, parse_values
from gui.qt.inside import inside_docks
from gui.qt.plots.loss_plot import LossPlot
from gui.qt.plots.sweep_bands import SweepBands
from gui.qt.runs import sweep_dialog
from gui.qt.runs.sweep_view import SweepView


# -- the values as typed ----------------------------------------------------------------------
@pytest.mark.parametrize(("setting", "text", "values"), [
    ("eta", "0.001, 0.003, 0.01", [0.001, 0.003, 0.01]),
    ("eta", "1e-4..1e-1 x4", [1e-4, 1e-3, 1e-2, 1e-1]),
    ("eta", " 1e-3 .. 1e-2 x3 ", [1e-3, 0.00316, 1e-2]),
    ("batch_size", "8, 25", [8, 25]),
    ("width", "4..64 x5", [4, 8, 16, 32, 64]),
    ("optimizer", "Adam, sgd", ["Adam", "SGD"]),
    ("optimizer", "sgd+momentum", ["SGD + momentum"]),
    ("seed", "0; 1; 2", [0, 1, 2]),
    ("layers", "0, 1, 3", [0, 1, 3]),
])
def test_values_are_read_as_typed(setting, text, values):
    got = parse_values(setting, text)
    assert got == values
    assert [type(v) for v in got] == [type(v) for v in values]
    assert parse_values(setting, format_values(got)) == got  # what the dialog remembers reads back the same


@pytest.mark.parametrize(("setting", "text", "words"), [
    ("eta", "", "empty"),
    ("eta", "0.01,,0.1", "empty entry"),
    ("eta", "fast", "not a number"),
    ("eta", "0.01, 0.01", "twice"),
    ("eta", "100", "out of range"),
    ("eta", "nan", "not a number"),
    ("eta", "0..1 x4", "above 0"),
    ("eta", "1e-4..1e-1 x1", "count of values"),
    ("eta", "1e-4..1e-1", "not a range"),
    ("eta", "1e-3..1e-3 x3", "equal"),
    ("batch_size", "8.5", "whole number"),
    ("batch_size", "0", "out of range"),
    ("width", "8..9 x4", "repeats whole numbers"),
    ("optimizer", "RMSprop", "not an optimizer"),
    ("optimizer", "SGD..Adam x2", "no range"),
    ("colour", "1, 2", "cannot vary"),
    ("eta", ", ".join(["0.1"] * 3 + [str(i / 1000) for i in range(1, 30)]), "too many"),
])
def test_bad_values_get_a_sentence_that_says_how(setting, text, words):
    with pytest.raises(ValueError, match=words) as error:
        parse_values(setting, text)
    sentence = str(error.value)
    assert sentence.endswith(".") and "\n" not in sentence
    assert any(how in sentence for how in ("e.g.", "give", "choose", "Write", "write", "must", "takes", "ask"))


def test_a_second_setting_is_named_in_its_sentence():
    assert grid_from("eta", "0.01, 0.1", "width", "8, 25") == {"eta": [0.01, 0.1], "width": [8, 25]}
    assert grid_from("eta", "0.01", None, "ignored") == {"eta": [0.01]}
    with pytest.raises(ValueError, match="^Second setting: 'x' is not a number"):
        grid_from("eta", "0.01", "width", "x")
    with pytest.raises(ValueError, match="Both settings are eta"):
        grid_from("eta", "0.01", "eta", "0.1")


# -- the summaries ------------------------------------------------------------------------------
def _result(values, runs, test_error, train_error=None):
    n = len(test_error)
    return {"values": values, "runs": runs,
            "final": {"train_loss": [0.1] * n, "test_loss": [0.2] * n,
                      "train_error": train_error or [1.0] * n, "test_error": test_error}}


RESULTS_1D = [_result({"eta": 0.001}, ["a1", "a2", "a3"], [3.0, 1.0, 2.0]),
              _result({"eta": 0.01}, ["b1", "b2", "b3"], [5.0, None, 9.0]),
              _result({"eta": 0.1}, ["c1"], [float("nan")])]
RESULTS_2D = [_result({"eta": e, "width": w}, [f"r{i}{j}"], [10.0 * i + j])
              for i, e in enumerate((0.001, 0.01)) for j, w in enumerate((4, 8, 25))]


def test_the_median_and_range_leave_out_unknown_numbers():
    spread = summary.spread([3.0, 1.0, 2.0])
    assert (spread.median, spread.low, spread.high, spread.count) == (2.0, 1.0, 3.0, 3)
    assert summary.spread([5.0, None, 9.0]).median == 7.0
    assert summary.spread([float("nan"), None]).median is None
    assert summary.cells(RESULTS_1D) == [({"eta": 0.001}, 2.0), ({"eta": 0.01}, 7.0), ({"eta": 0.1}, None)]


def test_two_settings_make_a_table_of_medians():
    xs, ys, table = summary.matrix(RESULTS_2D)
    assert xs == [0.001, 0.01] and ys == [4, 8, 25]
    assert table.shape == (3, 2)
    assert table[2, 1] == 12.0 and table[0, 0] == 0.0


def _run(name, losses):
    return types.SimpleNamespace(name=name, history=History(np.asarray(losses, np.float32)))


def test_loss_bands_are_the_median_and_range_per_epoch():
    runs = [_run("a1", [4, 2, 1]), _run("a2", [6, 3, 2, 1]), _run("a3", [5, 1, 0]), _run("b1", [9, 8, 7])]
    bands = summary.loss_bands(RESULTS_1D, runs)
    assert [b.values for b in bands] == [{"eta": 0.001}, {"eta": 0.01}]  # c1 is not a run: no band
    first = bands[0]
    assert first.epochs.tolist() == [1, 2, 3]  # the epochs every seed reached
    assert first.median.tolist() == [5, 2, 1] and first.low.tolist() == [4, 1, 0] and first.high.tolist() == [6, 3, 2]


# -- the view on a session of hand-made results -------------------------------------------------------
class FakeSession:
    """What the sweep view reads of a session: events, runs, compare, the sweep's names."""

    def __init__(self, results, names):
        self.events = Events()
        self.results, self.sweep_state, self.ticked, self.stopped = results, "finished", [], 0
        self.runs = [_run(n, [1.0, 0.5]) for n in names]

    def sweep_results(self):
        return self.results

    def compare(self, names):
        self.ticked = list(names)
        return self.ticked

    def stop_sweep(self):
        self.stopped += 1



def test_the_legend_names_at_most_four_variants_and_every_band_is_drawn(qtbot):
    names = [f"r{i}" for i in range(6)]
    results = [_result({"eta": 10.0 ** -i}, [n], [1.0]) for i, n in enumerate(names)]
    session = FakeSession(results, names)
    plot = LossPlot()
    qtbot.addWidget(plot)
    check = QCheckBox(checked=True)
    bands = SweepBands(session, plot, check)
    bands.refresh()
    assert len(bands.curves()) == 6
    legend = plot.getPlotItem().legend
    named = [label.text for _sample, label in legend.items]
    assert len(named) == 2 + 4 and legend.columnCount == 2  # train, test and the first four variants

def _view(qtbot, results):
    names = [n for r in results for n in r["runs"]]
    session = FakeSession(results, names)
    view = SweepView(session)
    qtbot.addWidget(view)
    view.resize(460, 700)
    view.show()
    return session, view


def test_one_setting_draws_a_point_per_value_and_a_click_ticks_its_runs(qtbot):
    session, view = _view(qtbot, RESULTS_1D)
    assert view.objectName() == "sweepView"
    assert view.cells() == [({"eta": 0.001}, 2.0), ({"eta": 0.01}, 7.0), ({"eta": 0.1}, None)]
    x, y = view.plot.points.getData()
    assert np.allclose(x, np.log10([0.001, 0.01])) and y.tolist() == [2.0, 7.0]  # eta on a log axis
    view.plot.click(1)
    assert session.ticked == ["b1", "b2", "b3"]
    assert view.plot.selected == 1
    view.table.cellClicked.emit(0, 2)  # a row too
    assert session.ticked == ["a1", "a2", "a3"]
    assert view.table.item(0, 1).text() == "2.0 (1.0–3.0)"
    assert view.table.item(0, 3).text() == "3 runs"
    assert view.table.item(0, 3).toolTip() == ("eta 0.001\ntest error %: 2.0 (1.0–3.0)\ntrain error %: 1.0 (1.0–1.0)\n"
                                               "runs: a1, a2, a3")
    with pytest.raises(ValueError, match="no variant 5"):
        view.tick(5)


def test_a_click_on_the_plot_ticks_the_point_under_it(qtbot):
    session, view = _view(qtbot, RESULTS_1D)
    points = view.plot.points.points()
    view.plot._point_clicked(view.plot.points, [points[1]])  # what pyqtgraph's sigClicked passes
    assert session.ticked == ["b1", "b2", "b3"]


def test_two_settings_draw_a_heatmap_with_the_number_in_each_cell(qtbot):
    session, view = _view(qtbot, RESULTS_2D)
    assert view.cells() == summary.cells(RESULTS_2D)
    assert view.plot.image.image.shape[:2] == (3, 2)  # rows: width's 3 values, columns: eta's 2
    assert sorted(t.toPlainText() for t in view.plot.texts) == sorted(f"{10.0 * i + j:.1f}" for i in (0, 1)
                                                                       for j in (0, 1, 2))
    view.plot._cell_clicked(1, 2)  # eta 0.01, width 25
    assert session.ticked == ["r12"]

    class Click:  # what pyqtgraph hands the picture: the position in its pixels (one a cell)
        def button(self):
            return Qt.MouseButton.LeftButton

        def pos(self):
            return QPointF(0.2, 1.7)  # the cell of eta 0.001 (column 0), width 8 (row 1)

        def accept(self):
            self.accepted = True

    view.plot.image.mouseClickEvent(Click())
    assert session.ticked == ["r01"]
    assert view.table.columnCount() == 5  # eta, width, test error, train error, runs


def test_the_progress_bar_follows_the_sweep_and_stop_ends_it(qtbot):
    session, view = _view(qtbot, [])
    assert not view.progress_row.isVisible()
    assert "No sweep yet" in view.message.text()
    session.sweep_state = "running"
    session.events.emit("sweep_progress", 0, 8, None)
    assert view.progress_row.isVisible()
    assert view.progress.format() == "0 of 8 runs, estimating the time left"
    session.results = RESULTS_1D[:1]
    session.events.emit("sweep_progress", 3, 8, 42.0)
    assert (view.progress.value(), view.progress.maximum()) == (3, 8)
    assert view.progress.format() == "3 of 8 runs, about 42 s left"
    assert len(view.cells()) == 1  # the finished variant shows while the others train
    view.stop_button.click()
    assert session.stopped == 1
    session.sweep_state = "finished"
    session.events.emit("sweep")
    assert not view.progress_row.isVisible()


def test_the_table_fits_a_narrow_panel_and_the_axis_labels_do_not_collide(qtbot):
    session, view = _view(qtbot, RESULTS_1D)
    view.resize(260, 700)
    qtbot.waitUntil(lambda: view.table.isColumnHidden(3))  # the runs' count goes first
    table = view.table
    shown = [c for c in range(table.columnCount()) if not table.isColumnHidden(c)]
    assert 0 in shown and 1 in shown  # the value and the test error always show
    assert sum(table.columnWidth(c) for c in shown[:-1]) <= table.viewport().width()
    from gui.qt.runs.sweep_plot import ticks
    labels = ticks([0, 1, 2], [1e-4, 1.2e-4, 1e-2], pixels=40, width=lambda text: 8 * len(text))[0]
    assert [text for _, text in labels] == ["1e-4", "0.01"]  # 1.2e-4 would run into 1e-4


def test_a_run_name_from_a_file_is_shown_as_written(qtbot):
    results = [_result({"optimizer": "Adam"}, ["<b>bold</b>"], [1.0])]
    _, view = _view(qtbot, results)
    assert view.table.item(0, 3).text() == "1 run"
    assert "&lt;b&gt;bold&lt;/b&gt;" in view.table.item(0, 3).toolTip()  # the names in its tooltip, escaped


# -- the dialog in the window ---------------------------------------------------------------------
def _dialog(window):
    window.findChild(QAction, "sweepAction").trigger()
    dialog = window.sweep_dialog
    assert dialog.isVisible()
    return dialog


def test_the_dialog_has_its_names_and_refuses_bad_text_with_a_sentence(window):
    action = window.findChild(QAction, "sweepAction")
    assert action in window.run_menu.actions() and action.shortcut().toString() == "Ctrl+F5" and action.toolTip()
    dialog = _dialog(window)
    combo = dialog.findChild(QComboBox, "sweepParamCombo")
    second = dialog.findChild(QComboBox, "sweepParam2Combo")
    assert [combo.itemData(i) for i in range(combo.count())] == ["eta", "batch_size", "epochs", "width", "layers",
                                                                 "optimizer", "seed"]
    assert combo.itemText(0) == "Step size (eta)"
    assert second.itemText(0) == "(none)"
    spin = dialog.findChild(QSpinBox, "sweepSeedsSpin")
    assert (spin.minimum(), spin.maximum()) == (1, 10)
    edit = dialog.findChild(QLineEdit, "sweepValuesEdit")
    assert not dialog.findChild(QLineEdit, "sweepValues2Edit").isEnabled()  # (none)
    edit.setText("0.01, fast")
    dialog.findChild(QPushButton, "sweepRunButton").click()
    error = dialog.findChild(QLabel, "sweepErrorLabel")
    assert error.text() == ("'fast' is not a number. Write the values separated by commas, e.g. 0.001, 0.003, 0.01 "
                            "or 1e-4..1e-1 x4.")
    assert error.textFormat() == error.textFormat().PlainText
    assert dialog.isVisible() and edit.text() == "0.01, fast"  # it stays, with the text as typed
    assert window.session.sweep_state == "idle"


def test_enter_in_the_values_runs_the_sweep_once(window, qtbot, monkeypatch):
    calls = []
    monkeypatch.setattr(window.session, "sweep", lambda grid, seeds=1: calls.append((grid, seeds)))
    dialog = _dialog(window)
    dialog.values_edit.setText("0.001, 0.01")
    dialog.values_edit.setFocus()
    qtbot.keyClick(dialog.values_edit, Qt.Key.Key_Return)
    assert calls == [({"eta": [0.001, 0.01]}, 1)]
    assert not dialog.isVisible()


def test_the_sessions_refusal_is_shown_in_the_dialog(window):
    dialog = _dialog(window)
    dialog.param_combo.setCurrentIndex(dialog.param_combo.findData("seed"))
    dialog.values_edit.setText("0, 1")
    dialog.seeds_spin.setValue(2)
    assert not dialog.start()
    assert "seed" in dialog.error_label.text() and dialog.isVisible()
    assert window.session.sweep_state == "idle"


def test_the_dialog_remembers_the_last_values(qtbot, tmp_path, window):
    dialog = _dialog(window)
    dialog.param_combo.setCurrentIndex(dialog.param_combo.findData("width"))
    dialog.values_edit.setText("4, 8")
    dialog.param2_combo.setCurrentIndex(dialog.param2_combo.findData("optimizer"))
    dialog.values2_edit.setText("Adam")
    dialog.seeds_spin.setValue(3)
    dialog._remember()
    window.settings.setValue("sweep/values/eta", "x" * 10_000)  # a stored text past its length is not read
    again = sweep_dialog.SweepDialog(window)
    assert again.setting(1) == "width" and again.values_edit.text() == "4, 8"
    assert again.setting(2) == "optimizer" and again.values2_edit.text() == "Adam"
    assert again.seeds_spin.value() == 3
    assert again.runs() == 6 and again.count_label.text() == "6 runs: width 4, 8; optimizer Adam; 3 seeds each"
    again.param_combo.setCurrentIndex(again.param_combo.findData("eta"))
    assert again.values_edit.text() == sweep_dialog.DEFAULTS["eta"]
    window.settings.setValue("sweep/param", "<not a setting>")
    window.settings.setValue("sweep/seeds", "many")
    third = sweep_dialog.SweepDialog(window)
    assert third.setting(1) == "eta" and third.seeds_spin.value() == 1
    for dialog in (again, third):
        dialog.deleteLater()


def test_the_sweep_view_is_a_tab_of_the_side_panel(window):
    assert window.sweep_view.objectName() == "sweepView"
    assert window.findChild(QWidget, "sweepView") is window.sweep_view
    action = window.view_actions["sweep_dock"]
    assert action.objectName() == "showSweepAction" and action.shortcut().toString() == "Ctrl+6"
    action.trigger()
    assert inside_docks.shown_view(window) is window.sweep_dock


def test_stop_in_the_view_ends_a_live_sweep_and_keeps_its_finished_runs(qtbot, window):
    small_data(window, n_train=100, n_test=100, batch=20)
    done = []
    window.session.events.connect("sweep_progress", lambda d, *_: done.append(d))
    window.session.sweep({"epochs": [5, 3000, 4000]})  # the first ends long before the others
    progress_row = window.sweep_view.progress_row
    assert progress_row.isVisibleTo(window.sweep_view)
    qtbot.waitUntil(lambda: done and done[-1] >= 1, timeout=WAIT_MS * 4)
    window.findChild(QPushButton, "sweepStopButton").click()
    assert window.session.sweep_state == "finished"
    assert not progress_row.isVisibleTo(window.sweep_view)
    results = window.session.sweep_results()
    assert [len(r["runs"]) for r in results] == [1, 0, 0]
    assert len(window.sweep_view.cells()) == len(results)


# -- a whole sweep ------------------------------------------------------------------------------------
def test_a_sweep_from_the_dialog_draws_what_sweep_results_say(qtbot, window, tmp_path):
    small_data(window, n_train=100, n_test=100, batch=20)
    window.session.edit(epochs=8)
    dialog = _dialog(window)
    dialog.param_combo.setCurrentIndex(dialog.param_combo.findData("eta"))
    dialog.values_edit.setText("0.001, 0.01")
    dialog.seeds_spin.setValue(2)
    progress = window.findChild(QProgressBar, "sweepProgressBar")
    with qtbot.waitSignal(_signal_of(window, "sweep"), timeout=WAIT_MS * 4):
        dialog.findChild(QPushButton, "sweepRunButton").click()
        assert not dialog.isVisible()
        assert progress.isVisible() and progress.maximum() == 4
    results = window.session.sweep_results()
    assert window.session.sweep_state == "finished" and not progress.isVisible()
    assert [len(r["runs"]) for r in results] == [2, 2]
    expected = [(r["values"], float(np.median(r["final"]["test_error"]))) for r in results]
    assert window.sweep_view.cells() == expected
    window.sweep_view.tick(1)
    assert window.session.run_book.ticked == results[1]["runs"]
    assert [name for name, *_ in window.loss_plot.curves()] == results[1]["runs"]
    bands = window.sweep_bands.curves()
    assert [b[0] for b in bands] == [r["values"] for r in results]
    assert len(bands[0][1]) == 8  # the epochs
    window.log_check.setChecked(True)  # the fill follows the log scale, as its edges do
    fill = window.sweep_bands.items[2]
    rect = fill.boundingRect()
    assert abs(rect.bottom() - np.log10(bands[0][4].max())) < 1e-3
    assert abs(rect.top() - np.log10(bands[0][3].min())) < 1e-3
    window.log_check.setChecked(False)
    window.sweep_view.bands_check.setChecked(False)
    assert window.sweep_bands.curves() == []
    window.sweep_view.bands_check.setChecked(True)
    # A saved experiment shows its sweep again on open; New drops it.
    path = tmp_path / "swept.minidl"
    assert window.files.save_to(path) is not False
    window.files.new()
    assert window.sweep_view.cells() == [] and window.sweep_bands.curves() == []
    assert "No sweep yet" in window.sweep_view.message.text()
    assert window.files.open(path)
    assert window.sweep_view.cells() == expected
    assert [b[0] for b in window.sweep_bands.curves()] == [r["values"] for r in results]
    # A sweep's run deleted: its variant's point is of the runs left.
    gone, kept = results[0]["runs"]
    window.session.delete_run(gone)
    assert window.sweep_view.cells()[0] == (results[0]["values"], window.session.run_book[kept].final["test_error"])


def _signal_of(window, event):
    """A Qt signal that fires with the session's event ``event`` (qtbot waits on signals)."""
    from PySide6.QtCore import QObject, Signal

    class Relay(QObject):
        fired = Signal()

    relay = Relay(window)
    window.session.events.connect(event, lambda *_: relay.fired.emit())
    return relay.fired

