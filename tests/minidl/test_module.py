"""The report's names are thin aliases of the PEP 8 methods, defined once; module buffers."""

import pytest
import torch

from minidl import MSE, Linear, ReLU, Sequential, Tanh
from minidl.module import SeedNames

ALIASES = {"compute": "forward", "gradient": "local_grad", "propGrad": "backward",
           "returnParamGrads": "grads", "returnLayerParams": "parameters", "setLoss": "set_loss"}


def instances():
    return [Linear(2, 3), ReLU(), Tanh(), MSE(), Sequential(Linear(2, 3), Tanh())]


@pytest.mark.parametrize("obj", instances(), ids=repr)
def test_aliases_are_defined_once_in_seed_names(obj):
    for alias in ALIASES:
        assert getattr(type(obj), alias) is getattr(SeedNames, alias), f"{type(obj).__name__}.{alias} is redefined"


# Pairs whose PEP 8 twin exists on that class (a Linear has no set_loss, a Sequential no local_grad).
PAIRS = [(obj, alias, name) for obj in instances() for alias, name in ALIASES.items() if hasattr(obj, name)]


@pytest.mark.parametrize("obj, alias, name", PAIRS, ids=lambda p: p if isinstance(p, str) else type(p).__name__)
def test_each_alias_calls_its_pep8_twin(monkeypatch, obj, alias, name):
    calls = []

    def spy(*args):
        calls.append(args)
        return "sentinel"

    monkeypatch.setattr(obj, name, spy)
    args = () if alias in ("returnParamGrads", "returnLayerParams") else ("a", "b")[: 1 + (alias != "setLoss")]
    assert getattr(obj, alias)(*args) == "sentinel"
    assert calls == [args]


def test_aliases_give_the_same_numbers_as_the_pep8_names():
    layer, x = Linear(3, 2, generator=torch.Generator().manual_seed(0)), torch.rand(4, 3)
    assert torch.equal(layer.compute(x).clone(), layer.forward(x))
    g = torch.rand(4, 2)
    assert torch.equal(layer.propGrad(g).clone(), layer.backward(g))
    assert [id(t) for t in layer.returnParamGrads()] == [id(t) for t in layer.grads()]
    assert [id(t) for t in layer.returnLayerParams()] == [id(t) for t in layer.parameters()]
    assert layer.gradient() is layer.local_grad()


def test_a_module_call_returns_fresh_tensors_unless_given_out():
    relu = ReLU()
    first = relu.forward(torch.ones(2, 2))
    second = relu.forward(torch.full((2, 2), 3.0))
    assert first.data_ptr() != second.data_ptr() and first.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    buffer = torch.empty(2, 2)
    assert relu.forward(torch.full((2, 2), -1.0), out=buffer) is buffer and buffer.tolist() == [[0.0, 0.0]] * 2


def test_out_that_aliases_the_input_is_refused_unless_the_module_works_in_place():
    x = torch.rand(3, 3)
    with pytest.raises(ValueError, match=r"Linear\(3 -> 3\) reads its input while it writes out="):
        Linear(3, 3).forward(x, out=x)
    assert Tanh().forward(x, out=x) is x  # element-wise: in place is right


def test_each_method_has_one_implementation_and_the_plan_calls_it_without_checks():
    from minidl.checks import unchecked

    for module in (Linear(2, 3), ReLU(), Tanh(), MSE()):
        for name in ("forward", "backward"):
            method = getattr(module, name)
            assert unchecked(method).__func__ is getattr(type(module), name).unchecked
            assert unchecked(method).__func__.__name__ == name
