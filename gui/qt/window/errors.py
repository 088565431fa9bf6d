"""Uncaught exceptions: logged, shown in a dialog whose details can be copied, and the run stopped."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QStandardPaths

log = logging.getLogger("gui")


def log_file() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation) or ".")
    return folder / "playground.log"


def install(window) -> None:
    """Route every uncaught exception (Qt slots included) to ``report(window, ...)``."""
    try:
        path = log_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    sys.excepthook = lambda kind, error, tb: report(window, kind, error, tb)


def report(window, kind, error, tb) -> None:
    """Log the exception, stop any run, and tell the user in a non-blocking dialog."""
    details = "".join(traceback.format_exception(kind, error, tb))
    log.error("uncaught exception\n%s", details)
    print(details, file=sys.stderr)  # also where a terminal or a CI log can see it
    stopped = ""
    try:
        if window.session.running:
            window.session.stop()
            stopped = " Training was stopped;"
    except Exception:  # the dialog matters more than a second failure here
        log.exception("could not stop the run after an uncaught exception")
    window.files.show_error(
        "Unexpected error",
        f"Something went wrong: {error}.{stopped} Your experiment is still open, so you can "
        f"save it (File › Save As). Click “Show Details…” to copy the technical details into a bug report "
        f"(they are also in {log_file()}).", details)
