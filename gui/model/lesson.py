"""Lessons, free of Qt: a title and scenes a teacher steps through like slides.

A lesson file is JSON::

    {"title": "Step size",
     "scenes": [{"title": "Too small",
                 "note": "The loss **creeps** down.\\n- watch the boundary",
                 "experiment": {"eta": 1e-5, "epochs": 300},
                 "expect": [{"expect": "loss_above", "value": 0.3},
                            {"expect": "test_error_above", "value": 20, "epoch": 300}]}]}

A scene's ``experiment`` holds the fields of an experiment file's settings (blocks, dataset,
noise, n_train, n_test, eta, batch_size, epochs, seed, and the others such as ``features``, the
input features); those it leaves out take the report's values. ``expect`` (optional) says what
the class should see: one expectation or a list of them, one for each sentence of the note that
can be checked (the kinds: :mod:`gui.model.expectations`).
:func:`check` trains the scene headless through :func:`minidl.fit` and says which hold. Every
problem of a file is a ``ValueError`` whose sentence names the scene and the problem.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

import minidl
from gui.model import expectations, inside
from gui.model.expectations import Outcome, Run, Snapshot
from gui.model.experiment import Experiment, checked_field

MAX_SCENES = 100
MAX_BYTES = 1_000_000
SCENE_KEYS = {"title", "note", "experiment", "expect"}
# Saturated: at least this share of a Tanh output's values within SATURATED_AT of ±1, and the
# loss of the last STUCK_SHARE of the epochs within STUCK_CHANGE (relative) of each other.
SATURATED_SHARE, SATURATED_AT = 0.9, 0.01
STUCK_SHARE, STUCK_CHANGE = 0.2, 0.01


@dataclass
class Scene:
    """One step of a lesson: an experiment to load, a title, a note and what the class should see
    (``expects``: its expectations as read, each a dict ``{"expect": KIND, ...}``)."""

    title: str
    note: str
    experiment: Experiment
    expects: list[dict] = field(default_factory=list)

    @property
    def expect(self) -> dict | None:
        """The first expectation (None when there is none): all a one-claim scene promises."""
        return self.expects[0] if self.expects else None


@dataclass
class Lesson:
    """``scenes`` in order; ``index`` is the scene shown. ``next()``/``previous()`` move and
    return the new scene (None at either end, where nothing moves); ``on_change(scene)`` is
    called after each move (the window loads the scene's experiment)."""

    title: str
    scenes: list[Scene] = field(default_factory=list)
    index: int = 0
    path: Path | None = None
    on_change: Callable[[Scene], None] | None = field(default=None, repr=False, compare=False)

    @property
    def scene(self) -> Scene:
        return self.scenes[self.index]

    def go(self, index: int) -> Scene | None:
        if not 0 <= index < len(self.scenes) or index == self.index:
            return None
        self.index = index
        if self.on_change is not None:
            self.on_change(self.scene)
        return self.scene

    def next(self) -> Scene | None:
        return self.go(self.index + 1)

    def previous(self) -> Scene | None:
        return self.go(self.index - 1)

    def caption(self) -> str:
        """``Scene 2 of 5: Too large``."""
        return f"Scene {self.index + 1} of {len(self.scenes)}: {self.scene.title}"


# -- reading ------------------------------------------------------------------------------
def load(path) -> Lesson:
    """Read a lesson file; any problem is a ``ValueError`` with a sentence."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ValueError("it is not a file")
        with open(path, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise ValueError(error.strerror or str(error)) from None
    if len(data) > MAX_BYTES:
        raise ValueError(f"it is larger than {MAX_BYTES // 1000:,} kB; a lesson is a small JSON file")
    try:
        text = data.decode("utf-8-sig")  # Notepad and Excel may begin UTF-8 with a BOM
    except UnicodeDecodeError:
        raise ValueError("it is not UTF-8 text; a lesson is a small JSON file") from None
    lesson = parse(text)
    lesson.path = path
    return lesson


def parse(text: str) -> Lesson:
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:
        where = f" (line {error.lineno}, column {error.colno})" if isinstance(error, json.JSONDecodeError) else ""
        raise ValueError(f"it is not valid JSON{where}") from None
    if not isinstance(raw, dict):
        raise ValueError('it must be a JSON object with "title" and "scenes"')
    unknown = set(raw) - {"title", "scenes"}
    if unknown:
        raise ValueError(f"unknown field {sorted(unknown)[0]!r} at the top; a lesson has only \"title\" and \"scenes\"")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise ValueError('the lesson needs a "title" (a text)')
    scenes = raw.get("scenes")
    if not isinstance(scenes, list) or not scenes:
        raise ValueError('the lesson needs "scenes": a list of at least one scene')
    if len(scenes) > MAX_SCENES:
        raise ValueError(f"it has {len(scenes):,} scenes; a lesson may have at most {MAX_SCENES}")
    return Lesson(title.strip(), [_scene(i + 1, s) for i, s in enumerate(scenes)])


def _scene(number: int, raw) -> Scene:
    def problem(text: str) -> ValueError:
        name = f" ({raw['title']!r:.60})" if isinstance(raw, dict) and isinstance(raw.get("title"), str) else ""
        return ValueError(f"scene {number}{name}: {text}")

    if not isinstance(raw, dict):
        raise problem("must be a JSON object with a title, a note and an experiment")
    unknown = set(raw) - SCENE_KEYS
    if unknown:
        raise problem(f"unknown field {sorted(unknown)[0]!r}; a scene has {', '.join(sorted(SCENE_KEYS))}")
    title, note = raw.get("title"), raw.get("note", "")
    if not isinstance(title, str) or not title.strip():
        raise problem('needs a "title" (a text)')
    if not isinstance(note, str):
        raise problem('its "note" must be a text')
    settings = raw.get("experiment", {})
    if not isinstance(settings, dict):
        raise problem('its "experiment" must be a JSON object of experiment settings')
    values = asdict(Experiment())
    for key, value in settings.items():
        if key not in values:
            raise problem(f"unknown experiment setting {key!r}; the settings are {', '.join(values)}")
        try:
            values[key] = checked_field(key, value)
        except ValueError as error:
            raise problem(str(error)) from None
    try:
        experiment = Experiment.from_json(json.dumps(values))
    except ValueError as error:
        raise problem(str(error)) from None
    problems = experiment.validate()
    if problems:
        raise problem(problems[0])
    try:
        expects = expectations.read(raw.get("expect"), experiment.blocks, experiment.epochs)
    except ValueError as error:
        raise problem(str(error)) from None
    return Scene(title.strip(), note, experiment, expects)


# -- what a class sees ----------------------------------------------------------------------
def saturated(blocks: list[dict], outputs: torch.Tensor, losses) -> bool:
    """True when a Tanh output is pinned at ±1 (``SATURATED_SHARE`` of its values within
    ``SATURATED_AT``) and the loss of the last epochs no longer moves: the network stopped learning.

    Shape: outputs ``(N, 2)``; ``losses`` the loss per point of each epoch."""
    if not may_saturate(blocks, losses) or not bool(torch.isfinite(outputs).all()):
        return False
    return float((outputs.abs() > 1 - SATURATED_AT).float().mean()) >= SATURATED_SHARE


def may_saturate(blocks: list[dict], losses) -> bool:
    """The cheap half of :func:`saturated`: a Tanh output, and a loss that stopped moving."""
    if not blocks or blocks[-1].get("type") != "Tanh" or len(losses) < 5:
        return False
    tail = [float(v) for v in losses[-max(2, int(len(losses) * STUCK_SHARE)):]]
    return max(tail) - min(tail) <= STUCK_CHANGE * max(abs(max(tail)), 1e-12)


SATURATION_SENTENCE = ("The outputs are saturated: the network stopped learning (its Tanh outputs sit at ±1 "
                       "and the loss no longer moves). Try a smaller step size, then Reset and Run.")


def check(scene: Scene) -> Outcome:
    """Train ``scene`` headless through :func:`minidl.fit`, as the playground would (its optimizer and
    schedule), and judge each of its expectations; ``holds`` when all hold, ``parts`` one
    :class:`~gui.model.expectations.Outcome` per expectation, ``sentence`` the failing ones (all of
    them when none fails)."""
    e = scene.experiment
    read_at = expectations.epochs_read(scene.expects, e.epochs)
    # The inspector flags only what lasted PERSIST_EPOCHS: each epoch read keeps the statistics of the
    # epochs before it, as the playground's per-epoch timeline would (gui.model.inside.persist_window).
    window = {k for epoch in read_at for k in range(max(0, epoch - inside.PERSIST_EPOCHS), epoch)}
    stats_at: dict[int, list[dict]] = {}
    data, model = e.make_data(), e.build_model()
    run = Run(start=[p.clone() for p in model.parameters()[::2]], columns=inside.columns(e.blocks)[1:])
    if 0 in window:
        stats_at[0] = _stats(e, data, model)  # the initial weights, the timeline's epoch 0
    records = minidl.fit(model, data.X_train, data.y_train, max(read_at, default=e.epochs),
                         e.effective_batch_size, e.build_optimizer(), schedule=e.build_schedule())
    for record in records:
        if record.diverged:
            run.diverged_at = record.epoch
            break
        run.losses.append(record.loss)
        if record.epoch in read_at:
            run.snapshots[record.epoch] = _snapshot(e, data, model, run.losses, stats_at)
        if record.epoch in window:
            stats_at[record.epoch] = _stats(e, data, model)
    parts = [expectations.judge(x, run, e.epochs) for x in scene.expects]
    failing = [p.sentence for p in parts if not p.holds]
    if failing:
        return Outcome(False, "; ".join(failing), parts)
    return Outcome(True, "; ".join(p.sentence for p in parts) or "no expectation", parts)


def _stats(e: Experiment, data, model) -> list[dict]:
    parameters = [p.clone() for p in model.parameters()]
    return inside.layer_stats(e.blocks, parameters, data.X_train, data.y_train, e.eta, e.loss)


def _snapshot(e: Experiment, data, model, losses: list[float], stats_at: dict[int, list[dict]]) -> Snapshot:
    """The run after one epoch, as the metrics line and the inspector show it (its flags from the epochs
    before it in ``stats_at``, as the inspector's)."""
    epoch = len(losses)
    parameters = [p.clone() for p in model.parameters()]
    errors = data.evaluate(model)
    stats = _stats(e, data, model)
    earlier = [stats_at[k] for k in inside.persist_window(sorted(stats_at), epoch)]
    flags = inside.flags(stats, inside.columns(e.blocks), e.eta, earlier, losses)
    return Snapshot(errors["train_error"], errors["test_error"], stats, flags, parameters[::2],
                    saturated(e.blocks, model.predict(data.X_train), losses))


def note_html(note: str) -> str:
    """Markdown-lite to HTML: ``**bold**``, ``*italic*``, ``- `` bullets, blank-line paragraphs."""
    def inline(text: str) -> str:
        text = html.escape(text)
        text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
        return re.sub(r"\*(.+?)\*", r"<i>\1</i>", text)

    out, bullets = [], []
    for line in note.splitlines() + [""]:
        stripped = line.strip()
        if stripped.startswith(("- ", "* ")):
            bullets.append(f"<li>{inline(stripped[2:])}</li>")
            continue
        if bullets:
            out.append("<ul>" + "".join(bullets) + "</ul>")
            bullets = []
        if stripped:
            out.append(f"<p>{inline(stripped)}</p>")
    return "".join(out)


def expect_sentence(expects: list[dict] | dict | None, epochs: int | None = None) -> str:
    """What a scene's expectations promise, in one sentence for the class (empty when there are none)."""
    if not expects:
        return ""
    return expectations.sentences(expects if isinstance(expects, list) else [expects], epochs)
