"""Input features (x1, x2, their squares, product and sines): values, errors, and the lesson they
teach: a linear model on x1, x2, x1sq and x2sq separates the disc, which x1 and x2 alone cannot."""

import pytest
import torch

from minidl import MSE, SGD, Linear, Sequential, Tanh, fit
from minidl.data import FEATURES, features, one_hot, split
from minidl.metrics import labels as predicted_labels


def test_each_feature_is_its_formula_in_the_order_asked():
    X = torch.tensor([[0.25, -2.0], [1.5, 0.0], [-3.0, 0.5]], dtype=torch.float64)
    x1, x2 = X[:, 0], X[:, 1]
    got = features(X, ["sinx2", "x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1"])
    want = torch.stack((torch.sin(x2), x1, x2, x1 ** 2, x2 ** 2, x1 * x2, torch.sin(x1)), 1)
    assert got.shape == (3, 7) and got.dtype == torch.float64
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert torch.equal(features(X, ("x2", "x1")), X.flip(1))
    assert list(FEATURES) == ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]


def test_a_one_dimensional_input_has_the_x1_features():
    X = torch.linspace(-1, 1, 5)[:, None]
    torch.testing.assert_close(features(X, ["x1", "x1sq", "sinx1"]),
                               torch.cat((X, X ** 2, torch.sin(X)), 1))


@pytest.mark.parametrize("X, names, message", [
    (torch.rand(4, 2), ["x3"], r"unknown input feature 'x3'; choose from x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"),
    (torch.rand(4, 2), [], "features expects a non-empty list of feature names"),
    (torch.rand(4, 2), "x1", "features expects a non-empty list of feature names"),
    (torch.rand(4, 2), ["x1", "x1"], "each input feature may be listed once; got x1, x1"),
    (torch.rand(4, 2), [1], "unknown input feature 1"),
    (torch.rand(4, 3), ["x1"], r"features expects points X of shape \(N, 2\) or, for a 1-D dataset, \(N, 1\).*"
                               r"got shape \(4, 3\)"),
    (torch.rand(4), ["x1"], r"got shape \(4,\)"),
    (torch.ones(4, 2, dtype=torch.long), ["x1"], "as a floating-point tensor; got shape .* dtype torch.int64"),
    ([[0.1, 0.2]], ["x1"], "features expects points X of shape"),
    (torch.rand(4, 1), ["x1", "x1x2"], r"the input feature 'x1x2' needs x2, but the points have one coordinate "
                                       r"\(a 1-D dataset such as Sine\): choose from x1, x1sq, sinx1"),
    (torch.rand(4, 1), ["sinx2"], "the input feature 'sinx2' needs x2"),
])
def test_bad_features_are_refused_with_a_sentence(X, names, message):
    with pytest.raises(ValueError, match=message):
        features(X, names)


def disc_test_error(names):
    """A single Linear (2 outputs) + Tanh, no hidden layer, on the features ``names`` of the disc."""
    X_train, labels_train, X_test, labels_test = split("Disc", 1000, 1000, seed=0)
    model = Sequential(Linear(len(names), 2, generator=torch.Generator().manual_seed(0)), Tanh())
    model.setLoss(MSE())
    list(fit(model, features(X_train, names), one_hot(labels_train), 300, 100, SGD(3e-3)))
    return (predicted_labels(model.predict(features(X_test, names))) != labels_test).float().mean().item()


def test_squared_features_let_a_linear_model_separate_the_disc_and_the_coordinates_alone_cannot():
    assert disc_test_error(["x1", "x2", "x1sq", "x2sq"]) < 0.05  # measured: 0.016
    assert disc_test_error(["x1", "x2"]) > 0.3  # a line cannot cut a disc out: measured 0.53
