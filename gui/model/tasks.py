"""The two tasks a network learns, free of Qt: classification and regression.

:func:`with_task` is what choosing a task in the playground changes: the dataset (that task's first, or
the one last used for it), the loss (MSE for a regression, which has no classes for cross-entropy) and
the width of the stack's last Linear (one output for a regression, one per class otherwise), so that
the new experiment can train at once. :func:`error_words` and :func:`error_cell` say a run's error as
its task measures it: the share of points misclassified, or for a regression the mean squared error
per point (:func:`gui.model.data.squared_error`).
"""

from __future__ import annotations

import copy
import dataclasses

from gui.model.experiment import PROBLEMS, Experiment
from minidl.data import TASKS

TASK_NAMES = {"classification": "Classification", "regression": "Regression"}  # task -> the playground's word


def task_of(dataset: str) -> str:
    """``"classification"`` or ``"regression"``: what ``dataset`` asks (your own points are classes)."""
    return TASKS.get(dataset, "classification")


def with_task(experiment: Experiment, task: str, dataset: str | None = None) -> Experiment:
    """A copy of ``experiment`` set up for ``task``: on ``dataset`` (default: the task's first), with
    the MSE loss for a regression, and the last Linear one unit wide for a regression or one unit per
    class. The experiment itself is left as it is; a stack without a Linear is kept as it is."""
    if task not in PROBLEMS:
        raise ValueError(f"the task must be one of {', '.join(PROBLEMS)}, got {task!r:.40}")
    dataset = dataset if dataset is not None else PROBLEMS[task][0]
    if dataset not in PROBLEMS[task]:
        raise ValueError(f"{dataset!r:.40} is not a {task} dataset; choose one of {', '.join(PROBLEMS[task])}")
    new = dataclasses.replace(experiment, dataset=dataset, blocks=copy.deepcopy(experiment.blocks))
    if task == "regression":
        new.loss = "MSE"
    linears = [b for b in new.blocks if b.get("type") == "Linear"]
    if linears:
        linears[-1]["width"] = new.out_features
    return new


def task_changes(experiment: Experiment, task: str, dataset: str | None = None) -> dict:
    """The fields :func:`with_task` changes, for one ``session.edit(**changes)``."""
    return _differences(experiment, with_task(experiment, task, dataset))


def _differences(old: Experiment, new: Experiment) -> dict:
    return {f.name: getattr(new, f.name) for f in dataclasses.fields(new)
            if getattr(new, f.name) != getattr(old, f.name)}


def edit_for(experiment: Experiment, **changes) -> dict:
    """``changes`` for ``session.edit``, plus what :func:`with_task` changes where they change the task
    (drawing or importing your own points, which are classes, while a regression is shown)."""
    dataset = changes.get("dataset", experiment.dataset)
    if task_of(dataset) == experiment.task:
        return changes
    new = with_task(dataclasses.replace(experiment, **changes), task_of(dataset), dataset)
    return _differences(experiment, new)


def error_words(train_error: float, test_error: float, task: str) -> str:
    """The metrics line's errors: ``"error train 2.1 %, test 3.0 %"`` (misclassified), or for a regression
    ``"train MSE 0.0123 per point, test MSE 0.0131 per point"``."""
    if task == "regression":
        return f"train MSE {train_error:.4g} per point, test MSE {test_error:.4g} per point"
    return f"error train {train_error:.1f} %, test {test_error:.1f} %"


def error_cell(value: float | None, task: str) -> str:
    """A runs table cell: ``"2.1 %"`` misclassified, ``"0.0123"`` (MSE per point) for a regression,
    ``"–"`` when unknown."""
    if value is None:
        return "–"
    return f"{value:.4g}" if task == "regression" else f"{value:.1f} %"
