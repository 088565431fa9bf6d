"""A run's data, free of Qt: train and test points, labels and targets, and the metrics on them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from minidl.checks import unchecked
from minidl.metrics import error_rate


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
