"""A session's sweep, free of Qt: its variants trained side by side, each kept as an ordinary run.

:class:`Sweeper` is composed by :class:`gui.model.session.Session` (``session.sweep(grid, seeds)`` and the
other ``sweep`` names delegate to it). Each variant (:mod:`gui.model.sweep`) trains as a lone Run would: a
Session of its own, with the variant's experiment, runs it through its unchanged run path, with a worker of
the sweep's :class:`~gui.training.pool.Pool` as its runner. When it ends, its kept run joins this session's
run book under the variant's name ("eta 0.01, seed 2") with its history, settings, schedule (so export as
Python replays it) and its last snapshot only.

Someone must read the workers' messages: :meth:`Sweeper.pump` (the window calls it from its event loop,
:mod:`gui.qt.sweep_runner`; a test in a loop). Between two pumps nothing here blocks.
"""

from __future__ import annotations

import dataclasses
import time

from gui.model import sweep as grids
from gui.training.job import TrainerConfig
from gui.training.pool import Pool

IDLE, RUNNING, FINISHED = "idle", "running", "finished"
KEPT = ("completed", "diverged")  # a run that ended so is a result; a failed or lost one is not
# A sweep's runs report rarely: the session only keeps their history and final numbers.
QUIET = TrainerConfig(progress_hz=2.0, frames=False, metrics_hz=0.5)


