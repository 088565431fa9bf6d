"""The Training and Data settings: a thin view of the session's experiment.

An edit goes down as ``session.edit(field=value)``; the ``experiment`` event brings every
widget back in step (without echoing the change back up).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox

from gui.model.experiment import (
    CUSTOM,
    EPOCHS_MAX,
    ETA_RANGE,
    L1_MAX,
    LOSSES,
    MOMENTUM_MAX,
    NOISE_MAX,
    OPTIMIZERS,
    POINTS_RANGE,
    PROBLEMS,
    REGULARIZATIONS,
    SCHEDULES,
    SEED_MAX,
    TEST_RATIO_RANGE,
    WEIGHT_DECAY_MAX,
)
from gui.model.session import Session
from gui.model.tasks import TASK_NAMES, task_changes
from gui.qt.panels.features_panel import FeaturesPanel
from minidl.data import class_range

CHOICE_TIPS = {
    "loss": "MSE: summed squared error against one-hot targets (the report's), or against a regression's "
            "values. Cross-entropy (classes only): softmax of the raw scores against the class, summed; the last "
            "block must then be a Linear.",
    "optimizer": "SGD: θ ← θ − η g (the report's). SGD + momentum: a running sum of gradients, b ← μ b + g, "
                 "θ ← θ − η b. Adam: steps scaled per weight by running averages of g and g².",
    "schedule": "How η changes over the run's epochs: constant; step decay halves it every quarter of the "
                "epochs; cosine lowers it smoothly to 0 at the last epoch.",
    "regularization": "A penalty on large weights, added to the loss, that keeps the network simple. L1: adds "
                      "rate × sign(w) to each weight's gradient (rate × Σ|w| in the loss, biases left alone): it "
                      "pushes unneeded weights to exactly 0. L2 (weight decay): adds rate × θ to every gradient "
                      "(rate/2 × Σθ² in the loss): it shrinks all weights towards 0. None: no penalty.",
}
DATASET_TIPS = {
    "classification": "The classification problem: points of 2 to 5 classes on the plane. Custom: the points you "
                      "draw (Draw points under the plot) or import (File ▸ Import data from CSV).",
    "regression": "The regression problem: a value to predict at each point. Sine: y = sin(2πx) on a line; "
                  "Plane: y = x1 + x2 − 1; Multi-Gaussian: a sum of six signed bumps over the plane.",
}
ITEM_TIPS = {  # each regression dataset's formula (minidl.data's docstrings have them whole)
    "Sine": "y = sin(2πx) on x in [−1, 1]: one input, x1 (the x2 features are left out); noise scatters y.",
    "Plane": "y = x1 + x2 − 1 on the unit square: a tilted plane from −1 to 1; noise scatters y.",
    "Multi-Gaussian": "y = a sum of six Gaussian bumps, alternately + and −, over the unit square; noise scatters y.",
}
NO_CROSS_ENTROPY = ("Cross-entropy needs classes: a regression predicts a value, so it learns with MSE "
                    "(choose Classification under Data to use cross-entropy).")
# The rate a regularization starts with when it is chosen and the panel has shown none yet.
DEFAULT_RATE = 1e-3


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
                                    tip="Step size η: plain SGD moves the weights by −η × gradient each step "
                                        "(Adam: by about η per weight). "
                                        "Takes effect at the start of the next epoch, even during a run.")
        self.batch_spin = spin("batchSizeSpin", 1, POINTS_RANGE[1], "Points per mini-batch (one SGD step each). "
                               "A batch larger than the training set uses the whole set.")
        self.epochs_spin = spin("epochsSpin", 1, EPOCHS_MAX, "Passes over the training set that Run trains.")
        self.seed_spin = spin("seedSpin", 0, SEED_MAX, "Seed for the data and the initial weights: "
                              "the same seed repeats a run exactly.")
        self.problem_combo = QComboBox(objectName="problemCombo", toolTip=(
            "What the network learns. Classification: the class of each point (the last Linear has one "
            "output per class). Regression: a value at each point (one output, the MSE loss). Changing it picks "
            "that task's dataset and sets the last Linear's width."))
        self.problem_combo.addItems(list(TASK_NAMES.values()))
        self.dataset_combo = QComboBox(objectName="datasetCombo")
        self._listed_task = None  # the task whose datasets datasetCombo lists
        self._last_dataset: dict[str, str] = {}  # task -> the dataset last used for it
        self._last_loss: dict[str, str] = {}  # task -> the loss last used for it (a regression's is MSE)
        self.noise_spin = double_spin("noiseSpin", 0.0, NOISE_MAX, decimals=3,
                                      tip="Gaussian jitter (standard deviation) added to every point "
                                          "after labelling: blurs the boundary. A regression adds it to "
                                          "the targets instead: the points stay, their values scatter.")
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
        self.problem_combo.currentIndexChanged.connect(self._choose_task)
        self._build_breadth()

        self.training = QGroupBox("Training")
        form = QFormLayout(self.training)
        form.addRow("Step size η", self.eta_spin)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Epochs", self.epochs_spin)
        form.addRow("Seed", self.seed_spin)
        form.addRow("Loss", self.loss_combo)
        form.addRow("Optimizer", self.optimizer_combo)
        form.addRow("Momentum μ", self.momentum_spin)
        form.addRow("Regularization", self.regularization_combo)
        form.addRow("Rate", self.regularization_rate_spin)  # a longer label widens the side panel
        form.addRow("Weight decay λ", self.weight_decay_spin)
        form.setRowVisible(self.weight_decay_spin, False)
        form.addRow("η schedule", self.schedule_combo)
        self._training_form = form
        self.data = QGroupBox("Data")
        form = QFormLayout(self.data)
        form.addRow("Problem", self.problem_combo)
        form.addRow("Dataset", self.dataset_combo)
        self.features = FeaturesPanel(session)  # featureCheck_x1 ... featureCheck_sinx2, across the box
        form.addRow(self.features)
        form.addRow("Noise", self.noise_spin)
        form.addRow("Training points", self.train_spin)
        form.addRow("Test points", self.test_spin)
        form.addRow("Classes", self.classes_spin)
        form.addRow("Test share", self.test_ratio_spin)
        form.addRow(self.show_test_check)
        self._data_form = form
        session.events.connect("experiment", self.show_experiment)
        session.events.connect("state", lambda _state: self.enable_controls())
        self.show_experiment()

    def add_view_check(self, check: QCheckBox) -> None:
        """A check box of how the boundary plot draws (Discretize), under Show test points."""
        self._data_form.addRow(check)

    def _edit(self, name: str, value) -> None:
        self.session.edit(**{name: value})

    def _choose_task(self, index: int) -> None:
        """One edit: the task's dataset (the one last used for it, else its first), MSE for a regression
        (a classification gets back the loss it had), and the last Linear's width (1, or one per class)."""
        task = list(TASK_NAMES)[index]
        e = self.session.experiment
        if task == e.task:
            return
        changes = task_changes(e, task, self._last_dataset.get(task))
        if task == "classification" and self._last_loss.get(task, e.loss) != e.loss:
            changes["loss"] = self._last_loss[task]  # back to Cross-entropy, say, after a regression's MSE
        self.session.edit(**changes)

    def _show_task(self, e) -> None:
        """``problemCombo`` at the experiment's task, ``datasetCombo`` listing that task's datasets."""
        self._last_dataset[e.task] = e.dataset
        self._last_loss[e.task] = e.loss
        self.problem_combo.setCurrentIndex(list(TASK_NAMES).index(e.task))
        if self._listed_task != e.task:
            self.dataset_combo.clear()
            self.dataset_combo.addItems(list(PROBLEMS[e.task]))
            for i, name in enumerate(PROBLEMS[e.task]):
                if name in ITEM_TIPS:
                    self.dataset_combo.setItemData(i, ITEM_TIPS[name], Qt.ItemDataRole.ToolTipRole)
            self.dataset_combo.setToolTip(DATASET_TIPS[e.task])
            self._listed_task = e.task
        self.dataset_combo.setCurrentText(e.dataset)

    def show_experiment(self) -> None:
        e = self.session.experiment
        widgets = [*self._fields.values(), self.dataset_combo, self.problem_combo]
        for widget in widgets:
            widget.blockSignals(True)
        for name, widget in self._fields.items():
            widget.setValue(getattr(e, name))
        self._show_task(e)
        for widget in widgets:
            widget.blockSignals(False)
        self._show_breadth()
        self.enable_controls()

    def enable_controls(self) -> None:
        # eta stays live: it reaches a running optimizer at the start of its next epoch.
        for name, widget in (*self._fields.items(), ("dataset", self.dataset_combo), ("task", self.problem_combo)):
            widget.setEnabled(name == "eta" or not self.session.running)
        self._enable_breadth()

    # -- loss, optimizer, schedule, classes, custom points ------------------------------
    def _build_breadth(self) -> None:
        def combo(name, items, field):
            widget = QComboBox(objectName=name, toolTip=CHOICE_TIPS[field])
            widget.addItems(list(items))
            widget.currentTextChanged.connect(lambda text: self._edit(field, text))
            return widget

        self.loss_combo = combo("lossCombo", LOSSES, "loss")
        self.optimizer_combo = combo("optimizerCombo", OPTIMIZERS, "optimizer")
        self.schedule_combo = combo("scheduleCombo", SCHEDULES, "schedule")
        self.momentum_spin = double_spin("momentumSpin", 0.0, MOMENTUM_MAX, decimals=3,
                                         tip="Momentum μ of SGD + momentum: how much of the last step carries "
                                             "into the next (0.9 is usual).")
        self.momentum_spin.setSingleStep(0.05)
        # L2's rate under its own name, for automation and older scripts: the form shows the
        # regularization combo and rate instead (they edit the same experiment fields).
        self.weight_decay_spin = double_spin("weightDecaySpin", 0.0, WEIGHT_DECAY_MAX, decimals=6,
                                             tip="L2 weight decay λ: adds λθ to every gradient, pulling the "
                                                 "weights towards 0 (0: off).")
        self._build_regularization()
        self.classes_spin = spin("classesSpin", 2, 5, "Number of classes the dataset draws (Blobs: 3 to 5, "
                                 "Spiral: 2 to 5 arms); the last Linear needs one output per class.")
        self.test_ratio_spin = double_spin("testRatioSpin", *TEST_RATIO_RANGE, decimals=2,
                                           tip="Share of your points (drawn, or imported without a split "
                                               "column) that are held out for testing.")
        self.test_ratio_spin.setSingleStep(0.05)
        self._choices = {"loss": self.loss_combo, "optimizer": self.optimizer_combo, "schedule": self.schedule_combo}
        self._numbers = {"momentum": self.momentum_spin, "weight_decay": self.weight_decay_spin,
                         "classes": self.classes_spin, "test_ratio": self.test_ratio_spin}
        for name, widget in self._numbers.items():
            widget.valueChanged.connect(lambda value, name=name: self._edit(name, value))

    def _show_breadth(self) -> None:
        e = self.session.experiment
        widgets = [*self._choices.values(), *self._numbers.values()]
        for widget in widgets:
            widget.blockSignals(True)
        for name, widget in self._choices.items():
            widget.setCurrentText(getattr(e, name))
        low, high, _ = class_range(e.dataset) if e.dataset != CUSTOM else (2, 10, 2)
        self.classes_spin.setRange(low, high)
        for name, widget in self._numbers.items():
            widget.setValue(e.num_classes if name == "classes" else getattr(e, name))
        for widget in widgets:
            widget.blockSignals(False)
        self._training_form.setRowVisible(self.momentum_spin, e.optimizer == "SGD + momentum")
        self._show_regularization()
        self._show_loss_choices(e.task)
        self._data_form.setRowVisible(self.classes_spin, e.task == "classification")
        custom = e.dataset == CUSTOM
        self._data_form.setRowVisible(self.test_ratio_spin, custom)
        for widget in (self.noise_spin, self.train_spin, self.test_spin):
            self._data_form.setRowVisible(widget, not custom)

    def _enable_breadth(self) -> None:
        idle, e = not self.session.running, self.session.experiment
        for widget in (*self._choices.values(), *self._numbers.values(), self.regularization_combo):
            widget.setEnabled(idle)
        self.regularization_rate_spin.setEnabled(idle and e.regularization in ("L1", "L2"))
        low, high, _ = class_range(e.dataset) if e.dataset != CUSTOM else (0, 0, 0)
        self.classes_spin.setEnabled(idle and low < high and e.task == "classification")

    def _show_loss_choices(self, task: str) -> None:
        """Cross-entropy is off for a regression (its item says why); MSE is always there."""
        item = self.loss_combo.model().item(self.loss_combo.findText("Cross-entropy"))
        item.setEnabled(task != "regression")
        item.setToolTip(NO_CROSS_ENTROPY if task == "regression" else "")

    # -- regularization: None, L1 or L2 and its rate ------------------------------------
    def _build_regularization(self) -> None:
        """``regularizationCombo`` picks which experiment field ``regularizationRateSpin`` edits: ``l1`` (L1)
        or ``weight_decay`` (L2); choosing one sets the other to 0, None sets both to 0. The rate
        shown with None is the last one used, and the next L1 or L2 starts from it."""
        self.regularization_combo = QComboBox(objectName="regularizationCombo", toolTip=CHOICE_TIPS["regularization"])
        self.regularization_combo.addItems(list(REGULARIZATIONS))
        self.regularization_combo.currentTextChanged.connect(self._choose_regularization)
        self.regularization_rate_spin = double_spin(
            "regularizationRateSpin", 1e-6, L1_MAX, decimals=6,
            tip=f"The regularization rate: how strongly L1 or L2 pulls the weights towards 0 (L1: at most "
                f"{L1_MAX:g}; L2: at most {WEIGHT_DECAY_MAX:g}). The loss is summed over the batch, so a rate "
                "acts against the gradient of a whole batch. Off while Regularization is None.")
        self.regularization_rate_spin.setValue(DEFAULT_RATE)
        self.regularization_rate_spin.valueChanged.connect(self._edit_rate)

    def _choose_regularization(self, kind: str) -> None:
        if kind not in REGULARIZATIONS:  # "L1 + L2": the rates stay as they are
            return
        rate = self.regularization_rate_spin.value()
        if kind == "L2":
            rate = min(rate, WEIGHT_DECAY_MAX)
        self.session.edit(l1=rate if kind == "L1" else 0.0, weight_decay=rate if kind == "L2" else 0.0)

    def _edit_rate(self, rate: float) -> None:
        kind = self.session.experiment.regularization
        if kind == "L1":
            self.session.edit(l1=rate)
        elif kind == "L2":
            self.session.edit(weight_decay=rate)

    def _show_regularization(self) -> None:
        e, combo, rate = self.session.experiment, self.regularization_combo, self.regularization_rate_spin
        kind = e.regularization
        for widget in (combo, rate):
            widget.blockSignals(True)
        both = combo.findText("L1 + L2")
        if kind == "L1 + L2" and both < 0:  # set by a file or automation: shown as it is
            combo.addItem("L1 + L2")
        elif kind != "L1 + L2" and both >= 0:
            combo.removeItem(both)
        combo.setCurrentText(kind)
        rate.setMaximum(WEIGHT_DECAY_MAX if kind == "L2" else L1_MAX)
        if kind in ("L1", "L1 + L2"):
            rate.setValue(e.l1)
        elif kind == "L2":
            rate.setValue(e.weight_decay)
        for widget in (combo, rate):
            widget.blockSignals(False)
