"""Sweeps (gui/model/sweep.py, gui/model/sweeper.py, gui/training/pool.py): the grid, the runs kept, bit for
bit against a lone Run, stop, close, a killed worker, and files."""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch
from session_helpers import InlineRun

from gui.files import sweep_file
from gui.model import snapshot_budget
from gui.model import sweep as grids
from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.training.pool import Pool
from minidl import plan

SMALL = {"n_train": 200, "n_test": 200, "batch_size": 20, "epochs": 50}


@pytest.fixture(scope="module")
def pool():
    """Two warm workers for the module's sweeps (each takes over a second to import torch)."""
    p = Pool(2, borrow=False)
    p.start()
    yield p
    p.close()


def session_with(pool, **changes) -> Session:
    s = Session(Experiment(**{**SMALL, **changes}))
    s.sweeper.pool = pool
    return s


def drive(s: Session, until=None, timeout: float = 180.0) -> None:
    """Pump the sweep as the window's timer does, until it ends (or ``until()``); ``timeout``: a guard against a
    hang, far above what a sweep here takes on a busy 2-core machine (seconds), not a timing check."""
    end = time.monotonic() + timeout
    while s.sweep_state == "running" and not (until and until()):
        assert time.monotonic() < end, "the sweep did not end in time"
        s.sweeper.pump(0.05)


# -- the grid -------------------------------------------------------------------------------
@pytest.mark.parametrize(("grid", "seeds", "words"), [
    ({}, 1, "one or two settings"),
    ({"eta": [0.1], "width": [3], "epochs": [2]}, 1, "one or two settings"),
    ([("eta", [0.1])], 1, "one or two settings"),
    ({"colour": [1]}, 1, "cannot vary 'colour'"),
    ({"eta": []}, 1, "non-empty list"),
    ({"eta": "0.1"}, 1, "non-empty list"),
    ({"eta": [0.0]}, 1, "from 1e-06 to 10"),
    ({"eta": [float("nan")]}, 1, "from 1e-06 to 10"),
    ({"width": [2.5]}, 1, "whole number"),
    ({"batch_size": [True]}, 1, "whole number"),
    ({"optimizer": ["RMSprop"]}, 1, "one of SGD"),
    ({"eta": [0.1, 0.1]}, 1, "repeat one"),
    ({"eta": [0.1]}, 0, "1 to 10 seeds"),
    ({"eta": [0.1]}, 11, "1 to 10 seeds"),
    ({"seed": [1, 2]}, 2, "varies the seed already"),
    ({"eta": [i / 100 for i in range(1, 42)], "width": [1, 2, 3, 4, 5]}, 1, "at most 200"),
])
def test_a_bad_grid_is_refused_with_a_sentence(grid, seeds, words):
    s = Session(Experiment(**SMALL))
    with pytest.raises(ValueError, match=words):
        s.sweep(grid, seeds)
    assert s.sweep_state == "idle" and s.sweep_definition() is None


def test_width_and_layers_change_the_hidden_linears_only():
    e = Experiment()  # Linear 25, ReLU, x3, Linear 2, Tanh
    v = grids.variant_experiment(e, {"layers": 1, "width": 8}, 4)
    assert v.blocks == [{"type": "Linear", "width": 8}, {"type": "ReLU"}, {"type": "Linear", "width": 2},
                        {"type": "Tanh"}]
    assert v.seed == 4 and e.blocks[0]["width"] == 25  # a copy
    assert grids.variant_experiment(e, {"layers": 0}, 0).blocks == e.blocks[-2:]
    with pytest.raises(ValueError, match="no hidden Linear"):
        grids.check({"width": [4]}, 1, Experiment(blocks=[{"type": "Linear", "width": 2}, {"type": "Tanh"}]))


def test_names_say_the_values_a_variant_differs_in():
    variants = grids.variants({"eta": [0.01, 0.1], "batch_size": [10]}, 2, Experiment(seed=3))
    assert [v.name for v in variants] == ["eta 0.01, batch size 10, seed 3", "eta 0.01, batch size 10, seed 4",
                                          "eta 0.1, batch size 10, seed 3", "eta 0.1, batch size 10, seed 4"]
    assert grids.variants({"optimizer": ["Adam"]}, 1, Experiment())[0].name == "optimizer Adam"


