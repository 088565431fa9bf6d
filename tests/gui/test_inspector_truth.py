"""The inspector tells the truth: no flag on a healthy run, advice that fits the network and the loss,
the epoch the timeline shows, a series with every epoch, and a log axis whose labels can be read."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, find, run_to_end, small_data, start_long_run
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QSlider

from gui.model import inside
from gui.model.experiment import Experiment, linear


def shown_on_timeline(window) -> int:
    return find(window, QSlider, "timelineSlider").value()


def test_the_reports_experiment_is_never_flagged(qtbot, window):
    """The report's own run (1,000 epochs, about 2 % test error) is healthy at every epoch the timeline
    holds, which is every epoch of its 1,000: what the inspector can show."""
    s = window.session
    window.set_speed(None)
    assert run_to_end(qtbot, window, 1000, timeout=120_000) == "completed"
    assert s.snapshot_epochs() == list(range(1001))
    flagged = {e: words for e in s.snapshot_epochs() if (words := window.inspector.flags_at(e))}
    assert not flagged, f"{len(flagged)} epochs flagged, e.g. {next(iter(flagged.items()))}"
    # and the epochs where half a layer's ReLUs are dead for a while are among them: the rule is what spares them
    assert any(row["dead_units"] is not None and row["dead_units"] >= 13
               for e in range(1, 7) for row in window.inspector.stats_at(e))


def test_lasting_dead_units_on_a_stalled_loss_are_flagged_with_a_smaller_step(qtbot, window):
    s = window.session
    small_data(window, 200, 100, 50)
    s.edit(blocks=[linear(8), {"type": "ReLU"}, linear(2), {"type": "Tanh"}], eta=5.0)
    window.set_speed(None)
    run_to_end(qtbot, window, 40)
    stats = window.inspector.stats_at(40)
    assert stats[0]["dead_units"] >= 4, stats  # this step size kills most units, and they stay dead
    words = " ".join(window.inspector.flags_at(40))
    assert "ReLU units are dead" in words and "for the last 20 epochs" in words
    assert "smaller step size (eta is 5)" in words
    assert window.inspector.flags_at(3) == []  # three epochs are too short to tell what lasts
    qtbot.waitUntil(lambda: window.inspector.flags_label.toPlainText().startswith("Hidden 1"), timeout=WAIT_MS)


def _stats(blocks, params, data, eta=1e-3):
    return inside.layer_stats(blocks, params, data.X_train, data.y_train, eta)


def test_flags_need_a_window_and_spare_a_falling_loss():
    data = Experiment(n_train=200).make_data()
    blocks = [linear(6), {"type": "ReLU"}, linear(2), {"type": "Tanh"}]
    params = [p.clone() for p in Experiment(blocks=blocks).build_model().parameters()]
    params[1][:4], params[1][4:] = -100.0, 1.0  # 4 of 6 units dead at every point, 2 alive
    stats, cols = _stats(blocks, params, data), inside.columns(blocks)
    falling = np.linspace(0.5, 0.3, 40)
    flat = np.full(40, 0.3)
    assert inside.flags(stats, cols, 1e-3, earlier=[], losses=flat) == []  # too short to tell
    words = inside.flags(stats, cols, 1e-3, earlier=[stats, stats], losses=flat)
    assert len(words) == 1 and "4 of 6 ReLU units are dead" in words[0] and "smaller step size" in words[0]
    # as many dead as 20 epochs ago while the loss falls: the other units learn, nothing to flag
    assert inside.flags(stats, cols, 1e-3, earlier=[stats, stats], losses=falling) == []
    # more dead than 20 epochs ago: flagged even while the loss falls, but never "a smaller step size"
    fewer = [dict(stats[0], dead_units=3), stats[1]]
    words = inside.flags(stats, cols, 1e-3, earlier=[fewer, stats], losses=falling)
    assert len(words) == 1 and "smaller step size" not in words[0] and "still falling" in words[0]
    # a window where the units were alive once: not lasting
    alive = [dict(stats[0], dead_units=0), stats[1]]
    assert inside.flags(stats, cols, 1e-3, earlier=[stats, alive], losses=flat) == []


def test_persist_window_and_loss_falling():
    epochs = [0, 1, 2, 3, 5, 10, 21, 22, 40, 64]
    assert inside.persist_window(epochs, 3) == []
    assert inside.persist_window(epochs, 22) == [2, 3, 5, 10, 21]
    assert inside.persist_window(epochs, 40) == [10, 21, 22]
    assert inside.persist_window(epochs, 64) == [40]
    assert inside.loss_falling([0.5, 0.4, 0.3, 0.2], 4) and not inside.loss_falling([0.2, 0.3, 0.4], 3)
    assert not inside.loss_falling([0.5], 1) and not inside.loss_falling([0.5, math.nan], 2)


def test_a_saturated_sigmoid_stack_gets_advice_that_names_sigmoid():
    data = Experiment(n_train=200).make_data()
    blocks = [b for _ in range(8) for b in (linear(16), {"type": "Sigmoid"})] + [linear(2), {"type": "Tanh"}]
    params = [p.clone() for p in Experiment(blocks=blocks).build_model().parameters()]
    params[1] += 8.0  # the first layer's Sigmoids sit at 1 for every point: saturated
    stats, cols = _stats(blocks, params, data), inside.columns(blocks)
    assert stats[0]["saturated_units"] == 16 and stats[-1]["saturated_units"] is not None
    words = inside.flags(stats, cols, 1e-3, earlier=[stats], losses=np.full(40, 0.5))
    text = " ".join(words)
    assert "16 of 16 Sigmoid units are saturated" in text
    assert "vanishes on the way back" in text and "Try ReLU instead of Sigmoid" in text
    assert "Tanh" not in text.replace("Tanh units", "")  # no Tanh in the hidden layers: no advice about it
    # a Tanh stack is told about Tanh, a ReLU stack about fewer layers
    assert inside.deeper_advice(inside.columns([linear(4), {"type": "Tanh"}, linear(2)])).startswith(
        "Try ReLU instead of Tanh")
    assert "instead of" not in inside.deeper_advice(inside.columns([linear(4), {"type": "ReLU"}, linear(2)]))


def test_shown_epoch_follows_a_pause_and_a_stop(qtbot, window):
    s = window.session
    small_data(window, 200, 100, 50)
    window.set_speed(50)
    start_long_run(qtbot, window)
    qtbot.waitUntil(lambda: s.history.epochs >= 20, timeout=WAIT_MS)
    s.pause()
    qtbot.waitUntil(lambda: s.state == "paused", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.inspector.shown_epoch == shown_on_timeline(window) == s.history.epochs,
                    timeout=1000)
    paused_at = s.history.epochs
    s.pause()  # resume
    qtbot.waitUntil(lambda: s.history.epochs >= paused_at + 10, timeout=WAIT_MS)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        s.stop()
    qtbot.waitUntil(lambda: window.inspector.shown_epoch == shown_on_timeline(window) == s.history.epochs,
                    timeout=1000)


def test_a_short_runs_series_has_every_epoch_computed_off_the_gui_thread(qtbot, window, monkeypatch):
    threads = []
    original = inside.layer_stats
    monkeypatch.setattr(inside, "layer_stats", lambda *a, **k: (threads.append(threading.current_thread()),
                                                                original(*a, **k))[1])
    window.set_speed(None)
    assert run_to_end(qtbot, window, 60) == "completed"
    inspector = window.inspector
    qtbot.waitUntil(lambda: sorted(inspector.series) == list(range(61)), timeout=WAIT_MS)
    x, y = inspector.curves[0].getData()
    assert x.tolist() == list(range(61))
    np.testing.assert_allclose(10 ** y, [inspector.series[e][0]["grad_norm"] for e in range(61)], rtol=1e-5)
    # The epoch shown and the 20 before it (its flags' window) are computed as it is shown; the others
    # come from the background
    assert sum(t is not threading.main_thread() for t in threads) >= 61 - 21 - 5


def _labels(inspector) -> list:
    """The left axis's tick labels as drawn: their rectangles, on the plot's own painter."""
    axis = inspector.plot.getAxis("left")
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [rect for rect, _, _ in texts]


def _readable(qtbot, inspector) -> None:
    low, high = inspector.plot.getPlotItem().vb.viewRange()[1]
    assert math.isfinite(low) and math.isfinite(high) and high - low >= 1  # at least a decade (log10)
    rects = _labels(inspector)
    assert 2 <= len(rects) <= 8, len(rects)
    for a, b in zip(rects, rects[1:], strict=False):
        assert not a.intersects(b), (a, b)  # no label on another


def test_the_log_axis_reads_on_a_fresh_window_and_with_zero_gradients(qtbot, window, monkeypatch):
    inspector = window.inspector
    qtbot.waitUntil(lambda: inspector.shown_epoch == 0, timeout=WAIT_MS)
    _readable(qtbot, inspector)
    original = inside.layer_stats
    monkeypatch.setattr(inside, "layer_stats", lambda *a, **k: [dict(r, grad_norm=0.0, update_ratio=0.0)
                                                              for r in original(*a, **k)])
    window.session.reset()
    qtbot.waitUntil(lambda: inspector.shown_epoch == 0 and inspector.stats_at(0)[0]["grad_norm"] == 0,
                    timeout=WAIT_MS)
    _readable(qtbot, inspector)
    inspector.combo.setCurrentIndex(2)  # the update ratio: 0 too
    _readable(qtbot, inspector)


@pytest.mark.parametrize("activation", ["Tanh", "Sigmoid"])
def test_saturated_units_are_counted_for_tanh_and_sigmoid(activation):
    data = Experiment(n_train=100).make_data()
    blocks = [linear(4), {"type": activation}, linear(2)]
    params = [p.clone() for p in Experiment(blocks=blocks).build_model().parameters()]
    params[1][:3] = 10.0  # 3 of 4 units at their upper limit everywhere
    params[0][:3] = 0.0
    params[0][3], params[1][3] = torch.tensor([0.0, 0.0]), 0.0  # the 4th at 0 (Tanh) or 0.5 (Sigmoid)
    assert _stats(blocks, params, data)[0]["saturated_units"] == 3
