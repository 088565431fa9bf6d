"""Runs on your own points: a run's settings hold their count and hash, the points travel once per
run outside the file's JSON header, and export as Python still embeds the points the run trained on."""

from __future__ import annotations

import json

import numpy as np
import torch
from session_helpers import run_script, small

from gui.files import experiment_file
from gui.files.runs_file import from_file, to_file
from gui.model.runs import kept_settings, points_summary, setting_changes
from gui.qt.window.exports import script_text
from minidl.io import MAX_HEADER_BYTES


def drawn(n: int, seed: int = 0) -> list[list]:
    xy = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed)).tolist()
    return [[x, y, int(x + y > 1), 0] for x, y in xy]


def test_three_runs_on_40k_drawn_points_save_and_open(tmp_path):
    points = drawn(40_000)
    s = small(dataset="Custom", points=points, batch_size=2000, epochs=1)
    assert not s.validate() and s.run()
    s.edit(points=[*points, [0.5, 0.9, 1, 0]])
    assert s.run()
    s.run()
    assert [r.settings["points"]["count"] for r in s.runs] == [40_000, 40_001, 40_001]
    assert s.runs[1].diff.endswith("40001 points (was 40000)") and "[" not in s.runs[1].diff
    assert s.runs[1].points is s.runs[2].points  # shared with the experiment, never copied
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    assert len(metadata["runs"]) < 20_000 < MAX_HEADER_BYTES  # was 5.8 MB: three copies of the points
    assert {k for k in tensors if k.endswith(".points")} == {"run.0.points", "run.1.points"}  # B and C share one
    path = tmp_path / "many.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=metadata, extra_tensors=tensors)
    loaded = experiment_file.load(path)
    runs, _, current = from_file(loaded.metadata, loaded.tensors)
    assert current == "C" and [r.diff for r in runs] == [r.diff for r in s.runs]
    assert runs[0].points == points and runs[2].points == s.experiment.points
    assert [r.settings["points"] for r in runs] == [r.settings["points"] for r in s.runs]


def test_what_differs_counts_the_points_and_a_damaged_count_is_refused():
    a, b = drawn(40), drawn(41)
    assert setting_changes({"points": points_summary(a)}, {"points": points_summary(b)}) == ["41 points (was 40)"]
    assert setting_changes({"points": points_summary(a)}, {"points": points_summary(drawn(40, 1))}) == \
        ["40 points (others)"]
    assert setting_changes({"points": points_summary(a)}, {"points": points_summary(list(a))}) == []
    s = small(dataset="Custom", points=a, epochs=2, batch_size=10)
    s.run()
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    raw = json.loads(metadata["runs"])
    raw["runs"][0]["settings"]["points"]["count"] = 39
    try:
        from_file({"runs": json.dumps(raw)}, tensors)
    except ValueError as error:
        assert str(error) == "run A's 39 points are missing from the file or do not match their count"
    else:
        raise AssertionError("a wrong count was taken")


def test_a_kept_run_exports_the_points_it_trained_on_after_they_changed(tmp_path):
    s = small(dataset="Custom", points=drawn(60), epochs=8, batch_size=10, eta=0.01)
    assert s.run()
    s.edit(points=drawn(80, 2))  # drawn anew after run A: its script must hold A's 60 points
    assert s.run()
    text = script_text(s, "A")
    assert "your own 60 points" in text
    printed = run_script(text, tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.runs[0].history.train[-1]
    assert "your own 80 points" in script_text(s)


def test_progress_does_not_remake_the_run_settings(monkeypatch):
    from gui.model import runs, session_runs

    s = small(dataset="Custom", points=drawn(100_000), epochs=1, batch_size=5000)
    s.run()
    run, settings = s.runs[0], s.runs[0].settings
    run.state = "running"  # as during the run: each Progress message's etas go to the recorder
    made = []  # settings made again: each would copy the 100,000 points (3.6 ms a message)
    monkeypatch.setattr(session_runs, "settings_of", lambda e: made.append(e) or runs.settings_of(e))
    monkeypatch.setattr(runs, "kept_settings", lambda v: made.append(v) or kept_settings(v))
    for _ in range(100):
        s.recorder.take_etas([])
    assert made == []
    assert run.settings is settings
