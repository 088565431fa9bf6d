"""A regression in the window's views: Sine's curve (``boundary_plot.current_curve()``), a 2-D regression's
predicted value with the points in their targets' colours, curves as the network view's thumbnails of a
1-D input, and the compare view, the batch step, the hidden space and the exports drawing either."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, run_to_end
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui.model import hidden_space
from gui.model.weights import model_from
from gui.qt.inside import inside_docks
from gui.qt.plots import regression
from gui.qt.plots.plots import lookup_table_of

# A two-unit hidden layer (Linear layer 1), so the hidden space view has a layer to draw.
BLOCKS = [{"type": "Linear", "width": 8}, {"type": "Tanh"}, {"type": "Linear", "width": 2}, {"type": "Tanh"},
          {"type": "Linear", "width": 1}]


def regression_of(window, dataset: str, epochs: int = 6):
    """The window with ``dataset`` (a regression), a small network and few points, trained ``epochs``."""
    window.session.edit(dataset=dataset, blocks=BLOCKS, n_train=200, n_test=100, batch_size=20, eta=0.01)
    assert window.session.validate() == [] and window.session.data.regression
    if epochs:
        assert run_to_end(window.qtbot, window, epochs) == "completed"
    return window


@pytest.fixture
def sine(window, qtbot):
    window.qtbot = qtbot
    return regression_of(window, "Sine")


@pytest.fixture
def gaussians(window, qtbot):
    window.qtbot = qtbot
    return regression_of(window, "Multi-Gaussian")


def predicted(session, epoch: int, points: torch.Tensor) -> np.ndarray:
    """The network's output at ``points`` (coordinates: their features are the inputs) after ``epoch``."""
    model = model_from(session.experiment.blocks, session.timeline.flat(epoch), session.experiment.loss)
    with torch.no_grad():
        return model.predict(session.data.inputs(points))[:, 0].double().numpy()


def test_sine_shows_the_targets_and_the_networks_curve_through_the_run_and_the_timeline(sine):
    s, plot = sine.session, sine.boundary_plot
    x, y = plot.current_curve()
    assert x.shape == y.shape and x.shape[0] >= 200 and np.all(np.diff(x) > 0)
    x0, x1 = s.extent[:2]
    assert x[0] == pytest.approx(x0) and x[-1] == pytest.approx(x1)  # the input's whole range
    np.testing.assert_allclose(y, predicted(s, 6, torch.tensor(x, dtype=torch.float32)[:, None]), rtol=1e-5, atol=1e-6)
    cx, cy = plot.curve.getData()  # drawn is what current_curve() says
    np.testing.assert_array_equal(cx, x)
    np.testing.assert_allclose(cy, y)
    px, py = plot.train_points.getData()  # the target points (x, y)
    np.testing.assert_allclose(px, s.data.points_train[:, 0].numpy())
    np.testing.assert_allclose(py, s.data.y_train[:, 0].numpy())
    assert plot.current_image() is None and not plot.heatmap.isVisible() and not plot.colour_bar.isVisible()
    item = plot.getPlotItem()
    assert (item.getAxis("bottom").labelText, item.getAxis("left").labelText) == ("x", "y")
    s.seek(0)  # the timeline's epoch 0: the initial network's curve
    QApplication.processEvents()
    x0_, y0_ = plot.current_curve()
    np.testing.assert_allclose(y0_, predicted(s, 0, torch.tensor(x0_, dtype=torch.float32)[:, None]), rtol=1e-5,
                               atol=1e-6)
    assert not np.allclose(y0_, y), "the seek did not change the curve"
    assert not item.vb.state["aspectLocked"]  # x against y: no square plane to keep
    s.seek(None)
    s.edit(dataset="Disc", blocks=[{"type": "Linear", "width": 8}, {"type": "Tanh"}, {"type": "Linear", "width": 2}])
    assert plot.current_curve() is None and plot.current_image().shape == (100, 100) and not plot.curve.isVisible()
    assert (item.getAxis("bottom").labelText, item.getAxis("left").labelText) == ("x₁", "x₂")
    assert item.vb.state["aspectLocked"] and plot.heatmap.isVisible()


def test_a_live_sine_run_draws_its_frames_as_curves(window, qtbot):
    window.qtbot = qtbot
    regression_of(window, "Sine", epochs=0)
    frames = []
    window.session.events.connect("frame", lambda frame: frames.append(frame.image.shape))
    assert run_to_end(qtbot, window, 30) == "completed"
    assert frames and set(frames) == {(240,)}  # the worker's pictures are the curve along the line
    x, y = window.boundary_plot.current_curve()
    np.testing.assert_allclose(y, predicted(window.session, 30, torch.tensor(x, dtype=torch.float32)[:, None]),
                               rtol=1e-5, atol=1e-6)


