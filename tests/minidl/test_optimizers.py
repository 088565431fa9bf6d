"""SGD with momentum and weight decay, and Adam: bit-exact against torch.optim over 100 steps on
the same gradients; state saved and restored; bad settings refused; learning-rate schedules."""

import math

import pytest
import torch

from minidl import MSE, SGD, Adam, Linear, Sequential, Tanh, fit
from minidl.data import disc, one_hot
from minidl.schedules import Constant, Cosine, StepDecay

CASES = [
    (lambda: SGD(0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, foreach=False)),
    (lambda: SGD(0.05, weight_decay=0.01), lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01, foreach=False)),
    (lambda: SGD(0.02, momentum=0.5, weight_decay=0.1),
     lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.5, weight_decay=0.1, foreach=False)),
    (lambda: Adam(), lambda p: torch.optim.Adam(p, foreach=False)),
    (lambda: Adam(0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, foreach=False)),
]


def model_of(dtype):
    model = Sequential(Linear(3, 5, generator=torch.Generator().manual_seed(0), dtype=dtype), Tanh(),
                       Linear(5, 2, generator=torch.Generator().manual_seed(1), dtype=dtype))
    model.setLoss(MSE())
    return model


def gradient_stream(model, steps, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [[torch.randn(p.shape, generator=gen, dtype=torch.float64).to(p.dtype) for p in model.parameters()]
            for _ in range(steps)]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("ours, theirs", CASES)
def test_exact_against_torch_optim_over_100_steps(ours, theirs, dtype):
    model = model_of(dtype)
    reference = [p.detach().clone().requires_grad_() for p in model.parameters()]
    optimizer, torch_optimizer = ours(), theirs(reference)
    for grads in gradient_stream(model, 100):
        optimizer.step(model, [g.clone() for g in grads])
        for p, g in zip(reference, grads, strict=True):
            p.grad = g.clone()
        torch_optimizer.step()
    for mine, theirs_ in zip(model.parameters(), reference, strict=True):
        assert torch.equal(mine, theirs_.detach())  # bit for bit, not merely close


@pytest.mark.parametrize("ours, _theirs", CASES)
def test_state_saved_halfway_and_restored_continues_bit_for_bit(ours, _theirs):
    whole, halves = model_of(torch.float64), model_of(torch.float64)
    stream = gradient_stream(whole, 40)
    optimizer = ours()
    for grads in stream:
        optimizer.step(whole, grads)
    first = ours()
    for grads in stream[:20]:
        first.step(halves, grads)
    saved = {k: v.clone() for k, v in first.state_tensors().items()}
    second = ours()
    second.load_state_tensors(saved, halves.parameters())
    for grads in stream[20:]:
        second.step(halves, grads)
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), halves.parameters(), strict=True))


def test_plain_sgd_keeps_no_state_and_its_repr():
    assert SGD(0.1).state_tensors() == {} and SGD(0.1).stateless
    assert repr(SGD(0.1, momentum=0.9, weight_decay=1e-4)) == "SGD(eta=0.1, momentum=0.9, weight_decay=0.0001)"
    assert repr(Adam()) == "Adam(eta=0.001, betas=(0.9, 0.999), eps=1e-08)"


