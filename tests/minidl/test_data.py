"""Toy problems and target encoding: geometry, reproducibility, disjoint splits, one-hot targets."""

import math

import pytest
import torch

from minidl.data import DATASETS, class_range, disc, one_hot, split, xor


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
def test_every_dataset_is_reproducible_and_has_every_class(name):
    X, labels = DATASETS[name](500, 7)
    again, other = DATASETS[name](500, 7), DATASETS[name](500, 8)
    assert torch.equal(X, again[0]) and torch.equal(labels, again[1]) and not torch.equal(X, other[0])
    assert X.shape == (500, 2) and set(labels.tolist()) == set(range(class_range(name)[2]))


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
    (("Swiss roll", 10, 10), "unknown dataset 'Swiss roll'; choose one of Disc, XOR, Gaussian blobs, Spiral, Circles"),
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


# The first rows of split(name, 5, 3, seed=0, noise=0.1) before issue 15 added datasets: the
# existing names must keep drawing exactly these points.
BEFORE = {"Disc": [0.3609912097454071, 0.5986286401748657, 1], "XOR": [0.3609912097454071, 0.5986286401748657, 1],
          "Gaussian blobs": [0.3040742576122284, 0.33669549226760864, 0],
          "Spiral": [0.2704143524169922, 0.11817044019699097, 0]}


@pytest.mark.parametrize("name", BEFORE)
def test_existing_datasets_draw_the_same_points_as_before(name):
    X, labels, _, _ = split(name, 5, 3, seed=0, noise=0.1)
    assert [*X[0].tolist(), int(labels[0])] == BEFORE[name]


@pytest.mark.parametrize("name, k", [("Spiral", 2), ("Spiral", 3), ("Spiral", 5), ("Blobs", 3), ("Blobs", 4),
                                     ("Blobs", 5)])
def test_k_class_datasets_draw_every_class(name, k):
    X, labels, X_test, labels_test = split(name, 500, 100, seed=1, noise=0.02, classes=k)
    assert set(labels.tolist()) == set(range(k)) and X.shape == (500, 2) and X_test.shape == (100, 2)


def test_circles_moons_and_checkerboard_follow_their_formulas():
    X, labels, _, _ = split("Circles", 2000, 10, seed=0)
    radius = (X.double() - 0.5).norm(dim=1)
    assert (radius[labels == 1] <= 0.2 + 1e-6).all() and (radius[labels == 0] >= 0.3 - 1e-6).all()
    X, labels, _, _ = split("Checkerboard", 2000, 10, seed=0)
    assert torch.equal(labels, torch.floor(4 * X).long().sum(1) % 2)
    X, labels, _, _ = split("Moons", 2000, 10, seed=0)
    p = 3 * (X.double() - torch.tensor([0.0, 0.25])) - torch.tensor([1.0, 0.5])
    upper = p[labels == 0]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper), dtype=torch.float64), atol=1e-5)
    lower = p[labels == 1] - torch.tensor([1.0, 0.5])
    assert torch.allclose(lower.norm(dim=1), torch.ones(len(lower), dtype=torch.float64), atol=1e-5)


@pytest.mark.parametrize("name, classes, message", [
    ("Disc", 3, r"the Disc dataset has 2 classes, got classes=3"),
    ("Blobs", 2, r"the Blobs dataset has from 3 to 5 classes, got classes=2"),
    ("Spiral", 6, r"the Spiral dataset has from 2 to 5 classes, got classes=6"),
    ("Spiral", 2.0, r"got classes=2.0"),
])
def test_a_number_of_classes_the_dataset_cannot_draw_is_refused(name, classes, message):
    with pytest.raises(ValueError, match=message):
        split(name, 10, 10, classes=classes)
