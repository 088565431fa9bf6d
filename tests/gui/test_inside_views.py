"""The network view, the inspector and the one-batch step, checked against independent recomputations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, button, run_to_end, small_data
from PySide6.QtGui import QColor
from session_helpers import forward_all

from gui.model.experiment import linear
from gui.qt.inside.network_view import over_white


def centres(window):
    """The points at the centres of the displayed image's pixels, from current_extent()."""
    image = window.boundary_plot.current_image()
    x0, x1, y0, y1 = window.boundary_plot.current_extent()
    rows, cols = image.shape
    xs = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols
    ys = y0 + (np.arange(rows) + 0.5) * (y1 - y0) / rows
    gx, gy = np.meshgrid(xs, ys)  # [i, j] = (x1 of column j, x2 of row i)
    return image, torch.tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32)


def trained(qtbot, window, epochs=5):
    small_data(window, 200, 100, 50)
    assert run_to_end(qtbot, window, epochs) == "completed"
    return window.session


def test_columns_and_unit_selection_show_the_recomputed_unit(qtbot, window):
    s = trained(qtbot, window)
    view = window.network_view
    assert view.columns() == [("input", 2), ("hidden 1", 25), ("hidden 2", 25), ("hidden 3", 25), ("output", 2)]
    params = s.parameters_at(s.history.epochs)
    blocks = s.experiment.blocks
    # The output: class 1 - class 0 at the pixel centres, row 0 at the bottom
    image, points = centres(window)
    out = forward_all(blocks, params, points)[-1]
    np.testing.assert_allclose(image.ravel(), (out[:, 1] - out[:, 0]).numpy(), rtol=1e-4, atol=1e-5)
    assert image.shape == (100, 100)
    view.select(2, 7)  # hidden 2, unit 8: ReLU after the second Linear (block 3)
    image, points = centres(window)
    expected = forward_all(blocks, params, points)[3][:, 7].numpy()
    np.testing.assert_allclose(image.ravel(), expected, rtol=1e-4, atol=1e-5)
    assert window.boundary_plot.showing_unit == f"hidden 2, unit 8 · epoch {s.history.epochs}"
    assert window.boundary_plot.levels()[1] >= image.max() > 0  # its own colour bar
    view.select(None)
    assert window.boundary_plot.showing_unit is None
    image, points = centres(window)
    out = forward_all(blocks, params, points)[-1]
    np.testing.assert_allclose(image.ravel(), (out[:, 1] - out[:, 0]).numpy(), rtol=1e-4, atol=1e-5)
    view.select(1, 3)
    window.findChild(type(window.step_batch_action), "showOutputAction").trigger()  # Esc
    assert view.selected is None and window.boundary_plot.showing_unit is None
    with pytest.raises(ValueError, match="units 0 to 24"):
        view.select(1, 25)


def test_unit_images_follow_the_timeline_and_live_frames(qtbot, window):
    s = trained(qtbot, window, 8)
    view = window.network_view
    view.select(1, 0)
    s.seek(2)
    epoch = s.timeline.nearest(2)
    image, points = centres(window)
    expected = forward_all(s.experiment.blocks, s.parameters_at(epoch), points)[1][:, 0].numpy()
    np.testing.assert_allclose(image.ravel(), expected, rtol=1e-4, atol=1e-5)
    assert view.shown_epoch == epoch
    # The thumbnails' source: every sent unit from one pass (the worker's frame at the end of a run)
    s.seek(None)
    frames = []
    s.events.connect("frame", frames.append)
    run_to_end(qtbot, window, 3)
    assert frames and frames[-1].units is not None and frames[-1].units.shape == (77, 100, 100)
    last = frames[-1]
    grid = s.grid
    outs = forward_all(s.experiment.blocks, s.parameters_at(last.epoch), grid)
    np.testing.assert_allclose(last.units[25 + 4], outs[3][:, 4].reshape(100, 100).numpy(), rtol=1e-4, atol=1e-5)


