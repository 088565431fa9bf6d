"""Inside the network, free of Qt: the columns of units, every unit's output over the input plane,
the training-health statistics of each Linear layer, and the numbers of one mini-batch step.

Everything here works on a *private* network rebuilt from a copy of the weights (a timeline
snapshot, a :class:`minidl.BatchRecord`), so any thread may call it while the session's own
model trains elsewhere. The maths is minidl's: the gradient of the inspector is the model's own
hand-written backward of the summed MSE loss over the whole training set.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
import torch

import minidl
from gui.model.timeline import flatten
from gui.model.weights import model_from
from minidl.plan import intra_op_threads, threads_for

IN_FEATURES = 2
MAX_SENT = 64  # units per column whose outputs the worker sends (an expanded column shows up to this)
SHOWN = 16  # units per column shown before "+k more"
DEAD_SHARE = 0.5  # a flag in words when at least this share of a layer's units is dead (or saturated)
SATURATED_LEVEL, SATURATED_SHARE = 0.97, 0.95
SATURATING = ("Tanh", "Sigmoid")  # the activations whose units saturate (at -1/1 and 0/1)
PERSIST_EPOCHS = 20  # a dead, saturated or vanishing layer is flagged once it has stayed so this long
VANISHING = 1e-3  # first layer's gradient norm over the last layer's, below which the gradient vanishes
STAT_KEYS = ("grad_norm", "weight_norm", "update_ratio", "dead_units", "saturated_units")


@dataclass(frozen=True)
class Column:
    """One column of the network view: the input, or a Linear with the activations right after it.

    ``module`` is the index (in the Sequential) of the module whose output the column's units
    are, None for the input; ``linear`` the 0-based index of its Linear; ``activations`` the
    names of the activations after it (outermost last)."""

    label: str
    units: int
    module: int | None
    linear: int | None
    activations: tuple[str, ...] = ()

    @property
    def activation(self) -> str | None:
        """The activation that decides dead or saturated units: the last one after the Linear."""
        return self.activations[-1] if self.activations else None

    def formula(self) -> str:
        """E.g. ``ReLU(w·h + b)``: what each of this column's units computes from the column before."""
        if self.module is None:
            return "the input coordinate"
        text = f"w·{'x' if self.linear == 0 else 'h'} + b"
        for name in self.activations:
            text = f"{name}({text})"
        return text


def columns(blocks: list[dict], in_features: int = IN_FEATURES) -> list[Column]:
    """The columns of a stack of ``blocks``, from the input to the output.

    Activations before the first Linear change its input, not a column of their own."""
    found: list[Column] = [Column("input", in_features, None, None)]
    groups: list[list] = []  # [linear index, module index of the group's last module, width, activations]
    for position, block in enumerate(blocks):
        if block.get("type") == "Linear":
            groups.append([len(groups), position, int(block["width"]), []])
        elif groups:
            groups[-1][1] = position
            groups[-1][3].append(block["type"])
    for linear, module, width, activations in groups:
        last = linear == len(groups) - 1
        label = "output" if last else f"hidden {linear + 1}"
        found.append(Column(label, width, module, linear, tuple(activations)))
    return found


def sent_units(column: Column) -> int:
    """How many of ``column``'s units the worker sends images of (the first ones)."""
    return min(column.units, MAX_SENT)


def network(blocks: list[dict], parameters: list[torch.Tensor], loss: str = "MSE") -> minidl.Sequential:
    """A private network of ``blocks`` holding copies of ``parameters`` (``[W0, b0, W1, b1, ...]``),
    with the experiment's ``loss`` (a name of :data:`gui.model.experiment.LOSSES`)."""
    return model_from(blocks, flatten(parameters), loss)


def module_outputs(model: minidl.Sequential, X: torch.Tensor) -> list[torch.Tensor]:
    """The output of every module of ``model`` for ``X``, in one forward pass: ``outputs[k]`` is
    module k's, of shape ``(N, width)``; each a tensor of its own (nothing overwritten)."""
    model.check_input(X, "X")
    outputs = []
    with torch.no_grad():
        x = X
        for module in model:
            x = module.forward(x)  # without out=, every built-in module returns a fresh tensor
            outputs.append(x)
    return outputs


