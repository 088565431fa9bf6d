"""The boundary's colour scale means the same in every frame of a run (issue 9, item 3).

A collapsed network (outputs of about ±0.03, error near 50 %) must look pale, not saturated:
the scale is fixed by what the output can reach, or grows with what it has reached.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor

from gui.model import boundary
from gui.qt.plots.plots import BoundaryPlot, output_bound

EXTENT = (-1.0, 1.0, -1.0, 1.0)


def frame(peak: float) -> np.ndarray:
    """A boundary image: +peak on one half, −peak on the other."""
    image = np.full((boundary.RESOLUTION, boundary.RESOLUTION), -peak, np.float32)
    image[: boundary.RESOLUTION // 2] = peak
    return image


@pytest.fixture
def plot(qtbot):
    widget = BoundaryPlot()
    qtbot.addWidget(widget)
    widget.resize(420, 360)
    widget.show()
    return widget


def test_a_collapsed_tanh_network_is_pale_on_the_fixed_scale(plot, qtbot):
    plot.set_output_bound(2.0)
    plot.show_image(frame(0.03), EXTENT)
    assert plot.levels() == (-2.0, 2.0)
    assert tuple(plot.heatmap.getLevels()) == (-2.0, 2.0)
    qtbot.wait(1)
    plot.heatmap.render()
    colour = QColor(plot.heatmap.qimage.pixel(10, 0))  # a +0.03 pixel: nearly white
    assert min(colour.red(), colour.green(), colour.blue()) > 200, colour.getRgb()


def test_an_unbounded_output_scale_grows_and_never_shrinks_within_a_run(plot):
    plot.set_output_bound(None)
    plot.reset_range()
    seen = []
    for peak in (0.5, 3.0, 0.1, 2.0, 7.0, 0.01):
        plot.show_image(frame(peak), EXTENT)
        seen.append(plot.levels()[1])
        assert plot.levels()[0] == -plot.levels()[1]
        assert plot.levels()[1] >= peak
    assert seen == sorted(seen) and seen[0] == pytest.approx(0.5) and seen[-1] == pytest.approx(8.0)


def test_reset_range_starts_a_new_run_afresh(plot):
    plot.set_output_bound(None)
    plot.show_image(frame(5.0), EXTENT)
    plot.reset_range()
    plot.show_image(frame(0.25), EXTENT)
    assert plot.levels() == pytest.approx((-0.25, 0.25))


def test_the_bound_holds_even_for_the_largest_frame(plot):
    plot.set_output_bound(2.0)
    for peak in (1.9, 0.01, 2.0):
        plot.show_image(frame(peak), EXTENT)
        assert plot.levels() == (-2.0, 2.0)


def test_auto_range_is_an_explicit_toggle_off_by_default(plot):
    check = plot.findChild(type(plot.auto_range_check), "autoRangeCheck") or plot.auto_range_check
    assert check.objectName() == "autoRangeCheck" and not check.isChecked() and check.toolTip()
    plot.set_output_bound(2.0)
    plot.show_image(frame(0.03), EXTENT)
    check.setChecked(True)  # relevels the frame on screen at once
    assert plot.levels() == pytest.approx((-0.03, 0.03))
    plot.show_image(frame(0.5), EXTENT)
    assert plot.levels() == pytest.approx((-0.5, 0.5))
    plot.show_image(frame(0.03), EXTENT)
    assert plot.levels() == pytest.approx((-0.03, 0.03))  # per frame: it may shrink
    check.setChecked(False)
    assert plot.levels() == (-2.0, 2.0)


def test_changing_the_bound_relevels_the_frame_on_screen(plot):
    plot.show_image(frame(0.5), EXTENT)
    plot.set_output_bound(2.0)
    assert plot.levels() == (-2.0, 2.0)
    plot.reset_range()
    plot.set_output_bound(None)
    assert plot.levels() == pytest.approx((-0.5, 0.5))


def test_non_finite_outputs_leave_a_finite_scale(plot):
    image = frame(0.5)
    image[0, 0], image[1, 1] = np.nan, np.inf
    plot.show_image(image, EXTENT)
    assert plot.levels() == pytest.approx((-0.5, 0.5))
    plot.show_image(np.full_like(image, np.nan), EXTENT)
    assert all(np.isfinite(plot.levels()))


@pytest.mark.parametrize("bound", [0.0, -1.0, float("nan"), float("inf")])
def test_a_bound_that_is_not_a_reach_is_refused(plot, bound):
    with pytest.raises(ValueError, match="positive and finite"):
        plot.set_output_bound(bound)


@pytest.mark.parametrize(("last", "bound"), [("Tanh", 2.0), ("ReLU", None), ("Linear", None)])
def test_output_bound_follows_the_last_block(last, bound):
    blocks = [{"type": "Linear", "width": 2}, {"type": last}]
    if last == "Linear":
        blocks = blocks[:1]
    assert output_bound(blocks) == bound
    assert output_bound([]) is None


def test_the_window_exposes_the_colour_bar_levels(window):
    plot = window.boundary_plot
    plot.set_output_bound(output_bound(window.session.experiment.blocks))  # what the window does for a new network
    plot.reset_range()
    plot.show_image(frame(0.03), EXTENT)
    assert window.boundary_plot.levels() == (-2.0, 2.0)
