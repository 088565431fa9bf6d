"""Work off the GUI thread: one QThread at a time, the newest request wins.

Used for what a wide network makes slow (drawing its initial weights, its boundary image): the
GUI thread never waits on it. A request made while another computes replaces any request still
waiting; its ``done`` callback runs on the GUI thread with the result.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot


class _Call(QObject):
    done = Signal(object)

    def __init__(self, work: Callable[[], object]):
        super().__init__()
        self.work = work

    @Slot()
    def run(self) -> None:
        self.done.emit(self.work())


class Background(QObject):
    """``submit(work, done)``: ``done(work())`` later, on this object's (the GUI) thread."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._call: _Call | None = None
        self._done: Callable | None = None
        self._waiting: tuple[Callable, Callable] | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def submit(self, work: Callable[[], object], done: Callable[[object], None]) -> None:
        self._waiting = (work, done)
        if not self.busy:
            self._start_next()

    def _start_next(self) -> None:
        (work, self._done), self._waiting = self._waiting, None
        self._thread, self._call = QThread(), _Call(work)
        self._call.moveToThread(self._thread)
        self._call.done.connect(self._finished)
        self._thread.started.connect(self._call.run)
        self._thread.start()

    @Slot(object)
    def _finished(self, result) -> None:
        done = self._done
        if done is None:
            return  # delivered after wait(): the window is closing
        self.wait()
        done(result)
        if self._waiting is not None and not self.busy:
            self._start_next()

    def wait(self) -> None:
        """Let the work in progress end (closing the window); a result not yet delivered is dropped."""
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread.started.disconnect(self._call.run)
            self._thread = self._call = self._done = None