def unit_view(request) -> tuple[int, np.ndarray]:
    """``(epoch, unit images)`` of a snapshot (a :class:`gui.model.weights.ViewRequest`): one forward pass
    of a private network over the grid, with the thread count the training's batches get."""
    model = model_from(request.blocks, request.flat)
    with intra_op_threads(threads_for(model, request.grid.shape[0])):
        outputs = module_outputs(model, request.grid)
    side = int(round(request.grid.shape[0] ** 0.5))
    return request.epoch, unit_images(outputs, columns(request.blocks), side)


def _pictures(values: torch.Tensor, resolution: int, step: int) -> torch.Tensor:
    """``(x, y, n)`` over a square grid of ``resolution`` a side, every ``step``-th point; for a 1-D
    input's line (rows that are not ``resolution`` squared) ``(x, n)``, every ``step``-th point."""
    if values.shape[0] == resolution * resolution:
        return values.unflatten(0, (resolution, resolution))[::step, ::step]
    return values[::step]


def outputs_of(blocks: list[dict], parameters: list[torch.Tensor], X: torch.Tensor) -> list[torch.Tensor]:
    """Every module's output for ``X``, from a private network with ``parameters``."""
    return module_outputs(model_from(blocks, flatten(parameters)), X)


def unit_images(outputs: list[torch.Tensor], cols: list[Column], resolution: int, step: int = 1) -> np.ndarray:
    """The sent units' outputs over a ``resolution``-square grid (:func:`gui.model.boundary.grid`, row-major
    in x), stacked column after column (input excluded), at every ``step``-th grid point a side: shape
    ``(units, r, r)`` with ``r = ceil(resolution / step)``, indexed ``[unit, x, y]`` like the boundary image.
    Over a 1-D input's line: ``(units, points)``, each unit's curve against x."""
    # One contiguous (x, y, units) copy, handed out as a strided (units, x, y) view: copying rows
    # is several times cheaper than transposing (the worker does this at the image rate).
    parts = [_pictures(outputs[c.module][:, :sent_units(c)], resolution, step) for c in cols if c.module is not None]
    stacked = torch.cat(parts, -1).to(torch.float32).cpu().numpy()
    return stacked.transpose(2, 0, 1) if stacked.ndim == 3 else stacked.T


def input_images(grid: torch.Tensor, resolution: int, step: int = 1) -> np.ndarray:
    """The input column's "units", each input feature over the grid of inputs (every ``step``-th
    point a side): shape ``(features, r, r)`` like :func:`unit_images`."""
    points = _pictures(grid, resolution, step).to(torch.float32).cpu().numpy()
    return points.transpose(2, 0, 1) if points.ndim == 3 else points.T


def unit_offsets(cols: list[Column]) -> list[int]:
    """Where each column's units start in :func:`unit_images`' stack (None-free: the input gets -1)."""
    offsets, at = [], 0
    for c in cols:
        if c.module is None:
            offsets.append(-1)
            continue
        offsets.append(at)
        at += sent_units(c)
    return offsets


# -- training health --------------------------------------------------------------------
def layer_stats(blocks: list[dict], parameters: list[torch.Tensor], X: torch.Tensor, y: torch.Tensor,
                eta: float, loss: str = "MSE") -> list[dict]:
    r"""One dict per Linear layer, for the weights ``parameters`` and the training set ``(X, y)``.

    ``grad_norm`` :math:`\|dL/dW\|_F` of the summed loss :math:`L = \sum_n \|f(x_n) - y_n\|^2` (minidl's
    own backward), ``weight_norm`` :math:`\|W\|_F`, ``update_ratio`` :math:`\eta\|dL/dW\|/\|W\|`,
    ``dead_units`` (ReLU after the layer: units that are 0 at every training point) and
    ``saturated_units`` (Tanh: units with :math:`|y| > 0.97` at 95 % of the points or more; Sigmoid:
    :math:`|2y - 1| > 0.97`, the same level, as :math:`\sigma(x) = (1 + \tanh(x/2))/2`), None where the
    activation is none of these. Non-finite numbers come out as NaN.

    Shape:
        X ``(N, 2)``, y ``(N, outputs)``
    """
    model = network(blocks, parameters, loss)
    # The training's thread count: one for a small network (a second OpenMP thread made these
    # products 10 times slower on a busy 2-core machine, and the GUI thread may be the caller).
    with intra_op_threads(threads_for(model, X.shape[0])), torch.no_grad():
        model.forward(X)
        gradients = model.backward(y)  # [dW0, db0, dW1, db1, ...]
    modules = list(model)  # an activation keeps its output y (its backward reads it): the units' values
    stats = []
    for column in columns(blocks)[1:]:
        W, dW = parameters[2 * column.linear], gradients[2 * column.linear]
        grad_norm, weight_norm = float(torch.linalg.vector_norm(dW)), float(torch.linalg.vector_norm(W))
        out = modules[column.module].output if column.activation in ("ReLU", *SATURATING) else None
        stats.append({
            "grad_norm": grad_norm,
            "weight_norm": weight_norm,
            "update_ratio": eta * grad_norm / weight_norm if weight_norm > 0 else math.nan,
            "dead_units": int((out == 0).all(0).sum()) if column.activation == "ReLU" else None,
            "saturated_units": (int((_saturated(out, column.activation).float().mean(0) >= SATURATED_SHARE).sum())
                                if column.activation in SATURATING else None),
        })
    return stats


