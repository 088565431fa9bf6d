"""The report's listings, run verbatim."""

import numpy as np
import torch

from minidl import MSE, SGD, Linear, ReLU, Sequential, Tanh
from minidl.data import disc, one_hot
from minidl.metrics import error_rate


def test_report_listing_trains_and_predicts(capsys):
    X_train, labels_train = disc(1000, seed=0)
    X_test, labels_test = disc(1000, seed=1)
    y_train = one_hot(labels_train)
    torch.manual_seed(0)
    model = Sequential(Linear(2, 25), ReLU(), Linear(25, 25), ReLU(),
                       Linear(25, 25), ReLU(), Linear(25, 2), Tanh())
    optimizer = SGD(eta=1e-3)
    model.setLoss(MSE())
    history = model.train(X_train, y_train, 150, 100, optimizer, verbose_every_nth=10)
    predictions = model.predict(X_test)
    assert predictions.shape == (1000, 2)
    assert len(history) == 150 and history[-1] < history[0] / 3
    assert error_rate(predictions, labels_test) < 10
    assert "Loss at epoch 10 was" in capsys.readouterr().out


def test_report_hand_written_loop(capsys):
    X_train, labels = disc(200, seed=3)
    y_train = one_hot(labels)
    model = Sequential(Linear(X_train.size(1), 25), ReLU(), Linear(25, 2), Tanh())
    optimizer = SGD(eta=1e-3)
    model.setLoss(MSE())
    epochs, mini_batch_size, verbose_every_nth = 20, 50, 10
    first = model.loss.compute(model.predict(X_train), y_train)
    for step in range(epochs):
        for b in range(0, X_train.size(0), mini_batch_size):
            X_train_batch = X_train.narrow(0, b, mini_batch_size)
            y_train_batch = y_train.narrow(0, b, mini_batch_size)
            output = model.forward(X_train_batch)
            gradients = model.backward(y_train_batch)
            optimizer.step(model, gradients)
        if np.mod(step, verbose_every_nth) == 0:
            print('Loss at iteration %i was %.2f' % (step, model.loss.compute(output, y_train_batch)))  # noqa: UP031 - verbatim
    assert "Loss at iteration 10 was" in capsys.readouterr().out
    assert model.loss.compute(model.predict(X_train), y_train) < first
