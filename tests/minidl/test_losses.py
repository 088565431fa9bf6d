"""MSE, the summed squared error: value, local gradient against torch.autograd, target checks."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl import MSE


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 16), k=st.integers(1, 8), seed=st.integers(0, 2**31))
def test_value_and_local_grad_match_autograd(randn, n, k, seed):
    output, target = randn(seed, n, k), randn(seed + 1, n, k)
    loss = MSE()
    out_ref = output.clone().requires_grad_()
    expected = ((out_ref - target) ** 2).sum()  # the course's convention: a sum, not a mean
    (expected_grad,) = torch.autograd.grad(expected, out_ref)
    torch.testing.assert_close(loss.compute(output, target), expected.detach(), rtol=0, atol=1e-10)
    torch.testing.assert_close(loss.local_grad(output, target).clone(), expected_grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(loss.gradient(output, target), expected_grad, rtol=0, atol=1e-10)


def test_sum_not_mean():
    assert MSE().compute(torch.zeros(4, 2), torch.ones(4, 2)).item() == 8.0


def test_loss_is_a_0d_tensor_of_the_output_dtype():
    value = MSE().forward(torch.rand(3, 2, dtype=torch.float64), torch.rand(3, 2, dtype=torch.float64))
    assert value.shape == () and value.dtype == torch.float64


@pytest.mark.parametrize("method", ["forward", "local_grad"])
def test_target_of_another_shape_is_refused(method):
    with pytest.raises(ValueError, match=r"MSE\(\) expects a target of the output's shape \(5, 2\), got \(5,\); "
                                         r"encode class labels with minidl.data.one_hot"):
        getattr(MSE(), method)(torch.rand(5, 2), torch.zeros(5))


@pytest.mark.parametrize("method", ["forward", "local_grad"])
def test_target_of_another_dtype_or_type_is_refused(method):
    with pytest.raises(ValueError, match=r"MSE\(\) expects a target of dtype torch.float32 on cpu, got torch.float64"):
        getattr(MSE(), method)(torch.rand(5, 2), torch.rand(5, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"MSE\(\) expects the target as a torch.Tensor, got list"):
        getattr(MSE(), method)(torch.rand(1, 2), [[0.0, 1.0]])


def test_no_silent_broadcast_of_a_row_target():
    with pytest.raises(ValueError, match=r"got \(1, 2\)"):
        MSE().compute(torch.rand(5, 2), torch.rand(1, 2))


def test_forward_keeps_the_difference_in_out_and_backward_writes_the_gradient_over_it():
    output, target, buffer = torch.rand(5, 2), torch.rand(5, 2), torch.empty(5, 2)
    loss = MSE()
    value = loss.forward(output, target, out=buffer)
    torch.testing.assert_close(value, ((output - target) ** 2).sum())
    assert torch.equal(buffer, output - target)
    assert loss.backward(out=buffer) is buffer and torch.equal(buffer, 2 * (output - target))
    with pytest.raises(ValueError, match="out="):
        loss.forward(output, target, out=torch.empty(4, 2))
