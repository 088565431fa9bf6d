"""The session's one-batch step (F8), free of Qt: train exactly one mini-batch, then pause, and
keep every number of its step (:class:`gui.model.inside.BatchStep`).

The batch is observed with ``trace`` for that one batch only (the run's ``trace`` command); the
trainer stops observing right after it, so a plain run keeps fit's fast path. Epoch losses keep
their meaning: an epoch is recorded when its last batch finishes, whoever trained it.
"""

from __future__ import annotations

from gui.model import inside


class BatchStepper:
    """The batch step of one :class:`~gui.model.session.Session`, which owns it and calls :meth:`armed`
    as a run starts, :meth:`stepped` when the run's :class:`~gui.training.messages.BatchStepped` comes and
    :meth:`forget` when its weights change. It reaches the run only through the session's ``_command``."""

    def __init__(self, session):
        self._session = session
        self._first = False  # a step asked for while no run is live: armed as the run starts
        self.pending = False  # a traced batch is on its way
        self.last: inside.BatchStep | None = None

    def step(self) -> None:
        """Train exactly one mini-batch (the next one in the usual order), then pause; starts a run if
        none is live."""
        s = self._session
        if self.pending or s.state == "stopping":
            return  # one batch at a time: the next press steps the next batch
        if not s.running:
            self._first = True
            if not s.run(first_step_only=True):
                self._first = False
            return
        self._arm()
        s._set_state("running")

    def armed(self) -> None:
        """A run starts: a step asked for before it goes with its first commands."""
        if self._first:
            self._first = False
            self._arm()

    def _arm(self) -> None:
        self.pending = True
        self._session._command("trace")
        self._session._command("step_batches", 1)

    def stepped(self, message) -> None:
        """The run's :class:`gui.training.messages.BatchStepped` arrived (on the GUI thread)."""
        s = self._session
        self.pending = False
        step = self.last = inside.batch_step(message.record, s.experiment.blocks, message.eta, s.experiment.loss)
        if s.state == "running" and s._follows(message) and message.paused:
            s._set_state("paused")
        s.events.emit("batch", step)
        s.events.emit("status", f"Trained batch {step.batch_index + 1} of epoch {step.epoch}: its loss went from "
                      f"{step.loss_before:.4g} to {step.loss_after:.4g}. F8 trains the next batch, F6 resumes.")

    def forget(self) -> None:
        self.last = None
