"""A huge eta on a stack that ends on its Linear block diverges; the GUI says so and recovers.

A final Tanh bounds the summed MSE, so these stacks drop it.
"""

import numpy as np
import pytest
from gui_helpers import button, find, heatmap, layer_list, run_to_end, small_data, train_curve
from PySide6.QtWidgets import QDoubleSpinBox


@pytest.fixture
def unbounded(window):
    """The report's stack without its final Tanh, eta 10, small data."""
    small_data(window)
    layer_list(window).setCurrentRow(7)
    button(window, "removeLayerButton").click()
    assert window.session.experiment.blocks[-1] == {"type": "Linear", "width": 2}
    find(window, QDoubleSpinBox, "etaSpin").setValue(10.0)
    return window


def test_a_huge_eta_diverges_and_the_status_says_what_to_try(unbounded, qtbot):
    window = unbounded
    assert run_to_end(qtbot, window, epochs=50) == "diverged"
    assert not window.session.running
    assert "diverged" in window.last_message and "smaller step size" in window.last_message
    assert "eta is 10" in window.last_message
    assert window.status_label.text() == window.last_message
    assert window.session.history.epochs < 50
    assert np.isfinite(window.session.history.train).all()
    assert np.isfinite(train_curve(window)).all() and len(train_curve(window)) == window.session.history.epochs
    _, test_losses = window.loss_plot.test_curve.getData()
    assert test_losses is None or np.isfinite(test_losses).all()
    assert np.isfinite(heatmap(window)).all()
    assert "nan" not in window.run_panel.metrics.text().lower()
    assert button(window, "runButton").isEnabled()


def test_divergence_after_good_epochs_keeps_their_plots(unbounded, qtbot):
    window = unbounded
    eta = find(window, QDoubleSpinBox, "etaSpin")
    eta.setValue(1e-3)
    assert run_to_end(qtbot, window, epochs=4) == "completed"
    good_losses, good_image = window.session.history.train.copy(), heatmap(window)
    eta.setValue(10.0)
    assert run_to_end(qtbot, window) == "diverged"
    assert window.session.history.epochs >= 4
    np.testing.assert_array_equal(window.session.history.train[:4], good_losses)
    np.testing.assert_array_equal(train_curve(window), window.session.history.train)
    assert np.isfinite(train_curve(window)).all()
    image = heatmap(window)
    assert np.isfinite(image).all()
    if window.session.history.epochs == 4:  # diverged in its first epoch: nothing newer to show
        np.testing.assert_array_equal(image, good_image)
    assert window.run_panel.metrics.text().startswith(f"Epoch {window.session.history.epochs} of")


def test_the_next_run_after_lowering_eta_completes_from_fresh_weights(unbounded, qtbot):
    window = unbounded
    assert run_to_end(qtbot, window, epochs=50) == "diverged"
    find(window, QDoubleSpinBox, "etaSpin").setValue(1e-3)
    assert run_to_end(qtbot, window, epochs=5) == "completed"
    assert window.session.history.epochs == 5  # started again, not on from the diverged weights
    train = window.session.history.train
    assert np.isfinite(train).all() and train[-1] < train[0]
    image = heatmap(window)
    assert np.isfinite(image).all() and np.ptp(image) > 0
    assert "test" in window.run_panel.metrics.text()


def test_a_bounded_stack_does_not_diverge_at_the_largest_eta(window, qtbot):
    """With the final Tanh the summed MSE stays finite: the run completes (it may learn nothing)."""
    small_data(window)
    find(window, QDoubleSpinBox, "etaSpin").setValue(10.0)
    assert run_to_end(qtbot, window, epochs=3) == "completed"
    assert np.isfinite(window.session.history.train).all()
