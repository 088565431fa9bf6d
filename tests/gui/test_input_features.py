"""Input features in the playground: the check boxes (featureCheck_*), the experiment's list, the validation
sentence when none is on, the first Linear's width, a 1-D dataset (Sine), the network view's input column,
files, and the lesson "Features instead of layers"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_helpers import button, find, labels, run_to_end, small_data, start_long_run
from PySide6.QtWidgets import QCheckBox, QLabel

import minidl
from gui.model import lesson
from gui.model.experiment import FEATURE_NAMES, Experiment, linear
from gui.model.session import Session
from gui.qt.panels.features_panel import FeaturesPanel
from minidl.data import features

LESSON = Path(__file__).resolve().parents[2] / "resources" / "lessons" / "features.json"
LABELS = ["x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin x₁", "sin x₂"]


def check(window, name: str) -> QCheckBox:
    return find(window, QCheckBox, f"featureCheck_{name}")


def tick(window, *names: str, on: bool = True) -> None:
    for name in names:
        check(window, name).setChecked(on)


# -- the check boxes and the list ---------------------------------------------------------------------
def test_seven_check_boxes_start_with_the_coordinates(window):
    boxes = [check(window, name) for name in FEATURE_NAMES]
    assert [b.text() for b in boxes] == LABELS
    assert [b.isChecked() for b in boxes] == [True, True] + [False] * 5
    assert all(b.isEnabled() and b.isVisible() for b in boxes)
    assert "x₁² = x₁ · x₁" in check(window, "x1sq").toolTip()
    assert "sine" in check(window, "sinx2").toolTip() and "x₁x₂ = x₁ · x₂" in check(window, "x1x2").toolTip()
    assert window.session.experiment.features == ["x1", "x2"]


def test_each_toggle_edits_the_list_in_order_and_the_first_linear_follows(window):
    s = window.session
    tick(window, "sinx2")
    tick(window, "x1sq")
    tick(window, "x1x2")
    assert s.experiment.features == ["x1", "x2", "x1sq", "x1x2", "sinx2"]  # FEATURE_NAMES order, not the clicks'
    assert labels(window)[0] == ["Linear", "5", "→", "25"]
    assert s.model.parameters()[0].shape == (25, 5)
    torch.testing.assert_close(s.data.X_train, features(s.data.points_train, s.experiment.features))
    tick(window, "x2", on=False)
    assert s.experiment.features == ["x1", "x1sq", "x1x2", "sinx2"]
    assert labels(window)[0] == ["Linear", "4", "→", "25"]
    assert "The inputs changed" in window.last_message
    s.edit(features=["x2sq"])  # automation: the boxes follow the experiment
    assert [check(window, n).isChecked() for n in FEATURE_NAMES] == [False, False, False, True, False, False, False]


def test_the_features_train_through_the_gui(qtbot, window):
    small_data(window, 200, 100, 50)
    tick(window, "x1sq", "x2sq")
    assert run_to_end(qtbot, window, 2) == "completed"
    s = window.session
    assert s.history.epochs == 2 and s.model.parameters()[0].shape == (25, 4)
    assert s.metrics is not None and s.metrics.test_error is not None
    # the same losses as the headless loop on the same features: one training loop
    e = s.experiment
    data, model = e.make_data(), e.build_model()
    assert data.X_train.shape == (200, 4)
    losses = [r.loss for r in minidl.fit(model, data.X_train, data.y_train, 2, e.effective_batch_size,
                                         e.build_optimizer())]
    np.testing.assert_array_equal(s.history.train, np.asarray(losses, np.float32))


def test_unticking_the_last_feature_stops_run_and_says_so(window):
    s = window.session
    tick(window, "x1", "x2", on=False)
    assert s.experiment.features == []  # not refused: the validation speaks
    sentence = "No input feature is on: tick at least one"
    assert sentence in find(window, QLabel, "validationLabel").text()
    assert not button(window, "runButton").isEnabled()
    assert not s.run() and sentence in window.last_message
    tick(window, "sinx1")
    assert s.validate() == [] and button(window, "runButton").isEnabled()
    assert labels(window)[0] == ["Linear", "1", "→", "25"]


def test_the_boxes_are_off_while_a_run_is_live(qtbot, window):
    small_data(window, 200, 100, 50)
    start_long_run(qtbot, window)
    assert not any(check(window, n).isEnabled() for n in FEATURE_NAMES)
    window.session.stop()
    qtbot.waitUntil(lambda: not window.session.running, timeout=10_000)
    assert all(check(window, n).isEnabled() for n in FEATURE_NAMES)


def test_a_one_dimensional_dataset_turns_the_x2_features_off_and_says_why(qtbot):
    """The panel alone on a session of Sine (the window's plots of a regression are another view's work)."""
    s = Session(Experiment(dataset="Sine", blocks=[linear(8), {"type": "Tanh"}, linear(1)],
                           features=["x1", "x2", "x1sq", "x2sq"], n_train=100, n_test=100))
    panel = FeaturesPanel(s)
    qtbot.addWidget(panel)
    x2_features = ["x2", "x2sq", "x1x2", "sinx2"]
    for name in FEATURE_NAMES:
        assert panel.checks[name].isEnabled() == (name not in x2_features), name
    assert "The Sine dataset has one coordinate, x₁" in panel.checks["x2sq"].toolTip()
    assert panel.checks["x2"].isChecked()  # the experiment's list as it is; the network leaves x2 out
    assert s.experiment.input_names == ["x1", "x1sq"] and s.model.parameters()[0].shape == (8, 2)
    assert s.data.X_train.shape == (100, 2)
    panel.checks["x1"].setChecked(False)
    panel.checks["x1sq"].setChecked(False)  # only x2 features left: the validation says what to tick
    assert s.experiment.features == ["x2", "x2sq"]
    assert any("has one coordinate, x1, but only x2 features are on" in p for p in s.validate())
    assert not s.run()
    s.edit(dataset="Disc", blocks=[linear(2)])  # a 2-D dataset: every box is on again
    assert all(box.isEnabled() for box in panel.checks.values())
    assert "x₂² = x₂ · x₂" in panel.checks["x2sq"].toolTip()


# -- the network view's input column ----------------------------------------------------------------------
def test_the_input_column_shows_one_labelled_thumbnail_per_feature(qtbot, window):
    from test_inside_views import centres

    small_data(window, 200, 100, 50)
    tick(window, "x1sq", "x2sq")
    assert run_to_end(qtbot, window, 2) == "completed"
    view = window.network_view
    view.repaint()
    assert view.columns()[0] == ("input", 4)
    assert [u for _, k, u in view.unit_rects if k == 0] == [0, 1, 2, 3]
    assert view.input_labels() == ["x₁", "x₂", "x₁²", "x₂²"]
    first = min(r.left() for r, k, _ in view.unit_rects if k == 0)
    widest = max(view.fontMetrics().horizontalAdvance(t) for t in view.input_labels())
    assert first >= widest + 3  # the labels have their room left of the thumbnails
    assert view.tooltip_at(0, 2).startswith("Input x₁²: x₁² = x₁ · x₁")
    view.select(0, 2)  # the big plot shows the feature x1² over the plane
    assert window.boundary_plot.showing_unit.startswith("input x₁²")
    image, points = centres(window)
    np.testing.assert_allclose(image.ravel(), (points[:, 0] ** 2).numpy(), rtol=1e-5, atol=1e-6)
    view.select(None)


# -- files --------------------------------------------------------------------------------------------
def test_save_and_open_keep_the_features(qtbot, window, tmp_path):
    small_data(window, 200, 100, 50)
    tick(window, "x1x2", "sinx1")
    assert run_to_end(qtbot, window, 2) == "completed"
    trained = [p.clone() for p in window.session.model.parameters()]
    path = tmp_path / "features.minidl"
    assert window.files.save_to(path)
    tick(window, "x1x2", "sinx1", on=False)
    assert window.session.experiment.features == ["x1", "x2"]
    assert window.files.open(path)
    s = window.session
    assert s.experiment.features == ["x1", "x2", "x1x2", "sinx1"]
    assert [check(window, n).isChecked() for n in FEATURE_NAMES] == [True, True, False, False, True, True, False]
    assert labels(window)[0] == ["Linear", "4", "→", "25"] and s.history.epochs == 2
    for kept, opened in zip(trained, s.model.parameters(), strict=True):
        torch.testing.assert_close(opened, kept)


# -- the lesson "Features instead of layers" ------------------------------------------------------------
def test_the_features_lesson_loads_its_features_into_the_boxes(window):
    assert window.files.open_lesson(LESSON)
    assert window.lesson.title == "Features instead of layers"
    assert [check(window, n).isChecked() for n in FEATURE_NAMES] == [True, True] + [False] * 5
    assert labels(window) == [["Linear", "2", "→", "2"], ["Tanh"]]
    window.lesson.next()
    assert window.session.experiment.features == ["x1", "x2", "x1sq", "x2sq"]
    assert [check(window, n).isChecked() for n in FEATURE_NAMES] == [True, True, True, True, False, False, False]
    assert labels(window) == [["Linear", "4", "→", "2"], ["Tanh"]]


def test_the_lessons_claims_hold_a_line_fails_and_the_squares_cut_the_disc_out():
    first, second = lesson.load(LESSON).scenes
    assert first.experiment.blocks == second.experiment.blocks == [linear(2), {"type": "Tanh"}]  # no hidden layer
    assert (first.experiment.features, second.experiment.features) == (["x1", "x2"], ["x1", "x2", "x1sq", "x2sq"])
    assert {x["expect"] for x in first.expects} >= {"test_error_above", "train_error_above"}
    assert {x["expect"] for x in second.expects} >= {"test_error_below"}
    assert next(x["value"] for x in second.expects if x["expect"] == "test_error_below") == 5
    for scene in (first, second):
        outcome = lesson.check(scene)
        assert outcome.holds, f"{scene.title}: {outcome.sentence}"


@pytest.mark.parametrize(("value", "words"), [
    ("x1", "must be a list of distinct names"),
    (["x1", "x9"], "must be a list of distinct names"),
    (["x1", "x1"], "must be a list of distinct names"),
    ([], "No input feature is on"),
    ([1], "must be a list of distinct names"),
])
def test_a_scene_with_bad_features_is_a_sentence(value, words):
    text = json.dumps({"title": "L", "scenes": [{"title": "Bad", "experiment": {"features": value}}]})
    with pytest.raises(ValueError, match="scene 1 \\('Bad'\\)") as error:
        lesson.parse(text)
    assert words in str(error.value)


def test_the_runs_table_names_the_features_ticked_and_unticked(qtbot, window):
    small_data(window, 200, 100, 50)
    assert run_to_end(qtbot, window, 1) == "completed"
    tick(window, "x1sq", "sinx2")
    tick(window, "x2", on=False)
    assert run_to_end(qtbot, window, 1) == "completed"
    assert window.session.runs[-1].diff == "+ x₁², + sin x₂, - x₂"
