"""What one run needs (:class:`Job`) and how its trainer paces itself (:class:`TrainerConfig`), free of Qt.

The trainer throttles itself by time, not by epoch: at most ``progress_hz`` progress messages and
``image_hz`` boundary images a second, images within ``image_share`` of its time, so fast training
cannot flood the GUI's event queue and slow training still shows every epoch. The defaults and the
measurements behind them are in benchmarks/README.md ("Frames paced by the GUI's load").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

import minidl
from gui.training.control import RunControl


@dataclass(frozen=True)
class TrainerConfig:
    """The trainer's tunables; one travels with each :class:`Job` (to the training process too).

    Every message costs the GUI thread time holding the interpreter's lock, and so the training
    thread: the rates keep a run of the report's network (the worst case: Python-bound) at about
    0.9 of its headless speed (benchmarks/bench_gui.py)."""

    progress_hz: float = 10.0  # progress messages a second, at most
    image_hz: float = 5.0  # boundary images a second, at most
    image_share: float = 0.1  # of the trainer's time, at most, for images
    # The test loss is sampled more often than the GUI is told (the samples travel with the next
    # message), so the test curve keeps its shape: ``test_hz`` a second within ``test_share`` of the
    # time, and also at the run's epochs 1, 2, 3, 5, 8, 12, ... (each ``test_growth`` times the last),
    # where the curve falls fastest and a fast run passes in milliseconds.
    test_hz: float = 30.0
    test_share: float = 0.02
    test_growth: float = 1.5
    # The numbers under the plots (a pass over both sets) are read by a person: four times a second.
    metrics_hz: float = 4.0
    metrics_share: float = 0.1
    # Above ``gui_share`` of the GUI thread's time (GuiLoad) the trainer spaces its messages and images
    # in proportion, down to ``max_stretch`` times fewer.
    gui_share: float = 0.04
    max_stretch: float = 4.0
    # Above ``heavy`` multiply-adds a pass over the grid runs in chunks of about ``chunk``, and a stop
    # is noticed between them (a wide network's image takes seconds; Stop waits for the trainer).
    heavy: float = 2e8
    chunk: float = 5e7
    # False: no boundary images at all (a sweep's runs: no view follows them, gui/training/pool.py).
    frames: bool = True

    def stretch(self, gui_share: float) -> float:
        """How many times longer than planned the trainer waits between messages, for the GUI thread's
        share of the time (1 when the GUI is idle enough)."""
        return min(self.max_stretch, max(1.0, gui_share / self.gui_share))


@dataclass
class Job:
    """What one run needs. ``snapshot_wanted(epoch)`` says which epochs the timeline keeps; ``control``
    takes the run's commands (:mod:`gui.training.control`) and holds its pace, units wanted and load."""

    model: minidl.Sequential
    data: object  # gui.model.data.Data
    optimizer: minidl.SGD
    epochs: int
    batch_size: int
    first_epoch: int
    grid: torch.Tensor
    control: RunControl
    snapshot_wanted: Callable[[int], bool] = lambda epoch: True
    schedule: object = None  # a minidl.schedules object; None: the step size as set
    config: TrainerConfig = field(default_factory=TrainerConfig)
