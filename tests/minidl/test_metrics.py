"""From outputs to labels and error rates."""

import pytest
import torch

from minidl.metrics import error_rate, labels


def test_labels_are_the_column_of_the_largest_output():
    assert labels(torch.tensor([[0.9, -0.2], [0.1, 0.3], [-1.0, -0.5]])).tolist() == [0, 1, 1]


def test_error_rate_is_a_percentage():
    output = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    assert error_rate(output, torch.tensor([0, 1, 0, 1])) == 0.0
    assert error_rate(output, torch.tensor([0, 1, 1, 0])) == 50.0
    assert error_rate(output, torch.tensor([1, 0, 1, 0])) == 100.0
    assert isinstance(error_rate(output[:3], torch.tensor([1, 1, 0])), float)
    assert error_rate(output[:3], torch.tensor([1, 1, 0])) == pytest.approx(100 / 3)


@pytest.mark.parametrize("output, true, got", [
    (torch.zeros(4, 2), torch.zeros(3, dtype=torch.long), r"\(4, 2\) and \(3,\)"),
    (torch.zeros(4), torch.zeros(4, dtype=torch.long), r"\(4,\) and \(4,\)"),
    (torch.zeros(4, 2), torch.zeros(4, 2, dtype=torch.long), r"\(4, 2\) and \(4, 2\)"),
])
def test_error_rate_refuses_mismatched_shapes(output, true, got):
    with pytest.raises(ValueError, match=rf"error_rate expects outputs \(N, K\) and labels \(N,\), got {got}"):
        error_rate(output, true)
