"""Export as Python: a standalone script that replays a playground run with minidl's seed API (Qt-free).

The script rebuilds the data (dataset, sizes, noise, seed; your own points embedded as float32
bytes), the network (``Sequential(...)`` with the seed's generator, so the same initial weights),
the loss, the optimizer and the learning-rate schedule as :class:`~gui.model.experiment.Experiment`
builds them, and trains with ``model.train`` once per segment of the run's schedule (an eta
changed during the run, a Continue with other settings, a branch from the timeline), so it prints
the very losses the playground recorded: its ``final train loss per point`` equals
``session.history.train[-1]`` as float32. It ends with the train and test error.

The replay rules, those of the session (gui/model/session.py, gui/model/session_runs.py):

- one optimizer object carries its state (momentum, Adam's moments) from segment to segment, as
  ``session.optimizer`` does from Run to Run; a segment marked ``fresh`` (a first Run, a fork,
  a changed optimizer, a Continue after a stop inside an epoch) starts a new one;
- the schedule's factor depends on the epoch number alone, so each segment passes
  ``first_epoch``: epoch 301 gets the factor it gets in the playground's one long run;
- a weight or bias set by hand (a schedule entry's ``edits``, :mod:`gui.model.hand_edits`) is set
  in ``model.parameters()`` before the segment's first epoch, where the playground made it.

A file's words never become code: every setting is checked as an experiment file's is and enters
the script as a ``repr()`` literal or a number; the title (a run's name and words, read from a
file) is a ``#`` comment with its line breaks and control characters made spaces. Every script is
compiled before it is handed over.
"""

from __future__ import annotations

import base64
import itertools
import textwrap
import unicodedata
import warnings
from dataclasses import MISSING, fields

import numpy as np

from gui.model import hand_edits
from gui.model import points as custom
from gui.model.experiment import CUSTOM, IN_FEATURES, LOSSES, PLAIN_FEATURES, Experiment, checked_field
from minidl import architecture
from minidl.architecture import ACTIVATIONS
from minidl.data import TASKS, class_range, input_width

# The fields the script knows how to rebuild; any other field (a later setting) must keep its
# default, or the export says which one it cannot replay rather than write a script that differs.
_MISSING = object()
KNOWN = {"blocks", "dataset", "noise", "n_train", "n_test", "eta", "batch_size", "epochs", "seed", "classes",
         "loss", "optimizer", "momentum", "weight_decay", "l1", "schedule", "points", "test_ratio", "features"}
OPTIMIZER_KEYS = ("optimizer", "momentum", "weight_decay", "l1")
SCHEDULE_KEYS = ("schedule", "epochs")
MAX_POINTS = custom.MAX_ROWS  # own points embedded in the script: 100,000 take about 1.1 MB of text


def segments(schedule: list, epochs: int, settings: dict | None = None) -> list[dict]:
    """The runs of ``model.train`` covering epochs 1..``epochs``: dicts with ``first``, ``count``,
    ``eta``, ``batch_size``, the optimizer's and the schedule's settings and ``fresh`` (a new
    optimizer). An entry without optimizer or schedule settings (an older file) takes them from
    ``settings``; equal neighbours merge."""
    if not schedule or schedule[0][0] != 1:
        raise ValueError("the run's record does not start at epoch 1")
    settings = settings or {}
    out: list[dict] = []
    for i, (first, values) in enumerate(schedule):
        end = min(schedule[i + 1][0] - 1 if i + 1 < len(schedule) else epochs, epochs)
        if end < first:
            continue
        part = {"first": first, "count": end - first + 1, "eta": float(values["eta"]),
                "batch_size": int(values["batch_size"]), "fresh": bool(values.get("fresh", False)) or not out,
                "edits": checked_edits(values.get("edits", []))}
        for key in (*OPTIMIZER_KEYS, *SCHEDULE_KEYS):
            part[key] = values.get(key, settings.get(key, _default(key)))
        if out and _optimizer_spec(out[-1]) != _optimizer_spec(part):
            part["fresh"] = True  # the session starts a new optimizer whenever its settings change
        if part["fresh"] and _optimizer_spec(part)[0] == "SGD" and out and _optimizer_spec(out[-1]) == \
                _optimizer_spec(part):
            part["fresh"] = False  # plain SGD keeps no state: a new one is the same as the old one
        last = out[-1] if out else None
        if last is not None and not part["fresh"] and not part["edits"] and last["first"] + last["count"] == first and \
                all(last[k] == part[k] for k in ("eta", "batch_size", *OPTIMIZER_KEYS, *SCHEDULE_KEYS)):
            last["count"] += part["count"]
        else:
            out.append(part)
    return out


