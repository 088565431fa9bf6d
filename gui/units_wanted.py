"""Whether the worker makes unit images, for the network view to ask (Qt-free; read live by the worker).

The network view's thumbnails (and a unit shown in the boundary plot) need every unit's image over
the grid: 1.7 ms a frame at width 25, next to the boundary's 2.6 ms, and megabytes a Frame. Nobody
needs them while the view is closed, so the view switches this flag from its show and hide events
(on while a unit is selected for the big plot), and the trainer reads it at each image frame: one
attribute read, atomic under the GIL, as :class:`gui.pace.Pace`. A frame made while it is off
carries ``units=None``; the view draws the timeline's snapshot when it is shown again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class UnitsWanted:
    """``on``: frames carry unit images. On by default (a session without a network view, a test)."""

    on: bool = True

    def __bool__(self) -> bool:
        return self.on
