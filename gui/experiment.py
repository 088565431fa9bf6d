"""The playground's state, free of Qt: blocks, data, hyperparameters, seed, and files.

Views read and change an :class:`Experiment`; :meth:`Experiment.validate` says in
sentences what would stop a run; :func:`save`/:func:`load` store it (with the trained
weights and the loss history) in minidl's safetensors format.
"""

from __future__ import annotations

import copy
import json
import math
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

import minidl
from minidl import architecture, io
from minidl.checks import unchecked
from minidl.data import DATASETS, class_range, one_hot, split
from minidl.metrics import error_rate
from minidl.schedules import Cosine, StepDecay

from . import points as custom
from .timeline import Timeline

IN_FEATURES = 2
ETA_RANGE = (1e-6, 10.0)
EPOCHS_MAX = 1_000_000
POINTS_RANGE = (10, 100_000)
NOISE_MAX = 0.5
SEED_MAX = 2**31 - 1
WIDTH_MAX = architecture.MAX_WIDTH  # one limit for the widgets, the files and minidl
# Issue 15: losses, optimizers, schedules and your own points. Files written before lack these
# fields and load with the defaults, which are the settings every run had then.
CUSTOM = "Custom"  # the dataset of drawn or imported points (experiment.points)
DATASET_NAMES = (*DATASETS, CUSTOM)
LOSSES = {"MSE": minidl.MSE, "Cross-entropy": minidl.CrossEntropy}
OPTIMIZERS = ("SGD", "SGD + momentum", "Adam")
SCHEDULES = ("Constant", "Step decay", "Cosine")
MOMENTUM_MAX = 0.999
WEIGHT_DECAY_MAX = 1.0
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
    weight_decay: float = 0.0
    schedule: str = "Constant"
    classes: int = 2  # asked of datasets that draw 2 to 5 classes (Blobs: 3 at least); see num_classes
    points: list = field(default_factory=list)  # the Custom dataset: [x1, x2, label, split] (gui/points.py)
    test_ratio: float = 0.3  # of the Custom points without a fixed split

    @property
    def num_classes(self) -> int:
        """K, the number of classes of the data: the network needs K outputs."""
        if self.dataset == CUSTOM:
            return custom.num_classes(self.points)
        low, high, _ = class_range(self.dataset)
        return min(max(self.classes, low), high)

    # -- checks --------------------------------------------------------------------
    def validate(self) -> list[str]:
        """Sentences that say what stops a run and how to fix it; empty when all is well."""
        problems = []
        k = self.num_classes
        linears = [b for b in self.blocks if b.get("type") == "Linear"]
        if not self.blocks:
            problems.append(f"The network is empty: add a Linear block of width {k} (one output per class).")
        elif not linears:
            problems.append("The network has no Linear block, so it has nothing to learn: add one.")
        elif linears[-1].get("width") != k:
            problems.append(f"The last Linear block has {linears[-1].get('width')} outputs, but the data has "
                            f"{k} classes: set the last Linear's width to {k}.")
        problems += self._loss_problems()
        if self.dataset == CUSTOM:
            problems += custom.problems(self.points, self.test_ratio)
        if linears:
            try:
                architecture.check(self.blocks, IN_FEATURES)
            except ValueError as error:
                problems.append(f"The network cannot be built: {error}.")
        if not ETA_RANGE[0] <= self.eta <= ETA_RANGE[1]:
            problems.append(f"The step size eta must lie between {ETA_RANGE[0]:g} and {ETA_RANGE[1]:g}.")
        if not 1 <= self.batch_size <= POINTS_RANGE[1]:
            problems.append(f"The batch size must lie between 1 and {POINTS_RANGE[1]:,}.")
        if not 1 <= self.epochs <= EPOCHS_MAX:
            problems.append(f"The number of epochs must lie between 1 and {EPOCHS_MAX:,}.")
        return problems

    def _loss_problems(self) -> list[str]:
        last = max((i for i, b in enumerate(self.blocks) if b.get("type") == "Linear"), default=None)
        after = [b.get("type") for b in self.blocks[last + 1:]] if last is not None else []
        if self.loss == "Cross-entropy" and after:
            them = " and ".join(after)
            return [f"Cross-entropy needs raw scores: remove the {them} after the last Linear (the softmax "
                    "is part of the loss)."]
        return []

    def notes(self) -> list[str]:
        """Sentences about settings that are used differently from how they read (not problems)."""
        if self.batch_size > self.n_train:
            return [f"The batch size {self.batch_size} is larger than the {self.n_train} training points: "
                    f"each step uses all {self.n_train} (your setting is kept for when there are more)."]
        return []

    # -- what a run needs ----------------------------------------------------------
    @property
    def effective_batch_size(self) -> int:
        """The batch size a run uses: the setting, at most the number of training points."""
        return min(self.batch_size, self.n_train)

    def build_model(self) -> minidl.Sequential:
        """A fresh network: the same seed always draws the same initial weights."""
        model = architecture.build(self.blocks, IN_FEATURES, generator=torch.Generator().manual_seed(self.seed))
        model.setLoss(self.make_loss())
        return model

    def make_loss(self):
        return LOSSES[self.loss]()

    def build_optimizer(self):
        """The optimizer of a run: plain SGD (the report's), SGD with momentum, or Adam; each with L2
        weight decay when it is above 0."""
        if self.optimizer == "Adam":
            return minidl.Adam(self.eta, weight_decay=self.weight_decay)
        momentum = self.momentum if self.optimizer == "SGD + momentum" else 0.0
        return minidl.SGD(self.eta, momentum=momentum, weight_decay=self.weight_decay)

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
        k = self.num_classes
        if self.dataset == CUSTOM:
            X_train, labels_train, X_test, labels_test = custom.split(self.points, self.test_ratio, self.seed)
        else:
            extra = {"classes": k} if class_range(self.dataset)[0] != class_range(self.dataset)[1] else {}
            X_train, labels_train, X_test, labels_test = split(self.dataset, self.n_train, self.n_test,
                                                               self.seed, self.noise, **extra)
        return Data(X_train, labels_train, one_hot(labels_train, k), X_test, labels_test, one_hot(labels_test, k))

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
                    continue  # a file from before issue 15: the default, which every run had then
                raise ValueError(f"the experiment settings lack {f.name!r}")
            values[f.name] = checked_field(f.name, raw[f.name])
        experiment = cls(**values)
        architecture.check(experiment.blocks, IN_FEATURES)  # refuses absurd sizes before anything is built
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
    limits = {"momentum": (0.0, MOMENTUM_MAX, float), "weight_decay": (0.0, WEIGHT_DECAY_MAX, float),
              "classes": (2, 5, int), "test_ratio": (*TEST_RATIO_RANGE, float),
              "noise": (0.0, NOISE_MAX, float), "n_train": (*POINTS_RANGE, int), "n_test": (*POINTS_RANGE, int),
              "eta": (*ETA_RANGE, float), "batch_size": (1, POINTS_RANGE[1], int),
              "epochs": (1, EPOCHS_MAX, int), "seed": (0, SEED_MAX, int)}
    return number(*limits[name])