def test_a_2d_regression_shows_the_predicted_value_with_the_points_in_their_targets_colours(gaussians):
    s, plot = gaussians.session, gaussians.boundary_plot
    image = plot.current_image()
    grid = s.grid  # the plane's grid (its features are the inputs): [x, y] order, pixel centres
    model = model_from(s.experiment.blocks, s.timeline.flat(6), s.experiment.loss)
    with torch.no_grad():
        expected = model.predict(grid)[:, 0].reshape(100, 100).T.double().numpy()
    np.testing.assert_allclose(image, expected, rtol=1e-5, atol=1e-6)
    assert not plot.curve.isVisible() and plot.heatmap.isVisible()
    limit = regression.value_limit(s.data)
    peak = float(torch.cat((s.data.y_train, s.data.y_test)).abs().max())
    assert limit >= max(1.0, peak) and plot.levels() == (-limit, limit)  # centred on 0, every target inside
    assert plot.colour_bar.isVisible() and plot.colour_bar.getAxis("left").labelText == "predicted value"
    lut = lookup_table_of(plot.palette)
    rows = regression.value_index(s.data.y_train[:, 0].numpy(), limit)
    brushes = [spot.brush().color().getRgb()[:3] for spot in plot.train_points.points()]
    assert brushes == [tuple(int(c) for c in lut[r]) for r in rows]  # filled in the target's colour
    assert len(set(brushes)) > 10  # not one class colour
    pens = [spot.pen().color().getRgb()[:3] for spot in plot.test_points.points()]
    test_rows = regression.value_index(s.data.y_test[:, 0].numpy(), limit)
    assert pens == [tuple(int(c) for c in lut[r]) for r in test_rows]  # hollow, outlined in it
    assert all(spot.brush().style() == Qt.BrushStyle.NoBrush for spot in plot.test_points.points())
    gaussians.network_view.select(1, 3)  # a hidden unit over the plane, then the prediction again
    assert plot.showing_unit and plot.colour_bar.getAxis("left").labelText != "predicted value"
    unit_image = plot.current_image()
    assert unit_image.shape == (100, 100) and not np.allclose(unit_image, image)
    gaussians.network_view.select(None)
    np.testing.assert_allclose(plot.current_image(), expected, rtol=1e-5, atol=1e-6)
    assert plot.levels() == (-limit, limit) and plot.colour_bar.getAxis("left").labelText == "predicted value"
    # Discretize and the auto range mean nothing for a regression: off, with a sentence
    for check in (plot.discretize_check, plot.auto_range_check):
        assert not check.isEnabled() and "regression" in check.toolTip()
    s.edit(dataset="Disc", blocks=[{"type": "Linear", "width": 8}, {"type": "Tanh"}, {"type": "Linear", "width": 2}])
    assert plot.discretize_check.isEnabled() and "Discretize" in plot.discretize_check.toolTip()
    assert plot.colour_bar.getAxis("left").labelText == "class 1 − class 0"


def test_a_1d_inputs_thumbnails_are_curves_and_a_unit_shows_its_curve(sine, qtbot):
    s, view, plot = sine.session, sine.network_view, sine.boundary_plot
    assert view.isVisible() and view.columns()[0] == ("input", 1)  # x alone: one input thumbnail
    QApplication.processEvents()
    picture = view.grab().toImage()
    rect = next(r for r, column, unit in view.unit_rects if (column, unit) == (0, 0))  # the input x
    ratio = picture.devicePixelRatio()
    left, top = int((rect.x() + 2) * ratio), int((rect.y() + 2) * ratio)
    side = int((rect.width() - 4) * ratio)
    cells = np.array([[picture.pixelColor(left + i, top + j).getRgb()[:3] for i in range(side)] for j in range(side)])
    ink = cells.max(2) < 120  # the curve's dark pixels; the rest white or the grey zero line
    assert 0.03 < ink.mean() < 0.35, "not a curve: a thin line covers a small part of the thumbnail"
    first, last = np.flatnonzero(ink[:, 1]), np.flatnonzero(ink[:, -2])
    assert first.size and last.size and first.mean() > last.mean() + side / 3  # x rises from bottom left to top right
    # The curve-drawing function itself: one inked run per column, joined, at the value's row
    tiles = regression.curve_thumbnails(np.array([[-1.0, 0.0, 1.0]]), 3)
    assert (tiles[0, :, :, 0] < 100).tolist() == [[False, False, True], [False, True, True], [True, True, False]]

    view.select(1, 0)  # a hidden unit: its output against x in the big plot
    assert plot.showing_unit and plot.current_curve() is not None
    x, unit = plot.curve.getData()
    linear, tanh = list(model_from(s.experiment.blocks, s.timeline.flat(6)))[:2]  # hidden 1: after its Tanh
    with torch.no_grad():
        hidden = tanh.forward(linear.forward(s.data.inputs(torch.tensor(x, dtype=torch.float32)[:, None])))
    assert unit.shape == x.shape
    np.testing.assert_allclose(unit, hidden[:, 0].numpy(), rtol=1e-5, atol=1e-6)
    assert not plot.train_points.isVisible()  # the targets have another axis than a unit's output
    view.select(0, 0)  # the input x itself: the line y = x
    np.testing.assert_allclose(plot.curve.getData()[1], x, rtol=1e-6, atol=1e-6)
    view.select(None)
    cx, cy = plot.curve.getData()
    np.testing.assert_allclose(cy, plot.current_curve()[1])
    assert plot.train_points.isVisible()
    view.select(1, 0)  # a unit shown as the task changes: the classes' plot comes back whole
    s.edit(dataset="Disc", blocks=[{"type": "Linear", "width": 8}, {"type": "Tanh"}, {"type": "Linear", "width": 2}])
    assert plot.showing_unit is None and plot.train_points.isVisible() and not plot.curve.isVisible()
    assert plot.current_image().shape == (100, 100)


