"""Lessons (Qt-free): every expectation of every shipped scene holds when trained headless, a false one
fails with a sentence, and bad files are sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gui.model import expectations, inside, lesson

LESSONS = sorted((Path(__file__).resolve().parents[2] / "resources" / "lessons").glob("*.json"))
# A scene of 600 epochs takes a few seconds: marked slow (still part of the suite).
SCENES = [pytest.param(path, i, id=f"{path.stem}-{i + 1}",
                       marks=[pytest.mark.slow] if scene.experiment.epochs >= 600 else [])
          for path in LESSONS for i, scene in enumerate(lesson.load(path).scenes)]


def test_three_lessons_ship():
    titles = {lesson.load(p).title for p in LESSONS}
    assert {"Step size", "Capacity on the spiral", "Depth and activations"} <= titles


@pytest.mark.parametrize(("path", "index"), SCENES)
def test_every_expectation_of_every_shipped_scene_holds(path, index):
    scene = lesson.load(path).scenes[index]
    assert scene.expects, f"{path.name} scene {index + 1} claims nothing: give it an expect"
    outcome = lesson.check(scene)
    assert len(outcome.parts) == len(scene.expects)  # each one judged, none skipped
    assert outcome.holds, f"{path.name} scene {index + 1} ({scene.title}): {outcome.sentence}"


def test_the_depth_lesson_checks_the_gradient_the_weights_dead_units_and_flags():
    """The notes speak of gradients through the layers, weights that do not move, dead units and a
    quiet inspector: each of these is an expectation, not only words."""
    scenes = lesson.load(next(p for p in LESSONS if p.stem == "depth_and_activations")).scenes
    kinds = [{x["expect"] for x in s.expects} for s in scenes]
    assert all(len(s.expects) >= 5 for s in scenes)
    activations = [s.experiment.blocks[1]["type"] for s in scenes]
    assert activations[:3] == ["Sigmoid", "Tanh", "ReLU"]
    assert {"gradient_ratio_below", "weight_change_below", "weight_change_above"} <= kinds[0]  # vanishes
    assert all("gradient_ratio_above" in k for k in kinds[1:])  # gets through
    assert {"dead_units_above", "dead_units_below", "no_flags"} <= kinds[2]
    assert all(k & {"test_error_above", "test_error_below"} for k in kinds)


def test_the_step_size_lesson_really_diverges_and_really_saturates():
    scenes = lesson.load(next(p for p in LESSONS if p.stem == "step_size")).scenes
    kinds = [s.expect["expect"] for s in scenes]
    assert "diverges" in kinds and "saturates" in kinds
    diverging = scenes[kinds.index("diverges")]
    assert diverging.experiment.blocks[-1]["type"] != "Tanh"  # a Tanh output saturates instead
    assert "diverged at epoch" in lesson.check(diverging).parts[0].sentence


def small_scene(expect, **settings) -> lesson.Scene:
    """The report's network on 200 points for 20 epochs, with ``expect``."""
    experiment = {"n_train": 200, "n_test": 200, "epochs": 20, **settings}
    return lesson.parse(json.dumps({"title": "L", "scenes": [
        {"title": "S", "experiment": experiment, "expect": expect}]})).scene


def test_a_note_that_claims_the_loss_falls_while_the_step_is_tiny_fails():
    scene = small_scene({"expect": "loss_ratio_below", "value": 0.5, "from": 1}, eta=1e-6)  # the smallest step
    outcome = lesson.check(scene)
    assert not outcome.holds
    assert outcome.sentence.startswith("fails: the training loss at epoch 20 is less than 0.5 times its value at "
                                       "epoch 1: loss"), outcome.sentence


def test_a_check_fails_when_the_claim_is_false():
    outcome = lesson.check(small_scene(["diverges", {"expect": "loss_below", "value": 1e-9},
                                        {"expect": "loss_below", "value": 10}]))
    assert not outcome.holds and [p.holds for p in outcome.parts] == [False, False, True]
    assert "did not diverge in 20 epochs" in outcome.sentence and "loss per point" in outcome.sentence
    assert "below 10" not in outcome.sentence  # only the failing ones are named
    assert "below 10" in outcome.parts[2].sentence


