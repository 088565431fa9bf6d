"""Each fast backward held to its textbook form, computed here with plain torch ops in float64.

The modules compute their backward in cheaper forms (dL/db as a product with a vector of ones,
ReLU' as sign(y), Tanh' as g - (g y) y, MSE's 2 d as d + d, the softmax's Jacobian folded into
p - t), and the training plan runs them into kept buffers and over their own arguments; the
optimizers run on flat packed tensors. The forms the docstrings state are written out below,
and each fast path must give them: exactly where the fast form is exact, else to float64's
last few bits. The comparisons with torch.autograd and torch.optim live beside each module's tests.
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl import MSE, SGD, Adam, CrossEntropy, Linear, ReLU, Sequential, Sigmoid, Tanh, fit
from minidl.data import one_hot

TIGHT = {"rtol": 1e-12, "atol": 1e-14}  # a few units in float64's last place, for sums in another order
seeds = st.integers(0, 2**31)
sizes = st.integers(1, 12)


# -- the textbook forms ------------------------------------------------------------------------------
def linear_textbook(x, weight, g):
    """dL/dx = g W, dL/dW = g^T x, dL/db = the sum of g over the batch."""
    return g @ weight, g.T @ x, g.sum(0)


ACTIVATION_TEXTBOOK = {
    ReLU: lambda x, y, g: g * (x > 0).to(g.dtype),  # g [x > 0]
    Tanh: lambda x, y, g: g * (1 - y * y),  # g (1 - y^2)
    Sigmoid: lambda x, y, g: g * y * (1 - y),  # g y (1 - y)
}
ACTIVATION_FORWARD = {ReLU: torch.relu, Tanh: torch.tanh, Sigmoid: torch.sigmoid}


def mse_textbook(y, t):
    """dL/dy = 2 (y - t): the sum over the batch, no 1/N."""
    return 2 * (y - t)


def cross_entropy_textbook(z, t):
    """The chain written out: p = softmax(z), dL/dp = -t / p, dL/dz = J^T dL/dp with the softmax's
    Jacobian J = diag(p) - p p^T of each row."""
    e = torch.exp(z)
    p = e / e.sum(1, keepdim=True)
    dp = -t / p
    jacobians = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return torch.einsum("nkj,nk->nj", jacobians, dp)


# -- each module against its textbook form ----------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(n=sizes, fan_in=sizes, fan_out=sizes, seed=seeds, with_out=st.booleans())
def test_linear_backward_is_g_w_and_g_transposed_x_and_the_batch_sum_of_g(randn, n, fan_in, fan_out, seed, with_out):
    layer = Linear(fan_in, fan_out, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    x, g = randn(seed, n, fan_in), randn(seed + 1, n, fan_out)
    layer.forward(x)
    out = torch.empty(n, fan_in, dtype=torch.float64) if with_out else None
    dx = layer.backward(g, out) if with_out else layer.backward(g)
    want_dx, want_dw, want_db = linear_textbook(x, layer.weight, g)
    torch.testing.assert_close(dx, want_dx, **TIGHT)
    torch.testing.assert_close(layer.weight_grad, want_dw, **TIGHT)
    torch.testing.assert_close(layer.bias_grad, want_db, **TIGHT)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from([ReLU, Tanh, Sigmoid]), shape=st.tuples(sizes, sizes), seed=seeds,
       in_place=st.booleans(), zeros=st.booleans())
def test_activation_backward_is_its_textbook_form(randn, kind, shape, seed, in_place, zeros):
    x = 3 * randn(seed, *shape)  # out to where tanh and the sigmoid saturate
    if zeros:
        x[::2] = 0.0  # ReLU's kink: [0 > 0] is 0
    g = randn(seed + 1, *shape)
    module = kind()
    if in_place:  # as the training plan runs it: forward over its input, backward over the gradient
        y = module.forward(buffer := x.clone(), buffer)
        dx = module.backward(grad := g.clone(), grad)
    else:
        y, dx = module.forward(x), module.backward(g)
    want = ACTIVATION_TEXTBOOK[kind](x, ACTIVATION_FORWARD[kind](x), g)
    torch.testing.assert_close(y, ACTIVATION_FORWARD[kind](x), rtol=0, atol=0)
    if kind is ReLU:
        assert torch.equal(dx, want)  # a product with 0 or 1: exact
    else:
        torch.testing.assert_close(dx, want, **TIGHT)


@settings(max_examples=40, deadline=None)
@given(n=sizes, k=sizes, seed=seeds, with_out=st.booleans())
def test_mse_backward_is_twice_the_difference_exactly(randn, n, k, seed, with_out):
    y, t = randn(seed, n, k), randn(seed + 1, n, k)
    loss = MSE()
    if with_out:
        buffer = torch.empty(n, k, dtype=torch.float64)
        loss.forward(y, t, out=buffer)
        grad = loss.backward(out=buffer)
    else:
        loss.forward(y, t)
        grad = loss.backward()
    assert torch.equal(grad, mse_textbook(y, t))  # d + d is 2 d, exactly


@settings(max_examples=40, deadline=None)
@given(n=sizes, k=st.integers(2, 8), seed=seeds, soft=st.booleans(), with_out=st.booleans())
def test_cross_entropy_backward_is_the_chain_through_the_softmax(randn, n, k, seed, soft, with_out):
    z = randn(seed, n, k)
    labels = torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed))
    t = torch.softmax(randn(seed + 1, n, k), 1) if soft else one_hot(labels, k, dtype=torch.float64)
    loss = CrossEntropy()
    if with_out:
        buffer = torch.empty(n, k, dtype=torch.float64)
        loss.forward(z, t, out=buffer)
        grad = loss.backward(out=buffer)
    else:
        loss.forward(z, t)
        grad = loss.backward()
    torch.testing.assert_close(grad, cross_entropy_textbook(z, t), rtol=1e-10, atol=1e-12)


# -- the training plan's passes, and fit's step, against the textbook chain ----------------------------
def lin(fan_in, fan_out, generator):
    return Linear(fan_in, fan_out, generator=generator, dtype=torch.float64)


STACKS = [  # (modules from a generator, loss, output width)
    (lambda g: [lin(3, 6, g), ReLU(), lin(6, 5, g), Tanh(), lin(5, 2, g)], MSE, 2),
    (lambda g: [lin(3, 4, g), Sigmoid(), lin(4, 3, g)], CrossEntropy, 3),
    (lambda g: [ReLU(), lin(3, 4, g), Tanh()], MSE, 4),
]


def textbook_grads(modules, loss_kind, x, target):
    """Every parameter gradient by the textbook forms, layer by layer, in ``parameters()`` order."""
    inputs, h = [], x
    for m in modules:
        inputs.append(h)
        h = h @ m.weight.T + m.bias if isinstance(m, Linear) else ACTIVATION_FORWARD[type(m)](h)
    g = mse_textbook(h, target) if loss_kind is MSE else cross_entropy_textbook(h, target)
    grads = []
    for m, x_in in zip(reversed(modules), reversed(inputs), strict=True):
        if isinstance(m, Linear):
            g, dw, db = linear_textbook(x_in, m.weight, g)
            grads[:0] = [dw, db]
        else:
            g = ACTIVATION_TEXTBOOK[type(m)](x_in, ACTIVATION_FORWARD[type(m)](x_in), g)
    return grads


def targets(loss_kind, seed, n, k):
    if loss_kind is MSE:
        return torch.randn(n, k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return one_hot(torch.randint(0, k, (n,), generator=torch.Generator().manual_seed(seed)), k, dtype=torch.float64)


@pytest.mark.parametrize("stack, loss_kind, k", STACKS)
def test_the_plans_passes_give_the_textbook_gradients_batch_after_batch(randn, stack, loss_kind, k):
    model = Sequential(*stack(torch.Generator().manual_seed(0)))
    model.setLoss(loss_kind())
    for batch in range(4):  # the first pass allocates; later ones write into kept buffers, in place
        x, target = randn(10 + batch, 7, 3), targets(loss_kind, 20 + batch, 7, k)
        model.forward(x)
        grads = model.backward(target)
        want = textbook_grads(list(model), loss_kind, x, target)
        for got, expected in zip(grads, want, strict=True):
            torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [lambda: SGD(0.01), lambda: SGD(0.01, momentum=0.9, weight_decay=0.1),
                                  lambda: Adam(0.01, weight_decay=0.01)])
def test_fits_flat_steps_follow_the_textbook_updates(randn, make):
    """fit packs the parameters and the optimizer state into flat tensors and steps them there:
    the result is the textbook update of each parameter on the textbook gradients."""
    model = Sequential(*STACKS[0][0](torch.Generator().manual_seed(1)))
    model.setLoss(MSE())
    X, y = randn(5, 12, 3), randn(6, 12, 2)
    optimizer = make()
    theta = [p.clone() for p in model.parameters()]
    state = [torch.zeros_like(p) for p in theta], [torch.zeros_like(p) for p in theta]
    for t in range(1, 7):  # two epochs of three batches of 4
        s = 4 * ((t - 1) % 3)
        mirror = Sequential(*STACKS[0][0](torch.Generator().manual_seed(1)))
        for p, value in zip(mirror.parameters(), theta, strict=True):
            p.copy_(value)
        grads = textbook_grads(list(mirror), MSE, X[s:s + 4], y[s:s + 4])
        theta = [textbook_update(optimizer, t, p, g, i, state) for i, (p, g) in enumerate(zip(theta, grads,
                                                                                              strict=True))]
    list(fit(model, X, y, 2, 4, optimizer))
    assert model.flat is not None  # the flat path ran
    for got, want in zip(model.parameters(), theta, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def textbook_update(optimizer, t, p, g, i, state):
    """SGD: b = mu b + g (b = g at first), theta - eta b, with g + lambda theta for L2 decay. Adam as
    Kingma and Ba print it: bias-corrected moments, theta - eta m_hat / (sqrt(v_hat) + eps)."""
    g = g + optimizer.weight_decay * p
    if isinstance(optimizer, SGD):
        if optimizer.momentum:
            state[0][i] = g if t == 1 else optimizer.momentum * state[0][i] + g
            g = state[0][i]
        return p - optimizer.eta * g
    (beta1, beta2), m, v = optimizer.betas, state[0], state[1]
    m[i] = beta1 * m[i] + (1 - beta1) * g
    v[i] = beta2 * v[i] + (1 - beta2) * g * g
    m_hat, v_hat = m[i] / (1 - beta1 ** t), v[i] / (1 - beta2 ** t)
    return p - optimizer.eta * m_hat / (torch.sqrt(v_hat) + optimizer.eps)


def test_fits_plain_sgd_steps_each_tensor_when_the_parameters_cannot_be_packed(randn):
    """A weight laid out unlike its gradient cannot be packed: fit then steps tensor by tensor,
    to the same numbers as the optimizer's own step."""
    def model_of():
        m = Sequential(*STACKS[0][0](torch.Generator().manual_seed(2)))
        m.setLoss(MSE())
        m[0].weight.data = m[0].weight.contiguous()  # (6, 3): its gradient is stored transposed
        return m

    X, y = randn(7, 12, 3), randn(8, 12, 2)
    fitted, by_hand = model_of(), model_of()
    list(fit(fitted, X, y, 2, 4, SGD(0.01)))
    assert fitted.flat is None
    optimizer = SGD(0.01)
    for _ in range(2):
        for s in range(0, 12, 4):
            by_hand.forward(X[s:s + 4])
            optimizer.step(by_hand, by_hand.backward(y[s:s + 4]))
    assert all(torch.equal(a, b) for a, b in zip(fitted.parameters(), by_hand.parameters(), strict=True))
