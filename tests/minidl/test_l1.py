"""L1 regularization: the gradient of loss + l1 * sum |w| over the weights (biases left alone), against
torch.autograd and torch.optim in float64, the same on fit's flat path as on the optimizer's own step."""

import math
import pickle

import pytest
import torch

from minidl import MSE, SGD, Adam, Linear, Sequential, Tanh, fit
from minidl.data import disc, one_hot
from minidl.plan import sgd_step

CASES = [  # ours, torch.optim's twin (L1 comes from autograd), l1
    (lambda: SGD(0.01, l1=0.3), lambda p: torch.optim.SGD(p, lr=0.01, foreach=False), 0.3),
    (lambda: SGD(0.01, momentum=0.9, l1=0.3),
     lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, foreach=False), 0.3),
    (lambda: SGD(0.01, momentum=0.5, weight_decay=0.1, l1=0.2),
     lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.5, weight_decay=0.1, foreach=False), 0.2),
    (lambda: Adam(0.01, l1=0.3), lambda p: torch.optim.Adam(p, lr=0.01, foreach=False), 0.3),
    (lambda: Adam(0.02, weight_decay=0.05, l1=1.0),
     lambda p: torch.optim.Adam(p, lr=0.02, weight_decay=0.05, foreach=False), 1.0),
]
STEPS, N = 30, 20


def model_of(dtype=torch.float64):
    model = Sequential(Linear(3, 5, generator=torch.Generator().manual_seed(0), dtype=dtype), Tanh(),
                       Linear(5, 2, generator=torch.Generator().manual_seed(1), dtype=dtype))
    model.setLoss(MSE())
    with torch.no_grad():
        model[0].weight[0, 0] = 0.0  # a weight at the kink of |w|: sign(0) = 0 at the first step
    return model


def problem(dtype=torch.float64):
    gen = torch.Generator().manual_seed(2)
    return torch.randn(N, 3, generator=gen, dtype=dtype), torch.randn(N, 2, generator=gen, dtype=dtype)


def autograd_reference(theirs, l1):
    """The parameters after STEPS full-batch steps of torch.optim on autograd's gradient of
    MSE (the sum) + l1 * (|W1| + |W2|), the biases not in the penalty."""
    X, y = problem()
    w1, b1, w2, b2 = (p.detach().clone().requires_grad_() for p in model_of().parameters())
    optimizer = theirs([w1, b1, w2, b2])
    for _ in range(STEPS):
        optimizer.zero_grad()
        output = torch.tanh(X @ w1.T + b1) @ w2.T + b2
        loss = (output - y).pow(2).sum() + l1 * (w1.abs().sum() + w2.abs().sum())
        loss.backward()
        optimizer.step()
    return [p.detach() for p in (w1, b1, w2, b2)]


