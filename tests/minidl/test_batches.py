"""Mini-batch stepping and observing in the one training loop (minidl.training): the numbers of
an observed or stepped batch are the numbers the plain loop computes."""

import threading

import torch

from minidl import MSE, SGD, BatchRecord, Linear, ReLU, Sequential, Tanh, TrainingControl, fit
from minidl.data import disc, one_hot


def make_model(seed=0):
    gen = torch.Generator().manual_seed(seed)
    model = Sequential(Linear(2, 8, generator=gen), ReLU(), Linear(8, 2, generator=gen), Tanh())
    model.setLoss(MSE())
    return model


def make_data(n=95, seed=0):  # 95 points in batches of 10: nine full batches and a last one of 5
    X, labels = disc(n, seed=seed)
    return X, one_hot(labels)


def summed_mse(params, X, y):
    W0, b0, W1, b1 = params
    return float(((torch.tanh(torch.relu(X @ W0.T + b0) @ W1.T + b1) - y) ** 2).sum())


def test_observing_every_batch_changes_no_number():
    X, y = make_data()
    plain, observed = make_model(), make_model()
    plain_losses = [r.loss for r in fit(plain, X, y, 3, 10, SGD(1e-2))]
    control, seen = TrainingControl(), []
    control.observe(seen.append)
    observed_losses = [r.loss for r in fit(observed, X, y, 3, 10, SGD(1e-2), control)]
    assert observed_losses == plain_losses
    for a, b in zip(plain.parameters(), observed.parameters(), strict=True):
        assert torch.equal(a, b)
    assert [(r.epoch, r.index) for r in seen] == [(e, i) for e in (1, 2, 3) for i in range(10)]
    assert all(r.X is None and r.gradients is None for r in seen)  # untraced: the loss only
    # the batch losses of an epoch add up to its summed loss
    epoch1 = torch.tensor([r.loss for r in seen[:10]], dtype=torch.float64).sum().item()
    assert abs(epoch1 / len(X) - plain_losses[0]) < 1e-6


def test_a_traced_batch_holds_the_exact_numbers_of_its_step():
    X, y = make_data()
    model, eta = make_model(), 1e-2
    start = [p.clone() for p in model.parameters()]
    control, seen = TrainingControl(), []
    control.observe(seen.append, trace=True)
    list(fit(model, X, y, 1, 10, SGD(eta), control))
    first, last = seen[0], seen[-1]
    assert isinstance(first, BatchRecord) and first.index == 0 and last.index == 9
    assert torch.equal(first.X, X[:10]) and torch.equal(first.y, y[:10]) and last.X.shape == (5, 2)
    for p0, before in zip(start, first.parameters_before, strict=True):
        assert torch.equal(p0, before)
    # the gradient is the autograd gradient of the batch's summed loss at the weights before
    params = [p.clone().requires_grad_(True) for p in first.parameters_before]
    with torch.enable_grad():
        hidden = torch.relu(first.X @ params[0].T + params[1])
        loss = ((torch.tanh(hidden @ params[2].T + params[3]) - first.y) ** 2).sum()
        loss.backward()
    for ours, reference in zip(first.gradients, params, strict=True):
        torch.testing.assert_close(ours, reference.grad, rtol=1e-5, atol=1e-6)
    assert abs(first.loss - loss.item()) < 1e-5
    for before, grad, after in zip(first.parameters_before, first.gradients, first.parameters_after, strict=True):
        assert torch.equal(after, torch.add(before, grad, alpha=-eta))  # the SGD step, exactly
    assert abs(first.loss_after - summed_mse(first.parameters_after, first.X, first.y)) < 1e-5
    assert first.loss_after < first.loss  # a small step downhill
    # the next batch starts where this one ended, and the last batch leaves the model's weights
    for after, before in zip(first.parameters_after, seen[1].parameters_before, strict=True):
        assert torch.equal(after, before)
    for after, p in zip(last.parameters_after, model.parameters(), strict=True):
        assert torch.equal(after, p)


def test_step_batches_pauses_after_each_and_walks_into_the_next_epoch():
    X, y = make_data()
    control, seen, records = TrainingControl(paused=True), [], []
    control.observe(seen.append)
    stepped = threading.Event()
    control.on_wait = stepped.set
    model, reference = make_model(), make_model()
    thread = threading.Thread(target=lambda: records.extend(fit(model, X, y, 2, 10, SGD(1e-2), control)))
    thread.start()
    try:
        for presses in range(1, 13):  # 10 batches an epoch: press 11 and 12 are epoch 2's first two
            stepped.clear()
            control.step_batches(1)
            assert stepped.wait(timeout=10)
            assert control.paused and len(seen) == presses
        assert [(r.epoch, r.index) for r in seen[-3:]] == [(1, 9), (2, 0), (2, 1)]
        assert [r.epoch for r in records] == [1]  # epoch 1's loss recorded when its last batch finished
        control.resume()
        thread.join(timeout=10)
    finally:
        control.stop()
        thread.join(timeout=10)
    assert [r.epoch for r in records] == [1, 2] and len(seen) == 20
    assert [r.loss for r in records] == [r.loss for r in fit(reference, X, y, 2, 10, SGD(1e-2))]
    for a, b in zip(model.parameters(), reference.parameters(), strict=True):
        assert torch.equal(a, b)


def test_stepping_batches_without_an_observer_and_stepping_epochs_after():
    X, y = make_data()
    control = TrainingControl(paused=True)
    waited = threading.Event()
    control.on_wait = waited.set
    records = []
    thread = threading.Thread(target=lambda: records.extend(fit(make_model(), X, y, 3, 10, SGD(1e-2), control)))
    thread.start()
    try:
        waited.clear()
        control.step_batches(3)
        assert waited.wait(timeout=10) and records == []
        waited.clear()
        control.step(1)  # the rest of epoch 1
        assert waited.wait(timeout=10)
        assert [r.epoch for r in records] == [1] and control.paused and control.attention
    finally:
        control.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()
