"""Helpers shared by the GUI tests: widgets by objectName, short runs, and waiting for a pause."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QApplication, QListWidget, QPushButton, QSpinBox

import minidl

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
    images = [i for i in find(window, pg.PlotWidget, "boundaryPlot").getPlotItem().items if isinstance(i, pg.ImageItem)]
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
    qtbot.waitUntil(lambda: window.history.epochs >= 1, timeout=WAIT_MS)


class ObservedControl(minidl.TrainingControl):
    """A TrainingControl that counts how often the training thread has blocked on a pause.

    ``on_wait`` runs in the training thread just before it blocks (the worker sends its
    last epochs there), so once ``blocked`` grows those messages are already queued.
    """

    def __init__(self, *args, **kwargs):
        self.blocked = 0
        self._on_wait = None
        super().__init__(*args, **kwargs)

    @property
    def on_wait(self):
        if self._on_wait is None:
            return None

        def flush_then_count():
            self._on_wait()
            self.blocked += 1
        return flush_then_count

    @on_wait.setter
    def on_wait(self, callback) -> None:
        self._on_wait = callback


def observe_pauses(monkeypatch) -> None:
    monkeypatch.setattr(minidl, "TrainingControl", ObservedControl)


def wait_until_blocked(qtbot, window, times: int = 1) -> None:
    """Wait until the training thread has blocked on a pause ``times`` times, then deliver its messages."""
    control = window._control
    assert isinstance(control, ObservedControl), "call observe_pauses(monkeypatch) before the run starts"
    qtbot.waitUntil(lambda: control.blocked >= times, timeout=WAIT_MS)
    QApplication.processEvents()
