"""The plots draw what they are given, and stay cheap to redraw during a run.

Cheap matters because the GUI thread holds the GIL the training thread needs while it
paints (benchmarks/bench_gui.py): these tests pin the behaviours that keep a frame small.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor

import minidl
from gui.model import boundary
from gui.model.experiment import Experiment
from gui.model.history import History
from gui.qt.plots.loss_plot import LossPlot
from gui.qt.plots.plots import COARSE_STEPS, BoundaryPlot, nice_ceiling


@pytest.mark.parametrize(("value", "fine", "coarse"), [
    (0.07, 0.08, 0.1), (0.8, 0.8, 1.0), (1.0, 1.0, 1.0), (1.01, 1.2, 2.0), (2.1, 2.5, 5.0),
    (130, 150, 200), (999, 1000, 1000), (5001, 6000, 10_000),
])
def test_nice_ceiling_rounds_up_to_the_next_step(value, fine, coarse):
    assert nice_ceiling(value) == pytest.approx(fine)
    assert nice_ceiling(value, COARSE_STEPS) == pytest.approx(coarse)


@pytest.mark.parametrize("value", [0.0, -3.0, float("nan"), float("inf")])
def test_nice_ceiling_of_nothing_useful_is_one(value):
    assert nice_ceiling(value) == 1.0


def growing_history(epochs: int) -> History:
    history = History()
    history.extend(0.7 * np.exp(-np.arange(epochs) / 300) + 0.02)
    return history


def test_loss_range_spans_the_planned_run_and_changes_a_few_times(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    changes = []
    plot.view.sigRangeChanged.connect(lambda *_: changes.append(plot.view.viewRange()))
    full = growing_history(1000)
    for epochs in range(67, 1001, 67):  # 15 frames of a 1,000-epoch run, as the worker sends them
        part = History(full.train[:epochs].copy())
        plot.show_history(part, planned=1000)
        qtbot.wait(1)  # pyqtgraph updates the range when it next paints
        (x0, x1), (y0, y1) = plot.view.viewRange()
        assert x0 <= 1 and x1 >= (1000 if epochs >= 100 else epochs) and y0 <= 0 and y1 >= part.train.max()
    assert len(changes) <= 3  # the first frame, then the whole run once a tenth of it is done


def test_loss_range_shows_the_first_epochs_of_a_long_run(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.show_history(growing_history(30), planned=1_000_000)
    qtbot.wait(1)
    (_, x1), _ = plot.view.viewRange()
    assert 50 <= x1 <= 60  # 50 epochs and pyqtgraph's padding, not a million
    assert len(plot.train_curve.getData()[1]) == 30  # nothing downsampled away


def test_loss_range_in_log_mode_is_whole_decades(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.set_log_scale(True)
    plot.show_history(growing_history(2000), planned=2000)
    qtbot.wait(1)
    _, (y0, y1) = plot.view.viewRange()
    history = growing_history(2000)
    assert y0 <= np.log10(history.train.min()) and y1 >= np.log10(history.train.max())
    assert y1 - y0 <= 2.2  # 0.02 to 0.72 fits in the decades from 0.01 to 1, plus padding


def test_a_zoom_by_the_user_is_kept_while_training_goes_on(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.show_history(growing_history(100), planned=1000)
    plot.view.setRange(xRange=(10, 20), yRange=(0.3, 0.5), padding=0)  # as a mouse zoom does
    plot.show_history(growing_history(500), planned=1000)
    qtbot.wait(1)
    (x0, x1), _ = plot.view.viewRange()
    assert (x0, x1) == pytest.approx((10, 20))


def test_axes_stay_outside_the_data_so_a_frame_does_not_repaint_them(qtbot):
    for plot in (LossPlot(), BoundaryPlot()):
        qtbot.addWidget(plot)
        plot.resize(500, 400)
        plot.show()
        qtbot.wait(1)
        item = plot.getPlotItem()
        view = item.vb.sceneBoundingRect().adjusted(1, 1, -1, -1)  # layouts round to half pixels
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            assert not axis.sceneBoundingRect().intersects(view), name


def count_paints(monkeypatch, *items) -> list:
    """Calls to each item's paint from now on (one list entry per call, the item)."""
    calls = []
    for item in items:
        paint = item.paint
        monkeypatch.setattr(item, "paint", lambda *args, _paint=paint, _item=item: (calls.append(_item), _paint(*args)))
    return calls