MAX_EDITS = 10_000  # hand edits in one schedule entry (a file with more is damaged)


def checked_edits(edits) -> list[tuple[int, int, int, float]]:
    """A schedule entry's hand edits as whole numbers and floats the weights hold (only numbers reach the script)."""
    if not isinstance(edits, list | tuple) or len(edits) > MAX_EDITS:
        raise ValueError(f"the run's record of weights set by hand is damaged: {edits!r:.60}")
    try:
        out = [(int(layer), int(row), int(column), float(value)) for layer, row, column, value in edits]
    except (TypeError, ValueError):
        raise ValueError(f"the run's record of weights set by hand is damaged: {edits!r:.60}") from None
    # abs(NaN) <= LARGEST is False: NaN, the infinities and what float32 weights cannot hold are all refused
    if not all(abs(value) <= hand_edits.LARGEST and min(layer, row) >= 0 and column >= -1
               for layer, row, column, value in out):
        raise ValueError(f"the run's record of weights set by hand is damaged: {edits!r:.60}")
    return out


def edits_code(edits: list) -> list[str]:
    """The lines that set the weights and biases set by hand (``column`` -1: the bias)."""
    lines = ["# Set by hand in the playground here (Linear layer k: W is parameters[2 k], b parameters[2 k + 1]).",
             "parameters = model.parameters()"]
    for layer, row, column, value in edits:
        at = f"[{2 * layer + 1}][{row}]" if column == -1 else f"[{2 * layer}][{row}, {column}]"
        lines.append(f"parameters{at} = {value!r}")
    return lines


def _default(name: str):
    f = next(f for f in fields(Experiment) if f.name == name)
    return f.default if f.default is not MISSING else f.default_factory()


def _optimizer_spec(part: dict) -> tuple:
    """What the optimizer is made of (momentum counts only for "SGD + momentum")."""
    kind = part["optimizer"]
    return kind, part["momentum"] if kind == "SGD + momentum" else None, float(part["weight_decay"]), float(part["l1"])


def network_code(blocks: list[dict], in_features: int = IN_FEATURES) -> str:
    """``Sequential(Linear(2, 25, generator=generator), ReLU(), ...)`` for ``blocks`` reading ``in_features``."""
    parts, width = [], in_features
    for block in blocks:
        if block["type"] == "Linear":
            parts.append(f"Linear({width}, {block['width']}, generator=generator)")
            width = block["width"]
        elif block["type"] in ACTIVATIONS:
            parts.append(f"{block['type']}()")
        else:
            raise ValueError(f"the script cannot build a {block['type']} block")
    return "Sequential(\n    " + ",\n    ".join(parts) + ",\n)"


def optimizer_code(part: dict) -> str:
    """``SGD(eta=0.01, momentum=0.9)``, ``Adam(eta=0.001, l1=0.01)``: the object Experiment.build_optimizer makes."""
    optimizer = Experiment(eta=part["eta"], **{k: part[k] for k in OPTIMIZER_KEYS}).build_optimizer()
    name = type(optimizer).__name__
    args = [f"eta={part['eta']!r}"]
    if name == "SGD" and optimizer.momentum:
        args.append(f"momentum={optimizer.momentum!r}")
    if name == "Adam" and (optimizer.betas, optimizer.eps) != ((0.9, 0.999), 1e-8):
        args += [f"betas={optimizer.betas!r}", f"eps={optimizer.eps!r}"]
    if optimizer.weight_decay:
        args.append(f"weight_decay={optimizer.weight_decay!r}")
    if optimizer.l1:
        args.append(f"l1={optimizer.l1!r}")
    return f"{name}({', '.join(args)})"


def schedule_code(part: dict) -> str | None:
    """``StepDecay(every=250, gamma=0.5)``, ``Cosine(epochs=1000, floor=0.0)``: Experiment.build_schedule's
    object for the segment's settings; None for a constant step size."""
    schedule = Experiment(schedule=part["schedule"], epochs=part["epochs"]).build_schedule()
    if schedule is None:
        return None
    return f"{type(schedule).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(schedule).items())})"


def _embedded(name: str, array: np.ndarray) -> str:
    """``name = _table(\"\"\"...\"\"\", "<f4", columns)``: an array as base64 of its little-endian bytes."""
    text = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")
    wrapped = "\n".join(textwrap.wrap(text, 96))
    columns = array.shape[1] if array.ndim == 2 else 0
    return f'{name} = _table("""\n{wrapped}\n""", "{array.dtype.str}", {columns})'


