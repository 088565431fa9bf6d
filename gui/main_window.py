"""``gui.main_window.MainWindow``, the name the README documents for automation; the window lives in
:mod:`gui.qt.window.main_window`."""

from gui.qt.window.main_window import MainWindow

__all__ = ["MainWindow"]