@dataclass
class Data:
    """Train and test points, integer labels and Tanh-friendly one-hot targets."""

    X_train: torch.Tensor
    labels_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    labels_test: torch.Tensor
    y_test: torch.Tensor

    def test_loss(self, model, test_out: torch.Tensor | None = None) -> float:
        """Loss per point on the test set (NaN once the weights are not finite)."""
        if not self.X_test.shape[0]:
            return math.nan
        test_out = model.predict(self.X_test) if test_out is None else test_out
        if not bool(torch.isfinite(test_out).all()):
            return math.nan
        # Unchecked: the targets were checked when the data was made, the outputs just above
        # (the worker samples this up to 60 times a second).
        return float(unchecked(model.loss.forward)(test_out, self.y_test)) / self.X_test.shape[0]

    def evaluate(self, model) -> dict:
        """Test loss per point and train/test error %; all ``None`` once the weights are not
        finite (after a divergence)."""
        return self.metrics(model, model.predict(self.X_train), model.predict(self.X_test))

    def metrics(self, model, train_out: torch.Tensor, test_out: torch.Tensor) -> dict:
        """:meth:`evaluate` from outputs computed elsewhere (for example in chunks)."""
        test_loss = self.test_loss(model, test_out)
        if not math.isfinite(test_loss):
            return {"test_loss": None, "train_error": None, "test_error": None}
        return {"test_loss": test_loss, "test_error": error_rate(test_out, self.labels_test),
                "train_error": error_rate(train_out, self.labels_train)}

    def extent(self, margin: float = 0.05) -> tuple[float, float, float, float]:
        """``(x0, x1, y0, y1)``: the unit square, grown to hold every point, plus a margin."""
        points = torch.cat((self.X_train, self.X_test, torch.full((1, 2), 0.5)))  # never empty (no drawn points)
        low = torch.minimum(points.min(0).values, torch.zeros(2)) - margin
        high = torch.maximum(points.max(0).values, torch.ones(2)) + margin
        return float(low[0]), float(high[0]), float(low[1]), float(high[1])


