"""The network view: a column of unit thumbnails per layer, links coloured by the weights.

Each thumbnail is one unit's output over the input plane (the boundary plot's plane and colour
map, each scaled to its own largest |value|). The unit outputs come from the worker's frames (one
pass over the grid for the boundary and every unit) while a run is followed live, and from the
timeline's snapshot otherwise (:func:`gui.model.inside.unit_view`). All thumbnails are one composited image, drawn
with one QPainter pass, with at most ``inside.MAX_LINKS`` links: no graphics item per unit.
Clicking a thumbnail shows that unit in the boundary plot; the output column or Esc goes back.
Clicking a link edits its weight, double-clicking a unit its bias (gui/qt/inside/weight_editor.py).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QToolTip, QWidget

from gui.model import features, hand_edits, inside
from gui.model.session import RUNNING, Session
from gui.qt.inside.weight_editor import WeightEditor
from gui.qt.plots import palette as palettes
from gui.qt.plots.plots import lookup_table_of
from gui.qt.window.background import Background

THUMB = 25  # thumbnail pixels a side in the composited image (the 100-point grid, 4 x 4 blocks averaged)
HEADER, FOOTER, GAP = 34, 40, 3  # at the default font; a larger one (presenter mode) scales them
# The smallest thumbnail: the network dock of the default 1400 x 800 window is 186 pixels high, and
# at 6 pixels 16 units ran past the "+k more" line and the note under them (both drawn over each other).
MIN_THUMB = 4
LEVELS = 6  # strengths of links drawn (each sign)
# Links are drawn into a picture of their own, again at most once a second while a run is followed
# live (stroking 400 lines costs 7-24 ms, and the GUI thread holds the GIL the training thread needs).
LINKS_INTERVAL = 1.0
LINK_REACH = 4.0  # pixels from a drawn link within which a click picks it
# Live thumbnails at most every LIVE_INTERVAL seconds (the boundary plot keeps the image rate): each
# redraw holds the GIL for the thumbnails' colour mapping, and at every frame the playground with this
# view shown went at 0.79 of headless speed (benchmarks/bench_gui.py). A frame skipped is kept and
# drawn at the next one, or when the run pauses or ends.
LIVE_INTERVAL = 0.4
SYNC_COST = 2e7  # rows x parameters computed on the GUI thread; beyond, in a thread of its own


def thumbnails(images: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """RGB thumbnails ``(units, THUMB, THUMB, 3)`` of ``images`` ``(units, x, y)``: each scaled by its
    own largest |value| to [-1, 1], rows from the top (largest x2) down, like the plot."""
    n, side, _ = images.shape
    picks = (np.arange(THUMB) * side) // THUMB  # nearest grid points (any resolution)
    small = images[:, picks][:, :, picks]
    peak = np.nanmax(np.abs(small).reshape(n, -1), axis=1) if n else np.zeros(0)
    peak = np.where(np.isfinite(peak) & (peak > 0), peak, 1.0)
    scaled = np.nan_to_num(small / peak[:, None, None], nan=0.0)
    index = np.clip(((scaled + 1) * 0.5 * (len(lut) - 1)).round(), 0, len(lut) - 1).astype(np.intp)
    return lut[index.transpose(0, 2, 1)[:, ::-1]]  # [unit, row (x2 from the top), column (x1)]


def over_white(colour: QColor, alpha: float) -> QColor:
    """``colour`` at ``alpha`` over the view's white, as an opaque colour. Qt's raster engine blends a
    translucent line pixel by pixel: a paint of 400 links costs 3.6 ms on the GUI thread (which holds the
    GIL the training needs), against 0.65 ms opaque. Where links cross, the stronger one (drawn last)
    covers the weaker instead of mixing with it."""
    return QColor(*(round(255 + (c - 255) * alpha) for c in colour.getRgb()[:3]))


class NetworkView(QWidget):
    """``networkView``. Automation: :meth:`columns`, :meth:`select`, :meth:`tooltip_at`, :attr:`selected`,
    :meth:`set_weight`, :meth:`set_bias`, :meth:`edit_weight`, :meth:`edit_bias`, :attr:`editor`."""

    def __init__(self, session: Session, boundary_plot, parent=None):
        super().__init__(parent, objectName="networkView")
        self.setAccessibleName("Network view")
        self.setToolTip("")
        self.setMouseTracking(True)
        self.setMinimumSize(220, 100)
        self.session, self.boundary_plot = session, boundary_plot
        self.background = Background(self)
        self.palette = palettes.STANDARD
        self._lut = lookup_table_of(self.palette)
        self._cols: list[inside.Column] = []
        self._expanded: set[int] = set()
        self._images: np.ndarray | None = None  # (units, x, y) of the columns after the input
        self._inputs: np.ndarray | None = None
        self._step = 1  # the grid step a side of _images (gui.model.units_wanted: coarse while no unit is picked)
        self._epoch: int | None = None
        self._tiles: list[np.ndarray] = []
        self._picture: QImage | None = None  # the thumbnails as laid out now
        self._layout_size = None
        self._weights: list[torch.Tensor] = []
        self._links = None
        self._links_pixmap: QPixmap | None = None
        self._links_at = 0.0
        self._flat = self._links_of = None  # the shown snapshot, and the one the links were drawn from
        self._waiting_frame = None  # the last frame that came while the view was hidden
        self._pending_frame, self._shown_at = None, 0.0  # a live frame not drawn yet (LIVE_INTERVAL)
        self._generation = 0  # of what the view was last asked to show: a late result is dropped
        self._hits: list[tuple[QRectF, int, int]] = []
        self._more: list[tuple[QRectF, int]] = []
        self.selected: tuple[int, int] | None = None
        self.selection_changed = lambda: None  # the window enables Esc while a unit is shown
        self.note = ""
        self.link_scale = 1.0  # presenter mode draws the links twice as wide
        self.editor = WeightEditor(self)  # ``weightEditor``
        events = session.events
        events.connect("frame", self._frame)
        for name in ("model", "seek"):
            events.connect(name, lambda *_: self.refresh())
        events.connect("state", lambda _state: self._draw_pending())
        events.connect("finished", lambda *_: self._finished())
        events.connect("experiment", lambda: self._structure())
        self._structure()
        self.refresh()
        self._want_units()

    # -- automation ----------------------------------------------------------------------
    def columns(self) -> list[tuple[str, int]]:
        """``(label, units)`` per column, from the input to the output."""
        return [(c.label, c.units) for c in self._cols]

    def input_labels(self) -> list[str]:
        """The input column's unit labels, one per input feature in the network's order (``x₁``, ``x₁²``,
        ``sin x₁``): drawn left of its thumbnails."""
        return [features.label(name) for name in self.session.experiment.input_names]

    def select(self, column: int | None, unit: int | None = None) -> None:
        """Show unit ``unit`` of column ``column`` in the boundary plot; None (or the output column)
        goes back to the network's output. ``ValueError`` with a sentence for a unit that does not exist."""
        if column is None or column == len(self._cols) - 1:
            self.selected, self._picture = None, None
            self._want_units()
            self.boundary_plot.show_output()
            self.selection_changed()
            self.update()
            return
        if not 0 <= column < len(self._cols):
            raise ValueError(f"column {column} does not exist: the network has columns 0 to {len(self._cols) - 1}")
        c = self._cols[column]
        limit = c.units if c.module is None else inside.sent_units(c)
        if unit is None or not 0 <= unit < limit:
            raise ValueError(f"{c.label} has units 0 to {limit - 1} that can be shown, got {unit}"
                             + (f" (only the first {inside.MAX_SENT} of a wider layer)" if limit < c.units else ""))
        self.selected, self._picture = (column, unit), None
        self.session.events.emit("status", f"The boundary plot shows {c.label}, unit {unit + 1}: Esc or a "
                                 "click on the output column goes back to the network's output.")
        self._want_units()
        if self._step != 1:  # the thumbnails' images are coarse: a pass over every grid point draws the big plot
            self.refresh(live_too=True)
        else:
            self._show_selected()
        self.selection_changed()
        self.update()

    def set_weight(self, layer: int, out_unit: int, in_unit: int, value: float) -> None:
        """Set weight ``W[out_unit, in_unit]`` of Linear layer ``layer`` (0-based among the Linear layers): see
        :meth:`gui.model.session.Session.set_weight`. ``ValueError`` with a sentence for a bad index or value."""
        self.session.set_weight(layer, out_unit, in_unit, value)

    def set_bias(self, layer: int, unit: int, value: float) -> None:
        """Set bias ``b[unit]`` of Linear layer ``layer``: see :meth:`gui.model.session.Session.set_bias`."""
        self.session.set_bias(layer, unit, value)

    def edit_weight(self, layer: int, out_unit: int, in_unit: int) -> None:
        """Open the editor on a weight, with its current value (what a click on its link does)."""
        value = self._current(layer, out_unit, in_unit)
        self.editor.open((layer, out_unit, in_unit), value, self._link_middle(layer, out_unit, in_unit),
                         f"Weight from unit {in_unit + 1} of {self._cols[layer].label} to unit {out_unit + 1} of "
                         f"{self._cols[layer + 1].label}")

    def edit_bias(self, layer: int, unit: int) -> None:
        """Open the editor on a bias, with its current value (what a double click on its unit does)."""
        value = self._current(layer, unit, None)
        rect = next((r for r, k, u in self._hits if (k, u) == (layer + 1, unit)), None)
        at = rect.center() if rect is not None else self.rect().center().toPointF()
        self.editor.open((layer, unit, None), value, at, f"Bias of unit {unit + 1} of {self._cols[layer + 1].label}")

    def _current(self, layer: int, out: int, in_: int | None) -> float:
        """The value the next epoch starts from (the head's, whatever epoch is shown); checked like an edit."""
        s = self.session
        if not s.snapshot_epochs():
            raise ValueError("there are no weights to edit yet: the network is not valid")
        hand_edits.checked(s.timeline.shapes, layer, out, in_, 0.0)
        parameters = s.parameters_at(s.history.epochs)
        return float(parameters[2 * layer + 1][out] if in_ is None else parameters[2 * layer][out, in_])

    def tooltip_at(self, column: int, unit: int) -> str:
        """The hover text of a unit: layer, unit, formula, bias and its share of dead or saturated points."""
        c = self._cols[column]
        if c.module is None:
            name = self.session.experiment.input_names[unit]
            return f"Input {features.label(name)}: {features.FORMULAS[name]}"
        text = f"{c.label.capitalize()}, unit {unit + 1} of {c.units}: {c.formula()}"
        if self._weights:
            text += f"\nbias b = {float(self._weights[2 * c.linear + 1][unit]):.4g}"
        shares = self._shares(c)
        if shares is not None:
            what = "dead (output 0)" if c.activation == "ReLU" else "saturated (|y| > 0.97)"
            text += f"\n{what} at {100 * shares[unit]:.0f} % of the training points"
        if self._epoch is not None:
            text += f"\n(epoch {self._epoch}) Click: show it in the boundary plot. Double-click: edit its bias."
        return text

    # -- data ---------------------------------------------------------------------------
    def _structure(self) -> None:
        cols = inside.columns(self.session.experiment.blocks, self.session.experiment.in_features)
        if [(c.label, c.units, c.activations) for c in cols] != [(c.label, c.units, c.activations) for c in self._cols]:
            self._cols, self._expanded, self._images, self._links = cols, set(), None, None
            self._layout_size = None
            if self.selected is not None:
                self.select(None)

    def _want_units(self) -> None:
        """The worker makes unit images only while they are seen: the view open, or a unit in the big
        plot; and at every grid point only for that plot (the thumbnails show every 4th a side)."""
        self.session.want_units(self.isVisible() or self.selected is not None, self.selected is not None)

    def refresh(self, live_too: bool = False) -> None:
        """Draw the shown epoch (the timeline's, or the head's when no run is followed live; with
        ``live_too``, the timeline's newest snapshot of a live run too)."""
        s = self.session
        self._structure()
        self._stale = False
        if s.seek_epoch is None and s.running and not live_too:
            return  # the run's frames bring the head
        if not self.isVisible() and self.selected is None:
            self._stale = True  # drawn when the view is shown again: no work while closed
            return
        request = s.view_request(s.seek_epoch)
        if request is None:
            self._images, self._picture = None, None
            self.update()
            return
        cost = float(request.grid.shape[0]) * request.flat.numel()
        self._generation += 1
        if cost <= SYNC_COST and not self.background.busy:
            self._show(*inside.unit_view(request), request.grid)
            return
        generation = self._generation

        def done(result):
            if generation == self._generation:  # not overtaken by a newer request or a live frame
                self._show(*result, request.grid)
        self.background.submit(lambda: inside.unit_view(request), done)

    def _finished(self) -> None:
        # A completed run's last frame brought its last epoch: nothing to compute again (the GUI
        # thread holds the GIL; a stop or a divergence ends without that frame).
        if self._images is not None and self._epoch == self.session.history.epochs and self._waiting_frame is None:
            if self._links_of is not self._flat:  # live, the links are redrawn once a second
                self._compose_links()
                self.update()
            return
        self.refresh()

    def _frame(self, frame) -> None:
        if self.selected is not None and frame.units_step != 1:
            return  # made before a unit was picked: the big plot keeps its sharp picture until the next
        if self.session.seek_epoch is None and frame.units is not None:
            if not self.isVisible() and self.selected is None:
                self._waiting_frame = frame  # drawn when the view is shown again: no work while closed
                return
            now = time.perf_counter()
            if self.selected is None and self.session.state == RUNNING and now - self._shown_at < LIVE_INTERVAL:
                self._pending_frame = frame
                return
            self._pending_frame, self._shown_at = None, now
            self._generation += 1
            self._show(frame.epoch, frame.units, self.session.grid, frame.units_step)

    def _draw_pending(self) -> None:
        """A paused, stopped or finished run shows its newest frame, skipped or not."""
        frame, self._pending_frame = self._pending_frame, None
        if frame is not None and self.session.state != RUNNING and self.session.seek_epoch is None:
            self._generation += 1
            self._show(frame.epoch, frame.units, self.session.grid, frame.units_step)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._want_units()
        frame, self._waiting_frame = self._waiting_frame, None
        s = self.session
        if getattr(self, "_stale", False):
            self.refresh()
        elif frame is not None and s.seek_epoch is None:
            self._show(frame.epoch, frame.units, s.grid, frame.units_step)
        elif s.running and s.seek_epoch is None and self._epoch != s.history.epochs:
            # Frames came without units while it was closed (a paused run sends none): the newest snapshot.
            self.refresh(live_too=True)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().hideEvent(event)
        self._want_units()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._links_pixmap = None

    def _show(self, epoch: int, images: np.ndarray, grid: torch.Tensor, step: int = 1) -> None:
        """Show ``images`` (:func:`gui.model.inside.unit_images` over ``grid`` at every ``step``-th point a side)."""
        s = self.session
        if s.timeline is None or images.shape[0] != sum(inside.sent_units(c) for c in self._cols[1:]):
            return  # of a network since replaced
        self._epoch, self._images, self._step = epoch, images, step
        self._inputs = inside.input_images(grid, int(round(grid.shape[0] ** 0.5)), step)
        snapshot = s.timeline.nearest(epoch)
        self._flat = s.timeline.flat(snapshot)
        self._weights = inside.parameter_views(self._flat, s.timeline.shapes)
        self._share_cache = None
        self._compose()
        if self.selected is not None:
            self._show_selected()
        self.update()

    def _shares(self, column: inside.Column):
        """Dead or saturated shares of the training points, from the shown epoch's weights."""
        if column.activation not in ("ReLU", "Tanh") or not self._weights:
            return None
        s = self.session
        if getattr(self, "_share_cache", None) is None:
            if sum(w.numel() for w in self._weights) * s.data.X_train.shape[0] > 5e8:
                return None  # a wide network: too slow to compute on hover
            self._share_cache = inside.outputs_of(s.experiment.blocks, self._weights, s.data.X_train)
        return inside.unit_shares(self._share_cache[column.module], column.activation)

    def _unit_image(self, column: int, unit: int) -> np.ndarray:
        if self._cols[column].module is None:
            return self._inputs[unit]
        return self._images[inside.unit_offsets(self._cols)[column] + unit]

    def _show_selected(self) -> None:
        if self._images is None or self._step != 1:
            return  # never the coarse thumbnails' points (gui.model.units_wanted) in the big plot
        column, unit = self.selected
        c = self._cols[column]
        if c.module is None:
            feature = self.session.experiment.input_names[unit]
            name, formula = f"input {features.label(feature)}", features.FORMULAS[feature]
        else:
            name, formula = f"{c.label}, unit {unit + 1}", c.formula()
        self.boundary_plot.show_unit(self._unit_image(column, unit), self.session.extent,
                                     f"{name} · epoch {self._epoch}", formula, c.activation)

    # -- drawing ------------------------------------------------------------------------
    def shown(self, column: int) -> int:
        c = self._cols[column]
        limit = inside.sent_units(c) if column in self._expanded else inside.SHOWN
        return min(c.units, limit)

    def _compose(self) -> None:
        """Each shown unit's RGB thumbnail (``THUMB`` pixels a side), and the links when due."""
        offsets = inside.unit_offsets(self._cols)
        self._tiles = []
        for k, c in enumerate(self._cols):
            n = self.shown(k)
            source = self._inputs if c.module is None else self._images[offsets[k]:offsets[k] + n]
            self._tiles.append(thumbnails(source[:n], self._lut))
        self._picture = None
        live = self.session.running and self.session.seek_epoch is None
        if live and self._links is not None and time.perf_counter() - self._links_at < LINKS_INTERVAL:
            return  # the links drawn less than a second ago stay
        self._compose_links()

    def _compose_links(self) -> None:
        """The strongest links of the shown weights (drawn with the labels at the next paint)."""
        self._links_pixmap, self._links_at, self._links_of = None, time.perf_counter(), self._flat
        shown = [self.shown(k) for k in range(len(self._cols))]
        weights = self._weights[0::2]
        self._links = inside.strongest_links(weights, shown) if weights else None
        total = self._links[4] if self._links is not None else 0
        self.note = (f"showing the {inside.MAX_LINKS} strongest of {total} links" if total > inside.MAX_LINKS else "")

    def _line(self) -> int:
        """A line of the view's words: 16 pixels at the default font, more in presenter mode."""
        return max(16, self.fontMetrics().height())

    def _header(self) -> int:
        return HEADER + 2 * (self._line() - 16)

    def _footer(self) -> int:
        return FOOTER + 2 * (self._line() - 16)

    # -- read-only, for automation and tests ------------------------------------------------
    @property
    def shown_epoch(self) -> int | None:
        """The epoch whose unit images the thumbnails show (None before the first)."""
        return self._epoch

    @property
    def units_step(self) -> int:
        """The grid step a side of the unit images shown: 1, or 4 for the coarse frames of the thumbnails."""
        return self._step

    @property
    def links(self):
        """The links drawn: ``(layer, rows, columns, values, total)`` of the strongest, or None."""
        return self._links

    @property
    def unit_rects(self) -> list[tuple[QRectF, int, int]]:
        """Where each drawn unit is: ``(rectangle, column, unit)``."""
        return list(self._hits)

    @property
    def more_rects(self) -> list[tuple[QRectF, int]]:
        """Where each column's "+N more" label is: ``(rectangle, column)``; a click there expands it."""
        return list(self._more)

    @property
    def lut(self):
        """The colour lookup table the thumbnails are drawn with (it follows the palette)."""
        return self._lut

    @property
    def thumbnail_size(self) -> int:
        """The thumbnails' side in pixels at the view's size (read-only)."""
        return self._geometry()[0]

    def _geometry(self):
        """Thumbnail size (whole pixels) and each column's x, fitted to the widget: as high as the rows
        allow, and at most half a column's share of the width, so that the links between them show."""
        rows = max((self.shown(k) for k in range(len(self._cols))), default=1)
        left = self._labels_width()
        across = (self.width() - 20 - left) / max(2 * len(self._cols) - 1, 1)
        size = int(max(MIN_THUMB, min(40.0, (self.height() - self._header() - self._footer()) / rows - GAP, across)))
        spacing = (self.width() - 20 - left - size) / max(len(self._cols) - 1, 1)
        return size, [int(left + k * spacing) for k in range(len(self._cols))]

    def _labels_width(self) -> int:
        """The room left of the input column: its feature labels' width, at least 20 pixels."""
        widths = [self.fontMetrics().horizontalAdvance(text) for text in self.input_labels()]
        return max(20, max(widths, default=0) + 6)

    def _unit_rect(self, size, xs, column, unit) -> QRectF:
        n = self.shown(column)
        rows = max(self.shown(k) for k in range(len(self._cols)))
        top = self._header() + (rows - n) * (size + GAP) // 2  # columns centred vertically
        return QRectF(xs[column], top + unit * (size + GAP), size, size)

    def _layout(self) -> None:
        """Where every thumbnail and "+k more" goes at the widget's size (the mouse's targets too)."""
        size, xs = self._geometry()
        self._hits, self._more = [], []
        for k in range(len(self._cols)):
            for u in range(self.shown(k)):
                self._hits.append((self._unit_rect(size, xs, k, u), k, u))
            hidden = self._cols[k].units - self.shown(k)
            if hidden > 0 or k in self._expanded:
                below = self._unit_rect(size, xs, k, self.shown(k) - 1).bottom() + 2
                wide = min(100.0, (xs[1] - xs[0] - 4) if len(xs) > 1 else 100.0)  # never over a neighbour's
                left = min(max(0.0, xs[k] + size / 2 - wide / 2), self.width() - wide)
                self._more.append((QRectF(left, below, wide, self._line()), k))

    def _thumbnails_picture(self) -> QImage:
        """Every thumbnail with its frame in one transparent picture of the widget's size: painted
        with one call (a call per thumbnail made the GUI thread wait for the GIL at each one)."""
        size, xs = self._geometry()
        picture = np.zeros((self.height(), self.width(), 4), np.uint8)  # premultiplied BGRA
        pick = (np.arange(size) * THUMB) // size  # nearest thumbnail pixels
        step = size + GAP
        for k, tiles in enumerate(self._tiles):  # a column at a time: a few numpy operations each
            n = len(tiles)
            top = int(self._unit_rect(size, xs, k, 0).y())
            rows = min(n, (picture.shape[0] - top) // step)
            if rows <= 0 or xs[k] + size > picture.shape[1]:
                continue
            cells = picture[top:top + rows * step, xs[k]:xs[k] + size].reshape(rows, step, size, 4)[:, :size]
            cells[..., 2::-1] = tiles[:rows][:, pick][:, :, pick]
            cells[..., 3] = 255
            for band in (cells[:, :1], cells[:, -1:], cells[:, :, :1], cells[:, :, -1:]):
                band[..., :3] = 187  # a grey frame
        if self.selected is not None:
            k, u = self.selected
            if k < len(self._tiles) and u < len(self._tiles[k]):
                rect = self._unit_rect(size, xs, k, u)
                cell = picture[int(rect.y()):int(rect.y()) + size, xs[k]:xs[k] + size]
                for band in (cell[:2], cell[-2:], cell[:, :2], cell[:, -2:]):
                    band[..., :3] = 17  # the unit shown in the boundary plot
        self._picture_array = picture  # the QImage borrows this memory
        return QImage(picture.data, picture.shape[1], picture.shape[0], picture.shape[1] * 4,
                      QImage.Format.Format_ARGB32_Premultiplied)

    def _static_picture(self) -> QPixmap:
        """Labels, links, "+k more" and the note: redrawn when the links or the layout change."""
        size, xs = self._geometry()
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor("white"))
        painter = QPainter(pixmap)
        painter.setFont(self.font())  # the view's (presenter mode's is larger), not the application's
        spacing = (xs[1] - xs[0]) if len(xs) > 1 else 80
        wide = min(80.0 * self._line() / 16, spacing)
        widest = max((self.fontMetrics().horizontalAdvance(f"{c.label} {c.units} {c.activation or 'lin'}")
                      for c in self._cols), default=0)
        narrow = widest / 2 > wide - 4  # short labels, so neighbours never overlap: "h2", "25"
        for k, c in enumerate(self._cols):
            left = min(max(0.0, xs[k] + size / 2 - wide / 2), self.width() - wide)
            label = c.label if not narrow else {"input": "in", "output": "out"}.get(c.label, "h" + c.label[7:])
            painter.setPen(QColor("#222"))
            painter.drawText(QRectF(left, 2, wide, self._line()), Qt.AlignmentFlag.AlignHCenter, label)
            painter.setPen(QColor("#666"))
            what = c.activation or ("in" if c.module is None else "lin")
            painter.drawText(QRectF(left, 2 + self._line(), wide, self._line()), Qt.AlignmentFlag.AlignHCenter,
                             f"{c.units}" if narrow else f"{c.units} {what}")
        if self._links is not None:
            self._paint_links(painter, size, xs)  # without antialiasing: 3 times faster
        painter.setPen(QColor("#222"))
        for unit, text in enumerate(self.input_labels()[:self.shown(0)] if self._cols else []):
            rect = self._unit_rect(size, xs, 0, unit)
            painter.drawText(QRectF(0, rect.top(), xs[0] - 3, rect.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        painter.setPen(QColor("#1f5fa8"))
        for rect, text in self._more_texts():
            painter.drawText(rect, Qt.AlignmentFlag.AlignHCenter, text)
        if self.note:
            painter.setPen(QColor("#666"))
            painter.drawText(QRectF(4, self.height() - 2 - self._line(), self.width() - 8, self._line()),
                             Qt.AlignmentFlag.AlignRight,
                             self._fitted(self._note_texts(), self.width() - 8))
        painter.end()
        return pixmap

    def _fitted(self, texts: list[str], width: float) -> str:
        """The first of ``texts`` (longest first) that fits ``width`` pixels in the view's font."""
        metrics = self.fontMetrics()
        return next((text for text in texts if metrics.horizontalAdvance(text) <= width), texts[-1])

    def _note_texts(self) -> list[str]:
        total = self._links[4] if self._links is not None else 0
        return [self.note, f"{inside.MAX_LINKS} strongest of {total} links", f"{inside.MAX_LINKS} of {total} links"]

    def _more_texts(self) -> list[tuple[QRectF, str]]:
        """Each "+k more" (or "fewer") and its place, worded short where the columns stand close."""
        placed = []
        for rect, k in self._more:
            hidden = self._cols[k].units - self.shown(k)
            if k not in self._expanded:
                texts = [f"+{hidden} more", f"+{hidden}"]
            else:
                texts = [f"fewer (+{hidden} not shown)", "fewer"] if hidden > 0 else ["fewer"]
            placed.append((rect, self._fitted(texts, rect.width())))
        return placed

    def drawn_texts(self) -> list[tuple[str, QRectF]]:
        """The words the view draws under its thumbnails ("+k more", the links note) and the room each
        needs, laid out at the view's size: for tests that nothing is cut or drawn over another."""
        if self._layout_size != self.size():
            self._layout()
            self._layout_size, self._links_pixmap, self._picture = self.size(), None, None
        metrics = self.fontMetrics()
        texts = []
        for rect, text in self._more_texts():
            wide = metrics.horizontalAdvance(text)
            texts.append((text, QRectF(rect.center().x() - wide / 2, rect.top(), wide, metrics.height())))
        if self.note:
            text = self._fitted(self._note_texts(), self.width() - 8)
            wide = metrics.horizontalAdvance(text)
            texts.append((text, QRectF(self.width() - 4 - wide, self.height() - 2 - self._line(), wide,
                                       metrics.height())))
        return texts

    def set_palette(self, palette) -> None:
        """The boundary plot's palette (:mod:`gui.qt.plots.palette`): thumbnails on its colour map, links in its two
        class colours (negative weights in class 0's, positive in class 1's)."""
        self.palette, self._lut = palette, lookup_table_of(palette)
        self._links_pixmap = None
        if self._images is not None:
            self._compose()
        self.update()

    def set_presenter_style(self, on: bool) -> None:
        """Presenter mode's hook: links twice as wide, legible from the back of a room."""
        self.link_scale = 2.0 if on else 1.0
        self._links_pixmap = None
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        if not self._cols:
            painter.fillRect(self.rect(), QColor("white"))
            return
        if self._layout_size != self.size():
            self._layout()
            self._layout_size, self._links_pixmap, self._picture = self.size(), None, None
        if self._links_pixmap is None:
            self._links_pixmap = self._static_picture()
        painter.drawPixmap(0, 0, self._links_pixmap)
        if self._images is not None:
            if self._picture is None:
                self._picture = self._thumbnails_picture()
            painter.drawImage(0, 0, self._picture)
        painter.end()

    def _link_ends(self, size, xs):
        """``(x1, y1, x2, y2)`` arrays: where each drawn link starts and ends."""
        layer, rows, cols, _, _ = self._links
        rows_most = max(self.shown(k) for k in range(len(self._cols)))
        header = self._header()
        tops = np.array([header + (rows_most - self.shown(k)) * (size + GAP) // 2 for k in range(len(self._cols))])
        lefts = np.asarray(xs, np.float64)
        x1, x2 = lefts[layer] + size, lefts[layer + 1]
        y1 = tops[layer] + cols * (size + GAP) + size / 2
        y2 = tops[layer + 1] + rows * (size + GAP) + size / 2
        return x1, y1, x2, y2

    def link_at(self, position: QPointF) -> tuple[int, int, int] | None:
        """``(layer, out_unit, in_unit)`` of the drawn link nearest ``position`` within ``LINK_REACH`` pixels."""
        if self._links is None or not len(self._links[0]) or not self._cols:
            return None
        x1, y1, x2, y2 = self._link_ends(*self._geometry())
        dx, dy = x2 - x1, y2 - y1
        t = np.clip(((position.x() - x1) * dx + (position.y() - y1) * dy) / np.maximum(dx * dx + dy * dy, 1e-9), 0, 1)
        distance = np.hypot(x1 + t * dx - position.x(), y1 + t * dy - position.y())
        best = int(np.argmin(distance))
        if distance[best] > LINK_REACH * self.link_scale:
            return None
        layer, rows, cols, _, _ = self._links
        return int(layer[best]), int(rows[best]), int(cols[best])

    def _link_middle(self, layer: int, out: int, in_: int) -> QPointF:
        if self._links is not None and self._cols:
            pick = np.flatnonzero((self._links[0] == layer) & (self._links[1] == out) & (self._links[2] == in_))
            if pick.size:
                x1, y1, x2, y2 = (a[pick[0]] for a in self._link_ends(*self._geometry()))
                return QPointF((x1 + x2) / 2, (y1 + y2) / 2)
        return self.rect().center().toPointF()

    def _paint_links(self, painter, size, xs) -> None:
        layer, rows, cols, values, _ = self._links
        finite = np.abs(values[np.isfinite(values)])
        top = float(finite.max()) if finite.size else 1.0
        # Links in LEVELS strengths a sign, each drawn with one pen in one call (a pen per link made
        # a frame's paint ten times slower), the weak ones first.
        # Each link from the right edge of its unit's thumbnail to the left edge of the next column's,
        # at their centres: the ends of all of them at once, in numpy (a Qt call a link costs 4 ms a paint).
        x1, y1, x2, y2 = self._link_ends(size, xs)
        strength = np.abs(np.nan_to_num(values)) / (top if top > 0 else 1.0)
        level = np.minimum((strength * LEVELS).astype(int), LEVELS - 1)
        for bucket in range(LEVELS):
            for positive in (False, True):
                pick = np.flatnonzero((level == bucket) & ((values > 0) == positive) & np.isfinite(values))
                if not pick.size:
                    continue
                sign_colour = QColor(self.palette.class_colours[1] if positive else self.palette.class_colours[0])
                colour = over_white(sign_colour, 0.15 + 0.8 * (bucket + 1) / LEVELS)
                painter.setPen(QPen(colour, self.link_scale * (0.5 + 3.0 * (bucket + 1) / LEVELS)))
                ends = zip(x1[pick].tolist(), y1[pick].tolist(), x2[pick].tolist(), y2[pick].tolist(), strict=True)
                painter.drawLines([QLineF(*end) for end in ends])

    # -- the mouse ----------------------------------------------------------------------
    def _hit(self, position):
        for rect, k, u in self._hits:
            if rect.contains(position):
                return k, u
        return None

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        hit = self._hit(event.position())
        if hit is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_at(*hit), self)
        elif any(rect.contains(event.position()) for rect, _ in self._more):
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"Click: show up to {inside.MAX_SENT} units of this layer, or fewer again.", self)
        elif (link := self.link_at(event.position())) is not None:
            layer, out, in_ = link
            QToolTip.showText(event.globalPosition().toPoint(),
                              f"Weight from unit {in_ + 1} of {self._cols[layer].label} to unit {out + 1} of "
                              f"{self._cols[layer + 1].label}: {self._current(*link):.4g}\nClick: edit it.", self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        hit = self._hit(event.position())
        if hit is not None:
            self.select(*hit)
            return
        for rect, k in self._more:
            if rect.contains(event.position()):
                self.toggle_expanded(k)
                return
        link = self.link_at(event.position())
        if link is not None:
            self.edit_weight(*link)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 - Qt's name
        hit = self._hit(event.position())
        if hit is not None and self._cols[hit[0]].module is not None:
            self.edit_bias(self._cols[hit[0]].linear, hit[1])

    def toggle_expanded(self, column: int) -> None:
        """Show up to ``inside.MAX_SENT`` units of a wide column, or go back to the first 16."""
        self._expanded ^= {column}
        self._links_at, self._layout_size = 0.0, None  # the links and places of the new set of units
        if self._images is not None:
            self._compose()
        rows = max(self.shown(k) for k in range(len(self._cols)))
        self.setMinimumHeight(min(self._header() + self._footer() + rows * (MIN_THUMB + GAP), 2000))
        self.update()
