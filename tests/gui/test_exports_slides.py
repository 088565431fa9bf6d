"""Exports good enough for slides: every GIF frame laid out alike, PNGs 1600 pixels wide whose text
and lines are drawn at that size, and status messages that count right."""

import numpy as np
import pytest
from gui_helpers import run_to_end, small_data
from PIL import Image
from PySide6.QtWidgets import QGraphicsItem

from gui.qt.window import exports


@pytest.fixture
def trained(window, qtbot):
    small_data(window)
    assert run_to_end(qtbot, window, epochs=10) == "completed"
    return window


def rgb(image) -> np.ndarray:
    return exports.qimage_to_rgb(image).astype(int)


def frames_of(path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB")).astype(int))
    return frames


def dark(picture: np.ndarray, below: int = 100) -> np.ndarray:
    """Text, axes and frames: dark grey pixels (the markers and the heatmap are coloured)."""
    return (picture.max(2) < below) & (picture.max(2) - picture.min(2) < 24)


def dark_columns(picture: np.ndarray) -> np.ndarray:
    """How many dark pixels each column holds: the axes' and the colour bar's lines, the labels."""
    return dark(picture).sum(0)


def test_every_gif_frame_has_the_layout_of_the_others_the_first_included(trained, tmp_path):
    path = tmp_path / "run.gif"
    assert trained.files.export_animation(path, frames=3)
    frames = frames_of(path)
    assert len(frames) == 3 and len({f.shape for f in frames}) == 1
    width = frames[0].shape[1]
    bar = slice(int(width * 0.8), width)  # the colour bar, its ticks and its label: the same in every frame
    for frame in frames[1:]:
        assert np.abs(frames[0][:, bar] - frame[:, bar]).mean() < 1.0
    # The axes (and the colour bar's frame) stand in the same columns, the y axis's line included.
    assert np.array_equal(dark_columns(frames[0]) > 0.5 * frames[0].shape[0],
                          dark_columns(frames[-1]) > 0.5 * frames[0].shape[0])
    # The title ("Run A, epoch 0") is whole: its glyphs start below the picture's top edge, as in every frame.
    tops = [int(np.argmax(dark(f)[: f.shape[0] // 8].any(1))) for f in frames]
    assert tops[0] > 0 and max(tops) - min(tops) <= 1


def test_a_gif_drawn_without_an_event_loop_is_laid_out_too(trained, tmp_path):
    """write_gif itself lays the plot out: a caller whose tick processes no events gets the same frames."""
    path = tmp_path / "plain.gif"
    assert exports.write_gif(path, trained.session, 2) == 2
    first, last = frames_of(path)
    bar = slice(int(first.shape[1] * 0.8), first.shape[1])
    assert np.abs(first[:, bar] - last[:, bar]).mean() < 1.0


def test_one_frame_is_one_frame_in_the_status_bar(trained, tmp_path):
    assert trained.files.export_animation(tmp_path / "one.gif", frames=1)
    assert "an animation of 1 frame to" in trained.last_message
    assert trained.files.export_animation(tmp_path / "two.gif", frames=2)
    assert "an animation of 2 frames to" in trained.last_message


def neutral_tones(picture: np.ndarray) -> tuple[int, int]:
    """How many grey pixels are dark (the inside of strokes and glyphs) and how many are mid grey
    (their antialiased edges): a sharp picture has few edges for its strokes, an enlarged one many."""
    grey = picture.max(2) - picture.min(2) < 12
    level = picture.mean(2)
    return int((grey & (level < 90)).sum()), int((grey & (level >= 90) & (level < 215)).sum())


@pytest.mark.parametrize("name", ["boundary", "loss"])
def test_png_exports_are_slide_sized_with_text_and_lines_drawn_at_that_size(trained, tmp_path, name):
    window = trained
    plot = window.boundary_plot if name == "boundary" else window.loss_plot
    export = getattr(window.files, f"export_{name}_png")
    before = plot.grab().toImage()
    assert export(tmp_path / "slide.png"), window.files.last_error
    assert export(tmp_path / "screen.png", plot.viewport().width())  # the width given: the screen's scale
    slide = np.asarray(Image.open(tmp_path / "slide.png").convert("RGB")).astype(int)
    screen = np.asarray(Image.open(tmp_path / "screen.png").convert("RGB")).astype(int)
    assert slide.shape[1] == exports.PNG_WIDTH >= 1600
    scale = slide.shape[1] / screen.shape[1]
    assert scale > 2 and abs(slide.shape[0] - screen.shape[0] * scale) <= 1  # the plot's own aspect ratio
    # Lines scaled: the y axis's line is about ``scale`` pixels thick, not one.
    long_lines = lambda picture: int((dark_columns(picture) > 0.4 * picture.shape[0]).sum())  # noqa: E731
    assert long_lines(screen) >= 1 and long_lines(slide) >= 2 * long_lines(screen)
    # Text and strokes drawn sharp at that size: as much antialiased edge for their dark cores as on the
    # screen (an enlarged, smoothed screen picture has several times more: 4.5 times for bilinear).
    core_screen, edge_screen = neutral_tones(screen)
    core_slide, edge_slide = neutral_tones(slide)
    assert core_slide > 0.5 * scale ** 2 * core_screen
    assert edge_slide / core_slide < 2 * edge_screen / core_screen
    # Nor the screen's pixels repeated (nearest neighbour): the glyphs are drawn anew, in other pixels.
    repeated = np.asarray(Image.open(tmp_path / "screen.png").convert("RGB").resize(
        (slide.shape[1], slide.shape[0]), Image.Resampling.NEAREST)).astype(int)
    assert (dark(slide) ^ dark(repeated)).sum() > 0.3 * (dark(slide) | dark(repeated)).sum()
    # The window's plot is as it was: caches and pyqtgraph's own painting are back, the axes look the same
    # (the data inside the view box may have been redrawn meanwhile: the run's last frame arriving).
    for item in plot.scene().items():
        assert "paint" not in vars(item)
    assert all(plot.getPlotItem().getAxis(a).cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache
               for a in ("left", "bottom"))
    box = plot.mapFromScene(plot.getPlotItem().vb.sceneBoundingRect()).boundingRect()
    outside = np.ones((before.height(), before.width()), bool)
    outside[box.top():box.bottom() + 1, box.left():box.right() + 1] = False
    assert np.array_equal(rgb(before)[outside], rgb(plot.grab().toImage())[outside])
