"""The block stack: add, remove, move, drag-and-drop, widths, and the labels' inferred input widths."""

from gui_helpers import button, find, labels, layer_list, run_to_end, small_data
from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QSpinBox

RELU, TANH = {"type": "ReLU"}, {"type": "Tanh"}


def linear(width):
    return {"type": "Linear", "width": width}


def record_changes(window):
    changes = []
    window.layers.blocksChanged.connect(changes.append)
    return changes


def test_add_goes_after_the_selected_block(window):
    changes = record_changes(window)
    layer_list(window).setCurrentRow(1)
    button(window, "addTanhButton").click()
    assert window.session.experiment.blocks[2] == TANH and len(window.session.experiment.blocks) == 9
    assert layer_list(window).currentRow() == 2
    find(window, QSpinBox, "linearWidthSpin").setValue(7)
    button(window, "addLinearButton").click()  # after the new (selected) Tanh
    assert window.session.experiment.blocks[:4] == [linear(25), RELU, TANH, linear(7)]
    assert labels(window)[3] == ["Linear", "25", "→", "7"]
    assert labels(window)[4] == ["Linear", "7", "→", "25"]  # the next Linear's input follows
    assert changes[-1] == window.session.experiment.blocks and len(changes) == 2


def test_add_goes_at_the_end_without_a_selection(window):
    layer_list(window).setCurrentRow(-1)
    button(window, "addReluButton").click()
    assert window.session.experiment.blocks[-1] == RELU and len(window.session.experiment.blocks) == 9
    assert window.session.experiment.blocks[:8] == window.layers.blocks()[:8]


def test_remove_the_selected_block(window):
    rows = layer_list(window)
    rows.setCurrentRow(0)
    button(window, "removeLayerButton").click()
    assert window.session.experiment.blocks[0] == RELU and len(window.session.experiment.blocks) == 7
    assert labels(window)[1] == ["Linear", "2", "→", "25"]  # the first Linear now reads the input
    rows.setCurrentRow(-1)
    assert not button(window, "removeLayerButton").isEnabled()
    assert not button(window, "moveLayerUpButton").isEnabled()


def test_move_up_and_down(window):
    rows = layer_list(window)
    rows.setCurrentRow(7)  # Tanh
    button(window, "moveLayerUpButton").click()
    assert window.session.experiment.blocks[6:] == [TANH, linear(2)] and rows.currentRow() == 6
    button(window, "moveLayerDownButton").click()
    assert window.session.experiment.blocks[6:] == [linear(2), TANH] and rows.currentRow() == 7
    assert window.session.experiment.validate() == []


def test_moves_past_either_end_change_nothing(window, qtbot):
    rows = layer_list(window)
    rows.setCurrentRow(7)
    with qtbot.assertNotEmitted(window.layers.blocksChanged):
        button(window, "moveLayerDownButton").click()
        rows.setCurrentRow(0)
        button(window, "moveLayerUpButton").click()
    blocks = window.session.experiment.blocks
    assert blocks == window.layers.blocks() and blocks[0] == linear(25)


def test_drag_and_drop_reorder_follows_into_the_experiment(window, qtbot):
    """QListWidget's internal move calls its model's moveRow, exactly as here."""
    rows = layer_list(window)
    with qtbot.waitSignal(window.layers.blocksChanged, timeout=1000) as changed:
        assert rows.model().moveRow(QModelIndex(), 7, QModelIndex(), 0)  # Tanh to the top
    expected = [TANH, linear(25), RELU, linear(25), RELU, linear(25), RELU, linear(2)]
    assert changed.args[0] == expected
    assert window.session.experiment.blocks == expected
    assert labels(window)[:2] == [["Tanh"], ["Linear", "2", "→", "25"]]
    assert window.session.experiment.validate() == []
    with qtbot.waitSignal(window.layers.blocksChanged, timeout=1000):
        assert rows.model().moveRow(QModelIndex(), 1, QModelIndex(), 8)  # the first Linear to the end
    assert window.session.experiment.blocks[-1] == linear(25)
    assert labels(window)[2] == ["Linear", "2", "→", "25"] and labels(window)[-1] == ["Linear", "2", "→", "25"]
    assert window.session.experiment.validate()  # last Linear now has 25 outputs


def test_next_width_never_changes_an_existing_block(window, qtbot):
    rows = layer_list(window)
    before = [dict(b) for b in window.session.experiment.blocks]
    for row in (0, 6, -1):
        rows.setCurrentRow(row)
        with qtbot.assertNotEmitted(window.layers.blocksChanged):
            find(window, QSpinBox, "linearWidthSpin").setValue(13 + row)
    assert window.session.experiment.blocks == before


def test_selected_width_edits_the_selected_linear_block(window):
    rows = layer_list(window)
    selected = find(window, QSpinBox, "selectedWidthSpin")
    rows.setCurrentRow(2)
    assert selected.isEnabled() and selected.value() == 25
    selected.setValue(10)
    assert window.session.experiment.blocks[2] == linear(10)
    assert labels(window)[2] == ["Linear", "25", "→", "10"]
    assert labels(window)[4] == ["Linear", "10", "→", "25"]
    assert window.session.model[2].weight.shape == (10, 25) and window.session.model[4].weight.shape == (25, 10)
    rows.setCurrentRow(3)  # a ReLU has no width
    assert not selected.isEnabled()
    rows.setCurrentRow(6)
    assert selected.value() == 2


def test_editing_the_blocks_rebuilds_the_model_and_clears_the_history(window, qtbot):
    small_data(window)
    run_to_end(qtbot, window, epochs=3)
    assert window.session.history.epochs == 3
    layer_list(window).setCurrentRow(0)
    find(window, QSpinBox, "selectedWidthSpin").setValue(8)
    assert window.session.history.epochs == 0
    assert window.session.model[0].weight.shape == (8, 2)
    assert window.run_panel.progress.value() == 0

