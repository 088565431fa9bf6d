"""The loss history of a run, free of Qt: train loss per epoch, test loss at sampled epochs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """The loss per epoch, compact: float32 numpy arrays (80 kB for 20,000 epochs)."""

    train: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    test_epochs: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    test: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))

    @property
    def epochs(self) -> int:
        return len(self.train)

    def extend(self, train_losses, test_epochs=(), test_losses=()) -> None:
        """Append the train loss of the next epochs, and test losses sampled at some epochs."""
        self.train = np.concatenate((self.train, np.asarray(train_losses, np.float32)))
        test_epochs, test_losses = np.atleast_1d(test_epochs), np.atleast_1d(test_losses)
        if test_epochs.shape != test_losses.shape:
            raise ValueError(f"{len(test_epochs)} test epochs for {len(test_losses)} test losses")
        self.test_epochs = np.concatenate((self.test_epochs, test_epochs.astype(np.int64)))
        self.test = np.concatenate((self.test, test_losses.astype(np.float32)))

    def truncate(self, epoch: int) -> None:
        """Forget every epoch after ``epoch`` (a branch of the timeline starts there)."""
        keep = self.test_epochs <= epoch
        self.train, self.test_epochs, self.test = self.train[:epoch].copy(), self.test_epochs[keep], self.test[keep]

    def to_csv(self) -> str:
        test = dict(zip(self.test_epochs.tolist(), self.test.tolist(), strict=True))
        rows = ["epoch,train_loss,test_loss"]
        rows += [f"{e},{loss:.9g},{'' if e not in test else format(test[e], '.9g')}"
                 for e, loss in enumerate(self.train.tolist(), 1)]
        return "\n".join(rows) + "\n"
