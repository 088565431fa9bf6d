"""Guards against a Qt binding that corrupts reference counts (PySide6 6.12.0 did: a long
training run emitted enough signals to free ``True`` and crash the interpreter)."""

import sys

import pytest
from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    progress = Signal(dict)
    done = Signal()

    def receive(self, *args):
        self.senders = self.sender()


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="True and None are immortal from Python 3.12 (PEP 683): "
                    "their reference counts never change, so this guard could not fail there")
def test_signal_emit_and_sender_keep_reference_counts(qtbot):
    source, sink = Emitter(), Emitter()
    source.progress.connect(sink.receive)
    source.done.connect(sink.receive)
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(500):
        source.progress.emit({"epoch": 1, "test_loss": None})
        source.done.emit()
        sink.sender()  # None outside a slot
    after = sys.getrefcount(True), sys.getrefcount(None)
    assert abs(after[0] - before[0]) < 50, "Signal.emit leaks or steals references to True"
    assert abs(after[1] - before[1]) < 50, "QObject.sender() steals references to None"