class PaintRects(QObject):
    """Records how many pixels each paint event of the widget it filters repaints."""

    def __init__(self, rects: list):
        super().__init__()
        self.rects = rects

    def eventFilter(self, watched, event):  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            self.rects.append(sum(r.width() * r.height() for r in event.region()))  # pixels repainted
        return False


def test_a_frame_of_new_losses_paints_neither_the_axes_nor_the_legend_text(qtbot, monkeypatch):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    qtbot.waitExposed(plot)
    full = growing_history(1000)
    for epochs in (400, 500):  # the range and the layout settle (the axes are painted for them)
        plot.show_history(History(full.train[:epochs].copy()), planned=1000)
        qtbot.wait(20)
    item = plot.getPlotItem()
    labels = [label.item for _, label in item.legend.items]
    curve = plot.train_curve
    calls = count_paints(monkeypatch, item.getAxis("left"), item.getAxis("bottom"), *labels, curve.settled, curve.tail)
    repainted = []
    plot.viewport().installEventFilter(filter_ := PaintRects(repainted))
    for epochs in (502, 504, 506):  # frames of a run: new points at the end (the tail stays short)
        before = len(repainted)
        plot.show_history(History(full.train[:epochs].copy()), planned=1000)
        qtbot.waitUntil(lambda before=before: len(repainted) > before, timeout=1000)
    assert calls == [curve.tail] * 3  # the new losses were painted; the axes, the legend's words and
    # the settled part of the curve came from their pixmaps
    assert all(pixels < plot.width() * plot.height() / 20 for pixels in repainted), repainted  # a strip, not the plot
    plot.viewport().removeEventFilter(filter_)
    plot.set_loss_name("Cross-entropy")  # an axis that changes is painted again
    plot.viewport().repaint()
    assert item.getAxis("left") in calls