# Each kind, once true and once false, on the report's network after 20 epochs (1 unit of 25 dead or so,
# gradients within a factor 10, weights moved by a few %, errors between 0 and 100).
@pytest.mark.parametrize(("true", "false"), [
    ({"expect": "train_error_below", "value": 100}, {"expect": "train_error_below", "value": 0}),
    ({"expect": "test_error_above", "value": 0}, {"expect": "test_error_above", "value": 100}),
    ({"expect": "loss_ratio_below", "value": 1, "from": 1}, {"expect": "loss_ratio_above", "value": 1, "from": 1}),
    ({"expect": "dead_units_below", "value": 100}, {"expect": "dead_units_above", "value": 100}),
    ({"expect": "dead_units_below", "value": 100, "layer": 2}, {"expect": "dead_units_above", "value": 99, "layer": 2}),
    ({"expect": "gradient_ratio_above", "value": 1e-6}, {"expect": "gradient_ratio_below", "value": 1e-6}),
    ({"expect": "weight_change_above", "value": 1e-6, "layer": 1},
     {"expect": "weight_change_below", "value": 1e-6, "layer": 1}),
    ({"expect": "weight_change_below", "value": 10, "layer": 4},
     {"expect": "weight_change_above", "value": 10, "layer": 4, "epoch": 5}),
], ids=lambda x: x["expect"])
def test_each_kind_holds_when_true_and_fails_when_false(true, false):
    outcome = lesson.check(small_scene([true, false]))
    assert [p.holds for p in outcome.parts] == [True, False], outcome.parts
    assert outcome.parts[1].sentence.startswith("fails: ")


def test_no_flags_reads_the_inspectors_flags(monkeypatch):
    """Through the inspector's own function (whatever its rules), with the epochs before the one read as the
    inspector passes them: nothing flagged holds, a flag fails."""
    seen = []

    def flags(stats, cols, eta, earlier, losses, regression=False):
        seen.append((len(stats), len(cols), eta, len(earlier), len(losses), regression))
        return []

    monkeypatch.setattr(inside, "flags", flags)
    assert lesson.check(small_scene(["no_flags"], eta=1e-3)).holds
    # the 4 Linear layers' statistics at epoch 20 with the scene's eta, epochs 0-19 before it, the 20 losses
    assert seen == [(4, 5, 1e-3, 20, 20, False)]
    monkeypatch.setattr(inside, "flags", lambda *args, **kwargs: ["Hidden 2: something is wrong."])
    outcome = lesson.check(small_scene(["no_flags"]))
    assert not outcome.holds and "Hidden 2: something is wrong." in outcome.sentence


