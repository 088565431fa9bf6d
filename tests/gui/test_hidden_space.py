"""The hidden layer's view of space, Qt-free: points and grid lines mapped through a two-unit hidden layer,
checked against plain torch ops; which layers can be drawn, and the sentence for the others."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from session_helpers import forward_all, small

from gui.model import hidden_space

BLOCKS = [{"type": "Linear", "width": 6}, {"type": "Tanh"}, {"type": "Linear", "width": 2}, {"type": "Tanh"},
          {"type": "ReLU"}, {"type": "Linear", "width": 2}, {"type": "Tanh"}]


def parameters(blocks, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    params, width = [], 2
    for block in blocks:
        if block["type"] == "Linear":
            params += [torch.randn(block["width"], width, generator=g, dtype=dtype),
                       torch.randn(block["width"], generator=g, dtype=dtype)]
            width = block["width"]
    return params


def test_only_hidden_layers_of_two_units_are_drawable():
    assert hidden_space.layers(BLOCKS) == [1]
    assert hidden_space.why_not(BLOCKS, 1) is None
    assert "6 units" in hidden_space.why_not(BLOCKS, 0)
    assert "output" in hidden_space.why_not(BLOCKS, 2)
    assert "no layer 4" in hidden_space.why_not(BLOCKS, 3)
    assert hidden_space.summary(BLOCKS) == ""
    wide = [{"type": "Linear", "width": 8}, {"type": "ReLU"}, {"type": "Linear", "width": 2}]
    assert hidden_space.layers(wide) == []
    assert "No hidden layer has exactly 2 units (hidden 1 has 8)" in hidden_space.summary(wide)
    assert "no hidden layer" in hidden_space.summary([{"type": "Linear", "width": 2}])


def test_points_are_the_forward_pass_up_to_the_layers_activations():
    params = parameters(BLOCKS)
    X = torch.rand(40, 2, dtype=torch.float64)
    expected = forward_all(BLOCKS, params, X)[4]  # Linear 2, Tanh, ReLU: the second layer's last activation
    got = hidden_space.mapped(BLOCKS, params, X, 1)
    assert got.shape == (40, 2)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="6 units"):
        hidden_space.mapped(BLOCKS, params, X, 0)


def test_grid_lines_span_the_plane_and_map_like_points():
    extent = (-0.5, 1.5, 0.0, 2.0)
    grid = hidden_space.grid_lines(extent)
    lines, samples = hidden_space.LINES, hidden_space.SAMPLES
    assert grid.shape == (2 * lines, samples, 2)
    assert torch.allclose(grid[:lines, :, 1], torch.linspace(0.0, 2.0, lines)[:, None].expand(lines, samples))
    assert torch.allclose(grid[:lines, :, 0], torch.linspace(-0.5, 1.5, samples).expand(lines, samples))
    assert torch.allclose(grid[lines:, :, 0], torch.linspace(-0.5, 1.5, lines)[:, None].expand(lines, samples))
    assert torch.allclose(grid[lines:, :, 1], torch.linspace(0.0, 2.0, samples).expand(lines, samples))
    params = parameters(BLOCKS, seed=1)
    flat = torch.cat([p.reshape(-1) for p in params])
    X = torch.rand(30, 2, dtype=torch.float64)
    result = hidden_space.compute(BLOCKS, flat, X, extent, 1, epoch=7)
    assert result.epoch == 7 and result.layer == 1
    np.testing.assert_allclose(result.points, forward_all(BLOCKS, params, X)[4].numpy(), rtol=1e-12, atol=1e-12)
    expected = forward_all(BLOCKS, params, grid.to(torch.float64).reshape(-1, 2))[4].reshape(2 * lines, samples, 2)
    np.testing.assert_allclose(result.lines, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_a_sessions_snapshots_map_as_plain_torch_does():
    blocks = [{"type": "Linear", "width": 2}, {"type": "Tanh"}, {"type": "Linear", "width": 2}, {"type": "Tanh"}]
    s = small(blocks=blocks)
    s.run()
    X = s.data.X_train
    for epoch in (0, s.history.epochs):
        params = s.parameters_at(epoch)
        expected = forward_all(blocks, params, X)[1]
        np.testing.assert_allclose(hidden_space.mapped(blocks, params, X, 0), expected.numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(hidden_space.mapped(blocks, s.parameters_at(0), X, 0),
                           hidden_space.mapped(blocks, s.parameters_at(s.history.epochs), X, 0))