def test_tooltip_and_links(qtbot, window):
    s = trained(qtbot, window)
    view = window.network_view
    text = view.tooltip_at(1, 4)
    params = s.parameters_at(s.history.epochs)
    assert "Hidden 1, unit 5 of 25: ReLU(w·x + b)" in text
    assert f"bias b = {float(params[1][4]):.4g}" in text
    dead = (forward_all(s.experiment.blocks, params, s.data.X_train)[1][:, 4] == 0).float().mean().item()
    assert f"dead (output 0) at {100 * dead:.0f} %" in text
    assert "Tanh(w·h + b)" in view.tooltip_at(4, 1)
    assert view.note == "showing the 400 strongest of 576 links"  # 2*16 + 16*16*2 + 16*2
    layer, rows, cols, values, _ = view.links  # the run's last weights, the strongest of the shown units
    assert len(values) == 400
    for i in range(0, 400, 7):
        assert values[i] == pytest.approx(float(params[2 * layer[i]][rows[i], cols[i]]))
    view.toggle_expanded(1)
    assert view.shown(1) == 25


def test_inspector_stats_match_autograd(qtbot, window):
    s = trained(qtbot, window)
    for epoch in (0, s.history.epochs):
        stats = window.inspector.stats_at(epoch)
        params = [p.clone().requires_grad_(True) for p in s.parameters_at(epoch)]
        outs = forward_all(s.experiment.blocks, params, s.data.X_train)
        grads = torch.autograd.grad(((outs[-1] - s.data.y_train) ** 2).sum(), params)
        for k, row in enumerate(stats):
            assert row["grad_norm"] == pytest.approx(grads[2 * k].norm().item(), rel=1e-4)
            assert row["weight_norm"] == pytest.approx(params[2 * k].norm().item(), rel=1e-5)
            assert row["update_ratio"] == pytest.approx(s.experiment.eta * row["grad_norm"] / row["weight_norm"])
        assert [r["dead_units"] for r in stats[:3]] == [int((outs[i] == 0).all(0).sum()) for i in (1, 3, 5)]
        assert stats[3]["dead_units"] is None and stats[0]["saturated_units"] is None
        assert stats[3]["saturated_units"] == int(((outs[7].abs() > 0.97).float().mean(0) >= 0.95).sum())
    # the table shows the numbers of the epoch on the timeline
    s.seek(1)
    shown = window.inspector.table.item(0, 1).text()
    assert shown == f"{window.inspector.stats_at(1)[0]['grad_norm']:.3g}"
    assert window.inspector.shown_epoch == s.timeline.nearest(1)


