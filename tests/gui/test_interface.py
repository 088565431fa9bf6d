"""The public automation interface: objectNames, widget types, signals, the opening experiment."""

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import find, heatmap, labels, run_to_end, small_data, train_curve
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

import minidl
from gui.model import boundary
from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.qt.window.main_window import MainWindow
from gui.training import trainer
from gui.training.control import RunControl
from gui.training.job import Job, TrainerConfig
from gui.training.messages import Progress

NAMES = {
    "layerList": QListWidget, "addLinearButton": QPushButton, "addReluButton": QPushButton,
    "addTanhButton": QPushButton, "linearWidthSpin": QSpinBox, "removeLayerButton": QPushButton,
    "moveLayerUpButton": QPushButton, "moveLayerDownButton": QPushButton, "etaSpin": QDoubleSpinBox,
    "batchSizeSpin": QSpinBox, "epochsSpin": QSpinBox, "seedSpin": QSpinBox, "datasetCombo": QComboBox,
    "runButton": QPushButton, "pauseButton": QPushButton, "stepButton": QPushButton, "stopButton": QPushButton,
    "resetButton": QPushButton, "progressBar": QProgressBar, "lossPlot": pg.PlotWidget,
    "boundaryPlot": pg.PlotWidget, "validationLabel": QLabel, "metricsLabel": QLabel,
    # issue 15
    "addSigmoidButton": QPushButton, "lossCombo": QComboBox, "optimizerCombo": QComboBox,
    "momentumSpin": QDoubleSpinBox, "weightDecaySpin": QDoubleSpinBox, "scheduleCombo": QComboBox,
    "classesSpin": QSpinBox, "testRatioSpin": QDoubleSpinBox, "drawModeButton": QPushButton,
    "drawClassCombo": QComboBox, "clearPointsButton": QPushButton,
}
EXTRA_CONTROLS = {"selectedWidthSpin": QSpinBox, "noiseSpin": QDoubleSpinBox, "trainSizeSpin": QSpinBox,
                  "testSizeSpin": QSpinBox, "showTestCheck": QCheckBox, "logScaleCheck": QCheckBox}
REPORT_BLOCKS = [{"type": "Linear", "width": 25}, {"type": "ReLU"}, {"type": "Linear", "width": 25},
                 {"type": "ReLU"}, {"type": "Linear", "width": 25}, {"type": "ReLU"},
                 {"type": "Linear", "width": 2}, {"type": "Tanh"}]


def test_every_documented_object_name_exists_once_with_its_type(window):
    widgets = window.findChildren(QWidget)
    for name, cls in NAMES.items():
        matches = [w for w in widgets if w.objectName() == name]
        assert len(matches) == 1, f"{name}: {len(matches)} widgets"
        assert isinstance(matches[0], cls), f"{name} is a {type(matches[0]).__name__}, not a {cls.__name__}"


def test_every_control_explains_itself_in_a_tooltip(window):
    missing = [name for name, cls in {**NAMES, **EXTRA_CONTROLS}.items() if len(find(window, cls, name).toolTip()) < 10]
    assert missing == []


def test_eta_spin_holds_the_whole_range_exactly(window):
    eta = find(window, QDoubleSpinBox, "etaSpin")
    assert eta.decimals() >= 6
    assert (eta.minimum(), eta.maximum()) == (1e-6, 10.0)
    for value in (1e-6, 10.0, 1e-3, 0.123456):
        eta.setValue(value)
        assert eta.value() == value
        assert window.session.experiment.eta == value


