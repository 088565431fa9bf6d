"""The Session's part that keeps runs for comparison (a mixin of :class:`gui.model.session.Session`, Qt-free).

Every Run (a fresh start, a Continue) and every branch from the timeline (:meth:`KeptRuns.fork`)
adds a :class:`~gui.model.runs.Run` to :attr:`KeptRuns.runs`; the session's ``schedule`` records which
settings trained which epochs (an eta edited during a run from the epoch the worker took it), so
that "export as Python" replays the run exactly. See :mod:`gui.model.runs` for the rules.
"""

from __future__ import annotations

import torch

from gui.model import snapshot_budget
from gui.model.runs import Run, RunBook, final_numbers, settings_of

# Networks up to this many parameters are evaluated on the GUI thread when a run ends without
# the worker's metrics (a stop): the report's network takes about a millisecond.
SYNC_EVALUATE = 1_000_000


class KeptRuns:
    """Mixed into :class:`gui.model.session.Session`, whose state it reads (history, timeline, experiment)."""

    restart_note = ""  # added to a stop's status when the optimizer's state starts afresh at the next Run

    # -- the runs kept for comparison (gui/model/runs.py) ------------------------------------------
    @property
    def runs(self) -> list[Run]:
        """Every run kept, oldest first: a fresh start, a Continue or a fork each add one."""
        return self.run_book.runs

    def compare(self, names) -> list[str]:
        """Tick the runs ``names`` for comparison (the loss plot overlays them); returns the ticked names."""
        ticked = self.run_book.compare(names)
        self.events.emit("runs")
        return ticked

    def delete_run(self, name: str) -> None:
        """Forget run ``name`` (not the session's weights); :meth:`undo_delete_run` brings it back."""
        self.run_book.delete(name)
        self.events.emit("runs")
        self.events.emit("status", f"Run {name} deleted (Ctrl+Z brings it back).")

    def undo_delete_run(self) -> bool:
        run = self.run_book.undo_delete()
        if run is None:
            return False
        self.events.emit("runs")
        self.events.emit("status", f"Run {run.name} is back.")
        return True

    @property
    def can_undo(self) -> bool:
        """Whether Edit › Undo (Ctrl+Z) has something to bring back: a Reset or a deleted run."""
        return self.can_undo_reset or bool(self.run_book.undo_stamp)

    def undo(self) -> bool:
        """Undo the newer of the last Reset and the last run deletion."""
        reset = self._undo.stamp if self.can_undo_reset else -1
        if self.run_book.undo_stamp > reset:
            return self.undo_delete_run()
        return self.undo_reset()

    def fork(self) -> bool:
        """A new run from the weights at the timeline's epoch (the head when not seeking), with the
        current settings; the run that trained past it stays in the runs for comparison."""
        return self.resume_from(self.history.epochs if self.seek_epoch is None else self.seek_epoch)

    def adopt_runs(self, runs: list[Run], schedule: list | None, current: str | None) -> None:
        """The runs (and the schedule of the current weights) read from a file. Their snapshots, views of
        the file's tensors, are copied once the memory budget has chosen the ones kept."""
        self.run_book.replace(runs)
        if schedule is not None:
            self.schedule = schedule
        self.current_run = next((r for r in runs if r.name == current), None)
        self._fit_snapshot_budget()
        for run in runs:
            run.snapshots = {e: snapshot_budget.own(flat) for e, flat in run.snapshots.items()}
        self.events.emit("runs")

    # -- memory ------------------------------------------------------------------------------
    def snapshot_bytes(self) -> int:
        """Bytes of every weight snapshot the session holds, each tensor once: the timeline's (pins
        included), the kept runs', the deleted runs' and the Reset's that Undo can bring back. At most
        :data:`gui.model.timeline.SNAPSHOT_BUDGET` (or one snapshot where a single one is larger)."""
        undo = self._undo.timeline if self._undo is not None else None
        runs = [*self.run_book.runs, *self.run_book.deleted]
        return snapshot_budget.held_bytes([*snapshot_budget.timeline_flats(self.timeline),
                                           *snapshot_budget.timeline_flats(undo),
                                           *(flat for run in runs for flat in run.snapshots.values())])

    def _fit_snapshot_budget(self) -> None:
        """Make the kept runs and what Undo can bring back give up snapshots past the budget
        (gui.model.snapshot_budget)."""
        undo = self._undo.timeline if self._undo is not None else None
        snapshot_budget.fit(self.timeline, undo, self.run_book.runs, self.run_book.deleted)

    def run_weights(self, name: str, epoch: int) -> tuple[int, torch.Tensor] | None:
        """``(snapshot epoch, flat weights)`` of run ``name`` nearest ``epoch`` (None without weights)."""
        run = self.run_book[name]
        if run is self.current_run and run.state == "running" and self.timeline is not None:
            nearest = self.timeline.nearest(min(epoch, self.history.epochs))
            return None if nearest is None else (nearest, self.timeline.flat(nearest))
        nearest = run.nearest(min(epoch, run.epochs))
        return None if nearest is None else (nearest, run.snapshots[nearest])

    def _training_settings(self) -> dict:
        """What trains the next epochs: step size, batch size, optimizer and learning-rate schedule (the
        script replays each entry with them; ``epochs`` sizes the schedule, see Experiment.build_schedule)."""
        e = self.experiment
        return {"eta": e.eta, "batch_size": e.effective_batch_size, "optimizer": e.optimizer,
                "momentum": e.momentum, "weight_decay": e.weight_decay, "schedule": e.schedule, "epochs": e.epochs}

    def run_settings(self) -> dict:
        settings = settings_of(self.experiment)
        if self.schedule:  # the eta that trained last (an edit not yet taken by the worker is not)
            settings["eta"] = self.schedule[-1][1]["eta"]
        return settings

    def _begin_run(self, done: int) -> None:
        # "fresh": this Run starts the optimizer's state (momentum, Adam's moments) from nothing: a first
        # Run, a fork, a changed optimizer, or a Continue after a stop inside an epoch (see _end_run).
        fresh = self.optimizer.step_count == 0
        batches = -(-self.data.X_train.shape[0] // self.experiment.effective_batch_size)  # an epoch's steps
        self._steps_begun = (done, self.optimizer.step_count, batches)
        if self.schedule is not None:
            self.schedule = [c for c in self.schedule if c[0] <= done] + \
                [(done + 1, {**self._training_settings(), "fresh": fresh})]
        kind = "fork" if self._fork_at is not None else ("continue" if done else "fresh")
        parent = self.current_run.name if done and self.current_run is not None else None
        self.current_run = self.run_book.begin(self.run_settings(), self.history, kind, parent, done,
                                               self.schedule or [])
        self.events.emit("runs")

    def _take_live_changes(self, applied: list[tuple[int, float]]) -> None:
        """Record the etas a live run took, ``(epoch, eta)``, in the schedule and the run book."""
        for epoch, eta in applied:
            if self.schedule is not None:
                last = self.schedule[-1][1] if self.schedule else self._training_settings()
                # An eta taken at a Run's very first epoch replaces that Run's entry: a fresh start stays one.
                fresh = any(v.get("fresh", False) for first, v in self.schedule if first >= epoch)
                self.schedule = [c for c in self.schedule if c[0] < epoch] + \
                    [(epoch, {**last, "eta": eta, "fresh": fresh})]
        if self.current_run is not None and self.current_run.state == "running":
            # Every Progress comes here: the settings are made again only when a live eta changed them.
            settings = self.run_settings() if applied else None
            RunBook.update(self.current_run, self.history, self.schedule or [], settings)

    def _end_run(self, reason: str) -> None:
        self._take_live_changes([])
        self._drop_partial_epoch_state()
        run = self.current_run
        if run is None or run.state != "running":
            return
        final = final_numbers(self.history, self.metrics)
        if (final["test_error"] is None and self._model is not None and self.history.epochs and reason != "failed"
                and sum(p.numel() for p in self._model.parameters()) <= SYNC_EVALUATE):
            values = self.data.evaluate(self._model)  # the worker is done with it; a few ms
            final.update({k: v for k, v in values.items() if v is not None})
        self.run_book.end(run, reason, self.history, self.schedule or [], self.run_settings(), self.timeline, final)
        self._fit_snapshot_budget()
        self.events.emit("runs")

    def _drop_partial_epoch_state(self) -> None:
        """A run that ends inside an epoch (a Stop between mini-batches) takes its weights back to the
        end of the last whole epoch; its optimizer's state (momentum, Adam's moments) cannot go back, so
        it starts afresh at the next Run, as at a fork. The weights and the state then always belong
        together, and an exported script replays the Continue exactly."""
        begun, self._steps_begun = getattr(self, "_steps_begun", None), None
        optimizer, self.restart_note = self.optimizer, ""
        if begun is None or optimizer is None or optimizer.stateless:
            return
        done, steps, batches = begun
        if optimizer.step_count != steps + (self.history.epochs - done) * batches:
            self.optimizer = None
            what = "Adam's moments start" if self.experiment.optimizer == "Adam" else "the momentum starts"
            self.restart_note = (f" The weights went back to the end of epoch {self.history.epochs}; {what} afresh "
                                 "at the next Run (they cannot go back with them).")
