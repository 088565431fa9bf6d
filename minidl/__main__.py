"""The assignment's test.py: ``python -m minidl`` trains the report's network on the disc problem."""

from __future__ import annotations

import argparse
import sys
import time

import torch

from . import MSE, SGD, DivergedError, checks
from .architecture import REPORT_LAYERS, build
from .data import one_hot, split
from .metrics import error_rate


def run(epochs: int = 1000, eta: float = 1e-3, batch_size: int = 100, seed: int = 0, device: str = "cpu",
        verbose_every_nth: int = 100, n: int = 1000) -> tuple[float, float]:
    """Train on ``n`` disc points drawn with ``seed``, test on ``n`` others; return (train, test) error %.

    The same seed gives the same data and initial weights as the playground's experiment.
    """
    X_train, labels_train, X_test, labels_test = split("Disc", n, n, seed)
    model = build(REPORT_LAYERS, 2, generator=torch.Generator().manual_seed(seed)).to(device)
    X_train, X_test = X_train.to(device), X_test.to(device)
    model.setLoss(MSE())
    model.train(X_train, one_hot(labels_train).to(device), epochs, batch_size, SGD(eta=eta),
                verbose_every_nth=verbose_every_nth)
    return (error_rate(model.predict(X_train), labels_train),
            error_rate(model.predict(X_test), labels_test))


def argument(check, kind=int):
    """An argparse type: ``kind(text)``, then a check of :mod:`minidl.checks`, whose sentence
    becomes a usage error (exit 2) like any other bad argument."""

    def parse(text: str):
        value = kind(text)  # a ValueError here reads "invalid int value: '1e3'"
        try:
            return check(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = kind.__name__
    return parse


def device(spec: str) -> str:
    """``spec`` if this torch can hold numbers there (not "meta", not CUDA on a CPU-only torch)."""
    checks.device(spec)
    return spec


def epochs(value: int) -> int:
    return checks.integer("the number of epochs", value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m minidl",
        description="Train the report's 2-25-25-25-2 network (ReLU hidden layers, Tanh output) with "
                    "summed MSE and plain SGD on the disc problem: 1,000 training and 1,000 test points, "
                    "label 1 inside the disc of radius 1/sqrt(2*pi) centred in the unit square. "
                    "Prints the loss while training, then the train and test error.")
    parser.add_argument("--epochs", type=argument(epochs), default=1000,
                        help="passes over the training set (default 1000)")
    parser.add_argument("--eta", type=float, default=1e-3, help="SGD step size (default 1e-3)")
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch size (default 100)")
    parser.add_argument("--seed", type=argument(checks.seed), default=0,
                        help="seed for the data and the initial weights (default 0)")
    parser.add_argument("--device", default="cpu", type=argument(device, str),
                        help="torch device, e.g. cpu or cuda (default cpu)")
    parser.add_argument("--every", type=int, default=100, metavar="K",
                        help="print the loss every K epochs, 0 for never (default 100)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        train_error, test_error = run(args.epochs, args.eta, args.batch_size, args.seed, args.device, args.every)
    except DivergedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"train error {train_error:.2f} %, test error {test_error:.2f} % "
          f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