class Sweeper:
    """The sweep of one session: its definition, the variants waiting and training, the runs kept."""

    def __init__(self, session, pool_factory=Pool):
        self.session, self.pool_factory = session, pool_factory
        self.pool: Pool | None = None
        self.state = IDLE
        self.grid: dict | None = None
        self.seeds = 1
        self.names: list[list[str | None]] = []  # [combination][repeat]: the name of its kept run, None until kept
        self._queue: list = []
        self._live: list = []  # (variant, its session)
        self._started = 0.0
        self._total = self._done = 0
        self._lost: list[str] = []

    # -- reading -------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self.state == RUNNING

    def definition(self) -> dict | None:
        """``{"grid": ..., "seeds": n}`` of the last sweep (started or read from a file), or None."""
        if self.grid is None:
            return None
        return {"grid": {k: list(v) for k, v in self.grid.items()}, "seeds": self.seeds}

    def results(self) -> list[dict]:
        """One dict per combination, in grid order: its values, its kept runs' names and final numbers,
        seed order (runs deleted since are left out)."""
        if self.grid is None:
            return []
        book = self.session.run_book
        present = set(book.names())
        runs = [[book[n] for n in names if n is not None and n in present] for names in self.names]
        return grids.results(self.grid, self.seeds, runs)

    def kept_names(self) -> list[list[str | None]]:
        """:attr:`names` with None for runs no longer in the run book (deleted): what a file keeps."""
        present = set(self.session.run_book.names())
        return [[n if n in present else None for n in names] for names in self.names]

    def member_names(self) -> list[str]:
        return [n for names in self.names for n in names if n is not None]

    # -- a sweep's life --------------------------------------------------------------------
    def prepare(self, runs: int | None = None) -> None:
        """Start the workers ahead of a sweep of ``runs`` runs (None: one a core), as each takes over a second to
        import torch: the sweep dialog may call this as it opens. They stay until the window closes."""
        if self.pool is None:
            self.pool = self.pool_factory()
        self.pool.start(runs)

    def start(self, grid, seeds: int = 1) -> None:
        """Start a sweep (returns at once); ``ValueError`` with a sentence when it cannot."""
        s = self.session
        if self.live:
            raise ValueError("A sweep is training already: wait for it to end, or stop it (Stop sweep in the Sweep "
                             "tab; session.stop_sweep()).")
        if s.running:
            raise ValueError("A run is training: stop it before starting a sweep.")
        checked = grids.check(grid, seeds, s.experiment)
        variants = grids.variants(checked, seeds, s.experiment)
        taken = set(s.run_book.names()) | {r.name for r in s.run_book.deleted}
        unique = []
        for v in variants:  # a second sweep over the same values: "eta 0.01 #2"
            name, n = v.name, 1
            while name in taken:
                n += 1
                name = f"{v.name} #{n}"
            taken.add(name)
            unique.append(dataclasses.replace(v, name=name))
        self.grid, self.seeds = checked, int(seeds)  # numpy's int too (check took it): a file's JSON takes an int
        self.names = [[None] * seeds for _ in grids.combinations(checked)]
        self._queue, self._live, self._lost = unique, [], []
        self._total, self._done, self._started = len(unique), 0, time.monotonic()
        try:
            self.prepare(len(unique))  # all workers at once, no more than the runs (warm ones are kept)
        except OSError as error:
            raise ValueError(f"No training process can start for the sweep ({error.strerror or error}): close "
                             "other programs and try again.") from None
        self.state = RUNNING
        s._set_modified(True)
        s.events.emit("status", f"Sweep: training {self._total} runs, {self.pool.wanted} at a time…")
        s.events.emit("sweep_progress", 0, self._total, None)
        self._fill()

    def pump(self, timeout: float = 0.0) -> None:
        """Read the workers' messages (waiting at most ``timeout`` seconds) and start the next variants."""
        if not self.live:
            return
        self.pool.pump(timeout)
        self._fill()

    def _fill(self) -> None:
        from gui.model.session import Session  # the session module composes this one

        while self.live and self._queue and self._idle():
            variant = self._queue.pop(0)
            alone = Session(variant.experiment, runner=self.pool.runner)
            alone.trainer_config = QUIET
            alone.events.connect("finished", lambda reason, text, v=variant, a=alone: self._ended(v, a, reason, text))
            self._live.append((variant, alone))
            if not alone.run():  # it validated when the sweep started: never, but nothing may hang on it
                self._ended(variant, alone, "failed", "it could not start")
        if self.live and not self._queue and not self._live:
            self._end(FINISHED)

    def _words(self) -> str:
        """A sweep's run's words in the runs table (its name says its values): ``"sweep of eta x width, 2 seeds"``."""
        settings = " x ".join(grids.LABELS.get(k, k) for k in self.grid)
        return f"sweep of {settings}" + (f", {self.seeds} seeds" if self.seeds > 1 else "")

    def _idle(self) -> int:
        """Free workers (dead ones replaced); 0, with the sweep ended, where no process can start."""
        try:
            return self.pool.idle()
        except OSError as error:  # too many processes, no memory: the runs that finished stay
            self.session.events.emit("status", f"Sweep: no training process can start ({error.strerror or error}).")
            self._queue = []
            if not self._live:
                self._end(FINISHED, stopped=True)
            return 0

    def _ended(self, variant, alone, reason: str, text: str) -> None:
        """A variant's run ended: a result joins the run book; a failed one is reported."""
        s = self.session
        self._live = [(v, a) for v, a in self._live if a is not alone]
        self._done += 1
        run = alone.current_run
        if reason in KEPT and run is not None:
            run.name = variant.name
            last = max(run.snapshots, default=None)
            run.snapshots = {} if last is None else {last: run.snapshots[last]}
            run.trimmed = False
            run.diff = self._words()
            s.run_book.keep(run)
            self.names[variant.index][variant.repeat] = variant.name
            self._in_grid_order()
            s.recorder.fit_snapshot_budget()
            s.events.emit("runs")
        else:
            self._lost.append(variant.name)
            s.events.emit("status", f"Sweep: run {variant.name} failed ({text.splitlines()[0] if text else reason}); "
                          "the sweep goes on without it.")
        elapsed = time.monotonic() - self._started
        left = None if self._done == 0 else elapsed / self._done * (self._total - self._done)
        s.events.emit("sweep_progress", self._done, self._total, left)

    def _in_grid_order(self) -> None:
        """The sweep's runs in the run book in grid order (they end in any order), where the first of them was;
        one deleted meanwhile stays out (Undo brings it back)."""
        book = self.session.run_book
        present = set(book.names())
        members = [n for n in self.member_names() if n in present]
        at = next(i for i, r in enumerate(book.runs) if r.name in members)
        by_name = {r.name: r for r in book.runs}
        others = [r for r in book.runs if r.name not in members]
        book.runs = others[:at] + [by_name[n] for n in members] + others[at:]

    def stop(self) -> None:
        """End the sweep: the finished runs stay, the unfinished ones are ended and left out."""
        if not self.live:
            return
        self.pool.pump(0.0)  # what has finished already counts
        self.pool.kill_busy()
        self._queue, self._live = [], []
        self._end(FINISHED, stopped=True)

    def _end(self, state: str, stopped: bool = False) -> None:
        kept = len(self.member_names())
        self.state = state
        seconds = time.monotonic() - self._started
        lost = f"; {len(self._lost)} failed ({', '.join(self._lost[:3])})" if self._lost else ""
        words = (f"Sweep stopped: {kept} of {self._total} runs finished and kept{lost}." if stopped
                 else f"Sweep finished: {kept} runs in {seconds:.1f} s{lost}.")
        self.session.events.emit("status", words)
        self.session.events.emit("sweep")

    def close(self) -> None:
        """Stop the sweep and end every worker (the window closes)."""
        self.stop()
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def forget(self) -> None:
        """Another experiment replaces this one: no sweep (its runs went with the run book)."""
        self.stop()
        had = self.grid is not None
        self.grid, self.seeds, self.names, self.state = None, 1, [], IDLE
        if had:
            self.session.events.emit("sweep")

    def adopt(self, definition: dict | None) -> None:
        """A sweep read from a file (:mod:`gui.files.sweep_file`): its grid, seeds and runs by variant."""
        self.forget()
        if definition is None:
            return
        self.grid, self.seeds = definition["grid"], definition["seeds"]
        self.names = [list(names) for names in definition["runs"]]
        self.state = FINISHED
        self.session.events.emit("sweep")
