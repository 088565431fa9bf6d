"""The NumPy peer of ``bench_engine.py``: the same MLP, forward, backward and SGD, by hand.

Written the way a careful NumPy user writes it: idiomatic array expressions (NumPy
allocates small temporaries cheaply), in-place parameter updates, no copies of the
data. It is the lowest-overhead *eager* peer: one NumPy call costs well under a
microsecond of dispatch, against a few for a torch op.

Network: ``Linear -> ReLU -> ... -> Linear -> Tanh`` with summed squared error
``L = sum (out - y)^2`` and plain SGD, mini-batches in order.
"""

from __future__ import annotations

import numpy as np


class NumpyMLP:
    """Weights ``W[i]`` of shape ``(out, in)`` and biases ``b[i]`` of shape ``(out,)``, float32."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray]):
        self.W = [np.array(w, dtype=np.float32) for w in weights]
        self.b = [np.array(b, dtype=np.float32) for b in biases]

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations of every layer: ``[x, h1, ..., out]``."""
        acts = [x]
        last = len(self.W) - 1
        for i, (W, b) in enumerate(zip(self.W, self.b, strict=True)):
            z = acts[-1] @ W.T
            z += b
            acts.append(np.tanh(z, out=z) if i == last else np.maximum(z, 0, out=z))
        return acts

    def train_step(self, x: np.ndarray, y: np.ndarray, eta: float) -> float:
        """One SGD step on the batch ``(x, y)``; returns the batch's summed squared error."""
        acts = self.forward(x)
        out = acts[-1]
        diff = out - y
        loss = float(np.dot(diff.ravel(), diff.ravel()))
        g = 2 * diff * (1 - out * out)  # dL/dz of the Tanh layer
        for i in range(len(self.W) - 1, -1, -1):
            a = acts[i]
            gW = g.T @ a
            gb = g.sum(0)
            if i:
                g = (g @ self.W[i]) * (a > 0)  # through Linear i, then ReLU i-1
            self.W[i] -= eta * gW
            self.b[i] -= eta * gb
        return loss

    def train_epoch(self, X: np.ndarray, Y: np.ndarray, batch_size: int, eta: float) -> float:
        """One pass over ``(X, Y)`` in order; returns the summed loss divided by the sample count."""
        total = 0.0
        for s in range(0, X.shape[0], batch_size):
            total += self.train_step(X[s:s + batch_size], Y[s:s + batch_size], eta)
        return total / X.shape[0]
