"""Lessons (Qt-free): every shipped scene's claim holds when trained headless, and bad files are sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gui.model import lesson

LESSONS = sorted((Path(__file__).resolve().parents[2] / "resources" / "lessons").glob("*.json"))
SCENES = [(path, i) for path in LESSONS for i in range(len(lesson.load(path).scenes))]


def test_three_lessons_ship():
    titles = {lesson.load(p).title for p in LESSONS}
    assert {"Step size", "Capacity on the spiral", "Depth and activations"} <= titles


@pytest.mark.parametrize(("path", "index"), SCENES, ids=[f"{p.stem}-{i + 1}" for p, i in SCENES])
def test_every_shipped_scene_shows_what_it_claims(path, index):
    scene = lesson.load(path).scenes[index]
    assert scene.expect is not None, f"{path.name} scene {index + 1} claims nothing: give it an expect"
    outcome = lesson.check(scene)
    assert outcome.holds, f"{path.name} scene {index + 1} ({scene.title}): {outcome.sentence}"


def test_the_step_size_lesson_really_diverges_and_really_saturates():
    scenes = lesson.load(next(p for p in LESSONS if p.stem == "step_size")).scenes
    kinds = [s.expect["expect"] for s in scenes]
    assert "diverges" in kinds and "saturates" in kinds
    diverging = scenes[kinds.index("diverges")]
    assert diverging.experiment.blocks[-1]["type"] != "Tanh"  # a Tanh output saturates instead
    assert lesson.check(diverging).sentence.startswith("diverged at epoch")


def test_a_check_fails_when_the_claim_is_false():
    scene = lesson.load(LESSONS[0]).scenes[0]
    scene.expect = {"expect": "diverges"}
    scene.experiment.epochs = 20
    assert not lesson.check(scene).holds
    scene.expect = {"expect": "loss_below", "value": 1e-9}
    outcome = lesson.check(scene)
    assert not outcome.holds and "loss per point" in outcome.sentence


def test_navigation_and_caption():
    text = json.dumps({"title": "T", "scenes": [{"title": f"S{i}"} for i in range(3)]})
    les = lesson.parse(text)
    assert les.caption() == "Scene 1 of 3: S0"
    assert les.previous() is None and les.index == 0
    assert les.next().title == "S1" and les.next().title == "S2"
    assert les.next() is None and les.index == 2
    assert les.caption() == "Scene 3 of 3: S2"
    assert les.scenes[0].experiment.eta == 1e-3  # missing settings take the report's values


def _scene(**fields):
    return json.dumps({"title": "L", "scenes": [{"title": "First"}, {"title": "Broken", **fields}]})


@pytest.mark.parametrize(("text", "words"), [
    ("{not json", ["not valid JSON", "line 1"]),
    ("[]", ["JSON object"]),
    (json.dumps({"title": "L", "scenes": [], "extra": 1}), ["unknown field 'extra'"]),
    (json.dumps({"title": "L", "scenes": []}), ["at least one scene"]),
    (json.dumps({"title": "L", "scenes": [{"title": "x"}] * 10_000}), ["10,000 scenes", "at most 100"]),
    (_scene(colour="red"), ["scene 2 ('Broken')", "unknown field 'colour'"]),
    (_scene(experiment={"eta": 99}), ["scene 2 ('Broken')", "eta"]),
    (_scene(experiment={"etta": 0.1}), ["scene 2", "unknown experiment setting 'etta'"]),
    (_scene(experiment={"blocks": [{"type": "Linear", "width": 3}]}), ["scene 2", "last Linear block has 3 outputs"]),
    (_scene(experiment={"blocks": [{"type": "Conv"}]}), ["scene 2", "type"]),
    (_scene(expect="explodes"), ["scene 2", "expect", "diverges"]),
    (_scene(expect={"expect": "loss_below"}), ["scene 2", 'needs a number "value"']),
    (_scene(expect={"expect": "loss_below", "value": 1, "when": 3}), ["scene 2", "unknown field 'when'"]),
    (json.dumps({"title": "L", "scenes": [{"note": "no title"}]}), ["scene 1", "title"]),
])
def test_bad_lessons_are_sentences_naming_the_scene(text, words):
    with pytest.raises(ValueError) as caught:
        lesson.parse(text)
    for word in words:
        assert word in str(caught.value)


def test_load_refuses_folders_and_huge_files(tmp_path):
    with pytest.raises(ValueError, match="not a file"):
        lesson.load(tmp_path)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (lesson.MAX_BYTES + 10))
    with pytest.raises(ValueError, match="larger than"):
        lesson.load(big)


def test_saturation_needs_pinned_outputs_and_a_stuck_loss():
    tanh = [{"type": "Linear", "width": 2}, {"type": "Tanh"}]
    pinned = torch.tensor([[1.0, -1.0]] * 10)
    assert lesson.saturated(tanh, pinned, [1.2, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert not lesson.saturated(tanh, pinned, [1.0, 0.9, 0.8, 0.7, 0.6, 0.5])  # still learning
    assert not lesson.saturated(tanh, pinned * 0.5, [1.0] * 6)  # not at ±1
    assert not lesson.saturated(tanh[:1], pinned, [1.0] * 6)  # no Tanh output


def test_note_markdown_lite():
    html = lesson.note_html("Some **bold** and *it*.\n- one\n- <two>\n\nEnd")
    assert "<b>bold</b>" in html and "<i>it</i>" in html
    assert "<ul><li>one</li><li>&lt;two&gt;</li></ul>" in html and html.endswith("<p>End</p>")
