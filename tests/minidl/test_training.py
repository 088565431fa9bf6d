"""The one training loop: records, control between mini-batches, divergence, errors, convergence."""

import math
import queue
import threading

import pytest
import torch

from minidl import MSE, SGD, DivergedError, EpochRecord, Linear, ReLU, Sequential, Tanh, TrainingControl, fit
from minidl.data import disc, one_hot
from minidl.metrics import error_rate


def make_model(seed=0, last=Tanh):
    gen = torch.Generator().manual_seed(seed)
    model = Sequential(Linear(2, 8, generator=gen), ReLU(), Linear(8, 2, generator=gen), *([last()] if last else []))
    model.setLoss(MSE())
    return model


def make_data(n=100, seed=0):
    X, labels = disc(n, seed=seed)
    return X, one_hot(labels)


class HookedSGD(SGD):
    """SGD that counts its steps and calls ``hook(steps)`` after each: a probe between mini-batches."""

    def __init__(self, eta, hook=lambda steps: None):
        super().__init__(eta)
        self.hook, self.steps = hook, 0

    def step(self, model, gradients):
        super().step(model, gradients)
        self.steps += 1
        self.hook(self.steps)


def in_thread(records):
    """Drive a fit generator on a worker thread; its records, then None, arrive in a queue."""
    out, errors = queue.Queue(), []

    def work():
        try:
            for record in records:
                out.put(record)
        except BaseException as error:  # handed to the test below
            errors.append(error)
        finally:
            out.put(None)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, out, errors


def test_fit_yields_one_record_per_epoch_equal_to_the_hand_written_loop():
    X, y = make_data(95)  # 95 = 9 full batches of 10 and a last one of 5
    model, twin = make_model(), make_model()
    records = list(fit(model, X, y, 3, 10, SGD(eta=1e-2), first_epoch=4))
    assert [r.epoch for r in records] == [4, 5, 6] and all(isinstance(r, EpochRecord) for r in records)
    optimizer = SGD(eta=1e-2)
    for record in records:
        total = 0.0
        for start in range(0, 95, 10):
            output = twin.forward(X[start:start + 10])
            total += twin.loss.compute(output, y[start:start + 10]).item()
            optimizer.step(twin, twin.backward(y[start:start + 10]))
        assert record.loss == pytest.approx(total / 95, rel=1e-5) and not record.diverged
    for got, want in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)


def test_train_returns_the_history_and_prints_every_nth_epoch(capsys):
    X, y = make_data()
    history = make_model().train(X, y, 5, 20, SGD(eta=1e-3), verbose_every_nth=2)
    assert len(history) == 5 and all(math.isfinite(loss) for loss in history)
    printed = [line.split()[3] for line in capsys.readouterr().out.splitlines()]
    assert printed == ["1", "2", "4", "5"]  # the first, every 2nd and the last epoch
    assert make_model().train(X, y, 0, 20, SGD(eta=1e-3)) == []
    assert capsys.readouterr().out == ""


def test_autograd_stays_on_in_the_callers_code_between_epochs():
    records = fit(make_model(), *make_data(), 2, 50, SGD(eta=1e-3))
    next(records)
    assert torch.is_grad_enabled()


def test_stop_after_a_record_and_between_mini_batches():
    X, y = make_data()
    control = TrainingControl()
    records = fit(make_model(), X, y, 5, 10, SGD(eta=1e-3), control)
    assert next(records).epoch == 1
    control.stop()
    assert list(records) == [] and control.stopped

    control = TrainingControl()

    def stop_after_three(steps):
        if steps == 3:
            control.stop()

    optimizer = HookedSGD(1e-3, stop_after_three)
    assert list(fit(make_model(), X, y, 5, 10, optimizer, control)) == []  # no record for a partial epoch
    assert optimizer.steps == 3


def test_pause_step_and_resume_between_mini_batches_from_another_thread():
    X, y = make_data()  # 100 points in batches of 10: 10 steps an epoch
    control, paused = TrainingControl(), threading.Event()

    def pause_after_three(steps):
        if steps == 3:
            control.pause()
            paused.set()

    optimizer = HookedSGD(1e-3, pause_after_three)
    thread, records, errors = in_thread(fit(make_model(), X, y, 3, 10, optimizer, control))
    assert paused.wait(timeout=10)
    thread.join(timeout=0.1)
    assert thread.is_alive() and control.paused and optimizer.steps == 3 and records.empty()

    control.step()  # finish the current epoch, then pause again
    assert records.get(timeout=10).epoch == 1
    thread.join(timeout=0.1)
    assert thread.is_alive() and control.paused and optimizer.steps == 10 and records.empty()

    control.resume()
    rest = [records.get(timeout=10) for _ in range(3)]
    assert [r.epoch for r in rest[:2]] == [2, 3] and rest[2] is None
    thread.join(timeout=10)
    assert not thread.is_alive() and not errors and optimizer.steps == 30


