"""The Qt-free experiment model: sentences from validate(), JSON round trips, files, models, data."""

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gui.files import experiment_file
from gui.model.experiment import ORIGINAL_FIELDS, Experiment
from gui.model.history import History

ROOT = Path(__file__).resolve().parents[2]
RELU, TANH = {"type": "ReLU"}, {"type": "Tanh"}


def linear(width):
    return {"type": "Linear", "width": width}


def is_sentence(text: str) -> bool:
    return bool(text) and text[0].isupper() and text.endswith(".") and "Traceback" not in text


# -- validate ----------------------------------------------------------------------------
def test_the_default_is_the_reports_experiment_and_valid():
    e = Experiment()
    assert e.blocks == [linear(25), RELU, linear(25), RELU, linear(25), RELU, linear(2), TANH]
    assert (e.dataset, e.n_train, e.n_test, e.noise, e.eta, e.batch_size, e.epochs, e.seed) == \
        ("Disc", 1000, 1000, 0.0, 1e-3, 100, 1000, 0)
    assert e.validate() == []


@pytest.mark.parametrize("change, words", [
    ({"blocks": []}, ["empty"]),
    ({"blocks": [RELU, TANH]}, ["no Linear"]),
    ({"blocks": [linear(25), RELU, linear(3)]}, ["3 outputs", "2 classes"]),
    ({"blocks": [linear(4096)] * 4 + [linear(2)]}, ["parameters"]),
    ({"blocks": [{"type": "Conv"}, linear(2)]}, ["cannot be built"]),
    ({"eta": 0.0}, ["eta"]),
    ({"eta": 11.0}, ["eta"]),
    ({"batch_size": 100_001}, ["batch size", "100,000"]),
    ({"batch_size": 0}, ["batch size"]),
    ({"epochs": 0}, ["epochs"]),
])
def test_validate_explains_each_problem_in_a_sentence(change, words):
    problems = replace(Experiment(), **change).validate()
    assert len(problems) == 1, problems
    assert is_sentence(problems[0]), problems[0]
    for word in words:
        assert word in problems[0]


def test_validate_lists_every_problem():
    problems = replace(Experiment(), blocks=[linear(3)], eta=0.0, epochs=0).validate()
    assert len(problems) == 3 and all(is_sentence(p) for p in problems)


def test_validate_never_builds_the_network():
    """Four 4096-wide layers would need 200 MB; validate answers at once from the description."""
    e = replace(Experiment(), blocks=[linear(4096)] * 4 + [linear(2)])
    assert "parameters" in e.validate()[0]


# -- JSON --------------------------------------------------------------------------------
@pytest.mark.parametrize("e", [
    Experiment(),
    Experiment(blocks=[linear(2)], dataset="Spiral", noise=0.25, n_train=10, n_test=100_000, eta=10.0,
               batch_size=10, epochs=1, seed=2**31 - 1),
    Experiment(blocks=[linear(3)], dataset="Gaussian blobs", eta=1e-6),  # cannot run (3 outputs), still a document
])
def test_json_round_trip(e):
    text = e.to_json()
    again = Experiment.from_json(text)
    assert again == e and again.to_json() == text
    assert isinstance(again.eta, float) and isinstance(again.epochs, int)


def test_from_json_accepts_an_integer_eta_as_a_float():
    raw = json.loads(Experiment().to_json()) | {"eta": 1, "noise": 0}
    e = Experiment.from_json(json.dumps(raw))
    assert e.eta == 1.0 and isinstance(e.eta, float) and isinstance(e.noise, float)


