"""Issue 14 in the window: lessons, the speed slider, the banner, the palette and presenter mode."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import WAIT_MS, button, find
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QSlider, QTextBrowser

from gui.qt.classroom.presenter import FONT_PT, PEN_PX, POINT_PX
from gui.qt.plots import palette
from gui.qt.window.main_window import MainWindow

LESSONS = Path(__file__).resolve().parents[2] / "resources" / "lessons"


def finish(qtbot, window, start):
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as blocker:
        start()
    return blocker.args[0]


# -- lessons ----------------------------------------------------------------------------------
def test_a_lesson_steps_through_its_scenes(window):
    assert window.lesson is None and not find(window, QTextBrowser, "sceneNotes").isVisible()
    assert window.files.open_lesson(LESSONS / "step_size.json")
    lesson = window.lesson
    assert (lesson.title, len(lesson.scenes), lesson.index) == ("Step size", 4, 0)
    assert window.windowTitle().startswith("Scene 1 of 4: Too small — Step size")
    notes = find(window, QTextBrowser, "sceneNotes")
    assert notes.isVisible() and "100 times too small" in notes.toPlainText()
    assert "What to see: the training loss stays above 0.3" in notes.toPlainText()
    assert window.session.experiment.eta == 1e-5 and window.session.experiment.epochs == 300
    assert not button(window, "previousSceneButton").isEnabled()
    button(window, "nextSceneButton").click()
    assert lesson.index == 1 and window.session.experiment.eta == 1e-3
    assert window.windowTitle().startswith("Scene 2 of 4: Just right")
    assert lesson.next().title.startswith("Too large") and window.session.experiment.eta == 0.5  # the model API
    lesson.next()
    assert lesson.next() is None and lesson.index == 3
    assert window.session.experiment.blocks[-1]["type"] == "Linear"
    assert not button(window, "nextSceneButton").isEnabled()
    lesson.previous()
    assert lesson.index == 2 and window.windowTitle().startswith("Scene 3 of 4")
    assert lesson.scenes[3].expect == {"expect": "diverges"}


def test_the_shipped_lessons_are_in_the_file_menu(window):
    assert window.findChild(QAction, "openLessonAction") is not None
    window.findChild(QAction, "lessonAction_capacity").trigger()
    assert window.lesson.title == "Capacity on the spiral"
    assert window.session.experiment.dataset == "Spiral"


@pytest.mark.parametrize(("content", "words"), [
    ("{", ["not valid JSON"]),
    (json.dumps({"title": "L", "scenes": [{"title": "A"}, {"title": "B", "experiment": {"eta": -1}}]}),
     ["scene 2 ('B')", "eta"]),
    (json.dumps({"title": "L", "scenes": [{"title": "A", "colour": 1}]}), ["scene 1", "unknown field 'colour'"]),
    (json.dumps({"title": "L", "scenes": [{"title": "A"}] * 10_000}), ["10,000 scenes"]),
])
def test_a_bad_lesson_says_why_and_keeps_the_experiment(window, tmp_path, content, words):
    path = tmp_path / "bad.json"
    path.write_text(content)
    before = window.session.experiment.to_json()
    window.session.edit(eta=0.002)
    assert not window.files.open_lesson(path)
    title, text = window.files.last_error
    assert title == "Cannot open lesson" and "bad.json" in text and "unchanged" in text
    for word in words:
        assert word in text
    assert window.session.experiment.eta == 0.002 and window.lesson is None
    assert before != window.session.experiment.to_json()  # the edit is still there: nothing was replaced
    window.files.dialog.close()


# -- the banner --------------------------------------------------------------------------------
def test_a_diverging_scene_shows_a_banner_in_words_and_keeps_the_finite_curve(window, qtbot):
    window.files.open_lesson(LESSONS / "step_size.json")
    window.lesson.go(3)
    assert finish(qtbot, window, window.session.run) == "diverged"
    banner = window.classroom.banner
    assert banner.isVisible() and banner.kind == "diverged"
    assert banner.text().startswith("⚠ Diverged at epoch 6") and "smaller step size" in banner.text()
    train = window.session.history.train
    assert len(train) == 5 and np.isfinite(train).all() and train[-1] > 1e6  # the last finite epochs
    x, y = window.loss_plot.train_curve.getData()
    assert len(y) == 5 and np.isfinite(y).all()
    window.session.edit(eta=5e-5)
    assert not banner.isVisible()  # a change hides it; the next run starts afresh


def test_saturated_outputs_are_said_in_words(window, qtbot):
    window.files.open_lesson(LESSONS / "step_size.json")
    window.lesson.go(2)
    assert finish(qtbot, window, window.session.run) == "completed"
    banner = window.classroom.banner
    assert banner.isVisible() and banner.kind == "saturated"
    assert "the outputs are saturated: the network stopped learning" in banner.text().lower()
    assert "saturated" in window.last_message
    window.lesson.go(1)  # just right: no banner after training
    assert finish(qtbot, window, window.session.run) == "completed"
    assert not banner.isVisible()


# -- speed ------------------------------------------------------------------------------------
def test_the_speed_slider_and_set_speed(window, qtbot):
    slider = find(window, QSlider, "speedSlider")
    assert slider.value() == slider.maximum() and window.session.pace.epochs_per_second is None
    window.set_speed(20)
    assert window.session.pace.epochs_per_second == 20 and "20 epochs/s" in window.classroom.speed.value_label.text()
    slider.setValue(0)
    assert window.session.pace.epochs_per_second == 1 and "every batch" in window.classroom.speed.value_label.text()
    window.set_speed(None)
    assert slider.value() == slider.maximum() and window.session.pace.epochs_per_second is None
    window.session.edit(epochs=6)
    window.set_speed(20)
    progress = []
    window.session.events.connect("progress", progress.append)
    assert finish(qtbot, window, window.session.run) == "completed"
    assert [len(m.train_losses) for m in progress] == [1] * 6  # paced: every epoch shown on its own
    assert window.session.history.epochs == 6


def test_the_per_batch_loss_curve(window, qtbot):
    window.session.edit(epochs=3)
    find(window, type(window.classroom.speed.batch_check), "batchLossCheck").setChecked(True)
    assert finish(qtbot, window, window.session.run) == "completed"
    x, y = window.classroom.speed.curve.data()
    assert len(y) == 30  # 1,000 points in batches of 100, three epochs
    np.testing.assert_allclose(x[:3], [0.1, 0.2, 0.3])
    assert window.classroom.speed.curve.item.isVisible()
    # The batches of an epoch average to the epoch's loss (batches of equal size).
    np.testing.assert_allclose(y.reshape(3, 10).mean(1), window.session.history.train, rtol=1e-5)


# -- presenter mode ---------------------------------------------------------------------------
def visible_widgets(window):
    from PySide6.QtWidgets import QWidget
    return [w for w in window.findChildren(QWidget) if w.isVisible() and not w.isWindow()]


def test_presenter_mode_is_legible_locked_and_leaves_cleanly(window):
    action = window.findChild(QAction, "presenterAction")
    assert action.shortcut().toString() == "Ctrl+Shift+P"
    action.trigger()
    assert window.presenter_mode and window.isFullScreen()
    QApplication.processEvents()
    small = [(w.objectName() or type(w).__name__, w.font().pointSizeF()) for w in visible_widgets(window)
             if w.font().pointSizeF() < FONT_PT]
    assert not small, f"text below {FONT_PT} pt: {small[:5]}"
    for plot in (window.loss_plot, window.boundary_plot):
        for name in ("left", "bottom"):
            axis = plot.getPlotItem().getAxis(name)
            assert axis.style["tickFont"].pointSizeF() >= FONT_PT
            assert f"{FONT_PT}pt" in axis.labelStyle["font-size"]
    assert window.loss_plot.train_curve.opts["pen"].widthF() >= PEN_PX
    assert window.loss_plot.test_curve.opts["pen"].widthF() >= PEN_PX
    assert window.boundary_plot.train_points.opts["size"] >= POINT_PX >= 8
    assert window.boundary_plot.palette is palette.COLOUR_BLIND  # the default in presenter mode
    # Locked: only the listed controls respond, under a visible indicator.
    indicator = window.findChild(type(window.classroom.lock_bar.label), "lockIndicator")
    assert indicator.isVisible() and "locked" in indicator.text()
    assert not window.side_panel.isVisible()
    for name in ("resetButton", "resumeFromHereButton"):
        assert not button(window, name).isEnabled()
    assert not find(window, QSlider, "speedSlider").isEnabled()
    assert button(window, "runButton").isEnabled() and button(window, "stepButton").isEnabled()
    assert not window.files.new_action.isEnabled()
    window.findChild(QAction, "lockAction").trigger()  # Ctrl+Shift+L
    assert window.side_panel.isVisible() and find(window, QSlider, "speedSlider").isEnabled()
    assert "unlocked" in indicator.text()
    window.set_presenter_mode(False)
    assert not window.presenter_mode and not window.isFullScreen() and not action.isChecked()
    assert window.loss_plot.train_curve.opts["pen"].widthF() == 1  # the fast one-pixel pen again
    assert window.boundary_plot.palette is palette.STANDARD
    assert window.files.new_action.isEnabled() and button(window, "resetButton").isEnabled()
    assert window.side_panel.isVisible() and not indicator.isVisible()
    QApplication.processEvents()
    assert window.side_panel.width() > 200  # its room given back, not collapsed to nothing


def test_the_lock_survives_a_run(window, qtbot):
    window.session.edit(epochs=3)
    window.set_presenter_mode(True, full_screen=False)
    assert finish(qtbot, window, window.session.run) == "completed"
    assert not button(window, "resetButton").isEnabled()  # the window re-enabled it; the lock holds
    assert not window.files.new_action.isEnabled()
    window.set_presenter_mode(False)
    assert button(window, "resetButton").isEnabled() and window.files.new_action.isEnabled()


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window, key, modifier)


def test_the_keyboard_drives_presenter_mode(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    window.files.open_lesson(LESSONS / "step_size.json")
    window.set_presenter_mode(True, full_screen=False)
    press(qtbot, window, Qt.Key.Key_PageDown)
    assert window.lesson.index == 1
    press(qtbot, window, Qt.Key.Key_PageUp)
    assert window.lesson.index == 0
    press(qtbot, window, Qt.Key.Key_Right)  # one epoch, then paused
    qtbot.waitUntil(lambda: window.session.history.epochs == 1 and window.session.state == "paused", timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_Space)  # resume
    qtbot.waitUntil(lambda: window.session.history.epochs > 1, timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_Space)  # pause
    qtbot.waitUntil(lambda: window.session.state in ("paused", "finished"), timeout=WAIT_MS)
    press(qtbot, window, Qt.Key.Key_Home)
    assert window.session.seek_epoch == 0
    press(qtbot, window, Qt.Key.Key_End)
    assert window.session.seek_epoch is None
    before = window.session.last_batch_step()
    press(qtbot, window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)  # one mini-batch (issue 12's F8)
    qtbot.waitUntil(lambda: window.session.last_batch_step() not in (None, before), timeout=WAIT_MS)
    window.session.stop()
    press(qtbot, window, Qt.Key.Key_Escape)
    assert not window.presenter_mode
    press(qtbot, window, Qt.Key.Key_PageDown)  # the keys are presenter mode's only
    assert window.lesson.index == 0


def test_the_colour_blind_palette_is_an_option_everywhere_and_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    before = first.boundary_plot.heatmap.lut.copy() if first.boundary_plot.heatmap.lut is not None else None
    action = first.findChild(QAction, "colourBlindAction")
    assert not action.isChecked() and first.boundary_plot.palette is palette.STANDARD
    action.trigger()
    assert first.boundary_plot.palette is palette.COLOUR_BLIND
    assert "orange" in first.boundary_plot.toolTip() and "squares: class 1" in first.boundary_plot.toolTip()
    symbols = first.boundary_plot.train_points.data["symbol"]
    labels = first.session.data.labels_train.tolist()
    assert {s for s, c in zip(symbols, labels, strict=True) if c == 0} == {"o"}
    assert {s for s, c in zip(symbols, labels, strict=True) if c == 1} == {"s"}
    if before is not None:
        assert not np.array_equal(before, first.boundary_plot.heatmap.lut)
    first.close()
    second = MainWindow(settings=settings)
    qtbot.addWidget(second)
    assert second.findChild(QAction, "colourBlindAction").isChecked()
    assert second.boundary_plot.palette is palette.COLOUR_BLIND
    second.close()


def test_the_network_view_and_the_batch_step_follow_the_palette(window, qtbot):
    """Thumbnails, links, the batch step's matrices and its small boundary in the palette's colours."""
    from gui.qt.plots.plots import lookup_table_of

    window.session.edit(n_train=100, n_test=100, batch_size=10, epochs=3)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        window.step_batch_action.trigger()  # one traced batch, then the run pauses: stop it
        qtbot.waitUntil(lambda: window.session.last_batch_step() is not None, timeout=WAIT_MS)
        window.session.request_stop()
    network, batch = window.network_view, window.batch_step_view
    matrix = next(iter(batch.matrices.values()))
    window.classroom.colour_blind_action.trigger()
    blind = lookup_table_of(palette.COLOUR_BLIND)
    assert network.palette is palette.COLOUR_BLIND and batch.palette is palette.COLOUR_BLIND
    np.testing.assert_array_equal(network.lut, blind)
    np.testing.assert_array_equal(matrix.lut, blind)  # recoloured: the same numbers, another map
    orange = np.array([0xE6, 0x61, 0x01])
    assert np.abs(blind[-1].astype(int) - orange).sum() < 10  # its high end
    assert np.abs(batch.heatmap.lut[-1][:3].astype(int) - orange).sum() < 10  # the small boundary's map
    window.classroom.colour_blind_action.trigger()
    np.testing.assert_array_equal(network.lut, lookup_table_of(palette.STANDARD))


def test_the_heatmap_is_smooth_on_a_projector(window):
    assert not window.boundary_plot.heatmap.smooth
    window.set_presenter_mode(True, full_screen=False)
    assert window.boundary_plot.heatmap.smooth
    assert isinstance(window.boundary_plot.heatmap, pg.ImageItem)
    window.set_presenter_mode(False)


def test_at_one_epoch_a_second_every_batch_is_drawn(window, qtbot):
    window.session.edit(epochs=1)
    window.set_speed(1)
    frames = []
    window.session.events.connect("frame", frames.append)
    assert finish(qtbot, window, window.session.run) == "completed"
    assert len(frames) >= 10  # one per mini-batch (and the epoch's own)
    assert len({f.image.tobytes() for f in frames}) >= 10  # each batch's update changed the picture


def test_views_restyle_themselves_through_a_hook(window):
    from PySide6.QtWidgets import QWidget

    class NetworkView(QWidget):  # stands for a view another issue adds (issue 12's network view)
        calls: list = []

        def set_presenter_style(self, on):
            self.calls.append(on)

    view = NetworkView(window.centralWidget())
    window.set_presenter_mode(True, full_screen=False)
    window.set_presenter_mode(False)
    assert view.calls == [True, False]


def test_presenter_mode_gives_the_docks_room_to_the_plots_and_brings_them_back(window):
    from PySide6.QtWidgets import QDockWidget

    window.show()
    QApplication.processEvents()
    open_before = {d.objectName() for d in window.findChildren(QDockWidget) if d.isVisible()}
    assert {"runsDock", "networkDock", "inspectorDock"} <= open_before
    plot_area = window.boundary_plot.width() * window.boundary_plot.height()
    window.set_presenter_mode(True)
    QApplication.processEvents()
    assert not [d.objectName() for d in window.findChildren(QDockWidget) if d.isVisible()]
    assert window.boundary_plot.width() * window.boundary_plot.height() > plot_area
    window.set_presenter_mode(False)
    QApplication.processEvents()
    assert {d.objectName() for d in window.findChildren(QDockWidget) if d.isVisible()} == open_before


def test_presenter_mode_draws_the_network_views_links_wider(window):
    view = window.network_view
    assert view.link_scale == 1.0
    window.set_presenter_mode(True, full_screen=False)
    assert view.link_scale == 2.0
    window.network_dock.show()  # a teacher opens it from the View menu
    QApplication.processEvents()
    assert view.grab().width() > 0
    window.set_presenter_mode(False)
    assert view.link_scale == 1.0


def test_new_and_open_close_the_lesson(window, tmp_path):
    assert window.files.open_lesson(LESSONS / "step_size.json")
    assert window.lesson is not None and "Scene 1" in window.windowTitle()
    assert window.files.new()
    assert window.lesson is None and "Scene" not in window.windowTitle()
    assert window.files.open_lesson(LESSONS / "step_size.json")
    path = tmp_path / "kept.minidl"
    assert window.files.save_to(path)
    assert window.files.open(path)
    assert window.lesson is None and "Scene" not in window.windowTitle()
