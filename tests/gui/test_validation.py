"""Every way the stack can be invalid shows a sentence and disables Run; fixing it re-enables Run."""

from gui_helpers import button, find, layer_list
from PySide6.QtWidgets import QLabel, QSpinBox


def clear_stack(window):
    rows = layer_list(window)
    while rows.count():
        rows.setCurrentRow(0)
        button(window, "removeLayerButton").click()
    rows.setCurrentRow(-1)


def add_linear(window, width):
    find(window, QSpinBox, "linearWidthSpin").setValue(width)
    button(window, "addLinearButton").click()


def message(window) -> str:
    return find(window, QLabel, "validationLabel").text()


def assert_blocked(window, *words):
    text = message(window)
    assert text and text[0].isupper() and text.rstrip().endswith("."), text
    for word in words:
        assert word in text, text
    assert not button(window, "runButton").isEnabled()
    assert not button(window, "stepButton").isEnabled()
    assert window.session.model is None


def assert_runnable(window):
    assert message(window) == ""
    assert button(window, "runButton").isEnabled() and button(window, "stepButton").isEnabled()
    assert window.session.model is not None


def test_empty_stack(window):
    clear_stack(window)
    assert_blocked(window, "empty")
    add_linear(window, 2)
    assert_runnable(window)


def test_no_linear_block(window):
    clear_stack(window)
    button(window, "addReluButton").click()
    button(window, "addTanhButton").click()
    assert_blocked(window, "no Linear")
    layer_list(window).setCurrentRow(-1)
    add_linear(window, 2)
    assert_runnable(window)
    assert [b["type"] for b in window.session.experiment.blocks] == ["ReLU", "Tanh", "Linear"]


def test_last_linear_width_must_match_the_classes(window):
    rows = layer_list(window)
    rows.setCurrentRow(6)  # Linear 25 -> 2
    find(window, QSpinBox, "selectedWidthSpin").setValue(3)
    assert_blocked(window, "3 outputs", "2 classes")
    find(window, QSpinBox, "selectedWidthSpin").setValue(2)
    assert_runnable(window)


def test_run_click_while_invalid_does_not_start(window, qtbot):
    clear_stack(window)
    with qtbot.assertNotEmitted(window.trainingStarted):
        window.run()
    assert not window.session.running
    assert "empty" in window.last_message


def test_too_many_parameters(window):
    """Four 4096-wide layers exceed minidl's 50 million parameters; the check runs before any allocation."""
    clear_stack(window)
    for _ in range(4):
        add_linear(window, 4096)
    add_linear(window, 2)
    assert_blocked(window, "parameters")
    assert "last Linear" not in message(window)
    # Fix it through states that stay invalid, so nothing large is ever built.
    rows, selected = layer_list(window), find(window, QSpinBox, "selectedWidthSpin")
    rows.setCurrentRow(4)
    selected.setValue(3)
    for row in range(4):
        rows.setCurrentRow(row)
        selected.setValue(8)
        assert window.session.model is None
    rows.setCurrentRow(4)
    selected.setValue(2)
    assert_runnable(window)
    assert [m.weight.shape for m in window.session.model] == [(8, 2), (8, 8), (8, 8), (8, 8), (2, 8)]


def test_several_problems_are_all_listed(window):
    clear_stack(window)
    add_linear(window, 4096)
    for _ in range(3):
        add_linear(window, 4096)  # too many parameters and a last width of 4096
    assert_blocked(window, "parameters", "4096 outputs")
    assert len(message(window).splitlines()) == 2