def test_batch_steps_walk_the_epoch_and_record_it(qtbot, window):
    s = window.session
    small_data(window, 200, 100, 50)  # 4 batches an epoch
    s.edit(eta=0.01)
    steps = []
    s.events.connect("batch", steps.append)
    for press in range(5):
        if press == 0:
            window.step_batch_action.trigger()
        else:
            button(window, "stepBatchButton").click()
        qtbot.waitUntil(lambda n=press: len(steps) == n + 1 and s.state == "paused", timeout=WAIT_MS)
        step = s.last_batch_step()
        assert (step.epoch, step.batch_index) == (1 + press // 4, press % 4)
        start = 50 * (press % 4)
        assert torch.equal(step.X, s.data.X_train[start:start + 50])
        assert torch.equal(step.y, s.data.y_train[start:start + 50])
        for layer in step.layers:
            torch.testing.assert_close(layer.weight_after, layer.weight_before - 0.01 * layer.weight_grad)
            torch.testing.assert_close(layer.bias_after, layer.bias_before - 0.01 * layer.bias_grad)
        leaves = [p.clone().requires_grad_(True) for p in step.parameters(after=False)]
        out = forward_all(s.experiment.blocks, leaves, step.X)[-1]
        loss = ((out - step.y) ** 2).sum()
        grads = torch.autograd.grad(loss, leaves)
        assert step.loss_before == pytest.approx(loss.item(), rel=1e-5)
        torch.testing.assert_close(step.layers[0].weight_grad, grads[0], rtol=1e-4, atol=1e-5)
        after = forward_all(s.experiment.blocks, step.parameters(after=True), step.X)[-1]
        assert step.loss_after == pytest.approx(((after - step.y) ** 2).sum().item(), rel=1e-5)
        if press:
            torch.testing.assert_close(step.layers[1].weight_before, steps[-2].layers[1].weight_after)
        assert s.history.epochs == (1 if press >= 3 else 0)
    # epoch 1's loss is recorded when its last batch finished: the mean of its 4 batch losses
    assert s.history.train[0] == pytest.approx(sum(x.loss_before for x in steps[:4]) / 200, rel=1e-5)
    # the view shows those numbers
    view = window.batch_step_view
    grad = view.matrices[(0, "dL/dW")]
    expected = float(steps[-1].layers[0].weight_grad[3, 1])
    assert grad.shape == (25, 2) and grad.value_at(3, 1) == f"dL/dW[3, 1] = {expected:.8g}"
    assert view.matrices[(0, "batch input")].note() == "batch input 50×2\n(top-left 24×2 shown)"
    assert f"{steps[-1].loss_after:.6g}" in view.loss_label.text()
    after_image = view.boundary_image()
    view.boundary_toggle.click()
    before_image = view.boundary_image()
    out = forward_all(s.experiment.blocks, steps[-1].parameters(after=False), s.grid)[-1]
    np.testing.assert_allclose(before_image, (out[:, 1] - out[:, 0]).reshape(100, 100).numpy(), rtol=1e-4, atol=1e-5)
    assert not np.allclose(before_image, after_image)
    s.stop()
    assert not s.running


def test_mouse_click_selects_and_more_expands(qtbot, window):
    from PySide6.QtCore import QPoint, Qt

    s = trained(qtbot, window, 2)
    view = window.network_view
    view.repaint()
    rect = next(r for r, k, u in view.unit_rects if (k, u) == (3, 5))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert view.selected == (3, 5)
    assert window.boundary_plot.showing_unit.startswith("hidden 3, unit 6")
    output = next(r for r, k, u in view.unit_rects if k == 4)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=output.center().toPoint())
    assert view.selected is None and window.boundary_plot.showing_unit is None
    more = next(r for r, k in view.more_rects if k == 2)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(more.center().x()), int(more.center().y())))
    assert view.shown(2) == 25 and view.shown(1) == 16
    # the input column shows the coordinates themselves
    view.select(0, 1)
    image, points = centres(window)
    np.testing.assert_allclose(image.ravel(), points[:, 1].numpy(), atol=1e-6)
    assert s.history.epochs == 2


def test_wide_layers_and_a_changed_stack(qtbot, window):
    s = window.session
    small_data(window, 200, 100, 50)
    wide = [linear(64), {"type": "ReLU"}, linear(64), {"type": "ReLU"}, linear(64), {"type": "ReLU"}, linear(2),
            {"type": "Tanh"}]
    s.edit(blocks=wide)
    view = window.network_view
    assert view.columns() == [("input", 2), ("hidden 1", 64), ("hidden 2", 64), ("hidden 3", 64), ("output", 2)]
    run_to_end(qtbot, window, 2)
    assert view.shown(1) == 16 and view.note == "showing the 400 strongest of 576 links"
    view.toggle_expanded(1)
    assert view.shown(1) == 64 and "of 1440 links" in view.note  # 2*64 + 64*16 + 16*16 + 16*2
    view.select(1, 63)  # the last frame's units are coarse: the big plot waits for a pass over every grid point
    qtbot.waitUntil(lambda: view.units_step == 1 and window.boundary_plot.showing_unit is not None, timeout=WAIT_MS)
    image, points = centres(window)
    expected = forward_all(wide, s.parameters_at(2), points)[1][:, 63].numpy()
    np.testing.assert_allclose(image.ravel(), expected, rtol=1e-4, atol=1e-5)
    stats = window.inspector.stats_at(2)
    assert len(stats) == 4 and all(r["dead_units"] is not None for r in stats[:3])
    # a stack that cannot be built: no columns of a stale network, no selection left behind
    s.edit(blocks=[{"type": "ReLU"}])
    assert view.columns() == [("input", 2)] and view.selected is None
    assert window.boundary_plot.showing_unit is None
    assert window.inspector.title.text() == "No weights yet"
    assert not window.step_batch_action.isEnabled()
    s.edit(blocks=[linear(3), {"type": "Tanh"}, linear(2)])
    assert view.columns() == [("input", 2), ("hidden 1", 3), ("output", 2)]
    assert window.step_batch_action.isEnabled()


