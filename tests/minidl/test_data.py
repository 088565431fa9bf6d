"""Toy problems and target encoding: geometry, reproducibility, disjoint splits, one-hot targets."""

import math

import pytest
import torch

from minidl.data import DATASETS, disc, one_hot, split, xor


def test_disc_labels_follow_the_geometry_and_cover_half_the_square():
    X, labels = disc(20_000, seed=0)
    assert X.shape == (20_000, 2) and X.dtype == torch.float32 and labels.shape == (20_000,)
    assert X.min() >= 0 and X.max() < 1
    inside = (X.double() - 0.5).pow(2).sum(1).sqrt() < 1 / math.sqrt(2 * math.pi)
    assert torch.equal(labels, inside.long())
    assert 0.48 < labels.float().mean() < 0.52  # the disc's area is exactly 1/2


def test_xor_labels_follow_the_quarters():
    X, labels = xor(1000, seed=0)
    assert torch.equal(labels, ((X[:, 0] > 0.5) != (X[:, 1] > 0.5)).long())


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_is_reproducible_and_has_both_classes(name):
    X, labels = DATASETS[name](500, 7)
    again, other = DATASETS[name](500, 7), DATASETS[name](500, 8)
    assert torch.equal(X, again[0]) and torch.equal(labels, again[1]) and not torch.equal(X, other[0])
    assert X.shape == (500, 2) and set(labels.tolist()) == {0, 1}


def test_noise_blurs_the_points_but_keeps_the_labels():
    X, labels = disc(2000, seed=3)
    noisy, noisy_labels = disc(2000, seed=3, noise=0.05)
    assert torch.equal(labels, noisy_labels)
    assert 0.04 < (noisy - X).std() < 0.06


def test_split_is_reproducible_and_disjoint():
    X_train, y_train, X_test, y_test = split("Disc", 300, 200, seed=1)
    assert (X_train.shape, y_train.shape, X_test.shape, y_test.shape) == ((300, 2), (300,), (200, 2), (200,))
    assert torch.cdist(X_train, X_test).min() > 0  # no point in both
    again = split("Disc", 300, 200, seed=1)
    assert all(torch.equal(a, b) for a, b in zip((X_train, y_train, X_test, y_test), again, strict=True))


@pytest.mark.parametrize("args, message", [
    (("Moons", 10, 10), "unknown dataset 'Moons'; choose one of Disc, XOR, Gaussian blobs, Spiral"),
    (("Disc", 0, 10), "n_train must be an integer of at least 1, got 0"),
    (("Disc", 10, True), "n_test must be an integer of at least 1, got True"),
    (("Disc", 10, 2.5), "n_test must be an integer of at least 1, got 2.5"),
    (("Disc", 10, 10, 0, -0.1), "noise must be a finite number of at least 0, got -0.1"),
    (("Disc", 10, 10, 0, math.nan), "noise must be a finite number of at least 0, got nan"),
])
def test_split_refuses_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        split(*args)


@pytest.mark.parametrize("n", [-1, 2.5, True])
def test_generators_refuse_a_bad_number_of_points(n):
    with pytest.raises(ValueError, match=f"the number of points must be an integer of at least 0, got {n}"):
        disc(n)


def test_one_hot_values():
    labels = torch.tensor([0, 1, 1, 0])
    assert one_hot(labels).tolist() == [[1, 0], [0, 1], [0, 1], [1, 0]]
    assert one_hot(labels).dtype == torch.float32
    assert one_hot(labels, off=-1.0).tolist() == [[1, -1], [-1, 1], [-1, 1], [1, -1]]
    assert one_hot(torch.tensor([2, 0], dtype=torch.uint8), num_classes=3, dtype=torch.float64).tolist() == \
        [[0, 0, 1], [1, 0, 0]]
    assert one_hot(torch.tensor([], dtype=torch.long)).shape == (0, 2)


@pytest.mark.parametrize("labels, message", [
    (torch.tensor([0.0, 1.0]), "one_hot expects a 1-D tensor of integer labels"),
    (torch.tensor([True, False]), "one_hot expects a 1-D tensor of integer labels"),
    (torch.tensor([[0, 1]]), "one_hot expects a 1-D tensor of integer labels"),
    ([0, 1], r"one_hot expects a 1-D tensor of integer labels, got \[0, 1\]"),
    (torch.tensor([0, 2]), r"labels must lie in 0..1, got values from 0 to 2"),
    (torch.tensor([-1, 1]), r"labels must lie in 0..1, got values from -1 to 1"),
])
def test_one_hot_refuses_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        one_hot(labels)
