"""What File › Export writes besides CSV: the plots as PNG pictures sized for a slide, the run as an
animated GIF, the plots as SVG, the network as a minidl model file or a torch state dict, and the run
as a Python script.

Each function writes one file atomically (a failed export leaves any earlier file intact) and
raises ``OSError`` or ``ValueError`` with a sentence; :class:`gui.qt.window.file_menu.FileActions` turns those
into messages. The GIF is drawn by a boundary plot of its own, off screen, one frame per
snapshot of the run's timeline, with the epoch in the title.

Pictures are drawn by :func:`plot_image`: the plot as laid out on screen, drawn at a larger scale
(fonts, markers and lines grow with it, each drawn at the picture's own resolution, not enlarged
from the screen's pixels).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from pyqtgraph.exporters import SVGExporter
from PySide6.QtCore import QEvent, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPicture
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsView

import minidl
from gui.files.script import script
from gui.model import boundary
from gui.model.plain_text import as_html
from gui.model.weights import model_from
from gui.qt.plots.plots import BoundaryPlot, output_bound
from minidl.io import write_bytes_atomically

PNG_WIDTH = 1600  # pixels: a full-width picture on a 1920-pixel slide, sharp on a projector
GIF_WIDTH = 640  # pixels; a projector's slide wants at least 480
GIF_LAYOUT = (480, 384)  # the GIF's plot is laid out at this size, then drawn GIF_WIDTH wide (larger text)
FRAME_MS = 100


class _ScaledPens(QPainter):
    """A painter whose cosmetic pens (pyqtgraph's default: a width in screen pixels, whatever the
    scale) are ``scale`` times wider, so lines keep their weight in a picture drawn larger than the
    screen. Other pens already scale with the painter's transform."""

    def __init__(self, device, scale: float):
        super().__init__(device)
        self._scale = scale

    def setPen(self, pen):  # noqa: N802 - Qt's name
        pen = QPen(pen) if isinstance(pen, (QPen, QColor, Qt.PenStyle)) else QPen(QColor(pen))
        if pen.isCosmetic() and pen.style() != Qt.PenStyle.NoPen:
            pen.setWidthF(max(pen.widthF(), 1.0) * self._scale)
        super().setPen(pen)


def _painting_directly(axis: pg.AxisItem):
    """A ``paint`` for ``axis`` that draws on the painter it is given: pyqtgraph's own records the axis
    into a QPicture first, whose replay sets the pens behind :class:`_ScaledPens`'s back."""
    def paint(painter, *_):
        painter.save()
        try:
            if axis.style["tickFont"]:
                painter.setFont(axis.style["tickFont"])
            specs = axis.generateDrawSpecs(painter)
            if specs is not None:
                axis.drawPicture(painter, *specs)
        finally:
            painter.restore()
    return paint


def lay_out(view: QGraphicsView) -> None:
    """Apply the layout changes ``view``'s scene has pending (a new title, a colour bar added), and
    give each axis the width its tick labels need.

    Qt lays out a graphics scene later, in the event loop; a picture drawn before that shows the
    items where they were, or at (0, 0) with no size for items never laid out. A pyqtgraph axis
    measures its tick labels only while it draws them, and then asks for a new width: it measures
    here, on a scratch painter, and the layout follows (again until no axis asks)."""
    view.ensurePolished()
    axes = [i for i in view.scene().items() if isinstance(i, pg.AxisItem) and i.isVisible()]
    for _ in range(4):  # a new width can move the ticks, and their labels; it settles at once in practice
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        sizes = [(a.width(), a.height()) for a in axes]
        scratch = QPicture()  # what pyqtgraph's AxisItem.paint measures on
        painter = QPainter(scratch)
        try:
            for axis in axes:  # the font as pyqtgraph's AxisItem.paint sets it
                painter.save()
                if axis.style["tickFont"]:
                    painter.setFont(axis.style["tickFont"])
                axis.generateDrawSpecs(painter)
                painter.restore()
        finally:
            painter.end()
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if sizes == [(a.width(), a.height()) for a in axes]:
            return


