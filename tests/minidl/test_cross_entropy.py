"""CrossEntropy: value and fused gradient against torch.autograd in float64, torch's
CrossEntropyLoss(reduction="sum") on class indices, stability, target checks, training."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minidl
from minidl import MSE, SGD, CrossEntropy, Linear, ReLU, Sequential, Sigmoid, fit
from minidl.data import one_hot, split
from minidl.interop import loss_from_torch, loss_to_torch
from minidl.metrics import error_rate


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 16), k=st.integers(2, 8), seed=st.integers(0, 2**31), soft=st.booleans())
def test_value_and_gradient_match_autograd(randn, n, k, seed, soft):
    z = 3 * randn(seed, n, k)
    labels = torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed))
    t = torch.softmax(randn(seed + 1, n, k), 1) if soft else one_hot(labels, k, dtype=torch.float64)
    z_ref = z.clone().requires_grad_()
    expected = -(t * torch.log_softmax(z_ref, 1)).sum()
    (expected_grad,) = torch.autograd.grad(expected, z_ref)
    loss = CrossEntropy()
    torch.testing.assert_close(loss.compute(z, t), expected.detach(), rtol=1e-12, atol=1e-10)
    torch.testing.assert_close(loss.backward().clone(), expected_grad, rtol=0, atol=1e-12)
    torch.testing.assert_close(loss.local_grad(z, t), expected_grad, rtol=0, atol=1e-12)


def test_equals_torch_cross_entropy_summed_over_class_indices(randn):
    z, labels = randn(0, 50, 4), torch.arange(50) % 4
    torch_loss = loss_to_torch(CrossEntropy())
    assert isinstance(torch_loss, torch.nn.CrossEntropyLoss) and torch_loss.reduction == "sum"
    torch.testing.assert_close(CrossEntropy().compute(z, one_hot(labels, 4, dtype=torch.float64)),
                               torch_loss(z, labels), rtol=1e-13, atol=0)
    assert isinstance(loss_from_torch(torch.nn.CrossEntropyLoss(reduction="sum")), CrossEntropy)
    assert isinstance(loss_from_torch(torch.nn.MSELoss(reduction="sum")), MSE)
    with pytest.raises(ValueError, match="minidl sums over the batch"):
        loss_from_torch(torch.nn.CrossEntropyLoss())  # a mean
    with pytest.raises(ValueError, match="has no torch.nn counterpart"):
        loss_to_torch(object())


def test_huge_scores_neither_overflow_nor_lose_the_gradient():
    z = torch.tensor([[1000.0, 0.0, -1000.0], [-5e30, 5e30, 0.0]])
    t = one_hot(torch.tensor([0, 0]), 3)
    loss = CrossEntropy()
    value = loss.compute(z, t)
    assert torch.isfinite(value) and value.item() == pytest.approx(1e31, rel=1e-6)
    assert loss.backward().tolist() == [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]]


@pytest.mark.parametrize("target, message", [
    (torch.tensor([[0.5, 0.2]]), r"rows are class probabilities \(at least 0, summing to 1\).* summing to 0.7"),
    (torch.tensor([[-1.0, 2.0]]), "rows are class probabilities"),
    (torch.tensor([[1.0, 0.0, 0.0]]), r"a target of the output's shape \(1, 2\), got \(1, 3\)"),
])
def test_targets_that_are_not_class_probabilities_are_refused(target, message):
    with pytest.raises(ValueError, match=message):
        CrossEntropy().compute(torch.zeros(1, 2), target)


def test_fit_refuses_targets_that_are_not_class_probabilities_before_training():
    model = Sequential(Linear(2, 2))
    model.setLoss(CrossEntropy())
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="CrossEntropy.* expects targets whose rows are class probabilities"):
        list(fit(model, torch.rand(4, 2), 2 * one_hot(torch.tensor([0, 1, 1, 0])), 1, 2, SGD(0.1)))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def make_model(seed=0, k=3):
    gen = torch.Generator().manual_seed(seed)
    model = Sequential(Linear(2, 16, generator=gen), ReLU(), Linear(16, 16, generator=gen), Sigmoid(),
                       Linear(16, k, generator=gen))
    model.setLoss(CrossEntropy())
    return model


def test_fit_with_the_plan_matches_the_reports_hand_written_loop():
    X, labels, _, _ = split("Blobs", 120, 10, seed=2, classes=3)
    y = one_hot(labels, 3)
    planned, by_hand = make_model(), make_model()
    losses = [r.loss for r in fit(planned, X, y, 5, 25, SGD(0.05))]
    optimizer = SGD(0.05)
    for _ in range(5):
        total = 0.0
        for s in range(0, 120, 25):
            output = by_hand.forward(X[s:s + 25])
            total += by_hand.loss.compute(output, y[s:s + 25]).item()
            optimizer.step(by_hand, by_hand.backward(y[s:s + 25]))
    assert all(torch.equal(a, b) for a, b in zip(planned.parameters(), by_hand.parameters(), strict=True))
    assert losses[-1] == pytest.approx(total / 120, rel=1e-6)


def test_three_classes_are_learned_and_the_error_rate_counts_them():
    X, labels, X_test, labels_test = split("Blobs", 600, 300, seed=0, classes=3)
    model = make_model()
    records = list(fit(model, X, one_hot(labels, 3), 60, 50, minidl.Adam(0.01)))
    assert records[-1].loss < 0.2 * records[0].loss
    output = model.predict(X_test)  # raw scores: no softmax needed for the argmax
    assert output.shape == (300, 3) and error_rate(output, labels_test) < 5.0
