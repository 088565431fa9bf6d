"""Calls that once gave wrong numbers or a torch error (issue 16, items 3, 6 and 7): now right, or a sentence."""

import math
import subprocess
import sys

import pytest
import torch

from minidl import MSE, SGD, CrossEntropy, Linear, ReLU, Sequential, Sigmoid, Tanh, fit
from minidl.data import disc, one_hot


def model_and_grads(dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    model = Sequential(Linear(3, 4, generator=gen, dtype=dtype), Tanh(), Linear(4, 2, generator=gen, dtype=dtype))
    model.setLoss(MSE())
    model.forward(torch.rand(5, 3, dtype=dtype))
    return model, [g.clone() for g in model.backward(torch.rand(5, 2, dtype=dtype))]


# -- 3. silent wrong answers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda grads: [torch.ones(1)] * 4, r"gradient 0 is torch.float32 \(1,\) on cpu, but parameter 0 is torch.float32 "
                                        r"\(4, 3\)"),
    (lambda grads: [torch.tensor(1.0)] * 4, r"gradient 0 is torch.float32 \(\) on cpu"),
    (lambda grads: [g[None] if g.dim() == 1 else g for g in grads], r"gradient 1 is torch.float32 \(1, 4\)"),
    (lambda grads: [g.long() for g in grads], "gradient 0 is torch.int64"),
    (lambda grads: [grads[0].t(), *grads[1:]], r"gradient 0 is torch.float32 \(3, 4\)"),
    (lambda grads: [grads[2], grads[3], grads[0], grads[1]], r"gradient 0 is torch.float32 \(2, 4\)"),
    (lambda grads: None, "SGD.step expects the list of gradient tensors that model.backward"),
    (lambda grads: [1.0] * 4, "SGD.step expects the list of gradient tensors"),
])
def test_foreign_gradients_are_refused_and_change_nothing(make, message):
    model, grads = model_and_grads()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=message):
        SGD(0.1).step(model, make(grads))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_a_layers_output_fed_back_in_gives_the_right_answer():
    layer = Linear(3, 3, generator=torch.Generator().manual_seed(0))
    x = torch.rand(4, 3)
    o = layer.forward(x)
    expected = (x @ layer.weight.T + layer.bias) @ layer.weight.T + layer.bias
    torch.testing.assert_close(layer.forward(o), expected)
    g = layer.backward(torch.ones(4, 3))
    torch.testing.assert_close(layer.backward(g), torch.ones(4, 3) @ layer.weight @ layer.weight)


def test_a_models_output_fed_back_in_gives_autograds_gradients(autograd_reference):
    gen = torch.Generator().manual_seed(1)
    model = Sequential(Linear(3, 3, generator=gen, dtype=torch.float64), Tanh(),
                       Linear(3, 3, generator=gen, dtype=torch.float64), ReLU())
    model.setLoss(MSE())
    x, target = torch.rand(5, 3, dtype=torch.float64), torch.rand(5, 3, dtype=torch.float64)
    first = model.forward(x)
    inner = first.clone()
    output = model.forward(first).clone()
    grads = model.backward(target)
    want_output, _, want_grads = autograd_reference(model, inner, target)
    torch.testing.assert_close(output, want_output, rtol=0, atol=1e-12)
    for got, want in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)
    # the gradients themselves fed back as a batch: the first layer's weight gradient is (3, 3) too
    weight_grad = model.grads()[0]
    kept = weight_grad.clone()
    torch.testing.assert_close(model.forward(weight_grad), model.predict(kept))


def test_one_module_in_two_sequentials_is_refused():
    shared = Linear(3, 3)
    first = Sequential(shared, Tanh())
    with pytest.raises(ValueError, match=r"Sequential argument 1, Linear\(3 -> 3\), already belongs to another "
                                         r"Sequential; .* pass a new one, e.g. Linear\(3, 3\)"):
        Sequential(Linear(3, 3), shared)
    del first  # once the first model is gone, the module is free again
    Sequential(Linear(3, 3), shared)


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64, torch.int32])
def test_non_float_dtypes_are_refused_with_a_sentence(dtype):
    with pytest.raises(ValueError, match=f"Linear needs a floating-point dtype such as torch.float32 or "
                                         f"torch.float64, got {dtype}"):
        Linear(2, 3, dtype=dtype)
    model = Sequential(Linear(2, 3), Tanh())
    with pytest.raises(ValueError, match=f"Sequential needs a floating-point dtype .* got {dtype}"):
        model.to(dtype)
    assert model.dtype == torch.float32  # unchanged