def data_code(settings: dict, k: int, prefix: str = "X") -> list[str]:
    """The lines that make ``X_train, labels_train, X_test, labels_test`` (a regression: ``y_train`` and
    ``y_test``, its float targets, in place of the labels); ``prefix`` "P": the points are named
    ``P_train`` and ``P_test``, for the input features to be computed from them."""
    if settings["dataset"] != CUSTOM:
        low, high, _ = class_range(settings["dataset"])
        classes = f", classes={k}" if low != high else ""  # as Experiment.make_data asks for them
        targets = "y" if TASKS[settings["dataset"]] == "regression" else "labels"
        return ["# The data: the same dataset, sizes, noise and seed give the same points.",
                f"{prefix}_train, {targets}_train, {prefix}_test, {targets}_test = split({settings['dataset']!r}, "
                f"{settings['n_train']}, {settings['n_test']}, SEED, {float(settings['noise'])!r}{classes})"]
    points = settings["points"]
    if isinstance(points, dict):  # a run's settings name its points by count and hash: Run.replay_settings has them
        raise ValueError("the run's own points are not at hand (its settings only count them): export it from "
                         "the runs table, which takes the points the run trained on")
    if len(points) > MAX_POINTS:
        raise ValueError(f"the run's own data has {len(points):,} points; a script embeds at most {MAX_POINTS:,}: "
                         "export the points with File › Export data as CSV instead")
    X_train, labels_train, X_test, labels_test = custom.split(points, settings["test_ratio"], settings["seed"])
    return [
        f"# The data: your own {len(points)} points, split into train and test as the playground split them",
        "# (float32 coordinates and class labels, as base64 of their bytes).",
        "",
        "",
        "def _table(text, dtype, columns):",
        "    values = np.frombuffer(base64.b64decode(text), dtype=dtype)",
        "    values = values.reshape(-1, columns) if columns else values",
        "    return torch.from_numpy(values.astype(values.dtype.newbyteorder('=')))",
        "",
        "",
        _embedded(f"{prefix}_train", X_train.numpy().astype("<f4")),
        _embedded("labels_train", labels_train.numpy().astype("u1")) + ".long()",
        _embedded(f"{prefix}_test", X_test.numpy().astype("<f4")),
        _embedded("labels_test", labels_test.numpy().astype("u1")) + ".long()",
    ]


