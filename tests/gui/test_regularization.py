"""L1 and L2 regularization in the playground (regularizationCombo, regularizationRateSpin, the
experiment's ``l1``, its files, the runs' words, Export as Python) and the boundary plot's
discretized output (discretizeCheck)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from gui_helpers import find, run_to_end, small_data
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox
from session_helpers import run_script, small

import minidl
from gui.files import experiment_file
from gui.files.runs_file import from_file, to_file
from gui.files.script import script
from gui.model.experiment import L1_MAX, Experiment, linear

THREE_CLASSES = [linear(16), {"type": "ReLU"}, linear(3)]


# -- the experiment's field ------------------------------------------------------------------------
def test_l1_reaches_the_optimizer_of_each_kind():
    for kind, made in (("SGD", "SGD(eta=0.01, l1=0.02)"), ("SGD + momentum", "SGD(eta=0.01, momentum=0.9, l1=0.02)"),
                       ("Adam", "Adam(eta=0.01, betas=(0.9, 0.999), eps=1e-08, l1=0.02)")):
        assert repr(Experiment(eta=0.01, optimizer=kind, l1=0.02).build_optimizer()) == made


def test_the_regularization_reads_from_the_two_rates():
    assert [Experiment(l1=a, weight_decay=b).regularization for a, b in ((0, 0), (0.1, 0), (0, 0.1), (0.1, 0.1))] \
        == ["None", "L1", "L2", "L1 + L2"]


def test_an_older_file_without_l1_opens_with_none():
    raw = json.loads(Experiment(weight_decay=0.01).to_json())
    del raw["l1"]
    e = Experiment.from_json(json.dumps(raw))
    assert (e.l1, e.weight_decay, e.regularization) == (0.0, 0.01, "L2")


@pytest.mark.parametrize("value", [math.nan, math.inf, -0.1, L1_MAX * 2, "0.1", True, None, [0.1]],
                         ids=lambda v: repr(v)[:12])
def test_a_hostile_l1_is_a_sentence(value):
    text = json.dumps({**json.loads(Experiment().to_json()), "l1": value})
    with pytest.raises(ValueError, match=r"the experiment's l1 must be a number from 0 to 10, got "):
        Experiment.from_json(text)


def test_a_file_keeps_l1_and_its_runs_say_it(tmp_path):
    s = small(epochs=3)
    assert s.run()
    s.edit(l1=0.05)
    assert s.optimizer is None  # a changed L1 starts the optimizer afresh, as weight decay does
    assert s.run()
    assert s.runs[-1].diff == "continues A, L1 0.05 (was 0)"
    assert s.schedule[-1][1]["l1"] == 0.05 and s.schedule[-1][1]["fresh"]
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path / "l1.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=metadata, extra_tensors=tensors)
    loaded = experiment_file.load(path)
    assert loaded.experiment.l1 == 0.05
    runs, schedule, _current = from_file(loaded.metadata, loaded.tensors)
    assert runs[-1].settings["l1"] == 0.05 and schedule[-1][1]["l1"] == 0.05


def test_a_file_whose_schedule_has_a_hostile_l1_is_refused(tmp_path):
    s = small(epochs=2, l1=0.01)
    assert s.run()
    metadata, tensors = to_file(s.runs, s.current_run, s.schedule)
    raw = json.loads(metadata["runs"])
    raw["schedule"][0][1]["l1"] = -1
    with pytest.raises(ValueError, match="the schedule of the current weights is damaged"):
        from_file({"runs": json.dumps(raw)}, tensors)


# -- L1 trains -----------------------------------------------------------------------------------
def test_l1_drives_weights_to_zero_and_changes_the_run():
    plain, lasso = small(epochs=40, eta=0.003), small(epochs=40, eta=0.003, l1=2.0)
    assert plain.run() and lasso.run()
    small_weights = [float((p.abs() < 1e-3).float().mean()) for p in (plain.model.parameters()[0],
                                                                        lasso.model.parameters()[0])]
    assert small_weights[1] > small_weights[0] + 0.1, small_weights
    assert plain.history.train[-1] != lasso.history.train[-1]


def test_the_playground_s_l1_is_minidl_s(tmp_path):
    """The same epochs trained by hand with minidl.SGD(l1=...) give the session's losses, bit for bit."""
    s = small(epochs=5, eta=0.01, l1=0.3)
    assert s.run()
    model = s.experiment.build_model()
    losses = model.train(s.data.X_train, s.data.y_train, 5, 10, minidl.SGD(0.01, l1=0.3), verbose_every_nth=5)
    assert np.array_equal(np.float32(losses), s.history.train)


# -- Export as Python ----------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["SGD + momentum", "Adam"])
def test_the_script_replays_l1_and_a_switch_to_l2(tmp_path, optimizer):
    s = small(epochs=15, eta=0.01, optimizer=optimizer, l1=0.2, dataset="Blobs", classes=3, blocks=THREE_CLASSES,
              loss="Cross-entropy", noise=0.1)
    assert s.run()
    s.edit(l1=0.0, weight_decay=0.01)
    assert s.run()
    text = script(s.run_settings(), s.schedule, s.history.epochs)
    assert "l1=0.2" in text and "weight_decay=0.01" in text
    printed = run_script(text, tmp_path)
    assert np.float32(float(printed["final train loss per point"])) == s.history.train[-1]