REPORT = json.loads(Experiment().to_json())
BAD_DOCUMENTS = {
    "not JSON": "{blocks: [}",
    "a list": "[1, 2]",
    "a string": '"experiment"',
    "null": "null",
    # The fields issue 15 added may be missing (older files); the original ones may not.
    **{f"missing {key}": json.dumps({k: v for k, v in REPORT.items() if k != key}) for key in ORIGINAL_FIELDS},
    "unknown loss": json.dumps(REPORT | {"loss": "Hinge"}),
    "optimizer number": json.dumps(REPORT | {"optimizer": 1}),
    "unknown schedule": json.dumps(REPORT | {"schedule": "Cyclic"}),
    "momentum one": json.dumps(REPORT | {"momentum": 1.0}),
    "weight decay negative": json.dumps(REPORT | {"weight_decay": -0.1}),
    "classes eleven": json.dumps(REPORT | {"classes": 11}),
    "test ratio zero": json.dumps(REPORT | {"test_ratio": 0}),
    "points a dict": json.dumps(REPORT | {"points": {"x": 1}}),
    "point with a NaN": json.dumps(REPORT | {"points": [[0.1, 0.2, 0, 0]]}).replace("0.1", "NaN"),
    "point label 10": json.dumps(REPORT | {"points": [[0.1, 0.2, 10, 0]]}),
    "point split 3": json.dumps(REPORT | {"points": [[0.1, 0.2, 1, 3]]}),
    "point label float": json.dumps(REPORT | {"points": [[0.1, 0.2, 1.5, 0]]}),
    "eta as text": json.dumps(REPORT | {"eta": "0.001"}),
    "eta NaN": json.dumps(REPORT).replace('"eta": 0.001', '"eta": NaN'),
    "eta infinite": json.dumps(REPORT).replace('"eta": 0.001', '"eta": Infinity'),
    "eta zero": json.dumps(REPORT | {"eta": 0}),
    "eta negative": json.dumps(REPORT | {"eta": -0.1}),
    "eta huge": json.dumps(REPORT | {"eta": 1e300}),
    "epochs boolean": json.dumps(REPORT | {"epochs": True}),
    "epochs float": json.dumps(REPORT | {"epochs": 10.5}),
    "epochs zero": json.dumps(REPORT | {"epochs": 0}),
    "epochs huge": json.dumps(REPORT | {"epochs": 10**12}),
    "seed negative": json.dumps(REPORT | {"seed": -1}),
    "seed too big": json.dumps(REPORT | {"seed": 2**63}),
    "batch zero": json.dumps(REPORT | {"batch_size": 0}),
    "n_train huge": json.dumps(REPORT | {"n_train": 10**9}),
    "n_test text": json.dumps(REPORT | {"n_test": "1000"}),
    "noise too big": json.dumps(REPORT | {"noise": 5.0}),
    "unknown dataset": json.dumps(REPORT | {"dataset": "MNIST"}),
    "dataset number": json.dumps(REPORT | {"dataset": 3}),
    "blocks a dict": json.dumps(REPORT | {"blocks": {"type": "Linear"}}),
    "blocks of strings": json.dumps(REPORT | {"blocks": ["Linear", "ReLU"]}),
    "unknown block": json.dumps(REPORT | {"blocks": [{"type": "Softmax"}, linear(2)]}),
    "width as text": json.dumps(REPORT | {"blocks": [{"type": "Linear", "width": "25"}]}),
    "width zero": json.dumps(REPORT | {"blocks": [linear(0)]}),
    "width a billion": json.dumps(REPORT | {"blocks": [linear(10**9), linear(2)]}),
    "a thousand layers": json.dumps(REPORT | {"blocks": [linear(2)] * 1000}),
    "a billion parameters": json.dumps(REPORT | {"blocks": [linear(16_000)] * 5 + [linear(2)]}),
}


@pytest.mark.parametrize("name", BAD_DOCUMENTS)
def test_from_json_refuses_with_a_sentence(name):
    with pytest.raises(ValueError) as refused:
        Experiment.from_json(BAD_DOCUMENTS[name])
    message = str(refused.value)
    assert message and "Traceback" not in message and len(message) < 300


