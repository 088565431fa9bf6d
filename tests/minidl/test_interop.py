"""The torch.nn boundary: to_torch and from_torch keep the weights and the outputs."""

import pytest
import torch
from torch import nn

from minidl import MSE, Linear, Module, ReLU, Sequential, Tanh


def report_model(dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    return Sequential(Linear(2, 25, generator=gen, dtype=dtype), ReLU(), Linear(25, 25, generator=gen, dtype=dtype),
                      Tanh(), Linear(25, 2, generator=gen, dtype=dtype), Tanh())


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_to_torch_gives_the_same_outputs(dtype, tol):
    model, x = report_model(dtype), torch.rand(64, 2, dtype=dtype)
    net = model.to_torch()
    assert [type(layer) for layer in net] == [nn.Linear, nn.ReLU, nn.Linear, nn.Tanh, nn.Linear, nn.Tanh]
    assert all(p.dtype == dtype and p.requires_grad for p in net.parameters())  # ready for torch.optim
    with torch.no_grad():
        torch.testing.assert_close(net(x), model.predict(x), rtol=tol, atol=tol)


def test_to_torch_copies_so_training_either_side_leaves_the_other_alone():
    model = report_model()
    net = model.to_torch()
    before = [p.clone() for p in model.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_from_torch_imports_the_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
    model = Sequential.from_torch(net)
    assert repr(model) == ("Sequential(\n  (linear0): Linear(3 -> 8)\n  (tanh0): Tanh()\n  (linear1): Linear(8 -> 8)\n"
                           "  (relu0): ReLU()\n  (linear2): Linear(8 -> 2)\n)")
    x = torch.rand(16, 3)
    with torch.no_grad():
        torch.testing.assert_close(model.predict(x), net(x))
    assert not any(p.requires_grad for p in model.parameters())
    model.setLoss(MSE())
    model.forward(x)
    assert len(model.backward(torch.zeros(16, 2))) == 6  # an imported model trains like any other


def test_round_trip_through_torch_is_exact():
    model = report_model(torch.float64)
    back = Sequential.from_torch(model.to_torch())
    assert repr(back) == repr(model) and back.dtype == torch.float64
    assert all(torch.equal(a, b) for a, b in zip(back.parameters(), model.parameters(), strict=True))


@pytest.mark.parametrize("net, message", [
    (nn.Sequential(nn.Linear(2, 3), nn.Softmax(1)), "layer 1 is Softmax; minidl imports only Linear, ReLU, Tanh and "
                                                    "Sigmoid"),
    (nn.Sequential(nn.Sequential(nn.Linear(2, 3))), "layer 0 is Sequential; minidl imports only"),
    (nn.Sequential(nn.Linear(2, 3, bias=False)), "layer 0 is an nn.Linear without bias"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)), r"Linear\(4 -> 1\) \(linear1\) expects 4 input features"),
    (nn.Sequential(nn.ReLU()), "Sequential needs at least one Linear layer"),
    (nn.Linear(2, 3), "from_torch expects a torch.nn.Sequential, got Linear"),
])
def test_from_torch_refuses_what_minidl_cannot_hold(net, message):
    with pytest.raises(ValueError, match=message):
        Sequential.from_torch(net)


def test_to_torch_refuses_a_module_torch_has_no_counterpart_for():
    class Square(Module):
        def forward(self, x):
            return x * x

    with pytest.raises(ValueError, match=r"Square\(\) has no torch.nn counterpart; to_torch exports only Linear"):
        Sequential(Linear(2, 2), Square()).to_torch()


def test_sigmoid_crosses_the_boundary_both_ways_and_saves(tmp_path):
    from minidl import Sigmoid, load, save

    gen = torch.Generator().manual_seed(0)
    model = Sequential(Linear(2, 6, generator=gen, dtype=torch.float64), Sigmoid(),
                       Linear(6, 3, generator=gen, dtype=torch.float64))
    net = model.to_torch()
    assert [type(layer) for layer in net] == [nn.Linear, nn.Sigmoid, nn.Linear]
    x = torch.rand(20, 2, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(net(x), model.predict(x), rtol=1e-12, atol=1e-12)
    back = Sequential.from_torch(net)
    assert repr(back) == repr(model) and torch.equal(back.predict(x), model.predict(x))
    save(model, tmp_path / "sigmoid.safetensors")
    assert torch.equal(load(tmp_path / "sigmoid.safetensors").predict(x), model.predict(x))
