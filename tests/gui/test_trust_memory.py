"""One memory budget for every weight snapshot the session holds (its timeline, the timeline's pins,
every kept run's and what Undo can bring back), and opening a file without copying it many times.

Snapshot bytes are counted from the tensors themselves (distinct storages), not from the process's
memory, with small budgets and a 2-256-256-2 network (268 kB a snapshot) so that the tests stay fast;
opening a file is measured by the peak resident memory of a child process.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from session_helpers import InlineRun

import minidl
from gui.files import experiment_file, runs_file
from gui.model import timeline as timeline_module
from gui.model.experiment import Experiment, linear
from gui.model.history import History
from gui.model.runs import Run, settings_of
from gui.model.session import Session
from gui.model.snapshot_budget import run_note
from gui.model.timeline import Timeline

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 2 << 20  # about 7 snapshots of the 2-256-256-2 network
WIDE = [linear(256), {"type": "ReLU"}, linear(256), {"type": "ReLU"}, linear(2)]


def wide_session(**changes) -> Session:
    settings = {"blocks": WIDE, "n_train": 20, "n_test": 20, "batch_size": 20, "epochs": 1, **changes}
    return Session(Experiment(**settings), runner=InlineRun)


def held(s: Session) -> int:
    """Bytes of every weight snapshot ``s`` holds, each storage once: its timeline, the timeline a Reset
    can bring back, every kept run's and every deleted run's that Undo can bring back."""
    tensors = [s.timeline.flat(e) for e in s.snapshot_epochs()]
    if s._undo is not None and s._undo.timeline is not None:
        tensors += [s._undo.timeline.flat(e) for e in s._undo.timeline.epochs()]
    for run in s.runs + [deleted[2] for deleted in s.run_book._deleted]:
        tensors += list(run.snapshots.values())
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())


@pytest.fixture
def budget(monkeypatch):
    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", BUDGET)
    return BUDGET


def test_ten_one_epoch_runs_of_a_wide_network_with_reset_stay_within_the_budget(budget):
    s = wide_session()
    for _ in range(10):
        s.reset()
        s.run()
        assert held(s) <= budget, held(s)
        assert s.snapshot_bytes() == held(s)
    assert len(s.runs) == 10 and all(r.epochs == 1 for r in s.runs)
    # the newest runs keep their last weights, the oldest none, and each says so
    assert s.runs[-1].snapshots and not s.runs[0].snapshots
    assert "no snapshots kept" in run_note(s.runs[0])
    assert s.timeline.nearest(s.history.epochs) == s.history.epochs  # the live timeline keeps its head


def test_undoing_a_reset_whose_snapshots_were_given_up_brings_the_weights_back(monkeypatch):
    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", 300_000)  # one snapshot of this network
    s = wide_session(epochs=3)
    s.run()
    trained = [p.clone() for p in s.model.parameters()]
    s.reset()
    assert held(s) <= 300_000  # the Reset's timeline gave up every snapshot: the fresh weights' is the one held
    assert s.undo_reset()
    assert s.history.epochs == 3 and s.snapshot_epochs()[-1] == 3
    assert all(torch.equal(a, b) for a, b in zip(trained, s.model.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(trained, s.parameters_at(3), strict=True))


def test_pins_count_against_the_budget(budget):
    """Every run's end pins a snapshot: twenty one-epoch Continues pin twenty-one of them."""
    s = wide_session()
    for _ in range(20):
        s.run()
        assert held(s) <= budget, held(s)
    assert s.history.epochs == 20
    assert s.timeline.nbytes <= budget // 2 and s.snapshot_epochs()[-1] == 20


def test_a_timeline_gives_up_its_oldest_pins_first_and_never_its_newest_snapshot():
    t = Timeline([(10,)], limit=10 * 4 * 5)
    for epoch in range(12):
        t.add(epoch, torch.full((10,), float(epoch)), pinned=True)
    assert t.nbytes <= 200 and len(t) == 5 and t.epochs()[-1] == 11
    alone = Timeline([(10,)], limit=1)  # not even one snapshot fits: the newest stays all the same
    alone.add(0, torch.zeros(10), pinned=True)
    alone.add(1, torch.ones(10))
    assert alone.epochs() == [1]


def test_a_file_whose_timeline_is_over_the_budget_is_thinned_when_opened(tmp_path, monkeypatch):
    s = wide_session(epochs=30)
    s.run()
    assert len(s.snapshot_epochs()) == 31  # 8 MB at the default budget
    path = tmp_path / "wide.mdl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline)
    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", BUDGET)
    loaded = experiment_file.load(path)
    assert loaded.timeline.nbytes <= BUDGET // 2
    assert loaded.timeline.epochs()[-1] == 30 and torch.equal(loaded.timeline.flat(30), s.timeline.flat(30))
    assert not any(k.startswith("timeline.") for k in loaded.tensors)  # the file's copy is not held on to
    opened = Session(runner=InlineRun)
    opened.replace(loaded.experiment, loaded.model, loaded.history, loaded.timeline)
    assert held(opened) <= BUDGET


