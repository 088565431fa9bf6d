"""The run channel, free of Qt: the commands a run takes, and the one control that applies them.

A run is driven by commands down and messages up. The session sends every command through its
runner's ``command(name, *args)`` (:mod:`gui.qt.runner`): a run in a thread applies it to its
:class:`RunControl` at once, a run in the training process sends it down the pipe, where the
child applies it to its own :class:`RunControl`. Nothing else writes to a run: the session keeps
no mirror of it, and learns what the run did from its messages (:mod:`gui.training.messages`),
which the trainer stamps with :attr:`RunControl.acked` and ``paused``.

The commands (:data:`COMMANDS`):

- the switches of :class:`minidl.TrainingControl`: ``pause``, ``resume``, ``step(epochs)``,
  ``step_batches(batches)``, ``stop``, and ``trace`` (observe the next mini-batch with its copies,
  for a batch step);
- ``eta(value)``: taken at the start of the next epoch (also when it is sent during a pause there),
  so that the change lands on an epoch boundary; :meth:`RunControl.take_applied` lists them;
- ``weights(layer, out, in_, value)``: a weight or a bias set by hand (:mod:`gui.model.hand_edits`), made
  at the start of the next epoch like eta, by the trainer's ``edit_sink`` (it owns the model);
  :meth:`RunControl.take_edits` lists them with the epoch they landed in;
- ``pace(epochs_per_second, batch_losses)``: a class's speed (:mod:`gui.model.pace`);
- ``units(on, full)``: whether frames carry unit images (:mod:`gui.model.units_wanted`);
- ``load(share)``: the GUI thread's share of the time (:class:`GuiLoad`), which spaces the messages.
"""

from __future__ import annotations

import math
import threading
import time

import minidl
from gui.model.pace import Pace
from gui.model.units_wanted import UnitsWanted

# The commands that change whether the run is paused: the runner counts those it sends, the control
# those it applied (``acked``), and a message's ``paused`` counts only once the two agree.
SWITCHES = ("pause", "resume", "step", "step_batches", "stop", "trace")
COMMANDS = SWITCHES + ("eta", "weights", "pace", "units", "load")


