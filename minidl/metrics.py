"""From network outputs to class labels and error rates."""

from __future__ import annotations

import torch


def labels(output: torch.Tensor) -> torch.Tensor:
    """The predicted class of each row: the column with the largest output. Shape ``(N, K) -> (N,)``."""
    return output.argmax(1)


def error_rate(output: torch.Tensor, true_labels: torch.Tensor) -> float:
    """Percentage of rows whose predicted class differs from ``true_labels`` (shape ``(N,)``)."""
    if output.dim() != 2 or true_labels.shape != (output.shape[0],):
        raise ValueError(f"error_rate expects outputs (N, K) and labels (N,), got "
                         f"{tuple(output.shape)} and {tuple(true_labels.shape)}")
    wrong = (labels(output) != true_labels.to(output.device)).sum().item()
    return 100.0 * wrong / max(1, output.shape[0])
