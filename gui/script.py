"""Export as Python: a standalone script that replays a playground run with minidl's seed API (Qt-free).

The script rebuilds the data (dataset, sizes, noise, seed), the network (``Sequential(...)`` with
the seed's generator, so the same initial weights) and trains it with ``model.train`` once per
entry of the run's schedule (an eta changed during the run, a branch from the timeline), so it
prints the very losses the playground recorded: its ``final train loss per point`` equals
``session.history.train[-1]`` as float32. It ends with the train and test error.
"""

from __future__ import annotations

from dataclasses import MISSING, fields

from minidl.architecture import ACTIVATIONS
from minidl.data import class_range

from .experiment import IN_FEATURES, Experiment

# The fields the script knows how to rebuild; any other field (a later setting) must keep its
# default, or the export says which one it cannot replay rather than write a script that differs.
_MISSING = object()
KNOWN = {"blocks", "dataset", "noise", "n_train", "n_test", "eta", "batch_size", "epochs", "seed", "classes"}


def segments(schedule: list, epochs: int) -> list[tuple[int, int, float, int]]:
    """``[(first epoch, epochs, eta, batch size)]`` covering epochs 1..``epochs``, equal neighbours merged."""
    if not schedule or schedule[0][0] != 1:
        raise ValueError("the run's record does not start at epoch 1")
    out: list[list] = []
    for i, (first, values) in enumerate(schedule):
        end = min(schedule[i + 1][0] - 1 if i + 1 < len(schedule) else epochs, epochs)
        if end < first:
            continue
        eta, batch = float(values["eta"]), int(values["batch_size"])
        if out and out[-1][2:] == [eta, batch] and out[-1][0] + out[-1][1] == first:
            out[-1][1] += end - first + 1
        else:
            out.append([first, end - first + 1, eta, batch])
    return [tuple(s) for s in out]


def network_code(blocks: list[dict]) -> str:
    """``Sequential(Linear(2, 25, generator=generator), ReLU(), ...)`` for ``blocks``."""
    parts, width = [], IN_FEATURES
    for block in blocks:
        if block["type"] == "Linear":
            parts.append(f"Linear({width}, {block['width']}, generator=generator)")
            width = block["width"]
        elif block["type"] in ACTIVATIONS:
            parts.append(f"{block['type']}()")
        else:
            raise ValueError(f"the script cannot build a {block['type']} block")
    return "Sequential(\n    " + ",\n    ".join(parts) + ",\n)"


def script(settings: dict, schedule: list | None, epochs: int, title: str = "a minidl playground run") -> str:
    """The script's text for a run of ``epochs`` epochs with ``settings`` (an Experiment's fields)
    trained by ``schedule``; None schedule: one run with the settings' eta and batch size.
    ``ValueError`` names a setting the script cannot replay."""
    defaults = {f.name: f.default if f.default is not MISSING else f.default_factory() for f in fields(Experiment)}
    for name in sorted(set(settings) - KNOWN):
        if settings[name] != defaults.get(name, _MISSING):
            raise ValueError(f"export as Python does not replay the setting {name} = {settings[name]!r} yet")
    if epochs < 1:
        raise ValueError("there is no trained epoch to export yet: press Run first")
    blocks = settings["blocks"]
    if schedule is None:
        schedule = [(1, {"eta": settings["eta"], "batch_size": min(settings["batch_size"], settings["n_train"])})]
    used = sorted({b["type"] for b in blocks})
    k = int(settings.get("classes", 2))
    low, high, _ = class_range(settings["dataset"])
    classes = f", classes={k}" if low != high else ""  # as Experiment.make_data asks for them
    lines = [
        f'"""{title}, exported from the minidl playground.',
        "",
        "Rebuilds the same data, the same network and the same settings, trains, and prints the loss",
        'as the report does. Run it with:  python this_script.py"""',
        "",
        "import torch",
        "",
        f"from minidl import {', '.join(sorted({'MSE', 'SGD', 'Sequential', *used}))}",
        "from minidl.data import one_hot, split",
        "from minidl.metrics import error_rate",
        "",
        f"SEED = {settings['seed']}",
        "",
        "# The data: the same dataset, sizes, noise and seed give the same points.",
        f"X_train, labels_train, X_test, labels_test = split({settings['dataset']!r}, {settings['n_train']}, "
        f"{settings['n_test']}, SEED, {float(settings['noise'])!r}{classes})",
        f"y_train, y_test = one_hot(labels_train, {k}), one_hot(labels_test, {k})",
        "",
        "# The network: its initial weights drawn from the seed, layer by layer, as the playground does.",
        "generator = torch.Generator().manual_seed(SEED)",
        f"model = {network_code(blocks)}",
        "model.setLoss(MSE())",
        "",
        "# Training goes through the batches in order: the same settings give the same numbers.",
        "losses = []",
    ]
    parts = segments(schedule, epochs)
    for first, count, eta, batch in parts:
        if len(parts) > 1:
            lines.append(f"print('epochs {first} to {first + count - 1}: eta {eta:g}, batch size {batch}')")
        every = max(1, count // 10)
        lines.append(f"losses += model.train(X_train, y_train, {count}, {batch}, SGD(eta={eta!r}), "
                     f"verbose_every_nth={every})")
    lines += [
        "",
        'print(f"final train loss per point: {losses[-1]!r}")',
        'print(f"train error: {error_rate(model.predict(X_train), labels_train):.2f} %")',
        'print(f"test error: {error_rate(model.predict(X_test), labels_test):.2f} %")',
        "",
    ]
    return "\n".join(lines)