def test_live_thumbnails_skip_frames_yet_a_pause_and_the_end_show_the_newest(qtbot, window, monkeypatch):
    """LIVE_INTERVAL throttles the live thumbnails; what a paused or finished run shows is its last epoch."""
    from gui_helpers import observe_pauses, start_long_run, wait_until_blocked

    import gui.qt.inside.network_view as network_view

    monkeypatch.setattr(network_view, "LIVE_INTERVAL", 1e6)  # only a run's first live frame is drawn at once
    view = window.network_view
    shown, frames = [], []
    original = view._show  # counts the draws themselves, this test's unit: no public path tells each one
    monkeypatch.setattr(view, "_show", lambda epoch, *rest: (shown.append(epoch), original(epoch, *rest)))
    window.session.events.connect("frame", lambda frame: frames.append(frame.epoch))
    small_data(window)
    observe_pauses(window)
    start_long_run(qtbot, window)
    shown.clear()
    qtbot.waitUntil(lambda: len(frames) >= 3, timeout=WAIT_MS)
    assert len(shown) <= 1  # live frames were kept, not drawn (the first at most)
    window.session.pause()
    wait_until_blocked(qtbot, window)
    qtbot.waitUntil(lambda: view.shown_epoch == window.session.history.epochs, timeout=WAIT_MS)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        window.session.request_stop()
    assert view.shown_epoch == window.session.history.epochs
    shown.clear()
    window.settings_panel.epochs_spin.setValue(window.session.history.epochs + 60)
    assert run_to_end(qtbot, window) == "completed"
    assert view.shown_epoch == window.session.history.epochs and shown[-1] == view.shown_epoch


def test_a_wide_networks_histograms_are_computed_off_the_gui_thread(qtbot, window, monkeypatch):
    """The inspector's stats and weight histograms of a heavy network come from its background thread."""
    import threading

    import gui.model.inside as inside
    import gui.qt.inside.inspector_view as inspector_view

    monkeypatch.setattr(inspector_view, "SYNC_COST", 0)  # every network counts as wide
    threads = []
    original = inside.histogram
    monkeypatch.setattr(inside, "histogram", lambda w, *a, **k: (threads.append(threading.current_thread()),
                                                                 original(w, *a, **k))[1])
    small_data(window)
    assert run_to_end(qtbot, window, 5) == "completed"
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.shown_epoch == 5 and inspector.background_histograms(5) is not None,
                    timeout=WAIT_MS)
    assert threads and all(t is not threading.main_thread() for t in threads)
    W = window.session.parameters_at(5)[0]
    edges, counts = inspector.background_histograms(5)[0]
    np.testing.assert_array_equal(counts, original(W)[1])
    assert counts.sum() == W.numel()


