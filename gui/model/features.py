"""The input features in words, free of Qt: how the playground writes each name of
:data:`minidl.data.FEATURES` (``"x1sq"`` is x₁²) and what it computes, for the check boxes, the
network view's input column and the lesson notes."""

from __future__ import annotations

from minidl.data import FEATURES

LABELS = {"x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂", "sinx1": "sin x₁", "sinx2": "sin x₂"}
FORMULAS = {
    "x1": "x₁: the horizontal coordinate of a point, as it is.",
    "x2": "x₂: the vertical coordinate of a point, as it is.",
    "x1sq": "x₁² = x₁ · x₁. With x₂², a single Linear layer can draw a circle or an ellipse.",
    "x2sq": "x₂² = x₂ · x₂. With x₁², a single Linear layer can draw a circle or an ellipse.",
    "x1x2": "x₁x₂ = x₁ · x₂: large where both coordinates are large, negative where their signs differ.",
    "sinx1": "sin x₁: the sine of the horizontal coordinate (in radians): a wave along x₁.",
    "sinx2": "sin x₂: the sine of the vertical coordinate (in radians): a wave along x₂.",
}
assert set(LABELS) == set(FORMULAS) == set(FEATURES)


def label(name: str) -> str:
    """``"x₁²"`` for ``"x1sq"``: a feature as the playground writes it (the name itself if unknown)."""
    return LABELS.get(name, name)


def needs_x2(name: str) -> bool:
    """Whether feature ``name`` reads the second coordinate (a 1-D dataset such as Sine has none)."""
    return 1 in FEATURES[name][0]
