"""What File › Export writes besides PNG and CSV: the run as an animated GIF, the plots as SVG,
the network as a minidl model file or a torch state dict, and the run as a Python script.

Each function writes one file atomically (a failed export leaves any earlier file intact) and
raises ``OSError`` or ``ValueError`` with a sentence; :class:`gui.qt.window.file_menu.FileActions` turns those
into messages. The GIF is drawn by a boundary plot of its own, off screen, one frame per
snapshot of the run's timeline, with the epoch in the title.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import torch
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtGui import QImage

import minidl
from gui.files.script import script
from gui.model import boundary
from gui.model.plain_text import as_html
from gui.model.weights import model_from
from gui.qt.plots.plots import BoundaryPlot, output_bound
from minidl.io import write_bytes_atomically

GIF_WIDTH = 640  # pixels; a projector's slide wants at least 480
FRAME_MS = 100


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
    plot.resize(GIF_WIDTH, int(GIF_WIDTH * 0.8))
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
            exporter = ImageExporter(plot.getPlotItem())
            exporter.parameters()["width"] = GIF_WIDTH
            pictures.append(Image.fromarray(qimage_to_rgb(exporter.export(toBytes=True))))
            if not tick(i + 1, len(epochs)):
                return 0
    finally:
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
