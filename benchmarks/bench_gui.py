"""Playground benchmarks (offscreen), printed as ratios against targets measured in the same run.

    python benchmarks/bench_gui.py            # about a minute on a 2-core machine
    python benchmarks/bench_gui.py --ratio    # only measure 1, in both modes (half a minute)
    python benchmarks/bench_gui.py --compare  # measure 1 only, with three runs ticked for comparison
    python benchmarks/bench_gui.py --sweep    # measure 5 only (about a minute and a half on 2 cores)

1. epochs/s of a run in the playground with live plots, the network view and the inspector visible,
   vs the same run headless in minidl (>= 0.8x); and the same with those two docks closed;
2. event-loop latency during training: a 10 ms timer records how late it fires (p95 <= 50 ms);
3. time from starting ``python -m gui`` to the window shown, in a subprocess (<= 3 s);
4. resident memory after 20,000 epochs of the report's experiment vs after 1,000 (growth < 50 MB);
5. (--sweep) a sweep of 8 runs of the report's experiment (4 etas x 2 seeds) vs the same 8 runs one
   after the other with Run in the window (<= 0.7x on 2 cores): the first sweep starts its workers, the
   second finds them warm.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import minidl  # noqa: E402
from gui.model.experiment import Experiment  # noqa: E402
from gui.qt import runner as worker  # noqa: E402
from gui.qt.window.main_window import MainWindow  # noqa: E402
from gui.training import process as training_process  # noqa: E402

PAIRS = 21  # a run of the report's experiment lasts under a second: single pairs swing by +-0.15 on a VM


def rss_mb() -> float:
    """The playground's resident memory: this process's and its training process's."""
    process = training_process.shared(start=False)
    child = 0.0 if process is None else process.rss_mb()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024 + child
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + child


def headless_epochs_per_second(experiment: Experiment, epochs: int) -> float:
    data, model = experiment.make_data(), experiment.build_model()
    start = time.perf_counter()
    for _ in minidl.fit(model, data.X_train, data.y_train, epochs, experiment.batch_size,
                        minidl.SGD(experiment.eta)):
        pass
    return epochs / (time.perf_counter() - start)


def train_in_window(window: MainWindow, epochs: int, lateness: list[float] | None = None) -> float:
    """Run ``epochs`` more epochs in the window; return epochs per second (and fill ``lateness`` in ms)."""
    window.settings_panel.epochs_spin.setValue(epochs)
    loop, clock, timer = QEventLoop(), QElapsedTimer(), QTimer()
    expected = [0.0]
    if lateness is not None:
        def tick():
            now = clock.nsecsElapsed() / 1e6
            lateness.append(max(0.0, now - expected[0]))
            expected[0] = now + 10
        timer.timeout.connect(tick)
    window.trainingFinished.connect(loop.quit)
    before = window.session.history.epochs
    clock.start()
    if lateness is not None:  # only then: waking the GUI thread 100 times a second costs the training too
        timer.start(10)
    start = time.perf_counter()
    window.run()
    loop.exec()
    elapsed = time.perf_counter() - start
    timer.stop()
    window.trainingFinished.disconnect(loop.quit)
    return (window.session.history.epochs - before) / elapsed


