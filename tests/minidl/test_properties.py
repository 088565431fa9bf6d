"""Property tests over random stacks, shapes, dtypes and batch sizes (issue 5).

Every call either works, exactly when its arguments are valid (and then its numbers match
torch.autograd), or raises ValueError with a sentence naming what was wrong: never an
IndexError or a RuntimeError from torch, never a silent broadcast.
"""

import re

import pytest
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st

from minidl import MSE, SGD, CrossEntropy, Linear, ReLU, Sequential, Sigmoid, Tanh

FLOATS = [torch.float32, torch.float64]
OTHER_DTYPES = [torch.float16, torch.int64]


@st.composite
def models(draw):
    width = in_features = draw(st.integers(1, 6))
    dtype, gen, modules = draw(st.sampled_from(FLOATS)), torch.Generator().manual_seed(draw(st.integers(0, 99))), []
    for _ in range(draw(st.integers(1, 3))):
        out = draw(st.integers(1, 6))
        modules.append(Linear(width, out, generator=gen, dtype=dtype))
        modules += [draw(st.sampled_from([ReLU, Tanh, Sigmoid]))() for _ in range(draw(st.integers(0, 2)))]
        width = out
    if draw(st.booleans()):
        modules.insert(0, draw(st.sampled_from([ReLU, Tanh, Sigmoid]))())
    model = Sequential(*modules)
    model.setLoss(MSE())
    assert (model.in_features, model.out_features) == (in_features, width)
    return model


@st.composite
def batches(draw, model):
    """``(x, y)``, usually valid, often wrong in exactly one way or more."""
    n = draw(st.sampled_from([1, 2, 5, 7, 0]))
    width, out = model.in_features, model.out_features
    x_shape = draw(st.sampled_from([(n, width), (n, width), (n, width + 1), (n,), (n, width, 1), (width,)]))
    y_shape = draw(st.sampled_from([(n, out), (n, out), (n,), (n, out + 1), (1, out), (n + 1, out)]))
    x_dtype, y_dtype = (draw(st.sampled_from([model.dtype] * 4 + FLOATS + OTHER_DTYPES)) for _ in range(2))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    return (torch.randn(x_shape, generator=gen, dtype=torch.float64).to(x_dtype),
            torch.randn(y_shape, generator=gen, dtype=torch.float64).to(y_dtype))


def problems_with(model, x, y=None):
    """Substrings an error message must contain, one per thing wrong with the arguments."""
    problems = []
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] != model.in_features:
        problems.append(str(tuple(x.shape)))
    elif x.dtype != model.dtype:
        problems.append(str(x.dtype))
    if y is not None and y.shape != (x.shape[0], model.out_features):
        problems.append(str(tuple(y.shape)))
    elif y is not None and y.dtype != model.dtype:
        problems.append(str(y.dtype))
    return problems


def expect(problems, call):
    """Run ``call``; it must succeed when there are no problems and raise a ValueError naming one otherwise."""
    if not problems:
        return call()
    with pytest.raises(ValueError) as error:
        call()
    assert any(problem in str(error.value) for problem in problems), (problems, str(error.value))
    return None


def check_against_autograd(model, x, y, output, grads, oracle):
    want_output, _, want_grads = oracle(model.to(torch.float64), x.double(), y.double())
    tol = 1e-10 if x.dtype == torch.float64 else 1e-4
    torch.testing.assert_close(output.double(), want_output, rtol=tol, atol=tol)
    for got, want in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(got.double(), want, rtol=tol, atol=tol)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_forward_backward_predict_work_or_say_why(autograd_reference, data):
    model = data.draw(models())
    x, y = data.draw(batches(model))
    problems = problems_with(model, x)
    event("valid input" if not problems else "invalid input")
    predicted = expect(problems, lambda: model.predict(x))
    output = expect(problems, lambda: model.forward(x))
    if output is None:
        return
    assert torch.equal(predicted, output)
    assert output.shape == (x.shape[0], model.out_features) and output.dtype == model.dtype
    output = output.clone()
    grads = expect(problems_with(model, x, y), lambda: model.backward(y))
    if grads is not None:
        check_against_autograd(model, x, y, output, [g.clone() for g in grads], autograd_reference)


@settings(max_examples=100, deadline=None)
@given(data=st.data(), epochs=st.integers(-1, 2), batch_size=st.integers(-1, 8))
def test_train_works_or_says_why(data, epochs, batch_size):
    model = data.draw(models())
    x, y = data.draw(batches(model))
    problems = problems_with(model, x, y)
    if epochs < 0:
        problems.append(f"epochs must be an integer of at least 0, got {epochs}")
    if batch_size < 1:
        problems.append(f"mini_batch_size must be an integer of at least 1, got {batch_size}")
    event("valid arguments" if not problems else "invalid arguments")
    history = expect(problems, lambda: model.train(x, y, epochs, batch_size, SGD(eta=1e-3)))
    if history is not None:
        assert len(history) == epochs and all(isinstance(loss, float) for loss in history)


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from([Linear, ReLU, Tanh]), width=st.integers(1, 5),
       shape=st.lists(st.integers(0, 6), min_size=1, max_size=3),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.int64, torch.int32, torch.bool]))
def test_a_direct_module_call_works_or_names_the_module(kind, width, shape, dtype):
    module = Linear(width, 3) if kind is Linear else kind()  # float32 weights
    x = torch.ones(shape, dtype=dtype)
    valid = len(shape) == 2 and shape[0] > 0 and (kind is not Linear or shape[1] == width) and \
        (dtype == torch.float32 or (dtype == torch.float64 and kind is not Linear))
    if valid:
        assert module.forward(x).shape == (shape[0], 3 if kind is Linear else shape[1])
    else:
        with pytest.raises(ValueError, match=f"^{module!r} expects".replace("(", r"\(").replace(")", r"\)")):
            module.forward(x)


CALLS = [
    pytest.param(lambda x: Linear(3, 2).forward(x), id="Linear"),
    pytest.param(lambda x: Tanh().forward(x), id="Tanh"),
    pytest.param(lambda x: Sigmoid().forward(x), id="Sigmoid"),
    pytest.param(lambda x: CrossEntropy().compute(x, torch.full((4, 3), 1 / 3)), id="CrossEntropy.compute"),
    pytest.param(lambda x: CrossEntropy().gradient(x, torch.full((4, 3), 1 / 3)), id="CrossEntropy.gradient"),
    pytest.param(lambda x: MSE().compute(x, torch.zeros(4, 3)), id="MSE.compute"),
    pytest.param(lambda x: MSE().gradient(x, torch.zeros(4, 3)), id="MSE.gradient"),
]


@pytest.mark.parametrize("call", CALLS)
def test_a_requires_grad_tensor_into_a_module_builds_no_graph(call):
    result = call(torch.rand(4, 3, requires_grad=True))
    assert not result.requires_grad and result.grad_fn is None


@pytest.mark.parametrize("module, x_shape, grad_shape", [(Linear(3, 2), (4, 3), (5, 2)), (ReLU(), (1, 3), (4, 3)),
                                                         (Tanh(), (1, 3), (4, 3)), (Tanh(), (4, 3), (4, 1))],
                         ids=["Linear", "ReLU broadcast", "Tanh broadcast", "Tanh"])
def test_backward_with_a_gradient_of_another_shape_names_the_module(module, x_shape, grad_shape):
    module.forward(torch.rand(x_shape))
    with pytest.raises(ValueError, match=re.escape(repr(module))):
        module.backward(torch.rand(grad_shape))
