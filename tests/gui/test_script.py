"""Export as Python replays every setting exactly: losses, optimizers with their state, learning-rate
schedules, your own points, forks and stops. Each test trains a Qt-free session inline, exports the
script, runs it in a subprocess and compares the printed final loss with the session's as float32."""

from __future__ import annotations

import json

import numpy as np
import pytest
import session_helpers
import torch
from session_helpers import InlineRun, edit_once_during_run, run_script

import minidl
from gui.files.script import script, segments
from gui.model.experiment import linear
from gui.model.session import Session

THREE_CLASSES = [linear(16), {"type": "ReLU"}, linear(3)]








def small(**changes) -> Session:
    return session_helpers.small(**{"epochs": 20, **changes})


def replayed(s: Session, tmp_path) -> dict[str, str]:
    """Run the session's script; assert its final loss and errors are the session's."""
    printed = run_script(script(s.run_settings(), s.schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]
    values = s.data.evaluate(s.model)
    assert printed["train error"] == f"{values['train_error']:.2f} %"
    assert printed["test error"] == f"{values['test_error']:.2f} %"
    return printed


def test_cross_entropy_and_adam_on_three_classes_with_a_continue_at_another_eta(tmp_path):
    s = small(dataset="Blobs", classes=3, blocks=THREE_CLASSES, loss="Cross-entropy", optimizer="Adam", eta=0.01,
              noise=0.1, seed=3)
    assert s.run()
    s.edit(eta=0.003)
    assert s.run()  # a Continue: Adam's moments carry over, as the script's one optimizer does
    assert [(first, v["fresh"]) for first, v in s.schedule] == [(1, True), (21, False)]
    replayed(s, tmp_path)


def test_a_fresh_adam_would_differ_so_the_state_really_carries_over():
    """The check above can fail: a Continue with a new Adam gives other losses than the session's."""
    s = small(dataset="Blobs", classes=3, blocks=THREE_CLASSES, loss="Cross-entropy", optimizer="Adam", eta=0.01)
    s.run()
    s.run()
    model = minidl.architecture.build(THREE_CLASSES, 2, generator=torch.Generator().manual_seed(0))
    model.setLoss(minidl.CrossEntropy())
    model.train(s.data.X_train, s.data.y_train, 20, 10, minidl.Adam(0.01))
    fresh = model.train(s.data.X_train, s.data.y_train, 20, 10, minidl.Adam(0.01))
    assert np.float32(fresh[-1]) != s.history.train[-1]


@pytest.mark.parametrize("schedule", ["Step decay", "Cosine"])
def test_momentum_weight_decay_and_a_schedule_with_an_eta_change_mid_run(tmp_path, schedule, monkeypatch):
    s = small(optimizer="SGD + momentum", momentum=0.8, weight_decay=0.01, schedule=schedule, epochs=300,
              dataset="XOR", noise=0.05, seed=5, eta=0.02)
    edits = edit_once_during_run(s, monkeypatch, 250, eta=0.05)
    assert s.run()
    assert edits and len(s.schedule) == 2 and s.schedule[1][1]["eta"] == 0.05
    # Step decay: Continue with 100 more epochs, halving every 25 (counted from epoch 1). Cosine reached
    # a step size of 0 at epoch 300, so it goes on to a total of 400, its curve then spanning 400 epochs.
    s.edit(epochs=100 if schedule == "Step decay" else 400)
    assert s.run() and s.history.epochs == 400
    parts = segments(s.schedule, s.history.epochs)
    assert [p["fresh"] for p in parts] == [True, False, False]
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "first_epoch=301" in text and "momentum=0.8" in text and "weight_decay=0.01" in text
    replayed(s, tmp_path)


def test_drawn_points_travel_inside_the_script(tmp_path):
    generator = torch.Generator().manual_seed(1)
    xy = torch.rand(60, 2, generator=generator).tolist()
    # class by the side of a line; a few rows with a fixed split (1 train, 2 test), the rest by ratio
    points = [[x, y, int(x + y > 1), (1 if i % 11 == 0 else 2 if i % 13 == 0 else 0)] for i, (x, y) in enumerate(xy)]
    s = small(dataset="Custom", points=points, test_ratio=0.25, epochs=30, eta=0.01)
    assert not s.validate() and s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "split(" not in text and "base64" in text  # standalone: the points are in it
    replayed(s, tmp_path)


def test_too_many_points_are_refused_with_a_sentence():
    points = [[0.0, 0.0, i % 2, 0] for i in range(100_001)]
    with pytest.raises(ValueError, match="100,001 points; a script embeds at most 100,000"):
        script({"dataset": "Custom", "points": points}, None, 5)


def test_a_fork_with_momentum_starts_its_state_afresh_in_both(tmp_path):
    s = small(optimizer="SGD + momentum", epochs=30, eta=0.01)
    s.run()
    original = s.history.train.copy()
    s.seek(12)
    assert s.fork()
    assert s.schedule[-1][0] == 13 and s.schedule[-1][1]["fresh"]
    assert not np.array_equal(s.history.train[12:], original[12:])  # the momentum restarted at the fork
    text = replayed(s, tmp_path)
    assert text["epochs 13 to 30"] == "eta 0.01, batch size 10"


def test_a_continue_after_a_stop_inside_an_epoch_starts_adam_afresh(tmp_path):
    s = small(optimizer="Adam", eta=0.01)

    def runner(job, deliver):
        if s.runs[-1].kind == "fresh":  # the first Run stops inside epoch 5
            job.control.observe(lambda record: (record.epoch, record.index) == (5, 3) and job.control.stop())
        return InlineRun(job, deliver)

    s.runner = runner
    said = []
    s.events.connect("status", said.append)
    s.run()
    assert said[-1] == ("Stopped after epoch 4. The weights went back to the end of epoch 4; Adam's moments start "
                        "afresh at the next Run (they cannot go back with them).")
    assert (s.finish_reason, s.history.epochs) == ("stopped", 4)
    assert s.optimizer is None  # its state had taken 3 steps of epoch 5, which the weights went back from
    s.run()
    assert s.history.epochs == 20 and s.schedule[-1] == (5, {**s.schedule[-1][1], "fresh": True})
    replayed(s, tmp_path)


def test_a_kept_run_with_adam_exports_after_save_and_open(tmp_path):
    from gui.files import experiment_file
    from gui.files.runs_file import from_file, to_file

    s = small(optimizer="Adam", eta=0.01, epochs=10)
    s.run()
    s.edit(schedule="Cosine")
    s.run()
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path / "e.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=metadata, extra_tensors=tensors)
    loaded = experiment_file.load(path)
    runs, schedule, current = from_file(loaded.metadata, loaded.tensors)
    assert schedule == s.schedule
    raw = json.loads(loaded.metadata["runs"])
    raw["runs"][0]["schedule"][0][1]["optimizer"] = "Nesterov"
    with pytest.raises(ValueError, match="the schedule of run A is damaged"):
        from_file({**loaded.metadata, "runs": json.dumps(raw)}, loaded.tensors)
    run = runs[-1]
    printed = run_script(script(run.settings, run.schedule, run.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]


def test_train_in_pieces_with_first_epoch_equals_one_scheduled_fit(capsys):
    """``Sequential.train(..., schedule=, first_epoch=)``: the script's pieces are the playground's one run."""
    X, labels, _, _ = minidl.data.split("XOR", 64, 8, 2, 0.05)
    y = minidl.data.one_hot(labels)

    def fresh():
        model = minidl.architecture.build(minidl.architecture.REPORT_LAYERS, 2,
                                          generator=torch.Generator().manual_seed(4))
        model.setLoss(minidl.MSE())
        return model, minidl.SGD(0.05, momentum=0.9)

    schedule = minidl.schedules.StepDecay(every=3, gamma=0.5)
    model, optimizer = fresh()
    whole = [r.loss for r in minidl.fit(model, X, y, 10, 16, optimizer, schedule=schedule)]
    model, optimizer = fresh()
    pieces = model.train(X, y, 4, 16, optimizer, schedule=schedule)
    pieces += model.train(X, y, 6, 16, optimizer, verbose_every_nth=5, schedule=schedule, first_epoch=5)
    assert pieces == whole
    assert capsys.readouterr().out.split("\n")[:3] == [f"Loss at epoch {e} was {whole[e - 1]:.4f}" for e in (5, 10)] \
        + [""]
    with pytest.raises(ValueError, match="first_epoch must be an integer of at least 1"):
        model.train(X, y, 1, 16, optimizer, first_epoch=0)


def test_the_window_exports_drawn_points_with_momentum_a_cosine_schedule_and_a_fork(window, qtbot, tmp_path):
    """Through the widgets, as a person would: draw points, pick the optimizer and the schedule, run, fork,
    then File › Export as Python script and Copy as code."""
    from gui_helpers import WAIT_MS, button, find, run_to_end
    from PySide6.QtWidgets import QApplication, QComboBox, QDoubleSpinBox, QSlider

    generator = torch.Generator().manual_seed(2)
    for x, y in torch.rand(40, 2, generator=generator).tolist():
        assert window.draw.add_point(x, y, int(x > y))
    find(window, QComboBox, "optimizerCombo").setCurrentText("SGD + momentum")
    find(window, QDoubleSpinBox, "weightDecaySpin").setValue(0.001)
    find(window, QComboBox, "scheduleCombo").setCurrentText("Cosine")
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.01)
    assert run_to_end(qtbot, window, epochs=60) == "completed"
    find(window, QSlider, "timelineSlider").setValue(30)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        button(window, "forkButton").click()
    s = window.session
    assert s.experiment.dataset == "Custom" and s.history.epochs == 60 and s.runs[-1].kind == "fork"
    path = tmp_path / "run.py"
    assert window.files.export_script(path)
    text = path.read_text("utf-8")
    assert window.files.exports.copy_as_code() and QApplication.clipboard().text() == text
    assert "SGD(eta=0.01, momentum=0.9, weight_decay=0.001)" in text and "Cosine(epochs=60" in text
    printed = run_script(text, tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]


def test_an_eta_taken_at_a_fork_s_first_epoch_keeps_the_fork_fresh(tmp_path):
    s = small(optimizer="SGD + momentum", eta=0.01)
    s.run()
    s.events.connect("started", lambda: s.runs[-1].kind == "fork" and s.edit(eta=0.03))
    s.seek(10)
    assert s.fork()
    assert s.schedule[-1][0] == 11 and s.schedule[-1][1]["eta"] == 0.03 and s.schedule[-1][1]["fresh"]
    replayed(s, tmp_path)