@dataclass
class History:
    """The loss per epoch, compact: float32 numpy arrays (80 kB for 20,000 epochs)."""

    train: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    test_epochs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    test: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))

    @property
    def epochs(self) -> int:
        return len(self.train)

    def extend(self, train_losses, test_epochs=(), test_losses=()) -> None:
        """Append the train loss of the next epochs, and test losses sampled at some epochs."""
        self.train = np.concatenate((self.train, np.asarray(train_losses, np.float32)))
        test_epochs, test_losses = np.atleast_1d(test_epochs), np.atleast_1d(test_losses)
        if test_epochs.shape != test_losses.shape:
            raise ValueError(f"{len(test_epochs)} test epochs for {len(test_losses)} test losses")
        self.test_epochs = np.concatenate((self.test_epochs, test_epochs.astype(np.int64)))
        self.test = np.concatenate((self.test, test_losses.astype(np.float32)))

    def truncate(self, epoch: int) -> None:
        """Forget every epoch after ``epoch`` (a branch of the timeline starts there)."""
        keep = self.test_epochs <= epoch
        self.train, self.test_epochs, self.test = self.train[:epoch].copy(), self.test_epochs[keep], self.test[keep]

    def to_csv(self) -> str:
        test = dict(zip(self.test_epochs.tolist(), self.test.tolist(), strict=True))
        rows = ["epoch,train_loss,test_loss"]
        rows += [f"{e},{loss:.9g},{'' if e not in test else format(test[e], '.9g')}"
                 for e, loss in enumerate(self.train.tolist(), 1)]
        return "\n".join(rows) + "\n"


# -- files ---------------------------------------------------------------------------
def save(path, experiment: Experiment, model: minidl.Sequential, history: History,
         timeline: Timeline | None = None, fresh_start: bool = False, optimizer=None,
         extra_metadata: dict | None = None, extra_tensors: dict | None = None) -> None:
    """Write experiment, weights, loss history and timeline to ``path`` atomically (minidl's format).

    ``fresh_start`` marks a run that diverged: its next Run starts from fresh weights. Non-finite
    weights or losses are never written (a ``ValueError`` says so): the session keeps the last
    finite state after a divergence, so this only guards against a bug.
    """
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise ValueError("the weights hold NaN or infinite values; reset the network (or resume from an "
                         "earlier epoch on the timeline) before saving")
    if not (np.isfinite(history.train).all() and np.isfinite(history.test).all()):
        raise ValueError("the loss history holds NaN or infinite values")
    tensors = {"history.train": torch.from_numpy(history.train.astype(np.float32)),
               "history.test_epochs": torch.from_numpy(history.test_epochs.astype(np.float64)),
               "history.test": torch.from_numpy(history.test.astype(np.float32)),
               **(timeline.to_tensors() if timeline is not None else {}), **(extra_tensors or {})}
    # The optimizer's state (momentum, Adam's moments) and the custom points travel as tensors: 100,000
    # points as JSON would outgrow the file's header.
    if optimizer is not None:
        tensors |= {f"optimizer.{k}": v for k, v in optimizer.state_tensors().items()}
    if experiment.points:
        tensors["points"] = torch.tensor(experiment.points, dtype=torch.float64)
        experiment = copy.copy(experiment)
        experiment.points = []
    metadata = {"experiment": experiment.to_json(), "fresh_start": "1" if fresh_start else "0",
                **(extra_metadata or {})}  # e.g. the runs kept for comparison (gui/runs_file.py)
    io.write(Path(path), model, metadata=metadata, tensors=tensors)


@dataclass
class Loaded:
    """What :func:`load` read: the experiment, its network, history and timeline, and whether its
    run had diverged (then the next Run starts from fresh weights)."""

    experiment: Experiment
    model: minidl.Sequential
    history: History
    timeline: Timeline
    fresh_start: bool = False
    optimizer_state: dict = field(default_factory=dict)  # for Experiment.build_optimizer().load_state_tensors
    metadata: dict = field(default_factory=dict)  # everything the file holds, for readers of extra
    tensors: dict = field(default_factory=dict)   # sections such as the runs (gui/runs_file.py)

    def __iter__(self):  # ``experiment, model, history = load(path)`` keeps working
        return iter((self.experiment, self.model, self.history))


