"""The training process (gui.training.process, gui.training.child, gui.qt.runner.ProcessRun): the window's
runs train there, exactly as in a thread, with every control; its failures reach the user as a failed run."""

from __future__ import annotations

import os
import threading
from multiprocessing.connection import Connection

import numpy as np
import pytest
import torch
from gui_helpers import (
    WAIT_MS,
    button,
    observe_pauses,
    run_to_end,
    small_data,
    start_long_run,
    wait_until_blocked,
)

import minidl
from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.model.timeline import flatten
from gui.qt import runner as worker
from gui.training import process as training_process
from gui.training.child import Child, Remote
from gui.training.control import RunControl
from gui.training.job import Job, TrainerConfig
from gui.training.messages import Finished, Progress
from gui.training.process import Handback, dumps, job_spec, loads


def trained(runner, edit_eta: bool = False, config: TrainerConfig | None = None) -> Session:
    """A session with momentum (its state must come back too), trained 40 epochs with ``runner`` (and an
    eta edit while it trains); waits in the event loop."""
    from PySide6.QtWidgets import QApplication

    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=40, optimizer="SGD + momentum",
                           momentum=0.9), runner=runner)
    s.trainer_config = config or s.trainer_config
    ended = []
    s.events.connect("finished", lambda reason, _text: ended.append(reason))
    if edit_eta:
        s.events.connect("progress", lambda m: s.edit(eta=2e-3) if m.first_epoch > 10 else None)
    s.run()
    while not ended:
        QApplication.processEvents()
    assert ended == ["completed"]
    return s


