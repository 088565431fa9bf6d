"""Sequential: construction, naming, printing, the whole backward against autograd, errors, autograd off."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from minidl import MSE, SGD, Linear, ReLU, Sequential, Tanh

# A random stack: the input width, then up to four Linear widths, each followed by up to two activations.
activations = st.lists(st.sampled_from([ReLU, Tanh]), max_size=2)
stacks = st.tuples(st.integers(1, 8), st.lists(st.tuples(st.integers(1, 8), activations), min_size=1, max_size=4))


def same(tensors, others):
    return len(tensors) == len(others) and all(a is b for a, b in zip(tensors, others, strict=True))


def build(stack, seed=0, dtype=torch.float64):
    width, blocks = stack
    gen, modules = torch.Generator().manual_seed(seed), []
    for out, activations in blocks:
        modules += [Linear(width, out, generator=gen, dtype=dtype)] + [kind() for kind in activations]
        width = out
    return Sequential(*modules)


def report_model():
    return Sequential(Linear(2, 25), ReLU(), Linear(25, 25), ReLU(), Linear(25, 25), ReLU(), Linear(25, 2), Tanh())


@settings(max_examples=60, deadline=None)
@given(stack=stacks, n=st.integers(1, 12), seed=st.integers(0, 2**31))
def test_backward_of_the_whole_stack_matches_autograd(randn, autograd_reference, stack, n, seed):
    model = build(stack, seed)
    model.setLoss(MSE())
    x, target = randn(seed, n, model.in_features), randn(seed + 1, n, model.out_features)
    output = model.forward(x).clone()
    grads = model.backward(target)
    expected_output, expected_loss, expected_grads = autograd_reference(model, x, target)
    torch.testing.assert_close(output, expected_output, rtol=0, atol=1e-10)
    torch.testing.assert_close(model.loss.compute(output, target), expected_loss, rtol=0, atol=1e-10)
    assert [g.shape for g in grads] == [p.shape for p in model.parameters()]
    for got, want in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


def test_parameters_and_grads_are_aligned_and_in_layer_order():
    model = Sequential(Linear(2, 3), Tanh(), Linear(3, 4))
    first, second = model[0], model[2]
    assert same(model.parameters(), [first.weight, first.bias, second.weight, second.bias])
    assert same(model.grads(), [first.weight_grad, first.bias_grad, second.weight_grad, second.bias_grad])
    assert same(model.returnLayerParams(), model.parameters()) and same(model.returnParamGrads(), model.grads())


def test_repr_and_names_look_like_torch():
    model = report_model()
    assert repr(model) == ("Sequential(\n  (linear0): Linear(2 -> 25)\n  (relu0): ReLU()\n"
                           "  (linear1): Linear(25 -> 25)\n  (relu1): ReLU()\n  (linear2): Linear(25 -> 25)\n"
                           "  (relu2): ReLU()\n  (linear3): Linear(25 -> 2)\n  (tanh0): Tanh()\n)")
    assert list(model.modules) == ["linear0", "relu0", "linear1", "relu1", "linear2", "relu2", "linear3", "tanh0"]
    assert (len(model), model.in_features, model.out_features) == (8, 2, 2)
    assert list(model) == list(model.modules.values()) and model[-1] is model.modules["tanh0"]


def test_construction_errors_are_sentences():
    with pytest.raises(ValueError, match=r"Linear\(4 -> 2\) \(linear1\) expects 4 input features, "
                                         r"but the layers before it produce 3"):
        Sequential(Linear(2, 3), ReLU(), Linear(4, 2))
    with pytest.raises(ValueError, match="Sequential needs at least one Linear layer"):
        Sequential(ReLU(), Tanh())
    with pytest.raises(ValueError, match=r"Sequential needs at least one module, e.g. Sequential\(Linear"):
        Sequential()
    with pytest.raises(ValueError, match=r"Sequential argument 1 must be a layer or an activation .* got 'relu'"):
        Sequential(Linear(2, 2), "relu")
    with pytest.raises(ValueError, match=r"Sequential argument 1 .* got MSE\(\); set the loss with setLoss"):
        Sequential(Linear(2, 2), MSE())
    with pytest.raises(ValueError, match=r"setLoss expects a loss such as MSE\(\), got ReLU\(\)"):
        Sequential(Linear(2, 2)).setLoss(ReLU())


def test_a_module_used_twice_is_refused_or_differentiated_correctly(randn, autograd_reference):
    shared = Linear(3, 3, dtype=torch.float64)
    try:
        model = Sequential(shared, Tanh(), shared)
    except ValueError as error:
        assert "linear" in str(error).lower()
        return
    model.setLoss(MSE())
    x, target = randn(0, 4, 3), randn(1, 4, 3)
    model.forward(x)
    got = [g.clone() for g in model.backward(target)]
    expected = autograd_reference(model, x, target)[2]
    torch.testing.assert_close(got[0], expected[0] + expected[2], rtol=0, atol=1e-10)


def test_forward_backward_and_train_without_a_loss_say_to_call_set_loss():
    model, x, y = report_model(), torch.rand(5, 2), torch.rand(5, 2)
    with pytest.raises(ValueError, match=r"no loss is set: call model.setLoss\(MSE\(\)\) before backward"):
        model.backward(y)
    with pytest.raises(ValueError, match=r"call model.setLoss\(MSE\(\)\) before training"):
        model.train(x, y, 1, 5, SGD(eta=1e-3))
    assert model.predict(x).shape == (5, 2)  # predicting needs no loss


def test_forward_without_a_loss_says_to_call_set_loss():
    with pytest.raises(ValueError, match="setLoss"):
        report_model().forward(torch.rand(5, 2))


def test_backward_before_forward_is_refused():
    model = report_model()
    model.setLoss(MSE())
    with pytest.raises(ValueError, match=r"backward needs an output: call model.forward\(x\) first"):
        model.backward(torch.rand(5, 2))


@pytest.mark.parametrize("method", ["forward", "predict"])
def test_wrong_input_names_the_first_layer_and_both_shapes(method):
    model = report_model()
    model.setLoss(MSE())
    call = getattr(model, method)
    with pytest.raises(ValueError, match=r"Linear\(2 -> 25\) \(the first layer\) expects .* \(N, 2\) .*got \(100, 3\)"):
        call(torch.rand(100, 3))
    with pytest.raises(ValueError, match=r"\(N, 2\) with N >= 1, got \(0, 2\)"):
        call(torch.rand(0, 2))
    with pytest.raises(ValueError, match=r"\(N, 2\) with N >= 1, got \(2,\)"):
        call(torch.rand(2))
    with pytest.raises(ValueError, match=r"parameters are torch.float32 on cpu, but .* is torch.float64 on cpu"):
        call(torch.rand(4, 2, dtype=torch.float64))


def test_wrong_target_shape_or_dtype_in_backward():
    model = report_model()
    model.setLoss(MSE())
    model.forward(torch.rand(5, 2))
    with pytest.raises(ValueError, match=r"MSE\(\) expects a target of the output's shape \(5, 2\), got \(5,\)"):
        model.backward(torch.zeros(5))
    with pytest.raises(ValueError, match=r"expects a target of dtype torch.float32 on cpu, got torch.float64"):
        model.backward(torch.zeros(5, 2, dtype=torch.float64))


def test_to_float64_moves_parameters_and_predict_matches_forward(randn):
    model = report_model().to(torch.float64)
    model.setLoss(MSE())
    assert model.dtype == torch.float64 and all(p.dtype == torch.float64 for p in model.parameters() + model.grads())
    x = randn(0, 7, 2)
    predicted = model.predict(x)
    assert torch.equal(predicted, model.forward(x))
    assert model.predict(x).data_ptr() != predicted.data_ptr()  # predict returns fresh tensors


def test_predict_and_other_batch_sizes_between_forward_and_backward_change_nothing(randn, autograd_reference):
    model = build((3, [(5, [ReLU]), (4, [Tanh, ReLU]), (2, [])]), seed=1)
    model.setLoss(MSE())
    x, target = randn(0, 6, 3), randn(1, 6, 2)
    output = model.forward(x)
    model.predict(randn(2, 9, 3))  # e.g. the playground drawing its decision boundary
    model.loss.compute(output, target)
    grads = model.backward(target)
    for got, want in zip(grads, autograd_reference(model, x, target)[2], strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("entry", ["forward", "predict", "train"])
def test_public_entry_points_run_with_autograd_off(entry):
    model = report_model()
    model.setLoss(MSE())
    X = torch.rand(10, 2, requires_grad=True)
    y = torch.rand(10, 2, requires_grad=True)
    if entry == "train":
        history = model.train(X, y, 2, 5, SGD(eta=1e-3))
        assert len(history) == 2
        output = model.forward(X)
        grads = model.backward(y)
        assert not any(g.requires_grad or g.grad_fn for g in grads)
    else:
        output = getattr(model, entry)(X)
    assert not output.requires_grad and output.grad_fn is None
    assert not any(p.requires_grad for p in model.parameters())
    assert torch.is_grad_enabled()  # and the caller's autograd state is left as it was


@pytest.mark.parametrize("twice, label", [(lambda: Linear(3, 3), "linear1"), (ReLU, "relu0")], ids=["Linear", "ReLU"])
def test_the_same_module_object_twice_is_refused_with_a_sentence(twice, label):
    shared = twice()
    name = type(shared).__name__
    with pytest.raises(ValueError, match=rf"Sequential argument 3 is the same {name}\(.*\) object as argument 1 "
                                         rf"\({label}\); a module can appear only once, so pass a new one, "
                                         rf"e\.g\. {name}\("):
        Sequential(Linear(3, 3), shared, Linear(3, 3), shared)
    Sequential(Linear(3, 3), twice(), Linear(3, 3), twice())  # two equal but distinct modules are fine


@pytest.mark.parametrize("first", [ReLU, Tanh])
def test_an_activation_first_never_modifies_the_callers_input(randn, autograd_reference, first):
    model = Sequential(first(), Linear(3, 4, dtype=torch.float64), Tanh(), Linear(4, 2, dtype=torch.float64))
    model.setLoss(MSE())
    x, target = randn(0, 5, 3), randn(1, 5, 2)
    kept = x.clone()
    model.forward(x)
    grads = model.backward(target)
    model.predict(x)
    assert torch.equal(x, kept)
    for got, want in zip(grads, autograd_reference(model, kept, target)[2], strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("chain", [(Tanh, ReLU), (ReLU, Tanh), (Tanh, Tanh), (ReLU, ReLU, Tanh)],
                         ids=lambda chain: "-".join(kind.__name__ for kind in chain))
def test_an_activation_after_an_activation_gets_the_right_gradients(randn, autograd_reference, chain):
    gen = torch.Generator().manual_seed(4)
    model = Sequential(Linear(3, 6, generator=gen, dtype=torch.float64), *[kind() for kind in chain],
                       Linear(6, 2, generator=gen, dtype=torch.float64), *[kind() for kind in chain])
    model.setLoss(MSE())
    for step in range(2):  # the second pass reuses every buffer
        x, target = randn(2 * step, 7, 3), randn(2 * step + 1, 7, 2)
        output = model.forward(x).clone()
        grads = [g.clone() for g in model.backward(target)]
        want_output, _, want_grads = autograd_reference(model, x, target)
        torch.testing.assert_close(output, want_output, rtol=0, atol=1e-12)
        for got, want in zip(grads, want_grads, strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("method", ["forward", "predict"])
def test_non_finite_input_to_forward_or_predict_is_refused(method, bad):
    model = report_model()
    model.setLoss(MSE())
    x = torch.rand(5, 2)
    x[2, 1] = bad
    with pytest.raises(ValueError, match=r"^(input|X) contains NaN or infinite values; clean or drop those rows first"):
        getattr(model, method)(x)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_target_in_backward_is_refused_and_changes_nothing(bad):
    model = report_model()
    model.setLoss(MSE())
    model.forward(torch.rand(5, 2))
    grads_before = [g.clone() for g in model.grads()]
    target = torch.rand(5, 2)
    target[0, 0] = bad
    with pytest.raises(ValueError, match=r"^the target contains NaN or infinite values"):
        model.backward(target)
    assert all(torch.equal(a, b) for a, b in zip(grads_before, model.grads(), strict=True))


def test_a_requires_grad_input_or_target_builds_no_graph():
    model = report_model()
    model.setLoss(MSE())
    x, target = torch.rand(5, 2, requires_grad=True), torch.rand(5, 2, requires_grad=True)
    output = model.forward(x)
    loss = model.loss.compute(output, target)
    grads = model.backward(target)
    for t in (output, loss, *grads, model.predict(x)):
        assert not t.requires_grad and t.grad_fn is None
