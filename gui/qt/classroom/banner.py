"""The banner above the plots: a divergence, or saturated outputs, said in words (not only colour).

Shown when a run ends that way, hidden when the next run starts or the network changes; the loss
curve under it keeps the last finite epochs."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gui.model.lesson import SATURATION_SENTENCE, may_saturate, saturated
from gui.model.session import Session

# Outputs for the saturation test are computed on the GUI thread at the end of a run: only for
# networks where that is cheap (the report's: 1,000 points x 1,427 parameters).
SATURATION_LIMIT = 2e7


class PlotBanner(QLabel):
    """``kind`` is ``"diverged"``, ``"saturated"`` or None (hidden)."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent, objectName="plotBanner", wordWrap=True)
        self.session, self.kind = session, None
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setToolTip("Why the last run ended the way it did. It disappears when the next run starts.")
        self.setStyleSheet("QLabel#plotBanner { background: #fff4d6; color: #3d2600; border: 2px solid #b45309;"
                           " border-radius: 4px; padding: 6px; font-weight: bold; }")
        self.setVisible(False)
        events = session.events
        events.connect("finished", self._finished)
        for name in ("started", "model", "experiment"):
            events.connect(name, lambda *_: self.show_notice(None, ""))

    def show_notice(self, kind: str | None, text: str) -> None:
        self.kind = kind
        self.setText(text)
        self.setAccessibleName(text or "No notice")
        self.setVisible(kind is not None)

    def _finished(self, reason: str, text: str) -> None:
        if reason == "diverged":
            # The status bar has the whole sentence; the banner, what a class must read at a glance.
            first, _, rest = text.partition(". ")
            shown = rest.split(". ")[0] if rest.startswith("The plots show") else ""
            first = first.replace("Training diverged", "⚠ Diverged", 1)
            self.show_notice("diverged", f"{first}. {shown + '. ' if shown else ''}Try a smaller step size.")
        elif reason in ("completed", "stopped") and self._saturated():
            self.show_notice("saturated", SATURATION_SENTENCE)
            self.session.events.emit("status", SATURATION_SENTENCE)

    def _saturated(self) -> bool:
        s = self.session
        if not s.has_model or s.data is None or not may_saturate(s.experiment.blocks, s.history.train):
            return False  # most runs end here, without a pass over the data on the GUI thread
        size = sum(p.numel() for p in s.model.parameters()) * s.data.X_train.shape[0]
        if size > SATURATION_LIMIT:
            return False
        with torch.inference_mode():
            outputs = s.model.predict(s.data.X_train)
        return saturated(s.experiment.blocks, outputs, s.history.train, s.data.y_train if s.data.regression else None)
