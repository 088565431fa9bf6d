"""The runs kept for comparison and "export as Python", without a QApplication (runs train inline)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from session_helpers import ROOT, edit_once_during_run, run_script, small

import minidl
from gui.files.script import script, segments
from gui.model.experiment import Experiment, linear
from gui.model.runs import RUN_SNAPSHOTS, block_changes, name_for, setting_changes


def test_every_run_is_kept_with_its_kind_parent_and_what_differs():
    s = small(epochs=20)
    s.run()
    s.edit(eta=0.01)
    s.run()  # a Continue
    s.seek(10)
    s.fork()
    assert [r.name for r in s.runs] == ["A", "B", "C"]
    assert [(r.kind, r.parent, r.start_epoch) for r in s.runs] == [("fresh", None, 0), ("continue", "A", 20),
                                                                    ("fork", "B", 10)]
    assert s.runs[1].diff == "continues A, eta 0.01 (was 0.001)"
    assert s.runs[2].diff.startswith("fork of B at epoch 10")
    assert [r.epochs for r in s.runs] == [20, 40, 20]
    np.testing.assert_array_equal(s.runs[2].history.train[:10], s.runs[0].history.train[:10])
    assert all(r.state == "completed" and r.wall_time > 0 for r in s.runs)
    final = s.runs[0].final
    assert final["train_loss"] == pytest.approx(float(s.runs[0].history.train[-1]))
    assert 0 <= final["test_error"] <= 100 and final["test_loss"] > 0
    assert s.runs[0].snapshots[20] is not None and set(s.runs[0].snapshots) >= {0, 20}


def test_setting_changes_are_worded_for_any_field_and_for_blocks():
    old = {"eta": 0.001, "blocks": [linear(25), {"type": "ReLU"}, linear(2)], "momentum": 0.0}
    new = {"eta": 0.01, "blocks": [linear(25), {"type": "Tanh"}, linear(25), {"type": "Tanh"}, linear(2)],
           "momentum": 0.9}
    words = setting_changes(old, new)
    assert words[0] == "eta 0.01 (was 0.001)"
    assert "Tanh instead of ReLU" in words and "+ Linear 25" in words
    assert words[-1] == "momentum 0.9 (was 0)"  # a field this module never heard of
    assert block_changes([linear(25), {"type": "ReLU"}] * 3, [linear(25), {"type": "Tanh"}] * 3) == \
        ["Tanh instead of ReLU (×3)"]
    assert block_changes([linear(25), linear(2)], [linear(2)]) == ["- Linear 25"]
    assert [name_for(i) for i in (0, 25, 26, 27)] == ["A", "Z", "AA", "AB"]


def test_runs_with_the_same_seed_and_network_start_alike_and_see_the_same_batches():
    s = small(epochs=15)
    s.run()
    s.reset()
    s.edit(eta=0.004)  # only eta differs
    s.run()
    a, b = s.runs
    assert b.diff == "eta 0.004 (was 0.001)"
    assert torch.equal(a.snapshots[0], b.snapshots[0])  # identical initial weights
    # Identical batches: replaying B's schedule from A's initial weights, in order, gives B's losses.
    model = minidl.architecture.build(s.experiment.blocks, 2, generator=torch.Generator().manual_seed(0))
    model.setLoss(minidl.MSE())
    losses = model.train(s.data.X_train, s.data.y_train, 15, 10, minidl.SGD(0.004))
    np.testing.assert_array_equal(b.history.train, np.asarray(losses, np.float32))
    assert not np.array_equal(a.history.train, b.history.train)


def test_an_eta_changed_during_a_run_is_recorded_at_the_epoch_it_took_effect(monkeypatch):
    s = small(epochs=400)
    edits = edit_once_during_run(s, monkeypatch, 390, eta=0.003)
    s.run()
    assert edits, "no progress message arrived during the run"
    [(first, a), (changed, b)] = s.schedule
    assert (first, a["eta"]) == (1, 0.001) and b["eta"] == 0.003
    assert changed == edits[0] + 1 or changed > edits[0]  # the next epoch the worker started
    assert s.runs[0].diff == f"eta 0.003 from epoch {changed}"
    model = minidl.architecture.build(s.experiment.blocks, 2, generator=torch.Generator().manual_seed(0))
    model.setLoss(minidl.MSE())
    replay = model.train(s.data.X_train, s.data.y_train, changed - 1, 10, minidl.SGD(0.001))
    replay += model.train(s.data.X_train, s.data.y_train, 400 - changed + 1, 10, minidl.SGD(0.003))
    np.testing.assert_array_equal(s.history.train, np.asarray(replay, np.float32))
    s.run()  # a Continue at 0.003: no difference from how A ended
    assert s.runs[1].diff == "continues A"


def test_the_exported_script_reproduces_a_run_with_a_live_eta_change_and_a_fork(tmp_path, monkeypatch):
    s = small(epochs=300, noise=0.05, dataset="XOR", seed=7)
    edit_once_during_run(s, monkeypatch, 250, eta=0.01)
    s.run()
    s.edit(eta=0.002, batch_size=25)
    s.seek(280)
    s.fork()
    assert len(s.schedule) == 3 and s.schedule[-1][0] == s.runs[-1].start_epoch + 1
    text = script(s.run_settings(), s.schedule, s.history.epochs, "run B")
    printed = run_script(text, tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]
    values = s.data.evaluate(s.model)
    assert printed["train error"] == f"{values['train_error']:.2f} %"
    assert printed["test error"] == f"{values['test_error']:.2f} %"


def test_segments_merge_equal_neighbours_and_stop_at_the_last_epoch():
    schedule = [(1, {"eta": 0.1, "batch_size": 10}), (5, {"eta": 0.1, "batch_size": 10}),
                (8, {"eta": 0.2, "batch_size": 10}), (30, {"eta": 0.3, "batch_size": 10})]
    assert [(p["first"], p["count"], p["eta"], p["batch_size"]) for p in segments(schedule, 20)] == \
        [(1, 7, 0.1, 10), (8, 13, 0.2, 10)]
    with pytest.raises(ValueError, match="future_setting"):
        script({**Experiment().__dict__, "future_setting": 1}, None, 5)
    with pytest.raises(ValueError, match="press Run"):
        script(Experiment().__dict__, None, 0)


def test_delete_asks_nothing_and_undo_brings_the_run_back():
    s = small()
    s.run()
    s.reset()
    s.run()
    s.compare(["A", "B"])
    s.delete_run("A")
    assert [r.name for r in s.runs] == ["B"] and s.run_book.ticked == ["B"]
    assert s.undo_delete_run()
    assert [r.name for r in s.runs] == ["A", "B"] and s.run_book.ticked == ["A", "B"]
    with pytest.raises(KeyError, match="no run named 'Q'"):
        s.compare(["Q"])
    s.run()  # a third run is named C, never a deleted name again
    assert s.runs[-1].name == "C"


def test_memory_stays_bounded_for_20_runs_of_2000_epochs():
    s = small(n_train=20, n_test=20, batch_size=20, epochs=2000)
    for _ in range(20):
        s.reset()
        s.run()
    assert len(s.runs) == 20 and all(r.epochs == 2000 for r in s.runs)
    assert all(len(r.snapshots) <= RUN_SNAPSHOTS for r in s.runs)
    snapshot = s.timeline.size * 4
    # each run: its history (2,000 float32) plus at most 64 snapshots of 1,427 numbers
    bound = 20 * (2000 * 4 + 2000 * 12 + RUN_SNAPSHOTS * snapshot)
    assert s.run_book.nbytes <= bound, (s.run_book.nbytes, bound)
    assert s.run_book.nbytes < 10 << 20


def test_the_runs_model_the_script_writer_and_the_training_process_import_no_qt():
    probe = ("import sys\nimport gui.model.runs, gui.files.runs_file, gui.files.script, gui.model.session_runs\n"
             "import gui.training.process, gui.training.child\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'pyqtgraph', 'shiboken6'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_script_reproduces_a_three_class_spiral(tmp_path):
    blocks = [linear(16), {"type": "Tanh"}, linear(3), {"type": "Tanh"}]
    s = small(dataset="Spiral", classes=3, blocks=blocks, epochs=40, eta=0.01)
    assert s.run() and s.history.epochs == 40
    printed = run_script(script(s.run_settings(), s.schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]