def _saturated(output: torch.Tensor, activation: str) -> torch.Tensor:
    """Where a Tanh's ``output`` is beyond ±0.97, or a Sigmoid's within 0.015 of 0 or 1 (the same level)."""
    return (output.abs() if activation == "Tanh" else (2 * output - 1).abs()) > SATURATED_LEVEL


def persist_window(epochs: list[int], epoch: int, span: int = PERSIST_EPOCHS) -> list[int]:
    """The snapshots :func:`flags` reads besides ``epoch`` (one of the sorted held ``epochs``): the
    nearest one at or before ``epoch - span`` and every one after it, before ``epoch``. Empty when
    none is that old: the run is too short to tell what persists."""
    start = bisect.bisect_right(epochs, epoch - span) - 1
    if start < 0:
        return []
    return epochs[start:bisect.bisect_left(epochs, epoch)]


def loss_falling(losses, epoch: int, span: int = PERSIST_EPOCHS) -> bool:
    """Whether the training loss still falls at ``epoch``: ``losses[k]`` is epoch k + 1's (the
    history's ``train``). The mean of the last ``span // 2`` epochs' losses is below the mean of the
    ``span // 2`` epochs before them (fewer near the start; False with fewer than 2 epochs)."""
    values = np.asarray(losses[:epoch], np.float64)[-span:]
    if values.size < 2 or not np.isfinite(values).all():
        return False
    half = values.size // 2
    return float(values[half:].mean()) < float(values[:half].mean())


