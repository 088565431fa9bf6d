"""The playground's main window: a thin view of an :class:`Experiment` plus the run controls.

Signals go up from the widgets to this window, which changes the experiment and calls
down into the views. Training happens in a :class:`TrainingWorker` in a QThread; every
path that ends a run (Stop, Reset, New, Open, closing the window) stops it and waits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, Qt, QThread, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

import minidl
from minidl.data import DATASETS

from . import boundary, files
from .experiment import EPOCHS_MAX, ETA_RANGE, NOISE_MAX, POINTS_RANGE, SEED_MAX, Experiment, History
from .layer_panel import LayerPanel
from .plots import BoundaryPlot, LossPlot
from .worker import TrainingWorker


class MainWindow(QMainWindow):
    """The playground. ``MainWindow()`` opens with the report's experiment loaded.

    Signals:
        trainingStarted(): a run began.
        trainingFinished(str): a run ended: ``completed``, ``stopped``, ``diverged`` or ``failed``.
    """

    trainingStarted = Signal()
    trainingFinished = Signal(str)

    def __init__(self, experiment: Experiment | None = None, settings: QSettings | None = None):
        super().__init__()
        self.setWindowTitle("minidl playground")
        self.settings = settings or QSettings("minidl", "playground")
        self.experiment = experiment or files.report_experiment()
        self.history = History()
        self.model: minidl.Sequential | None = None
        self.data = None
        self.path: Path | None = None
        self.last_message = ""
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._control: minidl.TrainingControl | None = None
        self._optimizer: minidl.SGD | None = None
        self._target_epoch = 0
        self._fresh_weights_needed = False
        self._build_widgets()
        self.files = files.FileActions(self)
        self.files.build_file_menu()
        self._build_menus()
        self.files.build_help_menu()
        self.restoreGeometry(self.settings.value("geometry", b""))
        self._show_experiment()

    # -- construction --------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.layers = LayerPanel()
        self.layers.blocksChanged.connect(self._blocks_changed)
        self.eta_spin = self._double_spin("etaSpin", *ETA_RANGE, decimals=6,
                                          tip="SGD step size η: each step moves the weights by −η × gradient. "
                                              "Takes effect at the next mini-batch, even during a run.")
        self.eta_spin.valueChanged.connect(self._eta_changed)
        self.batch_spin = self._spin("batchSizeSpin", 1, POINTS_RANGE[1], "Points per mini-batch (one SGD step each).")
        self.epochs_spin = self._spin("epochsSpin", 1, EPOCHS_MAX, "Passes over the training set that Run trains.")
        self.seed_spin = self._spin("seedSpin", 0, SEED_MAX, "Seed for the data and the initial weights: "
                                    "the same seed repeats a run exactly.")
        self.dataset_combo = QComboBox(objectName="datasetCombo", toolTip="The classification problem.")
        self.dataset_combo.addItems(list(DATASETS))
        self.noise_spin = self._double_spin("noiseSpin", 0.0, NOISE_MAX, decimals=3,
                                            tip="Gaussian jitter (standard deviation) added to every point "
                                                "after labelling: blurs the boundary.")
        self.noise_spin.setSingleStep(0.01)
        self.train_spin = self._spin("trainSizeSpin", *POINTS_RANGE, "Number of training points.")
        self.test_spin = self._spin("testSizeSpin", *POINTS_RANGE, "Number of test points (never trained on).")
        self.show_test_check = QCheckBox("Show test points", objectName="showTestCheck", checked=True,
                                         toolTip="Show the test points (triangles) on the boundary plot.")
        self.show_test_check.toggled.connect(lambda _: self._show_points())
        for widget in (self.batch_spin, self.epochs_spin):
            widget.valueChanged.connect(self._settings_changed)
        for widget in (self.seed_spin, self.noise_spin, self.train_spin, self.test_spin):
            widget.valueChanged.connect(self._data_changed)
        self.dataset_combo.currentTextChanged.connect(self._data_changed)

        self.run_button = QPushButton("Run", objectName="runButton")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.step_button = QPushButton("Step", objectName="stepButton")
        self.stop_button = QPushButton("Stop", objectName="stopButton")
        self.reset_button = QPushButton("Reset", objectName="resetButton")
        self.progress = QProgressBar(objectName="progressBar", toolTip="Epochs trained of this run's target.")
        self.progress.setFormat("epoch %v of %m")
        self.metrics = QLabel(objectName="metricsLabel", wordWrap=True)
        font = self.metrics.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)  # the numbers a class reads off the projector
        self.metrics.setFont(font)
        self.metrics.setToolTip("Latest epoch, loss per point and classification error on both sets.")
        for widget in (self.progress, self.metrics):
            # Opaque, so their many updates during a run do not repaint the window behind them
            # (the GUI thread holds the GIL the training thread needs while it paints).
            widget.setAutoFillBackground(True)

        training = QFormLayout()
        training.addRow("Step size η", self.eta_spin)
        training.addRow("Batch size", self.batch_spin)
        training.addRow("Epochs", self.epochs_spin)
        training.addRow("Seed", self.seed_spin)
        data = QFormLayout()
        data.addRow("Dataset", self.dataset_combo)
        data.addRow("Noise", self.noise_spin)
        data.addRow("Training points", self.train_spin)
        data.addRow("Test points", self.test_spin)
        data.addRow(self.show_test_check)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.pause_button, self.step_button, self.stop_button, self.reset_button):
            buttons.addWidget(button)

        side = QWidget()
        column = QVBoxLayout(side)
        for title, content in (("Network", self.layers), ("Training", training), ("Data", data)):
            group = QGroupBox(title)
            if isinstance(content, QWidget):
                QVBoxLayout(group).addWidget(content)
            else:
                group.setLayout(content)
            column.addWidget(group, 1 if title == "Network" else 0)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(side)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(side.sizeHint().width() + 20)

        self.boundary_plot = BoundaryPlot()
        self.loss_plot = LossPlot()
        self.log_check = QCheckBox("Log scale", objectName="logScaleCheck", toolTip="Logarithmic loss axis (Ctrl+L).")
        self.log_check.toggled.connect(self.loss_plot.set_log_scale)
        self.cursor_label = QLabel(objectName="lossCursorLabel")
        self.loss_plot.hovered.connect(self.cursor_label.setText)
        loss_box = QWidget()
        loss_layout = QVBoxLayout(loss_box)
        loss_layout.setContentsMargins(0, 0, 0, 0)
        loss_layout.addWidget(self.loss_plot, 1)
        row = QHBoxLayout()
        row.addWidget(self.log_check)
        row.addWidget(self.cursor_label, 1)
        loss_layout.addLayout(row)
        plots = QSplitter()
        plots.addWidget(self.boundary_plot)
        plots.addWidget(loss_box)
        plots.setSizes([620, 400])
        right = QWidget()
        right_layout = QVBoxLayout(right)
        buttons.addWidget(self.progress, 1)
        right_layout.addLayout(buttons)
        right_layout.addWidget(self.metrics)
        right_layout.addWidget(plots, 1)
        main = QSplitter()
        main.addWidget(scroll)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        self.setCentralWidget(main)
        self.resize(1400, 800)

    def _spin(self, name, low, high, tip) -> QSpinBox:
        return QSpinBox(objectName=name, minimum=low, maximum=high, toolTip=tip, keyboardTracking=False)

    def _double_spin(self, name, low, high, decimals, tip) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(objectName=name, decimals=decimals, minimum=low, maximum=high, toolTip=tip,
                              keyboardTracking=False)
        spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        return spin

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, tip=""):
            act = QAction(text, self, statusTip=tip, toolTip=tip)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        run = self.menuBar().addMenu("&Run")
        self.run_action = action(run, "&Run", self.run, "F5", "Train up to the number of epochs (F5)")
        self.pause_action = action(run, "&Pause / Resume", self.pause, "F6", "Pause or resume training (F6)")
        self.step_action = action(run, "&Step one epoch", self.step, "F7", "Train exactly one more epoch (F7)")
        self.stop_action = action(run, "S&top", self.stop, "Shift+F5", "Stop training, keep the weights (Shift+F5)")
        self.reset_action = action(run, "R&eset weights", self.reset, "Ctrl+Shift+F5",
                                   "Draw the initial weights again from the seed (Ctrl+Shift+F5)")
        for button, act in ((self.run_button, self.run_action), (self.pause_button, self.pause_action),
                            (self.step_button, self.step_action), (self.stop_button, self.stop_action),
                            (self.reset_button, self.reset_action)):
            button.clicked.connect(act.trigger)
            button.setToolTip(act.toolTip())
        view = self.menuBar().addMenu("&View")
        self.log_action = action(view, "&Log-scale loss", self.log_check.toggle, "Ctrl+L", "Logarithmic loss axis")
        action(view, "Show &test points", self.show_test_check.toggle, "Ctrl+T", "Show or hide the test points")
        self.view_menu = view

    # -- showing the experiment -------------------------------------------------------
    def _show_experiment(self) -> None:
        """Push the experiment into every widget (without echoing the edits back)."""
        e = self.experiment
        widgets = (self.eta_spin, self.batch_spin, self.epochs_spin, self.seed_spin, self.dataset_combo,
                   self.noise_spin, self.train_spin, self.test_spin, self.layers)
        for widget in widgets:
            widget.blockSignals(True)
        self.layers.set_blocks(e.blocks)
        self.eta_spin.setValue(e.eta)
        self.train_spin.setValue(e.n_train)
        self.batch_spin.setMaximum(e.n_train)
        self.batch_spin.setValue(e.batch_size)
        self.epochs_spin.setValue(e.epochs)
        self.seed_spin.setValue(e.seed)
        self.dataset_combo.setCurrentText(e.dataset)
        self.noise_spin.setValue(e.noise)
        self.test_spin.setValue(e.n_test)
        for widget in widgets:
            widget.blockSignals(False)
        self._new_data()
        if self.model is None:
            self._new_model()
        else:
            self._show_model()
        self._update_controls()

    def _new_data(self) -> None:
        self.data = self.experiment.make_data()
        self.extent = self.data.extent()
        self.grid = boundary.grid(self.extent)
        self._show_points()

    def _new_model(self) -> None:
        """Fresh weights from the seed (or none while the stack is invalid); clears the history."""
        self.history = History()
        self.model = self.experiment.build_model() if not self.experiment.validate() else None
        self._fresh_weights_needed = False
        self._show_model()

    def _show_model(self) -> None:
        self.loss_plot.show_history(self.history, self._target_epoch)
        if self.model is not None:
            self.boundary_plot.show_image(boundary.image(self.model, self.grid), self.extent)
        self._show_metrics()

    def _show_points(self) -> None:
        self.boundary_plot.show_points(self.data, self.show_test_check.isChecked())

    def _show_metrics(self, message: dict | None = None) -> None:
        epoch, total = self.history.epochs, max(self._target_epoch, self.experiment.epochs)
        self.progress.setRange(0, total)
        self.progress.setValue(min(epoch, total))
        if message is None and self.model is not None and epoch:
            message = self.data.evaluate(self.model)
        if not message or message.get("test_loss") is None:
            self.metrics.setText(f"Epoch {epoch} of {total}" + ("" if epoch else " · press Run to train"))
            return
        train_loss = self.history.train[-1]
        self.metrics.setText(
            f"Epoch {epoch} of {total} · loss train {train_loss:.4f}, test {message['test_loss']:.4f}"
            f" · error train {message['train_error']:.1f} %, test {message['test_error']:.1f} %")

    def set_status(self, text: str) -> None:
        self.last_message = text
        self.statusBar().showMessage(text)

    # -- edits from the widgets ---------------------------------------------------------
    def _blocks_changed(self, blocks: list) -> None:
        self.experiment.blocks = blocks
        self._new_model()
        self._update_controls()

    def _data_changed(self, *_) -> None:
        e = self.experiment
        e.dataset, e.noise = self.dataset_combo.currentText(), self.noise_spin.value()
        e.n_train, e.n_test, e.seed = self.train_spin.value(), self.test_spin.value(), self.seed_spin.value()
        self.batch_spin.setMaximum(e.n_train)
        e.batch_size = self.batch_spin.value()
        self._new_data()
        self._new_model()
        self._update_controls()

    def _settings_changed(self, *_) -> None:
        self.experiment.batch_size, self.experiment.epochs = self.batch_spin.value(), self.epochs_spin.value()
        self._show_metrics()
        self._update_controls()

    def _eta_changed(self, value: float) -> None:
        self.experiment.eta = value
        if self._optimizer is not None:
            self._optimizer.eta = value  # a float the worker reads at its next mini-batch

    # -- run controls --------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None

    @Slot()
    def run(self, first_step_only: bool = False) -> None:
        """Train until the epoch counter reaches Epochs (Epochs more once it got there)."""
        if self.running:
            if self._control.paused:
                self._control.resume()
                self._update_controls()
            return
        problems = self.experiment.validate()
        if problems:
            self.set_status(problems[0])
            return
        if self.model is None or self._fresh_weights_needed:
            self._new_model()
        done = self.history.epochs
        self._target_epoch = self.experiment.epochs if done < self.experiment.epochs else done + self.experiment.epochs
        self._control = minidl.TrainingControl()
        if first_step_only:
            self._control.step(1)
        self._optimizer = minidl.SGD(self.experiment.eta)
        self._thread = QThread(self)
        self._worker = TrainingWorker(self.model, self.data, self._optimizer, self._target_epoch - done,
                                      self.experiment.batch_size, done + 1, self.grid, self._control)
        self._worker.moveToThread(self._thread)
        self._worker.progress.connect(self._on_progress)
        self._worker.image.connect(self._on_image)
        self._worker.finished.connect(self._on_finished)
        self._thread.started.connect(self._worker.run)
        self._thread.start()
        self.set_status(f"Training epochs {done + 1} to {self._target_epoch}…")
        self._show_metrics()
        self._update_controls()
        self.trainingStarted.emit()

    @Slot()
    def pause(self) -> None:
        if not self.running:
            return
        if self._control.paused:
            self._control.resume()
            self.set_status("Resumed.")
        else:
            self._control.pause()
            self.set_status("Paused: Resume (F6) goes on, Step (F7) trains one epoch.")
        self._update_controls()

    @Slot()
    def step(self) -> None:
        if self.running:
            self._control.step(1)
        else:
            self.run(first_step_only=True)
        self._update_controls()

    @Slot()
    def stop(self) -> None:
        """End the run; the weights and the history stay."""
        if self.running:
            self._stop_and_wait()
            # The worker's last epochs, its final image and its own "finished" are queued here:
            # deliver them now, or the history would lag the weights it keeps.
            QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)
        if self.running:
            self._finish("stopped", f"Stopped after epoch {self.history.epochs}.")

    @Slot()
    def reset(self) -> None:
        """Stop, then draw the initial weights again from the seed (a reset run repeats exactly)."""
        self.stop()
        self._target_epoch = 0
        self._new_model()
        self._update_controls()
        self.set_status(f"Weights drawn again from seed {self.experiment.seed}.")

    def _stop_and_wait(self) -> None:
        self._control.stop()
        self._thread.quit()
        self._thread.wait()

    def _on_progress(self, message: dict) -> None:
        if self.sender() is not self._worker or self._worker is None:
            return  # a message from a run that has already been stopped
        self.history.extend(message["train_losses"], message["test_epochs"], message["test_losses"])
        self.loss_plot.show_history(self.history, self._target_epoch)
        self._show_metrics(message)
        if self._control.paused != (self.pause_button.text() == "Resume"):
            self._update_controls()  # a Step just ended in a pause; otherwise nothing changed

    def _on_image(self, image: np.ndarray) -> None:
        if self.sender() is self._worker and self._worker is not None:
            self.boundary_plot.show_image(image, self.extent)

    def _on_finished(self, reason: str, message: str) -> None:
        if self.sender() is not self._worker or self._worker is None:
            return
        self._thread.quit()
        self._thread.wait()
        self._finish(reason, message)

    def _finish(self, reason: str, message: str) -> None:
        # The worker's thread has finished, so a deleteLater() on the worker would never run and
        # would keep it (and its model) alive; the started connection kept it alive too. Without
        # both, Python frees it below. A queued message it sent still arrives, with sender() None.
        self._thread.started.disconnect(self._worker.run)
        self._thread.deleteLater()
        self._thread = self._worker = self._control = self._optimizer = None
        if reason == "diverged":
            self._fresh_weights_needed = True
        if reason == "failed":
            self.files.show_error("Training failed", "Training stopped because of an internal error. The weights "
                                  "trained so far are kept; the details below help to report it.", message)
            message = "Training failed: see the details in the dialog."
        self.set_status(message)
        self._show_metrics()
        self._update_controls()
        self.trainingFinished.emit(reason)

    def _update_controls(self) -> None:
        running, valid = self.running, not self.experiment.validate()
        paused = running and self._control.paused
        self.layers.set_problems(self.experiment.validate())
        for widget in (self.layers, self.batch_spin, self.epochs_spin, self.seed_spin, self.dataset_combo,
                       self.noise_spin, self.train_spin, self.test_spin):
            widget.setEnabled(not running)
        self.run_button.setEnabled(valid and (not running or paused))
        self.run_action.setEnabled(self.run_button.isEnabled())
        self.pause_button.setText("Resume" if paused else "Pause")
        for widget, on in ((self.pause_button, running), (self.stop_button, running),
                           (self.step_button, valid), (self.reset_button, self.model is not None or running)):
            widget.setEnabled(on)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.step_action.setEnabled(valid)
        self.files.update_actions(running)

    # -- closing -------------------------------------------------------------------------
    def replace_experiment(self, experiment: Experiment, model=None, history: History | None = None) -> None:
        self.stop()
        self.experiment = experiment
        self.model, self.history, self._target_epoch = model, history or History(), 0
        self._fresh_weights_needed = False
        self._show_experiment()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.stop()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.sync()
        super().closeEvent(event)

