"""The extension contract: a module with only __init__, forward and backward trains in every loop."""

import pytest
import torch

from minidl import MSE, SGD, Linear, Module, Sequential, Tanh, fit
from minidl.data import disc, one_hot


# -- the README's example, as a user writes it: no buffers, no plan, no out= ----------------------------------
class LeakyReLU(Module):
    """LeakyReLU(x) = x where x > 0, else slope * x; its derivative is 1 or slope."""

    def __init__(self, slope=0.1):
        super().__init__()
        self.slope = slope

    def forward(self, x):
        self.x = x
        return torch.where(x > 0, x, self.slope * x)

    def backward(self, grad_output):
        return torch.where(self.x > 0, grad_output, self.slope * grad_output)  # dL/dx = g LeakyReLU'(x)


class Scale(Module):
    """y = x * w, one learnable factor per feature: dL/dw = sum_n g x, dL/dx = g w."""

    def __init__(self, features):
        super().__init__()
        self.w = torch.ones(features)
        self.w_grad = torch.zeros(features)

    def forward(self, x):
        self.x = x
        return x * self.w

    def backward(self, grad_output):
        self.w_grad = (grad_output * self.x).sum(0)  # a new tensor each time: the model asks for it afresh
        return grad_output * self.w

    def parameters(self):
        return [self.w]

    def grads(self):
        return [self.w_grad]


def autograd_of(module, x, grad_output, params=()):
    x = x.clone().requires_grad_()
    saved = [p.detach().clone() for p in params]
    for p in params:
        p.requires_grad_()
    try:
        y = module.forward(x)
        grads = torch.autograd.grad(y, [x, *params], grad_output)
    finally:
        for p, value in zip(params, saved, strict=True):
            p.requires_grad_(False).copy_(value)
    return y.detach(), grads


@pytest.mark.parametrize("make", [LeakyReLU, lambda: Scale(4)], ids=["LeakyReLU", "Scale"])
def test_a_user_module_matches_autograd(randn, make):
    module = make()
    if isinstance(module, Scale):
        module.w = randn(0, 4)
    x, g = randn(1, 6, 4), randn(2, 6, 4)
    x[0, :2] = 0.0  # the kink of LeakyReLU: autograd takes the slope there too
    want_y, want_grads = autograd_of(module, x, g, module.parameters())
    torch.testing.assert_close(module.forward(x), want_y, rtol=0, atol=1e-12)
    torch.testing.assert_close(module.backward(g), want_grads[0], rtol=0, atol=1e-12)
    for got, want in zip(module.grads(), want_grads[1:], strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def user_model(seed=0):
    gen = torch.Generator().manual_seed(seed)
    model = Sequential(Linear(2, 16, generator=gen), LeakyReLU(), Scale(16), Linear(16, 2, generator=gen), Tanh())
    model.setLoss(MSE())
    return model


def disc_data():
    X, labels = disc(200, seed=0)
    return X, one_hot(labels)


def test_a_sequential_with_user_modules_matches_autograd(randn):
    model = user_model().to(torch.float64)
    model[2].w = randn(5, 16)
    x, target = randn(3, 7, 2), randn(4, 7, 2)
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]
    w0, b0, scale, w1, b1 = params
    h = x @ w0.T + b0
    h = torch.where(h > 0, h, 0.1 * h) * scale
    loss = ((torch.tanh(h @ w1.T + b1) - target) ** 2).sum()
    want = torch.autograd.grad(loss, params)
    model.forward(x)
    for got, expected in zip(model.backward(target), want, strict=True):
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)


def test_user_modules_train_in_sequential_train():
    X, y = disc_data()
    history = user_model().train(X, y, 60, 20, SGD(eta=1e-2))
    assert history[-1] < history[0] / 3


def test_user_modules_train_in_the_reports_hand_written_loop():
    X, y = disc_data()
    model, optimizer = user_model(), SGD(eta=1e-2)
    first = model.loss.compute(model.predict(X), y).item()
    for _ in range(60):
        for b in range(0, 200, 20):
            model.forward(X[b:b + 20])
            optimizer.step(model, model.backward(y[b:b + 20]))
    assert model.loss.compute(model.predict(X), y).item() < first / 3


def test_user_modules_train_in_fit_as_the_playground_drives_it():
    X, y = disc_data()
    model = user_model()
    records = list(fit(model, X, y, 60, 20, SGD(eta=1e-2)))
    assert len(records) == 60 and not records[-1].diverged and records[-1].loss < records[0].loss / 3
    assert not torch.equal(model[2].w, torch.ones(16))  # the user's parameter trained too
    twin = user_model()  # and fit's numbers are the hand-written loop's
    optimizer = SGD(eta=1e-2)
    for _ in range(60):
        for b in range(0, 200, 20):
            twin.forward(X[b:b + 20])
            optimizer.step(twin, twin.backward(y[b:b + 20]))
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
