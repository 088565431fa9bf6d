"""Your own data, Qt-free (issue 15): CSV parsing with line-numbered refusals, the seeded train/test
split of drawn points, and points in the experiment and its file."""

from __future__ import annotations

import json
import os

import pytest
import torch

from gui.files import experiment_file, points_csv
from gui.model import experiment as exp
from gui.model import points
from gui.model.experiment import CUSTOM, Experiment, linear
from gui.model.history import History


def test_a_csv_with_a_header_in_any_order_and_a_split_column():
    rows = points_csv.parse_csv(b"label,x2,x1,split\n0,0.2,0.1,train\n1,0.4,0.3,test\n2,-1.5,7,\n\n")
    assert rows == [[0.1, 0.2, 0, points.TRAIN], [0.3, 0.4, 1, points.TEST], [7.0, -1.5, 2, points.BY_RATIO]]


def test_a_csv_without_header_and_with_a_byte_order_mark():
    assert points_csv.parse_csv("\ufeff0.5,0.5,1\r\n0.1,0.9,0\r\n".encode()) == [[0.5, 0.5, 1, 0], [0.1, 0.9, 0, 0]]


BAD_CSVS = {
    "empty": (b"", "it is empty"),
    "blank lines only": (b"\n \n", "it is empty"),
    "header only": (b"x1,x2,label\n", "line 1 is a header, but no rows of points follow it"),
    "missing column": (b"0.1,0.2,0\n0.3,0.4\n", r"line 2: expected 3 columns \(x1,x2,label\), found 2"),
    "non-numeric": (b"x1,x2,label\n0.1,abc,0\n", "line 2: x2 is 'abc', not a number"),
    "NaN": (b"0.1,nan,0\n", "line 1: x2 is 'nan'; only finite numbers are allowed"),
    "inf": (b"0.1,0.2,0\ninf,0.2,1\n", "line 2: x1 is 'inf'; only finite numbers are allowed"),
    "label 1.5": (b"0.1,0.2,1.5\n", r"line 1: label is '1.5'; labels are whole numbers 0..K-1"),
    "label -1": (b"0.1,0.2,-1\n", "line 1: label is '-1'; labels are whole numbers"),
    "eleven classes": (b"0.1,0.2,0\n0.1,0.2,10\n", "line 2: label is 10: more than 10 classes"),
    "a gap in the labels": (b"0.1,0.2,0\n0.1,0.2,2\n", "its labels are not 0..2: no row has label 1"),
    "bad split": (b"0.1,0.2,0,validation\n", "line 1: split is 'validation'; write train, test or leave it empty"),
    "bad header": (b"a,b,c\n1,2,0\n", "line 1: the header must name the columns x1, x2, label"),
    "not text": (b"\x89PNG\r\n\x1a\n\0\0\0", "it is not a text file"),
    "not UTF-8": (b"0.1,0.2,0\n\xff\xfe,1,1\n", "it is not UTF-8 text"),
    "too many rows": (b"0.1,0.2,0\n" * (points.MAX_ROWS + 1), "line 100001: more than 100,000 rows"),
}


@pytest.mark.parametrize("name", BAD_CSVS)
def test_bad_csvs_are_refused_with_a_sentence_naming_the_line(name):
    data, message = BAD_CSVS[name]
    with pytest.raises(ValueError, match=message):
        points_csv.parse_csv(data)


def test_read_csv_refuses_a_fifo_and_a_folder_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(ValueError, match="it is a named pipe"):
        points_csv.read_csv(tmp_path / "pipe")
    with pytest.raises(ValueError, match="not a regular file"):
        points_csv.read_csv(tmp_path)
    with pytest.raises(ValueError, match="No such file"):
        points_csv.read_csv(tmp_path / "missing.csv")


