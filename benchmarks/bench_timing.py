"""The trainer's timing on the real clock: what the tests count on a fake one (gui_helpers.FakeClock).

    python benchmarks/bench_timing.py      # a few seconds

1. a paced run (20 epochs/s, 6 epochs): its wall time against the five waits planned (0.25 s);
2. a Stop during a slow pace (0.2 epochs/s): how long the run takes to end after it, against the
   pace's slice (``gui.model.pace.SLICE``, 20 ms) and a batch's wait (1.25 s);
3. progress messages a second with the GUI thread idle and fully busy (the ``load`` command 0 and 1),
   ``progress_hz`` 400: the ratio against ``max_stretch``;
4. the report's job (130 kB) sent to a training process still importing torch: how long the GUI's
   send takes, and whether the pipe took all of it at once.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minidl  # noqa: E402
from gui.model import pace  # noqa: E402
from gui.model.experiment import Experiment  # noqa: E402
from gui.model.session import Session  # noqa: E402
from gui.training import process as training_process  # noqa: E402
from gui.training.control import RunControl  # noqa: E402
from gui.training.job import Job, TrainerConfig  # noqa: E402
from gui.training.messages import Progress  # noqa: E402
from gui.training.trainer import Trainer  # noqa: E402


def job(epochs: int, speed: float | None = None, n_train: int = 100, batch_size: int = 25, load: float = 0.0,
        config: TrainerConfig | None = None) -> Job:
    s = Session(Experiment(n_train=n_train, n_test=50, batch_size=batch_size, epochs=epochs))
    optimizer = minidl.SGD(1e-3)
    control = RunControl(optimizer, 1, pace.Pace(speed), load=load)
    return Job(s.model, s.data, optimizer, epochs, batch_size, 1, s.grid, control, config=config or TrainerConfig())


def paced_run() -> None:
    j = job(6, speed=20)
    start = time.perf_counter()
    Trainer(j, lambda _m: None).run()
    print(f"1. paced run: {time.perf_counter() - start:.3f} s for 0.250 s of waits planned")


def stop_during_a_slow_pace() -> None:
    j = job(5, speed=0.2)
    ended = []
    thread = threading.Thread(target=lambda: (Trainer(j, lambda _m: None).run(), ended.append(time.perf_counter())))
    thread.start()
    time.sleep(0.3)
    stopped = time.perf_counter()
    j.control.stop()
    thread.join(10)
    print(f"2. stop during a slow pace: the run ended {1000 * (ended[0] - stopped):.1f} ms after it "
          f"(slice {1000 * pace.SLICE:.0f} ms, a batch's wait 1250 ms)")


def messages_a_second() -> None:
    config = TrainerConfig(progress_hz=400)
    rates = {}
    for share in (0.0, 1.0):
        j, messages = job(400, n_train=200, batch_size=10, load=share, config=config), []
        start = time.perf_counter()
        Trainer(j, messages.append).run()
        rates[share] = sum(isinstance(m, Progress) for m in messages) / (time.perf_counter() - start)
    print(f"3. progress messages a second: {rates[0.0]:.0f} idle, {rates[1.0]:.0f} busy, ratio "
          f"{rates[0.0] / rates[1.0]:.2f} (max_stretch {config.max_stretch:g})")


def job_to_a_starting_process() -> None:
    s = Session(Experiment())
    optimizer = s.experiment.build_optimizer()
    j = Job(s.model, s.data, optimizer, 5, 100, 1, s.grid, RunControl(optimizer, 1), snapshot_wanted=s.timeline.rule(1))
    spec = training_process.dumps(("job", training_process.job_spec(j, 1)))
    process = training_process.TrainingProcess()
    try:
        start = time.perf_counter()
        process.send_bytes(spec)
        took = time.perf_counter() - start
        print(f"4. the report's job ({len(spec) / 1024:.0f} kB) to a starting process: {1000 * took:.2f} ms, "
              f"{'all in the pipe' if not process.commands.pending else 'part of it queued'}")
    finally:
        process.close()


if __name__ == "__main__":
    paced_run()
    stop_during_a_slow_pace()
    messages_a_second()
    job_to_a_starting_process()
