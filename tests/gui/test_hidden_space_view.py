"""The hidden layer's view of space in the window (``window.hidden_space``): it draws the training points as a
two-unit hidden layer maps them at the epoch shown, follows the run and the timeline, and says in a sentence
why a network without such a layer has nothing to draw."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gui.model import hidden_space
from gui.qt.inside import inside_docks

WAIT_MS = 60_000
BLOCKS = [{"type": "Linear", "width": 8}, {"type": "Tanh"}, {"type": "Linear", "width": 2}, {"type": "Tanh"},
          {"type": "Linear", "width": 2}, {"type": "Tanh"}]


def shown(window, qtbot):
    window.view_actions["hidden_space_dock"].trigger()
    qtbot.wait(20)
    assert inside_docks.shown_view(window) is window.hidden_space_dock
    return window.hidden_space


def expected(window, layer: int) -> np.ndarray:
    s, view = window.session, window.hidden_space
    return hidden_space.mapped(s.experiment.blocks, s.parameters_at(view.shown_epoch), s.data.X_train, layer)


def test_points_are_the_layers_map_at_the_epoch_shown_and_follow_a_seek(window, qtbot):
    s = window.session
    s.edit(blocks=BLOCKS, epochs=8, n_train=200, n_test=100, batch_size=10, eta=0.01)
    view = shown(window, qtbot)
    assert view.layers() == [1]
    assert "8 units" in view.why_not(0) and "output" in view.why_not(2)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        s.run()
    qtbot.waitUntil(lambda: view.shown_epoch == s.history.epochs == 8, timeout=WAIT_MS)
    end = view.points(1)
    assert end.shape == (s.data.X_train.shape[0], 2)
    np.testing.assert_allclose(end, expected(window, 1), rtol=1e-6, atol=1e-7)
    x, y = view.scatter.getData()  # what is drawn is what points() returns
    np.testing.assert_allclose(np.c_[x, y], end, rtol=1e-6, atol=1e-7)
    assert not view.message and view.plot.isVisible()

    s.seek(0)
    qtbot.waitUntil(lambda: view.shown_epoch == 0, timeout=WAIT_MS)
    start = view.points(1)
    np.testing.assert_allclose(start, expected(window, 1), rtol=1e-6, atol=1e-7)
    assert not np.allclose(start, end), "the seek did not change the points"
    with pytest.raises(ValueError, match="8 units"):
        view.points(0)
    folder = Path(os.environ.get("LAYOUT_SHOTS", ""))
    if os.environ.get("LAYOUT_SHOTS"):
        window.hidden_space_dock.grab().save(str(folder / "hidden-space-epoch0.png"))


def test_the_view_follows_a_live_run(window, qtbot):
    s = window.session
    s.edit(blocks=BLOCKS, epochs=12, n_train=200, n_test=100, batch_size=10)
    view = shown(window, qtbot)
    window.set_speed(5)  # a run of about 2.5 s: many progress messages, and the view's redraws (at most 5 a second)
    seen = set()
    s.events.connect("progress", lambda _m: seen.add(view.shown_epoch) if s.state == "running" else None)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        s.run()
    assert len(seen - {None}) >= 2, seen
    qtbot.waitUntil(lambda: view.shown_epoch == 12, timeout=WAIT_MS)


def test_a_network_without_a_two_unit_hidden_layer_says_why(window, qtbot):
    view = shown(window, qtbot)  # the report's network: hidden layers of 25 units
    assert view.layers() == []
    assert "No hidden layer has exactly 2 units" in view.message
    assert view.why_not(0).startswith("Layer 1 (hidden 1) has 25 units")
    assert not view.plot.isVisible() and view.message_box.isVisible()
    with pytest.raises(ValueError, match="25 units"):
        view.points(0)
    window.session.edit(blocks=BLOCKS)  # a 2-unit layer appears: the plot comes back
    assert view.layers() == [1] and not view.message and view.plot.isVisible()
    assert view.combo.currentText() == "layer 2 (hidden 2)"