def test_main_window_opens_with_the_reports_experiment(qtbot):
    window = MainWindow()  # no arguments: the documented entry point
    qtbot.addWidget(window)
    e = window.session.experiment
    assert e.blocks == REPORT_BLOCKS
    assert (e.dataset, e.n_train, e.n_test, e.eta, e.batch_size, e.epochs, e.seed) == \
        ("Disc", 1000, 1000, 1e-3, 100, 1000, 0)
    assert e.validate() == []
    assert labels(window) == [["Linear", "2", "→", "25"], ["ReLU"], ["Linear", "25", "→", "25"], ["ReLU"],
                              ["Linear", "25", "→", "25"], ["ReLU"], ["Linear", "25", "→", "2"], ["Tanh"]]
    assert find(window, QDoubleSpinBox, "etaSpin").value() == 1e-3
    assert find(window, QSpinBox, "batchSizeSpin").value() == 100
    assert find(window, QSpinBox, "epochsSpin").value() == 1000
    assert find(window, QSpinBox, "seedSpin").value() == 0
    assert find(window, QComboBox, "datasetCombo").currentText() == "Disc"
    assert [find(window, QComboBox, "datasetCombo").itemText(i) for i in range(4)] == \
        ["Disc", "XOR", "Gaussian blobs", "Spiral"]
    assert (window.session.data.X_train.shape[0], window.session.data.X_test.shape[0]) == (1000, 1000)
    assert find(window, QLabel, "validationLabel").text() == ""
    assert find(window, QPushButton, "runButton").isEnabled()
    for name in ("pauseButton", "stopButton"):
        assert not find(window, QPushButton, name).isEnabled()
    progress = find(window, QProgressBar, "progressBar")
    assert (progress.value(), progress.maximum()) == (0, 1000)


def test_plots_show_the_untrained_model_before_any_run(window):
    image = heatmap(window)
    assert image.shape == (boundary.RESOLUTION, boundary.RESOLUTION) and np.isfinite(image).all() and np.ptp(image) > 0
    assert len(train_curve(window)) == 0


def test_loss_plot_first_item_is_the_train_loss_per_epoch(window, qtbot):
    small_data(window)
    assert run_to_end(qtbot, window, epochs=6) == "completed"
    np.testing.assert_array_equal(train_curve(window), window.session.history.train)
    x, _ = find(window, pg.PlotWidget, "lossPlot").getPlotItem().listDataItems()[0].getData()
    assert list(x) == [1, 2, 3, 4, 5, 6]
    metrics = find(window, QLabel, "metricsLabel").text()
    assert "Epoch 6 of 6" in metrics and "test" in metrics and "%" in metrics


def test_training_signals_bracket_a_run(window, qtbot):
    small_data(window)
    started = []
    window.trainingStarted.connect(lambda: started.append(window.session.running))
    assert run_to_end(qtbot, window, epochs=2) == "completed"
    assert started == [True] and not window.session.running


def test_run_controls_have_keyboard_shortcuts(window):
    shortcuts = {a.text().replace("&", ""): a.shortcut() for a in
                 (window.run_action, window.pause_action, window.step_action, window.stop_action,
                  window.reset_action)}
    assert shortcuts["Run"] == QKeySequence("F5")
    assert all(not s.isEmpty() for s in shortcuts.values())
    assert len({s.toString() for s in shortcuts.values()}) == 5


def test_log_scale_toggle_and_test_point_toggle(window):
    find(window, QCheckBox, "logScaleCheck").setChecked(True)
    assert window.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    find(window, QCheckBox, "logScaleCheck").setChecked(False)
    assert not window.loss_plot.getPlotItem().ctrl.logYCheck.isChecked()
    assert window.boundary_plot.test_points.isVisible()
    find(window, QCheckBox, "showTestCheck").setChecked(False)
    assert not window.boundary_plot.test_points.isVisible()
    assert window.boundary_plot.train_points.isVisible()


def test_loss_plot_reads_out_the_epoch_under_the_mouse(window, qtbot):
    small_data(window)
    run_to_end(qtbot, window, epochs=5)
    view = window.loss_plot.getPlotItem().vb
    view.setRange(xRange=(1, 5), yRange=(0, float(window.session.history.train.max())), padding=0)  # as a user zooms
    point = view.mapViewToScene(QPointF(3, float(window.session.history.train[2])))
    with qtbot.waitSignal(window.loss_plot.hovered, timeout=1000) as hovered:
        window.loss_plot.scene().sigMouseMoved.emit(point)
    assert hovered.args[0].startswith("epoch 3: train loss")
    assert window.cursor_label.text() == hovered.args[0]


