"""ReLU and Tanh: forward, backward and local derivative against torch.autograd in float64."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl import ReLU, Sigmoid, Tanh

REFERENCE = {ReLU: torch.relu, Tanh: torch.tanh, Sigmoid: torch.sigmoid}
shapes = st.tuples(st.integers(1, 12), st.integers(1, 12))


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from([ReLU, Tanh, Sigmoid]), shape=shapes, seed=st.integers(0, 2**31), zeros=st.booleans())
def test_forward_backward_and_local_grad_match_autograd(randn, kind, shape, seed, zeros):
    x = randn(seed, *shape)
    if zeros:  # exact kinks: minidl and autograd both take ReLU'(0) = 0
        x[::2] = 0.0
    grad_output = randn(seed + 1, *shape)
    module = kind()
    output = module.forward(x).clone()
    grad_input = module.backward(grad_output).clone()
    local = module.local_grad().clone()

    x_ref = x.clone().requires_grad_()
    expected = REFERENCE[kind](x_ref)
    (expected_grad,) = torch.autograd.grad(expected, x_ref, grad_output)
    # The activation acts element-wise, so its Jacobian is diagonal: d sum(f(x)) / dx is that diagonal.
    (expected_local,) = torch.autograd.grad(REFERENCE[kind](x_ref).sum(), x_ref)
    torch.testing.assert_close(output, expected.detach(), rtol=0, atol=1e-10)
    torch.testing.assert_close(grad_input, expected_grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(local, expected_local, rtol=0, atol=1e-10)
    assert module.gradient().shape == x.shape


def test_relu_subgradient_at_zero_is_zero():
    relu = ReLU()
    relu.forward(torch.tensor([[-1.0, 0.0, 2.0]]))
    assert relu.backward(torch.ones(1, 3)).tolist() == [[0.0, 0.0, 1.0]]


def test_backward_output_keeps_dtype_and_activations_have_no_parameters():
    for module in (ReLU(), Tanh(), Sigmoid()):
        module.forward(torch.rand(3, 2, dtype=torch.float64))
        assert module.backward(torch.rand(3, 2, dtype=torch.float64)).dtype == torch.float64
        assert module.parameters() == [] and module.grads() == []


@pytest.mark.parametrize("kind", [ReLU, Tanh, Sigmoid])
def test_bad_inputs_name_the_activation(kind):
    name = rf"{kind.__name__}\(\)"
    shape = r"\(N, features\) with N >= 1"
    with pytest.raises(ValueError, match=rf"{name} expects input of shape {shape}, got \(2, 3, 4\)"):
        kind().forward(torch.rand(2, 3, 4))
    with pytest.raises(ValueError, match=rf"{name} expects input of shape .* got \(0, 3\)"):
        kind().forward(torch.rand(0, 3))
    with pytest.raises(ValueError, match=rf"{name} expects a floating-point tensor, got torch.int64"):
        kind().forward(torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=rf"{name}: call forward before backward"):
        kind().backward(torch.rand(2, 3))


def test_repr():
    assert (repr(ReLU()), repr(Tanh())) == ("ReLU()", "Tanh()")