# -- a sweep's life ------------------------------------------------------------------------------
def test_a_sweep_keeps_one_run_per_variant_with_its_results_in_grid_order(pool):
    s = session_with(pool)
    ended, progress = [], []
    s.events.connect("sweep", lambda: ended.append(s.sweep_state))
    s.events.connect("sweep_progress", lambda *a: progress.append(a))
    s.sweep({"eta": [0.001, 0.01]}, seeds=2)
    assert s.sweep_state == "running"
    with pytest.raises(ValueError, match="sweep is training"):
        s.sweep({"eta": [0.1]})
    assert not s.run() and not s.fork()  # no Run beside a sweep
    drive(s)
    assert ended == ["finished"]
    assert [p[:2] for p in progress] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    results = s.sweep_results()
    assert [r["values"] for r in results] == [{"eta": 0.001}, {"eta": 0.01}]
    assert results[1]["runs"] == ["eta 0.01, seed 0", "eta 0.01, seed 1"]
    assert all(len(r["final"][k]) == 2 for r in results for k in ("train_loss", "test_loss", "train_error",
                                                                    "test_error"))
    assert all(isinstance(x, float) for r in results for x in r["final"]["test_error"])
    assert s.sweep_definition() == {"grid": {"eta": [0.001, 0.01]}, "seeds": 2}
    assert [r.name for r in s.runs] == [n for r in results for n in r["runs"]]
    run = s.run_book["eta 0.01, seed 1"]
    assert run.epochs == 50 and list(run.snapshots) == [50] and run.settings["seed"] == 1
    assert run.diff == "sweep of eta, 2 seeds" and run.settings["eta"] == 0.01 and run.state == "completed"
    assert s.snapshot_bytes() <= snapshot_budget.budget()
    assert s.compare(["eta 0.001, seed 0", "eta 0.01, seed 0"]) == ["eta 0.001, seed 0", "eta 0.01, seed 0"]
    s.sweep({"eta": [0.01]}, seeds=2)  # the same values again: new names
    drive(s)
    assert s.sweep_results()[0]["runs"] == ["eta 0.01, seed 0 #2", "eta 0.01, seed 1 #2"]


def _final_weights(s: Session) -> torch.Tensor:
    return s.timeline.flat(s.history.epochs)


@pytest.mark.parametrize(("grid", "batch"), [({"eta": [0.003]}, 20), ({"width": [110], "optimizer": ["Adam"]}, 100)])
def test_a_sweep_run_equals_the_same_variant_run_alone_bit_for_bit(pool, grid, batch):
    """The second grid's products (batch 100 x 110 x 110, over minidl.plan.SMALL_PRODUCT) are large enough that a
    lone run in this process takes two threads (minidl.plan.threads_for); the sweep's workers take one."""
    s = session_with(pool, epochs=30, batch_size=batch)
    s.sweep(grid, seeds=2)
    drive(s)
    for variant in grids.variants(grids.check(grid, 2, s.experiment), 2, s.experiment):
        alone = Session(variant.experiment, runner=InlineRun)
        assert plan.threads_for(alone.model, batch) == (torch.get_num_threads() if batch == 100 else 1)
        assert alone.run() and alone.finish_reason == "completed"
        run = s.run_book[variant.name]
        assert (run.history.train == alone.history.train).all() and len(run.history.train) == 30
        assert torch.equal(run.snapshots[30], _final_weights(alone))
        assert run.schedule == alone.current_run.schedule  # export as Python replays it


def test_stop_keeps_the_finished_runs_and_ends_the_others(pool):
    s = session_with(pool)
    s.sweep({"epochs": [5, 2000, 3000]})
    drive(s, until=lambda: s.sweep_results()[0]["runs"])
    busy = [w.popen for w in s.sweeper.pool.live]
    s.stop_sweep()
    assert s.sweep_state == "finished"
    assert [r["runs"] for r in s.sweep_results()] == [["epochs 5"], [], []]
    assert [r.name for r in s.runs] == ["epochs 5"]
    assert busy and all(p.poll() is not None for p in busy)  # killed and reaped
    assert not s.sweeper.pool.live


