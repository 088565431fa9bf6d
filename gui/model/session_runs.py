"""How a Session records its runs for comparison (:class:`RunRecorder`, composed by the session; Qt-free).

Every Run (a fresh start, a Continue) and every branch from the timeline (:meth:`Session.fork`)
adds a :class:`~gui.model.runs.Run` to the session's :class:`~gui.model.runs.RunBook`; the session's
``schedule`` records which settings trained which epochs (an eta edited during a run from the epoch
the run takes it), so that "export as Python" replays the run exactly. See :mod:`gui.model.runs` for the rules.
"""

from __future__ import annotations

import torch

from gui.model import snapshot_budget
from gui.model.runs import Run, RunBook, final_numbers, settings_of

# Networks up to this many parameters are evaluated on the GUI thread when a run ends without
# the worker's metrics (a stop): the report's network takes about a millisecond.
SYNC_EVALUATE = 1_000_000


class RunRecorder:
    """Keeps the runs of one :class:`~gui.model.session.Session` in its run book: begins a run as it starts,
    takes the etas a live run reports, ends it with its numbers, and holds every snapshot within the
    memory budget. The session owns it and reads its state (history, timeline, experiment, optimizer)."""

    def __init__(self, session):
        self._session = session
        self.restart_note = ""  # added to a stop's status when the optimizer's state starts afresh at the next Run
        self._steps_begun: tuple[int, int, int] | None = None

    # -- memory ------------------------------------------------------------------------------
    def snapshot_bytes(self) -> int:
        """Bytes of every weight snapshot the session holds, each tensor once: the timeline's (pins
        included), the kept runs', the deleted runs' and the Reset's that Undo can bring back."""
        s = self._session
        undo = s.undo_timeline
        runs = [*s.run_book.runs, *s.run_book.deleted]
        return snapshot_budget.held_bytes([*snapshot_budget.timeline_flats(s.timeline),
                                           *snapshot_budget.timeline_flats(undo),
                                           *(flat for run in runs for flat in run.snapshots.values())])

    def fit_snapshot_budget(self) -> None:
        """Make the kept runs and what Undo can bring back give up snapshots past the budget
        (gui.model.snapshot_budget)."""
        s = self._session
        snapshot_budget.fit(s.timeline, s.undo_timeline, s.run_book.runs, s.run_book.deleted)

    def adopt(self, runs: list[Run], schedule: list | None, current: str | None) -> None:
        """The runs (and the schedule of the current weights) read from a file. Their snapshots, views of
        the file's tensors, are copied once the memory budget has chosen the ones kept."""
        s = self._session
        s.run_book.replace(runs)
        if schedule is not None:
            s.schedule = schedule
        s.current_run = next((r for r in runs if r.name == current), None)
        self.fit_snapshot_budget()
        for run in runs:
            run.snapshots = {e: snapshot_budget.own(flat) for e, flat in run.snapshots.items()}

    def run_weights(self, name: str, epoch: int) -> tuple[int, torch.Tensor] | None:
        """``(snapshot epoch, flat weights)`` of run ``name`` nearest ``epoch`` (None without weights)."""
        s = self._session
        run = s.run_book[name]
        if run is s.current_run and run.state == "running" and s.timeline is not None:
            nearest = s.timeline.nearest(min(epoch, s.history.epochs))
            return None if nearest is None else (nearest, s.timeline.flat(nearest))
        nearest = run.nearest(min(epoch, run.epochs))
        return None if nearest is None else (nearest, run.snapshots[nearest])

    # -- settings --------------------------------------------------------------------------------
    def training_settings(self) -> dict:
        """What trains the next epochs: step size, batch size, optimizer and learning-rate schedule (the
        script replays each entry with them; ``epochs`` sizes the schedule, see Experiment.build_schedule)."""
        e = self._session.experiment
        return {"eta": e.eta, "batch_size": e.effective_batch_size, "optimizer": e.optimizer,
                "momentum": e.momentum, "weight_decay": e.weight_decay, "l1": e.l1,
                "schedule": e.schedule, "epochs": e.epochs}

    def run_settings(self) -> dict:
        s = self._session
        settings = settings_of(s.experiment)
        if s.schedule:  # the eta that trained last (an edit the run has not taken yet does not count)
            settings["eta"] = s.schedule[-1][1]["eta"]
        return settings

    # -- a run's life ------------------------------------------------------------------------------
    def begin(self, done: int, forked: bool) -> None:
        """A run starts after ``done`` epochs (``forked``: a branch from the timeline)."""
        s = self._session
        # "fresh": this Run starts the optimizer's state (momentum, Adam's moments) from nothing: a first
        # Run, a fork, a changed optimizer, or a Continue after a stop inside an epoch (see end).
        fresh = s.optimizer.step_count == 0
        batches = -(-s.data.X_train.shape[0] // s.experiment.effective_batch_size)  # an epoch's steps
        self._steps_begun = (done, s.optimizer.step_count, batches)
        if s.schedule is not None:
            # Hand edits made while idle wait in the entry at done + 1: this Run's entry keeps them.
            edits = [e for first, v in s.schedule if first == done + 1 for e in v.get("edits", [])]
            s.schedule = [c for c in s.schedule if c[0] <= done] + \
                [(done + 1, {**self.training_settings(), "fresh": fresh, **({"edits": edits} if edits else {})})]
        kind = "fork" if forked else ("continue" if done else "fresh")
        parent = s.current_run.name if done and s.current_run is not None else None
        s.current_run = s.run_book.begin(self.run_settings(), s.history, kind, parent, done, s.schedule or [])

    def take_etas(self, applied: list[tuple[int, float]]) -> None:
        """Record the etas a live run took, ``(epoch, eta)``, in the schedule and the run book."""
        s = self._session
        for epoch, eta in applied:
            self._set_entry(epoch, eta=eta)
        if s.current_run is not None and s.current_run.state == "running":
            # Every Progress comes here: the settings are made again only when a live eta changed them.
            settings = self.run_settings() if applied else None
            RunBook.update(s.current_run, s.history, s.schedule or [], settings)

    def record_edits(self, epoch: int, edits: list) -> None:
        """Hand edits (gui/model/hand_edits.py) made before ``epoch``, the first epoch trained with them, in
        the schedule entry at ``epoch`` (``"edits"``: ``[layer, out, in_, value]`` lists), where an exported
        script makes them."""
        s = self._session
        if s.schedule is None:
            return
        made = [v for first, v in s.schedule if first == epoch][:1]
        self._set_entry(epoch, edits=[*(made[0].get("edits", []) if made else []), *map(list, edits)])

    def _set_entry(self, epoch: int, **changes) -> None:
        """The schedule's entry at ``epoch`` with ``changes``: the one there, or the settings that trained the
        epoch before (its edits were made before its own first epoch, not this one's)."""
        s = self._session
        if s.schedule is None:
            return
        if s.schedule:
            first, last = s.schedule[-1]
            last = {k: v for k, v in last.items() if k != "edits" or first == epoch}
        else:  # fresh weights edited before the first Run: that Run's entry takes the edits (begin)
            last = self.training_settings()
        # An eta taken at a Run's very first epoch replaces that Run's entry: a fresh start stays one.
        fresh = any(v.get("fresh", False) for first, v in s.schedule if first >= epoch) or not s.schedule
        s.schedule = [c for c in s.schedule if c[0] < epoch] + [(epoch, {**last, **changes, "fresh": fresh})]

    def end(self, reason: str) -> bool:
        """The run ended (``reason``: completed, stopped, diverged or failed): its final numbers go in the
        book. False when no run of the book was live (nothing changed there)."""
        s = self._session
        self.take_etas([])
        self._drop_partial_epoch_state()
        run = s.current_run
        if run is None or run.state != "running":
            return False
        final = final_numbers(s.history, s.metrics)
        model = s._model  # the run's own network: the training is done with it
        if (final["test_error"] is None and model is not None and s.history.epochs and reason != "failed"
                and sum(p.numel() for p in model.parameters()) <= SYNC_EVALUATE):
            values = s.data.evaluate(model)  # a few ms
            final.update({k: v for k, v in values.items() if v is not None})
        s.run_book.end(run, reason, s.history, s.schedule or [], self.run_settings(), s.timeline, final)
        self.fit_snapshot_budget()
        return True

    def _drop_partial_epoch_state(self) -> None:
        """A run that ends inside an epoch (a Stop between mini-batches) takes its weights back to the
        end of the last whole epoch; its optimizer's state (momentum, Adam's moments) cannot go back, so
        it starts afresh at the next Run, as at a fork. The weights and the state then always belong
        together, and an exported script replays the Continue exactly."""
        s = self._session
        begun, self._steps_begun = self._steps_begun, None
        optimizer, self.restart_note = s.optimizer, ""
        if begun is None or optimizer is None or optimizer.stateless:
            return
        done, steps, batches = begun
        if optimizer.step_count != steps + (s.history.epochs - done) * batches:
            s.optimizer = None
            what = "Adam's moments start" if s.experiment.optimizer == "Adam" else "the momentum starts"
            self.restart_note = (f" The weights went back to the end of epoch {s.history.epochs}; {what} afresh "
                                 "at the next Run (they cannot go back with them).")
