"""A sweep's training processes (Qt-free): one worker a core, each a :class:`~gui.training.process.TrainingProcess`.

The GUI's interactive runs share one training process (:func:`gui.training.process.shared`); a sweep trains
its variants side by side in a :class:`Pool`, as many workers as ``os.cpu_count()`` (at least one), each
run with one torch thread (one busy thread a core: a second one would only wait for its neighbour). One of
them is the GUI's training process where it is idle (it is warm already); the others are the pool's own.
Each worker is the same child as the shared process, running the same
:class:`~gui.training.trainer.Trainer`, so a variant trains exactly as a lone Run does. The pool:

- starts its workers when a sweep starts (importing torch takes over a second) and keeps them warm for the
  next variants and the next sweep; :meth:`Pool.close` ends them;
- is a session's runner (:meth:`Pool.runner`): a :class:`PoolRun` sends the job and the commands and gets
  the trainer's messages, which the caller reads with :meth:`Pool.pump` (the window calls it from its
  event loop, :mod:`gui.qt.sweep_runner`; a test calls it in a loop). Nothing here waits without a deadline;
- keeps a run's weights at the end only: its job asks for no snapshot but the last epoch's (:func:`last_only`),
  and its trainer draws no boundary images (``TrainerConfig.frames``): no view follows a sweep's run.

One torch thread changes no number: ``minidl.plan.threads_for`` gives a small network one thread alone too, and
a sweep's run of a network whose products take two threads alone is still equal to it bit for bit
(tests/gui/test_sweep_model.py). A worker that dies (killed, out of memory) or leaves a question unanswered
for ``LOST_AFTER_S`` (stopped, hung) fails its run with a sentence; the pool starts another in its place.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import select
import sys
import time
import traceback
import weakref

from gui.training import process as training_process
from gui.training.job import Job
from gui.training.messages import Finished
from gui.training.process import ALIVE, READY, Handback, TrainingProcess, job_spec, loads

THREADS = 1  # torch's intra-op threads per worker
# How long :meth:`PoolRun.wait` (no limit given) waits for a run's end before its worker is killed.
WAIT_LIMIT_S = 6.0
# A worker that leaves a question unanswered this long is lost (stopped, hung); one quiet for a quarter of
# it is asked (a ping, which its reader thread answers at once, inside a long mini-batch too).
LOST_AFTER_S = 5.0


def last_only(epoch: int) -> bool:
    """A sweep run's snapshot rule: none but the last epoch's (the trainer always sends that one)."""
    return False


def workers_wanted() -> int:
    """As many workers as cores, at least one: the cores this process may use where the system says
    (``taskset``, a container's CPU set), else ``os.cpu_count()``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


class PoolRun:
    """One run on one worker, the runner protocol of :class:`gui.model.session.Session`: :meth:`command`,
    :meth:`wait`, :meth:`close`."""

    def __init__(self, pool: Pool, worker: TrainingProcess, job: Job, deliver, run: int):
        self.pool, self.worker, self.job, self._deliver, self.run = pool, worker, job, deliver, run
        self.finished = False
        self.heard, self.asked = time.monotonic(), None  # the last word from the worker; an open question
        worker.busy, worker.runs = True, run
        pool.live[worker] = self
        self.asked = time.monotonic()
        if not worker.send(("job", {**job_spec(job, run), "threads": pool.threads})):
            self.lost("could not be reached")

    def judge(self, now: float) -> None:
        """Ask a quiet worker whether it is alive; give up one that left a question unanswered too long
        (not before it said its first word: it may still be importing torch)."""
        if self.finished or not self.worker.ready:
            return
        if self.asked is not None and now - self.asked > LOST_AFTER_S:
            self.lost(f"did not answer for {LOST_AFTER_S:g} s (stopped, hung or swapped out), so it was ended")
        elif self.asked is None and now - self.heard > LOST_AFTER_S / 4:
            self.asked = now
            self.worker.send(("ping",))

    def command(self, name: str, *args) -> None:
        if not self.finished:
            self.worker.send(("cmd", self.run, name, args))

    def receive(self, message) -> None:
        """A message of this run (from :meth:`Pool.pump`): the hand-back goes into the job's model and optimizer."""
        if self.finished:
            return
        if isinstance(message, Handback):
            try:
                message.apply(self.job.model, self.job.optimizer)
            except Exception:  # weights that do not fit: the run cannot end well
                self.lost("sent weights that do not fit", traceback.format_exc())
            return
        if isinstance(message, Finished):
            self.finished = True
        try:
            self._deliver(message)
        except Exception:  # a view's error: reported as a queued signal's would be, and the sweep goes on
            sys.excepthook(*sys.exc_info())

    def lost(self, what: str, details: str = "") -> None:
        """The worker died or failed: it is killed, and the run fails with a sentence."""
        if self.finished:
            return
        self.finished = True
        self.pool.discard(self.worker)
        epoch = self.job.first_epoch - 1
        self._deliver(Finished("failed", f"The sweep's training process {what}; this run was lost.\n{details}", epoch))

    def wait(self, milliseconds: int | None = None) -> bool:
        """Read this run's messages until its Finished (at most ``milliseconds``; with no limit, at most
        ``WAIT_LIMIT_S``, then its worker is killed and the run fails)."""
        limit = time.monotonic() + (WAIT_LIMIT_S if milliseconds is None else milliseconds / 1000)
        while not self.finished:
            left = limit - time.monotonic()
            if left <= 0:
                if milliseconds is not None:
                    return False
                self.lost(f"did not end its run within {WAIT_LIMIT_S:g} s, so it was ended")
                break
            self.pool.pump(min(left, 0.05))
        return True

    def close(self) -> None:
        """Forget the run once it has finished: its worker takes the next one."""
        self.worker.busy = False
        if self.pool.live.get(self.worker) is self:
            del self.pool.live[self.worker]


class Pool:
    """The workers of the sweeps; see the module docstring."""

    def __init__(self, size: int | None = None, threads: int = THREADS, borrow: bool = True):
        """``borrow``: one of the ``size`` workers is the GUI's training process when it is idle (see :meth:`start`)."""
        self.size, self.threads, self.borrow = size or workers_wanted(), threads, borrow
        self.workers: list[TrainingProcess] = []
        self.borrowed: TrainingProcess | None = None
        self.wanted = self.size  # workers to keep: fewer for a sweep of fewer runs (each holds a few hundred MB)
        self.live: dict[TrainingProcess, PoolRun] = {}
        _pools.add(self)

    def start(self, wanted: int | None = None) -> None:
        """Start the workers that are missing (a dead one is replaced), without waiting for them: ``wanted`` of
        them at most (None: as many as the last call wanted), never more than :attr:`size`; warm ones stay."""
        if wanted is not None:
            self.wanted = max(1, min(self.size, wanted))
        for worker in [w for w in self.workers if not w.alive]:
            self.discard(worker)
        if self.borrow and self.borrowed is None and len(self.workers) < self.wanted:
            # The GUI's own training process is warm (started as the window opened) and idle while a sweep
            # trains (Run waits for the sweep): it takes the first variant while the others start.
            shared = training_process.shared(start=False)
            if shared is not None and shared.alive and not shared.busy:
                self.borrowed = shared
                self.workers.append(shared)
        while len(self.workers) < self.wanted:
            self.workers.append(TrainingProcess())

    def idle(self) -> int:
        """Workers free for a run now."""
        self.start()
        return sum(1 for w in self.workers if not w.busy)

    def runner(self, job: Job, deliver) -> PoolRun:
        """A session's runner: ``job`` on a free worker (call only while :meth:`idle` says one is free)."""
        worker = next(w for w in self.workers if not w.busy and w.alive)
        job.snapshot_wanted = last_only
        job.config = dataclasses.replace(job.config, frames=False)
        return PoolRun(self, worker, job, deliver, worker.runs + 1)

    def pump(self, timeout: float = 0.0) -> int:
        """Read the workers' messages (waiting at most ``timeout`` seconds for the first), delivering each
        to its run; a worker whose pipe ends fails its run. Returns the number of messages read."""
        busy = list(self.live)
        for worker in busy:
            worker.commands.flush()
        fds = {w.messages.fd: w for w in busy if not w.messages.closed}
        if not fds:
            return 0
        try:
            readable, _, _ = select.select(list(fds), [], [], max(0.0, timeout))
        except (OSError, ValueError):  # a pipe closed meanwhile: its run is judged below
            readable = list(fds)
        count = 0
        for fd in readable:
            worker = fds[fd]
            received = worker.messages.received
            while (run := self.live.get(worker)) is not None and not run.finished:
                try:
                    data = worker.messages.take()
                    if data is None:
                        break
                    number, message = loads(data)
                except (EOFError, OSError):
                    run.lost("ended unexpectedly (it was killed, or the machine ran out of memory)")
                    break
                except Exception:
                    run.lost("sent a message that cannot be read", traceback.format_exc())
                    break
                count += 1
                if number == run.run:
                    run.receive(message)
                elif message in (READY, ALIVE):
                    worker.ready = True
            if worker.messages.received != received and worker in self.live:  # a word: it is alive
                self.live[worker].heard, self.live[worker].asked = time.monotonic(), None
        now = time.monotonic()
        for run in list(self.live.values()):
            run.judge(now)
        return count

    def discard(self, worker: TrainingProcess) -> None:
        """Kill ``worker`` and forget it (a new one takes its place at the next :meth:`start`)."""
        worker.kill()  # the GUI's training process too: the next Run starts another (gui.training.process.shared)
        if worker in self.workers:
            self.workers.remove(worker)
        if worker is self.borrowed:
            self.borrowed = None
        self.live.pop(worker, None)

    def kill_busy(self) -> None:
        """Kill the workers that train a run (a sweep's Stop: their runs are not kept); the idle ones stay warm."""
        for worker in list(self.live):
            self.live[worker].finished = True
            self.discard(worker)

    def close(self, wait: bool = True) -> None:
        """End every worker: the idle ones exit as their command pipe closes (``wait``: for that, a while,
        then they are killed), the busy ones are killed."""
        self.kill_busy()
        for worker in self.workers:
            if worker is not self.borrowed:  # the GUI's training process is not the pool's to end
                worker.close(wait)
        self.workers, self.borrowed = [], None


_pools: weakref.WeakSet[Pool] = weakref.WeakSet()


def _close_all() -> None:
    for pool in list(_pools):
        pool.close(wait=False)


# At exit the busy workers are killed and the idle ones' pipes close (they end on their own).
atexit.register(_close_all)
