"""What a careful user hits with regression and input features: each view tells the truth after the task,
the dataset or the inputs change, and hostile files give a sentence."""

from __future__ import annotations

from gui_helpers import WAIT_MS
from test_regression_views import regression_of


def step_one_batch(window, qtbot) -> None:
    s, steps = window.session, []
    s.events.connect("batch", steps.append)
    window.step_batch_action.trigger()
    qtbot.waitUntil(lambda: len(steps) == 1 and s.state == "paused", timeout=WAIT_MS)
    s.stop()
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)


def test_the_batch_steps_small_curve_goes_with_the_step_it_drew(window, qtbot):
    """A Sine step's small curve must not stay on the batch step view once another dataset is chosen."""
    window.qtbot = qtbot
    regression_of(window, "Sine", epochs=0)
    step_one_batch(window, qtbot)
    view = window.batch_step_view
    assert view.curve.isVisible() and len(view.curve.getData()[0]) > 0
    window.session.edit(dataset="Plane")
    assert view.step is None
    x, _ = view.curve.getData()
    assert not view.curve.isVisible() or x is None or len(x) == 0