def flags(stats: list[dict], cols: list[Column], eta: float, earlier: list[list[dict]] | None = None,
          losses=None) -> list[str]:
    """Sentences about trouble in ``stats`` (of :func:`layer_stats`), each with what to try.

    What is flagged has to persist: a layer with at least ``DEAD_SHARE`` of its units dead (ReLU) or
    saturated (Tanh, Sigmoid), or a gradient that vanishes on the way back (the first layer's norm below
    ``VANISHING`` times the last's), is flagged only when it is so in ``stats`` and in every one of
    ``earlier``, the statistics of the snapshots of :func:`persist_window` (oldest first): it has lasted
    ``PERSIST_EPOCHS`` epochs. Dead or saturated units are flagged only if, besides, the training loss
    has stopped falling (:func:`loss_falling` of ``losses``, the history's per-epoch training loss up to
    this snapshot) or their number grew over the window: units that die in the first epochs of a
    healthy run (which learns with the others and often wakes them later), or a gradient that dips for
    an epoch, are not trouble. ``earlier`` empty: nothing of these kinds is flagged (the run is too
    short to tell); None: ``stats`` alone is judged, as by a caller without history (``losses`` None:
    the loss is taken as not falling). Weights or gradients that are not finite are flagged at once.

    The advice never says "a smaller step size" while the loss falls, and it names the activations the
    network has."""
    def lasted(holds) -> bool:  # in every earlier snapshot of the window
        return earlier is None or (bool(earlier) and all(holds(h) for h in earlier))

    falling = losses is not None and loss_falling(losses, len(losses))
    smaller = "" if falling else f"a smaller step size (eta is {eta:g}), "
    still = " The loss is still falling: the other units learn." if falling else ""
    lasting = "" if earlier is None else f" for the last {PERSIST_EPOCHS} epochs or more"
    found = []
    for k, (column, s) in enumerate(zip(cols[1:], stats, strict=True)):
        name = column.label.capitalize()
        for key in ("dead_units", "saturated_units"):
            if not _many(s[key], column) or not lasted(lambda h, k=k, key=key, c=column: _many(h[k][key], c)):
                continue
            if falling and not (earlier and s[key] > earlier[0][k][key]):
                continue  # as many as PERSIST_EPOCHS ago, and the others learn
            if key == "dead_units":
                found.append(f"{name}: {s[key]} of {column.units} ReLU units are dead (0 for every training "
                             f"point){lasting}, so they no longer learn.{still} Try {smaller}fewer layers, "
                             "or Tanh; Reset draws fresh weights.")
            else:
                act = column.activation
                level = "|y| > 0.97" if act == "Tanh" else "y within 0.015 of 0 or 1"
                found.append(f"{name}: {s[key]} of {column.units} {act} units are saturated ({level} almost "
                             f"everywhere){lasting}, so their gradient is nearly 0 and the layers before them "
                             f"stall.{still} Try {smaller}narrower inputs to them, or ReLU.")
        if not all(math.isfinite(s[key]) for key in ("grad_norm", "weight_norm")):
            found.append(f"{name}: its weights or gradients are not finite: the run diverged. "
                         f"Try a step size 10 times smaller (eta is {eta:g}).")
    if _vanishing(stats) and lasted(_vanishing):
        grads = [s["grad_norm"] for s in stats]
        found.append(f"The gradient reaching the first layer is {grads[-1] / max(grads[0], 1e-30):.0e} times "
                     f"smaller than the last layer's{lasting}: it vanishes on the way back, so the first "
                     f"layers barely move. {deeper_advice(cols)}")
    return found


def _many(count: int | None, column: Column) -> bool:
    return count is not None and count >= DEAD_SHARE * column.units


def _vanishing(stats: list[dict]) -> bool:
    grads = [s["grad_norm"] for s in stats]
    return (len(grads) > 1 and all(math.isfinite(g) for g in grads) and grads[-1] > 0
            and grads[0] < VANISHING * grads[-1])


def deeper_advice(cols: list[Column]) -> str:
    """What to try against a vanishing gradient, naming the hidden layers' own activations."""
    hidden = [c.activation for c in cols[1:-1]]
    others = sorted({a for a in hidden if a is not None and a != "ReLU"}, key=hidden.index)
    if others:
        return f"Try ReLU instead of {' and '.join(others)}, or fewer layers."
    return "Try fewer layers; Reset draws fresh weights."