def plot_image(view: QGraphicsView, width: int = PNG_WIDTH) -> QImage:
    """``view`` (a pyqtgraph plot widget) as an RGB picture ``width`` pixels wide, of the view's
    aspect ratio: the view as laid out on screen, ``width / view.viewport().width()`` times its size,
    text, markers and lines included, each drawn sharp at that resolution."""
    if width < 1:
        raise ValueError(f"a picture must be at least 1 pixel wide, got {width}")
    lay_out(view)
    w, h = max(view.viewport().width(), 1), max(view.viewport().height(), 1)
    scale = width / w
    image = QImage(width, max(1, round(h * scale)), QImage.Format.Format_RGB32)
    image.setDevicePixelRatio(scale)  # text and pixmaps (the scatter's markers) drawn at this resolution
    image.fill(view.backgroundBrush().color() if view.backgroundBrush().style() != Qt.BrushStyle.NoBrush
               else QColor("white"))
    # Items the plots cache as pixmaps (axes, markers, curves: gui/qt/plots/plots.py quiet_axes) would be
    # enlarged from the screen's pixels, blurred: each draws itself at the picture's resolution instead.
    items = [i for i in view.scene().items() if i.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    modes = [i.cacheMode() for i in items]
    axes = [i for i in view.scene().items() if isinstance(i, pg.AxisItem)]
    painter = _ScaledPens(image, scale)
    try:
        painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing
                               | QPainter.RenderHint.SmoothPixmapTransform)
        for item in items:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        for axis in axes:
            axis.paint = _painting_directly(axis)
        view.render(painter, QRectF(0, 0, w, h), view.viewport().rect())
    finally:
        painter.end()
        for item, mode in zip(items, modes, strict=True):
            item.setCacheMode(mode)
        for axis in axes:
            del axis.paint
    image.setDevicePixelRatio(1.0)
    return image


def write_png(path, view: QGraphicsView, width: int = PNG_WIDTH) -> None:
    """``view`` as a PNG ``width`` pixels wide (:func:`plot_image`), written atomically."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    raw = QByteArray()
    buffer = QBuffer(raw)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not plot_image(view, width).save(buffer, "PNG"):
        raise OSError(f"Qt could not encode a PNG for {path}")
    buffer.close()
    write_bytes_atomically(Path(path), bytes(raw.data()))


def animation_epochs(snapshot_epochs: list[int], last_epoch: int, frames: int) -> list[int]:
    """Up to ``frames`` snapshot epochs spread evenly over 0..``last_epoch`` (the last one included)."""
    kept = np.asarray([e for e in snapshot_epochs if e <= last_epoch])
    if not len(kept) or frames < 1:
        return []
    targets = np.linspace(0, last_epoch, max(1, frames))
    picks = kept[np.abs(kept[None, :] - targets[:, None]).argmin(1)]
    return sorted(set(picks.tolist()) | {int(kept[-1])})[-frames:] if frames > 1 else [int(kept[-1])]


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """An ``(h, w, 3)`` uint8 copy of ``image``."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, stride = image.height(), image.width(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), np.uint8, count=h * stride).reshape(h, stride)
    return raw[:, :w * 3].reshape(h, w, 3).copy()


