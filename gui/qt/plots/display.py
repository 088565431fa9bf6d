"""What the plots and the metrics line show, driven by the session's events.

During a run the worker's messages are drawn as they come (the loss curve, its frames, its
metrics). Everything else, the weights of a new network, the end of a run, an epoch picked on
the timeline, is drawn from a *copy* of the weights by :class:`Preview`: on the GUI thread when
the network is small (a few milliseconds), in a thread of its own when it is wide, so that no
GUI-thread operation waits on a large network's image.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from gui.model.session import PAUSED, RUNNING, Session
from gui.model.tasks import error_words
from gui.model.weights import ViewRequest, compute_view
from gui.qt.plots.plots import output_bound
from gui.qt.window.background import Background

# Multiply-adds of one preview (grid and data rows times parameters) done on the GUI thread; the
# report's network needs 1.7e7 (about 3 ms). Above this a preview runs in its own thread.
SYNC_LIMIT = 5e7


class Preview(QObject):
    """Computes a :class:`ViewRequest`; ``ready(request, image, metrics)`` brings the result.
    Only the newest request counts: one made while another computes replaces the waiting one."""

    ready = Signal(object, object, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.background = Background(self)

    @staticmethod
    def cost(request: ViewRequest) -> float:
        rows = request.grid.shape[0] + request.data.X_train.shape[0] + request.data.X_test.shape[0]
        return float(rows) * request.flat.numel()

    def request(self, request: ViewRequest) -> None:
        if self.cost(request) <= SYNC_LIMIT and not self.background.busy:
            self.ready.emit(request, *compute_view(request))
            return
        self.background.submit(lambda: compute_view(request), lambda result: self.ready.emit(request, *result))

    def wait(self) -> None:
        self.background.wait()


class Display(QObject):
    """Keeps ``boundary_plot``, ``loss_plot``, the progress bar and the metrics line in step."""

    def __init__(self, session: Session, boundary_plot, loss_plot, run_panel, show_test_check, parent=None):
        super().__init__(parent)
        self.session, self.boundary_plot, self.loss_plot = session, boundary_plot, loss_plot
        self.progress, self.metrics_label, self.show_test = run_panel.progress, run_panel.metrics, show_test_check
        self.preview = Preview(self)
        self._frame_epoch = -1  # the epoch of the run's last frame
        self.preview.ready.connect(self._show_preview)
        events = session.events
        events.connect("progress", self._progress)
        events.connect("frame", self._frame)
        events.connect("model", self.redraw)
        events.connect("experiment", self._experiment)
        events.connect("finished", self._finished)
        events.connect("seek", self._seek)
        events.connect("started", self.boundary_plot.reset_range)  # a run's colours never shrink
        show_test_check.toggled.connect(lambda _: self._show_points())
        self.redraw()

    # -- from the session ----------------------------------------------------------------
    def redraw(self) -> None:
        # The colour scale is fixed by what the output can reach (2 after a Tanh), or grows with
        # what this network has shown: the same colour means the same number throughout.
        self.boundary_plot.set_output_bound(output_bound(self.session.experiment.blocks))
        self.boundary_plot.reset_range()
        self._show_points()
        self._show_history()
        self._show_metrics()
        if self.session.has_model:
            self.draw_epoch(self.session.seek_epoch)
        else:  # an invalid stack: no stale picture of the previous network
            self.boundary_plot.clear_image()

    def _experiment(self) -> None:
        # New data always comes with a ``model`` event, which redraws the points; an edit of eta
        # or of the epochs (a dozen a second while a spin box is held) need not.
        self._show_progress()
        self._show_metrics()

    def _progress(self, message) -> None:
        self._show_history()
        if self.session.seek_epoch is None:
            self._show_metrics()

    def _frame(self, frame) -> None:
        self._frame_epoch = frame.epoch
        if self.session.seek_epoch is None:
            self.boundary_plot.show_image(frame.image, self.session.extent)

    def _finished(self, _reason, _text) -> None:
        # A run that completes sends its last epoch's picture and metrics itself; computing them
        # again here would hold the GUI thread (and the GIL) 3-130 ms at the end of every run. A stop,
        # a divergence or a failure ends without them: those are drawn from the weights kept.
        s, epoch = self.session, self.session.history.epochs
        if self._frame_epoch == epoch and s.metrics is not None and s.metrics.epoch == epoch:
            self._show_metrics()  # the same numbers, without the "paused" of a run stopped while paused
            return
        self.draw_epoch(None)

    def _seek(self, epoch) -> None:
        if epoch is None and self.session.running:
            self._show_metrics()  # the next frame brings the head's picture
            return
        self.draw_epoch(epoch)

    def draw_epoch(self, epoch: int | None) -> None:
        """Draw the plots and metrics of ``epoch`'s snapshot (None: the current weights), computed off the GUI
        thread where it is costly."""
        request = self.session.view_request(epoch)
        if request is not None:
            self.preview.request(request)

    @Slot(object, object, object)
    def _show_preview(self, request, image, metrics) -> None:
        s = self.session
        wanted = s.seek_epoch
        if wanted is None and s.running:
            return  # the run's own frames draw the head
        if wanted is not None and s.timeline is not None and s.timeline.nearest(wanted) != request.epoch:
            return  # an older request, overtaken by a newer seek
        if image is not None:
            self.boundary_plot.show_image(image, s.extent)
        if wanted is None:
            s.record_metrics(metrics)
        self._show_metrics(metrics)

    # -- drawing ----------------------------------------------------------------------------
    def _show_points(self) -> None:
        self.boundary_plot.show_points(self.session.data, self.show_test.isChecked())

    def _show_history(self) -> None:
        self.loss_plot.show_history(self.session.history, self.session.target_epoch)
        self._show_progress()

    def _show_progress(self) -> None:
        s = self.session
        total = max(s.target_epoch, s.experiment.epochs)
        # QProgressBar.setValue repaints at once, inside this Python call, so with the GIL held:
        # 0.3-1.4 ms a message that the training thread waited for. With updates off the value is
        # only set, and turning them on again schedules the repaint for the event loop.
        self.progress.setUpdatesEnabled(False)
        self.progress.setRange(0, total)
        self.progress.setValue(min(s.history.epochs, total))
        self.progress.setUpdatesEnabled(True)

    def _show_metrics(self, metrics=None) -> None:
        s = self.session
        epoch, total = s.history.epochs, max(s.target_epoch, s.experiment.epochs)
        if s.building:
            self.metrics_label.setText("Drawing the initial weights of this wide network…")
            return
        if not s.has_model:
            self.metrics_label.setText(f"Epoch {epoch} of {total} · the network is not valid yet: "
                                       "fix it (see the note under the blocks) to train")
            return
        if s.seek_epoch is not None:
            if metrics is None:
                return  # drawn when the preview of that epoch is ready
            shown = metrics.epoch
            prefix = f"Timeline: epoch {shown} of {epoch}"
        else:
            metrics = metrics or s.metrics
            shown, prefix = epoch, f"Epoch {epoch} of {total}"
        # A live run measures its test loss and errors 4 times a second and sends progress 10 times: between
        # two measures the line keeps the last ones, with their epoch, so that it does not blink.
        earlier = metrics is not None and s.seek_epoch is None and s.running and 0 < metrics.epoch < shown
        if metrics is None or metrics.test_loss is None or shown == 0 or (metrics.epoch != shown and not earlier):
            hint = ""
            if epoch == 0 and s.state not in (RUNNING, PAUSED):
                hint = " · press Run (F5) to train, or Step (F7) for one epoch"
            self.metrics_label.setText(prefix + hint)
            return
        train = s.history.train[shown - 1]
        paused = " · paused" if s.state == PAUSED and s.seek_epoch is None else ""
        at = f" (test and errors at epoch {metrics.epoch})" if metrics.epoch != shown else ""
        # The train loss is the mean over the epoch's batches, each measured before its step; the test loss
        # and both errors are measured with the weights at the epoch's end. The words say which is which.
        errors = error_words(metrics.train_error, metrics.test_error, s.experiment.task)
        self.metrics_label.setText(
            f"{prefix} · train loss {train:.4f} (mean over the epoch) · at the epoch's end: test loss "
            f"{metrics.test_loss:.4f}, {errors}{paused}{at}")