def test_a_script_without_l1_would_differ(tmp_path):
    """The replay above can fail: the same run exported as if l1 were 0 prints another loss."""
    s = small(epochs=15, eta=0.01, l1=0.5)
    assert s.run()
    settings = {**s.run_settings(), "l1": 0.0}
    schedule = [(first, {**values, "l1": 0.0}) for first, values in s.schedule]
    printed = run_script(script(settings, schedule, s.history.epochs), tmp_path)
    assert np.float32(float(printed["final train loss per point"])) != s.history.train[-1]


# -- the controls --------------------------------------------------------------------------------
def controls(window):
    return find(window, QComboBox, "regularizationCombo"), find(window, QDoubleSpinBox, "regularizationRateSpin")


def test_the_combo_and_rate_edit_l1_or_l2(window):
    e, (combo, rate) = window.session.experiment, controls(window)
    assert [combo.itemText(i) for i in range(combo.count())] == ["None", "L1", "L2"]
    assert combo.currentText() == "None" and not rate.isEnabled() and combo.toolTip() and rate.toolTip()
    combo.setCurrentText("L1")
    assert (e.l1, e.weight_decay) == (0.001, 0.0) and rate.isEnabled()
    rate.setValue(0.03)
    assert (e.l1, e.weight_decay) == (0.03, 0.0)
    combo.setCurrentText("L2")
    assert (e.l1, e.weight_decay) == (0.0, 0.03)
    assert repr(e.build_optimizer()) == "SGD(eta=0.001, weight_decay=0.03)"
    combo.setCurrentText("None")
    assert (e.l1, e.weight_decay) == (0.0, 0.0) and rate.value() == 0.03 and not rate.isEnabled()


def test_the_weight_decay_spin_still_sets_l2(window):
    combo, rate = controls(window)
    find(window, QDoubleSpinBox, "weightDecaySpin").setValue(0.002)
    assert window.session.experiment.weight_decay == 0.002 and (combo.currentText(), rate.value()) == ("L2", 0.002)


def test_an_experiment_with_both_rates_shows_them_and_keeps_them(window):
    combo, rate = controls(window)
    window.session.edit(l1=0.01, weight_decay=0.02)
    assert combo.currentText() == "L1 + L2" and not rate.isEnabled()
    combo.setCurrentText("L1 + L2")  # choosing it again changes nothing
    assert (window.session.experiment.l1, window.session.experiment.weight_decay) == (0.01, 0.02)
    combo.setCurrentText("L1")
    assert (window.session.experiment.l1, window.session.experiment.weight_decay) == (0.01, 0.0)
    assert [combo.itemText(i) for i in range(combo.count())] == ["None", "L1", "L2"]


def test_an_l2_rate_is_held_to_its_limit(window):
    combo, rate = controls(window)
    combo.setCurrentText("L1")
    rate.setValue(5.0)
    combo.setCurrentText("L2")
    assert window.session.experiment.weight_decay == 1.0 and rate.value() == 1.0


# -- discretized output --------------------------------------------------------------------------
def test_discretize_shows_the_predicted_class_in_flat_colours(window, qtbot):
    small_data(window)
    assert run_to_end(qtbot, window, epochs=20) == "completed"
    plot, check = window.boundary_plot, find(window, QCheckBox, "discretizeCheck")
    values = plot.current_image()
    assert not check.isChecked() and check.toolTip() and len(np.unique(values)) > 2
    check.setChecked(True)
    classes = plot.current_image()
    assert plot.discretized and np.array_equal(classes, (values > 0).astype(float))
    assert set(np.unique(classes)) == {0.0, 1.0}
    assert plot.class_map.isVisible() and not plot.heatmap.isVisible() and not plot.colour_bar.isVisible()
    colours = np.unique(plot.class_map.image)
    assert len(colours) == 2  # one flat colour a class, whatever the margin
    check.setChecked(False)
    assert np.array_equal(plot.current_image(), values) and plot.heatmap.isVisible()
    assert plot.current_classes() is None


def test_discretize_with_three_classes_and_a_unit(window, qtbot):
    small_data(window)
    window.session.edit(dataset="Blobs", classes=3, blocks=THREE_CLASSES, loss="Cross-entropy", eta=0.01)
    assert run_to_end(qtbot, window, epochs=10) == "completed"
    plot = window.boundary_plot
    shaded = np.unique(plot.class_map.image)
    classes = plot.current_classes()
    find(window, QCheckBox, "discretizeCheck").setChecked(True)
    assert np.array_equal(plot.current_classes(), classes)
    assert np.array_equal(plot.current_image(), classes.astype(float))
    assert len(np.unique(plot.class_map.image)) == len(np.unique(classes)) < len(shaded)
    image = np.zeros((5, 5))
    plot.show_unit(image, (0, 1, 0, 1), "unit")  # a unit's values are never discretized
    assert np.array_equal(plot.current_image(), image.T) and plot.current_classes() is None
    plot.show_output()
    assert np.array_equal(plot.current_image(), classes.astype(float))


def test_the_window_picture(window, qtbot, tmp_path):
    small_data(window)
    controls(window)[0].setCurrentText("L1")
    assert run_to_end(qtbot, window, epochs=30) == "completed"
    find(window, QCheckBox, "discretizeCheck").setChecked(True)
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 10_000


def test_the_runs_table_calls_weight_decay_l2_as_the_control_does():
    s = small(epochs=2)
    assert s.run()
    s.edit(weight_decay=0.01)
    assert s.run()
    assert s.runs[-1].diff == "continues A, L2 0.01 (was 0)"