def histogram(weight: torch.Tensor, bins: int = 30, most: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """``(edges, counts)`` of the entries of ``weight`` (finite ones): ``bins + 1`` edges. A matrix of
    more than ``most`` entries is sampled evenly (a 4096 x 4096 layer would take a second)."""
    values = weight.detach().reshape(-1)
    if values.numel() > most:
        values = values[::values.numel() // most + 1]
    values = values.to(torch.float64).cpu().numpy()
    values = values[np.isfinite(values)]
    if not values.size:
        return np.linspace(-1, 1, bins + 1), np.zeros(bins)
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    return edges, counts.astype(np.float64)


# -- one mini-batch step ------------------------------------------------------------------
@dataclass(frozen=True)
class LayerStep:
    """One Linear layer's numbers in a mini-batch step (copies). ``input`` is the batch as the
    layer saw it, ``(batch, in)``, from the weights before the step."""

    weight_before: torch.Tensor
    bias_before: torch.Tensor
    weight_grad: torch.Tensor
    bias_grad: torch.Tensor
    weight_after: torch.Tensor
    bias_after: torch.Tensor
    input: torch.Tensor

    @property
    def weight_update(self) -> torch.Tensor:
        """ΔW = W_after − W_before (= −η·dL/dW for plain SGD, to float rounding)."""
        return self.weight_after - self.weight_before


@dataclass(frozen=True)
class BatchStep:
    """What :meth:`gui.model.session.Session.last_batch_step` returns: one trained mini-batch.

    ``loss_before`` and ``loss_after`` are the batch's summed loss at the weights before and after
    its step; ``layers`` one :class:`LayerStep` per Linear; ``eta`` the step size it was trained with."""

    epoch: int
    batch_index: int
    X: torch.Tensor
    y: torch.Tensor
    loss_before: float
    loss_after: float
    eta: float
    layers: list[LayerStep]
    blocks: list[dict]

    def parameters(self, after: bool) -> list[torch.Tensor]:
        """``[W0, b0, ...]`` after (or before) the step."""
        if after:
            return [p for la in self.layers for p in (la.weight_after, la.bias_after)]
        return [p for la in self.layers for p in (la.weight_before, la.bias_before)]


def batch_step(record: minidl.BatchRecord, blocks: list[dict], eta: float, loss: str = "MSE") -> BatchStep:
    """The :class:`BatchStep` of a traced :class:`minidl.BatchRecord` (``trace=True``)."""
    if record.parameters_before is None:
        raise ValueError("this batch was not traced: observe it with trace=True")
    before, grads, after = record.parameters_before, record.gradients, record.parameters_after
    model = network(blocks, before, loss)
    with intra_op_threads(threads_for(model, record.X.shape[0])):
        outputs = module_outputs(model, record.X)
    cols = columns(blocks)
    inputs = [record.X if c.linear == 0 else outputs[cols[i - 1].module] for i, c in enumerate(cols) if i > 0]
    # Leading activations (before the first Linear) change what the first layer sees.
    first = next(i for i, b in enumerate(blocks) if b.get("type") == "Linear")
    if first > 0:
        inputs[0] = outputs[first - 1]
    layers = [LayerStep(before[2 * k], before[2 * k + 1], grads[2 * k], grads[2 * k + 1], after[2 * k],
                        after[2 * k + 1], inputs[k]) for k in range(len(before) // 2)]
    return BatchStep(record.epoch, record.index, record.X, record.y, float(record.loss), float(record.loss_after),
                     float(eta), layers, [dict(b) for b in blocks])


# -- the network view's links and tooltips -------------------------------------------------
MAX_LINKS = 400


def parameter_views(flat: torch.Tensor, shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    """``[W0, b0, ...]`` as views into a flat snapshot (no copy: a wide network's is large)."""
    views, offset = [], 0
    for shape in shapes:
        n = math.prod(shape)
        views.append(flat[offset:offset + n].view(shape))
        offset += n
    return views


def strongest_links(weights: list[torch.Tensor], shown: list[int], limit: int = MAX_LINKS):
    """The links between the shown units: ``(layer, out_unit, in_unit, w)`` arrays, the ``limit``
    largest |w| when there are more, and how many there are in all.

    ``weights[k]`` is the ``(out, in)`` matrix from column k to column k + 1; ``shown[k]`` how many
    units of column k are drawn (the first ones)."""
    layer, rows, cols, values = [], [], [], []
    for k, W in enumerate(weights):
        block = W[:shown[k + 1], :shown[k]].detach().to(torch.float64).cpu().numpy()
        i, j = np.indices(block.shape)
        layer.append(np.full(block.size, k))
        rows.append(i.ravel())
        cols.append(j.ravel())
        values.append(block.ravel())
    layer, rows, cols, values = (np.concatenate(a) for a in (layer, rows, cols, values))
    total = values.size
    if total > limit:
        keep = np.argsort(-np.nan_to_num(np.abs(values), nan=0.0), kind="stable")[:limit]
        layer, rows, cols, values = layer[keep], rows[keep], cols[keep], values[keep]
    return layer, rows, cols, values, total


def unit_shares(output: torch.Tensor, activation: str | None) -> np.ndarray | None:
    """Per unit, the share of points (rows of ``output``) where it is dead (ReLU: exactly 0) or
    saturated (Tanh: |y| > 0.97); None for other activations."""
    if activation == "ReLU":
        return (output == 0).to(torch.float64).mean(0).cpu().numpy()
    if activation == "Tanh":
        return _saturated(output, activation).to(torch.float64).mean(0).cpu().numpy()
    return None
