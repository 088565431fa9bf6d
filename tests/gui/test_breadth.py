"""Issue 15 in the window: loss, optimizer and schedule controls, the Sigmoid block, K classes
end to end, draw mode, CSV import and export, and optimizer state across runs and files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gui_helpers import WAIT_MS, button, find, heatmap, labels, run_to_end, small_data
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QPushButton, QSpinBox
from session_helpers import InlineRun

import minidl
from gui.files import points_csv
from gui.model import points
from gui.model.experiment import CUSTOM, Experiment, linear
from gui.model.session import Session
from minidl.data import one_hot, split


def test_the_new_controls_edit_the_experiment(window):
    e = window.session.experiment
    find(window, QComboBox, "lossCombo").setCurrentText("Cross-entropy")
    find(window, QComboBox, "optimizerCombo").setCurrentText("SGD + momentum")
    momentum = find(window, QDoubleSpinBox, "momentumSpin")
    assert momentum.isVisible()
    momentum.setValue(0.5)
    find(window, QDoubleSpinBox, "weightDecaySpin").setValue(0.001)
    find(window, QComboBox, "scheduleCombo").setCurrentText("Cosine")
    assert (e.loss, e.optimizer, e.momentum, e.weight_decay, e.schedule) == \
        ("Cross-entropy", "SGD + momentum", 0.5, 0.001, "Cosine")
    assert repr(e.build_optimizer()) == "SGD(eta=0.001, momentum=0.5, weight_decay=0.001)"
    assert "Cross-entropy needs raw scores: remove the Tanh after the last Linear" in window.layers.validation.text()
    assert window.loss_plot.getPlotItem().getAxis("left").labelText == "Cross-entropy loss per point"
    find(window, QComboBox, "optimizerCombo").setCurrentText("Adam")
    assert not momentum.isVisible() and find(window, QComboBox, "regularizationCombo").isVisible()
    assert find(window, QComboBox, "regularizationCombo").currentText() == "L2"


def test_the_sigmoid_button_adds_a_sigmoid_block(window):
    layer_list = window.layers.list
    layer_list.setCurrentRow(0)
    find(window, QPushButton, "addSigmoidButton").click()
    assert labels(window)[1] == ["Sigmoid"] and window.session.experiment.blocks[1] == {"type": "Sigmoid"}


def test_classes_follow_the_dataset_and_the_validation_says_the_width(window):
    find(window, QComboBox, "datasetCombo").setCurrentText("Blobs")
    classes = find(window, QSpinBox, "classesSpin")
    assert classes.isEnabled() and (classes.minimum(), classes.maximum(), classes.value()) == (3, 5, 3)
    classes.setValue(4)
    assert window.session.experiment.num_classes == 4 and window.session.data.y_train.shape[1] == 4
    assert "the data has 4 classes: set the last Linear's width to 4" in window.layers.validation.text()
    find(window, QComboBox, "datasetCombo").setCurrentText("Moons")
    assert not classes.isEnabled() and classes.value() == 2


def three_class_network(window) -> None:
    window.session.edit(blocks=[linear(16), {"type": "ReLU"}, linear(16), {"type": "Sigmoid"}, linear(3)])


def train_three_classes(qtbot, window) -> None:
    """Blobs in three classes, cross-entropy and Adam at eta 0.01, 40 epochs, through the controls."""
    small_data(window, 300, 300, 30)
    find(window, QComboBox, "datasetCombo").setCurrentText("Blobs")
    find(window, QComboBox, "lossCombo").setCurrentText("Cross-entropy")
    find(window, QComboBox, "optimizerCombo").setCurrentText("Adam")
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.01)
    three_class_network(window)
    assert window.session.validate() == []
    assert run_to_end(qtbot, window, epochs=40) == "completed"


def test_three_classes_train_with_cross_entropy_and_adam_and_the_map_shows_them(qtbot, window):
    train_three_classes(qtbot, window)
    qtbot.waitUntil(lambda: window.session.metrics is not None and window.session.metrics.epoch == 40, timeout=30_000)
    assert window.session.metrics.test_error < 5.0
    image = heatmap(window)  # the visible one: the K-class map, indexed class * SHADES + shade
    qtbot.waitUntil(lambda: window.boundary_plot.class_map.isVisible(), timeout=30_000)
    image = heatmap(window)
    assert set(np.unique(image // 64).astype(int)) == {0, 1, 2}
    assert not window.boundary_plot.colour_bar.isVisible()
    window.grab().save("/tmp/breadth_three_classes.png")
    window.session.edit(blocks=[linear(16)])  # invalid: no picture of the old network stays
    assert window.boundary_plot.class_map.image is None and window.boundary_plot.heatmap.image is None


def test_the_compare_view_draws_three_classes_like_the_boundary_plot(qtbot, window):
    """A K-class run compared: each class's shade by the winner's margin, every class's points."""
    import pyqtgraph as pg

    from gui.qt.plots.plots import SHADES, class_colours

    train_three_classes(qtbot, window)
    qtbot.waitUntil(lambda: window.boundary_plot.current_classes() is not None, timeout=30_000)
    window.session.compare(["A"])
    view = window.runs_panel.compare_view
    assert [name for name, _ in view.panels] == ["A"]
    items = view.getItem(0, 0).items
    heat = next(i for i in items if isinstance(i, pg.ImageItem))
    assert heat.image.ndim == 2  # indices into the class table, not a (x, y, 2) picture read as colours
    np.testing.assert_array_equal(np.unique(heat.image // SHADES).astype(int), [0, 1, 2])
    np.testing.assert_array_equal(heat.image // SHADES, window.boundary_plot.current_classes().T)  # the same weights
    brushes = {i.opts["brush"].color().name() for i in items if isinstance(i, pg.ScatterPlotItem)}
    assert brushes == {pg.mkColor(c).name() for c in class_colours(window.boundary_plot.palette.class_colours)[:3]}
    window.runs_panel.grab().save("/tmp/compare_three_classes.png")


def test_draw_mode_adds_erases_and_clears_points(window):
    draw = window.draw
    button(window, "drawModeButton").click()
    assert draw.drawing and window.session.experiment.dataset == CUSTOM
    combo = find(window, QComboBox, "drawClassCombo")
    for x in (0.2, 0.3, 0.4):
        assert draw.click(x, 0.2, erase=False)
    combo.setCurrentIndex(1)
    assert draw.click(0.7, 0.8, erase=False) and draw.click(0.8, 0.8, erase=False)
    e = window.session.experiment
    assert [p[2] for p in e.points] == [0, 0, 0, 1, 1] and window.session.validate() == []
    assert draw.click(0.301, 0.2, erase=True)  # right-click or Shift+click: the nearest point goes
    assert [p[0] for p in e.points] == [0.2, 0.4, 0.7, 0.8]
    assert not draw.click(0.55, 0.55, erase=True)  # nothing near: nothing erased
    data = window.session.data
    assert len(data.X_train) + len(data.X_test) == 4 and len(data.X_test) >= 1
    button(window, "clearPointsButton").click()
    assert e.points == [] and "no points yet" in window.layers.validation.text()
    button(window, "drawModeButton").click()
    assert not draw.drawing and not draw.click(0.5, 0.5, erase=False)


def test_a_real_click_on_the_plot_adds_a_point(qtbot, window):
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    button(window, "drawModeButton").click()
    vb = window.boundary_plot.getPlotItem().vb
    scene_point = vb.mapViewToScene(QPointF(0.5, 0.5))
    widget_point = window.boundary_plot.mapFromScene(scene_point)
    QTest.mouseClick(window.boundary_plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    qtbot.waitUntil(lambda: len(window.session.experiment.points) == 1, timeout=5000)
    x, y, label, _ = window.session.experiment.points[0]
    assert abs(x - 0.5) < 0.02 and abs(y - 0.5) < 0.02 and label == 0
    QTest.mouseClick(window.boundary_plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                     widget_point)
    qtbot.waitUntil(lambda: window.session.experiment.points == [], timeout=5000)


def test_csv_import_makes_the_dataset_and_export_writes_it_back(window, tmp_path):
    path = tmp_path / "mine.csv"
    rows = ["x1,x2,label,split"] + [f"{i / 50},{(i * 7 % 50) / 50 + 1.5},{i % 3},{'test' if i % 5 == 0 else ''}"
                                    for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    assert window.files.import_data_csv(path)
    e = window.session.experiment
    assert e.dataset == CUSTOM and len(e.points) == 60 and e.num_classes == 3
    assert "Imported 60 points in 3 classes" in window.last_message and "set the last Linear's width to 3" in \
        window.last_message
    assert window.session.extent[3] > 2.4  # the plot grows to hold points outside the unit square
    out = tmp_path / "out.csv"
    assert window.files.export_data_csv(out)
    back = points_csv.parse_csv(out.read_bytes())
    d = window.session.data
    assert len(back) == 60 and sum(p[3] == points.TEST for p in back) == len(d.X_test)
    assert sorted((round(p[0], 6), p[2]) for p in back) == sorted((round(p[0], 6), p[2]) for p in e.points)


@pytest.mark.parametrize("content", [b"", b"0.1,0.2\n", b"0.1,nan,0\n", b"\0\1\2binary", b"0.1,0.2,12\n"])
def test_a_bad_csv_changes_nothing_and_says_why(window, tmp_path, content):
    before = window.session.experiment.to_json()
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert not window.files.import_data_csv(path)
    title, text = window.files.last_error
    assert title == "Cannot import data" and text.startswith("Could not import bad.csv: ")
    assert text.endswith("Your data is unchanged.") and "Traceback" not in text
    assert window.session.experiment.to_json() == before
    window.files.dialog.close()


def test_the_file_menu_offers_import_and_export(window):
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "&Import data from CSV…" in texts and "Export &data as CSV…" in texts


# -- the session: optimizer state across runs and files -----------------------------------------
def small(**changes) -> Session:
    settings = {"n_train": 100, "n_test": 100, "batch_size": 10, "epochs": 3, **changes}
    return Session(Experiment(**settings), runner=InlineRun)


@pytest.mark.parametrize("optimizer", ["SGD + momentum", "Adam"])
def test_two_runs_with_momentum_equal_one_run_of_both(optimizer):
    s = small(optimizer=optimizer, schedule="Step decay", epochs=3)
    s.run()
    s.run()  # three more: the optimizer's state carries over, and the schedule goes on counting
    assert s.history.epochs == 6
    model = s.experiment.build_model()
    reference = s.experiment.build_optimizer()
    records = list(minidl.fit(model, s.data.X_train, s.data.y_train, 6, 10, reference,
                              schedule=minidl.schedules.StepDecay(every=1, gamma=0.5)))
    assert np.array_equal(s.history.train, np.array([r.loss for r in records], np.float32))
    assert len(set(s.history.train.tolist())) == 6  # every epoch still learns
    assert all(torch.equal(a, b) for a, b in zip(s.model.parameters(), model.parameters(), strict=True))


def test_a_changed_optimizer_setting_starts_the_state_afresh_and_keeps_the_weights():
    s = small(optimizer="Adam")
    s.run()
    kept = s.optimizer
    assert kept is not None and kept.step_count == 30
    s.edit(weight_decay=0.01)
    assert s.optimizer is None and s.history.epochs == 3  # the weights and history stay
    s.run()
    assert s.optimizer is not kept and s.optimizer.step_count == 30


def test_the_optimizer_state_saves_and_opens_with_the_experiment(qtbot, window, tmp_path):
    small_data(window, 100, 100, 10)
    find(window, QComboBox, "optimizerCombo").setCurrentText("Adam")
    assert run_to_end(qtbot, window, epochs=2) == "completed"
    assert window.files.save_to(tmp_path / "adam.minidl")
    steps = window.session.optimizer.step_count
    moments = [t.clone() for t in window.session.optimizer.state["exp_avg"]]
    assert window.files.open(tmp_path / "adam.minidl")
    restored = window.session.optimizer
    assert steps == 20 and restored.step_count == steps and all(torch.equal(a, b) for a, b in
                                                zip(restored.state["exp_avg"], moments, strict=True))


def test_the_test_loss_uses_the_experiments_loss():
    s = small(loss="Cross-entropy", blocks=[linear(8), {"type": "ReLU"}, linear(2)])
    s.run()
    expected = minidl.CrossEntropy().compute(s.model.predict(s.data.X_test), s.data.y_test).item() / 100
    assert s.metrics.test_loss == pytest.approx(expected, rel=1e-5)
    assert s.data.test_loss(s.model) == pytest.approx(expected, rel=1e-5)
    X, labels, _, _ = split("Disc", 5, 5)
    assert one_hot(labels).shape == (5, 2) and X.shape == (5, 2)


def test_exporting_data_onto_a_folder_or_a_fifo_says_why(window, tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe")
    for target in (tmp_path, tmp_path / "pipe"):
        assert not window.files.export_data_csv(target)
        title, text = window.files.last_error
        assert title == "Cannot export" and "Could not write" in text and "Traceback" not in text
        window.files.dialog.close()


def test_draw_mode_holds_the_plane_still(window):
    viewbox = window.boundary_plot.getPlotItem().getViewBox()
    assert viewbox.state["mouseEnabled"] == [True, True]
    window.draw.set_drawing(True)
    assert viewbox.state["mouseEnabled"] == [False, False]  # a drag draws, it does not pan
    window.draw.set_drawing(False)
    assert viewbox.state["mouseEnabled"] == [True, True]


def test_a_file_opened_with_weights_never_trains_with_the_previous_optimizer(tmp_path):
    """Plain SGD saves no optimizer state: opening its file after an Adam run must not keep Adam."""
    from gui.files.experiment_file import load, save

    plain = small(epochs=2)
    plain.run()
    path = tmp_path / "plain.minidl"
    save(path, plain.experiment, plain.model, plain.history, timeline=plain.timeline)
    s = small(optimizer="Adam", epochs=2)
    s.run()
    assert isinstance(s.optimizer, minidl.Adam)
    loaded = load(path)
    s.replace(loaded.experiment, loaded.model, loaded.history, timeline=loaded.timeline)
    assert s.optimizer is None  # the next Run builds the file's own (plain SGD)
    s.run()
    assert type(s.optimizer) is minidl.SGD and s.history.epochs == 4


def test_new_ends_draw_mode_and_a_click_then_leaves_the_data_alone(window):
    window.draw.set_drawing(True)
    assert window.session.experiment.dataset == "Custom"
    assert window.files.new()
    assert not window.draw.drawing and window.session.experiment.dataset == "Disc"
    viewbox = window.boundary_plot.getPlotItem().getViewBox()
    assert viewbox.state["mouseEnabled"] == [True, True]


def test_the_one_batch_step_draws_three_classes_like_the_boundary_plot(qtbot, window):
    from gui.qt.plots.plots import SHADES

    train_three_classes(qtbot, window)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        window.step_batch_action.trigger()  # one traced batch, then the run pauses: stop it
        qtbot.waitUntil(lambda: window.session.last_batch_step() is not None, timeout=WAIT_MS)
        window.session.request_stop()
    image = window.batch_step_view.heatmap.image
    assert image.ndim == 2  # class shades, not a (x, y, 2) picture read as colours
    np.testing.assert_array_equal(np.unique(image // SHADES).astype(int), [0, 1, 2])
