"""Whether a run makes unit images, for the network view to ask (Qt-free).

The network view's thumbnails (and a unit shown in the boundary plot) need every unit's image over
the grid: 1.7 ms a frame at width 25, next to the boundary's 2.6 ms, and megabytes a Frame. Nobody
needs them while the view is closed, so the view asks for them from its show and hide events (on
while a unit is selected for the big plot) through :meth:`gui.model.session.Session.want_units`, which
sends them to a live run as its ``units`` command; the trainer reads them at each image frame. A frame
made while they are off carries ``units=None``; the view draws the timeline's snapshot when it is shown
again.

The thumbnails show only every ``COARSE_STEP``-th grid point a side (25 x 25 of the 100-point
grid), so while no unit is in the big plot (``full`` off) the frames carry just those points:
the same pixels for a sixteenth of the copying (the full grid costs 3.5 % of a run of the report's
network; benchmarks/bench_gui.py).
"""

from __future__ import annotations

from dataclasses import dataclass

COARSE_STEP = 4  # the network view's 25-pixel thumbnails of the 100-point grid (gui.qt.inside.network_view.THUMB)


@dataclass
class UnitsWanted:
    """``on``: frames carry unit images; ``full``: at every grid point (a unit in the big plot), else at
    every ``COARSE_STEP``-th a side. Both on by default (a session without a network view, a test)."""

    on: bool = True
    full: bool = True

    @property
    def step(self) -> int:
        """The grid step a side of the unit images the frames carry."""
        return 1 if self.full else COARSE_STEP

    def __bool__(self) -> bool:
        return self.on