class RunControl(minidl.TrainingControl):
    """The control of one run, where it trains: :meth:`apply` takes each command of :data:`COMMANDS`.

    ``pace``, ``units`` and ``load`` are read by the trainer between epochs and batches; each command
    replaces the object or float (one attribute write, atomic under the GIL). ``batch_sink`` is set
    by the trainer: where a traced mini-batch goes; ``edit_sink(edits)``, also the trainer's, makes hand
    edits in the model at an epoch's start."""

    def __init__(self, optimizer: minidl.SGD, first_epoch: int, pace: Pace | None = None,
                 units: UnitsWanted | None = None, load: float = 0.0):
        super().__init__()
        self.optimizer = optimizer
        self.pace = Pace() if pace is None else pace
        self.units = UnitsWanted() if units is None else units  # not ``or``: units that are off are falsy
        self.load = load
        self.acked = 0  # switches applied
        self.batch_sink = None
        self.edit_sink = None
        self._pending_edits: list[tuple[int, int, int, float]] = []
        self._edited: list[tuple[int, list]] = []
        self._eta_lock = threading.Lock()
        self._pending_eta: float | None = None
        self._applied: list[tuple[int, float]] = []
        self._epoch, self._at_start = first_epoch, True

    def apply(self, name: str, *args) -> None:
        """Apply a command (safe from any thread)."""
        if name == "eta":
            with self._eta_lock:
                self._pending_eta = float(args[0])
        elif name == "weights":
            layer, out, in_, value = args
            with self._eta_lock:
                self._pending_edits.append((int(layer), int(out), int(in_), float(value)))
        elif name == "pace":
            self.pace = Pace(*args)
        elif name == "units":
            self.units = UnitsWanted(*args)
        elif name == "load":
            self.load = float(args[0])
        elif name == "trace":
            self.observe(self._traced, trace=True)
        elif name in SWITCHES:
            getattr(self, name)(*args)
        else:
            raise ValueError(f"unknown run command {name!r}; the commands are {', '.join(COMMANDS)}")
        if name in SWITCHES:
            self.acked += 1

    def _traced(self, record: minidl.BatchRecord) -> None:
        if self.batch_sink is not None:
            self.batch_sink(record)

    # -- eta at the start of an epoch: fit calls proceed() before an epoch's first batch ----------------
    def proceed(self) -> bool:
        go = super().proceed()  # may block on a pause: an eta or an edit sent meanwhile is taken below
        if self._at_start:
            self._at_start = False
            with self._eta_lock:
                eta, self._pending_eta = self._pending_eta, None
                if eta is not None and eta != self.optimizer.eta:
                    self.optimizer.eta = eta
                    self._applied.append((self._epoch, eta))
                edits = self._pending_edits if go and self.edit_sink is not None else []
                if edits:
                    self._pending_edits = []
            if edits:  # a run stopped first leaves them: the session makes them in its idle network
                self.edit_sink(edits)
                with self._eta_lock:
                    self._edited.append((self._epoch, edits))
        return go

    def epoch_finished(self) -> None:
        super().epoch_finished()
        self._epoch += 1
        self._at_start = True

    def take_applied(self) -> list[tuple[int, float]]:
        """The etas taken since the last call, as ``(epoch, eta)``."""
        with self._eta_lock:
            applied, self._applied = self._applied, []
            return applied

    def take_edits(self) -> list[tuple[int, list]]:
        """The hand edits made since the last call, as ``(epoch, [(layer, out, in_, value), ...])``."""
        with self._eta_lock:
            edited, self._edited = self._edited, []
            return edited

    # -- the state a job starts with, for the training process ---------------------------------------
    def state(self) -> dict:
        return {"paused": self.paused, "epochs": self._epochs_to_step, "batches": self._batches_to_step,
                "trace": self.trace, "acked": self.acked, "eta": self._pending_eta,
                "edits": list(self._pending_edits),
                "pace": (self.pace.epochs_per_second, self.pace.batch_losses),
                "units": (self.units.on, self.units.full), "load": self.load}

    @classmethod
    def from_state(cls, state: dict, optimizer: minidl.SGD, first_epoch: int) -> RunControl:
        control = cls(optimizer, first_epoch, Pace(*state["pace"]), UnitsWanted(*state["units"]), state["load"])
        if state["epochs"]:
            control.step(state["epochs"])
        elif state["batches"]:
            control.step_batches(state["batches"])
        elif state["paused"]:
            control.pause()
        if state["trace"]:
            control.observe(control._traced, trace=True)
        if state["eta"] is not None:
            control.apply("eta", state["eta"])
        for edit in state.get("edits", ()):
            control.apply("weights", *edit)
        control.acked = state["acked"]
        return control


class GuiLoad:
    """How busy the GUI thread is while runs train: ``share``, its CPU time over the wall time between
    progress messages (smoothed, and kept from run to run: a session's runs cost its GUI alike). The
    runner calls :meth:`start` as a run starts and :meth:`measure` as each progress message arrives,
    in the GUI thread, and sends ``share`` to the run as the ``load`` command."""

    # Each interval weighs by its length (an exponential average over about TAU seconds): the short
    # one before a run's last message, or between a pause's messages, says little about the frames.
    TAU = 0.5

    def __init__(self):
        self.share = 0.0
        self._since: tuple[float, float] | None = None

    def start(self) -> None:
        """A run starts: intervals are measured from its first progress message on. Neither the idle
        time before the run nor the GUI's work to start it (controls, the runs table, the plots
        cleared: once a run, not once a frame) is the load of its frames."""
        self._since = None

    def measure(self) -> None:
        """In the GUI thread: the interval since the last call."""
        now = (time.perf_counter(), time.thread_time())
        if self._since is not None and now[0] > self._since[0]:
            wall = now[0] - self._since[0]
            self.share += (1 - math.exp(-wall / self.TAU)) * ((now[1] - self._since[1]) / wall - self.share)
        self._since = now