def test_drawn_points_split_by_ratio_reproducibly_and_fixed_splits_stay():
    rows = [[i / 100, 0.5, i % 3, points.BY_RATIO] for i in range(100)] + [[0.9, 0.9, 0, points.TRAIN],
                                                                           [0.1, 0.1, 1, points.TEST]]
    X_train, labels_train, X_test, labels_test = points.split(rows, 0.3, seed=4)
    assert (len(X_train), len(X_test)) == (71, 31)
    again = points.split(rows, 0.3, seed=4)
    assert torch.equal(again[2], X_test) and not torch.equal(points.split(rows, 0.3, seed=5)[2], X_test)
    assert (X_train == torch.tensor([0.9, 0.9])).all(1).any() and (X_test == torch.tensor([0.1, 0.1])).all(1).any()
    assert set(labels_train.tolist()) | set(labels_test.tolist()) == {0, 1, 2}
    two = points.split([[0, 0, 0, 0], [1, 1, 1, 0]], 0.05, seed=0)  # at least one of each
    assert (len(two[0]), len(two[2])) == (1, 1)


def test_the_custom_dataset_sets_the_classes_and_says_what_is_missing():
    e = Experiment(dataset=CUSTOM)
    assert e.validate() == ["The custom data has no points yet: draw some (Draw points) or import a CSV file "
                            "(File menu)."]
    e.points = [[0.1, 0.1, 0, 0], [0.2, 0.2, 0, 0]]
    assert "one class only" in e.validate()[0]
    e.points.append([0.5, 0.5, 2, 0])
    assert e.num_classes == 3
    assert "The last Linear block has 2 outputs, but the data has 3 classes: set the last Linear's width to 3." \
        in e.validate()
    assert any("skip class 1" in p for p in e.validate())
    e.points.append([0.6, 0.6, 1, 0])
    e.blocks = [linear(8), {"type": "ReLU"}, linear(3)]
    assert e.validate() == []
    fixed = [[p[0], p[1], p[2], points.TRAIN] for p in e.points]
    assert "The custom data has no test points: mark some rows test" in \
        Experiment(dataset=CUSTOM, points=fixed, blocks=e.blocks).validate()[0]
    assert points.split_sizes(e.points, 0.3) == (3, 1) == tuple(len(t) for t in points.split(e.points, 0.3, 0)[::2])
    data = e.make_data()
    assert data.y_train.shape[1] == 3 and len(data.X_train) + len(data.X_test) == 4


def test_points_and_optimizer_state_save_with_the_experiment(tmp_path):
    e = Experiment(dataset=CUSTOM, blocks=[linear(3)], optimizer="Adam", loss="Cross-entropy",
                   points=[[0.1 * i, -3.0 + i, i % 3, i % 3] for i in range(2000)])
    model = e.build_model()
    optimizer = e.build_optimizer()
    data = e.make_data()
    model.forward(data.X_train)
    optimizer.step(model, model.backward(data.y_train))
    experiment_file.save(tmp_path / "mine.minidl", e, model, History(), optimizer=optimizer)
    header = (tmp_path / "mine.minidl").read_bytes()[:200_000]
    assert b'\\"points\\": []' in header  # the points travel as a tensor, not in the JSON header
    loaded = experiment_file.load(tmp_path / "mine.minidl")
    assert loaded.experiment == e and loaded.experiment.points == e.points
    assert isinstance(loaded.model.loss, type(model.loss))
    again = loaded.experiment.build_optimizer()
    again.load_state_tensors(loaded.optimizer_state, loaded.model.parameters())
    assert again.step_count == 1
    assert all(torch.equal(a, b) for a, b in zip(again.state["exp_avg"], optimizer.state["exp_avg"], strict=True))


def test_files_from_before_issue_15_load_with_the_old_behaviour():
    old = json.loads(Experiment().to_json())
    old = {k: old[k] for k in exp.ORIGINAL_FIELDS}
    e = Experiment.from_json(json.dumps(old))
    assert (e.loss, e.optimizer, e.schedule, e.weight_decay, e.points, e.num_classes) == \
        ("MSE", "SGD", "Constant", 0.0, [], 2)
    assert repr(e.build_optimizer()) == "SGD(eta=0.001)" and e.build_schedule() is None
    spiral = Experiment.from_json(json.dumps(old | {"dataset": "Spiral"}))
    assert spiral.num_classes == 2  # spirals kept their two arms
