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
from gui.model import runs as runs_module
from gui.model import timeline as timeline_module
from gui.model.experiment import Experiment, linear
from gui.model.history import History
from gui.model.runs import RUN_SNAPSHOTS, Run, pick_snapshots, settings_of
from gui.model.session import Session
from gui.model.snapshot_budget import run_note
from gui.model.timeline import Timeline
from minidl import architecture

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 2 << 20  # about 7 snapshots of the 2-256-256-2 network
WIDE = [linear(256), {"type": "ReLU"}, linear(256), {"type": "ReLU"}, linear(2)]
WIDE_SIZE = architecture.check(WIDE, 2)  # 67,074 parameters


def wide_session(**changes) -> Session:
    settings = {"blocks": WIDE, "n_train": 20, "n_test": 20, "batch_size": 20, "epochs": 1, **changes}
    return Session(Experiment(**settings), runner=InlineRun)


def held(s: Session) -> int:
    """Bytes of every weight snapshot ``s`` holds, each storage once: its timeline, the timeline a Reset
    can bring back, every kept run's and every deleted run's that Undo can bring back."""
    tensors = [s.timeline.flat(e) for e in s.snapshot_epochs()]
    if s.undo_timeline is not None:
        tensors += [s.undo_timeline.flat(e) for e in s.undo_timeline.epochs()]
    for run in s.runs + s.run_book.deleted:
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



def peak_of_opening(big: Path, small: Path, timeout: int) -> tuple[int, int, int]:
    """PEAK_PROBE in a fresh process: the peak bytes of opening ``big`` (after ``small`` warmed it up), its
    history's epochs and its first run's."""
    done = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(big), str(small)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    peak, epochs, run_epochs = (int(x) for x in done.stdout.split())
    return peak, epochs, run_epochs


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="reads the peak resident memory from /proc")
def test_opening_a_long_history_peaks_below_twice_the_file_size(tmp_path):
    big, small = tmp_path / "long.mdl", tmp_path / "short.mdl"
    make_long_file(big, 5_000_000)
    make_long_file(small, 1000)
    size = big.stat().st_size  # 41 MB
    peak, epochs, run_epochs = peak_of_opening(big, small, timeout=120)
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


# -- a file's timeline: rows picked with tensor operations, never one Python object per row ---------
TINY = [linear(2)]  # 6 parameters: a million snapshots in 24 MB


def pinned_rows(rows: int, size: int) -> dict[str, torch.Tensor]:
    """A file's timeline of ``rows`` snapshots, every one pinned (as if paused at every epoch)."""
    return {"timeline.epochs": torch.arange(rows, dtype=torch.float64),
            "timeline.pinned": torch.ones(rows, dtype=torch.float64),
            "timeline.params": torch.arange(rows * size, dtype=torch.float32).reshape(rows, size) / rows}


def test_a_file_timeline_of_a_million_pinned_snapshots_keeps_a_bounded_number(monkeypatch):
    rows, shapes = 1_000_000, [(2, 2), (2,)]
    tensors = pinned_rows(rows, 6)
    kept = []
    put = Timeline._put
    monkeypatch.setattr(Timeline, "_put", lambda self, *args: (kept.append(args[0]), put(self, *args))[1])
    t = Timeline.from_tensors(shapes, tensors, rows - 1)
    # a bounded number of snapshots, and of Python-level steps to pick them: not one per row
    assert len(t) <= 2 * timeline_module.MAX_SNAPSHOTS and len(kept) <= 2 * timeline_module.MAX_SNAPSHOTS
    assert t.nbytes == 24 * len(t) <= t.limit
    assert t.epochs()[-1] == rows - 1 and min(t.pinned()) > rows - 2 * timeline_module.MAX_SNAPSHOTS  # oldest went
    for epoch in (t.epochs()[0], t.epochs()[-1]):  # the file's rows, each copied into memory of its own
        assert torch.equal(t.flat(epoch), tensors["timeline.params"][epoch])
        assert t.flat(epoch).untyped_storage().nbytes() == 24


