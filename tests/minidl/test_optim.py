"""SGD: the in-place update and its step-size checks."""

import math

import pytest
import torch

from minidl import MSE, SGD, Linear, Sequential, Tanh


def model_with_grads():
    model = Sequential(Linear(3, 4, generator=torch.Generator().manual_seed(0)), Tanh(), Linear(4, 2))
    model.setLoss(MSE())
    model.forward(torch.rand(5, 3, generator=torch.Generator().manual_seed(1)))
    return model, model.backward(torch.rand(5, 2, generator=torch.Generator().manual_seed(2)))


def test_step_updates_every_parameter_in_place():
    model, grads = model_with_grads()
    before = [p.clone() for p in model.parameters()]
    storage = [p.data_ptr() for p in model.parameters()]
    SGD(eta=0.25).step(model, grads)
    assert [p.data_ptr() for p in model.parameters()] == storage
    for old, new, grad in zip(before, model.parameters(), grads, strict=True):
        torch.testing.assert_close(new, old - 0.25 * grad)


def test_eta_can_change_between_steps():
    model, grads = model_with_grads()
    optimizer = SGD(eta=1e-3)
    optimizer.eta = 2
    before = model.parameters()[0].clone()
    optimizer.step(model, grads)
    torch.testing.assert_close(model.parameters()[0], before - 2 * grads[0])
    assert optimizer.eta == 2.0 and isinstance(optimizer.eta, float) and repr(optimizer) == "SGD(eta=2)"


@pytest.mark.parametrize("eta", [0, 0.0, -1e-3, math.nan, math.inf, -math.inf, True, "0.1", None])
def test_eta_must_be_a_finite_positive_number(eta):
    with pytest.raises(ValueError, match=f"SGD eta must be a finite number above 0, got {eta!r}"):
        SGD(eta=eta)
    optimizer = SGD(eta=0.1)
    with pytest.raises(ValueError, match="SGD eta must be a finite number above 0"):
        optimizer.eta = eta
    assert optimizer.eta == 0.1  # a refused value leaves the old one


def test_step_refuses_a_gradient_list_of_the_wrong_length():
    model, grads = model_with_grads()
    with pytest.raises(ValueError, match=r"SGD.step got 3 gradients for 4 parameters; pass the list that "
                                         r"model.backward\(target\) returned"):
        SGD().step(model, grads[:3])


def trained(model, steps, fallback=False):
    """``model`` after ``steps`` SGD steps on fixed batches; with ``fallback``, the gradients are passed as
    copies, so SGD cannot use the flat-packed tensors and takes its ``_foreach_add_`` path."""
    optimizer, gen = SGD(eta=0.05), torch.Generator().manual_seed(3)
    for _ in range(steps):
        model.forward(torch.rand(6, 3, generator=gen))
        grads = model.backward(torch.rand(6, 2, generator=gen))
        optimizer.step(model, [g.clone() for g in grads] if fallback else grads)
    return [p.clone() for p in model.parameters()]


def fresh_model():
    gen = torch.Generator().manual_seed(0)
    model = Sequential(Linear(3, 5, generator=gen), Tanh(), Linear(5, 4, generator=gen), Tanh(),
                       Linear(4, 2, generator=gen))
    model.setLoss(MSE())
    return model


def test_the_flat_packed_step_equals_the_foreach_fallback():
    packed, fallback = fresh_model(), fresh_model()
    assert packed.packed_parameters() is not None
    for a, b in zip(trained(packed, 20), trained(fallback, 20, fallback=True), strict=True):
        assert torch.equal(a, b)


def test_to_float64_and_back_repacks_and_trains_identically():
    model, twin = fresh_model(), fresh_model().to(torch.float64).to(torch.float32)
    assert twin.dtype == torch.float32 and twin.packed_parameters() is not None
    flat = twin.packed_parameters().flat_params
    assert all(p.untyped_storage().data_ptr() == flat.untyped_storage().data_ptr() for p in twin.parameters())
    for a, b in zip(trained(model, 20), trained(twin, 20), strict=True):
        assert torch.equal(a, b)
