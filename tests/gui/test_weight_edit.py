"""A weight or a bias set by hand (gui/model/hand_edits.py): at once while idle (undoable), at the next epoch
boundary in a live run (in a thread and in the training process), recorded for the runs table and replayed
by the exported script."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from gui_helpers import run_to_end, small_data
from session_helpers import once_during_run, run_script, small

from gui.files.script import script
from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.qt import runner as worker
from gui.training.job import TrainerConfig


def test_an_idle_edit_is_made_at_once_recorded_and_undone():
    s = small()
    s.run()
    epoch, before = s.history.epochs, s.model.parameters()[2][0, 3].item()
    s.set_weight(1, 0, 3, 0.75)
    assert s.model.parameters()[2][0, 3].item() == 0.75
    assert s.parameters_at(epoch)[2][0, 3].item() == 0.75  # the timeline's snapshot at the current epoch
    assert "weight edited by hand after epoch 6" in s.runs[-1].diff
    assert s.schedule[-1][0] == epoch + 1 and s.schedule[-1][1]["edits"] == [[1, 0, 3, 0.75]]
    assert s.can_undo
    assert s.undo()
    assert s.model.parameters()[2][0, 3].item() == before
    assert s.parameters_at(epoch)[2][0, 3].item() == before
    assert "edited by hand" not in s.runs[-1].diff and "edits" not in s.schedule[-1][1]
    s.set_bias(2, 1, -1.5)
    assert s.model.parameters()[5][1].item() == -1.5


@pytest.mark.parametrize("call, pattern", [
    (lambda s: s.set_weight(4, 0, 0, 1.0), "no Linear layer 4"),
    (lambda s: s.set_weight(0, 25, 0, 1.0), "units 0 to 24"),
    (lambda s: s.set_weight(0, 0, 2, 1.0), "inputs 0 to 1"),
    (lambda s: s.set_weight(0, 0, -1, 1.0), "inputs 0 to 1"),
    (lambda s: s.set_bias(3, 2, 1.0), "units 0 to 1"),
    (lambda s: s.set_weight(0, 0, 0, math.nan), "finite number"),
    (lambda s: s.set_bias(0, 0, math.inf), "finite number"),
    (lambda s: s.set_weight(0, 0.5, 0, 1.0), "whole number"),
])
def test_bad_indices_and_values_are_refused_with_a_sentence(call, pattern):
    s = small()
    flat = s.timeline.flat(0).clone()
    with pytest.raises(ValueError, match=pattern):
        call(s)
    assert torch.equal(s.timeline.flat(0), flat) and not s.can_undo


def edit_during_run(s: Session, before: int, **edit) -> list[int]:
    """Set a weight once, from the first progress message before epoch ``before``; returns [epoch it was sent at]."""
    return once_during_run(s, before, lambda: s.set_weight(**edit))


def test_a_live_edit_lands_at_the_next_epoch_and_the_script_replays_it(tmp_path):
    s = small(epochs=12)
    sent = edit_during_run(s, 5, layer=0, out=3, in_=1, value=2.5)
    s.run()
    landed = [first for first, values in s.schedule if values.get("edits")]
    assert len(landed) == 1 and landed[0] == sent[0] + 1  # the inline run sends after each epoch
    assert s.schedule[-1][1]["edits"] == [[0, 3, 1, 2.5]]
    # The snapshot before the landing epoch does not hold it; every later one starts from it.
    assert s.parameters_at(sent[0])[0][3, 1].item() != 2.5
    assert "weight edited by hand before epoch" in s.runs[-1].diff
    printed = run_script(script(s.run_settings(), s.schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]
    # Without the edit the run differs: the script did replay it.
    plain = small(epochs=12)
    plain.run()
    assert plain.history.train[-1] != s.history.train[-1]


def test_a_continue_after_an_idle_edit_is_replayed_by_the_script(tmp_path):
    s = small(optimizer="SGD + momentum", momentum=0.9)
    s.run()
    s.set_bias(0, 4, 0.3)
    s.set_weight(2, 1, 7, -0.8)
    s.run()
    assert s.history.epochs == 12 and "2 weights edited by hand before epoch 7" in s.runs[-1].diff
    printed = run_script(script(s.run_settings(), s.schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]


def trained_with_edit(runner) -> Session:
    """A long run, edited after its fifth epoch and stopped once the edit has landed."""
    from PySide6.QtWidgets import QApplication

    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=100_000), runner=runner)
    s.trainer_config = TrainerConfig(progress_hz=1e6)
    ended = []
    s.events.connect("finished", lambda reason, _text: ended.append(reason))
    s.events.connect("progress", lambda m: s.set_weight(1, 2, 2, 1.25)
                     if m.first_epoch > 5 and s.state == "running" and not sent else None)
    s.events.connect("progress", lambda m: sent.append(True) if m.first_epoch > 5 else None)
    sent: list = []
    s.run()
    while not ended:
        QApplication.processEvents()
        if s.state == "running" and any(v.get("edits") for _, v in s.schedule):
            s.stop()
    assert ended == ["stopped"]
    return s


@pytest.mark.parametrize("runner", [worker.QtRun, worker.start], ids=["thread", "process"])
def test_a_live_edit_reaches_the_run_and_its_epoch_comes_back(qtbot, runner, tmp_path):
    s = trained_with_edit(runner)
    landed = [(first, values["edits"]) for first, values in s.schedule if values.get("edits")]
    assert len(landed) == 1 and 6 < landed[0][0] <= s.history.epochs + 1 and landed[0][1] == [[1, 2, 2, 1.25]]
    epoch = landed[0][0]
    if epoch - 1 in s.snapshot_epochs():
        assert s.parameters_at(epoch - 1)[2][2, 2].item() != 1.25
    printed = run_script(script(s.run_settings(), s.schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]


def test_an_edit_sent_to_a_run_that_stops_first_is_made_when_it_ends():
    s = small()
    s.run()
    s.state = "running"  # as if a run were live: the edit waits for its next epoch
    s._job = None  # no run to take it (_command sends nothing)
    s.hand_edits.edit(0, 1, 0, 0.5)
    assert s.model.parameters()[0][1, 0].item() != 0.5
    s.state = "finished"
    s.hand_edits.run_ended()
    assert s.model.parameters()[0][1, 0].item() == 0.5 and s.schedule[-1][1]["edits"] == [[0, 1, 0, 0.5]]


def test_the_network_view_edits_a_weight_and_a_bias(qtbot, window):
    s = window.session
    small_data(window)
    assert run_to_end(qtbot, window, 3) == "completed"
    view = window.network_view
    view.set_weight(0, 2, 1, 0.625)
    assert s.model.parameters()[0][2, 1].item() == 0.625
    assert s.parameters_at(s.history.epochs)[0][2, 1].item() == 0.625
    assert "weight edited by hand" in s.runs[-1].diff
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert s.model.parameters()[0][2, 1].item() != 0.625
    with pytest.raises(ValueError, match="finite"):
        view.set_bias(0, 0, math.nan)
    # The editor: opened on a link as a click does, with the exact value; Enter applies, Esc cancels.
    layer, rows, cols, _, _ = view.links
    link = (int(layer[0]), int(rows[0]), int(cols[0]))
    value = s.model.parameters()[2 * link[0]][link[1], link[2]].item()
    view.edit_weight(*link)
    editor = view.editor
    assert editor.isVisible() and float(editor.text()) == value
    window.grab().save(str(_png("weight_editor.png")))
    editor.setText("-0.5")
    qtbot.keyClick(editor, "\r")
    assert not editor.isVisible() and s.model.parameters()[2 * link[0]][link[1], link[2]].item() == -0.5
    view.edit_bias(1, 4)
    editor.setText("not a number")
    assert not editor.apply() and editor.isVisible()
    qtbot.keyClick(editor, "\x1b")
    assert not editor.isVisible()
    assert "Double-click: edit its bias" in view.tooltip_at(2, 0)


def _png(name: str):
    from pathlib import Path

    return Path("/tmp") / name


def test_a_link_is_found_where_it_is_drawn(qtbot, window):
    small_data(window)
    assert run_to_end(qtbot, window, 2) == "completed"
    view = window.network_view
    view.resize(500, 400)
    view.repaint()
    layer, rows, cols, _, _ = view.links
    x1, y1, x2, y2 = view._link_ends(*view._geometry())
    from PySide6.QtCore import QPointF

    hit = view.link_at(QPointF((x1[-1] + x2[-1]) / 2, (y1[-1] + y2[-1]) / 2))
    assert hit is not None
    assert view.link_at(QPointF(1, 1)) is None


def test_a_file_keeps_the_edits_and_its_script_replays_them_and_a_damaged_record_is_refused(tmp_path):
    import json

    from gui.files import runs_file

    s = small(optimizer="SGD + momentum", momentum=0.9)
    s.run()
    s.set_weight(1, 3, 4, 0.75)
    s.run()
    metadata, tensors = runs_file.to_file(s.runs, s.current_run, s.schedule, s.run_book.ticked)
    runs, schedule, _current = runs_file.from_file(metadata, tensors)
    assert schedule == s.schedule  # the edit, read back
    printed = run_script(script(s.run_settings(), schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]
    raw = json.loads(metadata["runs"])
    entry = next(values for _first, values in raw["schedule"] if "edits" in values)
    for bad in ([[1, 3, 4, float("nan")]], [[1, 3, "x", 0.5]], [[1, 3, 4, 0.5]] * 10_001, "edits"):
        entry["edits"] = bad
        with pytest.raises(ValueError, match="damaged"):
            runs_file.from_file({**metadata, "runs": json.dumps(raw)}, tensors)
    with pytest.raises(ValueError, match="Linear layer 1 has units"):  # an index the network lacks
        script(s.run_settings(), [(first, {**values, "edits": [[1, 99, 4, 0.5]]} if values.get("edits") else values)
                                  for first, values in s.schedule], s.history.epochs)