def test_a_branch_from_a_snapshot_given_up_says_so(monkeypatch):
    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", 300_000)  # one snapshot of this network
    s = wide_session(epochs=3)
    s.run()
    assert s.snapshot_epochs() == [3]
    said = []
    s.events.connect("status", said.append)
    assert not s.resume_from(1)
    assert said and "no weights at or before epoch 1" in said[-1]
    assert s.history.epochs == 3


def test_a_wide_run_keeps_only_its_last_snapshot_and_the_runs_table_says_so(budget, qtbot):
    from gui.qt.runs.runs_view import RunsPanel, row_texts

    s = wide_session(epochs=3)
    for _ in range(8):
        s.reset()
        s.run()
    panel = RunsPanel(s)
    qtbot.addWidget(panel)
    first, last = s.runs[0], s.runs[-1]
    assert not first.snapshots and list(last.snapshots) == [3]
    assert "no snapshots kept: too large" in row_texts(first)[1]
    assert "last snapshot only: too large" in row_texts(last)[1]
    assert "memory" in panel.table.item(0, 1).toolTip()
    s.compare(["A"])
    texts = [item.text for item in panel.compare_view.ci.items if hasattr(item, "text")]
    assert any("no snapshots kept" in text for text in texts), texts


def make_long_file(path: Path, epochs: int) -> None:
    """An experiment file with a long history, kept twice as files keep it: the session's and its run's."""
    e = Experiment()
    tests = np.arange(1, epochs + 1, 100, dtype=np.int64)
    history = History(np.linspace(1.0, 0.1, epochs, dtype=np.float32), tests,
                      np.linspace(1.0, 0.2, len(tests), dtype=np.float32))
    run = Run("A", settings_of(e), history, state="completed", schedule=[(1, {"eta": e.eta, "batch_size": 100})])
    metadata, tensors = runs_file.to_file([run], run, run.schedule)
    experiment_file.save(path, e, e.build_model(), history, extra_metadata=metadata, extra_tensors=tensors)


# The peak resident memory of the probe's own process: VmHWM, which Linux resets when told to
# (/proc/self/clear_refs), so that importing torch does not hide the peak of opening the file. (The
# probe's ru_maxrss would not do: Linux carries it over from the parent, pytest, through fork and exec.)
PEAK_PROBE = textwrap.dedent("""
    import sys
    from gui.files import experiment_file as experiment, runs_file
    def opened(path):  # as File > Open reads it (gui/qt/window/file_menu.py)
        loaded = experiment.load(path)
        return loaded, runs_file.from_file(loaded.metadata, loaded.tensors)
    opened(sys.argv[2])  # every import and first allocation happen here, on a small file
    def kilobytes(field):
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := VmRSS
    before = kilobytes("VmRSS")
    loaded, (runs, _, _) = opened(sys.argv[1])
    print((kilobytes("VmHWM") - before) * 1024, loaded.history.epochs, runs[0].epochs)
""")



@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="reads the peak resident memory from /proc")
def test_opening_a_long_history_peaks_below_twice_the_file_size(tmp_path):
    big, small = tmp_path / "long.mdl", tmp_path / "short.mdl"
    make_long_file(big, 5_000_000)
    make_long_file(small, 1000)
    size = big.stat().st_size  # 41 MB
    done = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(big), str(small)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    peak, epochs, run_epochs = (int(x) for x in done.stdout.split())
    assert epochs == run_epochs == 5_000_000
    assert peak < 2 * size, (peak / 1e6, size / 1e6)


def test_a_file_whose_tensors_overlap_is_refused_before_its_tensors_are_read(tmp_path):
    """Each tensor is read into memory of its own, in the file's order: they must tile its body."""
    layers = json.dumps([{"type": "Linear", "width": 3}])
    header = {"__metadata__": {"format": "minidl", "version": "1", "in_features": "2", "layers": layers},
              "linear0.weight": {"dtype": "F32", "shape": [3, 2], "data_offsets": [0, 24]},
              "linear0.bias": {"dtype": "F32", "shape": [3], "data_offsets": [12, 24]}}
    text = json.dumps(header).encode()
    path = tmp_path / "overlap.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + bytes(24))
    with pytest.raises(ValueError, match="overlap.safetensors is not a minidl model file: its tensors overlap"):
        minidl.load(path)
