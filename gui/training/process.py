"""Training in a process of its own, free of Qt: the playground's runs train outside the GUI's process.

Why: in one process the GUI thread's drawing and the training thread share one interpreter lock, so
every millisecond the plots take is a millisecond the training waits (benchmarks/README.md: with
three runs compared, the playground kept 0.79-0.85 of headless speed that way). In a process of
its own the training shares only the machine's cores with the GUI.

What crosses, both ways through two pipes (:func:`dumps` pickles tensors as numpy arrays):

- the GUI sends a run as ``("job", spec)``: the network as blocks and flat weights, the data, the
  optimizer with its state, the run control's state and the trainer's config; then the run's commands
  as they happen (:mod:`gui.training.control`), as ``("cmd", run, name, args)``;
- the process (:mod:`gui.training.child`) applies them to its run's
  :class:`~gui.training.control.RunControl`, runs the unchanged :class:`gui.training.trainer.Trainer` and
  sends its messages back in an envelope ``(run, message)``; just before
  :class:`~gui.training.messages.Finished`, a :class:`Handback` carries the weights and the optimizer's
  state, which the GUI's copies take, so after a run the session's model is the trained one;
- the process answers each command (a ``("ping",)`` too) at once with :data:`ALIVE`, from the thread
  that reads them, however long its mini-batch: the GUI judges it alive by its answers, not by its
  progress (:class:`gui.qt.runner.ProcessRun`).

One process serves the GUI's runs one after the other (:func:`shared`; a sweep's pool, :mod:`gui.training.pool`,
borrows it while it is idle); it is started ahead of time (spawning it and importing torch takes over a
second) and ends when its command pipe closes.
The GUI's ends of the pipes never wait for it (:mod:`gui.training.pipes`): a process that stops answering is
killed, never waited for without a deadline.
The Qt side (reading the pipe from the event loop) is :class:`gui.qt.runner.ProcessRun`.
"""

from __future__ import annotations

import atexit
import io
import os
import pickle
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gui.model.experiment import LOSSES
from gui.model.timeline import flatten
from gui.model.weights import load_flat
from gui.training.job import Job
from gui.training.pipes import Inbox, Outbox
from minidl import architecture

# A pipe holds 64 kB: a frame with its unit images is more, and the training would wait for the GUI
# to read it. Linux lets a pipe grow to 1 MB without privileges.
PIPE_BYTES = 1 << 20
F_SETPIPE_SZ = 1031
# What the process sends, as its message of run 0, once it can train.
READY = "ready"
# What the process sends, as a message of run 0, for each command it reads: it is alive and listening.
ALIVE = "alive"
# The process's command line. Not ``-m gui.training.child``: its classes would then be __main__'s,
# and the pickles of its messages would not name this module.
CHILD = "import sys; from gui.training.child import main; sys.exit(main(sys.argv[1:]))"
# How long closing waits for the process to exit on its own, and a kill for it to be gone.
EXIT_S = 2.0


# -- the wire ----------------------------------------------------------------------------------
def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array)


class _Pickler(pickle.Pickler):
    """Pickles a CPU tensor as its numpy array: a flat copy of its numbers instead of torch's
    storage protocol (which torch.multiprocessing would also route through shared memory)."""

    def reducer_override(self, obj):
        if type(obj) is torch.Tensor and obj.device.type == "cpu" and not obj.requires_grad:
            try:
                return _tensor, (obj.numpy(),)
            except TypeError:  # a dtype numpy lacks (bfloat16): torch's own way
                return NotImplemented
        return NotImplemented


def dumps(obj) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


loads = pickle.loads


def envelope(run: int, message) -> bytes:
    """A message of the training process, as the GUI reads it (:meth:`gui.qt.runner.ProcessRun._read_one`),
    with its run (0: the process itself)."""
    return dumps((run, message))


@dataclass
class Handback:
    """The end of a run, for the GUI's copies: the weights (flat, in parameter order) and the
    optimizer's state, step count and step size."""

    flat: torch.Tensor
    optimizer_state: dict | None  # None: not finite (a diverged run's momentum); the GUI's starts afresh
    step_count: int
    eta: float
    eta_scale: float

    @classmethod
    def of(cls, job: Job) -> Handback:
        o = job.optimizer
        state = o.state_tensors()
        if not all(bool(torch.isfinite(t).all()) for t in state.values()):
            state = None
        return cls(flatten(job.model.parameters()), state, o.step_count, o.eta, o.eta_scale)

    def apply(self, model, optimizer) -> None:
        load_flat(model, self.flat)
        if self.optimizer_state is None:
            optimizer.reset()
        else:
            optimizer.load_state_tensors(self.optimizer_state, model.parameters())
        optimizer.step_count, optimizer.eta, optimizer.eta_scale = self.step_count, self.eta, self.eta_scale


