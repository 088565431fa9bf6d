"""A run's data, free of Qt: train and test points, labels and targets, and the metrics on them.

The network reads *inputs*: the input features (:func:`minidl.data.features`) of the *points*, which
are the coordinates the plots draw. With the default features x1, x2 the inputs are the points
themselves (the same tensor). A regression's data has float targets ``(N, 1)`` in place of labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from minidl.checks import unchecked
from minidl.data import features
from minidl.metrics import error_rate

PLAIN = ("x1", "x2")  # the features that are the coordinates themselves


@dataclass
class Data:
    """Train and test inputs, integer labels and Tanh-friendly one-hot targets (a regression: labels
    None, targets the float values ``(N, 1)``), and the points the inputs were computed from.

    ``X_*``: what the network reads, ``(N, len(feature_names))``; ``points_*``: the coordinates,
    ``(N, 2)`` (``(N, 1)`` for a 1-D dataset), the same tensors as ``X_*`` with the plain features.
    """

    X_train: torch.Tensor
    labels_train: torch.Tensor | None
    y_train: torch.Tensor
    X_test: torch.Tensor
    labels_test: torch.Tensor | None
    y_test: torch.Tensor
    task: str = "classification"  # or "regression" (minidl.data.TASKS)
    feature_names: tuple[str, ...] = PLAIN
    points_train: torch.Tensor | None = None
    points_test: torch.Tensor | None = None

    def __post_init__(self):
        if self.points_train is None:
            self.points_train, self.points_test = self.X_train, self.X_test

    @classmethod
    def from_points(cls, P_train, labels_train, y_train, P_test, labels_test, y_test, task="classification",
                    feature_names=PLAIN) -> Data:
        """The data of points ``P_*`` whose network inputs are their features ``feature_names``."""
        names = tuple(feature_names)
        return cls(inputs_of(P_train, names), labels_train, y_train, inputs_of(P_test, names), labels_test,
                   y_test, task, names, P_train, P_test)

    @property
    def regression(self) -> bool:
        return self.task == "regression"

    @property
    def dims(self) -> int:
        """How many coordinates a point has: 2, or 1 for a 1-D dataset (Sine)."""
        return self.points_train.shape[1]

    def inputs(self, points: torch.Tensor) -> torch.Tensor:
        """The network's inputs for ``points`` (a grid, say): their features, in this data's order."""
        return inputs_of(points, self.feature_names)

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
        """Test loss per point and train/test error (% misclassified; for a regression the mean
        squared error per point); all ``None`` once the weights are not finite (after a divergence)."""
        return self.metrics(model, model.predict(self.X_train), model.predict(self.X_test))

    def metrics(self, model, train_out: torch.Tensor, test_out: torch.Tensor) -> dict:
        """:meth:`evaluate` from outputs computed elsewhere (for example in chunks)."""
        test_loss = self.test_loss(model, test_out)
        if not math.isfinite(test_loss):
            return {"test_loss": None, "train_error": None, "test_error": None}
        if self.regression:
            return {"test_loss": test_loss, "test_error": squared_error(test_out, self.y_test),
                    "train_error": squared_error(train_out, self.y_train)}
        return {"test_loss": test_loss, "test_error": error_rate(test_out, self.labels_test),
                "train_error": error_rate(train_out, self.labels_train)}

    def extent(self, margin: float = 0.05) -> tuple[float, float, float, float]:
        """``(x0, x1, y0, y1)``: the unit square, grown to hold every point, plus a margin. A 1-D
        dataset's plane is x against the target: [-1, 1] square, grown likewise."""
        if self.dims == 1:
            corners = torch.tensor([[-1.0, -1.0], [1.0, 1.0]])
            points = torch.cat((torch.cat((self.points_train, self.y_train), 1),
                                torch.cat((self.points_test, self.y_test), 1), corners))
        else:
            points = torch.cat((self.points_train, self.points_test, torch.full((1, 2), 0.5)))  # never empty
        low = torch.minimum(points.min(0).values, torch.zeros(2)) - margin
        high = torch.maximum(points.max(0).values, torch.ones(2)) + margin
        return float(low[0]), float(high[0]), float(low[1]), float(high[1])


def inputs_of(points: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """``points`` themselves for the plain features of 2-D points (no copy), else their features; no
    feature at all gives ``(N, 0)`` (the experiment's validation then stops a run and says why)."""
    if tuple(names) == PLAIN and points.shape[1] == 2:
        return points
    if not names:
        return points.new_zeros((points.shape[0], 0))
    return features(points, list(names))


def squared_error(out: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean over the points of the squared error summed over the outputs (NaN with no points): a
    regression's error, the MSE per point."""
    if not out.shape[0]:
        return math.nan
    return float((out - targets).pow(2).sum()) / out.shape[0]