@pytest.mark.parametrize("ours, theirs, l1", CASES)
def test_l1_is_autograd_of_the_absolute_weights_on_the_optimizers_own_step(ours, theirs, l1):
    X, y = problem()
    model, optimizer = model_of(), ours()
    for _ in range(STEPS):
        model.forward(X)
        optimizer.step(model, model.backward(y))
    for mine, reference in zip(model.parameters(), autograd_reference(theirs, l1), strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("ours, theirs, l1", CASES)
def test_l1_is_autograd_of_the_absolute_weights_on_fits_flat_path(ours, theirs, l1):
    X, y = problem()
    model, optimizer = model_of(), ours()
    list(fit(model, X, y, STEPS, N, optimizer))  # one batch an epoch: one step each
    assert model.flat is not None and optimizer.flat_state is not None  # stepped on the flat tensors
    for mine, reference in zip(model.parameters(), autograd_reference(theirs, l1), strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [lambda: SGD(1e-3, l1=0.05), lambda: SGD(1e-3, momentum=0.9, l1=0.05),
                                  lambda: SGD(1e-3, weight_decay=1e-3, l1=0.05), lambda: Adam(1e-2, l1=0.01)])
def test_fits_flat_path_equals_the_hand_written_loop_bit_for_bit(make):
    X, labels = disc(200, seed=0)
    y = one_hot(labels)
    fitted, by_hand = (Sequential(Linear(2, 8, generator=torch.Generator().manual_seed(0)), Tanh(),
                                  Linear(8, 2, generator=torch.Generator().manual_seed(1))) for _ in range(2))
    fitted.setLoss(MSE()), by_hand.setLoss(MSE())
    list(fit(fitted, X, y, 3, 50, make()))
    assert fitted.flat is not None  # the flat path, plain SGD with L1 included
    optimizer = make()
    for _ in range(3):
        for s in range(0, 200, 50):
            by_hand.forward(X[s:s + 50])
            optimizer.step(by_hand, by_hand.backward(y[s:s + 50]))
    assert all(torch.equal(a, b) for a, b in zip(fitted.parameters(), by_hand.parameters(), strict=True))


def zero_gradient_step(optimizer, flat: bool):
    model = Sequential(Linear(2, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64))
    with torch.no_grad():
        model[0].weight[1, 1] = 0.0
    before = [p.clone() for p in model.parameters()]
    if flat:
        step, packed = sgd_step(model, optimizer)
        assert packed is not None
        step()
    else:
        optimizer.step(model, [torch.zeros_like(p) for p in model.parameters()])
    return model, before


@pytest.mark.parametrize("flat", [False, True])
def test_l1_moves_each_weight_by_its_sign_leaves_zero_weights_and_biases_alone(flat):
    model, (weight, bias) = zero_gradient_step(SGD(0.1, l1=0.5), flat)
    assert model[0].weight[1, 1] == 0.0  # sign(0) = 0
    assert torch.equal(model[0].weight, weight - 0.05 * torch.sign(weight))  # exactly eta * l1 toward 0
    assert torch.equal(model[0].bias, bias)  # biases are not penalized
    assert SGD.penalized(model.parameters()) == [True, False]


def test_l1_zero_is_the_step_without_l1():
    a, _ = zero_gradient_step(SGD(0.1, momentum=0.9, l1=0.0), flat=True)
    b, _ = zero_gradient_step(SGD(0.1, momentum=0.9), flat=True)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(0.1, l1=-0.1), "SGD l1 must be a finite number of at least 0, got -0.1"),
    (lambda: SGD(0.1, l1=math.inf), "SGD l1 must be a finite number of at least 0, got inf"),
    (lambda: Adam(l1=math.nan), "Adam l1 must be a finite number of at least 0, got nan"),
    (lambda: Adam(l1="0.1"), "Adam l1 must be a finite number of at least 0, got '0.1'"),
    (lambda: SGD(l1=True), "SGD l1 must be a finite number of at least 0, got True"),
])
def test_bad_l1_is_refused_with_a_sentence(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_l1_in_repr_pickles_and_saved_state():
    assert repr(SGD(0.1, l1=0.01)) == "SGD(eta=0.1, l1=0.01)"
    assert repr(Adam(l1=0.5)) == "Adam(eta=0.001, betas=(0.9, 0.999), eps=1e-08, l1=0.5)"
    copy = pickle.loads(pickle.dumps(Adam(0.01, l1=0.25)))
    assert copy.l1 == 0.25
    older = Adam(0.01).__getstate__()
    del older["l1"]  # an optimizer pickled before it had an l1
    restored = Adam.__new__(Adam)
    restored.__dict__.update(older)  # what unpickling does
    assert restored.l1 == 0.0


def test_state_saved_halfway_and_restored_continues_bit_for_bit_with_l1():
    X, y = problem()
    whole, halves = model_of(), model_of()
    list(fit(whole, X, y, 10, 5, Adam(0.01, l1=0.1)))
    first = Adam(0.01, l1=0.1)
    list(fit(halves, X, y, 5, 5, first))
    second = Adam(0.01, l1=0.1)
    second.load_state_tensors({k: v.clone() for k, v in first.state_tensors().items()}, halves.parameters())
    list(fit(halves, X, y, 5, 5, second))
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), halves.parameters(), strict=True))
