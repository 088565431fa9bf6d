"""Reads a sweep's workers from the event loop: the Qt side of :class:`gui.model.sweeper.Sweeper`.

While a sweep is live a timer calls :meth:`Sweeper.pump <gui.model.sweeper.Sweeper.pump>` every
``INTERVAL_MS`` without waiting (a sweep's runs send a few small messages a second each, no frames), so
the window stays responsive and the next variant starts within that interval of a worker coming free.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 20


class SweepPump(QObject):
    """Pumps ``session``'s sweep while it is live; started by the sweep's first progress, stopped at its end."""

    def __init__(self, session, parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.timer = QTimer(self, interval=INTERVAL_MS)
        self.timer.timeout.connect(self._pump)
        session.events.connect("sweep_progress", self._progress)
        session.events.connect("sweep", self.timer.stop)

    def _progress(self, done: int, total: int, _left) -> None:
        if self.session.sweeper.live and not self.timer.isActive():
            self.timer.start()

    def _pump(self) -> None:
        if self.session.sweeper.live:
            self.session.sweeper.pump(0.0)
        else:
            self.timer.stop()
