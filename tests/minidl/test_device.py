"""Tensors stay on their device: the same checks on the CPU and, where there is one, on a CUDA GPU."""

import pytest
import torch

import minidl
from minidl import MSE, SGD, Linear, ReLU, Sequential, Tanh
from minidl.data import disc, one_hot
from minidl.metrics import error_rate
from minidl.metrics import labels as labels_of

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA"))]


def model_on(device, dtype=torch.float64, in_features=3):
    gen = torch.Generator().manual_seed(0)  # weights are drawn on the CPU: the same numbers on every device
    model = Sequential(Linear(in_features, 6, generator=gen, dtype=dtype), ReLU(),
                       Linear(6, 2, generator=gen, dtype=dtype), Tanh()).to(device)
    model.setLoss(MSE())
    return model


@pytest.mark.parametrize("device", DEVICES)
def test_forward_and_backward_stay_on_the_device_and_match_autograd(device, randn, autograd_reference):
    model = model_on(device)
    x, y = randn(0, 8, 3).to(device), randn(1, 8, 2).to(device)
    output = model.forward(x).clone()
    grads = model.backward(y)
    assert model.device.type == device and output.device.type == device
    assert all(t.device.type == device for t in grads + model.parameters())
    want_output, _, want_grads = autograd_reference(model, x, y)
    torch.testing.assert_close(output, want_output, rtol=0, atol=1e-10)
    for got, want in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)
    cpu = model_on("cpu")
    torch.testing.assert_close(model.predict(x).cpu(), cpu.predict(x.cpu()), rtol=0, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_a_batch_on_another_device_is_refused_with_a_sentence(device):
    other = "meta" if device == "cpu" else "cpu"
    with pytest.raises(ValueError, match=f"the model's parameters are torch.float64 on {device}.* but X is "
                                         f"torch.float64 on {other}"):
        model_on(device).predict(torch.zeros(4, 3, dtype=torch.float64, device=other))


@pytest.mark.parametrize("device", DEVICES)
def test_training_saving_and_interop_from_the_device(device, tmp_path):
    X, labels = disc(200, seed=0)
    model = model_on(device, torch.float32, in_features=2)
    history = model.train(X.to(device), one_hot(labels.to(device)), 3, 50, SGD(eta=1e-3))
    assert len(history) == 3 and all(p.device.type == device for p in model.parameters())
    x = torch.rand(5, 2, device=device)
    predicted = labels_of(model.predict(x)).cpu()
    assert error_rate(model.predict(x), predicted) == 0.0 and error_rate(model.predict(x), 1 - predicted) == 100.0
    minidl.save(model, tmp_path / "model.safetensors")
    loaded = minidl.load(tmp_path / "model.safetensors")  # files hold CPU tensors; load gives a CPU model
    assert loaded.device.type == "cpu" and torch.equal(loaded.predict(x.cpu()), model.predict(x).cpu())
    net = model.to_torch()
    assert all(p.device.type == device for p in net.parameters())
    with torch.no_grad():
        torch.testing.assert_close(net(x), model.predict(x))
