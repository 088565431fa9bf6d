"""GUI test fixtures: isolated settings, a window with the report's experiment, no dangling threads."""

from __future__ import annotations

import pytest
from gui_helpers import STARTED, recording_start
from PySide6.QtCore import QSettings, QThread

from gui.qt.window import garbage
from gui.qt.window.main_window import MainWindow

_original_start = QThread.start


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves a QThread running (napari's conftest: the cause of segfaults)."""
    QThread.start = recording_start
    STARTED.clear()
    yield
    QThread.start = _original_start
    running = []
    for thread in STARTED:
        try:
            alive = thread.isRunning()
        except RuntimeError:  # the C++ object is gone: it finished and was deleted
            continue
        if alive:
            running.append(thread)
            thread.quit()
            thread.wait(5000)
    STARTED.clear()
    assert not running, f"{len(running)} QThread(s) left running by this test"


@pytest.fixture(autouse=True, scope="session")
def garbage_collected_on_the_gui_thread(qapp):
    """As the application does (gui/qt/window/garbage.py): a collection in a training thread could destroy an
    earlier test's window there, and Qt deadlocks."""
    garbage.collect_on_gui_thread()


@pytest.fixture(autouse=True, scope="session")
def isolated_settings(tmp_path_factory):
    """Keep QSettings (geometry, last folder) out of the real user's configuration."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win.confirm_discard = lambda: True  # no modal "Save changes?" in automated tests
    qtbot.addWidget(win)
    win.show()
    return win