def test_a_killed_worker_loses_its_run_and_the_sweep_goes_on(pool):
    s = session_with(pool)
    said = []
    s.events.connect("status", said.append)
    s.sweep({"epochs": [4000, 5, 6]})
    drive(s, until=lambda: len(s.sweeper.pool.live) == 2)
    victim = next(w for w, run in s.sweeper.pool.live.items() if run.job.epochs == 4000)
    os.kill(victim.popen.pid, signal.SIGKILL)
    drive(s)
    assert s.sweep_state == "finished"
    assert [r["runs"] for r in s.sweep_results()] == [[], ["epochs 5"], ["epochs 6"]]
    assert any("epochs 4000 failed" in text and "ended unexpectedly" in text for text in said)
    assert "1 failed" in said[-1]


def test_the_sweep_file_section_round_trips_and_refuses_damage():
    definition = {"grid": {"eta": [0.001, 0.01]}, "seeds": 2}
    names = [["eta 0.001, seed 0", None], ["eta 0.01, seed 0", "eta 0.01, seed 1"]]
    meta = sweep_file.to_file(definition, names)
    known = [n for r in names for n in r if n]
    assert sweep_file.from_file(meta, known) == {**definition, "runs": names}
    assert sweep_file.from_file({}, known) is None
    bad = [
        '{"grid": {"eta": [0.001, 0.01]}, "seeds": 2}',
        '{"grid": {"eta": [0.001, 0.01]}, "seeds": 2, "runs": [["A"], ["B"]]}',
        '{"grid": {"eta": ["x"]}, "seeds": 1, "runs": [[null]]}',
        '{"grid": {"eta": [0.1]}, "seeds": 1, "runs": [["nobody"]]}',
        '{"grid": {"eta": [0.1, 0.2]}, "seeds": 1, "runs": [["eta 0.001, seed 0"], ["eta 0.001, seed 0"]]}',
        '[1, 2]', "{", '{"grid": {"eta": [0.1]}, "seeds": 1, "runs": [[null]], "exec": "x"}',
    ]
    for text in bad:
        with pytest.raises(ValueError, match="its sweep"):
            sweep_file.from_file({"sweep": text}, known)


# -- in the window ----------------------------------------------------------------------------------
def test_the_report_swept_equals_its_run_in_the_window_and_its_export_replays_it(window, qtbot, tmp_path):
    """The report's experiment (1,000 epochs): a sweep's run and the window's Run (the shared training process,
    torch's default threads) give the same weights and losses, bit for bit."""
    from session_helpers import run_script

    from gui.qt import runner
    from gui.qt.window.exports import script_text
    from gui.training import process

    runner.prewarm()  # the window's training process: the sweep borrows it for its first variant
    s = window.session
    with qtbot.waitSignal(window.trainingFinished, timeout=120_000):
        s.sweep({"eta": [1e-3]})  # the report's own eta: the same experiment
        assert s.sweeper.pool.live and next(iter(s.sweeper.pool.live)) is process.shared(start=False)
        qtbot.waitUntil(lambda: s.sweep_state == "finished", timeout=120_000)
        s.run()
    swept = s.run_book["eta 0.001"]
    assert swept.epochs == s.history.epochs == 1000
    assert (swept.history.train == s.history.train).all()
    assert torch.equal(swept.snapshots[1000], s.timeline.flat(1000))
    printed = run_script(script_text(s, "eta 0.001"), tmp_path)
    assert float(printed["final train loss per point"]) == pytest.approx(float(swept.history.train[-1]), rel=1e-6)
    assert printed["test error"] == f"{swept.final['test_error']:.2f} %"


def test_a_saved_sweep_opens_again_with_its_runs(window, qtbot, tmp_path):
    s = window.session
    s.edit(**SMALL)
    s.sweep({"eta": [0.001, 0.01], "width": [4, 8]})
    qtbot.waitUntil(lambda: s.sweep_state == "finished", timeout=60_000)
    s.delete_run("eta 0.01, width 4")
    results, path = s.sweep_results(), tmp_path / "sweep.minidl"
    assert window.files.save_to(path)
    s.sweeper.forget()
    assert s.sweep_definition() is None and s.sweep_state == "idle"
    told = []
    s.events.connect("sweep", lambda: told.append(s.sweep_definition()))
    assert window.files.open(path, confirmed=True)
    assert s.sweep_state == "finished" and told[-1] == s.sweep_definition()
    assert s.sweep_definition() == {"grid": {"eta": [0.001, 0.01], "width": [4, 8]}, "seeds": 1}
    assert s.sweep_results() == results and results[2]["runs"] == []
    assert s.run_book["eta 0.01, width 8"].snapshots.keys() == {50}


