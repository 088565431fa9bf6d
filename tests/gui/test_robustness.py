"""Widget values at and beyond their limits, data controls, and a random run that must not leak workers.

The uncaught-exception dialog and the memory check live in test_stress.py."""

import gc
import os
import random
import weakref

import numpy as np
import pytest
from gui_helpers import WAIT_MS, find, heatmap, run_to_end, small_data
from PySide6.QtCore import QThread, QtMsgType
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLabel, QSpinBox

from gui.qt.runner import ProcessRun, QtRun, TrainingWorker
from gui.training import process as training_process


@pytest.mark.parametrize("name, tried, expected", [
    ("etaSpin", [0.0, -1.0, 1e-9, 1e9, float("inf")], [1e-6, 1e-6, 1e-6, 10.0, 10.0]),
    ("epochsSpin", [0, -5, 10**7], [1, 1, 1_000_000]),
    ("batchSizeSpin", [0, -1, 10**6], [1, 1, 100_000]),
    ("linearWidthSpin", [0, -3, 10**6], [1, 1, 16_384]),
    ("seedSpin", [-1, 2**31 - 1], [0, 2**31 - 1]),
    ("trainSizeSpin", [0, 10**6], [10, 100_000]),
    ("noiseSpin", [-1.0, 3.0], [0.0, 0.5]),
])
def test_out_of_range_values_are_clamped_and_the_experiment_stays_valid(window, name, tried, expected):
    kind = QDoubleSpinBox if name in ("etaSpin", "noiseSpin") else QSpinBox
    spin = find(window, kind, name)
    for value, clamped in zip(tried, expected, strict=True):
        spin.setValue(value)
        assert spin.value() == clamped, (name, value)
        assert window.session.experiment.validate() == [], (name, value)


def test_fewer_points_than_the_batch_keep_the_choice_and_use_the_whole_set(window, qtbot):
    batch = find(window, QSpinBox, "batchSizeSpin")
    batch.setValue(100)
    find(window, QSpinBox, "trainSizeSpin").setValue(40)
    assert batch.value() == 100 and window.session.experiment.batch_size == 100  # not silently clamped
    assert window.session.experiment.validate() == [] and window.session.experiment.effective_batch_size == 40
    assert "each step uses all 40" in find(window, QLabel, "validationLabel").text()  # and said so
    assert window.session.data.X_train.shape == (40, 2)
    assert run_to_end(qtbot, window, epochs=2) == "completed"
    find(window, QSpinBox, "trainSizeSpin").setValue(1000)  # back: the user's 100 is still there
    assert batch.value() == 100 and window.session.experiment.effective_batch_size == 100
    assert find(window, QLabel, "validationLabel").text() == ""


def test_data_controls_regenerate_the_same_data_from_the_same_seed(window):
    seed = find(window, QSpinBox, "seedSpin")
    first = window.session.data.X_train.clone()
    seed.setValue(5)
    assert not np.array_equal(window.session.data.X_train.numpy(), first.numpy())
    seed.setValue(0)
    assert np.array_equal(window.session.data.X_train.numpy(), first.numpy())
    combo = find(window, QComboBox, "datasetCombo")
    for name in ("XOR", "Gaussian blobs", "Spiral", "Disc"):
        combo.setCurrentText(name)
        assert window.session.experiment.dataset == name
        assert window.session.experiment.validate() == [] and window.session.model is not None
    assert np.array_equal(window.session.data.X_train.numpy(), first.numpy())
    find(window, QDoubleSpinBox, "noiseSpin").setValue(0.2)
    assert window.session.experiment.noise == 0.2
    assert not np.array_equal(window.session.data.X_train.numpy(), first.numpy())
    find(window, QSpinBox, "testSizeSpin").setValue(30)
    assert window.session.data.X_test.shape == (30, 2) and window.session.experiment.n_test == 30
    assert window.boundary_plot.test_points.getData()[0].shape == (30,)


def test_changing_the_data_redraws_the_initial_weights(window, qtbot):
    small_data(window)
    before = heatmap(window)
    run_to_end(qtbot, window, epochs=3)
    find(window, QSpinBox, "seedSpin").setValue(1)
    find(window, QSpinBox, "seedSpin").setValue(0)
    assert window.session.history.epochs == 0
    np.testing.assert_array_equal(heatmap(window), before)