def test_from_json_names_the_missing_key():
    with pytest.raises(ValueError, match="'seed'"):
        Experiment.from_json(BAD_DOCUMENTS["missing seed"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(list(REPORT) + ["extra"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
                       | st.lists(st.dictionaries(st.sampled_from(["type", "width"]),
                                                  st.sampled_from(["Linear", "ReLU", "Tanh", "x"]) | st.integers()),
                                  max_size=4)))
def test_from_json_gives_an_experiment_or_a_value_error(raw):
    """Any JSON object: a well-typed experiment, or a ValueError; never another exception."""
    document = json.dumps(REPORT | raw)
    try:
        e = Experiment.from_json(document)
    except ValueError:
        return
    assert isinstance(e.blocks, list) and math.isfinite(e.eta) and isinstance(e.seed, int)
    assert all(isinstance(p, str) for p in e.validate())


# -- models and data ---------------------------------------------------------------------
def test_the_same_seed_builds_the_same_weights():
    a, b = Experiment(seed=7).build_model(), Experiment(seed=7).build_model()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    c = Experiment(seed=8).build_model()
    assert not torch.equal(a.parameters()[0], c.parameters()[0])
    assert a.loss is not None and a.dtype == torch.float32


def test_build_model_follows_the_blocks():
    model = Experiment(blocks=[linear(5), TANH, linear(2)]).build_model()
    assert [p.shape for p in model.parameters()] == [(5, 2), (5,), (2, 5), (2,)]


@pytest.mark.parametrize("dataset", ["Disc", "XOR", "Gaussian blobs", "Spiral"])
def test_the_same_seed_makes_the_same_data(dataset):
    e = Experiment(dataset=dataset, n_train=50, n_test=30, noise=0.1, seed=3)
    a, b = e.make_data(), e.make_data()
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.labels_test, b.labels_test)
    assert a.X_train.shape == (50, 2) and a.X_test.shape == (30, 2) and a.y_train.shape == (50, 2)
    assert set(a.labels_train.tolist()) <= {0, 1}
    assert torch.equal(a.y_train.argmax(1), a.labels_train)
    other = replace(e, seed=4).make_data()
    assert not torch.equal(a.X_train, other.X_train)
    x0, x1, y0, y1 = a.extent()
    points = torch.cat((a.X_train, a.X_test))
    assert x0 <= min(0.0, points[:, 0].min()) and x1 >= max(1.0, points[:, 0].max()) and y0 < y1


# -- history and files -----------------------------------------------------------------------
def test_history_csv():
    h = History()
    h.extend([0.5, 0.25], test_epochs=[2], test_losses=[0.3])
    h.extend([0.125])
    assert h.epochs == 3
    assert h.to_csv() == "epoch,train_loss,test_loss\n1,0.5,\n2,0.25,0.300000012\n3,0.125,\n"


def test_save_load_round_trip_without_qt(tmp_path):
    e = Experiment(blocks=[linear(4), RELU, linear(2)], dataset="XOR", n_train=40, n_test=20, batch_size=8, seed=5)
    model = e.build_model()
    history = History()
    history.extend(np.array([1.0, 0.5, 0.25]), test_epochs=3, test_losses=0.4)
    experiment_file.save(tmp_path / "x.minidl", e, model, history)
    e2, model2, history2 = experiment_file.load(tmp_path / "x.minidl")
    assert e2 == e
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), model2.parameters(), strict=True))
    np.testing.assert_array_equal(history2.train, history.train)
    assert history2.test_epochs.tolist() == [3] and history2.test.tolist() == pytest.approx([0.4])
    assert model2.loss is not None


def test_load_refuses_a_file_that_is_not_ours(tmp_path):
    (tmp_path / "x.minidl").write_bytes(b"\x80\x04K\x01.")  # a pickle of the number 1
    with pytest.raises(ValueError, match="x.minidl"):
        experiment_file.load(tmp_path / "x.minidl")


def test_the_model_package_never_imports_qt():
    code = ("import sys, gui.model.experiment, gui.model.boundary; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_batch_larger_than_the_data_is_kept_and_used_as_the_whole_set():
    e = replace(Experiment(), n_train=10, batch_size=100)
    assert e.validate() == [] and e.effective_batch_size == 10
    assert len(e.notes()) == 1 and "each step uses all 10" in e.notes()[0]
    assert Experiment.from_json(e.to_json()).batch_size == 100  # a file keeps the user's choice
    assert replace(e, n_train=1000).effective_batch_size == 100 and replace(e, n_train=1000).notes() == []
