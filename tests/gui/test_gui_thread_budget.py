"""What the GUI thread does at the end of a run, and what the worker copies each epoch (issue 10's
speed): measured work removed, proved by counting calls and comparing numbers, never by timing."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gui_helpers import FakeClock, heatmap, run_to_end, small_data, start_long_run

import minidl
from gui.model.timeline import flatten, parameter_order


def test_the_packed_parameters_read_in_snapshot_order_equal_a_flat_copy():
    gen = torch.Generator().manual_seed(0)
    # 2 -> 25 and 25 -> 2: one weight stored transposed (longer side contiguous), one not
    model = minidl.Sequential(minidl.Linear(2, 25, generator=gen), minidl.ReLU(), minidl.Linear(25, 2, generator=gen))
    model.setLoss(minidl.MSE())
    X = torch.rand(40, 2, generator=gen)
    list(minidl.fit(model, X, torch.rand(40, 2, generator=gen), 1, 10, minidl.SGD(1e-2)))
    assert model.flat is not None and not model[0].weight.is_contiguous()
    ours = model.flat.flat_params.index_select(0, parameter_order(model.flat))
    assert torch.equal(ours, flatten(model.parameters()))


def test_a_completed_run_is_not_drawn_again_from_its_weights(qtbot, window, monkeypatch):
    """The worker sends the last epoch's picture and metrics; the GUI thread computes no second copy."""
    small_data(window)
    requests = []
    original = window.display.preview.request
    monkeypatch.setattr(window.display.preview, "request", lambda r: (requests.append(r.epoch), original(r)))
    assert run_to_end(qtbot, window, 30) == "completed"
    assert requests == []
    s = window.session
    assert s.metrics.epoch == s.history.epochs == 30
    # what is shown is the trained network's own picture: the same as a preview of its weights computes
    shown = heatmap(window).copy()
    window.display.draw_epoch(None)
    np.testing.assert_allclose(heatmap(window), shown, rtol=1e-5, atol=1e-5)


def test_a_stopped_run_shows_the_weights_it_kept(qtbot, window):
    """A stop ends without a last frame from the worker: what is shown must still be the kept weights'
    picture and metrics (drawn from them, unless the worker's last frame and metrics were of that epoch)."""
    small_data(window)
    start_long_run(qtbot, window)
    with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
        window.session.request_stop()
    s = window.session
    qtbot.waitUntil(lambda: s.metrics is not None and s.metrics.epoch == s.history.epochs, timeout=10_000)
    shown = heatmap(window).copy()
    window.display.draw_epoch(None)  # a preview of the kept weights, computed now
    np.testing.assert_allclose(heatmap(window), shown, rtol=1e-5, atol=1e-5)


def test_the_gui_load_is_the_gui_thread_s_share_of_the_time(monkeypatch):
    """GuiLoad measures CPU time over wall time between two calls, smoothed; the trainer's stretch starts
    above the config's gui_share."""
    from gui.training import control
    from gui.training.job import TrainerConfig

    config = TrainerConfig()
    clock = {"wall": 0.0, "cpu": 0.0}
    monkeypatch.setattr(control.time, "perf_counter", lambda: clock["wall"])
    monkeypatch.setattr(control.time, "thread_time", lambda: clock["cpu"])
    load = control.GuiLoad()
    load.measure()
    assert load.share == 0 and config.stretch(load.share) == 1
    for _ in range(30):  # the GUI thread busy 20 % of each 100 ms
        clock["wall"] += 0.1
        clock["cpu"] += 0.02
        load.measure()
    assert abs(load.share - 0.2) < 1e-3
    assert config.stretch(load.share) == min(config.max_stretch, load.share / config.gui_share) > 1
    clock["wall"] += 0.01  # a short interval (a run's last message) weighs little, however busy
    clock["cpu"] += 0.01
    load.measure()
    assert load.share < 0.22
    for _ in range(30):  # idle again
        clock["wall"] += 0.1
        load.measure()
    assert load.share < config.gui_share and config.stretch(load.share) == 1
    share = load.share
    load.start()  # a run starts: the GUI's work to start it and the idle minute before do not count
    clock["wall"] += 60
    clock["cpu"] += 0.05
    load.measure()
    assert load.share == share
    clock["wall"] += 0.1
    clock["cpu"] += 0.05
    load.measure()
    assert load.share == pytest.approx(share + (1 - math.exp(-0.1 / load.TAU)) * (0.5 - share))


def test_a_busy_gui_thread_gets_fewer_messages(monkeypatch):
    """The worker stretches its message interval by the GUI load: with the GUI thread reported fully busy,
    a run of the same epochs sends about MAX_STRETCH times fewer progress messages. Counted on a clock that
    advances a millisecond at each reading, so that both runs take the same turns on any machine."""
    from gui.model.experiment import Experiment
    from gui.model.session import Session
    from gui.training import trainer
    from gui.training.control import RunControl
    from gui.training.job import Job, TrainerConfig
    from gui.training.messages import Progress

    config = TrainerConfig(progress_hz=400)
    s = Session(Experiment(n_train=200, n_test=50, batch_size=10, epochs=200))
    counts, rates = {}, {}
    for share in (0.0, 1.0):
        clock = FakeClock(tick=1e-3).install(monkeypatch)
        optimizer = minidl.SGD(1e-3)
        job = Job(s.model, s.data, optimizer, 200, 10, 1, s.grid, RunControl(optimizer, 1, load=share), config=config)
        messages = []
        trainer.Trainer(job, messages.append).run()
        counts[share] = sum(isinstance(m, Progress) for m in messages)
        rates[share] = counts[share] / clock.now  # messages a second of the clock
    assert counts[1.0] < counts[0.0] / 2
    assert rates[1.0] <= 400 / config.max_stretch * 1.2


def test_the_window_s_runs_measure_the_gui_thread(qtbot, window):
    """The session measures the GUI thread's share at each progress message of a run (and sends it to the run)."""
    small_data(window)
    s = window.session
    assert s.gui_load.share == 0
    start_long_run(qtbot, window)
    qtbot.waitUntil(lambda: s.gui_load.share > 0, timeout=10_000)
    with qtbot.waitSignal(window.trainingFinished, timeout=10_000):
        s.request_stop()
