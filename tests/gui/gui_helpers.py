"""Helpers shared by the GUI tests: widgets by objectName, short runs, and waiting for a pause."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication, QListWidget, QPushButton, QSpinBox

STARTED: list = []  # every QThread started during the current test (conftest records them)
_original_start = QThread.start


def recording_start(self, *args):
    STARTED.append(self)
    return _original_start(self, *args)


WAIT_MS = 30_000  # generous for a slow CI machine; every wait ends as soon as its condition holds
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def find(window, cls, name: str):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name!r}"
    return widget


def button(window, name: str) -> QPushButton:
    return find(window, QPushButton, name)


def layer_list(window) -> QListWidget:
    return find(window, QListWidget, "layerList")


def labels(window) -> list[list[str]]:
    """The layer list's rows, split into words: ``[["Linear", "2", "→", "25"], ["ReLU"], ...]``."""
    rows = layer_list(window)
    return [rows.item(i).text().split() for i in range(rows.count())]


def heatmap(window) -> np.ndarray:
    images = [i for i in find(window, pg.PlotWidget, "boundaryPlot").getPlotItem().items
              if isinstance(i, pg.ImageItem) and i.isVisible()]  # the K-class map hides for two classes
    assert len(images) == 1
    return np.array(images[0].image, copy=True)


def train_curve(window) -> np.ndarray:
    _, y = find(window, pg.PlotWidget, "lossPlot").getPlotItem().listDataItems()[0].getData()
    return np.asarray(y if y is not None else [], dtype=np.float64)


def small_data(window, n_train: int = 200, n_test: int = 200, batch: int = 20) -> None:
    """Fewer points (faster epochs): through the widgets, as a person would."""
    find(window, QSpinBox, "trainSizeSpin").setValue(n_train)
    find(window, QSpinBox, "testSizeSpin").setValue(n_test)
    find(window, QSpinBox, "batchSizeSpin").setValue(batch)


def set_epochs(window, epochs: int) -> None:
    find(window, QSpinBox, "epochsSpin").setValue(epochs)


def run_to_end(qtbot, window, epochs: int | None = None, timeout: int = WAIT_MS) -> str:
    """Click Run and wait for ``trainingFinished``; return its reason."""
    if epochs is not None:
        set_epochs(window, epochs)
    with qtbot.waitSignal(window.trainingFinished, timeout=timeout) as finished:
        button(window, "runButton").click()
    return finished.args[0]


def start_long_run(qtbot, window) -> None:
    """Start a run far too long to finish during a test, and wait for its first epoch."""
    set_epochs(window, 1_000_000)
    with qtbot.waitSignal(window.trainingStarted, timeout=WAIT_MS):
        button(window, "runButton").click()
    qtbot.waitUntil(lambda: window.session.history.epochs >= 1, timeout=WAIT_MS)


_pauses: dict[int, list] = {}


def observe_pauses(window) -> None:
    """Count the progress messages the training thread sends as it pauses (before it blocks)."""
    seen = _pauses.setdefault(id(window.session), [])
    seen.clear()
    window.session.events.connect("progress", lambda message: seen.append(message) if message.paused else None)


def wait_until_blocked(qtbot, window, times: int = 1) -> None:
    """Wait until the training thread has paused ``times`` times; its last epochs are then delivered
    (it sends them in the message that says it pauses, just before it blocks)."""
    seen = _pauses.get(id(window.session))
    assert seen is not None, "call observe_pauses(window) before the run starts"
    qtbot.waitUntil(lambda: len(seen) >= times and window.session.state == "paused", timeout=WAIT_MS)
    QApplication.processEvents()


class FakeClock:
    """A stand-in for the ``time`` module of gui.training.trainer and gui.model.pace (:meth:`install`):
    ``perf_counter()`` advances ``tick`` seconds at each reading, ``sleep(seconds)`` advances at once and
    is counted. A run then takes the same turns on any machine, however busy, and its waits are counted, not timed."""

    def __init__(self, tick: float = 0.0, on_sleep=None):
        import time

        self.now, self.tick, self.sleeps, self.slept = 0.0, tick, 0, 0.0
        self.on_sleep = on_sleep  # called with the clock after each sleep (to stop a run during a wait)
        self.thread_time = time.thread_time

    def perf_counter(self) -> float:
        self.now += self.tick
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        self.sleeps += 1
        if self.on_sleep is not None:
            self.on_sleep(self)

    def install(self, monkeypatch) -> FakeClock:
        from gui.model import pace
        from gui.training import trainer

        monkeypatch.setattr(trainer, "time", self)
        monkeypatch.setattr(pace, "time", self)
        return self
