"""The session's events, declared in one place (Qt-free): views subscribe with ``connect`` and never
poll; a name that is not declared fails at once instead of never firing."""

from __future__ import annotations

from collections.abc import Callable

# Every event a session emits, and what it passes: declared here, so that a misspelt name fails at once.
EVENTS = {
    "experiment": "(): the settings changed or were replaced",
    "model": "(): new weights or history: redraw everything",
    "progress": "(Progress): epochs trained, with their losses, snapshots and metrics",
    "frame": "(Frame): a boundary image (and the units' images) of a live run",
    "batches": "(BatchLosses): mini-batch losses, for the per-batch curve",
    "batch": "(BatchStep): the numbers of a batch step",
    "state": "(str): idle, running, paused, stopping or finished",
    "started": "(): a run started",
    "finished": "(reason, text): a run ended",
    "status": "(text): a sentence for the status bar",
    "seek": "(epoch or None): the timeline shows another epoch (None: the head)",
    "modified": "(bool): the experiment has unsaved changes, or not",
    "sweep": "(): a sweep ended (finished or stopped), came from a file or was forgotten (sweep_definition())",
    "sweep_progress": "(done, total, seconds left or None): a sweep's run ended (0 done: it started)",
    "runs": "(): a run was kept, ended, deleted or brought back, or the runs ticked for comparison changed",
}


class Events:
    """A small observer: ``connect(name, callback)``, ``emit(name, *args)``, for the names of :data:`EVENTS`."""

    def __init__(self):
        self._callbacks: dict[str, list[Callable]] = {name: [] for name in EVENTS}

    def _listeners(self, name: str) -> list[Callable]:
        if name not in self._callbacks:
            raise ValueError(f"a session has no event {name!r}; its events are {', '.join(EVENTS)}")
        return self._callbacks[name]

    def connect(self, name: str, callback: Callable) -> None:
        self._listeners(name).append(callback)

    def emit(self, name: str, *args) -> None:
        for callback in list(self._listeners(name)):
            callback(*args)