def script(settings: dict, schedule: list | None, epochs: int, title: str = "a minidl playground run") -> str:
    """The script's text for a run of ``epochs`` epochs with ``settings`` (an Experiment's fields)
    trained by ``schedule``; None schedule: one run with the settings' eta and batch size.
    ``ValueError`` names a setting the script cannot replay."""
    for name in sorted(set(settings) - KNOWN):
        if settings[name] != _default_or_missing(name):
            raise ValueError(f"export as Python does not replay the setting {name} = {settings[name]!r} yet")
    if epochs < 1:
        raise ValueError("there is no trained epoch to export yet: press Run first")
    full = _validated({f.name: settings.get(f.name, _default(f.name)) for f in fields(Experiment)})
    blocks = full["blocks"]
    experiment = Experiment(dataset=full["dataset"], classes=full["classes"], points=full["points"],
                            features=full["features"])
    names, regression = experiment.input_names, experiment.task == "regression"
    plain = names == PLAIN_FEATURES[:input_width(full["dataset"])]  # the inputs are the points themselves
    widths = [len(names)] + [b["width"] for b in blocks if b["type"] == "Linear"]
    shapes = [shape for w_in, w_out in itertools.pairwise(widths) for shape in ((w_out, w_in), (w_out,))]
    if schedule is None:
        batch = min(full["batch_size"], full["n_train"])
        schedule = [(1, {"eta": full["eta"], "batch_size": batch})]
    parts = segments(schedule, epochs, full)
    k = experiment.num_classes
    loss = LOSSES[full["loss"]].__name__
    optimizers = {optimizer_code(p).partition("(")[0] for p in parts}
    schedules = {c.partition("(")[0] for c in map(schedule_code, parts) if c}
    used = sorted({b["type"] for b in blocks})
    own = full["dataset"] == CUSTOM
    data_names = [name for name, wanted in (("features", not plain), ("one_hot", not regression), ("split", not own))
                  if wanted]
    lines = [
        '"""A minidl playground run, exported as a script.',
        "",
        "Rebuilds the same data, the same network and the same settings, trains, and prints the loss",
        'as the report does. Run it with:  python this_script.py"""',
        "",
        *comment(title),  # after the docstring: a comment on line 1 or 2 could name the file's encoding
        "",
        *(["import base64", "", "import numpy as np"] if own else []),
        "import torch",
        "",
        f"from minidl import {', '.join(sorted({loss, 'Sequential', *optimizers, *used}))}",
        f"from minidl.data import {', '.join(data_names)}",
        *([] if regression else ["from minidl.metrics import error_rate"]),
        *([f"from minidl.schedules import {', '.join(sorted(schedules))}"] if schedules else []),
        "",
        f"SEED = {full['seed']}",
        "",
        *data_code(full, k, "X" if plain else "P"),
        *([] if plain else ["# The network's inputs: the input features of the points.",
                            f"X_train = features(P_train, {names!r})", f"X_test = features(P_test, {names!r})"]),
        *([] if regression else [f"y_train, y_test = one_hot(labels_train, {k}), one_hot(labels_test, {k})"]),
        "",
        "# The network: its initial weights drawn from the seed, layer by layer, as the playground does.",
        "generator = torch.Generator().manual_seed(SEED)",
        f"model = {network_code(blocks, len(names))}",
        f"model.setLoss({loss}())",
        "",
        "# Training goes through the batches in order: the same settings give the same numbers. One",
        "# optimizer carries its state from segment to segment, as the playground's does from Run to Run.",
        "losses = []",
    ]
    kept_schedule = kept_eta = None
    for part in parts:
        first, count, eta, batch = part["first"], part["count"], part["eta"], part["batch_size"]
        if len(parts) > 1:
            lines += ["", f"print('epochs {first} to {first + count - 1}: eta {eta:g}, batch size {batch}')"]
        if part["fresh"]:
            why = "" if first == 1 else "  # a fresh optimizer: its state starts from zero here, as in the playground"
            lines.append(f"optimizer = {optimizer_code(part)}{why}")
        elif eta != kept_eta:
            lines.append(f"optimizer.eta = {eta!r}")
        kept_eta = eta
        if part["edits"]:
            for layer, row, column, value in part["edits"]:  # each index within the network the script builds
                hand_edits.checked(shapes, layer, row, None if column == -1 else column, value)
            lines += edits_code(part["edits"])
        code = schedule_code(part)
        extra = ""
        if code is not None:
            if code != kept_schedule:
                lines.append(f"schedule = {code}")
                kept_schedule = code
            extra = ", schedule=schedule"
        if first > 1:  # epochs numbered on: the schedule's factor depends on the epoch number
            extra += f", first_epoch={first}"
        every = max(1, count // 10)
        lines.append(f"losses += model.train(X_train, y_train, {count}, {batch}, optimizer, "
                     f"verbose_every_nth={every}{extra})")
    lines += ["", 'print(f"final train loss per point: {losses[-1]!r}")', *result_code(regression), ""]
    return compiled("\n".join(lines))


def result_code(regression: bool) -> list[str]:
    """The lines that print the error: % misclassified, or a regression's mean squared error per point
    (as :func:`gui.model.data.squared_error` computes it)."""
    if regression:
        return ["", "", "def mse_per_point(X, y):",
                "    return float((model.predict(X) - y).pow(2).sum()) / len(X)",
                "", "",
                'print(f"train MSE per point: {mse_per_point(X_train, y_train)!r}")',
                'print(f"test MSE per point: {mse_per_point(X_test, y_test)!r}")']
    return ['print(f"train error: {error_rate(model.predict(X_train), labels_train):.2f} %")',
            'print(f"test error: {error_rate(model.predict(X_test), labels_test):.2f} %")']


def comment(text: str, width: int = 96) -> list[str]:
    """``text`` as ``# `` lines: each line break, control or format character (a bidirectional
    override, a NUL, a lone surrogate) a space, so nothing in it can end the comment or hide code."""
    flat = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return ["# " + line for line in textwrap.wrap(flat, width, break_long_words=True)]


def compiled(text: str) -> str:
    """``text`` if Python compiles it (a warning counts as a failure); else ``ValueError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            compile(text, "<exported script>", "exec")
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL in the text
        where = f" (line {error.lineno}: {error.msg})" if isinstance(error, SyntaxError) else ""
        raise ValueError(f"the script made for this run does not compile{where}, so it was not written; "
                         "this is a bug in the playground, please report it") from None
    return text


def _validated(settings: dict) -> dict:
    """``settings`` checked as an experiment file's are (the points by :func:`data_code`), so that only
    numbers and known names reach the script."""
    try:
        checked = {k: v if k == "points" else checked_field(k, v) for k, v in settings.items()}
        inputs = Experiment(dataset=checked["dataset"], features=checked["features"]).in_features
        if not inputs:
            raise ValueError(f"no input feature of {', '.join(checked['features']) or 'none'} can be computed "
                             f"from the {checked['dataset']} points")
        architecture.check(checked["blocks"], inputs)
    except ValueError as error:
        raise ValueError(f"the run's settings cannot be exported: {error}") from None
    return checked


def _default_or_missing(name: str):
    try:
        return _default(name)
    except StopIteration:
        return _MISSING
