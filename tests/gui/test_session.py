"""The Session's run rules and timeline, without a QApplication: runs execute inline in this thread."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from session_helpers import InlineRun, small

import minidl
from gui.model.experiment import Experiment, linear
from gui.model.session import FINISHED, IDLE, Session
from gui.model.timeline import DENSE_EPOCHS, MAX_SNAPSHOTS, Timeline, flatten
from gui.training import trainer as trainer_module
from gui.training.messages import Progress
from minidl.architecture import REPORT_LAYERS


def test_run_trains_to_the_target_then_that_many_more():
    s = small()
    assert s.state == IDLE and s.history.epochs == 0 and s.snapshot_epochs() == [0]
    assert s.run()
    assert (s.state, s.finish_reason, s.history.epochs) == (FINISHED, "completed", 6)
    first = s.history.train.copy()
    assert s.run()
    assert s.history.epochs == 12 and s.target_epoch == 12
    np.testing.assert_array_equal(s.history.train[:6], first)
    assert s.snapshot_epochs() == list(range(13))  # every epoch below DENSE_EPOCHS, and the initial weights


def test_the_playground_loop_gives_the_headless_engine_s_losses_bit_for_bit():
    """The window trains through the same minidl.fit as ``Sequential.train`` (and python -m minidl)."""
    s = Session(Experiment(epochs=30), runner=InlineRun)
    s.run()
    model = minidl.architecture.build(REPORT_LAYERS, 2, generator=torch.Generator().manual_seed(0))
    model.setLoss(minidl.MSE())
    X, labels, _, _ = minidl.data.split("Disc", 1000, 1000, 0)
    headless = model.train(X, minidl.data.one_hot(labels), 30, 100, minidl.SGD(1e-3))
    np.testing.assert_array_equal(s.history.train, np.asarray(headless, np.float32))


def test_resume_from_a_snapshot_repeats_the_original_losses_exactly():
    s = small(epochs=30)
    s.run()
    original = s.history.train.copy()
    s.seek(12)
    assert s.seek_epoch == 12
    assert s.resume_from(12)
    assert s.history.epochs == 30  # Run's rule: up to Epochs
    np.testing.assert_array_equal(s.history.train, original)  # same batches, same order, same numbers


def test_resume_from_branches_with_the_current_settings():
    s = small(epochs=20)
    s.run()
    original = s.history.train.copy()
    s.edit(eta=0.01)
    s.resume_from(10)
    np.testing.assert_array_equal(s.history.train[:10], original[:10])
    assert not np.array_equal(s.history.train[10:20], original[10:20])  # eta changed at epoch 10


def test_parameters_at_gives_each_linear_s_weight_and_bias_in_stack_order():
    s = small()
    s.run()
    params = s.parameters_at(6)
    assert [tuple(p.shape) for p in params] == [(25, 2), (25,), (25, 25), (25,), (25, 25), (25,), (2, 25), (2,)]
    assert all(torch.equal(a, b) for a, b in zip(params, s.model.parameters(), strict=True))
    initial = small().model.parameters()
    assert all(torch.equal(a, b) for a, b in zip(s.parameters_at(0), initial, strict=True))
    assert not torch.equal(s.parameters_at(3)[0], params[0])


def test_reset_draws_the_seed_s_weights_again_and_can_be_undone():
    s = small()
    s.run()
    trained, history = [p.clone() for p in s.model.parameters()], s.history.train.copy()
    s.reset()
    assert s.history.epochs == 0 and s.state == IDLE and s.can_undo_reset
    assert all(torch.equal(a, b) for a, b in zip(s.model.parameters(), small().model.parameters(), strict=True))
    assert s.undo_reset()
    assert all(torch.equal(a, b) for a, b in zip(s.model.parameters(), trained, strict=True))
    np.testing.assert_array_equal(s.history.train, history)
    assert not s.can_undo_reset and not s.undo_reset()


def test_a_data_edit_reseeds_and_discards_the_run_with_a_sentence():
    s = small()
    s.run()
    said = []
    s.events.connect("status", said.append)
    s.edit(noise=0.1)
    assert s.history.epochs == 0 and s.snapshot_epochs() == [0]
    assert said and "6 trained epochs were discarded" in said[-1]


def test_a_divergence_keeps_the_last_finite_weights_and_the_next_run_starts_fresh():
    blocks = [linear(25), {"type": "ReLU"}, linear(2)]  # no Tanh: the output is unbounded
    s = Session(Experiment(blocks=blocks, eta=10.0, n_train=100, n_test=100, batch_size=10, epochs=50),
                runner=InlineRun)
    s.run()
    assert s.finish_reason == "diverged" and s.fresh_weights_needed
    assert all(bool(torch.isfinite(p).all()) for p in s.model.parameters())
    assert np.isfinite(s.history.train).all()
    assert s.snapshot_epochs()[-1] == s.history.epochs  # the weights kept are the last finite epoch's
    s.edit(eta=1e-4)
    s.run()
    assert s.finish_reason == "completed" and s.history.epochs == 50  # from fresh weights, from epoch 1


def test_only_eta_may_change_during_a_run():
    s = small()
    s.state = "running"  # as seen from the GUI thread while the worker trains
    with pytest.raises(ValueError, match="stop the run"):
        s.edit(n_train=50)
    s.state = IDLE


def test_the_model_during_a_run_is_a_copy_of_the_latest_snapshot():
    s = small()
    seen = []

    def runner(job, deliver):
        seen.append(s.model)  # read while the run is live
        return InlineRun(job, deliver)

    s.runner = runner
    s.run()
    assert seen[0] is not None and seen[0] is not s.model  # idle again: s.model is the network itself
    assert all(torch.equal(a, b) for a, b in zip(seen[0].parameters(), s.parameters_at(0), strict=True))


def test_snapshots_of_100_000_epochs_of_the_report_network_stay_under_50_mb(monkeypatch):
    """The real trainer and session over 100,000 epochs, with a fit that only yields records."""

    def fast_fit(model, X, y, epochs, batch_size, optimizer, control=None, first_epoch=1):
        for epoch in range(first_epoch, first_epoch + epochs):
            control.epoch_finished()
            yield minidl.EpochRecord(epoch, 1.0 / epoch)

    monkeypatch.setattr(trainer_module.minidl, "fit", fast_fit)
    s = Session(Experiment(epochs=100_000), runner=InlineRun)
    s.run()
    assert s.history.epochs == 100_000
    epochs = s.snapshot_epochs()
    assert s.timeline.nbytes <= 50e6 and len(epochs) <= MAX_SNAPSHOTS + 10
    assert epochs[:DENSE_EPOCHS + 1] == list(range(DENSE_EPOCHS + 1)) and epochs[-1] == 100_000
    strides = set(np.diff(epochs[DENSE_EPOCHS + 1:-1]).tolist())
    assert len(strides) == 1 and strides.pop() == s.timeline.stride  # evenly spaced after the dense part


def test_a_longer_run_thins_the_timeline_but_keeps_pinned_snapshots():
    t = Timeline([(3,)])
    for epoch in range(5000):
        t.add(epoch, torch.full((3,), float(epoch)), pinned=epoch == 777)
    t.thin(t.stride_for(50_000))
    assert 777 in t.epochs() and len(t) <= MAX_SNAPSHOTS
    assert all(e <= DENSE_EPOCHS or e % t.stride == 0 or e == 777 for e in t.epochs())
    assert t.nearest(778) == 777 and t.at_or_before(776) < 777
    assert torch.equal(t.parameters(777)[0], torch.full((3,), 777.0))


def test_non_finite_snapshots_are_refused_and_wide_networks_keep_fewer():
    t = Timeline([(2,)])
    assert not t.add(1, torch.tensor([float("nan"), 0.0]))
    assert t.epochs() == []
    wide = Timeline([(4096, 4096), (4096,)])
    assert wide.capacity * wide.size * 4 <= 128 << 20 or wide.capacity == 3


def test_timeline_round_trips_through_tensors_and_refuses_damage():
    s = small()
    s.run()
    tensors = s.timeline.to_tensors()
    back = Timeline.from_tensors(s.timeline.shapes, tensors, s.history.epochs)
    assert back.epochs() == s.snapshot_epochs() and back.pinned() == s.timeline.pinned()
    assert all(torch.equal(back.flat(e), s.timeline.flat(e)) for e in back.epochs())
    broken = dict(tensors, **{"timeline.epochs": tensors["timeline.epochs"].flip(0)})
    with pytest.raises(ValueError, match="increasing"):
        Timeline.from_tensors(s.timeline.shapes, broken, s.history.epochs)
    nan = tensors["timeline.params"].clone()
    nan[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        Timeline.from_tensors(s.timeline.shapes, dict(tensors, **{"timeline.params": nan}), s.history.epochs)


def test_messages_are_copies_not_the_live_tensors():
    s = small()
    messages = []
    s.events.connect("progress", messages.append)
    s.run()
    assert messages and all(isinstance(m, Progress) for m in messages)
    live = {p.untyped_storage().data_ptr() for p in s.model.parameters()}  # idle: the network itself
    for message in messages:
        for _epoch, flat, _pinned in message.snapshots:
            assert flat.untyped_storage().data_ptr() not in live
    assert torch.equal(flatten(s.model.parameters()), s.timeline.flat(6))


def test_a_stop_mid_epoch_after_the_dense_part_goes_back_to_the_last_whole_epoch(monkeypatch):
    """Past epoch 200 the worker keeps the last epoch's weights as one copy of the packed parameters."""

    class StopMidEpoch(InlineRun):
        """An inline run whose control stops it before the 5th batch of epoch 251."""

        def __init__(self, job, deliver):
            control = job.control
            control.observe(lambda record: (record.epoch, record.index) == (251, 3) and control.stop())
            super().__init__(job, deliver)

    s = small(epochs=5000)
    s.runner = StopMidEpoch
    s.run()
    assert s.finish_reason == "stopped" and s.history.epochs == 250
    assert 250 % s.timeline.stride != 0  # not a regular snapshot: pinned by the stop
    model = minidl.architecture.build(s.experiment.blocks, 2, generator=torch.Generator().manual_seed(0))
    model.setLoss(minidl.MSE())
    list(minidl.fit(model, s.data.X_train, s.data.y_train, 250, 10, minidl.SGD(s.experiment.eta)))
    for kept, snapshot, headless in zip(s.model.parameters(), s.parameters_at(250), model.parameters(), strict=True):
        assert torch.equal(kept, headless) and torch.equal(snapshot, headless)


def test_a_finished_cosine_schedule_says_so_instead_of_training_at_eta_zero():
    s = small(schedule="Cosine")
    said = []
    s.events.connect("status", said.append)
    assert s.run() and s.history.epochs == 6
    assert not s.run() and s.history.epochs == 6 and s.state == FINISHED  # eta 0 would change nothing
    assert "brought the step size to 0 at epoch 6" in said[-1] and "Raise Epochs above 6" in said[-1]
    s.edit(epochs=10)  # the cosine now spans 10 epochs: epochs 7-10 train at its remaining factors
    before = s.parameters_at(6)
    assert s.run() and s.history.epochs == 10
    assert any(not torch.equal(a, b) for a, b in zip(before, s.parameters_at(10), strict=True))
    s.edit(schedule="Constant")
    assert s.run() and s.history.epochs == 20