def test_an_expectation_after_a_divergence_fails_saying_so():
    blocks = [{"type": "Linear", "width": 25}, {"type": "ReLU"}, {"type": "Linear", "width": 2}]
    outcome = lesson.check(small_scene(["diverges", {"expect": "test_error_below", "value": 50}], blocks=blocks,
                                       eta=0.05, batch_size=200))
    assert [p.holds for p in outcome.parts] == [True, False]
    assert "the run diverged at epoch" in outcome.parts[1].sentence


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
    # the list form: each entry named by its number
    (_scene(expect=["diverges", {"expect": "loss_below", "value": 1, "colour": 3}]),
     ["scene 2 ('Broken')", "unknown field 'colour' in its expect number 2 ('loss_below')"]),
    (_scene(expect=[{"expect": "loss_below", "value": float("nan")}]),
     ["scene 2", "its expect number 1 ('loss_below') needs a number \"value\", got nan"]),
    (_scene(expect=[{"expect": "test_error_below", "value": float("inf")}]), ["needs a number \"value\""]),
    (_scene(expect=[{"expect": "test_error_below", "value": "5"}]), ["needs a number \"value\", got '5'"]),
    (_scene(expect=[{"expect": "test_error_below", "value": 150}]), ["from 0 to 100 (a percentage)"]),
    (_scene(expect=[{"expect": "gradient_ratio_below", "value": 0}]), ["above 0 (a ratio)"]),
    (_scene(expect=[{"expect": "loss_ratio_below", "value": 0.5}]), ['needs a whole number "from"']),
    (_scene(expect=[{"expect": "loss_ratio_below", "value": 0.5, "from": 2.0}]), ['the "from" of its expect']),
    (_scene(expect=[{"expect": "loss_ratio_below", "value": 0.5, "from": 300, "epoch": 300}]),
     ["from 1 to 299", "before epoch 300"]),
    (_scene(expect=[{"expect": "loss_ratio_below", "value": 0.5, "from": 1, "epoch": 1}]), ["read at epoch 1"]),
    (_scene(expect=[{"expect": "weight_change_below", "value": 0.1}]), ['needs a whole number "layer"']),
    (_scene(expect=[{"expect": "weight_change_below", "value": 0.1, "layer": 5}]), ["from 1 to 4", "got 5"]),
    (_scene(expect=[{"expect": "weight_change_below", "value": 0.1, "layer": True}]), ['"layer"', "got True"]),
    (_scene(expect=[{"expect": "dead_units_above", "value": 10, "layer": 4}]),
     ["layer 4, which has no ReLU after it", "the layers with one are 1, 2, 3"]),
    (_scene(experiment={"blocks": [{"type": "Linear", "width": 2}, {"type": "Tanh"}]},
            expect=[{"expect": "dead_units_above", "value": 10}]), ["no Linear layer has a ReLU after it"]),
    (_scene(experiment={"blocks": [{"type": "Linear", "width": 2}]}, expect=["gradient_ratio_below"]),
     ['needs a number "value"']),
    (_scene(experiment={"blocks": [{"type": "Linear", "width": 2}]},
            expect=[{"expect": "gradient_ratio_below", "value": 1}]), ["compares the first and the last"]),
    (_scene(expect=[{"expect": "no_flags", "value": 1}]), ["unknown field 'value'"]),
    (_scene(expect=[["diverges"]]), ["its expect number 1", '"expect" must be one of']),
    (_scene(expect=[{"expect": 3}]), ['"expect" must be one of']),
    (_scene(expect=3), ['"expect" must be one of']),
    (_scene(expect=["diverges"] * 21), ["21 expectations", "at most 20"]),
])
def test_bad_lessons_are_sentences_naming_the_scene(text, words):
    with pytest.raises(ValueError) as caught:
        lesson.parse(text)
    for word in words:
        assert word in str(caught.value)


JUNK = [None, True, "1", [], {}, -1, 0, 0.5, 1.5, 10**400, float("nan"), float("inf"), 2**63, "diverges"]


@pytest.mark.parametrize("kind", list(expectations.KINDS))
def test_any_value_in_any_field_of_any_kind_is_read_or_a_sentence(kind):
    """No value of any field makes reading fail other than with a ValueError: never a traceback."""
    value_kind, needed = expectations.KINDS[kind]
    valid = {"expect": kind, **({"value": 1} if value_kind else {}), **dict.fromkeys(needed, 1)}
    assert lesson.parse(_scene(expect=[valid])).scenes[1].expects == [valid]
    for key in ("value", "epoch", "from", "layer", "expect"):
        for junk in JUNK:
            raw = {**valid, key: junk}
            try:
                scene = lesson.parse(_scene(expect=[raw]))
            except ValueError as error:
                assert str(error).startswith("scene 2 ('Broken'): "), error
            else:
                assert scene.scenes[1].expects == [raw]


def test_the_single_form_and_the_list_form_read_alike():
    single = lesson.parse(_scene(expect={"expect": "loss_below", "value": 0.3})).scenes[1]
    listed = lesson.parse(_scene(expect=[{"expect": "loss_below", "value": 0.3}])).scenes[1]
    short = lesson.parse(_scene(expect="diverges")).scenes[1]
    assert single.expects == listed.expects == [{"expect": "loss_below", "value": 0.3}]
    assert single.expect == {"expect": "loss_below", "value": 0.3} and short.expects == [{"expect": "diverges"}]
    assert lesson.parse(_scene()).scenes[1].expects == [] and lesson.parse(_scene()).scenes[1].expect is None


def test_what_to_see_says_every_expectation():
    scene = lesson.parse(_scene(experiment={"epochs": 300}, expect=[
        {"expect": "loss_above", "value": 0.3}, {"expect": "test_error_below", "value": 5, "epoch": 200},
        {"expect": "dead_units_above", "value": 30, "layer": 1}, "no_flags"])).scenes[1]
    assert lesson.expect_sentence(scene.expects, 300) == (
        "the training loss stays above 0.3 at epoch 300; the test error falls below 5 % by epoch 200; "
        "more than 30 % of layer 1's ReLU units are dead at epoch 300; the inspector flags nothing at epoch 300.")
    assert lesson.expect_sentence([]) == ""


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