def startup_seconds(repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gui", "--quit-when-shown"], cwd=ROOT, check=True,
                       capture_output=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def wide_network_gui_ms(app, window) -> tuple[float, str]:
    """The GUI thread's time for what froze it before (issue 9 item 8): a stack edit to
    2-4096-4096-2, a width edit, and Stop during a run; the weights and pictures are made elsewhere."""
    from gui.model.experiment import linear

    wide = [linear(4096), {"type": "ReLU"}, linear(4096), {"type": "ReLU"}, linear(2), {"type": "Tanh"}]
    times = {}

    def timed(name, action):
        start = time.perf_counter()
        action()
        app.processEvents()
        times[name] = 1000 * (time.perf_counter() - start)

    s = window.session
    s.edit(n_train=100, n_test=100, batch_size=100)
    timed("edit", lambda: s.edit(blocks=wide))
    timed("width edit", lambda: s.edit(blocks=[linear(4095), *wide[1:]]))
    loop = QEventLoop()
    window.trainingStarted.connect(loop.quit)
    s.run()  # starts once the weights are drawn
    loop.exec()
    window.trainingStarted.disconnect(loop.quit)
    time.sleep(2)
    timed("Stop button", window.stop_action.trigger)  # returns while the mini-batch in progress ends
    loop = QEventLoop()
    window.trainingFinished.connect(loop.quit)
    if s.running:
        loop.exec()
    window.builds.wait()
    window.display.preview.wait()
    return max(times.values()), ", ".join(f"{k} {v:.0f} ms" for k, v in times.items())


def speed_ratio(window, experiment, label: str) -> tuple:
    """Interleaved pairs, so a disturbance on the machine hits both sides alike."""
    headless, in_gui = [], []
    for _ in range(PAIRS):
        headless.append(headless_epochs_per_second(experiment, 1000))
        window.session.reset()
        in_gui.append(train_in_window(window, 1000))
    r = [g / h for g, h in zip(in_gui, headless, strict=True)]
    ratio = statistics.median(r)
    return (f"epochs/s in the playground / headless, {label}", ratio, ">= 0.8", ratio >= 0.8,
            f"{statistics.median(in_gui):.0f} vs {statistics.median(headless):.0f} epochs/s, "
            f"median of {PAIRS} pairs, each {min(r):.2f}-{max(r):.2f}")


def inside_views(window, visible: bool) -> None:
    """Show (or close) the network view and the inspector docks."""
    for dock in (window.network_dock, window.inspector_dock):
        dock.setVisible(visible)
    if visible:
        window.inspector_dock.raise_()
    QApplication.processEvents()


SWEEP_ETAS = [5e-4, 1e-3, 2e-3, 4e-3]


def sweep_seconds(app, window, loop: QEventLoop) -> float:
    """Wall time of ``session.sweep`` over :data:`SWEEP_ETAS` x 2 seeds, from the call to its end."""
    start = time.perf_counter()
    window.session.sweep({"eta": SWEEP_ETAS}, seeds=2)
    loop.exec()
    assert window.session.sweep_state == "finished" and sum(len(r["runs"]) for r in window.session.sweep_results()) == 8
    return time.perf_counter() - start


def sequential_seconds(window) -> float:
    """Wall time of the same 8 runs one after the other with Run in the window, each from fresh weights."""
    s = window.session
    start = time.perf_counter()
    for seed in (0, 1):
        for eta in SWEEP_ETAS:
            s.edit(eta=eta, seed=seed)
            s.reset()
            train_in_window(window, 1000)
    elapsed = time.perf_counter() - start
    s.edit(eta=1e-3, seed=0)
    s.reset()
    return elapsed


def sweep_ratio(app, window) -> list[tuple]:
    """ABBA, so that a drift in the machine's load falls on both: Runs, the sweep starting its workers, the
    sweep with its workers warm, Runs again."""
    loop = QEventLoop()
    window.session.events.connect("sweep", loop.quit)
    first = sequential_seconds(window)
    cold = sweep_seconds(app, window, loop)
    warm = sweep_seconds(app, window, loop)
    last = sequential_seconds(window)
    sequential = (first + last) / 2
    workers = window.session.sweeper.pool.size
    note = (f"8 runs: Run one after the other {first:.1f} and {last:.1f} s, sweep {{}} s ({workers} workers{{}}), "
            f"load {os.getloadavg()[0]:.1f}")
    return [("sweep / sequential Runs, workers started", cold / sequential, "<= 0.7", cold / sequential <= 0.7,
             note.format(f"{cold:.1f}", ", started by the sweep")),
            ("sweep / sequential Runs, workers warm", warm / sequential, "<= 0.7", warm / sequential <= 0.7,
             note.format(f"{warm:.1f}", ", warm"))]


def main() -> int:
    app = QApplication.instance() or QApplication([])
    settings = QSettings(str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench_gui.ini"), QSettings.Format.IniFormat)
    print(f"minidl playground GUI benchmark, {date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}")
    results = []

    experiment = Experiment()
    window = MainWindow(Experiment(), settings)
    window.confirm_discard = lambda: True
    window.resize(1400, 800)
    window.show()
    app.processEvents()
    worker.prewarm()  # the window starts it half a second after it is shown
    compare = "--compare" in sys.argv[1:]
    if compare:  # three kept runs ticked: their curves over the loss plot, their boundaries side by side
        for eta in (1e-3, 2e-3, 4e-3):
            window.session.reset()
            window.session.edit(eta=eta)
            train_in_window(window, 1000)
        window.session.edit(eta=1e-3)
        window.session.compare([r.name for r in window.session.runs[:3]])
    inside_views(window, True)
    assert window.network_view.isVisible() and window.inspector.isVisible()
    if "--sweep" in sys.argv[1:]:
        results += sweep_ratio(app, window)
        window.close()
        return report(results)
    results.append(speed_ratio(window, experiment, "network view and inspector shown"
                               + (f", comparing runs {', '.join(window.session.run_book.ticked)}" if compare else "")))
    if compare or "--ratio" in sys.argv:
        if not compare:
            inside_views(window, False)
            results.append(speed_ratio(window, experiment, "those docks closed"))
        window.close()
        return report(results)
    inside_views(window, False)
    results.append(speed_ratio(window, experiment, "those docks closed"))
    inside_views(window, True)
    lateness = []
    window.session.reset()
    train_in_window(window, 1000, lateness)  # its own run: the probe timer costs the GUI thread too
    p95 = statistics.quantiles(lateness, n=20)[-1]
    results.append(("event-loop lateness p95 (ms)", p95, "<= 50", p95 <= 50,
                    f"{len(lateness)} ticks, max {max(lateness):.1f} ms"))

    startup = startup_seconds()
    results.append(("start-up to window shown (s)", startup, "<= 3", startup <= 3.0, "median of 3 subprocesses"))

    window.session.reset()
    train_in_window(window, 1000)
    after_1000 = rss_mb()
    train_in_window(window, 20_000)
    growth = rss_mb() - after_1000
    results.append(("RSS growth 1,000 -> 20,000 epochs (MB)", growth, "< 50", growth < 50,
                    f"{after_1000:.0f} MB -> {after_1000 + growth:.0f} MB, {window.session.history.epochs} epochs"))
    slowest, note = wide_network_gui_ms(app, window)
    results.append(("longest GUI-thread step, 2-4096-4096-2 (ms)", slowest, "<= 100", slowest <= 100, note))
    window.close()
    return report(results)


def report(results) -> int:
    print(f"\n{'measure':42} {'value':>9}  {'target':>7}  ok   notes")
    for name, value, target, ok, note in results:
        print(f"{name:42} {value:9.2f}  {target:>7}  {'yes' if ok else 'NO ':4} {note}")
    return 0 if all(r[3] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
