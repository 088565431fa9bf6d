"""Engine calls that once raised a torch RuntimeError, an OverflowError or a TypeError, or went on with wrong
numbers: each is now right, or a ValueError with a sentence."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from minidl import SGD, CrossEntropy, Linear, Sequential, Tanh, fit
from minidl.data import MAX_POINTS, disc, one_hot, split
from minidl.schedules import Constant, Cosine, StepDecay

HALF = [torch.float16, torch.bfloat16]


# -- CrossEntropy's targets ----------------------------------------------------------------------------------------
def rows_summing_to(total: float, n: int, k: int, dtype) -> torch.Tensor:
    """``n`` rows of ``k`` class probabilities scaled to sum to ``total`` (before rounding to ``dtype``)."""
    p = torch.softmax(torch.randn(n, k, generator=torch.Generator().manual_seed(k), dtype=torch.float64), 1)
    return (total * p).to(dtype)


def torch_reference(z: torch.Tensor, t: torch.Tensor):
    """torch.nn.CrossEntropyLoss(reduction="sum") on probability targets, and its gradient, in float64."""
    z64 = z.double().requires_grad_()
    loss = nn.CrossEntropyLoss(reduction="sum")(z64, t.double())
    (grad,) = torch.autograd.grad(loss, z64)
    return loss.detach(), grad


@pytest.mark.parametrize("dtype", [*HALF, torch.float32, torch.float64])
@pytest.mark.parametrize("k", [2, 10, 100])
@pytest.mark.parametrize("total", [0.7, 0.9, 0.97, 1.03, 1.1, 1.5])
def test_cross_entropy_refuses_rows_that_do_not_sum_to_one_whatever_k_and_dtype(dtype, k, total):
    t = rows_summing_to(total, 4, k, dtype)
    with pytest.raises(ValueError, match=r"expects targets whose rows are class probabilities \(at least 0, summing "
                                         r"to 1"):
        CrossEntropy().compute(torch.zeros(4, k, dtype=dtype), t)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float16, 4e-3), (torch.bfloat16, 3e-2), (torch.float32, 1e-5),
                                              (torch.float64, 1e-12)])
@pytest.mark.parametrize("k", [2, 10, 100])
def test_accepted_targets_agree_with_torch_cross_entropy(dtype, tolerance, k):
    """Probability rows rounded to ``dtype`` pass, and minidl's loss and fused gradient then stay within the
    dtype's precision of torch's (which has no rows-sum-to-1 assumption)."""
    t = rows_summing_to(1.0, 16, k, dtype)
    z = (3 * torch.randn(16, k, generator=torch.Generator().manual_seed(1), dtype=torch.float64)).to(dtype)
    loss = CrossEntropy()
    value = loss.compute(z, t)
    grad = loss.backward()
    expected, expected_grad = torch_reference(z, t)
    assert abs(float(value) - float(expected)) <= tolerance * max(1.0, abs(float(expected)))
    assert float((grad.double() - expected_grad).abs().max()) <= tolerance


def test_one_hot_targets_in_half_precision_train_like_torch():
    labels = torch.arange(8) % 5
    for dtype in HALF:
        z = torch.randn(8, 5, generator=torch.Generator().manual_seed(2)).to(dtype)
        loss = CrossEntropy()
        value = loss.compute(z, one_hot(labels, 5, dtype=dtype))
        expected = nn.CrossEntropyLoss(reduction="sum")(z.double(), labels)
        assert float(value) == pytest.approx(float(expected), rel=2e-2)


# -- datasets ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_train, n_test", [(10**12, 10), (10, 10**12), (MAX_POINTS, 1), (2**63, 1)])
def test_split_refuses_more_points_than_it_draws_with_a_sentence(n_train, n_test):
    with pytest.raises(ValueError, match=f"at most {MAX_POINTS:,} points"):
        split("Disc", n_train, n_test, 0)


def test_a_generator_refuses_more_points_than_it_draws_with_a_sentence():
    with pytest.raises(ValueError, match=f"the number of points is 1,000,000,000,000, but a data set holds at most "
                                         f"{MAX_POINTS:,} points"):
        disc(10**12)
    X, labels = disc(0)
    assert X.shape == (0, 2) and labels.shape == (0,)


# -- learning-rate schedules -------------------------------------------------------------------------------------
class Returns:
    """A user's schedule whose factor is ``value`` from epoch ``since`` on, 1 before."""

    def __init__(self, value, since: int = 1):
        self.value, self.since = value, since

    def factor(self, epoch):
        return self.value if epoch >= self.since else 1.0

    def __repr__(self):
        return f"Returns({self.value!r})"


