"""gui/model/inside.py against independent recomputations: plain torch ops and autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from session_helpers import forward_all

import minidl
from gui.model import boundary, inside
from gui.model.experiment import Experiment, linear

REPORT = Experiment().blocks
TANH_DEEP = [linear(8), {"type": "Tanh"}, linear(8), {"type": "Tanh"}, linear(2)]


def params_of(blocks, seed=0, scale=1.0):
    model = Experiment(blocks=blocks, seed=seed).build_model()
    return [p.clone() * scale for p in model.parameters()]





def test_columns_of_the_report_network():
    cols = inside.columns(REPORT)
    assert [(c.label, c.units) for c in cols] == [("input", 2), ("hidden 1", 25), ("hidden 2", 25),
                                                   ("hidden 3", 25), ("output", 2)]
    assert cols[1].formula() == "ReLU(w·x + b)" and cols[2].formula() == "ReLU(w·h + b)"
    assert cols[4].formula() == "Tanh(w·h + b)" and cols[4].activation == "Tanh"
    assert [c.module for c in cols] == [None, 1, 3, 5, 7]
    bare = inside.columns([linear(3), linear(2)])
    assert bare[1].activation is None and bare[1].formula() == "w·x + b"


def test_unit_images_equal_plain_torch_on_the_grid():
    grid = boundary.grid((-1.0, 2.0, -0.5, 1.5), 20)
    params = params_of(REPORT)
    model = inside.network(REPORT, params)
    cols = inside.columns(REPORT)
    images = inside.unit_images(inside.module_outputs(model, grid), cols, 20)
    assert images.shape == (77, 20, 20)
    ref = forward_all(REPORT, params, grid)
    offsets = inside.unit_offsets(cols)
    for c, at in zip(cols[1:], offsets[1:], strict=True):
        for unit in (0, c.units - 1):
            expected = ref[c.module][:, unit].reshape(20, 20).numpy()  # [x, y]
            np.testing.assert_allclose(images[at + unit], expected, rtol=1e-5, atol=1e-6)
    # [x, y] order: along axis 0 x1 grows, along axis 1 x2 grows (the input column shows it)
    xy = inside.input_images(grid, 20)
    assert xy[0][0, 0] == pytest.approx(-1.0) and xy[0][19, 0] == pytest.approx(2.0)
    assert xy[1][0, 19] == pytest.approx(1.5)
    # Coarse (the live thumbnails): exactly every 3rd grid point a side, 20 -> 7, the same numbers
    coarse = inside.unit_images(inside.module_outputs(model, grid), cols, 20, step=3)
    assert coarse.shape == (77, 7, 7)
    np.testing.assert_array_equal(coarse, images[:, ::3, ::3])
    np.testing.assert_array_equal(inside.input_images(grid, 20, step=3), xy[:, ::3, ::3])


def test_sent_units_are_capped_for_wide_columns():
    cols = inside.columns([linear(100), {"type": "ReLU"}, linear(2)])
    assert inside.sent_units(cols[1]) == inside.MAX_SENT and inside.sent_units(cols[2]) == 2
    grid = boundary.grid((0, 1, 0, 1), 8)
    model = inside.network(cols and [linear(100), {"type": "ReLU"}, linear(2)],
                           params_of([linear(100), {"type": "ReLU"}, linear(2)]))
    assert inside.unit_images(inside.module_outputs(model, grid), cols, 8).shape == (inside.MAX_SENT + 2, 8, 8)


@pytest.mark.parametrize("blocks", [REPORT, TANH_DEEP])
def test_layer_stats_match_autograd(blocks):
    exp = Experiment(blocks=blocks, n_train=300)
    data = exp.make_data()
    params = params_of(blocks)
    stats = inside.layer_stats(blocks, params, data.X_train, data.y_train, eta=1e-3)
    leaves = [p.clone().requires_grad_(True) for p in params]
    outs = forward_all(blocks, leaves, data.X_train)
    loss = ((outs[-1] - data.y_train) ** 2).sum()
    grads = torch.autograd.grad(loss, leaves)
    cols = inside.columns(blocks)
    assert len(stats) == len(cols) - 1
    for k, (s, c) in enumerate(zip(stats, cols[1:], strict=True)):
        assert set(s) == set(inside.STAT_KEYS)
        g, w = grads[2 * k].norm().item(), params[2 * k].norm().item()
        assert s["grad_norm"] == pytest.approx(g, rel=1e-4)
        assert s["weight_norm"] == pytest.approx(w, rel=1e-6)
        assert s["update_ratio"] == pytest.approx(1e-3 * g / w, rel=1e-4)
        out = outs[c.module].detach()
        if c.activation == "ReLU":
            assert s["dead_units"] == int((out <= 0).all(0).sum())
        else:
            assert s["dead_units"] is None
        if c.activation == "Tanh":
            assert s["saturated_units"] == int(((out.abs() > 0.97).float().mean(0) >= 0.95).sum())
        else:
            assert s["saturated_units"] is None


def test_dead_and_saturated_units_are_counted_and_flagged():
    data = Experiment(n_train=200).make_data()
    # A ReLU layer whose biases are very negative: every unit is 0 at every point (inputs lie in [0, 1]).
    blocks = [linear(6), {"type": "ReLU"}, linear(2), {"type": "Tanh"}]
    params = params_of(blocks)
    params[1][:4] = -100.0  # 4 of 6 units dead
    params[1][4:] = 100.0  # and 2 alive everywhere
    # The output Tanh saturated: huge weights
    params[2] *= 1000
    params[3][:] = 50.0
    stats = inside.layer_stats(blocks, params, data.X_train, data.y_train, eta=1e-3)
    assert stats[0]["dead_units"] == 4
    assert stats[1]["saturated_units"] == 2
    words = inside.flags(stats, inside.columns(blocks), 1e-3)
    assert any("4 of 6 ReLU units are dead" in w for w in words)
    assert any("2 of 2 Tanh units are saturated" in w for w in words)
    assert inside.flags(inside.layer_stats(REPORT, params_of(REPORT), data.X_train, data.y_train, 1e-3),
                        inside.columns(REPORT), 1e-3) == []


def test_histogram_counts_every_weight():
    w = torch.tensor([[0.0, 1.0], [1.0, 3.0]])
    edges, counts = inside.histogram(w, bins=3)
    assert counts.tolist() == [1, 2, 1] and edges[0] == 0 and edges[-1] == 3
    _, counts = inside.histogram(torch.tensor([math.nan, 2.0]))
    assert counts.sum() == 1


def test_batch_step_from_a_traced_record():
    exp = Experiment(n_train=200, batch_size=50)
    data, model = exp.make_data(), exp.build_model()
    records = []
    control = minidl.TrainingControl()
    control.observe(records.append, trace=True)
    list(minidl.fit(model, data.X_train, data.y_train, 1, 50, minidl.SGD(0.01), control))
    step = inside.batch_step(records[1], exp.blocks, 0.01)
    assert (step.epoch, step.batch_index) == (1, 1)
    assert torch.equal(step.X, data.X_train[50:100])
    for layer in step.layers:
        torch.testing.assert_close(layer.weight_update, -0.01 * layer.weight_grad, rtol=1e-4, atol=1e-6)
        assert layer.input.shape == (50, layer.weight_before.shape[1])
    # the second layer's input is ReLU(X W0^T + b0) at the weights before
    torch.testing.assert_close(step.layers[1].input, torch.relu(step.X @ step.layers[0].weight_before.T
                                                               + step.layers[0].bias_before))
    out = forward_all(exp.blocks, step.parameters(after=False), step.X)[-1]
    assert step.loss_before == pytest.approx(((out - step.y) ** 2).sum().item(), rel=1e-5)
    out = forward_all(exp.blocks, step.parameters(after=True), step.X)[-1]
    assert step.loss_after == pytest.approx(((out - step.y) ** 2).sum().item(), rel=1e-5)


def test_strongest_links_keep_the_largest_weights_among_shown_units():
    W0 = torch.tensor([[1.0, -5.0], [0.5, 2.0], [9.0, 9.0]])  # 3 units from 2 inputs
    W1 = torch.tensor([[-3.0, 0.1, 7.0]])
    layer, rows, cols, values, total = inside.strongest_links([W0, W1], [2, 2, 1], limit=3)
    assert total == 4 + 2  # the third hidden unit is not shown
    assert sorted(values.tolist()) == [-5.0, -3.0, 2.0]
    assert (layer[values == -3.0] == 1).all() and (rows[values == 2.0] == 1).all() and (cols[values == 2.0] == 1).all()
    flat = torch.arange(11.0)
    views = inside.parameter_views(flat, [(3, 2), (3,), (1, 2)])
    assert views[0][2, 1] == 5 and views[2][0, 1] == 10


def test_unit_shares():
    out = torch.tensor([[0.0, 1.0], [0.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert inside.unit_shares(out, "ReLU").tolist() == [0.75, 0.5]
    assert inside.unit_shares(torch.tensor([[0.99], [-0.98], [0.5]]), "Tanh").tolist() == [2 / 3]
    assert inside.unit_shares(out, None) is None
