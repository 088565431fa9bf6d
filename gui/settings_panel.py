"""The Training and Data settings: a thin view of the session's experiment.

An edit goes down as ``session.edit(field=value)``; the ``experiment`` event brings every
widget back in step (without echoing the change back up).
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox

from minidl.data import DATASETS

from .experiment import EPOCHS_MAX, ETA_RANGE, NOISE_MAX, POINTS_RANGE, SEED_MAX
from .session import Session


def spin(name: str, low: int, high: int, tip: str) -> QSpinBox:
    # keyboardTracking off: typing "3000" is one edit when the user is done, not four.
    widget = QSpinBox(objectName=name, minimum=low, maximum=high, toolTip=tip, keyboardTracking=False)
    return widget


def double_spin(name: str, low: float, high: float, decimals: int, tip: str) -> QDoubleSpinBox:
    widget = QDoubleSpinBox(objectName=name, decimals=decimals, minimum=low, maximum=high, toolTip=tip,
                            keyboardTracking=False)
    widget.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
    return widget


class SettingsPanel:
    """Builds the ``training`` and ``data`` group boxes and keeps them in step with ``session``."""

    def __init__(self, session: Session):
        self.session = session
        self.eta_spin = double_spin("etaSpin", *ETA_RANGE, decimals=6,
                                    tip="SGD step size η: each step moves the weights by −η × gradient. "
                                        "Takes effect at the start of the next epoch, even during a run.")
        self.batch_spin = spin("batchSizeSpin", 1, POINTS_RANGE[1], "Points per mini-batch (one SGD step each). "
                               "A batch larger than the training set uses the whole set.")
        self.epochs_spin = spin("epochsSpin", 1, EPOCHS_MAX, "Passes over the training set that Run trains.")
        self.seed_spin = spin("seedSpin", 0, SEED_MAX, "Seed for the data and the initial weights: "
                              "the same seed repeats a run exactly.")
        self.dataset_combo = QComboBox(objectName="datasetCombo", toolTip="The classification problem.")
        self.dataset_combo.addItems(list(DATASETS))
        self.noise_spin = double_spin("noiseSpin", 0.0, NOISE_MAX, decimals=3,
                                      tip="Gaussian jitter (standard deviation) added to every point "
                                          "after labelling: blurs the boundary.")
        self.noise_spin.setSingleStep(0.01)
        self.train_spin = spin("trainSizeSpin", *POINTS_RANGE, "Number of training points.")
        self.test_spin = spin("testSizeSpin", *POINTS_RANGE, "Number of test points (never trained on).")
        self.show_test_check = QCheckBox("Show test points", objectName="showTestCheck", checked=True,
                                         toolTip="Show the test points (hollow markers) on the boundary plot (Ctrl+T).")
        self._fields = {"eta": self.eta_spin, "batch_size": self.batch_spin, "epochs": self.epochs_spin,
                        "seed": self.seed_spin, "noise": self.noise_spin, "n_train": self.train_spin,
                        "n_test": self.test_spin}
        for name, widget in self._fields.items():
            widget.valueChanged.connect(lambda value, name=name: self._edit(name, value))
        self.dataset_combo.currentTextChanged.connect(lambda text: self._edit("dataset", text))

        self.training = QGroupBox("Training")
        form = QFormLayout(self.training)
        form.addRow("Step size η", self.eta_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Seed", self.seed_spin)
        self.data = QGroupBox("Data")
        form = QFormLayout(self.data)
        form.addRow("Dataset", self.dataset_combo)
        form.addRow("Noise", self.noise_spin)
        form.addRow("Training points", self.train_spin)
        form.addRow("Test points", self.test_spin)
        form.addRow(self.show_test_check)
        session.events.connect("experiment", self.show_experiment)
        session.events.connect("state", lambda _state: self._enable())
        self.show_experiment()

    def _edit(self, name: str, value) -> None:
        self.session.edit(**{name: value})

    def show_experiment(self) -> None:
        e = self.session.experiment
        widgets = [*self._fields.values(), self.dataset_combo]
        for widget in widgets:
            widget.blockSignals(True)
        for name, widget in self._fields.items():
            widget.setValue(getattr(e, name))
        self.dataset_combo.setCurrentText(e.dataset)
        for widget in widgets:
            widget.blockSignals(False)
        self._enable()

    def _enable(self) -> None:
        # eta stays live: it reaches a running optimizer at the start of its next epoch.
        for name, widget in (*self._fields.items(), ("dataset", self.dataset_combo)):
            widget.setEnabled(name == "eta" or not self.session.running)