# -- 6. errors that were not ValueError ------------------------------------------------------------------------
def small_problem(dtype=torch.float32):
    X = torch.rand(20, 3, generator=torch.Generator().manual_seed(0), dtype=dtype)
    return X, torch.rand(20, 2, generator=torch.Generator().manual_seed(1), dtype=dtype)


def test_train_without_an_optimizer_is_a_sentence():
    model, _ = model_and_grads()
    with pytest.raises(ValueError, match=r"the optimizer must be an optimizer such as SGD\(eta=1e-3\), got None"):
        model.train(*small_problem(), 1, 5, None)


def test_a_step_size_the_dtype_cannot_hold_is_a_sentence():
    model, grads = model_and_grads()
    with pytest.raises(ValueError, match=r"SGD eta=3.5e\+38 is too large for torch.float32 parameters"):
        SGD(3.5e38).step(model, grads)
    with pytest.raises(ValueError, match=r"SGD eta=1e\+308 is too large for torch.float32 parameters"):
        model.train(*small_problem(), 1, 5, SGD(1e308))


def test_the_cli_says_so_for_a_huge_eta():
    result = subprocess.run([sys.executable, "-m", "minidl", "--epochs", "1", "--eta", "1e308"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("error: SGD eta=1e+308 is too large for torch.float32 parameters "
                                     "(at most 3.40282e+38)")


def disc_run(seed=1):
    """A Tanh model and data where eta=3e38 makes a bias infinite in epoch 1 while the loss stays finite."""
    X, labels = disc(100, seed=0)
    gen = torch.Generator().manual_seed(seed)
    model = Sequential(Linear(2, 4, generator=gen), ReLU(), Linear(4, 2, generator=gen), Tanh())
    model.setLoss(MSE())
    return model, X, one_hot(labels)


def test_non_finite_parameters_are_a_divergence_even_with_a_finite_loss():
    model, X, y = disc_run()
    records = list(fit(model, X, y, 3, 10, SGD(3e38)))
    assert [r.epoch for r in records] == [1] and records[0].diverged
    assert math.isfinite(records[0].loss)  # Tanh keeps the outputs, and so the loss, finite
    assert not torch.isfinite(model.parameters()[-1]).all()
    model, X, y = disc_run()
    with pytest.raises(ValueError, match="training diverged at epoch 1: a parameter became NaN or infinite; "
                                         "try a smaller step size than eta=3e"):
        model.train(X, y, 3, 10, SGD(3e38))


def test_layers_of_different_dtypes_are_refused_when_the_model_is_built():
    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\) \(linear1\) has torch.float64 parameters on cpu, but "
                                         r"the first layer's are torch.float32 on cpu"):
        Sequential(Linear(2, 3), Linear(3, 2, dtype=torch.float64))


def test_a_layer_too_large_for_memory_is_a_sentence():
    with pytest.raises(ValueError, match=r"Linear\(1000000 -> 1000000\) does not fit in memory"):
        Linear(10**6, 10**6)


@pytest.mark.parametrize("device", [pytest.param("cuda", marks=pytest.mark.skipif(torch.cuda.is_available(),
                                                                                  reason="this machine has CUDA")),
                                    "nope", "meta"])
def test_unusable_devices_are_a_sentence(device):
    with pytest.raises(ValueError, match=f"Linear cannot use device '{device}'"):
        Linear(2, 3, device=device)
    with pytest.raises(ValueError, match=f"Sequential cannot use device '{device}'"):
        Sequential(Linear(2, 3)).to(device)


# -- 7. NaN below Sequential ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("module", [Linear(2, 3), ReLU(), Tanh(), Sigmoid()], ids=repr)
def test_non_finite_input_to_a_module_is_refused(module, bad):
    with pytest.raises(ValueError, match=rf"the input of {type(module).__name__}\(.*\) contains NaN or infinite"):
        module.forward(torch.tensor([[bad, 0.0]]))


@pytest.mark.parametrize("method", ["forward", "local_grad"])
@pytest.mark.parametrize("loss", [MSE, CrossEntropy])
def test_a_non_finite_target_to_the_loss_is_refused(method, loss):
    target = torch.tensor([[math.nan, 0.0]])
    with pytest.raises(ValueError, match="the target contains NaN or infinite values"):
        getattr(loss(), method)(torch.zeros(1, 2), target)
    assert torch.isnan(MSE().forward(torch.tensor([[math.nan, 0.0]]), torch.zeros(1, 2)))  # an output may diverge