def test_loading_state_of_another_model_is_refused():
    optimizer = Adam()
    optimizer.step(model_of(torch.float64), gradient_stream(model_of(torch.float64), 1)[0])
    other = Sequential(Linear(3, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"the saved Adam state exp_avg.0 is missing, does not match parameter 0"):
        Adam().load_state_tensors(optimizer.state_tensors(), other.parameters())
    with pytest.raises(ValueError, match=r"holds exp_avg state for other parameters than this model's; call "
                                         r"optimizer.reset\(\)"):
        optimizer.step(other, [torch.zeros_like(p) for p in other.parameters()])
    optimizer.reset()
    optimizer.step(other, [torch.zeros_like(p) for p in other.parameters()])  # fresh state fits


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(0.1, momentum=1.0), r"SGD momentum must be a finite number from 0 up to \(not including\) 1"),
    (lambda: SGD(0.1, momentum=-0.1), "SGD momentum must be"),
    (lambda: SGD(0.1, weight_decay=math.nan), "SGD weight_decay must be a finite number of at least 0, got nan"),
    (lambda: Adam(0.0), "Adam eta must be a finite number above 0, got 0.0"),
    (lambda: Adam(betas=(0.9,)), r"Adam betas must be a pair \(beta1, beta2\)"),
    (lambda: Adam(betas=(0.9, 1.5)), "Adam beta2 must be"),
    (lambda: Adam(eps=-1), "Adam eps must be a finite number of at least 0"),
    (lambda: Adam(weight_decay="0.1"), "Adam weight_decay must be"),
])
def test_bad_settings_are_refused_with_a_sentence(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: StepDecay(every=0), "StepDecay every must be an integer of at least 1, got 0"),
    (lambda: StepDecay(gamma=-0.5), "StepDecay gamma must be a finite number of at least 0"),
    (lambda: Cosine(epochs=2.5), "Cosine epochs must be an integer of at least 1"),
    (lambda: Cosine(10, floor=1.0), r"Cosine floor must be a finite number from 0 up to \(not including\) 1"),
])
def test_bad_schedules_are_refused_with_a_sentence(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def data():
    X, labels = disc(200, seed=0)
    return X, one_hot(labels)


def test_fit_with_momentum_and_adam_equals_the_hand_written_loop():
    X, y = data()
    for make in (lambda: SGD(1e-3, momentum=0.9), lambda: Adam(1e-2, weight_decay=1e-3)):
        fitted, by_hand = (Sequential(Linear(2, 8, generator=torch.Generator().manual_seed(0)), Tanh(),
                                      Linear(8, 2, generator=torch.Generator().manual_seed(1))) for _ in range(2))
        fitted.setLoss(MSE()), by_hand.setLoss(MSE())
        fitting = make()
        list(fit(fitted, X, y, 3, 50, fitting))
        assert fitting.flat_state[1][0].numel() == 42  # fit stepped the flat state (minidl/plan.py)
        optimizer = make()
        for _ in range(3):
            for s in range(0, 200, 50):
                by_hand.forward(X[s:s + 50])
                optimizer.step(by_hand, by_hand.backward(y[s:s + 50]))
        assert all(torch.equal(a, b) for a, b in zip(fitted.parameters(), by_hand.parameters(), strict=True))


@pytest.mark.parametrize("schedule, torch_schedule", [
    (StepDecay(every=3, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    (Cosine(epochs=7), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7)),
    (Cosine(epochs=7, floor=0.1), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=0.01)),
])
def test_schedules_follow_torchs_schedulers(schedule, torch_schedule):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = torch_schedule(optimizer)
    for epoch in range(1, 8):
        assert 0.1 * schedule.factor(epoch) == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12, abs=1e-15)
        optimizer.step()
        scheduler.step()
    assert Cosine(5).factor(9) == 0.0 and Constant().factor(123) == 1.0


def test_fit_asks_the_schedule_each_epoch_and_continues_where_it_left_off():
    X, y = data()
    seen = []

    class Probe(SGD):
        def step(self, model, gradients):
            seen.append(self.eta_scale)
            super().step(model, gradients)

    model = Sequential(Linear(2, 2))
    model.setLoss(MSE())
    list(fit(model, X, y, 2, 100, Probe(1e-3), schedule=StepDecay(every=2, gamma=0.1), first_epoch=2))
    assert seen == [1.0, 1.0, 0.1, 0.1]  # epochs 2 and 3, two batches each
    optimizer = SGD(1e-3)
    list(fit(model, X, y, 1, 100, optimizer, schedule=StepDecay(every=1, gamma=0.5), first_epoch=3))
    assert optimizer.eta_scale == 0.25
    list(fit(model, X, y, 1, 100, optimizer))  # no schedule: the step size as set
    assert optimizer.eta_scale == 1.0
    with pytest.raises(ValueError, match="the schedule must be a schedule such as"):
        list(fit(model, X, y, 1, 100, optimizer, schedule=0.5))


def test_constant_schedule_changes_nothing():
    X, y = data()
    a, b = (Sequential(Linear(2, 2, generator=torch.Generator().manual_seed(3))) for _ in range(2))
    a.setLoss(MSE()), b.setLoss(MSE())
    la = [r.loss for r in fit(a, X, y, 3, 50, SGD(1e-3))]
    lb = [r.loss for r in fit(b, X, y, 3, 50, SGD(1e-3), schedule=Constant())]
    assert la == lb and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_a_pickled_optimizer_carries_its_state_and_not_the_plans_packed_copy():
    """The playground sends an optimizer to its training process: the plan's packed state belongs to one model."""
    import pickle

    torch.manual_seed(0)
    X, labels = disc(64)
    model = Sequential(Linear(2, 8), Tanh(), Linear(8, 2))
    model.setLoss(MSE())
    optimizer = Adam(1e-2)
    list(fit(model, X, one_hot(labels), 2, 16, optimizer))
    assert optimizer.flat_state is not None  # fit's plan packed it
    copy = pickle.loads(pickle.dumps(optimizer))
    assert copy.flat_state is None and copy.step_count == optimizer.step_count == 8
    for key, value in optimizer.state_tensors().items():
        assert torch.equal(copy.state_tensors()[key], value)
    assert "flat_state" not in optimizer.__getstate__() and optimizer.flat_state is not None  # the original keeps it