# -- the GUI's side ----------------------------------------------------------------------------
def job_spec(job: Job, run: int) -> dict:
    """What the training process needs of ``job`` (the model as blocks and weights: it is rebuilt there)."""
    loss = next(name for name, kind in LOSSES.items() if type(job.model.loss) is kind)
    return {
        "run": run, "blocks": architecture.describe(job.model), "loss": loss,
        "flat": flatten(job.model.parameters()), "data": job.data,
        "optimizer": job.optimizer, "epochs": job.epochs, "batch_size": job.batch_size,
        "first_epoch": job.first_epoch, "grid": job.grid, "snapshot_wanted": job.snapshot_wanted,
        "schedule": job.schedule, "control": job.control.state(), "config": job.config,
    }


class TrainingProcess:
    """The child process and its two pipes; ``busy`` while one of the GUI's runs trains in it."""

    def __init__(self):
        command_read, command_write = os.pipe()
        message_read, message_write = os.pipe()
        # Both ways: a job (the grid and the data: 130 kB for the report's) goes into the pipe at once, even
        # while the process still imports torch, and the training need not wait for the GUI to read a frame.
        for end in (command_write, message_write):
            try:
                import fcntl  # POSIX only, like the whole module (shared() says so elsewhere)

                fcntl.fcntl(end, F_SETPIPE_SZ, PIPE_BYTES)
            except OSError:  # not Linux, or a lower limit: the default size works, with more waiting
                pass
        root = str(Path(__file__).resolve().parents[2])  # the checkout: gui/training/process.py
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(command_read), str(message_write)],
                pass_fds=(command_read, message_write), env=env, stdin=subprocess.DEVNULL)
        except BaseException:
            os.close(command_write)
            os.close(message_read)
            raise
        finally:
            os.close(command_read)
            os.close(message_write)
        self.commands, self.messages = Outbox(command_write), Inbox(message_read)  # neither waits for the process
        self.busy = False
        self.runs = 0
        self.ready = False  # it answered (READY or ALIVE): torch is imported and it reads its commands

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None and not self.commands.closed

    def send(self, command) -> bool:
        """Send a command; False once the process is gone."""
        return self.send_bytes(dumps(command))

    def send_bytes(self, data: bytes) -> bool:
        """Send a message without waiting (what the pipe cannot take yet waits in ``commands``)."""
        return self.commands.send_bytes(data)

    def poll(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for a message to read (or the end of the pipe), writing the
        commands still queued as the pipe takes them; True if one came."""
        end = time.monotonic() + timeout
        while not self.messages.closed:
            self.commands.flush()
            writing = [self.commands.fd] if self.commands.pending else []
            readable, _, _ = select.select([self.messages.fd], writing, [], max(0.0, end - time.monotonic()))
            if readable:
                return True
            if not writing or time.monotonic() >= end:
                return False
        return True  # closed: reading says so (EOFError)

    def rss_mb(self) -> float:
        """The process's resident memory in MB (0 where /proc cannot tell)."""
        try:
            with open(f"/proc/{self.popen.pid}/status") as status:
                return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            return 0.0

    def close(self, wait: bool = True) -> None:
        """End the process: it stops its run and exits once its command pipe closes (``wait``: for that,
        at most ``EXIT_S``, then it is killed)."""
        self.commands.close()
        self.messages.close()
        if wait:
            try:
                self.popen.wait(EXIT_S)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """Kill the process (a stopped one too) and reap it."""
        self.commands.close()
        self.messages.close()
        self.popen.kill()
        try:
            self.popen.wait(EXIT_S)
        except subprocess.TimeoutExpired:  # not even SIGKILL ends it at once (a disk that hangs): not waited for
            pass


_shared: TrainingProcess | None = None
# Set when a process ended before it was ready (it cannot start here: a broken installation): from
# then on the runs train in a thread, instead of failing each. A process killed later (out of memory,
# by the user) is replaced by a new one at the next Run.
unusable = False


def shared(start: bool = True) -> TrainingProcess | None:
    """The GUI process's training process (started if need be and ``start``); None if it cannot start."""
    global _shared
    global unusable
    if _shared is not None and not _shared.alive:
        _shared.close()  # and reaped
        _shared = None
    if os.name != "posix" or unusable:  # pass_fds: elsewhere the runs train in a thread of the GUI's process
        return None
    if _shared is None and start:
        try:
            _shared = TrainingProcess()
        except OSError:  # no process can start here (too many, no memory): threads from now on
            unusable = True
            return None
    return _shared


def close_shared(wait: bool = True) -> None:
    global _shared
    if _shared is not None:
        _shared.close(wait)
        _shared = None


# At exit, only the pipes close: the process ends on its own (it may still be importing torch).
atexit.register(close_shared, wait=False)