def make_pinned_file(path: Path, rows: int) -> None:
    """An experiment file of a 6-parameter network whose timeline pins each of ``rows`` epochs."""
    e = Experiment(blocks=TINY)
    history = History(np.linspace(1.0, 0.1, rows, dtype=np.float32), np.zeros(0, dtype=np.int64),
                      np.zeros(0, dtype=np.float32))
    run = Run("A", settings_of(e), history, state="completed", schedule=[(1, {"eta": e.eta, "batch_size": 100})])
    metadata, tensors = runs_file.to_file([run], run, run.schedule)
    timeline = {k: v[1:] for k, v in pinned_rows(rows + 1, 6).items()}  # epochs 1 to rows
    experiment_file.save(path, e, e.build_model(), history, extra_metadata=metadata,
                         extra_tensors={**tensors, **timeline})


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="reads the peak resident memory from /proc")
def test_opening_a_file_that_pins_a_million_epochs_peaks_below_twice_its_size(tmp_path):
    big, small = tmp_path / "pinned.mdl", tmp_path / "few.mdl"
    make_pinned_file(big, 1_000_000)
    make_pinned_file(small, 1000)
    size = big.stat().st_size  # 44 MB
    peak, epochs, run_epochs = peak_of_opening(big, small, timeout=300)
    assert epochs == run_epochs == 1_000_000
    assert peak < 2 * size, (peak / 1e6, size / 1e6)


def test_a_timeline_full_of_regular_snapshots_keeps_room_for_pins():
    """A network whose snapshots fill the limit before MAX_SNAPSHOTS: each run's end pins its last
    epoch, and the pins of the earlier runs (epoch 0 among them) stay."""
    t = Timeline([(100,)], limit=100 * 4 * 50)  # 50 snapshots
    t.add(0, torch.zeros(100), pinned=True)
    for end in (1000, 2000, 3000, 4000):
        t.thin(t.stride_for(end))
        for epoch in range(end - 999, end + 1):
            if t.wanted(epoch) or epoch == end:
                t.add(epoch, torch.full((100,), float(epoch)), pinned=epoch == end)
    assert t.nbytes <= t.limit
    assert t.pinned() == [0, 1000, 2000, 3000, 4000]


def fake_run(name: str, snapshots: dict) -> Run:
    return Run(name, {}, History(), state="completed", snapshots=dict(snapshots))


def test_the_budget_frees_a_snapshot_with_every_holder_and_never_strips_a_run_for_nothing(monkeypatch):
    """Run A's last snapshot is the tensor the Reset's timeline holds last: giving it up from A alone
    frees nothing, so both let go of it together, and run B keeps its own."""
    from gui.model.snapshot_budget import fit, held_bytes

    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", 10_000)  # beside a 4,000-byte live timeline: 6,000
    live, undo = Timeline([(1000,)], limit=4000), Timeline([(1000,)])
    u0, u1, b = torch.zeros(1000), torch.ones(1000), torch.full((1000,), 2.0)  # 4,000 bytes each
    undo.add(0, u0, pinned=True)
    undo.add(1, u1, pinned=True)
    a, b_run = fake_run("A", {1: u1}), fake_run("B", {1: b})
    fit(live, undo, [a, b_run], [])
    assert b_run.snapshots == {1: b} and not b_run.trimmed
    assert a.snapshots == {} and a.trimmed and undo.epochs() == []
    assert held_bytes([*b_run.snapshots.values()]) == 4000


def test_a_reset_after_open_gives_up_the_weights_its_network_keeps_before_a_runs_last(tmp_path, monkeypatch):
    """The Reset's newest snapshot is the network Undo brings back, which keeps those weights itself:
    it goes before a kept run's last snapshot (here a copy read from the file)."""
    s = wide_session()
    s.run()
    path = tmp_path / "wide.mdl"
    metadata, tensors = runs_file.to_file(s.runs, s.current_run, s.schedule)
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, extra_metadata=metadata,
                         extra_tensors=tensors)
    snapshot = 4 * s.timeline.size
    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", 3 * snapshot)  # the kept runs' share: 1.5 of them
    loaded = experiment_file.load(path)
    opened = Session(runner=InlineRun)
    opened.replace(loaded.experiment, loaded.model, loaded.history, loaded.timeline)
    opened.adopt_runs(*runs_file.from_file(loaded.metadata, loaded.tensors))
    trained = [p.clone() for p in opened.model.parameters()]
    assert list(opened.runs[0].snapshots) == [1]
    opened.reset()
    assert list(opened.runs[0].snapshots) == [1] and held(opened) <= 3 * snapshot
    assert opened.undo_reset()
    assert all(torch.equal(x, y) for x, y in zip(trained, opened.model.parameters(), strict=True))


def wide_run_file(count: int) -> tuple[dict, dict]:
    """A runs section whose run A keeps ``count`` snapshots of the 2-256-256-2 network."""
    s = wide_session(epochs=count)
    s.run()
    run = s.runs[0]
    run.snapshots = {e: s.timeline.flat(e) for e in range(1, count + 1)}
    return runs_file.to_file([run], run, s.schedule)


