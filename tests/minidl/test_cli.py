"""``python -m minidl``: the assignment's test.py, its help and its error messages."""

import re
import subprocess
import sys

import pytest
import torch

import minidl.__main__ as cli
from minidl import DivergedError


def test_a_short_run_prints_losses_and_errors(capsys):
    assert cli.main(["--epochs", "5", "--every", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"Loss at epoch (\d) was \d+\.\d{4}", out) == ["1", "2", "3", "4", "5"]
    train, test = map(float, re.search(r"train error (\d+\.\d\d) %, test error (\d+\.\d\d) %", out).groups())
    assert 0 <= train <= 100 and 0 <= test <= 100


def test_help_reads_well(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m minidl")
    for option in ("--epochs", "--eta", "--batch-size", "--seed", "--device", "--every"):
        assert option in out
    assert "disc" in out and "default 1e-3" in out


@pytest.mark.parametrize("argv, message", [
    (["--eta", "-1"], "error: SGD eta must be a finite number above 0, got -1.0"),
    (["--eta", "0"], "error: SGD eta must be a finite number above 0, got 0.0"),
    (["--eta", "nan"], "error: SGD eta must be a finite number above 0, got nan"),
    (["--eta", "inf"], "error: SGD eta must be a finite number above 0, got inf"),
    (["--batch-size", "0"], "error: mini_batch_size must be an integer of at least 1, got 0"),
    (["--every", "-2"], "error: verbose_every_nth must be an integer of at least 0, got -2"),
])
def test_bad_values_give_a_sentence_and_a_nonzero_exit(capsys, argv, message):
    assert cli.main(["--epochs", "1", *argv]) == 2  # the last --epochs wins
    err = capsys.readouterr().err
    assert err.strip() == message and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--eta", "fast"], "argument --eta: invalid float value: 'fast'"),
    (["--epochs", "1e3"], "argument --epochs: invalid int value: '1e3'"),
    (["--device", "warp-drive"], "argument --device: cannot use device 'warp-drive'"),
    (["--device", "meta"], "argument --device: cannot use device 'meta': meta tensors have shapes but no numbers"),
    (["--epochs", "0"], "argument --epochs: the number of epochs must be an integer of at least 1, got 0"),
    (["--epochs", "-5"], "argument --epochs: the number of epochs must be an integer of at least 1, got -5"),
    (["--seed", "99999999999999999999"], "argument --seed: the seed must be an integer from"),
])
def test_values_argparse_cannot_read_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without CUDA")
def test_cuda_without_cuda_is_a_usage_error_not_a_traceback(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--device", "cuda", "--epochs", "1"])
    assert exit_.value.code == 2 and "argument --device: cannot use device 'cuda'" in capsys.readouterr().err


def test_divergence_exits_with_1_and_a_sentence(capsys, monkeypatch):
    def diverging_run(*args):
        raise DivergedError("training diverged at epoch 3: the loss became nan; try a smaller step size", [1.0])

    monkeypatch.setattr(cli, "run", diverging_run)
    assert cli.main(["--eta", "100"]) == 1
    assert capsys.readouterr().err.startswith("error: training diverged at epoch 3")


def test_the_module_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "minidl", "--epochs", "2", "--every", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Loss at epoch 2 was" in result.stdout and "test error" in result.stdout