def test_live_curves_follow_log_mode_both_ways(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    history = growing_history(50)
    history.extend([], [10, 20], np.array([0.5, 0.0], np.float32))  # a test loss of 0 has no logarithm
    plot.show_history(history, planned=50)
    plot.set_log_scale(True)
    np.testing.assert_allclose(plot.train_curve.getData()[1], np.log10(history.train), rtol=1e-6)
    _, test = plot.test_curve.getData()
    assert test[0] == pytest.approx(np.log10(0.5)) and test[1] == -np.inf
    plot.show_history(history, planned=50)  # the next frame in log mode too
    np.testing.assert_allclose(plot.train_curve.getData()[1], np.log10(history.train), rtol=1e-6)
    plot.set_log_scale(False)
    np.testing.assert_array_equal(plot.train_curve.getData()[1], history.train)


def test_with_compared_runs_a_run_of_their_length_keeps_the_range_it_starts_with(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    compared = growing_history(1000).train
    plot.getPlotItem().plot(np.arange(1.0, 1001), compared)  # as gui/qt/plots/overlays.py draws a ticked run
    qtbot.waitExposed(plot)
    qtbot.wait(20)  # the layout settles: the padding pyqtgraph adds depends on the view's size
    plot.show_history(History(), planned=0)  # after a Reset: nothing trained yet
    qtbot.wait(1)
    (x0, x1), _ = plot.view.viewRange()
    assert x0 < 0 < 1000 < x1 < 1100  # from 0 to the longest run's last epoch, and pyqtgraph's padding
    changes = []
    plot.view.sigRangeChanged.connect(lambda *_: changes.append(plot.view.viewRange()))
    for epochs in (200, 400, 1000):  # the same experiment again: it starts where the compared run did
        plot.show_history(History(compared[:epochs].copy()), planned=1000)
        qtbot.wait(1)
    assert changes == []  # so no frame draws the whole plot, the compared curves' pixmaps included, again


def test_heatmap_is_painted_from_32_bit_rgb_in_the_colour_map(qtbot):
    plot = BoundaryPlot()
    qtbot.addWidget(plot)
    plot.show()
    scores = np.zeros((boundary.RESOLUTION, boundary.RESOLUTION), np.float32)
    scores[:50] = 1.0
    scores[50:] = -1.0
    plot.show_image(scores, (0.0, 1.0, 0.0, 1.0))
    qtbot.wait(1)
    plot.heatmap.render()
    picture = plot.heatmap.qimage
    assert picture.format() == picture.Format.Format_RGB32
    red_side = QColor(picture.pixel(25, 0))  # pixel(x, y): scores are indexed [x, y]
    blue_side = QColor(picture.pixel(75, 0))
    assert red_side.red() > red_side.blue() and blue_side.blue() > blue_side.red()
    assert plot.colour_bar.levels() == (-1.0, 1.0)


def test_imager_matches_image_after_every_step_of_training():
    experiment = Experiment(n_train=100, n_test=100, batch_size=10)
    data, model = experiment.make_data(), experiment.build_model()
    points = boundary.grid(data.extent())
    imager = boundary.Imager(model, points)
    optimizer = minidl.SGD(0.01)
    frames = []
    for _ in range(3):
        frames.append(imager())
        np.testing.assert_allclose(frames[-1], boundary.image(model, points), rtol=0, atol=1e-6)
        model.train(data.X_train, data.y_train, 1, 10, optimizer)
    # Each frame is a copy, not a view of the buffers the next frame overwrites.
    assert not np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[1], frames[2])


def test_imager_refuses_a_grid_the_network_cannot_take():
    model = Experiment().build_model()
    with pytest.raises(ValueError, match="the grid"):
        boundary.Imager(model, torch.zeros(10, 3))


def test_a_live_curve_draws_its_whole_series_in_two_parts(qtbot):
    """The settled part and the tail join at one point and together are the series the curve holds."""
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(500, 400)
    plot.show()
    full = growing_history(3000)
    curve = plot.train_curve

    def drawn() -> tuple[np.ndarray, np.ndarray]:
        (sx, sy), (tx, ty) = curve.settled.getData(), curve.tail.getData()
        assert sx[-1] == tx[0] and (sy[-1] == ty[0] or np.isnan(sy[-1]) and np.isnan(ty[0]))  # they join
        return np.concatenate((sx, tx[1:])), np.concatenate((sy, ty[1:]))

    history = History(full.train[:100].copy())
    for epochs in range(100, 3001, 37):  # messages of a run, past the Envelope's 2,048 points too
        history.train = full.train[:epochs].copy()
        plot.show_history(history, planned=3000)
        xs, ys = curve.getData()
        assert len(xs) == len(ys) and xs[-1] <= epochs
        for got, want in zip(drawn(), (xs, ys), strict=True):
            np.testing.assert_array_equal(got, want)
    plot.set_log_scale(True)  # every point changes: drawn afresh
    np.testing.assert_array_equal(drawn()[1], curve.getData()[1])
    assert np.nanmax(curve.getData()[1]) < 1  # log10 of losses below 10
    plot.show_history(History(full.train[:50].copy()), planned=100)  # a new run
    np.testing.assert_array_equal(drawn()[0], np.arange(1, 51))
    curve.setVisible(False)  # the legend's sample hides the curve: both parts
    assert not curve.settled.isVisible() and not curve.tail.isVisible()


def test_the_legend_takes_two_columns_past_four_entries_and_one_again_below(qtbot):
    plot = LossPlot()
    qtbot.addWidget(plot)
    legend = plot.getPlotItem().legend
    base = len(legend.items)  # train and test
    extra = [pg.PlotDataItem([0, 1], [1, 0]) for _ in range(5 - base)]
    for i, item in enumerate(extra):
        legend.addItem(item, f"eta 0.{i + 1}")
    assert len(legend.items) == 5 and legend.columnCount == 2
    legend.removeItem(extra[-1])
    assert len(legend.items) == 4 and legend.columnCount == 1
