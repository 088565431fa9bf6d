"""Long loss histories draw as a bounded envelope, updated with the new epochs only (issue 16, item 8).

A 10-million-epoch history once made every progress message redraw ten million points. What
the curve gets is now at most a few thousand points, and that envelope holds every true value.
Speed itself is measured by hand (see the report), never asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest

from gui.model.history import History
from gui.qt.plots.loss_plot import Envelope, LossPlot

MAX_POINTS = 4 * 2048 + 2  # LossPlot's envelopes: at most 2 x capacity blocks of 2 points, plus the tail


def losses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.7 * np.exp(-np.arange(n) / (n / 5 + 1)) + 0.02 + 0.01 * rng.standard_normal(n)).astype(np.float32)


def blocks_hold_the_truth(envelope: Envelope, y: np.ndarray) -> None:
    """Each drawn block is the true min and max of its samples, and the blocks tile the series."""
    b, m = envelope.block, envelope.blocks
    assert envelope.folded == m * b <= len(y) < envelope.folded + b
    if m:
        chunk = np.asarray(y[: m * b], np.float64).reshape(m, b)
        np.testing.assert_array_equal(envelope.lo[:m], chunk.min(1))
        np.testing.assert_array_equal(envelope.hi[:m], chunk.max(1))


@pytest.fixture
def plot(qtbot):
    widget = LossPlot()
    qtbot.addWidget(widget)
    widget.resize(500, 300)
    widget.show()
    return widget


def handed_to(curve) -> tuple[np.ndarray, np.ndarray]:
    """What the curve was given by setData (before pyqtgraph's own view-based downsampling)."""
    return np.asarray(curve.xData), np.asarray(curve.yData)


def test_a_ten_million_epoch_history_draws_a_few_thousand_points_holding_min_and_max(plot):
    history = History(losses(10_000_000))
    history.extend([], np.arange(1, 10_000_001, 7), losses(1_428_572, seed=1))  # a test loss every 7 epochs
    history.train[3_141_592] = 5.0  # one spike, and one dip, must show
    history.train[9_999_000] = -1.0
    plot.show_history(history, planned=10_000_000)
    for curve, y in ((plot.train_curve, history.train), (plot.test_curve, history.test)):
        xs, ys = handed_to(curve)
        assert 1000 < len(ys) <= MAX_POINTS and len(xs) == len(ys)
        assert ys.min() == y.min() and ys.max() == y.max()
        assert np.all(np.diff(xs) >= 0) and xs[0] >= 1 and xs[-1] <= 10_000_000
    xs, ys = handed_to(plot.train_curve)
    assert abs(xs[ys.argmax()] - 3_141_593) <= 10_000_000 / 1024  # the spike is drawn near its epoch


def test_messages_after_a_long_history_keep_the_points_bounded_and_exact(plot):
    history = History(losses(3_000_000))
    plot.show_history(history, planned=3_100_000)
    rng = np.random.default_rng(2)
    for _ in range(30):  # progress messages: a few hundred epochs each
        history.extend(losses(int(rng.integers(1, 5000)), seed=int(rng.integers(1000))))
        plot.show_history(history, planned=3_100_000)
        xs, ys = handed_to(plot.train_curve)
        assert len(ys) <= MAX_POINTS
        assert ys.min() == history.train.min() and ys.max() == history.train.max()
        assert xs[-1] <= history.epochs and xs[-1] > history.epochs - plot.train_envelope.block
    blocks_hold_the_truth(plot.train_envelope, history.train)


def test_a_short_history_is_drawn_epoch_by_epoch(plot):
    history = History(losses(1500))
    history.extend([], [500, 1000, 1500], [0.3, 0.2, 0.1])
    plot.show_history(history, planned=2000)
    xs, ys = handed_to(plot.train_curve)
    np.testing.assert_array_equal(xs, np.arange(1, 1501))
    np.testing.assert_array_equal(ys, history.train)
    np.testing.assert_array_equal(handed_to(plot.test_curve)[0], [500, 1000, 1500])


def test_a_new_history_is_drawn_afresh(plot):
    plot.show_history(History(losses(1_000_000)), planned=1_000_000)
    fresh = History(np.array([0.5, 0.4, 0.3], np.float32))
    plot.show_history(fresh, planned=1000)
    np.testing.assert_array_equal(handed_to(plot.train_curve)[1], fresh.train)


@pytest.mark.parametrize("keep", [400_000, 999_999])
def test_the_same_history_cut_short_and_grown_again_is_drawn_afresh(plot, keep):
    history = History(losses(1_000_000))
    plot.show_history(history, planned=1_000_000)
    history.train = history.train[:keep]  # e.g. a run cut back to its last finite epoch
    history.extend(np.full(5000, 3.0, np.float32))
    plot.show_history(history, planned=1_000_000)
    xs, ys = handed_to(plot.train_curve)
    assert ys.max() == 3.0 and ys.min() == history.train.min() and xs[-1] <= history.epochs
    blocks_hold_the_truth(plot.train_envelope, history.train)


def test_the_hover_still_reads_the_exact_epoch(plot, qtbot):
    history = History(losses(100_000))
    plot.show_history(history, planned=100_000)
    # the cursor label reads the full history, not the envelope: any single epoch, exactly
    for epoch in (1, 31_416, 99_999, 100_000):
        assert plot.hover_text(epoch) == f"epoch {epoch}: train loss {history.train[epoch - 1]:.4g}"
    assert plot.hover_text(10**9) == plot.hover_text(100_000)  # past the end: the last epoch


@pytest.mark.parametrize("seed", range(8))
def test_incremental_folding_equals_folding_at_once(seed):
    rng = np.random.default_rng(seed)
    capacity = int(rng.choice([4, 8, 16]))
    n = int(rng.integers(0, 40 * capacity))
    y = rng.standard_normal(n).astype(np.float32)
    x = np.cumsum(rng.integers(1, 4, n))
    stepwise, source = Envelope(capacity), object()
    cut = 0
    while cut < n:
        cut = min(n, cut + int(rng.integers(1, 3 * capacity)))
        xs, ys = stepwise.points(y[:cut], x[:cut], source=source)
        assert len(ys) <= 2 * capacity + 2 and len(xs) == len(ys)
        if cut:
            assert ys.min() == y[:cut].min() and ys.max() == y[:cut].max()
        blocks_hold_the_truth(stepwise, y[:cut])
    once = Envelope(capacity).points(y, x, source=source)
    final = stepwise.points(y, x, source=source)
    np.testing.assert_array_equal(once[0], final[0])
    np.testing.assert_array_equal(once[1], final[1])