class Raises:
    def factor(self, epoch):
        return 10.0 ** epoch  # an OverflowError at epoch 309

    def __repr__(self):
        return "Raises()"


def model_and_data():
    gen = torch.Generator().manual_seed(0)
    model = Sequential(Linear(2, 4, generator=gen), Tanh(), Linear(4, 2, generator=gen))
    model.setLoss(CrossEntropy())
    X, labels = disc(20)
    return model, X, one_hot(labels, 2)


def test_a_step_decay_that_outgrows_a_float_is_infinite_not_an_overflow_error():
    assert StepDecay(every=1, gamma=1e10).factor(400) == math.inf
    assert StepDecay(every=1, gamma=0.5).factor(2000) == 0.0
    assert StepDecay(every=2, gamma=3.0).factor(5) == 9.0


@pytest.mark.parametrize("schedule, epoch, got", [
    (StepDecay(every=1, gamma=1e10), 400, "inf"),
    (Returns("0.5"), 1, "'0.5'"),
    (Returns(-1), 1, "-1"),
    (Returns(math.nan), 1, "nan"),
    (Returns(math.inf, since=3), 3, "inf"),
    (Returns(None), 1, "None"),
    (Returns(True), 1, "True"),
    (Returns(torch.tensor([0.5, 0.5])), 1, "tensor"),
])
def test_a_schedule_factor_that_is_not_a_finite_number_of_at_least_0_is_a_sentence(schedule, epoch, got):
    model, X, y = model_and_data()
    first = 400 if isinstance(schedule, StepDecay) else 1
    optimizer = SGD(0.1)
    with pytest.raises(ValueError) as caught:
        list(fit(model, X, y, 5, 10, optimizer, first_epoch=first, schedule=schedule))
    text = str(caught.value)
    assert text.startswith(f"the schedule {schedule!r} gave the step-size factor ") and got in text, text
    assert f"at epoch {epoch}; a factor must be a finite number of at least 0" in text, text
    assert optimizer.eta_scale >= 0 and math.isfinite(optimizer.eta_scale)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_a_schedule_that_raises_an_arithmetic_error_is_a_sentence():
    model, X, y = model_and_data()
    with pytest.raises(ValueError, match=r"the schedule Raises\(\) could not give a step-size factor at epoch 309 "
                                         r"\(OverflowError: .*\); a factor must be a finite number of at least 0"):
        list(fit(model, X, y, 5, 10, SGD(0.1), first_epoch=309, schedule=Raises()))


@pytest.mark.parametrize("value", [0, 0.5, 2, torch.tensor(0.5, dtype=torch.float64)])
def test_a_schedule_factor_of_a_finite_number_of_at_least_0_trains(value):
    model, X, y = model_and_data()
    records = list(fit(model, X, y, 2, 10, SGD(0.1), schedule=Returns(value)))
    assert len(records) == 2 and all(math.isfinite(r.loss) for r in records)


def test_built_in_schedules_still_train():
    for schedule in (Constant(), StepDecay(every=1, gamma=0.5), Cosine(3)):
        model, X, y = model_and_data()
        assert len(list(fit(model, X, y, 3, 10, SGD(0.1), schedule=schedule))) == 3


# -- from_torch --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["weight", "bias"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_from_torch_refuses_weights_that_are_not_finite(where, value):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    with torch.no_grad():
        getattr(net[2], where).view(-1)[1] = value
    with pytest.raises(ValueError, match=f"layer 2 is an nn.Linear whose {where} holds NaN or infinite values"):
        Sequential.from_torch(net)


def test_from_torch_refuses_an_nn_linear_used_twice_rather_than_untie_it():
    torch.manual_seed(0)
    shared = nn.Linear(4, 4)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), shared, nn.Tanh(), shared, nn.Tanh(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="layer 4 is the same nn.Linear as layer 2 .tied weights.; minidl gives each "
                                         "layer its own weights"):
        Sequential.from_torch(net)


def test_from_torch_refuses_weights_shared_between_two_nn_linears():
    torch.manual_seed(0)
    first, second = nn.Linear(4, 4), nn.Linear(4, 4)
    second.weight = first.weight
    net = nn.Sequential(nn.Linear(2, 4), first, nn.Tanh(), second)
    with pytest.raises(ValueError, match="layer 3 shares its weight with layer 1 .tied weights."):
        Sequential.from_torch(net)


def test_from_torch_still_imports_separate_layers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    model = Sequential.from_torch(net)
    x = torch.rand(5, 2)
    with torch.no_grad():
        torch.testing.assert_close(model.predict(x), net(x))
