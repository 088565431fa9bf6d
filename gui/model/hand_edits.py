"""A weight or a bias set by hand (Qt-free): checked, then written into a network or a flat snapshot,
and :class:`HandEdits`, which makes them in a :class:`~gui.model.session.Session`.

An edit is ``(layer, out, in_, value)``: ``layer`` the 0-based index among the Linear layers,
``out`` the unit of that layer, ``in_`` the unit of the layer before it for a weight ``W[out, in_]``,
or :data:`BIAS` (-1) for the bias ``b[out]``. Only plain numbers, so an edit crosses the pipe to the
training process as it is, and a schedule entry records it in a file as a list (``"edits"``: the
edits made before the entry's first epoch, see gui/model/session_runs.py and gui/files/script.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from gui.model.runs import edit_words, stamp
from gui.model.timeline import flatten
from gui.model.weights import load_flat

BIAS = -1  # ``in_`` of an edit that sets a bias
LARGEST = float(torch.finfo(torch.float32).max)  # a larger value overflows the weights


def checked(shapes: list[tuple[int, ...]], layer, out, in_, value) -> tuple[int, int, int, float]:
    """The edit as plain numbers (``in_`` None: the bias); ``ValueError`` with a sentence for an index that
    does not exist or a value that is not a finite number. ``shapes``: the parameter shapes
    ``[(out, in), (out,), ...]``."""
    layers = len(shapes) // 2
    for name, index in (("layer", layer), ("unit", out), ("input unit", 0 if in_ is None else in_)):
        if isinstance(index, bool) or not isinstance(index, int):
            raise ValueError(f"the {name} must be a whole number, got {index!r}")
    if not 0 <= layer < layers:
        raise ValueError(f"there is no Linear layer {layer}: the network has Linear layers 0 to {layers - 1}")
    rows, columns = shapes[2 * layer]
    if not 0 <= out < rows:
        raise ValueError(f"Linear layer {layer} has units 0 to {rows - 1}, got {out}")
    if in_ is not None and not 0 <= in_ < columns:
        raise ValueError(f"Linear layer {layer} takes inputs 0 to {columns - 1}, got {in_}")
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or abs(value) > LARGEST):
        raise ValueError(f"a weight or a bias must be a finite number of at most {LARGEST:.3g} in size (what "
                         f"the network's float32 weights hold), got {value!r:.40}")
    return layer, out, BIAS if in_ is None else in_, float(value)


def position(shapes: list[tuple[int, ...]], edit) -> int:
    """Where the edited number sits in a flat snapshot (parameters in order, each row-major)."""
    layer, out, in_, _ = edit
    offset = sum(math.prod(s) for s in shapes[:2 * layer])
    if in_ == BIAS:
        return offset + math.prod(shapes[2 * layer]) + out
    return offset + out * shapes[2 * layer][1] + in_


def edited_flat(flat: torch.Tensor, shapes, edits) -> torch.Tensor:
    """A copy of ``flat`` with ``edits`` made."""
    flat = flat.clone()
    for edit in edits:
        flat[position(shapes, edit)] = edit[3]
    return flat


def apply(model, edits) -> None:
    """Make ``edits`` in ``model``'s parameters, in place (inference mode: the parameters may be its tensors)."""
    parameters = model.parameters()
    with torch.inference_mode():
        for layer, out, in_, value in edits:
            if in_ == BIAS:
                parameters[2 * layer + 1][out] = value
            else:
                parameters[2 * layer][out, in_] = value


def describe(edit) -> str:
    """``weight W[1][2, 0] = 0.5`` (layer, unit and input counted from 0)."""
    layer, out, in_, value = edit
    return f"bias b[{layer}][{out}] = {value:.6g}" if in_ == BIAS else f"weight W[{layer}][{out}, {in_}] = {value:.6g}"


@dataclass
class _Undo:
    stamp: int
    epoch: int
    flat: torch.Tensor  # the weights at ``epoch`` before the edit
    schedule: list | None
    run: object  # the current run, whose words (``diff``) the edit changed, or None
    diff: str
    modified: bool


