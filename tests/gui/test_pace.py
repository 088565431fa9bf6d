"""A class's speed (gui.model.pace): the trainer waits between epochs, draws every epoch, shows every batch
at 1 epoch/s, reports batch losses only when asked, and a Stop never waits for the pace. The waits run
on a fake clock (gui_helpers.FakeClock): counted, never timed, the same on a busy machine."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import FakeClock

import minidl
from gui.model import pace as pace_module
from gui.model.experiment import Experiment
from gui.model.pace import SPEEDS, Pace, nearest_stop
from gui.model.session import Session
from gui.training.control import RunControl
from gui.training.job import Job
from gui.training.messages import BatchLosses, Finished, Frame, Progress
from gui.training.trainer import Trainer


def job(pace: Pace, epochs=6, n_train=100, batch_size=25, control=None) -> Job:
    e = Experiment(n_train=n_train, n_test=50, batch_size=batch_size, epochs=epochs)
    s = Session(e)  # builds data, grid and the model; never runs
    optimizer = minidl.SGD(1e-3)
    control = control or RunControl(optimizer, 1)
    control.pace = pace
    return Job(s.model, s.data, optimizer, epochs, batch_size, 1, s.grid, control)


def run(j: Job) -> list:
    messages = []
    Trainer(j, messages.append).run()
    return messages


def test_a_paced_run_takes_its_time_and_draws_every_epoch(monkeypatch):
    clock = FakeClock().install(monkeypatch)
    messages = run(job(Pace(20), epochs=6))
    assert isinstance(messages[-1], Finished) and messages[-1].reason == "completed"
    assert clock.slept >= 5 / 20 - 1e-9  # five waits between six epochs, at least
    frames = sorted({m.epoch for m in messages if isinstance(m, Frame)})
    assert frames == [1, 2, 3, 4, 5, 6]
    progress = [m for m in messages if isinstance(m, Progress)]
    assert [len(m.train_losses) for m in progress] == [1] * 6


def test_max_speed_does_not_wait_and_does_not_observe_batches(monkeypatch):
    clock = FakeClock().install(monkeypatch)
    seen = []
    control = RunControl(minidl.SGD(1e-3), 1)
    original = control.observe
    control.observe = lambda *a, **k: (seen.append(a), original(*a, **k))
    messages = run(job(Pace(None), epochs=6, control=control))
    assert not seen and not control.attention  # the plain path: no observer
    assert clock.sleeps == 0
    assert not any(isinstance(m, BatchLosses) for m in messages)


def test_per_batch_mode_shows_every_batch_and_its_loss(monkeypatch):
    monkeypatch.setattr(pace_module, "PER_BATCH_AT", 50.0)  # per batch at 40 epochs/s
    clock = FakeClock().install(monkeypatch)
    pace = Pace(40.0, batch_losses=True)
    messages = run(job(pace, epochs=2, batch_size=25))  # 4 batches an epoch
    frames = [m for m in messages if isinstance(m, Frame)]
    assert len(frames) >= 8  # one per batch (and the epochs' own)
    assert clock.slept >= 7 / (40 * 4) - 1e-9  # a wait after each batch, at least between them
    positions = np.concatenate([m.positions for m in messages if isinstance(m, BatchLosses)])
    np.testing.assert_allclose(positions, [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0])


def test_batch_losses_match_the_epoch_loss(monkeypatch):
    pace = Pace(None, batch_losses=True)
    FakeClock().install(monkeypatch)
    messages = run(job(pace, epochs=3, n_train=100, batch_size=30))  # 30, 30, 30, 10 points
    losses = np.concatenate([m.losses for m in messages if isinstance(m, BatchLosses)])
    epochs = np.concatenate([m.train_losses for m in messages if isinstance(m, Progress)])
    assert len(losses) == 12
    sizes = np.array([30, 30, 30, 10] * 3)
    per_epoch = (losses * sizes).reshape(3, 4).sum(1) / 100
    np.testing.assert_allclose(per_epoch, epochs, rtol=1e-5)


def test_stop_does_not_wait_for_a_slow_pace(monkeypatch):
    """A Stop during the pace's wait (5 s an epoch, 1.25 s a batch) ends it at once: the wait's slices stop
    with it, and the run ends "stopped" long before the pace would have let the batch go."""
    j = job(Pace(0.2), epochs=5)
    stop_after = 3  # the Stop comes during the third slice of the first wait
    clock = FakeClock(on_sleep=lambda c: c.sleeps == stop_after and j.control.stop()).install(monkeypatch)
    messages = run(j)
    assert messages[-1].reason == "stopped"
    assert clock.sleeps == stop_after and clock.slept < 1 / (0.2 * 4)
    assert clock.slept == pytest.approx(stop_after * pace_module.SLICE)


def test_pace_setting_and_slider_stops():
    pace = Pace()
    assert not pace.paced and not pace.observing
    pace.set(1)
    assert pace.per_batch and pace.observing
    pace.set(None)
    assert not pace.paced
    with pytest.raises(ValueError, match="positive"):
        pace.set(0)
    assert SPEEDS[nearest_stop(None)] is None and SPEEDS[nearest_stop(7)] == 5 and SPEEDS[nearest_stop(50)] == 50