def test_a_file_run_with_more_snapshots_than_a_run_keeps_is_refused_with_a_sentence():
    metadata, tensors = wide_run_file(RUN_SNAPSHOTS + 1)
    with pytest.raises(ValueError, match=f"run A keeps {RUN_SNAPSHOTS + 1} weight snapshots; a run keeps at most "
                                         f"{RUN_SNAPSHOTS}"):
        runs_file.from_file(metadata, tensors)


def test_a_file_runs_snapshots_are_copied_only_as_many_as_a_run_and_the_budget_keep(monkeypatch):
    metadata, tensors = wide_run_file(10)
    monkeypatch.setattr(runs_module, "RUN_BYTES", 3 * 4 * WIDE_SIZE)  # a run of this network keeps three
    runs, schedule, current = runs_file.from_file(metadata, tensors)
    run, read = runs[0], tensors["run.0.params"].untyped_storage().data_ptr()
    assert sorted(run.snapshots) == pick_snapshots(list(range(1, 11)), WIDE_SIZE) == [1, 5, 10] and run.trimmed
    assert all(flat.untyped_storage().data_ptr() == read for flat in run.snapshots.values())  # none copied yet
    monkeypatch.setattr(timeline_module, "SNAPSHOT_BUDGET", 3 * 4 * WIDE_SIZE)  # the runs' share: 1.5 snapshots
    s = wide_session()
    s.adopt_runs(runs, schedule, current)
    assert list(run.snapshots) == [10] and torch.equal(run.snapshots[10], tensors["run.0.params"][9])
    assert run.snapshots[10].untyped_storage().nbytes() == 4 * WIDE_SIZE  # a copy of the one kept only
    assert held(s) <= 3 * 4 * WIDE_SIZE


def test_a_runs_trimmed_note_survives_save_and_open():
    metadata, tensors = wide_run_file(2)
    runs, _, _ = runs_file.from_file(metadata, tensors)
    assert runs[0].trimmed is False and runs[0].state == "completed"
    runs[0].trimmed = True
    runs, _, _ = runs_file.from_file(*runs_file.to_file(runs, runs[0], None))
    assert runs[0].trimmed is True and runs[0].state == "completed"
    assert run_note(runs[0]) == "2 snapshots kept"
    raw = json.loads(metadata["runs"])
    del raw["runs"][0]["trimmed"]  # a file written before runs said so opens, not trimmed
    assert runs_file.from_file({"runs": json.dumps(raw)}, wide_run_file(2)[1])[0][0].trimmed is False
    raw["runs"][0]["trimmed"] = "yes"
    with pytest.raises(ValueError, match="run A's note that it kept fewer snapshots must be true or false"):
        runs_file.from_file({"runs": json.dumps(raw)}, wide_run_file(2)[1])


def greedy_fit(epochs: list[int], pinned: set[int], keep: int) -> list[int]:
    """The rule :meth:`Timeline._fit` follows, one snapshot at a time: the oldest pin, else the snapshot
    whose neighbours lie closest together (the earlier on a tie), never the newest."""
    epochs = list(epochs)
    while len(epochs) > max(1, keep):
        pins = [e for e in epochs[:-1] if e in pinned]
        if pins:
            epochs.remove(pins[0])
            continue
        gaps = [(epochs[i + 1] - (epochs[i - 1] if i else -float("inf")), e) for i, e in enumerate(epochs[:-1])]
        epochs.remove(min(gaps)[1])
    return epochs


@pytest.mark.parametrize("seed", range(20))
def test_a_timeline_gives_up_what_the_one_at_a_time_rule_gives_up(seed):
    """The snapshots a timeline over its limit gives up are chosen in one pass, as the rule would one by one."""
    rng = np.random.default_rng(seed)
    epochs = sorted(set(rng.integers(0, 400, int(rng.integers(2, 120))).tolist()))
    pinned = {e for e in epochs if rng.random() < 0.1}
    t = Timeline([(3,)], limit=10**6)
    for e in epochs:
        t.add(e, torch.full((3,), float(e)), pinned=e in pinned)
    keep = int(rng.integers(0, len(epochs) + 2))
    t.limit = 12 * keep  # then one more snapshot: the timeline fits itself to the new limit
    t.add(400, torch.full((3,), 400.0))
    assert t.epochs() == greedy_fit([*epochs, 400], pinned, keep)
    assert t.nbytes == 12 * len(t) and set(t.pinned()) <= pinned