@pytest.mark.parametrize("dataset", ["Sine", "Plane"])
def test_compare_batch_step_hidden_space_and_exports_draw_a_regression(window, qtbot, tmp_path, dataset):
    window.qtbot = qtbot
    regression_of(window, dataset)
    s = window.session
    s.compare([s.runs[0].name])
    QApplication.processEvents()
    assert window.runs_panel.compare_view.panels == [(s.runs[0].name, 6)]

    steps = []
    s.events.connect("batch", steps.append)
    window.step_batch_action.trigger()
    qtbot.waitUntil(lambda: len(steps) == 1 and s.state == "paused", timeout=WAIT_MS)
    step_view = window.batch_step_view
    image = step_view.boundary_image()
    assert image.shape == ((240,) if dataset == "Sine" else (100, 100))
    if dataset == "Sine":
        assert step_view.curve.isVisible() and not step_view.heatmap.isVisible()
        np.testing.assert_allclose(step_view.curve.getData()[1], image)
    else:
        limit = regression.value_limit(s.data)
        assert step_view.heatmap.levels is not None and tuple(step_view.heatmap.levels) == (-limit, limit)
    s.stop()
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)

    window.view_actions["hidden_space_dock"].trigger()
    qtbot.wait(20)
    assert inside_docks.shown_view(window) is window.hidden_space_dock
    view = window.hidden_space
    assert view.layers() == [1]
    qtbot.waitUntil(lambda: view.shown_epoch is not None, timeout=WAIT_MS)
    points = view.points(1)
    assert points.shape == (s.data.X_train.shape[0], 2) and np.isfinite(points).all()
    lines = view.across.getData()[0]
    assert lines is not None and len(lines) == (hidden_space.SAMPLES if dataset == "Sine"
                                                else hidden_space.LINES * hidden_space.SAMPLES)
    colours = {spot.brush().color().getRgb() for spot in view.scatter.points()}
    assert len(colours) > 10  # the targets' colours, not two classes'

    assert window.files.export_boundary_png(tmp_path / "boundary.png"), window.files.last_error
    with Image.open(tmp_path / "boundary.png") as png:
        assert png.size[0] >= 1600
    assert window.files.exports.export_boundary_svg(tmp_path / "boundary.svg"), window.files.last_error
    assert window.files.export_animation(tmp_path / "run.gif", frames=3), window.files.last_error
    with Image.open(tmp_path / "run.gif") as gif:
        assert gif.n_frames == 3


def test_the_hidden_space_of_a_1d_input_maps_the_line_of_x():
    blocks = [{"type": "Linear", "width": 2}, {"type": "Tanh"}, {"type": "Linear", "width": 1}]
    torch.manual_seed(0)
    flat = torch.randn(2 * 1 + 2 + 2 * 1 + 1)
    X = torch.linspace(-1, 1, 7)[:, None]
    mapped = hidden_space.compute(blocks, flat, X, (-1.0, 1.0, -2.0, 2.0), 0, 3, dims=1)
    assert mapped.lines.shape == (1, hidden_space.SAMPLES, 2)
    xs = torch.linspace(-1, 1, hidden_space.SAMPLES)[:, None]
    np.testing.assert_allclose(mapped.lines[0], hidden_space.mapped(blocks, flat, xs, 0), rtol=1e-6)
    np.testing.assert_allclose(mapped.points, hidden_space.mapped(blocks, flat, X, 0), rtol=1e-6)