def test_about_names_the_versions(window):
    import torch
    from PySide6.QtCore import qVersion

    window.files.about()
    text = window.files.dialog.text()
    window.files.dialog.close()
    for version in (minidl.__version__, torch.__version__, qVersion()):
        assert version in text


def test_window_geometry_is_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "geometry.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(first.width(), 520)  # the height: the offscreen screen is narrower than the window
    first.close()
    assert settings.value("geometry")
    second = MainWindow(settings=QSettings(str(tmp_path / "geometry.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    assert second.height() == 520


def test_test_loss_is_sampled_more_often_than_the_plots_are_told(window, qtbot):
    small_data(window)
    messages = []  # every progress message the session received from the worker
    window.session.events.connect("progress", messages.append)
    assert run_to_end(qtbot, window, epochs=1000) == "completed"
    epochs, losses = window.session.history.test_epochs, window.session.history.test
    assert len(epochs) >= 2 * len(messages)  # several samples travel with each message
    assert (np.diff(epochs) > 0).all() and epochs[0] >= 1 and epochs[-1] == 1000
    assert np.isfinite(losses).all()
    assert losses[-1] == pytest.approx(window.session.data.evaluate(window.session.model)["test_loss"], rel=1e-5)
    _, shown = window.loss_plot.test_curve.getData()
    np.testing.assert_array_equal(shown, losses)


def test_a_fast_run_samples_the_test_loss_at_its_first_epochs_too(monkeypatch):
    # Time alone (test_hz) would let a fast run pass its first 100 epochs, where the loss falls fastest,
    # with two samples: the run's epochs 1, 2, 3, 5, 8, ... (each test_growth times the last) get one.
    config = TrainerConfig(test_hz=1e-6, progress_hz=1e-6)  # no samples by time, no messages before the end
    s = Session(Experiment(n_train=100, n_test=50, batch_size=25, epochs=150))
    for first in (1, 151):  # a fresh run, then a Continue: counted from the run's own start
        optimizer = minidl.SGD(1e-3)
        job = Job(s.model, s.data, optimizer, 150, 25, first, s.grid, RunControl(optimizer, first), config=config)
        messages = []
        trainer.Trainer(job, messages.append).run()
        sampled = np.concatenate([m.test_epochs for m in messages if isinstance(m, Progress)])
        run_epochs = [1, 2, 3, 5, 8, 12, 18, 27, 41, 62, 93, 140, 150]  # the last one with the end's metrics
        np.testing.assert_array_equal(sampled, np.array(run_epochs) + first - 1)



def test_the_metrics_line_keeps_its_numbers_between_two_measures(window, qtbot, monkeypatch):
    """Progress comes more often than the test loss and errors are measured: the line keeps the last
    ones, marked with their epoch, instead of dropping them until the next measure (it blinked)."""
    window.session.trainer_config = TrainerConfig(progress_hz=50, metrics_hz=2)
    small_data(window)
    texts = []
    window.session.events.connect("progress", lambda message: texts.append(find(window, QLabel, "metricsLabel").text()))
    run_to_end(qtbot, window, epochs=400)
    assert len(texts) > 3 and all("error train" in t for t in texts[1:])  # the first may come before a measure
    marked = [t for t in texts if "(test and errors at epoch" in t]
    assert marked, "no progress came between two measures"
    for t in marked:
        shown = int(t.split("Epoch ")[1].split(" of")[0])
        assert int(t.split("at epoch ")[1].rstrip(")")) < shown
    assert "(test and errors" not in find(window, QLabel, "metricsLabel").text()  # the end is measured exactly
