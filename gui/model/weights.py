"""Networks rebuilt from flat copies of their weights (timeline snapshots), and what a view
computes from such a copy: free of Qt, and safe on any thread, since nothing here touches the
session's own model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import minidl
from gui.model import boundary
from gui.model.data import Data
from gui.model.experiment import LOSSES, Experiment
from gui.model.timeline import flatten
from gui.training.messages import Metrics
from minidl import architecture


@dataclass(frozen=True)
class ViewRequest:
    """What a view needs to draw the network after ``epoch``: a copy of its weights and the inputs."""

    epoch: int
    blocks: list
    flat: torch.Tensor
    grid: torch.Tensor
    data: Data
    loss: str = "MSE"  # the experiment's loss, for the test loss


def compute_view(request: ViewRequest) -> tuple[np.ndarray | None, Metrics]:
    """The boundary image and the metrics of ``request``'s weights, on a network of their own
    (so any thread may call it while the session's model trains elsewhere)."""
    model = model_from(request.blocks, request.flat, request.loss)
    with torch.no_grad():
        values = request.data.evaluate(model)
        image = boundary.image(model, request.grid)
    return (image if np.isfinite(image).all() else None), Metrics(request.epoch, **values)


def model_from(blocks: list, flat: torch.Tensor, loss: str = "MSE") -> minidl.Sequential:
    """A network of ``blocks`` holding the parameters in ``flat`` (a timeline snapshot), with ``loss``.
    Its input width is what the number of parameters leaves for the first Linear (:func:`input_width`)."""
    model = architecture.build(blocks, input_width(blocks, flat.numel()), dtype=flat.dtype)
    load_flat(model, flat)
    model.setLoss(LOSSES[loss]())
    return model


def fresh_network(experiment: Experiment) -> tuple[minidl.Sequential, torch.Tensor]:
    """The experiment's initial network and a flat copy of its weights (any thread may call it)."""
    model = experiment.build_model()
    return model, flatten(model.parameters())


def input_width(blocks: list, count: int) -> int:
    """The input width of a stack of ``blocks`` with ``count`` parameters in all: the first Linear of
    width w1 holds ``n * w1 + w1`` of them, the rest a fixed number (a count that fits no width: 2,
    and building the network says what is wrong)."""
    widths = [int(b["width"]) for b in blocks if b.get("type") == "Linear"]
    if not widths:
        return 2
    rest = sum(a * b + b for a, b in zip(widths, widths[1:], strict=False))
    n, left = divmod(count - rest - widths[0], widths[0])
    return n if n >= 1 and not left else 2


def load_flat(model: minidl.Sequential, flat: torch.Tensor) -> None:
    offset = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(flat[offset:offset + p.numel()].view(p.shape))
            offset += p.numel()
