"""File › Export's hand-over items: animation, SVG, model, torch state dict, Python script, Copy as code.

The writing is in :mod:`gui.qt.window.exports`; this module asks for a path, shows a cancellable progress
dialog for the animation, and turns every failure into a sentence (nothing half-written stays).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProgressDialog

from gui.qt.window import exports

ANIMATION_FRAMES = 60


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 frame", "12 frames"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


class ExportActions:
    """The export items of ``files`` (a :class:`gui.qt.window.file_menu.FileActions`) and their work."""

    def __init__(self, files):
        self.files, self.window = files, files.window
        self.progress: QProgressDialog | None = None

    def build(self, menu) -> None:
        a, dialog = self.files._action, self.files._export_dialog
        menu.addSeparator()
        self.animation_action = a(menu, "Export &animation (GIF)…",
                                  lambda: dialog("run.gif", lambda p: self.export_animation(p, ANIMATION_FRAMES)),
                                  tip="The boundary over the run's timeline as an animated GIF, the epoch in "
                                      "each frame (for slides)")
        a(menu, "Export boundary as S&VG…", lambda: dialog("boundary.svg", self.export_boundary_svg),
          tip="The boundary plot as a scalable vector picture")
        a(menu, "Export loss plot as SV&G…", lambda: dialog("loss.svg", self.export_loss_svg),
          tip="The loss plot (with any compared runs) as a scalable vector picture")
        a(menu, "Export &model…", lambda: dialog("model.safetensors", self.export_model),
          tip="The trained network as a minidl model file: minidl.load(path) reads it")
        a(menu, "Export model as &torch state dict…", lambda: dialog("model.pt", self.export_torch),
          tip="The trained network as a torch.nn.Sequential state dict (torch.save)")
        self.script_action = a(menu, "Export as &Python script…", lambda: dialog("run.py", self.export_script),
                               tip="A standalone script that rebuilds this run with minidl and prints the "
                                   "same final loss")
        self.copy_code_action = a(menu, "Cop&y as code", self.copy_as_code, "Ctrl+Shift+C",
                                  "Copy that script to the clipboard (Ctrl+Shift+C)")

    def _write(self, path, what: str, write) -> bool:
        try:
            write(path)
        except (OSError, ValueError) as error:
            # a validation's sentence ends with its own full stop
            reason = (getattr(error, "strerror", None) or str(error)).rstrip(".")
            self.files.show_error("Cannot export", f"Could not export {what} to {Path(path).name}: {reason}.")
            return False
        self.files._remember(path)
        self.window.set_status(f"Exported {what} to {Path(path).name}.")
        return True

    # -- the exports ---------------------------------------------------------------------------
    def export_animation(self, path, frames: int = ANIMATION_FRAMES) -> bool:
        s = self.window.session
        self.progress = QProgressDialog("Drawing the animation…", "Cancel", 0, max(1, frames), self.window)
        self.progress.setObjectName("exportProgress")
        self.progress.setWindowTitle("Export animation")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(400)  # a short export never flashes a dialog

        def tick(done: int, total: int) -> bool:
            self.progress.setMaximum(total)
            self.progress.setValue(done)
            QApplication.processEvents()
            return not self.progress.wasCanceled()

        written = [0]
        name = f"Run {s.current_run.name}, " if s.current_run is not None else ""
        ok = self._write(path, "the animation",
                         lambda p: written.__setitem__(0, exports.write_gif(p, s, frames, tick, name,
                                                                               self.window.boundary_plot.palette)))
        self.progress.reset()
        if ok and not written[0]:
            self.window.set_status("Animation export cancelled: nothing was written.")
            return False
        if ok:
            self.window.set_status(f"Exported an animation of {counted(written[0], 'frame')} to {Path(path).name}.")
        return ok

    def export_boundary_svg(self, path) -> bool:
        return self._write(path, "the boundary plot", lambda p: exports.write_svg(p, self.window.boundary_plot))

    def export_loss_svg(self, path) -> bool:
        return self._write(path, "the loss plot", lambda p: exports.write_svg(p, self.window.loss_plot))

    def _model(self):
        model = self.window.session.model
        if model is None:
            raise ValueError("the network is not valid yet, so there is no model: "
                             + " ".join(self.window.session.validate()))
        return model

    def export_model(self, path) -> bool:
        return self._write(path, "the model", lambda p: exports.write_model(p, self._model()))

    def export_torch(self, path) -> bool:
        return self._write(path, "the torch state dict", lambda p: exports.write_torch_state_dict(p, self._model()))

    def export_script(self, path, run: str | None = None) -> bool:
        """The current run (or the kept run named ``run``) as a Python script."""
        from minidl.io import write_bytes_atomically

        text = lambda: exports.script_text(self.window.session, run).encode()  # noqa: E731
        return self._write(path, "the Python script", lambda p: write_bytes_atomically(Path(p), text()))

    def copy_as_code(self, run: str | None = None) -> bool:
        try:
            text = exports.script_text(self.window.session, run)
        except ValueError as error:
            self.files.show_error("Cannot copy as code", f"Could not write the script: {error}.")
            return False
        QApplication.clipboard().setText(text)
        self.window.set_status("Copied the run as a Python script: paste it into a file and run it.")
        return True
