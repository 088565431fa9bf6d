"""The classroom screen: the plots are the stage, the side panel shows one inside view at a time.

Measured on the window by its documented names at 1366x768 and 1024x768, in normal and presenter
mode, after a batch step, a scene change and leaving presenter mode: the boundary plot keeps its
minimum, the view shown is legible (thumbnails, every Linear layer in the inspector, the runs'
main columns), and nothing is cut or drawn over another. Each state is saved as a picture (into
``LAYOUT_SHOTS`` where set) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication
from test_window_fits import fit_problems

from gui.qt.inside import inside_docks

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "resources" / "lessons" / "step_size.json"
SIZES = [(1366, 768), (1024, 768)]
MINIMUM = {1366: (420, 300), 1024: (340, 260)}  # the boundary plot's, at each width
WAIT_MS = 60_000
VIEWS = ("network_dock", "inspector_dock", "batch_step_dock", "runs_dock", "hidden_space_dock", "sweep_dock")


def settle(qtbot) -> None:
    qtbot.wait(30)
    QApplication.processEvents()


def shoot(window, name: str, tmp_path) -> None:
    folder = Path(os.environ.get("LAYOUT_SHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(folder / f"{name}.png"))


def boundary_fits(window, width: int) -> tuple[int, int]:
    low_w, low_h = MINIMUM[width]
    size = window.boundary_plot.size().toTuple()
    assert size[0] >= low_w and size[1] >= low_h, f"the boundary plot is {size}, below {low_w}x{low_h}"
    return size


def nothing_cut(window) -> None:
    problems = fit_problems(window)
    assert not problems, "\n".join(problems)
    view = window.network_view
    if inside_docks.shown_view(window) is window.network_dock:
        texts = view.drawn_texts()
        for k, (text, rect) in enumerate(texts):
            assert rect.left() >= 0 and rect.right() <= view.width(), f"{text!r} cut at the view's edge"
            for other, other_rect in texts[k + 1:]:
                assert not rect.intersects(other_rect), f"{text!r} drawn over {other!r}"


def legible(window, dock) -> None:
    """The view of ``dock``, raised in the side panel, reads without scrolling."""
    if dock is window.network_dock:
        assert window.network_view.thumbnail_size >= 16, window.network_view.thumbnail_size
    elif dock is window.inspector_dock:
        table = window.inspector.table
        linear = sum(1 for block in window.session.experiment.blocks if block["type"] == "Linear")
        assert table.rowCount() == linear == 4
        assert not table.verticalScrollBar().isVisible(), "the inspector table scrolls"
        shown = [r for r in range(table.rowCount()) if table.visualRect(table.model().index(r, 0)).bottom()
                 <= table.viewport().height()]
        assert len(shown) == linear, f"{len(shown)} of {linear} Linear layers shown"
    elif dock is window.runs_dock:
        table = window.runs_panel.table
        assert table.rowCount() >= 2
        assert not table.horizontalScrollBar().isVisible(), "the runs table scrolls sideways"
        for column in (0, 1, 3, 6):  # run, what differs, train loss, test error
            assert not table.isColumnHidden(column)
            if column != 1:  # what differs is elided where narrow; the others show their numbers whole
                assert table.columnWidth(column) >= table.sizeHintForColumn(column) - 1
        right = max(table.columnViewportPosition(c) + table.columnWidth(c) for c in range(table.columnCount())
                    if not table.isColumnHidden(c))
        assert right <= table.viewport().width() + 1


def every_view(window, qtbot, tmp_path, tag: str, width: int) -> None:
    for name in VIEWS:
        dock = getattr(window, name)
        window.view_actions[name].trigger()
        settle(qtbot)
        if window.presenter_mode and inside_docks.shown_view(window) is None:
            # No room beside the plots at this size: a sentence says so, the plots keep the stage.
            assert "No room" in window.last_message
            boundary_fits(window, width)
            continue
        assert inside_docks.shown_view(window) is dock
        boundary_fits(window, width)
        legible(window, dock)
        nothing_cut(window)
        shoot(window, f"{tag}-{name.removesuffix('_dock')}", tmp_path)


def two_runs(qtbot, window) -> None:
    s = window.session
    s.edit(epochs=3)
    for eta in (1e-3, 2e-3):
        s.edit(eta=eta)
        with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
            s.run()


def test_the_side_panel_is_one_view_at_a_time_right_of_the_plots(window, qtbot):
    from PySide6.QtCore import Qt

    docks = inside_docks.docks(window)
    assert [d.objectName() for d in docks] == ["networkDock", "inspectorDock", "batchStepDock", "runsDock",
                                                 "hiddenSpaceDock", "sweepDock"]
    assert all(window.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea for d in docks)
    assert set(window.tabifiedDockWidgets(window.network_dock)) == set(docks[1:])
    assert inside_docks.shown_view(window) is window.network_dock
    keys = {window.findChild(QAction, name).shortcut().toString() for name in
            ("showNetworkAction", "showInspectorAction", "showBatchStepAction", "showRunsAction",
             "showHiddenSpaceAction", "showSweepAction")}
    assert keys == {"Ctrl+1", "Ctrl+2", "Ctrl+3", "Ctrl+4", "Ctrl+5", "Ctrl+6"}
    assert all(window.findChild(QAction, name).toolTip() for name in ("showRunsAction", "sidePanelAction"))
    window.findChild(QAction, "showInspectorAction").trigger()
    assert inside_docks.shown_view(window) is window.inspector_dock
    panel = window.findChild(QAction, "sidePanelAction")
    panel.trigger()  # hides the whole panel
    settle(qtbot)
    assert inside_docks.shown_view(window) is None and not panel.isChecked()
    wide = window.boundary_plot.width()
    panel.trigger()  # back, with the view shown last
    settle(qtbot)
    assert inside_docks.shown_view(window) is window.inspector_dock and panel.isChecked()
    assert window.boundary_plot.width() < wide  # the panel took its room; hidden, the plots had it


def test_f8_raises_the_batch_step_view(window, qtbot):
    window.findChild(QAction, "showRunsAction").trigger()
    window.step_batch_action.trigger()  # F8
    qtbot.waitUntil(lambda: window.session.last_batch_step() is not None, timeout=WAIT_MS)
    assert inside_docks.shown_view(window) is window.batch_step_dock
    window.session.stop()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_classroom_screen_holds_every_view(window, qtbot, tmp_path, size):
    width = size[0]
    window.resize(*size)
    two_runs(qtbot, window)
    settle(qtbot)
    assert window.size().toTuple() == size
    # Normal mode: every view in turn, the plots keep their minimum.
    every_view(window, qtbot, tmp_path, f"{width}-normal", width)
    window.view_actions["network_dock"].trigger()
    settle(qtbot)
    before = boundary_fits(window, width)

    # Presenter mode: the panel hidden, the stage whole; a batch step never squeezes the boundary.
    window.set_presenter_mode(True, full_screen=False)
    window.resize(*size)
    settle(qtbot)
    assert inside_docks.shown_view(window) is None
    stage = boundary_fits(window, width)
    nothing_cut(window)
    shoot(window, f"{width}-presenter", tmp_path)
    window.classroom.step_batch()  # Shift+Right
    qtbot.waitUntil(lambda: window.session.last_batch_step() is not None, timeout=WAIT_MS)
    settle(qtbot)
    boundary_fits(window, width)
    assert window.size().toTuple() == size
    if inside_docks.shown_view(window) is None:
        assert "its loss went from" in window.last_message  # the step in words, the plots keep the stage
    else:
        assert inside_docks.shown_view(window) is window.batch_step_dock
    nothing_cut(window)
    shoot(window, f"{width}-presenter-batch-step", tmp_path)
    window.session.stop()
    every_view(window, qtbot, tmp_path, f"{width}-presenter", width)

    # A scene change gives the next scene the whole stage again.
    assert window.files.open_lesson(LESSON)
    assert window.classroom.next()
    settle(qtbot)
    assert inside_docks.shown_view(window) is None
    scene = boundary_fits(window, width)
    assert scene[1] >= 0.9 * stage[1]
    nothing_cut(window)
    shoot(window, f"{width}-presenter-scene-2", tmp_path)
    window.classroom.step_batch()
    qtbot.waitUntil(lambda: window.session.last_batch_step() is not None, timeout=WAIT_MS)
    settle(qtbot)
    boundary_fits(window, width)
    nothing_cut(window)
    shoot(window, f"{width}-presenter-scene-2-batch-step", tmp_path)
    window.session.stop()
    assert window.classroom.next()
    settle(qtbot)
    boundary_fits(window, width)

    # Leaving presenter mode gives back the panel as it was, and the plots their size.
    window.classroom.close_lesson()
    window.set_presenter_mode(False)
    settle(qtbot)
    assert window.size().toTuple() == size
    assert inside_docks.shown_view(window) is window.network_dock
    after = boundary_fits(window, width)
    assert abs(after[0] - before[0]) <= 0.1 * before[0] and abs(after[1] - before[1]) <= 0.1 * before[1], \
        (before, after)
    nothing_cut(window)
    shoot(window, f"{width}-normal-after-presenter", tmp_path)


def test_the_network_views_words_are_short_where_its_columns_stand_close(window, qtbot):
    window.session.edit(epochs=1)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        window.session.run()
    view = window.network_view
    view.setFixedSize(230, 500)
    settle(qtbot)
    view.grab()
    texts = view.drawn_texts()
    assert texts and any(text.startswith("+9") for text, _ in texts)
    for k, (text, rect) in enumerate(texts):
        assert 0 <= rect.left() and rect.right() <= view.width(), text
        assert not any(rect.intersects(other) for _, other in texts[k + 1:]), text
    assert view.thumbnail_size >= 16


def test_the_epoch_ticks_leave_room_for_their_labels_at_presenter_size(window):
    from PySide6.QtGui import QFont, QFontMetrics

    from gui.qt.classroom.presenter import FONT_PT

    axis = window.loss_plot.getPlotItem().getAxis("bottom")
    window.set_presenter_mode(True, full_screen=False)
    font = QFont(QApplication.font())
    font.setPointSizeF(FONT_PT)
    assert axis.style["tickFont"].pointSizeF() == FONT_PT
    for end, pixels in ((300, 160), (300, 240), (1000, 200), (10, 150)):
        major = axis.tickSpacing(0, end, pixels)[0][0]
        label = QFontMetrics(font).horizontalAdvance(f"{end:,}")
        assert major * pixels / end >= label, (end, pixels, major)  # "100" never runs into "200"
    window.set_presenter_mode(False)


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
def test_the_progress_text_is_whole_at_any_width(window, qtbot, presenter):
    bar = window.run_panel.progress
    window.set_presenter_mode(presenter, full_screen=False)
    window.resize(1024, 768)
    settle(qtbot)
    bar.setRange(0, 300)
    bar.setValue(56)
    texts = set()
    for width in (bar.minimumSizeHint().width(), 90, 140, 400):
        bar.setFixedWidth(max(width, bar.minimumSizeHint().width()))
        texts.add(bar.text())
        assert bar.fontMetrics().horizontalAdvance(bar.text()) <= bar.width() - 8, (bar.text(), bar.width())
    assert "epoch 56 of 300" in texts and "56" in texts  # the longest where it fits, the number always
    window.set_presenter_mode(False)
