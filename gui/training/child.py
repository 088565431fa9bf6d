"""The training process's side of :mod:`gui.training.process`: its loop, and a run rebuilt from its spec.

The process runs :func:`main`. A reader thread takes the GUI's commands from one pipe (a job goes to
the main thread, a command to its run) and answers each at once (:data:`~gui.training.process.ALIVE`);
the main thread rebuilds each job and trains it with the unchanged :class:`gui.training.trainer.Trainer`, whose
messages go back through the other pipe. The answers come even while a mini-batch takes seconds (torch
computes outside the interpreter's lock), so the GUI tells a busy process from a stopped or hung one.
"""

from __future__ import annotations

import queue
import signal
import threading
import traceback
from multiprocessing.connection import Connection

import torch

import minidl
from gui.model.weights import model_from
from gui.training.control import RunControl
from gui.training.job import Job
from gui.training.messages import Finished
from gui.training.process import ALIVE, READY, Handback, envelope, loads
from gui.training.trainer import Trainer
from minidl.plan import intra_op_threads


class Out:
    """The message pipe's writing end, shared by the main thread (the trainer's messages) and the reader thread
    (its answers): one lock, so that the bytes of two messages never interleave."""

    def __init__(self, connection: Connection | None):
        self.connection, self.lock = connection, threading.Lock()

    def send_bytes(self, data: bytes) -> None:
        with self.lock:
            self.connection.send_bytes(data)


class Remote:
    """One run in the training process: the job rebuilt from its spec, and the commands applied to it."""

    def __init__(self, spec: dict, out: Out):
        self.run, self.out = spec["run"], out
        self.threads = spec.get("threads")  # a sweep's run: torch's intra-op threads (None: the process's)
        optimizer = spec["optimizer"]
        model = model_from(spec["blocks"], spec["flat"], spec["loss"])
        self.control = RunControl.from_state(spec["control"], optimizer, spec["first_epoch"])
        self.job = Job(model, spec["data"], optimizer, spec["epochs"], spec["batch_size"], spec["first_epoch"],
                       spec["grid"], self.control, snapshot_wanted=spec["snapshot_wanted"], schedule=spec["schedule"],
                       config=spec["config"])

    def apply(self, name: str, args: tuple) -> None:
        """A command from the GUI (in the reader thread: the control takes each from any thread)."""
        try:
            self.control.apply(name, *args)
        except (TypeError, ValueError):  # a command this process cannot take: ignored, the run goes on
            pass

    def send(self, message) -> None:
        """The trainer's ``send``: the message in its envelope (the handback goes just before Finished)."""
        if isinstance(message, Finished):
            self._post(Handback.of(self.job))
        self._post(message)

    def _post(self, message) -> None:
        self.out.send_bytes(envelope(self.run, message))

    def train(self) -> None:
        with intra_op_threads(self.threads or torch.get_num_threads()):
            Trainer(self.job, self.send).run()

    def fail(self, text: str) -> None:
        self.send(Finished("failed", text, self.job.first_epoch - 1))


def warm_up() -> None:
    """Train a tiny network once while the GUI starts: the first epoch of a fresh process otherwise pays
    for torch's first calls (tens of milliseconds), and the first Run's curve would start with a step."""
    try:
        model = model_from([{"type": "Linear", "width": 4}, {"type": "ReLU"}, {"type": "Linear", "width": 2},
                            {"type": "Tanh"}], torch.zeros(22), "MSE")
        X = torch.linspace(0, 1, 16).reshape(8, 2)
        for _ in minidl.fit(model, X, torch.zeros(8, 2), 2, 4, minidl.SGD(1e-3)):
            pass
        model.predict(X)
    except Exception:  # only a head start: a real run reports its own errors
        pass


class Child:
    """The training process's loop: a reader thread takes the GUI's commands; the main thread trains."""

    def __init__(self, commands: Connection, out: Connection):
        self.commands, self.out = commands, Out(out)
        self.jobs: queue.Queue = queue.Queue()
        self.lock = threading.Lock()
        self.current: Remote | None = None
        self.early: list = []  # commands for a run whose job the main thread is still building

    def read(self) -> None:
        while True:
            try:
                command = loads(self.commands.recv_bytes())
                self.take(command)
                self.out.send_bytes(envelope(0, ALIVE))  # at once, whatever the main thread is doing
            except (EOFError, OSError):  # the GUI closed its ends
                break
        with self.lock:  # the GUI is gone: end the run in progress, then the process
            if self.current is not None:
                self.current.control.stop()
        self.jobs.put(None)

    def take(self, command: tuple) -> None:
        """A job goes to the main thread; a command to its run, or waits for it while it is being built; a
        ping asks only for the answer (:meth:`read` answers every command)."""
        if command[0] == "job":
            self.jobs.put(command[1])
            return
        if command[0] == "ping":
            return
        _, run, name, args = command
        with self.lock:
            if self.current is not None and self.current.run == run:
                self.current.apply(name, args)
            elif self.current is None or run > self.current.run:
                self.early.append(command)

    def begin(self, remote: Remote) -> None:
        """``remote`` is the run now: the commands that came for it while it was built apply first."""
        with self.lock:
            self.current = remote
            early, self.early = [c for c in self.early if c[1] == remote.run], []
            for _, _, name, args in early:
                remote.apply(name, args)

    def main(self) -> None:
        threading.Thread(target=self.read, daemon=True).start()
        warm_up()
        try:
            self.out.send_bytes(envelope(0, READY))
            self.serve()
        except OSError:  # the GUI closed its end (it quit, or it gave up on this process): nobody to tell
            pass

    def serve(self) -> None:
        """Train the jobs one after the other, until the GUI closes the command pipe."""
        while (spec := self.jobs.get()) is not None:
            try:
                remote = Remote(spec, self.out)
            except Exception:  # nothing trained: the GUI keeps its weights
                self.out.send_bytes(envelope(spec["run"], Finished("failed", traceback.format_exc(),
                                                                   spec["first_epoch"] - 1)))
                continue
            self.begin(remote)
            try:
                remote.train()
            except OSError:  # the message pipe is closed: main() ends the process
                raise
            except Exception:  # outside the trainer's own guard (its set-up): the run fails, the process goes on
                remote.fail(traceback.format_exc())
            with self.lock:
                self.current = None


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the GUI's to handle
    commands, out = Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)
    Child(commands, out).main()
    return 0

