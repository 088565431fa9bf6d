"""SGD: the in-place update and its step-size checks."""

import math

import pytest
import torch

from minidl import MSE, SGD, Linear, Sequential, Tanh, fit


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


def fresh_model():
    gen = torch.Generator().manual_seed(0)
    model = Sequential(Linear(3, 5, generator=gen), Tanh(), Linear(5, 4, generator=gen), Tanh(),
                       Linear(4, 2, generator=gen))
    model.setLoss(MSE())
    return model


class PlainSGD(SGD):
    """SGD whose step fit must call as written: no flat parameters, one ``add_`` per parameter tensor."""

    def step(self, model, gradients):
        super().step(model, gradients)


def fitted(model, optimizer, epochs=5):
    X = torch.rand(30, 3, generator=torch.Generator().manual_seed(3))
    y = torch.rand(30, 2, generator=torch.Generator().manual_seed(4))
    records = list(fit(model, X, y, epochs, 7, optimizer))  # batches of 7 and a last one of 2
    return [r.loss for r in records], [p.clone() for p in model.parameters()]


def test_fits_flat_sgd_step_equals_the_optimizers_own_step():
    flat, plain = fresh_model(), fresh_model()
    flat_losses, flat_params = fitted(flat, SGD(eta=0.05))
    plain_losses, plain_params = fitted(plain, PlainSGD(eta=0.05))
    assert flat_losses == plain_losses
    assert all(torch.equal(a, b) for a, b in zip(flat_params, plain_params, strict=True))
    assert flat.flat is not None and plain.flat is None
    assert all(p.untyped_storage().data_ptr() == flat.flat.flat_params.untyped_storage().data_ptr()
               for p in flat.parameters())


def test_a_weight_replaced_through_data_is_used_and_trained():
    model = fresh_model()
    x = torch.rand(4, 3)
    fitted(model, SGD(eta=0.05), 1)  # packs the parameters into one flat tensor
    model.forward(x)
    layer = model[0]
    layer.weight.data = torch.zeros(5, 3)  # the same object, new storage: no stale W^T view may survive
    h = torch.tanh(x @ layer.weight.T + layer.bias)
    h = torch.tanh(h @ model[2].weight.T + model[2].bias)
    torch.testing.assert_close(model.forward(x), h @ model[4].weight.T + model[4].bias)
    fitted(model, SGD(eta=0.05), 1)
    assert layer.weight.abs().sum() > 0  # trained where it lives now


def test_to_float64_and_back_trains_identically():
    model, twin = fresh_model(), fresh_model().to(torch.float64).to(torch.float32)
    assert twin.dtype == torch.float32
    for a, b in zip(fitted(model, SGD(eta=0.05))[1], fitted(twin, SGD(eta=0.05))[1], strict=True):
        assert torch.equal(a, b)


def test_pack_keeps_its_flat_tensors_only_while_every_tensor_is_at_its_place():
    from minidl.plan import pack

    p, q, g, h = torch.ones(3), torch.ones(2), torch.zeros(3), torch.zeros(2)
    packed = pack([p, q], [g, h])
    assert pack([p, q], [g, h], packed) is packed  # nothing moved: the per-epoch check passes
    assert pack([q, p], [h, g], packed) is None  # another order: not these flat tensors (and, sharing one
    # storage now, the tensors cannot be packed afresh: sgd_step then steps them one by one)
    q.set_(packed.flat_params.untyped_storage(), 0, (2,), (1,))  # moved within the flat storage, over p
    assert pack([p, q], [g, h], packed) is None
