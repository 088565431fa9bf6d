"""The run model of the playground, free of Qt: one experiment, its network, data, history and timeline.

A :class:`Session` owns everything a run is: the :class:`~gui.model.experiment.Experiment`, the model,
the data, the loss :class:`~gui.model.history.History`, the :class:`~gui.model.timeline.Timeline` of weight
snapshots, the run state and the rules between them. Views subscribe to its events
(:meth:`Events.connect`) and call its methods; they never hold run state of their own.

The run rules:

- **Run** trains up to the experiment's epochs, or that many more once there. It continues
  from the current weights, except after a divergence: then it starts again from fresh ones.
- **Step** trains one epoch, then pauses; **Pause** holds, **Run** or **Pause** again resumes.
- **Stop** ends the run; the weights go back to the end of the last whole epoch, so they always
  match the history. **Reset** draws the initial weights again from the seed; it can be undone.
- A change of data or seed draws new data *and* new weights (reseeding); a change of the
  blocks, or of the input features (the first Linear's width follows them), draws new weights;
  eta reaches a live run at the start of its next epoch (recorded in :attr:`Session.schedule`, so
  that an exported script replays it); batch size and epochs apply at the next Run.
- A weight or a bias set by hand (:meth:`Session.set_weight`, :meth:`Session.set_bias`) is made at once
  while idle (undoable), and by a live run at the start of its next epoch, like eta
  (:class:`gui.model.hand_edits.HandEdits`); the schedule records it before that epoch.
- Every run is kept in :attr:`Session.runs` for comparison (gui/model/runs.py): a fresh start, a
  Continue, or a branch (:meth:`Session.fork`).
- The optimizer's state (momentum, Adam's moments) carries over from Run to Run and is saved with
  the experiment; a change of optimizer, momentum or weight decay starts it afresh and keeps the
  weights; a change of loss draws new weights; new weights and a branch start it afresh.
- :meth:`Session.resume_from` branches: it drops the history after a snapshot and trains on
  from it. Training is deterministic (same batches, same order), so a branch with nothing
  changed repeats the original losses bit for bit.

Threading: while a run is live only the training thread touches :attr:`Session.model`'s
tensors; the session (GUI thread) gets copies in messages, and :attr:`Session.model` hands
out a copy built from the latest snapshot. ``runner(job, deliver)`` starts a run: the Qt
window passes :func:`gui.qt.runner.start` (the training process of :mod:`gui.training.process`,
which gives the weights and the optimizer's state back at the end; or a QThread); tests may
pass a synchronous one. The session reaches a live run only through the runner's commands
(:mod:`gui.training.control`: pause, resume, step, eta, pace, units, load, ...) and learns what the
run did only from its messages, so a run in a thread and one in the training process behave alike.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

import minidl
from gui.model import boundary
from gui.model.batch_steps import BatchStepper
from gui.model.data import Data
from gui.model.events import Events
from gui.model.experiment import Experiment
from gui.model.hand_edits import HandEdits
from gui.model.history import History
from gui.model.pace import Pace
from gui.model.runs import Run, RunBook, stamp
from gui.model.session_runs import RunRecorder
from gui.model.sweeper import Sweeper
from gui.model.timeline import Timeline, flatten
from gui.model.units_wanted import UnitsWanted
from gui.model.weights import ViewRequest, fresh_network, load_flat, model_from
from gui.training.control import SWITCHES, GuiLoad, RunControl
from gui.training.job import Job, TrainerConfig
from gui.training.messages import BatchLosses, BatchStepped, Finished, Frame, Metrics, Progress
from minidl import architecture

IDLE, RUNNING, PAUSED, STOPPING, FINISHED = "idle", "running", "paused", "stopping", "finished"
# How long the Stop button waits for the training thread before it lets the GUI go on (a small
# network stops within a mini-batch, microseconds; one of a wide network can take a second).
STOP_WAIT_MS = 20
# Networks up to this many parameters are drawn on the caller's thread (the report's has 1,427,
# drawn in well under a millisecond); a 2-4096-4096-2 network (16.8 M) takes about half a second,
# so it is drawn by ``builder`` (the window's runs it in a thread) and Run waits for it.
SYNC_BUILD = 1_000_000
DATA_FIELDS = ("dataset", "noise", "n_train", "n_test", "seed", "classes", "points", "test_ratio")
# A change of these keeps the weights but starts the optimizer's state (momentum, Adam's moments) afresh.
OPTIMIZER_FIELDS = ("optimizer", "momentum", "weight_decay", "l1")


@dataclass
class _Undo:
    model: minidl.Sequential | None
    history: History
    timeline: Timeline | None
    target_epoch: int
    fresh_weights_needed: bool
    state: str
    finish_reason: str | None
    optimizer: object = None
    schedule: list | None = None
    current_run: Run | None = None
    stamp: int = 0


class Session:
    """One experiment and its run. See the module docstring for the rules.

    Public, for views and automation: :attr:`experiment`, :attr:`data`, :attr:`history`,
    :attr:`state`, :attr:`model`, :attr:`metrics`, :meth:`snapshot_epochs`, :meth:`seek`,
    :meth:`resume_from`, :meth:`parameters_at`, the run controls, and :meth:`step_batch` /
    :meth:`last_batch_step` (its :class:`~gui.model.batch_steps.BatchStepper`).
    """

    def __init__(self, experiment: Experiment | None = None, runner=None, builder=None):
        self.experiment = experiment or Experiment()
        self.runner = runner
        self.builder = builder  # builder(work, done): done(work()) later; None: build in place
        self.building = False
        self._generation = 0  # of the network being drawn: a newer edit makes an older one moot
        self._run_when_built: bool | None = None
        self.events = Events()
        self.history = History()
        self.timeline: Timeline | None = None
        self.data: Data | None = None
        self.grid: torch.Tensor | None = None
        self.extent = (0.0, 1.0, 0.0, 1.0)
        self.state, self.finish_reason = IDLE, None
        self.target_epoch = 0
        self.fresh_weights_needed = False
        self.metrics: Metrics | None = None
        self.seek_epoch: int | None = None  # None: the view follows the head of the run
        self.modified = False
        self.path = None  # the file the experiment was opened from or saved to
        self._model: minidl.Sequential | None = None
        self._run = self._optimizer = None
        self._sent = 0  # the switches (gui.training.control.SWITCHES) sent to the live run
        # The optimizer whose state (momentum, Adam's moments) carries over from run to run; None: make
        # a fresh one at the next Run. Only the training thread steps it while a run is live.
        self.optimizer = None
        self._undo: _Undo | None = None
        self.batch_stepper = BatchStepper(self)
        self._job = None  # the live run's Job
        # Read them here; change them with set_speed, set_batch_losses and want_units (each goes to a live run).
        self.pace = Pace()  # how fast a run goes (gui.model.pace)
        self.units_wanted = UnitsWanted()  # whether frames carry unit images (gui.model.units_wanted)
        self.gui_load = GuiLoad()  # the GUI thread's share of the time, measured at each progress message
        self._load_sent = 0.0
        self.trainer_config = TrainerConfig()  # how often the trainer reports (gui.training.job)
        # The runs kept for comparison (gui/model/runs.py), and how the current weights were trained:
        # ``schedule`` [(first epoch, {"eta", "batch_size"})], None when unknown (an older file).
        self.run_book = RunBook()
        self.recorder = RunRecorder(self)
        self.hand_edits = HandEdits(self)
        self.sweeper = Sweeper(self)  # session.sweep(...): gui/model/sweeper.py
        self.schedule: list | None = []
        self.current_run: Run | None = None
        self._fork_at: int | None = None
        self._new_data()
        self._new_model()

    # -- reading ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.state in (RUNNING, PAUSED, STOPPING)

    @property
    def model(self) -> minidl.Sequential | None:
        """The network; while a run is live, a copy built from the latest snapshot (the live one
        belongs to the training thread)."""
        if not self.running or self._model is None:
            return self._model
        return model_from(self.experiment.blocks, self.timeline.flat(self.timeline.epochs()[-1]),
                          self.experiment.loss)

    @property
    def live_run(self):
        """The runner's object of the live run (None while idle): a :class:`gui.qt.runner.ProcessRun` in the
        training process, a :class:`gui.qt.runner.QtRun` in a thread, or a test's runner."""
        return self._run

    @property
    def has_model(self) -> bool:
        """Whether there are weights (the stack is valid), without copying them during a run."""
        return self._model is not None

    def snapshot_epochs(self) -> list[int]:
        """The epochs whose weights the timeline holds (0: the initial weights)."""
        return self.timeline.epochs() if self.timeline is not None else []

    def parameters_at(self, epoch: int) -> list[torch.Tensor]:
        """``[W0, b0, W1, b1, ...]`` (W of shape ``(out, in)``) at the snapshot nearest ``epoch``."""
        if not self.snapshot_epochs():
            raise ValueError("there are no weights yet: the network is not valid")
        return self.timeline.parameters(self.timeline.nearest(epoch))

    def validate(self) -> list[str]:
        return self.experiment.validate()

    def view_request(self, epoch: int | None = None) -> ViewRequest | None:
        """What to draw for ``epoch`` (its nearest snapshot), or for the current weights when None."""
        if self._model is None or self.timeline is None:
            return None
        if epoch is None and not self.running:
            # Idle, the weights are those of the last epoch's snapshot (a stop or a divergence goes
            # back to it): no copy of a wide network's weights on the GUI thread.
            epoch = self.history.epochs
            flat = self.timeline.flat(epoch) if epoch in self.timeline.epochs() else flatten(self._model.parameters())
        else:
            epoch = self.timeline.nearest(self.history.epochs if epoch is None else epoch)
            flat = self.timeline.flat(epoch)
        return ViewRequest(epoch, [dict(b) for b in self.experiment.blocks], flat, self.grid, self.data,
                           self.experiment.loss)

    # -- editing the experiment -------------------------------------------------------
    def edit(self, **changes) -> None:
        """Change experiment fields; see the module docstring for what each change resets.

        While a run is live only ``eta`` may change (the window disables the other controls)."""
        changes = {k: v for k, v in changes.items() if getattr(self.experiment, k) != v}
        if not changes:
            return
        if self.running and set(changes) - {"eta"}:
            raise ValueError(f"stop the run before changing {', '.join(sorted(set(changes) - {'eta'}))}")
        trained = self.history.epochs
        for key, value in changes.items():
            setattr(self.experiment, key, value)
        self._set_modified(True)
        if "eta" in changes and self.running and self.experiment.eta > 0:
            self._command("eta", self.experiment.eta)  # the run takes it at its next epoch
        if set(changes) & set(DATA_FIELDS):
            self._new_data()
            self._discard_run(f"New data from seed {self.experiment.seed}, and new initial weights"
                              + (f": the {trained} trained epochs were discarded" if trained else ""))
        elif "features" in changes:  # the same points, other inputs: the first Linear's width follows
            self._new_data()
            self._discard_run(f"The inputs changed: new initial weights from seed {self.experiment.seed}"
                              + (f"; the {trained} trained epochs were discarded" if trained else ""))
        elif "blocks" in changes or "loss" in changes:
            self._discard_run(f"The network changed: new initial weights from seed {self.experiment.seed}"
                              + (f"; the {trained} trained epochs were discarded" if trained else ""))
        if set(changes) & set(OPTIMIZER_FIELDS) and self.optimizer is not None and not self.running:
            self.optimizer = None
            if self.history.epochs:
                self.events.emit("status", f"The next Run continues from epoch {self.history.epochs} with a fresh "
                                 f"{self.experiment.optimizer} (its momentum starts from zero).")
        self.events.emit("experiment")

    def _discard_run(self, why: str) -> None:
        self._undo = None  # a Reset's weights belong to the data and network this edit replaced
        self._new_model()
        self.events.emit("model")
        if why:
            self.events.emit("status", why + ".")

    def replace(self, experiment: Experiment, model=None, history: History | None = None,
                timeline: Timeline | None = None, fresh_weights_needed: bool = False, path=None,
                optimizer_state: dict | None = None) -> None:
        """Stop any run and take ``experiment`` (and the weights, history and optimizer state of a file)."""
        self.stop()
        self.sweeper.forget()
        self.experiment, self.path = experiment, path
        self.run_book.clear()
        self._new_data()
        self.target_epoch, self.fresh_weights_needed, self._undo = 0, fresh_weights_needed, None
        self.state, self.finish_reason, self.seek_epoch = IDLE, None, None
        if model is None:
            self._new_model()
        else:
            self._generation, self.building = self._generation + 1, False  # a network still being drawn is moot
            self.batch_stepper.forget()  # a step of the previous network's weights
            self.hand_edits.forget()
            self._model, self.history = model, history or History()
            self.schedule = [(1, self.recorder.training_settings())] if not self.history.epochs else None
            self.current_run = None
            self.timeline = timeline if timeline is not None else Timeline([tuple(p.shape) for p in model.parameters()])
            if self.history.epochs not in self.timeline.epochs():
                self.timeline.add(self.history.epochs, flatten(model.parameters()), pinned=True)
            self.metrics, self.optimizer = None, None  # never the previous experiment's (plain SGD saves no state)
            if optimizer_state:
                self.optimizer = experiment.build_optimizer()
                self.optimizer.load_state_tensors(optimizer_state, model.parameters())
        self._set_modified(False)
        self.events.emit("experiment")
        self.events.emit("model")
        self.events.emit("state", self.state)
        self.events.emit("runs")

    # -- run controls --------------------------------------------------------------------
    def run(self, first_step_only: bool = False) -> bool:
        """Start (or resume) a run; False, with a status sentence, when it cannot start."""
        if self.running:
            if self.state == PAUSED:
                self.resume()
            return False
        if self.sweeper.live:
            self.events.emit("status", "A sweep is training: wait for it or stop it first (Stop sweep, in the "
                                       "Sweep tab).")
            return False
        problems = self.validate()
        if problems:
            self.events.emit("status", problems[0])
            return False
        if (self._model is None and not self.building) or self.fresh_weights_needed:
            self._new_model()
            self.events.emit("model")
        if self.building:
            self._run_when_built = first_step_only
            self.events.emit("status", "Drawing the initial weights of this wide network: training starts as "
                             "soon as they are ready.")
            return True
        done, e = self.history.epochs, self.experiment
        schedule = e.build_schedule()
        if done and schedule is not None and schedule.factor(done + 1) == 0:
            # A cosine schedule ends at step size 0: going on would train at eta 0, changing nothing.
            self.events.emit("status", f"The {e.schedule.lower()} schedule brought the step size to 0 at epoch "
                             f"{done}: more epochs would not change the weights. Raise Epochs above {done} (the "
                             "schedule then spans the new total), choose another η schedule, or Reset.")
            return False
        self.target_epoch = e.epochs if done < e.epochs else done + e.epochs
        self._start(done, self.target_epoch, first_step_only, schedule)
        return True

    def _start(self, done: int, target: int, first_step_only: bool, schedule) -> None:
        e = self.experiment
        if self.optimizer is None:
            self.optimizer = e.build_optimizer()
        self._optimizer = self.optimizer
        self._optimizer.eta = e.eta
        self.recorder.begin(done, forked=self._fork_at is not None)
        self.events.emit("runs")
        stride = self.timeline.stride_for(target)
        self.timeline.thin(stride)
        self.gui_load.start()
        self._load_sent = self.gui_load.share
        control = RunControl(self._optimizer, done + 1, dataclasses.replace(self.pace),
                             dataclasses.replace(self.units_wanted), self._load_sent)
        self._job = job = Job(self._model, self.data, self._optimizer, target - done, e.effective_batch_size,
                              done + 1, self.grid, control, snapshot_wanted=self.timeline.rule(stride),
                              schedule=schedule, config=self.trainer_config)
        self._sent = 0
        if first_step_only:
            self._command("step", 1)
        self.batch_stepper.armed()
        self.state, self.finish_reason, self._undo = RUNNING, None, None
        self.hand_edits.forget()
        self._set_modified(True)
        self.events.emit("state", self.state)
        self.events.emit("started")
        self.events.emit("status", f"Training one epoch ({done + 1})…" if first_step_only
                         else f"Training epochs {done + 1} to {target}…")
        run = self.runner(job, self.receive)
        self._run = run if self._job is job else None  # a runner that trained within this call has finished

    def pause(self) -> None:
        """Pause a running run, or resume a paused one."""
        if not self.running or self.state == STOPPING:
            return
        if self.state == PAUSED:
            self.resume()
            return
        self._command("pause")
        self.state = PAUSED
        self.events.emit("state", self.state)
        self.events.emit("status", "Paused: Resume (F6) goes on, Step (F7) trains one epoch.")

    def resume(self) -> None:
        if self.state == PAUSED:
            self._command("resume")
            self.state = RUNNING
            self.events.emit("state", self.state)
            self.events.emit("status", f"Resumed: training epochs {self.history.epochs + 1} to {self.target_epoch}…")

    def step(self) -> None:
        """Train exactly one more epoch, then pause (starting a run if none is live)."""
        if not self.running:
            self.run(first_step_only=True)
            return
        if self.state == STOPPING:
            return
        self._command("step", 1)
        self.state = RUNNING
        self.events.emit("state", self.state)
        self.events.emit("status", f"Training one epoch ({self.history.epochs + 1})…")

    def stop(self) -> None:
        """End the run and wait for its thread; the weights and the history stay."""
        if not self.running:
            return
        self._command("stop")
        self._run.wait()  # delivers the run's last messages, its Finished among them
        if self.running:  # no Finished came (it cannot, but the window must never hang on it)
            self._finish(Finished("stopped", f"Stopped after epoch {self.history.epochs}.", self.history.epochs))

    def request_stop(self) -> None:
        """The Stop button: like :meth:`stop`, but the GUI waits at most ``STOP_WAIT_MS`` for the
        training thread; if it is inside a long mini-batch, the state is ``stopping`` until it ends."""
        if not self.running or self.state == STOPPING:
            return
        self._command("stop")
        if self._run.wait(STOP_WAIT_MS) or not self.running:
            if self.running:
                self.stop()
            return
        self.state = STOPPING
        self.events.emit("state", self.state)
        self.events.emit("status", "Stopping at the end of the current mini-batch…")

    def reset(self) -> None:
        """Stop, then draw the initial weights again from the seed (undo with :meth:`undo_reset`)."""
        self.stop()
        undo = _Undo(self._model, self.history, self.timeline, self.target_epoch, self.fresh_weights_needed,
                     self.state, self.finish_reason, self.optimizer, schedule=self.schedule,
                     current_run=self.current_run, stamp=stamp())
        self.target_epoch, self.state, self.finish_reason = 0, IDLE, None
        self._new_model()
        self._undo = undo if undo.history.epochs else None
        self.recorder.fit_snapshot_budget()  # the timeline Undo can bring back counts too
        self.events.emit("model")
        self.events.emit("state", self.state)
        self.events.emit("status", f"Weights drawn again from seed {self.experiment.seed}"
                         + (" (Ctrl+Z undoes the reset)." if self._undo else "."))

    @property
    def can_undo_reset(self) -> bool:
        return self._undo is not None and not self.running

    def undo_reset(self) -> bool:
        """Bring back the weights, history and timeline a Reset discarded."""
        if not self.can_undo_reset:
            return False
        u, self._undo = self._undo, None
        self.hand_edits.forget()
        self._generation, self.building = self._generation + 1, False
        self._model, self.history, self.timeline = u.model, u.history, u.timeline
        self.optimizer = u.optimizer
        self.target_epoch, self.fresh_weights_needed = u.target_epoch, u.fresh_weights_needed
        self.state, self.finish_reason, self.seek_epoch, self.metrics = u.state, u.finish_reason, None, None
        self.schedule, self.current_run = u.schedule, u.current_run
        if self.timeline is not None and self.history.epochs not in self.timeline.epochs():
            # Its snapshots went to the memory budget (gui/model/snapshot_budget.py); its network kept the weights.
            self.timeline.add(self.history.epochs, flatten(self._model.parameters()), pinned=True, check=False)
        self.events.emit("model")
        self.events.emit("state", self.state)
        self.events.emit("status", f"Reset undone: back at epoch {self.history.epochs}.")
        return True

    def set_speed(self, epochs_per_second: float | None) -> None:
        """A class's speed (:class:`~gui.model.pace.Pace`), ``None``: as fast as it can. A live run takes it at once."""
        self.pace.set(epochs_per_second)
        self._command("pace", self.pace.epochs_per_second, self.pace.batch_losses)

    def set_batch_losses(self, on: bool) -> None:
        """Whether runs report every mini-batch's loss (event ``batches``)."""
        self.pace.batch_losses = bool(on)
        self._command("pace", self.pace.epochs_per_second, self.pace.batch_losses)

    def want_units(self, on: bool, full: bool) -> None:
        """Whether frames carry unit images (:class:`~gui.model.units_wanted.UnitsWanted`): the network view
        asks for them while it is seen, ``full`` while a unit is in the big plot."""
        if (on, full) != (self.units_wanted.on, self.units_wanted.full):
            self.units_wanted.on, self.units_wanted.full = on, full
            self._command("units", on, full)

    def record_metrics(self, metrics: Metrics | None) -> None:
        """The numbers of the current weights, measured by a view off the training thread (the window's
        preview of an idle network): the metrics line and the runs table read them as :attr:`metrics`."""
        self.metrics = metrics

    # -- the runs kept for comparison (gui/model/runs.py; recorded by gui/model/session_runs.py) ----
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
        """Whether Edit › Undo (Ctrl+Z) has something to bring back: a Reset, a deleted run or a hand edit."""
        return self.can_undo_reset or bool(self.run_book.undo_stamp) or self.hand_edits.can_undo

    def undo(self) -> bool:
        """Undo the newest of the last Reset, the last run deletion and the last hand edit."""
        reset = self._undo.stamp if self.can_undo_reset else -1
        if self.hand_edits.undo_stamp > max(reset, self.run_book.undo_stamp):
            return self.hand_edits.undo()
        if self.run_book.undo_stamp > reset:
            return self.undo_delete_run()
        return self.undo_reset()

    # -- sweeps (gui/model/sweep.py, gui/model/sweeper.py) ------------------------------------------
    def sweep(self, grid: dict, seeds: int = 1) -> None:
        """Train every combination of ``grid`` (one or two settings -> lists of values) ``seeds`` times, side
        by side; returns at once (event ``sweep`` when it ends). ``ValueError`` with a sentence for a bad grid,
        or while a run or a sweep is live."""
        self.sweeper.start(grid, seeds)

    @property
    def sweep_state(self) -> str:
        """``"idle"``, ``"running"`` or ``"finished"``."""
        return self.sweeper.state

    def sweep_results(self) -> list[dict]:
        """One dict per variant, in grid order: ``{"values", "runs", "final"}`` (finished runs, in seed order)."""
        return self.sweeper.results()

    def sweep_definition(self) -> dict | None:
        """``{"grid": ..., "seeds": n}`` of the sweep, or None."""
        return self.sweeper.definition()

    def stop_sweep(self) -> None:
        """End the sweep: its finished runs stay, the unfinished ones are ended and left out."""
        self.sweeper.stop()

    # -- a weight set by hand (gui/model/hand_edits.py) ------------------------------------------
    def set_weight(self, layer: int, out: int, in_: int, value: float) -> None:
        """Set ``W[out, in_]`` of Linear layer ``layer`` (0-based among the Linear layers): idle, at once (a
        snapshot at the current epoch, the runs table's words, Ctrl+Z undoes it); a live run, at the start of
        its next epoch. ``ValueError`` with a sentence for an index that does not exist or a value not finite."""
        self.hand_edits.edit(layer, out, in_, value)

    def set_bias(self, layer: int, unit: int, value: float) -> None:
        """Set the bias ``b[unit]`` of Linear layer ``layer``, as :meth:`set_weight` sets a weight."""
        self.hand_edits.edit(layer, unit, None, value)

    def fork(self) -> bool:
        """A new run from the weights at the timeline's epoch (the head when not seeking), with the
        current settings; the run that trained past it stays in the runs for comparison."""
        return self.resume_from(self.history.epochs if self.seek_epoch is None else self.seek_epoch)

    def adopt_runs(self, runs: list[Run], schedule: list | None, current: str | None, ticked=()) -> None:
        """The runs (and the schedule of the current weights, and the names of the runs ticked for
        comparison) read from a file."""
        self.recorder.adopt(runs, schedule, current)
        self.run_book.compare([name for name in ticked if name in self.run_book.names()])
        self.events.emit("runs")

    def run_weights(self, name: str, epoch: int) -> tuple[int, torch.Tensor] | None:
        """``(snapshot epoch, flat weights)`` of run ``name`` nearest ``epoch`` (None without weights)."""
        return self.recorder.run_weights(name, epoch)

    def run_settings(self) -> dict:
        """The settings of the current weights' run, as the runs table and a script show them."""
        return self.recorder.run_settings()

    def snapshot_bytes(self) -> int:
        """Bytes of every weight snapshot the session holds, each tensor once (timeline, runs, Undo). At most
        :data:`gui.model.timeline.SNAPSHOT_BUDGET` (or one snapshot where a single one is larger)."""
        return self.recorder.snapshot_bytes()

    @property
    def undo_timeline(self) -> Timeline | None:
        """The timeline a Reset discarded, which Undo can bring back (its snapshots count in the budget)."""
        return self._undo.timeline if self._undo is not None else None

    # -- the batch step ------------------------------------------------------------------------
    def step_batch(self) -> None:
        """Train exactly one mini-batch (the next one in the usual order), then pause; starts a run if
        none is live. Its numbers come back as :meth:`last_batch_step` (event ``batch``)."""
        self.batch_stepper.step()

    def last_batch_step(self):
        """The last mini-batch trained by :meth:`step_batch` (None before the first): a
        :class:`gui.model.inside.BatchStep` with ``epoch``, ``batch_index``, ``X``, ``y``, ``loss_before``,
        ``loss_after`` and per Linear ``layers``."""
        return self.batch_stepper.last

    def _set_state(self, state: str) -> None:
        self.state = state
        self.events.emit("state", state)

    def _command(self, name: str, *args) -> None:
        """Send a command to the live run (:data:`gui.training.control.COMMANDS`): the only way the session
        reaches it. Before its runner exists (a first Step), or for a runner that trains in this call (a
        test's), the job's control takes it directly."""
        if self._job is None:
            return  # no live run: the next one starts with the session's settings
        if name in SWITCHES:
            self._sent += 1
        if self._run is not None:
            self._run.command(name, *args)
        else:
            self._job.control.apply(name, *args)

    def _follows(self, message) -> bool:
        """Whether ``message``'s ``paused`` is the run's now: it came after every switch the session sent."""
        return self.state in (RUNNING, PAUSED) and message.acked == self._sent

    def _measure_load(self) -> None:
        """The GUI thread's share of the time, at each progress message; sent to the run when it moved."""
        self.gui_load.measure()
        if abs(self.gui_load.share - self._load_sent) >= 0.005:
            self._load_sent = self.gui_load.share
            self._command("load", self._load_sent)

    # -- the timeline ------------------------------------------------------------------------
    def seek(self, epoch: int | None) -> None:
        """Show the past: the views draw the snapshot nearest ``epoch`` (None or the last epoch:
        follow the head). A live run goes on meanwhile."""
        if epoch is not None:
            epoch = max(0, min(int(epoch), self.history.epochs))
            if epoch == self.history.epochs:
                epoch = None
        if epoch != self.seek_epoch:
            self.seek_epoch = epoch
            self.events.emit("seek", epoch)

    def resume_from(self, epoch: int) -> bool:
        """Branch: drop the history after the snapshot at or before ``epoch`` and train on from it."""
        if self.sweeper.live:
            self.events.emit("status", "A sweep is training: wait for it or stop it before branching.")
            return False
        self.stop()
        if self.timeline is None or self._model is None:
            self.events.emit("status", "There is no run to resume from yet.")
            return False
        wanted = max(0, min(int(epoch), self.history.epochs))
        start = self.timeline.at_or_before(wanted)
        if start is None:
            self.events.emit("status", f"The timeline holds no weights at or before epoch {wanted:,}: a wide network "
                             f"keeps few snapshots within the memory budget. Branch from epoch "
                             f"{self.timeline.epochs()[0]:,} or later.")
            return False
        load_flat(self._model, self.timeline.flat(start))
        self.optimizer = None  # the timeline keeps weights, not the optimizer's state: a branch starts it afresh
        self.history.truncate(start)
        self.timeline.truncate(start)
        self.timeline.add(start, self.timeline.flat(start), pinned=True)
        self.fresh_weights_needed, self.seek_epoch, self.metrics, self._undo = False, None, None, None
        self.hand_edits.forget()
        self.target_epoch = 0
        self._fork_at = start
        self.events.emit("model")
        self.events.emit("seek", None)
        started = self.run()
        self._fork_at = None
        return started

    # -- messages from the training thread --------------------------------------------------
    def receive(self, message) -> None:
        if isinstance(message, Progress):
            if len(message.train_losses) and message.first_epoch != self.history.epochs + 1:
                return  # from a run already discarded (a late message); never happens in order
            self._measure_load()
            self.history.extend(message.train_losses, message.test_epochs, message.test_losses)
            self.hand_edits.landed(message.edits)  # first: take_etas hands the schedule to the run book
            self.recorder.take_etas(message.etas)
            for epoch, flat, pinned in message.snapshots:
                # No finiteness test here (it would cost 1.5 % of the GUI thread's time): the worker sends
                # weights only after an epoch that minidl.fit found finite, parameters included.
                self.timeline.add(epoch, flat, pinned, check=False)
            if message.metrics is not None:
                self.metrics = message.metrics
            if self._follows(message) and message.paused != (self.state == PAUSED):
                self.state = PAUSED if message.paused else RUNNING
                self.events.emit("state", self.state)
                if self.state == PAUSED:
                    self.events.emit("status", f"Paused after epoch {self.history.epochs}: Resume (F6) goes on, "
                                     "Step (F7) trains one more epoch.")
            self.events.emit("progress", message)
        elif isinstance(message, Frame):
            self.events.emit("frame", message)
        elif isinstance(message, BatchStepped):
            self.batch_stepper.stepped(message)
        elif isinstance(message, Finished):
            self._finish(message)
        elif isinstance(message, BatchLosses):
            self.events.emit("batches", message)

    def _finish(self, finished: Finished) -> None:
        self.batch_stepper.pending, self._job = False, None
        run, self._run = self._run, None
        if run is not None:
            run.close()
        self._optimizer = None
        if (finished.reason == "failed" or finished.epoch < self.history.epochs) and self.timeline is not None:
            # A failed run (an error in the trainer, a lost training process) may leave weights of an epoch
            # the history has not recorded: the weights, the history and the timeline go back to the last
            # snapshot, so a Continue (and an exported script) starts where they are.
            epoch = self.timeline.at_or_before(min(finished.epoch, self.history.epochs))
            if epoch is not None:
                self.history.truncate(epoch)
                self.timeline.truncate(epoch)
                load_flat(self._model, self.timeline.flat(epoch))
                self.events.emit("model")
        if self.recorder.end(finished.reason):
            self.events.emit("runs")
        self.state, self.finish_reason = FINISHED, finished.reason
        text = finished.text + self.recorder.restart_note  # a stop inside an epoch: the optimizer's state restarts
        if finished.reason == "diverged":
            self.fresh_weights_needed = True
        elif finished.reason == "failed":
            text = "Training failed: see the details in the dialog."
        self.events.emit("state", self.state)
        self.events.emit("status", text)
        self.events.emit("finished", finished.reason, finished.text)
        self.hand_edits.run_ended()

    # -- internals -------------------------------------------------------------------------
    def _new_data(self) -> None:
        self.data = self.experiment.make_data()
        self.extent = self.data.extent()
        self.grid = boundary.inputs_grid(self.data, self.extent)  # what the network reads over the plane

    def _new_model(self) -> None:
        """Fresh weights from the seed (none while the stack is invalid); clears history and timeline."""
        self.history, self.metrics, self.seek_epoch = History(), None, None
        self.batch_stepper.forget()
        self.fresh_weights_needed = False
        self.schedule, self.current_run = [], None
        self.optimizer = None
        self.state, self.finish_reason, self.target_epoch = IDLE, None, 0
        self._model = self.timeline = self._run_when_built = None
        self.hand_edits.forget()
        self._generation += 1
        self.building = False
        if self.validate():
            return
        # A copy the builder may read anywhere; without the custom points, which it does not need
        # (100,000 of them take a second through JSON).
        experiment = Experiment.from_json(dataclasses.replace(self.experiment, points=[]).to_json())
        work = lambda: fresh_network(experiment)  # noqa: E731
        if self.builder is None or architecture.check(experiment.blocks, 2) <= SYNC_BUILD:
            self._built(self._generation, work())
        else:
            self.building = True
            self.builder(work, lambda result, generation=self._generation: self._built(generation, result))

    def _built(self, generation: int, network: tuple[minidl.Sequential, torch.Tensor]) -> None:
        if generation != self._generation:
            return  # the network of an earlier edit
        was_building, self.building = self.building, False
        self._model, flat = network
        self.timeline = Timeline([tuple(p.shape) for p in self._model.parameters()])
        self.timeline.add(0, flat, pinned=True, check=False)
        self.recorder.fit_snapshot_budget()
        if was_building:
            self.events.emit("model")
            self.events.emit("state", self.state)
            if self._run_when_built is not None:
                first_step_only, self._run_when_built = self._run_when_built, None
                self.run(first_step_only)

    def _set_modified(self, modified: bool) -> None:
        if modified != self.modified:
            self.modified = modified
            self.events.emit("modified", modified)

    def mark_saved(self, path) -> None:
        self.path, self.modified = path, False
        self.events.emit("modified", False)  # always: the title shows the new name

    @property
    def unsaved_training(self) -> bool:
        """Trained epochs that no file holds: New, Open and Close ask before discarding them."""
        return self.modified and (self.history.epochs > 0 or bool(self.runs))
