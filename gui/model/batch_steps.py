"""The session's one-batch step (F8), free of Qt: train exactly one mini-batch, then pause, and
keep every number of its step (:class:`gui.model.inside.BatchStep`).

The batch is observed with ``trace`` for that one batch only (:meth:`minidl.TrainingControl.observe`);
the trainer stops observing right after it, so a plain run keeps fit's fast path. Epoch losses keep
their meaning: an epoch is recorded when its last batch finishes, whoever trained it.
"""

from __future__ import annotations

from gui.model import inside


class BatchSteps:
    """Mixed into :class:`gui.model.session.Session` (which owns ``_command``, ``state``, ``events``)."""

    def step_batch(self) -> None:
        """Train exactly one mini-batch (the next one in the usual order), then pause; starts a run if
        none is live. Its numbers come back as :meth:`last_batch_step` (event ``batch``)."""
        if self._batch_pending or self.state == "stopping":
            return  # one batch at a time: the next press steps the next batch
        if not self.running:
            self._batch_first = True  # armed by the session's _start, before the thread starts
            if not self.run(first_step_only=True):
                self._batch_first = False
            return
        self._arm_batch_step()
        self.state = "running"
        self.events.emit("state", self.state)

    def _arm_batch_step(self) -> None:
        self._batch_pending = True
        self._command("trace")
        self._command("step_batches", 1)

    def last_batch_step(self) -> inside.BatchStep | None:
        """The last mini-batch trained by :meth:`step_batch` (None before the first): ``epoch``,
        ``batch_index``, ``X``, ``y``, ``loss_before``, ``loss_after`` and per Linear ``layers``."""
        return self._last_batch

    def _batch_stepped(self, message) -> None:
        """The trainer's :class:`gui.training.messages.BatchStepped` arrived (on the GUI thread)."""
        self._batch_pending = False
        step = self._last_batch = inside.batch_step(message.record, self.experiment.blocks, message.eta,
                                                    self.experiment.loss)
        if self.state == "running" and self._follows(message) and message.paused:
            self.state = "paused"
            self.events.emit("state", self.state)
        self.events.emit("batch", step)
        self.events.emit("status", f"Trained batch {step.batch_index + 1} of epoch {step.epoch}: its loss went from "
                         f"{step.loss_before:.4g} to {step.loss_after:.4g}. F8 trains the next batch, F6 resumes.")
