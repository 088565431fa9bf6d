"""Experiment files: :func:`save` writes an experiment with its trained weights, loss history and
timeline in minidl's safetensors format; :func:`load` reads one back, checking every field."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import minidl
from gui.model import points as custom
from gui.model.experiment import Experiment
from gui.model.history import History
from gui.model.timeline import Timeline
from minidl import architecture, io


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
                **(extra_metadata or {})}  # e.g. the runs kept for comparison (gui/files/runs_file.py)
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
    tensors: dict = field(default_factory=dict)   # sections such as the runs (gui/files/runs_file.py)

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
    if not experiment.input_names:  # no input width to compare the network's with: say what is missing
        words = ("no input feature" if not experiment.features else
                 f"only x2 features, but its {experiment.dataset} data has one coordinate, x1")
        raise ValueError(f"{name} is damaged: its network reads {words}")
    n, k = experiment.in_features, experiment.out_features
    if (model.in_features, model.out_features) != (n, k):
        outputs = "1 output (a regression)" if experiment.task == "regression" else f"{k} outputs (one per class)"
        raise ValueError(f"{name} holds a network from {plural(model.in_features, 'input')} to "
                         f"{plural(model.out_features, 'output')}; "
                         f"its data needs {plural(n, 'input')} (one per input feature) and {outputs}")
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


def plural(count: int, noun: str) -> str:
    """``"1 output"``, ``"2 outputs"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