class HandEdits:
    """Hand edits of one :class:`~gui.model.session.Session` (composed by it, as its RunRecorder is).

    Idle, an edit is made at once: in the network, in the timeline's snapshot at the current epoch, in
    the schedule (before the next epoch, so that a Continue and an exported script make it there) and
    in the current run's words; Ctrl+Z undoes it. While a run is live (running or paused) it is the
    ``weights`` command: the run makes it at the start of its next epoch, like eta, and reports the
    epoch (:meth:`landed`). A Pause halts between mini-batches, where an exported script could not make
    an edit, so a paused run takes it when it goes on; an edit that no epoch took (the run stopped
    first) is made in the idle network as the run ends (:meth:`run_ended`).
    """

    def __init__(self, session):
        self._session = session
        self._undos: list[_Undo] = []
        self._sent: list[tuple[int, int, int, float]] = []  # sent to the live run, not landed yet

    def edit(self, layer, out, in_, value) -> None:
        s = self._session
        if s.timeline is None or not s.has_model:
            raise ValueError("there are no weights to edit yet: the network is not valid")
        if s.state == "stopping":
            raise ValueError("the run is stopping: edit the weight once it has stopped")
        edit = checked(s.timeline.shapes, layer, out, in_, value)
        if s.running:
            self._sent.append(edit)
            s._command("weights", *edit)
            s.events.emit("status", f"The {describe(edit)} is made at the start of the run's next epoch "
                          f"(the {'run goes on' if s.state == 'paused' else 'step size changes there too'}).")
            return
        self._make([edit])

    def _make(self, edits: list) -> None:
        """Make ``edits`` in the idle session at once."""
        s = self._session
        epoch = s.history.epochs
        before = s.timeline.flat(epoch) if epoch in s.timeline.epochs() else flatten(s._model.parameters())
        run = s.current_run if s.current_run is not None and s.current_run.state != "running" else None
        self._undos.append(_Undo(stamp(), epoch, before, None if s.schedule is None else list(s.schedule), run,
                                 run.diff if run is not None else "", s.modified))
        flat = edited_flat(before, s.timeline.shapes, edits)
        load_flat(s._model, flat)
        s.timeline.add(epoch, flat, pinned=True, check=False)
        s.recorder.record_edits(epoch + 1, edits)
        if run is not None and run.epochs == epoch:
            run.diff += f", {edit_words(len(edits))} after epoch {epoch}"
        s.metrics = None  # of the weights before the edit
        s._set_modified(True)
        s.events.emit("model")
        s.events.emit("runs")
        s.events.emit("status", f"The {', '.join(map(describe, edits))} (set by hand at epoch {epoch}; Ctrl+Z "
                      "undoes it).")

    # -- a live run ---------------------------------------------------------------------------
    def landed(self, edited: list) -> None:
        """The edits a live run made, ``(epoch, edits)``: recorded in the schedule at that epoch."""
        for epoch, edits in edited:
            del self._sent[:len(edits)]
            self._session.recorder.record_edits(epoch, edits)

    def run_ended(self) -> None:
        """Edits the run did not take (it stopped before its next epoch) are made in the idle network."""
        sent, self._sent = self._sent, []
        if sent:
            self._make(sent)

    # -- undo ---------------------------------------------------------------------------------
    def forget(self) -> None:
        """The weights changed otherwise (a run, new weights, a file, a branch): no edit can be undone."""
        self._undos = []

    @property
    def can_undo(self) -> bool:
        return bool(self._undos) and not self._session.running

    @property
    def undo_stamp(self) -> int:
        return self._undos[-1].stamp if self.can_undo else 0

    def undo(self) -> bool:
        """Bring back the weights (and the schedule, and the run's words) from before the last edit."""
        if not self.can_undo:
            return False
        s, u = self._session, self._undos.pop()
        load_flat(s._model, u.flat)
        s.timeline.add(u.epoch, u.flat, pinned=True, check=False)
        s.schedule, s.metrics = u.schedule, None
        if u.run is not None:
            u.run.diff = u.diff
        s._set_modified(u.modified)
        s.events.emit("model")
        s.events.emit("runs")
        s.events.emit("status", f"Hand edit undone: the weights of epoch {u.epoch} are back.")
        return True

