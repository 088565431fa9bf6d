"""The input features: one check box per feature (``featureCheck_x1`` ... ``featureCheck_sinx2``), a
thin view of the experiment's ``features``.

A toggle goes down as ``session.edit(features=[...])`` in :data:`FEATURE_NAMES` order; the
``experiment`` event brings the boxes back in step. Unticking the last one is allowed: the
experiment's validation then stops Run and says to tick one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from gui.model import features
from gui.model.experiment import FEATURE_NAMES
from gui.model.session import Session
from minidl.data import input_width

COLUMNS = 4  # two rows: x₁ x₂ x₁² x₂² / x₁x₂ sin x₁ sin x₂


class FeaturesPanel(QWidget):
    """``featuresPanel``: the check boxes in a compact grid; ``checks`` maps each feature name to its box."""

    def __init__(self, session: Session, parent=None):
        super().__init__(parent, objectName="featuresPanel")
        self.session = session
        self.setAccessibleName("Input features")
        self.setToolTip("The network's inputs: what it reads of each point. x₁ and x₂ are the coordinates.")
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        # The title on a line of its own: the boxes take the group's whole width (beside a form label
        # they widened the side panel past what a 1024-pixel screen leaves it).
        column.addWidget(QLabel("Inputs", objectName="featuresLabel"))
        grid = QGridLayout()
        column.addLayout(grid)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        self.checks: dict[str, QCheckBox] = {}
        for i, name in enumerate(FEATURE_NAMES):
            check = QCheckBox(features.label(name), objectName=f"featureCheck_{name}")
            check.setAccessibleName(f"Input feature {features.label(name)}")
            check.toggled.connect(lambda _on: self._edit())
            grid.addWidget(check, i // COLUMNS, i % COLUMNS)
            self.checks[name] = check
        session.events.connect("experiment", self.show_experiment)
        session.events.connect("state", lambda _state: self.enable_controls())
        self.show_experiment()

    def chosen(self) -> list[str]:
        """The ticked features, in :data:`FEATURE_NAMES` order."""
        return [name for name in FEATURE_NAMES if self.checks[name].isChecked()]

    def _edit(self) -> None:
        self.session.edit(features=self.chosen())

    def show_experiment(self) -> None:
        on = set(self.session.experiment.features)
        for name, check in self.checks.items():
            check.blockSignals(True)
            check.setChecked(name in on)
            check.blockSignals(False)
        self.enable_controls()

    def enable_controls(self) -> None:
        """Off while a run is live; the x₂ features also off for a 1-D dataset, with the reason as tooltip."""
        e, idle = self.session.experiment, not self.session.running
        one_d = input_width(e.dataset) == 1
        for name, check in self.checks.items():
            missing = one_d and features.needs_x2(name)
            check.setEnabled(idle and not missing)
            check.setToolTip(f"The {e.dataset} dataset has one coordinate, x₁: features of x₂ are left out of "
                             "the inputs." if missing else features.FORMULAS[name])

