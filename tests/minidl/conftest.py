"""Shared helpers for the minidl tests: a seeded tensor maker and the torch.autograd oracle.

They are handed out as session fixtures (plain functions), so hypothesis tests can use them.
"""

import pytest
import torch

from minidl import Linear, ReLU, Sigmoid, Tanh


def _randn(seed: int, *shape: int, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _autograd_reference(model, x: torch.Tensor, target: torch.Tensor):
    """``(output, loss, parameter grads)`` of the summed squared error, computed by torch.autograd
    on copies of ``model``'s parameters, in the order of ``model.parameters()``."""
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]
    remaining = iter(params)
    h = x.detach().clone()
    for module in model:
        if isinstance(module, Linear):
            weight, bias = next(remaining), next(remaining)
            h = h @ weight.T + bias
        elif isinstance(module, ReLU):
            h = torch.relu(h)  # autograd's ReLU'(0) is 0, minidl's convention too
        elif isinstance(module, Tanh):
            h = torch.tanh(h)
        elif isinstance(module, Sigmoid):
            h = torch.sigmoid(h)
        else:
            raise AssertionError(f"the oracle does not know {module!r}")
    loss = ((h - target) ** 2).sum()
    return h.detach(), loss.detach(), list(torch.autograd.grad(loss, params))


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Run the tests' tiny matrices on one intra-op thread: with other work on a two-core machine, torch's
    default (a thread per core) spins and makes them many times slower (benchmarks/README.md)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def randn():
    """``randn(seed, *shape, dtype=torch.float64)``: reproducible normal samples."""
    return _randn


@pytest.fixture(scope="session")
def autograd_reference():
    return _autograd_reference
