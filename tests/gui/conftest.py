"""GUI test fixtures: isolated settings, a window with the report's experiment, no dangling threads."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThread

from gui.main_window import MainWindow

_started: list[QThread] = []
_original_start = QThread.start


def _recording_start(self, *args):
    _started.append(self)
    return _original_start(self, *args)


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves a QThread running (napari's conftest: the cause of segfaults)."""
    QThread.start = _recording_start
    _started.clear()
    yield
    QThread.start = _original_start
    running = []
    for thread in _started:
        try:
            alive = thread.isRunning()
        except RuntimeError:  # the C++ object is gone: it finished and was deleted
            continue
        if alive:
            running.append(thread)
            thread.quit()
            thread.wait(5000)
    _started.clear()
    assert not running, f"{len(running)} QThread(s) left running by this test"


@pytest.fixture(autouse=True, scope="session")
def isolated_settings(tmp_path_factory):
    """Keep QSettings (geometry, last folder) out of the real user's configuration."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))


@pytest.fixture
def window(qtbot, tmp_path):
    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(win)
    win.show()
    return win