def test_a_run_in_the_process_equals_one_in_a_thread_bit_for_bit(qtbot):
    here = trained(worker.QtRun)
    runs = training_process.shared().runs
    there = trained(worker.start)
    assert training_process.shared().runs == runs + 1  # it did train in the process
    np.testing.assert_array_equal(here.history.train, there.history.train)
    for a, b in zip(here.model.parameters(), there.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert here.optimizer.step_count == there.optimizer.step_count == 400
    assert here.optimizer.state_tensors().keys() == there.optimizer.state_tensors().keys()
    for key, value in here.optimizer.state_tensors().items():
        assert torch.equal(value, there.optimizer.state_tensors()[key])
    assert here.snapshot_epochs() == there.snapshot_epochs()
    assert torch.equal(here.timeline.flat(20), there.timeline.flat(20))


def test_an_eta_edit_reaches_the_process_and_its_epoch_comes_back(qtbot, monkeypatch):
    s = trained(worker.start, edit_eta=True, config=TrainerConfig(progress_hz=1e6))  # a message each epoch
    changes = [(first, v["eta"]) for first, v in s.schedule]
    assert changes[0] == (1, 1e-3) and changes[-1][1] == 2e-3 and 11 < changes[-1][0] <= 40
    assert s.optimizer.eta == 2e-3  # the optimizer came back with it
    assert s.current_run.settings["eta"] == 2e-3


def test_the_window_trains_in_the_process_with_every_control(window, qtbot):
    s = window.session
    small_data(window)
    observe_pauses(window)
    start_long_run(qtbot, window)
    assert isinstance(s.live_run, worker.ProcessRun)
    s.pause()
    wait_until_blocked(qtbot, window)
    paused_at = s.history.epochs
    s.step()
    wait_until_blocked(qtbot, window, 2)
    assert s.history.epochs == paused_at + 1
    s.step_batch()
    qtbot.waitUntil(lambda: s.last_batch_step() is not None and s.state == "paused", timeout=WAIT_MS)
    assert (s.last_batch_step().epoch, s.last_batch_step().batch_index) == (paused_at + 2, 0)
    s.resume()
    qtbot.waitUntil(lambda: s.history.epochs > paused_at + 3, timeout=WAIT_MS)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        button(window, "stopButton").click()
    assert finished.args == ["stopped"] and not s.running
    assert torch.equal(flatten(s.model.parameters()), s.timeline.flat(s.history.epochs))


def test_a_killed_process_fails_the_run_and_the_next_run_starts_another(window, qtbot):
    s = window.session
    small_data(window)
    start_long_run(qtbot, window)
    process = s.live_run.process
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        process.popen.kill()
    assert finished.args == ["failed"] and not s.running
    # back to the last snapshot that came: the weights and the history agree
    assert s.history.epochs == s.snapshot_epochs()[-1] >= 1
    assert torch.equal(flatten(s.model.parameters()), s.timeline.flat(s.history.epochs))
    title, _text = window.files.last_error
    assert "failed" in title.lower() and "ended unexpectedly" in window.files.dialog.detailedText()
    window.files.dialog.close()
    assert run_to_end(qtbot, window, epochs=s.history.epochs + 2) == "completed"
    assert not training_process.unusable  # it had been ready: a new one took over
    assert training_process.shared() is not process and training_process.shared().alive
    assert process.popen.returncode is not None  # the killed one was reaped


def test_a_second_run_while_the_process_is_busy_trains_in_a_thread(qtbot):
    first = Session(Experiment(epochs=1_000_000, n_train=100, n_test=100, batch_size=10), runner=worker.start)
    second = Session(Experiment(epochs=3, n_train=100, n_test=100, batch_size=10), runner=worker.start)
    first.run()
    second.run()
    try:
        assert isinstance(first.live_run, worker.ProcessRun) and isinstance(second.live_run, worker.QtRun)
        qtbot.waitUntil(lambda: not second.running, timeout=WAIT_MS)
        assert second.finish_reason == "completed" and second.history.epochs == 3
    finally:
        first.stop()
    assert first.finish_reason == "stopped" and not training_process.shared().busy


# -- the process's loop, run here in a thread: what it answers ------------------------------------
class Loop:
    """A :class:`Child` in a thread of this process, on two pipes; ``send``/``receive`` are the GUI's ends."""

    def __init__(self):
        command_read, command_write = os.pipe()
        message_read, message_write = os.pipe()
        self.commands = Connection(command_write, readable=False)
        self.messages = Connection(message_read, writable=False)
        self.child = Child(Connection(command_read, writable=False), Connection(message_write, readable=False))
        self.thread = threading.Thread(target=self.child.main, daemon=True)
        self.thread.start()
        self.answers = 0  # its answers (ALIVE) read so far: one for each command

    def send(self, command) -> None:
        self.commands.send_bytes(dumps(command))

    def receive(self):
        """The next envelope; the loop's own messages (run 0) are READY, once, and its answers."""
        assert self.messages.poll(WAIT_MS / 1000), "no message from the loop"
        envelope = loads(self.messages.recv_bytes())
        if envelope[0] == 0:
            assert envelope[-1] in (training_process.READY, training_process.ALIVE)
            self.answers += envelope[-1] == training_process.ALIVE
        return envelope

    def receive_run(self, run: int) -> list:
        """The run's messages up to its Finished."""
        out = []
        while not (out and isinstance(out[-1], Finished)):
            envelope = self.receive()
            if envelope[0] != 0:
                assert envelope[0] == run
                out.append(envelope[-1])
        return out

    def receive_answers(self, answers: int) -> None:
        """Read until the loop has answered ``answers`` commands in all; its runs say nothing meanwhile."""
        while self.answers < answers:
            assert self.receive()[0] == 0

    def close(self) -> None:
        self.commands.close()  # the loop ends at the end of its command pipe
        self.thread.join(WAIT_MS / 1000)
        assert not self.thread.is_alive()


def spec_of(run: int, **settings) -> dict:
    s = Session(Experiment(n_train=100, n_test=100, batch_size=10, epochs=5, **settings))
    optimizer = s.experiment.build_optimizer()
    job = Job(s.model, s.data, optimizer, 5, 10, 1, s.grid, RunControl(optimizer, 1),
              snapshot_wanted=s.timeline.rule(1))
    return job_spec(job, run)


def test_the_process_reports_an_error_in_training_and_serves_the_next_run(monkeypatch):
    loop = Loop()
    try:
        real_fit = minidl.fit

        def broken_fit(*args, **kwargs):
            raise RuntimeError("simulated fault inside the training loop")
            yield  # a generator, like minidl.fit

        monkeypatch.setattr(minidl, "fit", broken_fit)
        loop.send(("job", spec_of(1)))
        messages = loop.receive_run(1)
        assert isinstance(messages[-2], Handback) and messages[-1].reason == "failed"
        assert "simulated fault" in messages[-1].text
        monkeypatch.setattr(minidl, "fit", real_fit)
        bad = spec_of(2)
        bad["blocks"] = [{"type": "Linear", "width": -3}]  # cannot be built: the set-up fails, not the process
        loop.send(("job", bad))
        assert loop.receive_run(2)[-1].reason == "failed"
        loop.send(("job", spec_of(3)))
        messages = loop.receive_run(3)
        assert messages[-1].reason == "completed"
        assert sum(len(m.train_losses) for m in messages if isinstance(m, Progress)) == 5
    finally:
        loop.close()


RELEASE = threading.Event()


class Held:
    """A schedule whose factor waits for ``RELEASE``: the loop's main thread is busy, as in a long mini-batch."""

    def factor(self, epoch: int) -> float:
        RELEASE.wait(WAIT_MS / 1000)
        return 1.0


def test_the_loop_answers_each_command_at_once_even_inside_a_long_mini_batch():
    """From its reader thread: the GUI tells a busy process from a stopped one by these answers."""
    loop = Loop()
    RELEASE.clear()
    try:
        spec = spec_of(1)
        spec["schedule"] = Held()
        loop.send(("job", spec))
        loop.receive_answers(1)
        loop.send(("ping",))
        loop.receive_answers(2)  # while the run waits in its first epoch
        loop.send(("cmd", 1, "stop", ()))
        loop.receive_answers(3)
        assert not RELEASE.is_set()
        RELEASE.set()  # the mini-batch ends: the Stop is seen
        assert loop.receive_run(1)[-1].reason == "stopped"
    finally:
        RELEASE.set()
        loop.close()


def test_commands_for_a_run_that_is_still_being_built_are_kept_for_it():
    """A Stop sent right after the job reaches the run even if the process has not built it yet."""
    child = Child(None, None)
    child.take(("cmd", 2, "step", (3,)))
    child.take(("cmd", 2, "eta", (0.5,)))
    child.take(("cmd", 2, "stop", ()))
    child.take(("cmd", 1, "pause", ()))  # an older run's: dropped
    remote = Remote(spec_of(2), None)
    child.begin(remote)
    assert remote.control.stopped and not remote.control.paused and remote.control.acked == 2
    child.take(("cmd", 2, "pause", ()))
    assert remote.control.paused and remote.control.acked == 3 and child.early == []
    child.take(("cmd", 2, "no such command", ()))  # ignored: the run goes on
    assert remote.control.acked == 3


@pytest.mark.parametrize("tensor", [torch.arange(6.0).reshape(2, 3).t(), torch.ones(3, dtype=torch.float64),
                                    torch.zeros(2, dtype=torch.bfloat16), torch.tensor([1, 2])])
def test_tensors_cross_the_pipe_with_their_values_shape_and_dtype(tensor):
    back = loads(dumps({"t": tensor}))["t"]
    assert back.dtype == tensor.dtype and back.shape == tensor.shape and torch.equal(back, tensor)


def test_the_run_control_takes_every_command_and_counts_the_switches():
    optimizer = minidl.SGD(1e-3)
    control = RunControl(optimizer, 1)
    control.apply("pause")
    control.apply("step", 2)
    control.apply("step_batches", 1)
    control.apply("trace")
    assert control.trace and control.acked == 4
    control.apply("eta", 0.5)
    control.apply("pace", 5.0, True)
    control.apply("units", False, False)
    control.apply("load", 0.25)
    assert control.acked == 4  # only the switches count
    assert (control.pace.epochs_per_second, control.pace.batch_losses) == (5.0, True)
    assert not control.units.on and control.load == 0.25
    assert control.proceed() and optimizer.eta == 0.5 and control.take_applied() == [(1, 0.5)]
    control.apply("stop")
    assert control.stopped and control.acked == 5
    with pytest.raises(ValueError, match="unknown run command"):
        control.apply("mirror", True)
    copy = RunControl.from_state(control.state(), optimizer, 1)
    assert copy.acked == 5 and copy.pace == control.pace and copy.units == control.units


def test_a_wide_network_trains_in_a_thread(qtbot, monkeypatch):
    """Its snapshots would cross the pipe at tens of megabytes each; its products run outside the lock anyway."""
    s = Session(Experiment(epochs=2, n_train=100, n_test=100, batch_size=10), runner=worker.start)
    monkeypatch.setattr(worker, "PROCESS_MAX_PARAMETERS", sum(p.numel() for p in s.model.parameters()) - 1)
    s.run()
    assert isinstance(s.live_run, worker.QtRun)
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "completed" and s.history.epochs == 2


def test_a_process_that_cannot_start_leaves_the_runs_to_a_thread(window, qtbot, monkeypatch):
    old = training_process.shared()  # the working one, put aside
    monkeypatch.setattr(training_process, "CHILD", "import sys; sys.exit(3)")  # as a broken installation would
    monkeypatch.setattr(training_process, "unusable", False)
    monkeypatch.setattr(training_process, "_shared", None)
    try:
        small_data(window)
        assert run_to_end(qtbot, window, epochs=2) == "failed"
        assert "could not start" in window.files.dialog.detailedText() and window.session.history.epochs == 0
        window.files.dialog.close()
        assert training_process.unusable and training_process.shared() is None
        assert run_to_end(qtbot, window, epochs=2) == "completed" and window.session.history.epochs == 2
    finally:
        monkeypatch.undo()
        training_process._shared = old
    assert training_process.shared() is old


def test_cycles_are_collected_on_the_gui_thread_only(qtbot):
    """Never in a training thread, where destroying a discarded window's widgets deadlocks Qt."""
    import gc
    import weakref

    from PySide6.QtWidgets import QWidget

    assert not gc.isenabled()  # no automatic collection, in whatever thread allocates
    widget = QWidget()
    widget.cycle = widget
    gone = weakref.ref(widget)
    del widget
    collected_in = []
    gc.callbacks.append(lambda phase, _info: collected_in.append(threading.get_ident()) if phase == "stop" else None)
    try:
        kept = [[] for _ in range(2 * gc.get_threshold()[0])]  # past the youngest generation's threshold
        qtbot.waitUntil(lambda: gone() is None, timeout=WAIT_MS)
        del kept
    finally:
        gc.callbacks.pop()
    assert collected_in and set(collected_in) == {threading.get_ident()}


def test_a_diverged_run_with_momentum_comes_back_without_its_non_finite_state(qtbot):
    """Its momentum holds infinities: the weights of the last finite epoch come back, the state starts afresh."""
    blocks = Experiment().blocks[:-1]  # the report's network without its Tanh: its weights blow up at once
    s = Session(Experiment(blocks=blocks, n_train=100, n_test=100, batch_size=10, epochs=200, eta=1.0,
                           optimizer="SGD + momentum", momentum=0.9), runner=worker.start)
    s.run()
    assert isinstance(s.live_run, worker.ProcessRun)
    qtbot.waitUntil(lambda: not s.running, timeout=WAIT_MS)
    assert s.finish_reason == "diverged" and s.fresh_weights_needed
    assert all(bool(torch.isfinite(p).all()) for p in s.model.parameters())


def test_a_job_reaches_a_process_still_starting_without_waiting_for_it():
    """The command pipe holds the report's job (130 kB) while the process imports torch: it goes at once,
    nothing waits in the GUI's queue."""
    s = Session(Experiment())
    optimizer = s.experiment.build_optimizer()
    job = Job(s.model, s.data, optimizer, 5, 100, 1, s.grid, RunControl(optimizer, 1),
              snapshot_wanted=s.timeline.rule(1))
    spec = dumps(("job", job_spec(job, 1)))
    process = training_process.TrainingProcess()
    try:
        assert process.send_bytes(spec)
        assert not process.commands.pending and len(spec) > 64 * 1024
    finally:
        process.close()
