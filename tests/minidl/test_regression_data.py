"""Regression problems (Sine, Plane, Multi-Gaussian): shapes, formulas, seeds, noise, and split."""

import math

import pytest
import torch

from minidl.data import BUMPS, DATASETS, REGRESSION, TASKS, input_width, multi_gaussian, plane, sine, split


def test_every_dataset_name_has_a_task():
    assert set(TASKS) == set(DATASETS) | set(REGRESSION) and not set(DATASETS) & set(REGRESSION)
    assert all(TASKS[name] == "classification" for name in DATASETS)
    assert [name for name, task in TASKS.items() if task == "regression"] == ["Sine", "Plane", "Multi-Gaussian"]


@pytest.mark.parametrize("name", TASKS)
def test_split_of_every_dataset_has_the_shapes_its_task_promises(name):
    X_train, y_train, X_test, y_test = split(name, 30, 20, seed=1, noise=0.05)
    width = input_width(name)
    assert X_train.shape == (30, width) and X_test.shape == (20, width) and X_train.dtype == torch.float32
    if TASKS[name] == "regression":
        assert y_train.shape == (30, 1) and y_test.shape == (20, 1) and y_train.dtype == torch.float32
    else:
        assert y_train.shape == (30,) and y_test.shape == (20,) and y_train.dtype == torch.int64


def test_sine_is_one_period_on_minus_one_to_one():
    X, y = sine(5000, seed=0)
    assert X.shape == (5000, 1) and y.shape == (5000, 1) and -1 <= X.min() < -0.99 and 0.99 < X.max() <= 1
    torch.testing.assert_close(y, torch.sin(2 * math.pi * X))


def test_plane_is_the_sum_of_the_inputs_scaled_to_minus_one_to_one():
    X, y = plane(5000, seed=0)
    assert X.min() >= 0 and X.max() < 1
    torch.testing.assert_close(y, X[:, :1] + X[:, 1:] - 1)
    assert -1 <= y.min() < -0.9 and 0.9 < y.max() <= 1


def test_multi_gaussian_is_the_sum_of_the_signed_bumps():
    X, y = multi_gaussian(2000, seed=0)
    X64 = X.double()
    want = sum(s * torch.exp(-((X64[:, 0] - a) ** 2 + (X64[:, 1] - b) ** 2) / (2 * 0.08 ** 2)) for a, b, s in BUMPS)
    torch.testing.assert_close(y.double(), want[:, None], rtol=1e-5, atol=1e-6)
    at_centres = torch.tensor([b[:2] for b in BUMPS])
    near = [float(y[(X - c).norm(dim=1).argmin()]) for c in at_centres]
    assert [math.copysign(1, v) for v in near] == [s for _, _, s in BUMPS]  # each bump has its sign
    assert -1 < y.min() < -0.8 and 0.8 < y.max() < 1


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_data_is_reproducible_by_seed_and_noise_moves_only_the_targets(name):
    X, y = REGRESSION[name](1000, 7)
    again, other = REGRESSION[name](1000, 7), REGRESSION[name](1000, 8)
    assert torch.equal(X, again[0]) and torch.equal(y, again[1]) and not torch.equal(X, other[0])
    noisy_X, noisy_y = REGRESSION[name](1000, 7, noise=0.1)
    assert torch.equal(noisy_X, X)  # the same points: noise is on the targets
    assert 0.09 < (noisy_y - y).std() < 0.11
    assert torch.equal(noisy_y, REGRESSION[name](1000, 7, noise=0.1)[1])


def test_split_of_a_regression_dataset_is_reproducible_and_disjoint():
    X_train, y_train, X_test, y_test = split("Multi-Gaussian", 300, 200, seed=3, noise=0.1)
    assert torch.cdist(X_train, X_test).min() > 0
    X, y = multi_gaussian(500, 3, 0.1)
    assert torch.equal(torch.cat((X_train, X_test)), X) and torch.equal(torch.cat((y_train, y_test)), y)


@pytest.mark.parametrize("args, kwargs, message", [
    (("Sine", 10, 10), {"classes": 2}, r"the Sine dataset is a regression problem: it has no classes, got classes=2"),
    (("Plane", 10, 10, 0, -1.0), {}, "noise must be a finite number of at least 0, got -1.0"),
    (("Sin", 10, 10), {}, "unknown dataset 'Sin'; choose one of Disc, .*, Sine, Plane, Multi-Gaussian"),
    (("Plane", 0, 10), {}, "n_train must be an integer of at least 1, got 0"),
])
def test_split_refuses_bad_arguments_for_regression(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        split(*args, **kwargs)