def test_start_paused_step_two_epochs_then_stop():
    control = TrainingControl(paused=True)
    optimizer = HookedSGD(1e-3)
    thread, records, errors = in_thread(fit(make_model(), *make_data(), 5, 10, optimizer, control))
    thread.join(timeout=0.1)
    assert thread.is_alive() and optimizer.steps == 0 and records.empty()
    control.step(2)
    assert [records.get(timeout=10).epoch for _ in range(2)] == [1, 2]
    thread.join(timeout=0.1)
    assert thread.is_alive() and control.paused and records.empty()
    control.stop()  # stopping also releases a paused loop
    assert records.get(timeout=10) is None
    thread.join(timeout=10)
    assert not thread.is_alive() and not errors and optimizer.steps == 20


def test_divergence_yields_a_non_finite_record_and_stops():
    X, y = make_data()
    records = list(fit(make_model(last=None), X, y, 50, 10, SGD(eta=10.0)))
    assert records[-1].diverged and not math.isfinite(records[-1].loss)
    assert len(records) < 50 and not any(r.diverged for r in records[:-1])


def test_train_raises_diverged_error_with_the_history():
    X, y = make_data()
    with pytest.raises(DivergedError, match=r"training diverged at epoch \d+: the loss became (inf|nan); "
                                            r"try a smaller step size than eta=10") as error:
        make_model(last=None).train(X, y, 50, 10, SGD(eta=10.0))
    assert isinstance(error.value, ValueError)
    history = error.value.history
    assert 1 <= len(history) < 50 and not math.isfinite(history[-1]) and all(map(math.isfinite, history[:-1]))


def test_argument_errors_are_sentences():
    X, y = make_data(10)
    model, sgd = make_model(), SGD(eta=1e-3)
    cases = [((X, y, -1, 5), "epochs must be an integer of at least 0, got -1"),
             ((X, y, 1.5, 5), "epochs must be an integer of at least 0, got 1.5"),
             ((X, y, 1, 0), "mini_batch_size must be an integer of at least 1, got 0"),
             ((X, y, 1, True), "mini_batch_size must be an integer of at least 1, got True"),
             ((X, y[:, 0], 1, 5), r"the targets y must have shape \(10, 2\) .* got \(10,\); encode labels with "
                                  r"minidl.data.one_hot"),
             ((X, y[:9], 1, 5), r"the targets y must have shape \(10, 2\) to match X .* got \(9, 2\)"),
             ((X, y.double(), 1, 5), "the targets y must be torch.float32 on cpu like X, got torch.float64 on cpu"),
             ((X[:, :1], y, 1, 5), r"Linear\(2 -> 8\) \(the first layer\) expects X of shape \(N, 2\) .*got \(10, 1\)"),
             ((X[:0], y[:0], 1, 5), r"expects X of shape \(N, 2\) with N >= 1, got \(0, 2\)")]
    for args, message in cases:
        with pytest.raises(ValueError, match=message):
            model.train(*args, sgd)
    with pytest.raises(ValueError, match="verbose_every_nth must be an integer of at least 0, got -1"):
        model.train(X, y, 1, 5, sgd, verbose_every_nth=-1)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("name", ["X", "y"])
def test_non_finite_data_is_refused_where_it_enters(name, bad):
    data = dict(zip("Xy", make_data(10), strict=True))
    data[name] = data[name].clone()
    data[name][3, 1] = bad
    model = make_model()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=f"{name} contains NaN or infinite values; clean or drop those rows first"):
        model.train(data["X"], data["y"], 1, 5, SGD(eta=1e-3))
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # nothing trained


def test_fit_without_a_loss_says_to_call_set_loss():
    model = Sequential(Linear(2, 2))
    with pytest.raises(ValueError, match=r"no loss is set: call model.setLoss\(MSE\(\)\) before training"):
        next(fit(model, *make_data(10), 1, 5, SGD()))


@pytest.mark.slow
def test_the_report_network_converges_on_the_disc_problem():
    X_train, labels_train = disc(1000, seed=0)
    X_test, labels_test = disc(1000, seed=1)
    gen = torch.Generator().manual_seed(0)
    model = Sequential(Linear(2, 25, generator=gen), ReLU(), Linear(25, 25, generator=gen), ReLU(),
                       Linear(25, 25, generator=gen), ReLU(), Linear(25, 2, generator=gen), Tanh())
    model.setLoss(MSE())
    history = model.train(X_train, one_hot(labels_train), 300, 100, SGD(eta=1e-3))
    assert history[-1] < history[0] / 5
    assert error_rate(model.predict(X_train), labels_train) < 5
    assert error_rate(model.predict(X_test), labels_test) < 5


@pytest.mark.parametrize("how", ["runs to the end", "is closed early", "stops between mini-batches"])
def test_the_callers_thread_count_is_back_after_fit(how):
    X, y = make_data(100)
    during = []
    control = TrainingControl()

    def probe(steps):
        during.append(torch.get_num_threads())
        if how == "stops between mini-batches" and steps == 3:
            control.stop()

    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the report network's products are small: fit trains them on one thread
    try:
        records = fit(make_model(), X, y, 3, 10, HookedSGD(1e-3, probe), control=control)
        if how == "is closed early":
            next(records)
            assert torch.get_num_threads() == 2  # back while the loop is suspended at its yield
            records.close()
        else:
            list(records)
        assert torch.get_num_threads() == 2 and during and set(during) == {1}
    finally:
        torch.set_num_threads(before)