def load(path) -> Loaded:
    """Read a file written by :func:`save`; ``ValueError`` with a sentence on any problem."""
    name = Path(path).name
    model, meta, tensors = io.read(path)
    if "experiment" not in meta:
        raise ValueError(f"{name} holds a minidl model but no playground experiment")
    try:
        experiment = Experiment.from_json(meta["experiment"])
        if "points" in tensors:
            experiment.points = points_from_table(tensors.pop("points"))
    except ValueError as error:
        raise ValueError(f"{name} is damaged: {error}") from None
    if architecture.describe(model) != experiment.blocks:
        raise ValueError(f"{name} is damaged: its weights do not match its blocks")
    k = experiment.num_classes
    if (model.in_features, model.out_features) != (IN_FEATURES, k):
        raise ValueError(f"{name} holds a network from {model.in_features} inputs to {model.out_features} outputs; "
                         f"its data needs {IN_FEATURES} inputs and {k} outputs (one per class)")
    if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
        raise ValueError(f"{name} is damaged: its weights hold NaN or infinite values")
    model.to(torch.float32)  # minidl files may hold float64 weights; the playground's data is float32
    model.setLoss(experiment.make_loss())
    keys = [f"history.{k}" for k in ("train", "test_epochs", "test")]
    try:  # a model saved without history is fine
        history = read_history(*(tensors[k] for k in keys), owner="its") if set(keys) <= set(tensors) else History()
    except ValueError as error:
        raise ValueError(f"{name} is damaged: {error}") from None
    state = {k.removeprefix("optimizer."): tensors.pop(k) for k in list(tensors) if k.startswith("optimizer.")}
    try:
        timeline = Timeline.from_tensors([tuple(p.shape) for p in model.parameters()],  # not kept in tensors
                                         {k: tensors.pop(k) for k in list(tensors) if k.startswith("timeline.")},
                                         history.epochs)
        if state:  # refused here if it does not fit, rather than at the next Run
            experiment.build_optimizer().load_state_tensors(state, model.parameters())
    except ValueError as error:
        raise ValueError(f"{name} is damaged: {error}") from None
    return Loaded(experiment, model, history, timeline, meta.get("fresh_start") == "1", state, meta,
                  tensors)


def points_from_table(table: torch.Tensor) -> list[list]:
    """The custom points saved as a ``(N, 4)`` tensor, checked like any experiment's."""
    if table.dim() != 2 or table.shape[1] != 4:
        raise ValueError("its custom points are not a table of four columns")
    rows = table.double().tolist()
    # Whole labels and split codes become ints; NaN, infinities and fractions stay floats, which
    # check_points refuses with its sentence.
    return custom.check_points([[x1, x2, int(label) if label.is_integer() else label,
                                 int(code) if code.is_integer() else code] for x1, x2, label, code in rows])


def float32_losses(values: np.ndarray) -> bool:
    """Whether every value is a finite number that a float32 holds (History's losses are float32): NaN
    fails the comparison, and a larger loss would turn infinite."""
    return bool((np.abs(values) <= np.finfo(np.float32).max).all())


def read_history(train: torch.Tensor, test_epochs: torch.Tensor, test: torch.Tensor, owner: str) -> History:
    """The :class:`History` a file's three tensors hold, checked: finite float32 losses, test losses at whole
    epochs within the history. ``owner`` begins each sentence of a ``ValueError`` ("its", "run A's")."""
    # The file's own numbers, read in place (no copy of a history of 100 M epochs)
    train, test_epochs, test = _numbers(train), _numbers(test_epochs), _numbers(test)
    if train.ndim != 1 or test.shape != test_epochs.shape or test.ndim != 1:
        raise ValueError(f"{owner} loss history has inconsistent shapes")
    if not (_in_chunks(float32_losses, train) and _in_chunks(float32_losses, test)
            and np.isfinite(test_epochs).all()):
        raise ValueError(f"{owner} loss history holds NaN or infinite values, or values too large "
                         "(losses are finite float32 numbers)")
    if len(test_epochs) and (test_epochs.min() < 1 or test_epochs.max() > len(train)
                             or not _in_chunks(lambda e: np.array_equal(e, np.round(e)), test_epochs)):
        raise ValueError(f"{owner} test losses must be recorded at whole epochs from 1 to {len(train):,}")
    # The file's float32 losses themselves, not a copy (a History never writes into its arrays).
    return History(np.asarray(train, np.float32), test_epochs.astype(np.int64), np.asarray(test, np.float32))


def _numbers(tensor: torch.Tensor) -> np.ndarray:
    """A file's tensor as numpy, in place where numpy has its dtype (all but bfloat16)."""
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()


def _in_chunks(check, values: np.ndarray, chunk: int = 1 << 20) -> bool:
    """``check`` on each million ``values``: its temporaries stay small for a history of 100 M epochs."""
    return all(check(values[i:i + chunk]) for i in range(0, len(values), chunk))