def test_a_closed_network_view_gets_frames_without_units_and_opened_shows_the_head(qtbot, window):
    """The worker makes unit images only while the view is open (or a unit is in the big plot)."""
    from gui_helpers import observe_pauses, start_long_run, wait_until_blocked

    s, view = window.session, window.network_view
    small_data(window, 200, 100, 50)
    frames = []
    s.events.connect("frame", frames.append)
    window.network_dock.close()
    assert not view.isVisible() and not s.units_wanted.on
    assert run_to_end(qtbot, window, 6) == "completed"
    assert frames and all(f.units is None for f in frames)  # the boundary still came, the units did not
    window.network_dock.show()
    assert s.units_wanted.on and view.shown_epoch == s.history.epochs == 6  # drawn from the timeline when opened
    # Closed during a run, opened while it is paused: no frame comes, the view draws the newest snapshot.
    window.network_dock.close()
    frames.clear()
    observe_pauses(window)
    start_long_run(qtbot, window)
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=WAIT_MS)
    s.pause()
    wait_until_blocked(qtbot, window)
    assert all(f.units is None for f in frames)
    window.network_dock.show()
    qtbot.waitUntil(lambda: view.shown_epoch == s.timeline.nearest(s.history.epochs), timeout=WAIT_MS)
    frames.clear()
    s.resume()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=WAIT_MS)
    # Nothing in the big plot: every 4th grid point a side, the points the 25-pixel thumbnails show.
    assert frames[-1].units is not None and frames[-1].units.shape == (77, 25, 25) and frames[-1].units_step == 4
    # Closed with a unit in the big plot: that plot still follows the run, so units still come, sharp.
    view.select(1, 0)
    window.network_dock.close()
    assert s.units_wanted.on and s.units_wanted.full
    assert view.units_step == 1 and window.boundary_plot.current_image().shape == (100, 100)  # not the coarse frame
    frames.clear()
    qtbot.waitUntil(lambda: len(frames) >= 3, timeout=WAIT_MS)
    assert frames[-1].units is not None and frames[-1].units.shape == (77, 100, 100)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        s.request_stop()
    view.select(None)
    assert not s.units_wanted.on


def test_links_are_opaque_colours_mixed_with_the_white_they_lie_on():
    # Qt blends a translucent line pixel by pixel, 25 times slower than it draws an opaque one.
    red = QColor("#c53030")
    assert over_white(red, 1.0) == QColor(0xC5, 0x30, 0x30) and over_white(red, 0.0) == QColor("white")
    faint = over_white(red, 0.25)
    assert faint.alpha() == 255 and faint.getRgb()[:3] == (round(255 - 0.25 * (255 - 0xC5)), 203, 203)


def test_in_the_default_window_the_more_labels_and_the_note_fit_under_the_thumbnails(qtbot, window):
    trained(qtbot, window)
    view = window.network_view
    view.setFixedSize(300, 186)  # the network dock's size in the default 1400 x 800 window
    qtbot.wait(10)
    view.grab()  # lays it out at this size
    assert view.note  # "showing the 400 strongest of 576 links", drawn at the bottom
    lowest_thumbnail = max(rect.bottom() for rect, _, _ in view.unit_rects)
    more = [rect for rect, _ in view.more_rects]
    assert more and all(lowest_thumbnail < rect.top() and rect.bottom() <= view.height() - 18 for rect in more)


def test_a_short_inspector_drops_its_axis_titles_and_a_tall_one_shows_them(window, qtbot):
    """The default window's inspector dock is about 190 pixels high: its plots' axis titles took most of it."""
    inspector, dock = window.inspector, window.inspector_dock
    dock.show()
    dock.setFloating(True)

    def titles():
        axes = [inspector.plot.getPlotItem().getAxis(side) for side in ("left", "bottom")]
        return [axis.label.isVisible() for axis in [*axes, inspector.histogram.getPlotItem().getAxis("left")]]
    dock.resize(420, 200)
    qtbot.waitUntil(lambda: inspector.compact and inspector.plot.height() < 120, timeout=WAIT_MS)
    assert titles() == [False, False, False]
    inspector.combo.setCurrentIndex(1)  # another series sets its title: still hidden
    assert titles() == [False, False, False]
    dock.resize(420, 600)
    qtbot.waitUntil(lambda: not inspector.compact, timeout=WAIT_MS)
    assert titles() == [True, True, True]
    assert inspector.plot.getPlotItem().getAxis("left").labelText == "weight norm ‖W‖"
