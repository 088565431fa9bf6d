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


def test_forward_output_is_a_reused_buffer_but_apply_is_fresh():
    relu = ReLU()
    first = relu.forward(torch.ones(2, 2))
    second = relu.forward(torch.full((2, 2), 3.0))
    assert first.data_ptr() == second.data_ptr() and first.tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert relu.apply(torch.ones(2, 2)).data_ptr() != second.data_ptr()
    assert relu.forward(torch.ones(3, 2)).shape == (3, 2)  # a new batch size gets a new buffer
