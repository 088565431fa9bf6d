"""``python -m gui`` / ``minidl-playground``: open the playground (or render a screenshot)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minidl-playground", description="The minidl playground: build "
                                     "and train small networks on 2-D problems by pointing and clicking.")
    parser.add_argument("file", nargs="?", help="an experiment file to open")
    parser.add_argument("--screenshot", metavar="FILE", help="render the window offscreen after training, "
                        "save it as a PNG and exit")
    parser.add_argument("--epochs", type=positive_int, help="epochs to train (with --screenshot; default: the "
                        "experiment's)")
    parser.add_argument("--quit-when-shown", action="store_true", help=argparse.SUPPRESS)  # start-up benchmark
    args = parser.parse_args(argv)
    if args.screenshot:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"

    from PySide6.QtWidgets import QApplication

    from gui.qt.window import errors, garbage
    from gui.qt.window.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    garbage.collect_on_gui_thread()
    app.setOrganizationName("minidl")
    app.setApplicationName("playground")
    window = MainWindow()
    errors.install(window)
    if args.file and not open_file(window, args.file):
        if args.screenshot:  # a picture of the default experiment would pass for a picture of the file
            print(f"no screenshot saved: {args.file} did not open", file=sys.stderr)
            window.close()
            return 1
    if args.screenshot:
        return screenshot(app, window, args.screenshot, args.epochs)
    window.show()
    if args.quit_when_shown:
        app.processEvents()
        print("shown", flush=True)
        return 0
    return app.exec()


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} epochs: train at least 1")
    return value


def open_file(window, path: str) -> bool:
    """Open ``path`` in ``window``; on failure print why on stderr (the window keeps its experiment)."""
    try:
        if window.files.open(path):
            return True
        reason = window.files.last_error[1] if window.files.last_error else f"Could not open {path}."
    except Exception as error:  # whatever the file did, say so here: not only in a dialog nobody may see
        reason = f"Could not open {Path(path).name}: {error or type(error).__name__}."
    print(f"error: {reason}", file=sys.stderr, flush=True)
    return False


def screenshot(app, window, path: str, epochs: int | None) -> int:
    from PySide6.QtCore import QEventLoop

    if epochs is not None:
        window.settings_panel.epochs_spin.setValue(epochs)
    window.resize(1400, 800)
    window.show()
    loop = QEventLoop()
    reasons = []
    window.trainingFinished.connect(lambda reason: (reasons.append(reason), loop.quit()))
    window.confirm_discard = lambda: True  # nothing to ask: the run exists only for the picture
    window.run()
    if window.session.running:
        loop.exec()
    app.processEvents()
    ok = window.grab().save(path, "PNG")
    print(f"{'saved' if ok else 'could not save'} {path} after {window.session.history.epochs} epochs "
          f"({reasons[0] if reasons else 'not run'}): {window.run_panel.metrics.text()}")
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
