"""The window fits a projector and a laptop: nothing cut off at 1024x768, 1366x768 and 1920x1080, in
normal and presenter mode; every control has an accessible name and a tooltip; the tab order follows
the layout. Generic over all widgets, so views added later are checked too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QTabBar,
    QWidget,
)

from gui.qt.window import accessibility

ROOT = Path(__file__).resolve().parents[2]
SIZES = [(1024, 768), (1366, 768), (1920, 1080)]
SIZED = (QAbstractButton, QAbstractSpinBox, QComboBox, QLabel, QProgressBar)


def scrolled(widget: QWidget) -> bool:
    """Inside a scroll area's viewport: it may lie outside the visible part, the scroll area shows it."""
    parent = widget.parentWidget()
    while parent is not None:
        grand = parent.parentWidget()
        if isinstance(grand, QAbstractScrollArea) and parent is grand.viewport():
            return True
        parent = grand
    return False


def behind_a_tab(widget: QWidget) -> bool:
    """In a dock of the side panel whose tab is not the one in front, or the tabs of a hidden panel: Qt keeps
    them visible, off screen."""
    if isinstance(widget, QTabBar) and isinstance(widget.parentWidget(), QMainWindow):
        return widget.visibleRegion().isEmpty()
    while widget is not None:
        if isinstance(widget, QDockWidget):
            return widget.visibleRegion().isEmpty()
        widget = widget.parentWidget()
    return False


def fit_problems(window) -> list[str]:
    problems = []
    inside = window.rect().adjusted(-1, -1, 1, 1)
    for w in window.findChildren(QWidget):
        if w.isWindow() or not w.isVisible() or scrolled(w) or behind_a_tab(w):
            continue
        name = f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r:.40}"
        rect = QRect(w.mapTo(window, QPoint(0, 0)), w.size())
        if not inside.contains(rect):
            problems.append(f"{name} at {rect.getRect()} leaves the window {window.size().toTuple()}")
            continue
        parent = w.parentWidget()
        if parent is not None and parent is not window:
            home = QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()).adjusted(-1, -1, 1, 1)
            if not home.contains(rect):
                problems.append(f"{name} is cut off by its parent {type(parent).__name__} {parent.objectName()!r}")
        if isinstance(w, SIZED):
            need = w.minimumSizeHint()
            if isinstance(w, QLabel) and w.wordWrap():
                if w.text() and w.height() < w.heightForWidth(w.width()) - 1:
                    problems.append(f"{name}: wrapped text needs {w.heightForWidth(w.width())} px, has {w.height()}")
            elif w.width() < need.width() - 1 or w.height() < need.height() - 1:
                problems.append(f"{name} is squeezed: {w.size().toTuple()} < {need.toTuple()} (text cut)")
    return problems


def crowded(window) -> None:
    """The most crowded screen: a lesson open and a two-line banner over the plots."""
    window.files.open_lesson(ROOT / "resources" / "lessons" / "step_size.json")
    window.classroom.banner.show_notice("diverged", "⚠ Diverged at epoch 6: the loss became infinite. The plots "
                                        "show the last finite state (epoch 5). Try a smaller step size.")


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_is_cut_off(window, qtbot, size, presenter):
    crowded(window)
    window.set_presenter_mode(presenter, full_screen=False)
    window.resize(*size)
    qtbot.wait(20)
    QApplication.processEvents()
    assert window.size() == QSize(*size), "the window needs more room than the screen has"
    problems = fit_problems(window)
    assert not problems, "\n".join(problems)
    window.grab().save(str(Path(os.environ.get("FIT_RENDERS", window.settings.fileName())).parent /
                           f"fit-{size[0]}x{size[1]}-{'presenter' if presenter else 'normal'}.png"))
    window.set_presenter_mode(False)


def test_the_minimum_size_fits_a_small_screen(window):
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    assert minimum.width() <= 1000 and minimum.height() <= 700, minimum


def test_every_control_has_an_accessible_name_and_a_tooltip(window):
    crowded(window)
    window.update_tab_order()
    controls = accessibility.reading_order(window)
    assert len(controls) > 25
    missing = [f"{type(c).__name__} {c.objectName()!r}" for c in controls
               if not c.accessibleName().strip() or not c.toolTip().strip()]
    assert not missing, missing


def test_the_tab_order_follows_the_layout(window):
    crowded(window)
    window.update_tab_order()
    order = [w for w in accessibility.reading_order(window) if w.focusPolicy() & w.focusPolicy().TabFocus]
    chain, widget = [], order[0]
    members = set(order)
    for _ in range(10 * len(order)):
        if widget in members and widget not in chain:
            chain.append(widget)
        widget = widget.nextInFocusChain()
        if widget is order[0]:
            break
    assert [w.objectName() for w in chain] == [w.objectName() for w in order]
    names = [w.objectName() for w in order]
    # Reading order: the side panel top to bottom, then the run controls, the plots' and the timeline's.
    assert names.index("layerList") < names.index("etaSpin") < names.index("datasetCombo") < names.index("runButton")
    assert names.index("runButton") < names.index("pauseButton") < names.index("stepButton")
    assert names.index("stepButton") < names.index("speedSlider") < names.index("timelineSlider")
    assert names.index("previousSceneButton") < names.index("nextSceneButton") < names.index("timelineSlider")


def test_twice_the_pixels_scale_sensibly(tmp_path):
    """At a device pixel ratio of 2 the window keeps its logical layout: fits 1024x768, twice the pixels."""
    probe = (
        "from PySide6.QtWidgets import QApplication\n"
        "from PySide6.QtCore import QSettings\n"
        "app = QApplication([])\n"
        "from gui.qt.window.main_window import MainWindow\n"
        f"w = MainWindow(settings=QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat))\n"
        "w.show(); w.resize(1024, 768); app.processEvents()\n"
        "image = w.grab()\n"
        f"image.save({str(tmp_path / 'dpi2.png')!r})\n"
        "m = w.minimumSizeHint()\n"
        "print(w.devicePixelRatio(), image.width(), image.height(), w.width(), w.height(), m.width(), m.height())\n"
        "w.close()\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    ratio, image_w, image_h, w, h, min_w, min_h = map(float, done.stdout.split()[-7:])
    assert ratio == 2 and (image_w, image_h) == (2048, 1536) and (w, h) == (1024, 768)
    assert min_w <= 1000 and min_h <= 700


def test_the_fit_check_finds_a_cut_off_control(window, qtbot):
    """The check above can fail: a button squeezed below its text, and one pushed off the window."""
    from PySide6.QtWidgets import QPushButton
    squeezed = QPushButton("A long caption that cannot fit", window.run_panel, objectName="squeezedButton")
    squeezed.setGeometry(0, 0, 30, 20)
    squeezed.show()
    outside = QPushButton("Off", window.centralWidget(), objectName="outsideButton")
    outside.move(window.width() + 50, 10)
    outside.show()
    problems = "\n".join(fit_problems(window))
    assert "squeezedButton" in problems and "squeezed" in problems
    assert "outsideButton" in problems and "leaves the window" in problems
