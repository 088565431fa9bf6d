"""Linear: forward and hand-written backward against torch.autograd, initialisation, errors."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl import Linear
from minidl.checks import unchecked

sizes = st.integers(1, 12)
seeds = st.integers(0, 2**31)


@settings(max_examples=60, deadline=None)
@given(n=sizes, fan_in=sizes, fan_out=sizes, seed=seeds)
def test_linear_forward_and_backward_match_autograd(randn, n, fan_in, fan_out, seed):
    layer = Linear(fan_in, fan_out, generator=torch.Generator().manual_seed(seed)).to(torch.float64)
    x, grad_output = randn(seed, n, fan_in), randn(seed + 1, n, fan_out)
    output = layer.forward(x).clone()
    grad_input = layer.backward(grad_output).clone()

    weight = layer.weight.clone().requires_grad_()
    bias = layer.bias.clone().requires_grad_()
    x_ref = x.clone().requires_grad_()
    expected = x_ref @ weight.T + bias
    expected.backward(grad_output)
    torch.testing.assert_close(output, expected.detach(), rtol=0, atol=1e-10)
    torch.testing.assert_close(grad_input, x_ref.grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(layer.weight_grad, weight.grad, rtol=0, atol=1e-10)
    torch.testing.assert_close(layer.bias_grad, bias.grad, rtol=0, atol=1e-10)
    assert [g.data_ptr() for g in layer.grads()] == [layer.weight_grad.data_ptr(), layer.bias_grad.data_ptr()]


@settings(max_examples=30, deadline=None)
@given(fan_in=sizes, fan_out=sizes, seed=seeds)
def test_local_grad_is_the_jacobian_of_one_row(randn, fan_in, fan_out, seed):
    layer = Linear(fan_in, fan_out, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    forward = unchecked(layer.forward)  # the math alone: the checked forward switches autograd off
    jacobian = torch.autograd.functional.jacobian(lambda row: forward(row[None])[0], randn(seed, fan_in))
    torch.testing.assert_close(layer.local_grad(), jacobian, rtol=0, atol=1e-10)


def test_xavier_uniform_bounds_and_reproducible_seed():
    layer = Linear(40, 60, generator=torch.Generator().manual_seed(0))
    bound = math.sqrt(6 / (40 + 60))
    for p in layer.parameters():
        assert p.abs().max() <= bound
        assert p.abs().max() > 0.9 * bound  # 2,460 draws reach close to the bound
    again = Linear(40, 60, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.weight, layer.weight) and torch.equal(again.bias, layer.bias)


@pytest.mark.parametrize("init", ["xavier", "xavier_normal", "he"])
def test_every_initialisation_gives_finite_nonconstant_weights(init):
    layer = Linear(30, 20, init=init, generator=torch.Generator().manual_seed(1))
    assert torch.isfinite(layer.weight).all() and layer.weight.std() > 0.05


def test_parameters_follow_dtype_and_repr():
    layer = Linear(25, 2).to(torch.float64)
    assert [p.dtype for p in layer.parameters() + layer.grads()] == [torch.float64] * 4
    assert repr(layer) == "Linear(25 -> 2)"
    assert [tuple(p.shape) for p in layer.returnLayerParams()] == [(2, 25), (2,)]


def test_wrong_input_shape_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"Linear\(25 -> 2\) expects input of shape \(N, 25\).*got \(100, 3\)"):
        Linear(25, 2).forward(torch.rand(100, 3))


@pytest.mark.parametrize("x, got", [(torch.rand(25), r"\(25,\)"), (torch.rand(2, 3, 25), r"\(2, 3, 25\)"),
                                    (torch.rand(0, 25), r"\(0, 25\)")])
def test_wrong_rank_or_empty_batch_is_refused(x, got):
    with pytest.raises(ValueError, match=rf"Linear\(25 -> 2\) expects input of shape \(N, 25\) with N >= 1, got {got}"):
        Linear(25, 2).forward(x)


def test_non_tensor_and_integer_inputs_are_refused():
    with pytest.raises(ValueError, match=r"Linear\(2 -> 3\) expects a torch.Tensor, got list"):
        Linear(2, 3).forward([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"Linear\(2 -> 3\) expects a floating-point tensor, got torch.int64"):
        Linear(2, 3).forward(torch.ones(4, 2, dtype=torch.long))


def test_input_of_another_float_dtype_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match=r"Linear\(2 -> 3\).*torch.float32.*torch.float64"):
        Linear(2, 3).forward(torch.rand(4, 2, dtype=torch.float64))


@pytest.mark.parametrize("width", [0, -3, True, False, 2.0, "2", None])
@pytest.mark.parametrize("which", ["in_features", "out_features"])
def test_widths_must_be_positive_integers(width, which):
    args = {"in_features": 2, "out_features": 2, which: width}
    with pytest.raises(ValueError, match=rf"Linear {which} must be an integer of at least 1, got {width!r}"):
        Linear(**args)


def test_unknown_init_and_backward_before_forward_are_refused():
    with pytest.raises(ValueError, match="Linear init must be one of xavier, xavier_normal, he, got 'zeros'"):
        Linear(2, 2, init="zeros")
    with pytest.raises(ValueError, match=r"Linear\(2 -> 2\): call forward before backward"):
        Linear(2, 2).backward(torch.rand(3, 2))


def test_backward_refuses_a_gradient_of_another_dtype_or_type_with_a_sentence():
    layer = Linear(3, 2)
    layer.forward(torch.rand(4, 3))
    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\) expects a gradient of dtype torch.float32 on cpu, "
                                         r"got torch.float64 on cpu"):
        layer.backward(torch.rand(4, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"Linear\(3 -> 2\) expects the gradient as a torch.Tensor, got list"):
        layer.backward([[0.0, 0.0]] * 4)


def test_kept_transposes_follow_the_weight_and_the_gradient_wherever_they_move():
    layer, x = Linear(3, 2), torch.rand(4, 3)
    layer.forward(x)
    layer.weight.data = torch.ones(2, 3)  # the same object at a new address
    torch.testing.assert_close(layer.forward(x), x @ torch.ones(3, 2) + layer.bias)
    g = torch.rand(4, 2)
    layer.backward(g)
    g.data = torch.ones(4, 2)  # the same gradient object, new storage and values
    layer.backward(g)
    torch.testing.assert_close(layer.weight_grad, torch.ones(2, 4) @ x)
    torch.testing.assert_close(layer.bias_grad, torch.full((2,), 4.0))


def test_the_first_module_of_a_model_skips_the_input_gradient_and_still_fills_its_own():
    from minidl import MSE, Sequential, Tanh
    model = Sequential(Linear(3, 2), Tanh())
    model.setLoss(MSE())
    model.forward(torch.rand(4, 3))
    grads = model.backward(torch.rand(4, 2))
    assert model[0].input_grad is False and all(torch.isfinite(g).all() for g in grads)
    assert Linear(3, 2).input_grad is True
