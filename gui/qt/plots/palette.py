"""The boundary plot's palettes: a colour map, class colours and class marker shapes (Qt-free data).

Both palettes give each class its own marker shape, so the classes never differ only by colour;
the colour-blind-safe one also swaps the blue-red map for a blue-orange diverging one (blue and
orange stay apart for the common colour-vision deficiencies). Points have dark outlines, so they
stand out against either end of the map.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Palette:
    name: str
    colour_map: str | tuple[str, str, str]  # a pyqtgraph colour-map name, or (low, middle, high) colours
    class_colours: tuple[str, str]
    class_names: tuple[str, str]  # the colours in words, for tooltips
    symbols: tuple[str, str] = ("o", "s")  # class 0 circles, class 1 squares
    outline: str = "#1a1a1a"


STANDARD = Palette("standard", "CET-D1A", ("#2b6cb0", "#c53030"), ("blue", "red"))
COLOUR_BLIND = Palette("colour-blind safe", ("#2166ac", "#f7f7f7", "#e66101"), ("#0b4a8f", "#d55e00"),
                       ("blue", "orange"))


def describe(palette: Palette) -> str:
    """The boundary plot's tooltip for ``palette``: what each colour and shape means, in words."""
    low, high = palette.class_names
    return (f"Decision boundary: {high} where the network says class 1, {low} where it says class 0,\n"
            "white on the boundary. Circles: class 0, squares: class 1; filled: training points, "
            "hollow: test points.")
