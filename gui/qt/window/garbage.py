"""Python's cycle collector, run on the GUI thread only (pyqtgraph's ``GarbageCollector``).

Left automatic, the collector runs in whichever thread allocates past its threshold. In a training
thread it may destroy a discarded window's widgets there, and Qt then waits for the GUI thread while
the GUI thread waits for it. The test suite hung that way once: a training thread, inside
``Sequential.parameters``, collecting an earlier test's window while the GUI thread deleted widgets.
pyqtgraph's answer is this one: automatic collection off, and a timer on the GUI thread that
collects each generation once it passes its usual threshold.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 1.0
_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> None:
    """Call once, on the GUI thread, with a QApplication: from then on only its timer collects cycles."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)
