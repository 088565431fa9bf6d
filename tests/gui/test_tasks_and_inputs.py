"""The model side of regression and input features: what a run's network reads and predicts."""

from __future__ import annotations

import math

import pytest
import torch

from gui.model import boundary, inside
from gui.model.experiment import Experiment
from gui.model.timeline import flatten
from gui.model.weights import input_width, model_from
from minidl.data import features
from session_helpers import small

ONE_OUT = [{"type": "Linear", "width": 8}, {"type": "Tanh"}, {"type": "Linear", "width": 1}]
SQUARES = ["x1", "x2", "x1sq", "x2sq"]


def test_plain_features_are_the_points_themselves():
    data = Experiment(n_train=50, n_test=50).make_data()
    assert data.X_train is data.points_train  # no copy: the default path is unchanged
    assert data.task == "classification" and data.feature_names == ("x1", "x2")


def test_features_are_the_networks_inputs_and_its_width():
    e = Experiment(features=SQUARES, n_train=50, n_test=50)
    data = e.make_data()
    assert e.in_features == 4 and e.build_model().in_features == 4
    assert torch.equal(data.X_train, features(data.points_train, SQUARES))
    assert data.points_train.shape == (50, 2)
    grid = boundary.inputs_grid(data, data.extent())
    assert grid.shape == (boundary.RESOLUTION ** 2, 4)
    assert torch.equal(grid[:, 2], grid[:, 0] ** 2)


def test_features_keep_their_order_whatever_order_they_were_chosen_in():
    assert Experiment(features=["x2sq", "x1"]).input_names == ["x1", "x2sq"]


def test_a_one_dimensional_dataset_leaves_out_the_x2_features():
    e = Experiment(dataset="Sine", features=["x1", "x2", "x1sq", "x1x2"], blocks=ONE_OUT)
    assert e.input_names == ["x1", "x1sq"] and e.in_features == 2
    assert e.validate() == []
    only_x2 = Experiment(dataset="Sine", features=["x2", "sinx2"], blocks=ONE_OUT)
    assert any("only x2 features" in p for p in only_x2.validate())


def test_no_feature_at_all_is_a_sentence():
    problems = Experiment(features=[]).validate()
    assert any("No input feature is on" in p for p in problems)


def test_regression_wants_one_output_and_mse():
    e = Experiment(dataset="Plane")
    assert e.task == "regression" and e.out_features == 1
    assert any("a regression predicts one value: set the last Linear's width to 1" in p for p in e.validate())
    assert Experiment(dataset="Plane", blocks=ONE_OUT).validate() == []
    problems = Experiment(dataset="Plane", blocks=ONE_OUT, loss="Cross-entropy").validate()
    assert any("choose MSE" in p for p in problems)


def test_regression_data_has_targets_and_no_labels():
    data = Experiment(dataset="Multi-Gaussian", blocks=ONE_OUT, n_train=40, n_test=30).make_data()
    assert data.regression and data.labels_train is None and data.labels_test is None
    assert data.y_train.shape == (40, 1) and data.y_train.dtype == torch.float32


def test_regression_error_is_the_mean_squared_error_per_point():
    e = Experiment(dataset="Plane", blocks=ONE_OUT, n_train=60, n_test=40)
    data, model = e.make_data(), e.build_model()
    metrics = data.evaluate(model)
    test_out, train_out = model.predict(data.X_test), model.predict(data.X_train)
    assert metrics["test_error"] == pytest.approx(float(((test_out - data.y_test) ** 2).mean()), rel=1e-6)
    assert metrics["train_error"] == pytest.approx(float(((train_out - data.y_train) ** 2).mean()), rel=1e-6)
    assert metrics["test_loss"] == pytest.approx(metrics["test_error"], rel=1e-6)  # MSE summed, one output


def test_a_sine_session_trains_and_draws_a_curve():
    s = small(dataset="Sine", blocks=ONE_OUT, epochs=5)
    assert s.validate() == []
    s.run()
    assert s.history.epochs == 5 and math.isfinite(s.metrics.test_error)
    assert s.grid.shape == (boundary.CURVE_POINTS, 1)
    xs = s.grid[:, 0]
    assert bool((xs[1:] > xs[:-1]).all())  # a curve: x increasing
    picture = boundary.image(s.model, s.grid)
    assert picture.shape == (boundary.CURVE_POINTS,)
    assert torch.allclose(torch.from_numpy(picture), s.model.predict(s.grid)[:, 0])


@pytest.mark.parametrize(("names", "low", "high"), [(SQUARES, 0, 5), (["x1", "x2"], 30, 100)])
def test_a_single_linear_layer_draws_the_circle_only_with_the_squares(names, low, high):
    s = small(features=names, blocks=[{"type": "Linear", "width": 2}, {"type": "Tanh"}], n_train=1000,
              n_test=1000, epochs=300, eta=0.01, batch_size=10)
    s.run()
    assert low <= s.metrics.test_error < high


def test_unit_images_of_a_one_dimensional_input_are_curves():
    s = small(dataset="Sine", blocks=ONE_OUT)
    cols = inside.columns(s.experiment.blocks, s.experiment.in_features)
    outputs = inside.module_outputs(s.model, s.grid)
    images = inside.unit_images(outputs, cols, boundary.RESOLUTION)
    assert images.shape == (8 + 1, boundary.CURVE_POINTS)
    assert inside.input_images(s.grid, boundary.RESOLUTION).shape == (1, boundary.CURVE_POINTS)


@pytest.mark.parametrize("names", [["x1"], ["x1", "x2"], SQUARES, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1"]])
def test_a_snapshot_rebuilds_with_the_input_width_it_was_trained_with(names):
    e = Experiment(features=names)
    model = e.build_model()
    flat = flatten(model.parameters())
    assert input_width(e.blocks, flat.numel()) == len(names)
    rebuilt = model_from(e.blocks, flat)
    X = torch.rand(5, len(names))
    assert torch.equal(rebuilt.predict(X), model.predict(X))


def test_features_in_a_file_are_checked():
    ok = Experiment(features=SQUARES)
    assert Experiment.from_json(ok.to_json()).features == SQUARES
    for bad in (["x1", "x1"], ["x3"], "x1", [1]):
        raw = ok.to_json().replace('"features": ["x1", "x2", "x1sq", "x2sq"]', f'"features": {bad!r}'.replace("'", '"'))
        with pytest.raises(ValueError, match="features must be a list of distinct names"):
            Experiment.from_json(raw)
