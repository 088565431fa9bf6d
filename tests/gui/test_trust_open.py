"""Hostile numbers and types in experiment files, CSV files and lessons: every bad value is a ValueError whose
sentence names the field and says what is allowed (never an OverflowError, a TypeError or Python's "cannot convert
float NaN to integer"); in the window a damaged file is refused, and a damaged runs section is left out."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
import torch
from session_helpers import small
from test_file_safety import refused

import minidl.io
from gui.files import experiment_file, points_csv
from gui.files.runs_file import from_file, to_file
from gui.model import experiment as exp
from gui.model import lesson

HUGE = 10**400  # a JSON integer no float can hold
NOT_A_NUMBER = ("cannot convert", "NaN to integer", "int too large")
LESSONS = Path(__file__).resolve().parents[2] / "resources" / "lessons"


def short(value) -> str:
    """A test id: 10**400 has 401 digits."""
    return f"{value!r:.12}"


def drawn(n: int = 40) -> list[list]:
    xy = torch.rand(n, 2, generator=torch.Generator().manual_seed(0)).tolist()
    return [[x, y, int(x + y > 1), 0] for x, y in xy]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    """A file with custom points and two kept runs (A, then B on other settings)."""
    s = small(epochs=3, dataset="Custom", points=drawn())
    assert s.run()
    s.edit(eta=0.01)
    assert s.run()
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path_factory.mktemp("saved") / "runs.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=metadata, extra_tensors=tensors)
    return path


def rewritten(source: Path, target: Path, experiment=None, runs=None, tensors=None) -> Path:
    """``source`` written again to ``target`` with its experiment JSON, runs JSON or tensors changed in place
    by the given functions (minidl's own writer, which checks the model but not the playground's fields)."""
    model, metadata, stored = minidl.io.read(source)
    for key, change in (("experiment", experiment), ("runs", runs)):
        if change is not None:
            raw = json.loads(metadata[key])
            change(raw)
            metadata[key] = json.dumps(raw)
    if tensors is not None:
        tensors(stored)
    minidl.io.write(target, model, metadata=metadata, tensors=stored)
    return target


def said(error: pytest.ExceptionInfo, *phrases) -> str:
    text = str(error.value)
    assert all(phrase in text for phrase in phrases), text
    assert not any(bad in text for bad in NOT_A_NUMBER), text
    return text


def set_cell(name: str, row: int, column: int, value: float):
    def change(stored):
        table = stored[name].double()
        table[row, column] = value
        stored[name] = table
    return change


def first_run(key: str, value):
    def change(raw):
        raw["runs"][0][key] = value
    return change


# -- the experiment's fields ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["eta", "noise", "momentum", "weight_decay", "test_ratio"])
@pytest.mark.parametrize("value", [HUGE, -HUGE, math.nan, math.inf], ids=short)
def test_a_real_setting_out_of_any_float_is_a_sentence_naming_it(name, value):
    text = json.dumps({**json.loads(exp.Experiment().to_json()), name: value})
    with pytest.raises(ValueError) as caught:
        exp.Experiment.from_json(text)
    said(caught, f"the experiment's {name} must be a number from")


@pytest.mark.parametrize("name", ["n_train", "n_test", "batch_size", "epochs", "seed", "classes"])
@pytest.mark.parametrize("value", [HUGE, math.nan, math.inf, 2.5, "3", [1]], ids=short)
def test_a_whole_number_setting_that_is_not_one_is_a_sentence_naming_it(name, value):
    text = json.dumps({**json.loads(exp.Experiment().to_json()), name: value})
    with pytest.raises(ValueError) as caught:
        exp.Experiment.from_json(text)
    said(caught, f"the experiment's {name} must be a whole number from")


@pytest.mark.parametrize("column, value", [(2, math.inf), (2, math.nan), (2, -math.inf), (3, math.nan),
                                           (3, math.inf), (0, math.nan), (2, 1e300)])
def test_a_custom_point_that_is_not_finite_is_a_sentence(saved, tmp_path, column, value):
    path = rewritten(saved, tmp_path / "points.minidl", tensors=set_cell("points", 2, column, value))
    with pytest.raises(ValueError) as caught:
        experiment_file.load(path)
    said(caught, "points.minidl is damaged: point 3 of the experiment must be [x1, x2, label 0..9, split 0..2]")


@pytest.mark.parametrize("key", ["history.train", "history.test"])
@pytest.mark.parametrize("value", [1e300, -1e39, math.nan])
def test_a_loss_history_beyond_float32_is_refused(saved, tmp_path, key, value):
    def change(stored):
        stored[key] = stored[key].double()
        stored[key][0] = value

    path = rewritten(saved, tmp_path / "history.minidl", tensors=change)
    with pytest.raises(ValueError) as caught:
        experiment_file.load(path)
    said(caught, "history.minidl is damaged: its loss history holds NaN or infinite values, or values too large")


# -- the runs section ---------------------------------------------------------------------------------------
def runs_error(path: Path) -> str:
    loaded = experiment_file.load(path)  # the rest of the file is fine
    with pytest.raises(ValueError) as caught:
        from_file(loaded.metadata, loaded.tensors)
    return said(caught)


@pytest.mark.parametrize("current", [["A"], {"A": 1}, 3, "Z"])
def test_a_current_run_that_is_not_a_run_name_is_a_sentence(saved, tmp_path, current):
    path = rewritten(saved, tmp_path / "current.minidl", runs=lambda raw: raw.update(current=current))
    assert "its current run must be the name of one of its runs (A, B)" in runs_error(path)


@pytest.mark.parametrize("key, value, phrase", [
    ("wall_time", HUGE, "run A's wall time must be a number of seconds of at least 0"),
    ("wall_time", -1, "run A's wall time must be a number of seconds of at least 0"),
    ("wall_time", "3", "run A's wall time must be a number of seconds of at least 0"),
    ("start_epoch", HUGE, "run A's start epoch must be a whole number from 0 to its 3 epochs"),
    ("start_epoch", -HUGE, "run A's start epoch must be a whole number from 0 to its 3 epochs"),
    ("start_epoch", 2.0, "run A's start epoch must be a whole number from 0 to its 3 epochs"),
    ("start_epoch", math.nan, "run A's start epoch must be a whole number from 0 to its 3 epochs"),
    ("state", ["done"], "run A's state must be one of running, completed, stopped, diverged, failed"),
    ("kind", {}, "run A's kind must be one of fresh, continue, fork"),
    ("final", [1], "run A's final numbers must be a JSON object"),
    ("parent", 3, "run A's parent must be the name of a run or null"),
    ("diff", 3, "run A's description of what changed must be a text"),
    ("snapshots", "all", "run A's weight snapshots do not match"),
], ids=short)
def test_a_damaged_run_field_is_a_sentence_naming_it(saved, tmp_path, key, value, phrase):
    path = rewritten(saved, tmp_path / "run.minidl", runs=first_run(key, value))
    assert phrase in runs_error(path)


@pytest.mark.parametrize("value", [HUGE, math.nan, math.inf, "0.5", True], ids=short)
def test_a_final_number_that_is_not_finite_is_a_sentence(saved, tmp_path, value):
    def change(raw):
        raw["runs"][0]["final"]["test_loss"] = value

    path = rewritten(saved, tmp_path / "final.minidl", runs=change)
    assert "run A's final test_loss must be a finite number or null" in runs_error(path)


@pytest.mark.parametrize("name", ["eta", "noise", "momentum", "n_train", "seed"])
def test_a_run_setting_out_of_any_float_is_a_sentence(saved, tmp_path, name):
    def change(raw):
        raw["runs"][0]["settings"][name] = HUGE

    path = rewritten(saved, tmp_path / "settings.minidl", runs=change)
    assert f"run A's settings are damaged: the experiment's {name} must be a" in runs_error(path)


@pytest.mark.parametrize("key, value", [("eta", HUGE), ("eta", math.nan), ("batch_size", HUGE), ("batch_size", 0),
                                        ("epoch", HUGE), ("epoch", 0), ("epoch", 1.5)], ids=short)
def test_a_damaged_schedule_entry_is_a_sentence(saved, tmp_path, key, value):
    def change(raw):
        entry = raw["schedule"][0]
        if key == "epoch":
            entry[0] = value
        else:
            entry[1][key] = value

    path = rewritten(saved, tmp_path / "schedule.minidl", runs=change)
    assert "the schedule of the current weights is damaged" in runs_error(path)


@pytest.mark.parametrize("column, value", [(2, math.inf), (2, math.nan), (3, math.nan)])
def test_a_run_point_that_is_not_finite_is_a_sentence(saved, tmp_path, column, value):
    loaded = experiment_file.load(saved)
    at = json.loads(loaded.metadata["runs"])["runs"][0]["points_at"]
    path = rewritten(saved, tmp_path / "run_points.minidl", tensors=set_cell(at, 1, column, value))
    assert "run A's points are damaged: point 2 of the experiment must be" in runs_error(path)


@pytest.mark.parametrize("value", [1e300, math.inf])
def test_a_run_history_beyond_float32_is_a_sentence(saved, tmp_path, value):
    def change(stored):
        stored["run.0.train"] = stored["run.0.train"].double()
        stored["run.0.train"][1] = value

    path = rewritten(saved, tmp_path / "run_history.minidl", tensors=change)
    assert "run A's loss history holds NaN or infinite values, or values too large" in runs_error(path)


# -- in the window ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, value", [("eta", HUGE), ("noise", math.nan), ("n_train", math.inf)], ids=short)
def test_the_window_refuses_an_experiment_setting_out_of_range_with_its_name(window, saved, tmp_path, name, value):
    path = rewritten(saved, tmp_path / "setting.minidl", experiment=lambda raw: raw.update({name: value}))
    text = refused(window, path, f"the experiment's {name} must be a")
    assert not any(bad in text for bad in NOT_A_NUMBER)


@pytest.mark.parametrize("column, value", [(2, math.inf), (2, math.nan)])
def test_the_window_refuses_custom_points_that_are_not_finite(window, saved, tmp_path, column, value):
    path = rewritten(saved, tmp_path / "label.minidl", tensors=set_cell("points", 0, column, value))
    text = refused(window, path, "point 1 of the experiment must be")
    assert not any(bad in text for bad in NOT_A_NUMBER)


@pytest.mark.parametrize("change, phrase", [
    (lambda raw: raw.update(current=["A"]), "its current run must be the name of one of its runs"),
    (first_run("wall_time", HUGE), "run A's wall time must be"),
    (first_run("start_epoch", HUGE), "run A's start epoch must be"),
    (first_run("state", {}), "run A's state must be"),
], ids=short)
def test_the_window_opens_a_file_without_its_damaged_runs(window, saved, tmp_path, change, phrase):
    path = rewritten(saved, tmp_path / "damaged_runs.minidl", runs=change)
    window.files.last_error = None
    assert window.files.open(path) is True
    title, text = window.files.last_error
    assert title == "Runs left out" and phrase in text, text
    s = window.session
    assert s.runs == [] and s.experiment.dataset == "Custom" and s.history.epochs == 6
    window.files.dialog.close()


def test_the_window_opens_the_intact_file_with_its_runs(window, saved):
    window.files.last_error = None
    assert window.files.open(saved) is True and window.files.last_error is None
    assert [r.name for r in window.session.runs] == ["A", "B"]


# -- CSV ----------------------------------------------------------------------------------------------------------
def csv_error(text: str) -> str:
    with pytest.raises(ValueError) as caught:
        points_csv.parse_csv(text.encode())
    return str(caught.value)


@pytest.mark.parametrize("label", ["0.99999999999999999", "1.00000000000000001", "1e-30", "0.5"])
def test_a_label_that_is_not_exactly_whole_is_refused(label):
    assert csv_error(f"x1,x2,label\n0.1,0.2,0\n0.3,0.4,{label}\n") == \
        f"line 3: label is {label!r}; labels are whole numbers 0..K-1"


@pytest.mark.parametrize("label", ["1", "1.0", "+1", "1e0", " 1 "])
def test_a_whole_label_written_as_a_number_is_read(label):
    assert points_csv.parse_csv(f"0.1,0.2,0\n0.3,0.4,{label}\n".encode())[1][2] == 1


@pytest.mark.parametrize("label, phrase", [("1e400", "more than 10 classes"), ("nan", "labels are whole numbers"),
                                           ("-1", "labels are whole numbers"), ("inf", "labels are whole numbers")])
def test_labels_out_of_range_are_still_sentences(label, phrase):
    assert phrase in csv_error(f"0.1,0.2,0\n0.3,0.4,{label}\n")


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\x85", "\u2028", "\u2029"])
def test_only_newlines_end_a_line(separator):
    # an editor shows one line here: the error is on it, not on a line of its own
    assert csv_error(f"0,0,0\n0.5,0.5,1{separator}0.2,0.2,0\n") == \
        "line 2: expected 3 columns (x1,x2,label), found 5"
    # the next lines keep an editor's numbers
    assert csv_error(f"0,0,0\n0.5,0.5,1{separator}\n1,1,x\n").startswith("line 3: label is 'x'")


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_each_kind_of_newline_ends_a_line(newline):
    text = newline.join(["x1,x2,label", "0,0,0", "", "1,1,1", "1,1,y"]) + newline
    assert csv_error(text).startswith("line 5: label is 'y'")


@pytest.mark.parametrize("value, shown", [("1000000.5", "1000000.5"), ("-1000000.0000000001", "-1000000.0000000001"),
                                          ("1e7", "10000000.0")])
def test_a_coordinate_beyond_the_limit_shows_enough_digits(value, shown):
    assert csv_error(f"{value},0,0\n0,0,1\n") == f"line 1: x1 is {shown}, beyond ±1,000,000; check the file"
    assert points_csv.parse_csv(b"1000000,-1e6,0\n0,0,1\n")[0][:2] == [1e6, -1e6]  # the limit itself is allowed


def test_a_csv_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfx1,x2,label\r\n0.1,0.2,0\r\n0.3,0.4,1\r\n")
    assert points_csv.read_csv(path) == [[0.1, 0.2, 0, 0], [0.3, 0.4, 1, 0]]


# -- lessons ------------------------------------------------------------------------------------------------------
def test_a_lesson_saved_with_a_byte_order_mark_opens(tmp_path):
    source = LESSONS / "step_size.json"
    path = tmp_path / "notepad.json"
    path.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    assert lesson.load(path).title == lesson.load(source).title


def test_the_window_opens_a_lesson_with_a_byte_order_mark(window, tmp_path):
    path = tmp_path / "notepad.json"
    path.write_bytes(b"\xef\xbb\xbf" + (LESSONS / "capacity.json").read_bytes())
    assert window.files.open_lesson(path) is True


# -- tensor shapes, lesson expectations, schedules and test epochs ------------------------------------------------
def with_empty_tensor(source: Path, target: Path, shape: list) -> Path:
    """``source`` copied to ``target`` with one more header entry: an empty float32 tensor of ``shape``."""
    data = source.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header["extra"] = {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}
    text = json.dumps(header).encode()
    target.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length:])
    return target


@pytest.mark.parametrize("shape", [[0, 10**30], [0, 2**63]], ids=short)
def test_an_empty_tensor_of_absurd_shape_is_a_sentence(saved, tmp_path, shape):
    path = with_empty_tensor(saved, tmp_path / "shape.minidl", shape)
    with pytest.raises(ValueError) as caught:
        experiment_file.load(path)
    said(caught, "shape.minidl is not a minidl model file: tensor 'extra' has shape")


def test_the_window_refuses_an_empty_tensor_of_absurd_shape(window, saved, tmp_path):
    path = with_empty_tensor(saved, tmp_path / "shape.minidl", [0, 10**30])
    refused(window, path, "tensor 'extra' has shape", "at most")


def scene_expecting(**expect) -> dict:
    return {"title": "L", "scenes": [{"title": "S", "experiment": {"epochs": 2}, "expect": expect}]}


@pytest.mark.parametrize("value", [HUGE, -HUGE, math.nan, math.inf, "0.3"], ids=short)
def test_a_lesson_expectation_out_of_any_float_is_a_sentence(value):
    with pytest.raises(ValueError) as caught:
        lesson.parse(json.dumps(scene_expecting(expect="loss_below", value=value)))
    said(caught, "scene 1 ('S'): its expect 'loss_below' needs a number \"value\"")


@pytest.mark.parametrize("epoch", [HUGE, exp.EPOCHS_MAX + 1, 0, 2.0, True], ids=short)
def test_a_lesson_expectation_epoch_beyond_the_epoch_limit_is_a_sentence(epoch):
    with pytest.raises(ValueError) as caught:
        lesson.parse(json.dumps(scene_expecting(expect="loss_below", value=0.3, epoch=epoch)))
    said(caught, f"the \"epoch\" of its expect 'loss_below' must be a whole number from 1 to {exp.EPOCHS_MAX:,}")


def test_a_lesson_expectation_at_the_epoch_limit_is_read():
    scene = lesson.parse(json.dumps(scene_expecting(expect="loss_below", value=10**20, epoch=exp.EPOCHS_MAX))).scene
    assert scene.expect == {"expect": "loss_below", "value": 10**20, "epoch": exp.EPOCHS_MAX}


def test_the_window_refuses_a_lesson_expecting_a_number_beyond_any_float(window, tmp_path):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(scene_expecting(expect="test_error_below", value=HUGE)))
    window.files.last_error = None
    assert window.files.open_lesson(path) is False
    title, text = window.files.last_error
    assert title == "Cannot open lesson" and "needs a number \"value\"" in text, text
    window.files.dialog.close()


def set_schedule_epochs(*epochs, run: int | None = None):
    """The schedule of the current weights (or of run ``run``) with these first epochs, each entry a copy of the
    first one."""
    def change(raw):
        owner = raw if run is None else raw["runs"][run]
        entry = owner["schedule"][0][1]
        owner["schedule"] = [[e, dict(entry)] for e in epochs]
    return change


@pytest.mark.parametrize("epochs", [(1, 5, 3), (1, 1), (2,), (1, 4, 4), (3, 1)])
def test_schedule_epochs_that_do_not_increase_from_1_are_a_sentence(saved, tmp_path, epochs):
    path = rewritten(saved, tmp_path / "order.minidl", runs=set_schedule_epochs(*epochs))
    assert "the schedule of the current weights is damaged: its first epochs must start at 1 and increase" \
        in runs_error(path)
    path = rewritten(saved, tmp_path / "order_b.minidl", runs=set_schedule_epochs(*epochs, run=1))
    assert "the schedule of run B is damaged: its first epochs must start at 1 and increase" in runs_error(path)


def test_schedule_epochs_that_increase_from_1_are_read(saved, tmp_path):
    path = rewritten(saved, tmp_path / "order.minidl", runs=set_schedule_epochs(1, 3, 5))
    loaded = experiment_file.load(path)
    _, schedule, _ = from_file(loaded.metadata, loaded.tensors)
    assert [first for first, _ in schedule] == [1, 3, 5]


@pytest.mark.parametrize("epoch", [1.5, 2.25, 0.5])
def test_a_run_test_loss_at_a_fractional_epoch_is_a_sentence(saved, tmp_path, epoch):
    path = rewritten(saved, tmp_path / "fraction.minidl", tensors=set_vector("run.0.test_epochs", 0, epoch))
    assert "run A's test losses must be recorded at whole epochs from 1 to 3" in runs_error(path)


@pytest.mark.parametrize("epoch", [1.5, 0.0, 7.0])
def test_the_file_test_loss_at_a_fractional_or_outside_epoch_is_a_sentence(saved, tmp_path, epoch):
    path = rewritten(saved, tmp_path / "fraction.minidl", tensors=set_vector("history.test_epochs", 0, epoch))
    with pytest.raises(ValueError) as caught:
        experiment_file.load(path)
    said(caught, "fraction.minidl is damaged: its test losses must be recorded at whole epochs from 1 to 6")


def set_vector(name: str, index: int, value: float):
    def change(stored):
        stored[name] = stored[name].double()
        stored[name][index] = value
    return change


@pytest.mark.parametrize("value", [HUGE, -HUGE], ids=short)
def test_a_point_in_the_settings_beyond_any_float_is_a_sentence(value):
    text = json.dumps({**json.loads(exp.Experiment().to_json()), "dataset": "Custom",
                       "points": [[value, 0.5, 0, 0]] + drawn(20)})
    with pytest.raises(ValueError) as caught:
        exp.Experiment.from_json(text)
    said(caught, "point 1 of the experiment must be")