def write_gif(path, session, frames: int, tick: Callable[[int, int], bool] = lambda done, total: True,
              title: str = "", palette=None) -> int:
    """Write the boundary over the session's timeline as an animated GIF; returns the frames written.

    ``tick(done, total)`` is called after each frame; False cancels (nothing is written, 0 returned)."""
    from PIL import Image  # Pillow: imported here, so the window opens without paying for it

    if session.timeline is None or not session.has_model:
        raise ValueError("there is no network to animate yet: make the network valid and press Run")
    epochs = animation_epochs(session.snapshot_epochs(), session.history.epochs, frames)
    blocks = [dict(b) for b in session.experiment.blocks]
    plot = BoundaryPlot()
    # Shown off screen: a widget never shown keeps a resize pending, and its scene the default size.
    plot.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    plot.resize(*GIF_LAYOUT)
    plot.show()
    plot.set_output_bound(output_bound(blocks))
    if palette is not None:  # the window's (gui/qt/plots/palette.py): the slides look like the screen
        plot.set_palette(palette)
    plot.show_points(session.data, show_test=False)
    pictures = []
    try:
        for i, epoch in enumerate(epochs):
            with torch.no_grad():
                image = boundary.image(model_from(blocks, session.timeline.flat(epoch)), session.grid)
            plot.show_image(np.nan_to_num(image), session.extent)
            plot.getPlotItem().setTitle(as_html(f"{title}epoch {epoch}"), size="14pt")
            # plot_image lays the scene out first: the colour bar and the title get their places in
            # every frame, the first included (no event loop has run since they were added).
            pictures.append(Image.fromarray(qimage_to_rgb(plot_image(plot, GIF_WIDTH))))
            if not tick(i + 1, len(epochs)):
                return 0
    finally:
        plot.hide()
        plot.deleteLater()
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=FRAME_MS,
                     loop=0, optimize=False)
    write_bytes_atomically(Path(path), buffer.getvalue())
    return len(pictures)


def write_svg(path, plot: pg.PlotWidget) -> None:
    """``plot`` as SVG, by pyqtgraph's exporter (true vector curves, clipped to the plot).

    pyqtgraph 0.14 cannot read the closing ``Z`` that this Qt writes at the end of a rectangle's
    path (the ViewBox's frame) and raises; :func:`_tolerant_svg` drops that ``Z`` (the path has
    already returned to its start) while it exports. Should the exporter still fail, Qt's own
    SVG generator draws the widget instead."""
    try:
        data = _tolerant_svg(plot.getPlotItem())
    except ValueError:
        data = _qt_svg(plot)
    write_bytes_atomically(Path(path), data)


def _tolerant_svg(item) -> bytes:
    module = sys.modules[SVGExporter.__module__]
    original = module.correctCoordinates

    def tolerant(group, defs, it, options):
        for node in group.getElementsByTagName("path"):
            words = node.getAttribute("d").split()
            if "Z" in words:
                node.setAttribute("d", " ".join(w for w in words if w != "Z"))
        return original(group, defs, it, options)

    module.correctCoordinates = tolerant
    try:
        return SVGExporter(item).export(toBytes=True)
    finally:
        module.correctCoordinates = original


def _qt_svg(widget) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    raw = QByteArray()
    buffer = QBuffer(raw)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(widget.width(), widget.height()))
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setTitle(widget.objectName())
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()
    buffer.close()
    return bytes(raw.data())


def write_model(path, model: minidl.Sequential) -> None:
    """The network as a minidl model file: ``minidl.load(path)`` gives it back."""
    minidl.save(model, path)


def write_torch_state_dict(path, model: minidl.Sequential) -> None:
    """The network as a ``torch.nn.Sequential`` state dict (``torch.save``), via minidl.interop."""
    buffer = io.BytesIO()
    torch.save(model.to_torch().state_dict(), buffer)
    write_bytes_atomically(Path(path), buffer.getvalue())


def script_text(session, name: str | None = None) -> str:
    """Run ``name`` (default: the session's current weights) as a standalone Python script
    (see :mod:`gui.files.script`)."""
    if name is not None:
        run = session.run_book[name]
        return script(run.replay_settings(), run.schedule or None, run.epochs, f"Run {run.name} ({run.diff})")
    run = session.current_run
    title = f"Run {run.name} ({run.diff})" if run is not None else "A minidl playground run"
    if session.schedule is None:  # a file from before schedules: its eta changes, if any, are unknown
        title += (" (trained before the playground recorded its settings: replayed with the current eta and"
                  " batch size throughout)")
    return script(session.run_settings(), session.schedule, session.history.epochs, title)