def test_eta_spin_turns_nan_into_a_value_in_range(window):
    eta = find(window, QDoubleSpinBox, "etaSpin")
    eta.setValue(float("nan"))
    assert 1e-6 <= eta.value() <= 10.0 and window.session.experiment.eta == eta.value()
    assert window.session.experiment.validate() == []


def rss_mb() -> float:
    """This process's resident memory and the training process's, in MB."""
    with open("/proc/self/status") as status:
        own = next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))
    process = training_process.shared(start=False)
    return own + (0.0 if process is None else process.rss_mb())


ACTIONS = ("run", "pause", "step", "stop", "reset", "eta", "let it finish")
STRESS_ACTIONS = int(os.environ.get("GUI_STRESS_ACTIONS", "200"))


def _alive(thread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # its C++ object is gone: it finished and was deleted
        return False


def _recording(init, workers: weakref.WeakSet, made: list):
    def recorded(run, *args, **kwargs):
        init(run, *args, **kwargs)
        workers.add(run)
        made.append(type(run).__name__)

    return recorded


def test_random_run_controls_never_crash_hang_or_leak(window, qtbot, qtlog, monkeypatch):
    """Run/Pause/Step/Stop/Reset and eta changes in random order with short random waits."""
    rng = random.Random(int(os.environ.get("GUI_STRESS_SEED", "20240601")))
    # Every run made (a thread's worker or the process's run, with its job and model), as it is made.
    workers, made = weakref.WeakSet(), []
    for kind in (TrainingWorker, ProcessRun):
        monkeypatch.setattr(kind, "__init__", _recording(kind.__init__, workers, made))
    # The training threads (a run in a thread of the window); the window's other threads (work off the GUI
    # thread, such as the inspector's statistics) may outlive a run and are not counted here.
    training_threads = []
    init_qt_run = QtRun.__init__
    monkeypatch.setattr(QtRun, "__init__", lambda run, *a: (init_qt_run(run, *a), training_threads.append(run.thread)))
    small_data(window, n_train=100, n_test=100, batch=10)
    find(window, QSpinBox, "epochsSpin").setValue(15)
    eta = find(window, QDoubleSpinBox, "etaSpin")
    finished, memory = [], []
    window.trainingFinished.connect(finished.append)
    for index in range(STRESS_ACTIONS):
        if index == STRESS_ACTIONS // 4:
            memory.append(rss_mb())
        action = rng.choice(ACTIONS)
        if action == "eta":
            eta.setValue(rng.choice([1e-4, 1e-3, 1e-2]))
        elif action == "let it finish":
            # until the run ends, or pauses after a pending Step
            qtbot.waitUntil(lambda: not window.session.running or window.session.state == "paused", timeout=WAIT_MS)
        else:
            getattr(window.session, action)()
        if rng.random() < 0.5:
            qtbot.wait(rng.randint(0, 4))  # the random short delay the stress test asks for
        # The session's state and the threads agree: a live run has its one training thread (it may just
        # have finished, its Finished still queued); an idle session has none.
        alive = [t for t in training_threads if _alive(t)]
        if window.session.running:
            assert len(alive) <= 1
        else:
            assert alive == [], f"{len(alive)} training thread(s) alive while the session is {window.session.state}"
            process = training_process.shared(start=False)
            assert process is None or not process.busy, f"the training process is busy while the session is " \
                f"{window.session.state}"
    memory.append(rss_mb())
    window.close()
    assert not window.session.running
    assert memory[1] - memory[0] < 30, f"memory grew from {memory[0]:.0f} to {memory[1]:.0f} MB"
    assert set(finished) <= {"completed", "stopped"} and "completed" in finished and "stopped" in finished
    assert np.isfinite(window.session.history.train).all()
    qtbot.waitUntil(lambda: len(window.findChildren(QThread)) == 0, timeout=WAIT_MS)  # deleteLater ran
    gc.collect()
    assert len(made) >= finished.count("completed")  # the runs went through the recorded workers
    assert len(workers) == 0, f"{len(workers)} finished runs (and their models) are still alive"
    warnings = [r.message for r in qtlog.records if r.type != QtMsgType.QtDebugMsg
                and "propagateSizeHints" not in r.message]
    assert warnings == []