def test_closing_the_window_during_a_sweep_keeps_the_finished_runs_and_leaves_no_process(window, qtbot, tmp_path):
    from gui.files import experiment_file

    s = window.session
    s.edit(**SMALL)
    s.sweep({"epochs": [5, 3000, 4000]})
    qtbot.waitUntil(lambda: s.sweep_results()[0]["runs"] == ["epochs 5"], timeout=60_000)
    assert window.files.save_to(tmp_path / "during.minidl")  # what finished so far; the sweep goes on
    saved = sweep_file.from_file(experiment_file.load(tmp_path / "during.minidl").metadata, ["epochs 5"])
    assert saved["runs"] == [["epochs 5"], [None], [None]] and s.sweep_state == "running"
    pool = s.sweeper.pool
    ended = [w.popen for w in pool.workers if w is not pool.borrowed] + [w.popen for w in pool.live]
    window.close()
    assert s.sweep_state == "finished" and [r.name for r in s.runs] == ["epochs 5"]
    assert ended and all(p.poll() is not None for p in ended)  # the pool's own and the busy ones


def test_a_stopped_worker_is_given_up_and_the_sweep_ends(pool, monkeypatch):
    monkeypatch.setattr("gui.training.pool.LOST_AFTER_S", 1.0)
    s = session_with(pool)
    said = []
    s.events.connect("status", said.append)
    s.sweep({"epochs": [4000, 5]})
    drive(s, until=lambda: any(r.worker.ready and r.job.epochs == 4000 for r in s.sweeper.pool.live.values()))
    victim = next(w for w, run in s.sweeper.pool.live.items() if run.job.epochs == 4000)
    os.kill(victim.popen.pid, signal.SIGSTOP)
    drive(s, timeout=120)
    assert [r["runs"] for r in s.sweep_results()] == [[], ["epochs 5"]]
    assert any("did not answer for 1 s" in text for text in said)
    assert victim.popen.poll() is not None  # killed and reaped, though stopped


def test_a_damaged_sweep_section_is_said_and_the_runs_open(window, tmp_path):
    from gui.files import experiment_file, runs_file

    s = window.session
    s.edit(n_train=100, n_test=100, epochs=3)
    s.run()
    window.session.stop()
    qt_free = runs_file.to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path / "damaged.minidl"
    sweep = '{"grid": {"eta": [0.1]}, "seeds": 1, "runs": [["__import__(\'os\')"]]}'
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline,
                         extra_metadata={**qt_free[0], "sweep": sweep}, extra_tensors=qt_free[1])
    assert window.files.open(path)
    assert window.files.last_error[0] == "Sweep left out"
    assert "names a run it does not hold" in window.files.last_error[1]
    assert [r.name for r in s.runs] == ["A"] and s.sweep_definition() is None


def test_a_sweep_starts_no_more_workers_than_it_has_runs():
    s = Session(Experiment(**SMALL))
    s.sweeper.pool = Pool(3, borrow=False)
    s.sweep({"eta": [0.01]})
    assert len(s.sweeper.pool.workers) == 1
    drive(s)
    s.sweep({"eta": [0.01, 0.02]}, seeds=2)
    assert len(s.sweeper.pool.workers) == 3
    s.sweeper.close()
    assert s.sweeper.pool is None


def test_a_sweep_where_no_process_can_start_says_so(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise OSError(11, "Resource temporarily unavailable")

    s = Session(Experiment(**SMALL))
    s.sweeper.pool = Pool(1, borrow=False)
    said, ended = [], []
    s.events.connect("status", said.append)
    s.events.connect("sweep", lambda: ended.append(s.sweep_state))
    s.sweep({"eta": [0.01, 0.02]})
    monkeypatch.setattr(s.sweeper.pool, "idle", refuse)  # from the second variant on
    drive(s)
    assert ended == ["finished"] and [r["runs"] for r in s.sweep_results()] == [["eta 0.01"], []]
    assert "no training process can start (Resource temporarily unavailable)" in " ".join(said)
    s.sweeper.close()
    monkeypatch.setattr("gui.training.pool.TrainingProcess", refuse)
    again = Session(Experiment(**SMALL))
    again.sweeper.pool = Pool(1, borrow=False)
    with pytest.raises(ValueError, match="No training process can start"):
        again.sweep({"eta": [0.01]})
    assert again.sweep_state == "idle"
