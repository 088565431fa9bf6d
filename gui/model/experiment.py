"""An experiment's settings, free of Qt: blocks, dataset, hyperparameters, seed.

Views read and change an :class:`Experiment`; :meth:`Experiment.validate` says in
sentences what would stop a run; :meth:`Experiment.to_json`/:meth:`Experiment.from_json`
check every field (``gui.files.experiment_file`` stores it with the weights and history).
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import asdict, dataclass, field, fields

import torch

import minidl
from gui.model import points as custom
from gui.model.data import Data
from minidl import architecture
from minidl.data import DATASETS, FEATURES, REGRESSION, TASKS, class_range, input_width, one_hot, split
from minidl.schedules import Cosine, StepDecay

IN_FEATURES = 2  # the points' coordinates, x1 and x2: the inputs of the default features
ETA_RANGE = (1e-6, 10.0)
EPOCHS_MAX = 1_000_000
POINTS_RANGE = (10, 100_000)
NOISE_MAX = 0.5
SEED_MAX = 2**31 - 1
WIDTH_MAX = architecture.MAX_WIDTH  # one limit for the widgets, the files and minidl
# Losses, optimizers, schedules and your own points. Older files lack these
# fields and load with the defaults, which are the settings every run had then.
CUSTOM = "Custom"  # the dataset of drawn or imported points (experiment.points)
CLASSIFICATION_NAMES = (*DATASETS, CUSTOM)
REGRESSION_NAMES = tuple(REGRESSION)
DATASET_NAMES = (*CLASSIFICATION_NAMES, *REGRESSION_NAMES)
PROBLEMS = {"classification": CLASSIFICATION_NAMES, "regression": REGRESSION_NAMES}  # task -> its datasets
FEATURE_NAMES = tuple(FEATURES)  # the checkable input features, in the playground's order
PLAIN_FEATURES = ["x1", "x2"]
LOSSES = {"MSE": minidl.MSE, "Cross-entropy": minidl.CrossEntropy}
OPTIMIZERS = ("SGD", "SGD + momentum", "Adam")
SCHEDULES = ("Constant", "Step decay", "Cosine")
MOMENTUM_MAX = 0.999
WEIGHT_DECAY_MAX = 1.0
L1_MAX = 10.0  # the loss is summed over the batch, so a useful L1 rate is larger than TFP's (mean) ones
REGULARIZATIONS = ("None", "L1", "L2")  # as TensorFlow Playground names them; L2 is weight_decay
TEST_RATIO_RANGE = (0.05, 0.9)
ORIGINAL_FIELDS = ("blocks", "dataset", "noise", "n_train", "n_test", "eta", "batch_size", "epochs", "seed")


def linear(width: int) -> dict:
    return {"type": "Linear", "width": width}


@dataclass
class Experiment:
    """Everything a run depends on. Defaults: the report's experiment."""

    blocks: list[dict] = field(default_factory=lambda: copy.deepcopy(architecture.REPORT_LAYERS))
    dataset: str = "Disc"
    noise: float = 0.0
    n_train: int = 1000
    n_test: int = 1000
    eta: float = 1e-3
    batch_size: int = 100
    epochs: int = 1000
    seed: int = 0
    loss: str = "MSE"
    optimizer: str = "SGD"
    momentum: float = 0.9  # used by "SGD + momentum"
    weight_decay: float = 0.0  # L2: weight_decay * theta added to every gradient, biases included
    l1: float = 0.0  # L1: l1 * sign(w) added to the gradient of each weight (not the biases)
    schedule: str = "Constant"
    classes: int = 2  # asked of datasets that draw 2 to 5 classes (Blobs: 3 at least); see num_classes
    points: list = field(default_factory=list)  # the Custom dataset: [x1, x2, label, split] (gui/model/points.py)
    test_ratio: float = 0.3  # of the Custom points without a fixed split
    features: list = field(default_factory=lambda: list(PLAIN_FEATURES))  # the inputs (minidl.data.features)

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``: what the dataset asks (your own points are classes)."""
        return TASKS.get(self.dataset, "classification")

    @property
    def input_names(self) -> list[str]:
        """The features the network reads, in :data:`FEATURE_NAMES` order: the chosen ones that the data
        has coordinates for (a 1-D dataset such as Sine has no x2, so its x2 features are left out)."""
        width = input_width(self.dataset) if self.dataset in TASKS else IN_FEATURES
        chosen = [name for name in FEATURE_NAMES if name in self.features]
        return [name for name in chosen if max(FEATURES[name][0]) < width]

    @property
    def in_features(self) -> int:
        """The width of the network's input: one per feature it reads."""
        return len(self.input_names)

    @property
    def out_features(self) -> int:
        """The width of the network's output: one per class, or one value for a regression."""
        return 1 if self.task == "regression" else self.num_classes

    @property
    def num_classes(self) -> int:
        """K, the number of classes of the data: the network needs K outputs."""
        if self.dataset == CUSTOM:
            return custom.num_classes(self.points)
        low, high, _ = class_range(self.dataset)
        return min(max(self.classes, low), high)

    @property
    def regularization(self) -> str:
        """``"None"``, ``"L1"``, ``"L2"`` (:data:`REGULARIZATIONS`), or ``"L1 + L2"`` when both rates are set
        (a file or automation may set both; the playground's controls set one at a time)."""
        kinds = [name for name, rate in (("L1", self.l1), ("L2", self.weight_decay)) if rate]
        return " + ".join(kinds) or "None"

    # -- checks --------------------------------------------------------------------
    def validate(self) -> list[str]:
        """Sentences that say what stops a run and how to fix it; empty when all is well."""
        problems = []
        k = self.out_features
        linears = [b for b in self.blocks if b.get("type") == "Linear"]
        if not self.blocks:
            one = "one output: the predicted value" if self.task == "regression" else "one output per class"
            problems.append(f"The network is empty: add a Linear block of width {k} ({one}).")
        elif not linears:
            problems.append("The network has no Linear block, so it has nothing to learn: add one.")
        elif linears[-1].get("width") != k and self.task == "regression":
            problems.append(f"The last Linear block has {linears[-1].get('width')} outputs, but a regression "
                            "predicts one value: set the last Linear's width to 1.")
        elif linears[-1].get("width") != k:
            problems.append(f"The last Linear block has {linears[-1].get('width')} outputs, but the data has "
                            f"{k} classes: set the last Linear's width to {k}.")
        problems += self._loss_problems() + self._feature_problems()
        if self.dataset == CUSTOM:
            problems += custom.problems(self.points, self.test_ratio)
        if linears:
            try:
                architecture.check(self.blocks, max(1, self.in_features))
            except ValueError as error:
                problems.append(f"The network cannot be built: {error}.")
        if not ETA_RANGE[0] <= self.eta <= ETA_RANGE[1]:
            problems.append(f"The step size eta must lie between {ETA_RANGE[0]:g} and {ETA_RANGE[1]:g}.")
        if not 1 <= self.batch_size <= POINTS_RANGE[1]:
            problems.append(f"The batch size must lie between 1 and {POINTS_RANGE[1]:,}.")
        if not 1 <= self.epochs <= EPOCHS_MAX:
            problems.append(f"The number of epochs must lie between 1 and {EPOCHS_MAX:,}.")
        return problems

    def _feature_problems(self) -> list[str]:
        if not self.features:
            return ["No input feature is on: tick at least one (x1 and x2 are the coordinates)."]
        if not self.input_names:
            return [f"The {self.dataset} dataset has one coordinate, x1, but only x2 features are on: tick x1, "
                    "x1² or sin(x1)."]
        return []

    def _loss_problems(self) -> list[str]:
        if self.task == "regression" and self.loss != "MSE":
            return [f"A regression learns with the MSE loss ({self.loss} needs classes): choose MSE."]
        last = max((i for i, b in enumerate(self.blocks) if b.get("type") == "Linear"), default=None)
        after = [b.get("type") for b in self.blocks[last + 1:]] if last is not None else []
        if self.loss == "Cross-entropy" and after:
            them = " and ".join(after)
            return [f"Cross-entropy needs raw scores: remove the {them} after the last Linear (the softmax "
                    "is part of the loss)."]
        return []

    def notes(self) -> list[str]:
        """Sentences about settings that are used differently from how they read (not problems)."""
        n = self.train_points
        if n and self.batch_size > n:
            return [f"The batch size {self.batch_size} is larger than the {n} training points: "
                    f"each step uses all {n} (your setting is kept for when there are more)."]
        return []

    # -- what a run needs ----------------------------------------------------------
    @property
    def train_points(self) -> int:
        """How many points a run trains on: the Training points setting, or for your own points (Custom)
        the training share of them (:func:`gui.model.points.split_sizes`)."""
        if self.dataset == CUSTOM:
            return custom.split_sizes(self.points, self.test_ratio)[0]
        return self.n_train

    @property
    def effective_batch_size(self) -> int:
        """The batch size a run uses: the setting, at most the number of training points (at least 1)."""
        return max(1, min(self.batch_size, self.train_points))

    def build_model(self) -> minidl.Sequential:
        """A fresh network: the same seed always draws the same initial weights."""
        model = architecture.build(self.blocks, self.in_features, generator=torch.Generator().manual_seed(self.seed))
        model.setLoss(self.make_loss())
        return model

    def make_loss(self):
        return LOSSES[self.loss]()

    def build_optimizer(self):
        """The optimizer of a run: plain SGD (the report's), SGD with momentum, or Adam; each with L2
        weight decay and L1 when they are above 0."""
        if self.optimizer == "Adam":
            return minidl.Adam(self.eta, weight_decay=self.weight_decay, l1=self.l1)
        momentum = self.momentum if self.optimizer == "SGD + momentum" else 0.0
        return minidl.SGD(self.eta, momentum=momentum, weight_decay=self.weight_decay, l1=self.l1)

    def build_schedule(self):
        """The learning-rate schedule over this experiment's epochs: constant, halved every quarter
        of them (step decay), or a cosine from eta down to 0. None for constant: ``fit`` then uses
        eta as set, as it always has."""
        if self.schedule == "Step decay":
            return StepDecay(every=max(1, self.epochs // 4), gamma=0.5)
        if self.schedule == "Cosine":
            return Cosine(self.epochs)
        return None

    def make_data(self) -> Data:
        """The run's points, drawn from the seed, and the network's inputs: their features."""
        if self.task == "regression":
            P_train, y_train, P_test, y_test = split(self.dataset, self.n_train, self.n_test, self.seed, self.noise)
            return Data.from_points(P_train, None, y_train, P_test, None, y_test, "regression", self.input_names)
        k = self.num_classes
        if self.dataset == CUSTOM:
            X_train, labels_train, X_test, labels_test = custom.split(self.points, self.test_ratio, self.seed)
        else:
            extra = {"classes": k} if class_range(self.dataset)[0] != class_range(self.dataset)[1] else {}
            X_train, labels_train, X_test, labels_test = split(self.dataset, self.n_train, self.n_test,
                                                               self.seed, self.noise, **extra)
        return Data.from_points(X_train, labels_train, one_hot(labels_train, k), X_test, labels_test,
                                one_hot(labels_test, k), "classification", self.input_names)

    # -- JSON ----------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Experiment:
        """Parse and check an experiment; any problem is a ``ValueError`` with a sentence."""
        try:
            raw = json.loads(text)
        except (ValueError, TypeError, RecursionError):  # RecursionError: nested absurdly deep
            raise ValueError("the experiment settings are not valid JSON") from None
        if not isinstance(raw, dict):
            raise ValueError("the experiment settings are not a JSON object")
        values = {}
        for f in fields(cls):
            if f.name not in raw:
                if f.name not in ORIGINAL_FIELDS:
                    continue  # an older file: the default, which every run had then
                raise ValueError(f"the experiment settings lack {f.name!r}")
            values[f.name] = checked_field(f.name, raw[f.name])
        experiment = cls(**values)
        architecture.check(experiment.blocks, max(1, experiment.in_features))  # refuses absurd sizes early
        return experiment


def finite_number(value) -> bool:
    """A JSON number that a float holds: NaN, the infinities and integers beyond the largest float (JSON
    allows 10**400) fail the exact comparison, so float(value) cannot overflow."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= sys.float_info.max


def checked_field(name: str, value):
    """``value`` if it has the right type and range for the experiment's field ``name``, else ``ValueError``."""
    def number(low, high, kind):
        # The range test comes first and compares exactly: NaN, the infinities and integers too large
        # for a float (JSON allows 10**400) all fail it, so kind(value) below cannot overflow.
        allowed = (int, float) if kind is float else int
        if not (isinstance(value, allowed) and not isinstance(value, bool) and low <= value <= high):
            what = f"a number from {low:g} to {high:g}" if kind is float else f"a whole number from {low:,} to {high:,}"
            raise ValueError(f"the experiment's {name} must be {what}, got {value!r:.40}")
        return kind(value)

    if name == "blocks":
        if not isinstance(value, list) or not all(isinstance(b, dict) for b in value):
            raise ValueError("the experiment's blocks must be a list of layer descriptions")
        return [dict(b) for b in value]
    if name == "dataset":
        if not isinstance(value, str) or value not in DATASET_NAMES:
            raise ValueError(f"the experiment's dataset must be one of {', '.join(DATASET_NAMES)}, got {value!r:.40}")
        return value
    choices = {"loss": tuple(LOSSES), "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
    if name in choices:
        if not isinstance(value, str) or value not in choices[name]:
            raise ValueError(f"the experiment's {name} must be one of {', '.join(choices[name])}, got {value!r:.40}")
        return value
    if name == "points":
        return custom.check_points(value)
    if name == "features":
        if (not isinstance(value, list) or not all(isinstance(v, str) and v in FEATURES for v in value)
                or len(set(value)) != len(value)):
            raise ValueError(f"the experiment's features must be a list of distinct names from "
                             f"{', '.join(FEATURE_NAMES)}, got {value!r:.60}")
        return list(value)
    limits = {"momentum": (0.0, MOMENTUM_MAX, float), "weight_decay": (0.0, WEIGHT_DECAY_MAX, float),
              "l1": (0.0, L1_MAX, float),
              "classes": (2, 5, int), "test_ratio": (*TEST_RATIO_RANGE, float),
              "noise": (0.0, NOISE_MAX, float), "n_train": (*POINTS_RANGE, int), "n_test": (*POINTS_RANGE, int),
              "eta": (*ETA_RANGE, float), "batch_size": (1, POINTS_RANGE[1], int),
              "epochs": (1, EPOCHS_MAX, int), "seed": (0, SEED_MAX, int)}
    return number(*limits[name])
