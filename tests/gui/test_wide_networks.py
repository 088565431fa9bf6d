"""A wide network never makes the GUI thread wait (its weights and pictures are made elsewhere)."""

from __future__ import annotations

import threading

import torch
from gui_helpers import WAIT_MS, find, small_data
from PySide6.QtWidgets import QLabel, QPushButton

import minidl
from gui.model.experiment import linear
from gui.model.session import SYNC_BUILD
from gui.training.control import RunControl
from gui.training.job import Job, TrainerConfig
from gui.training.trainer import Trainer

# Just wide enough for both paths these tests are about: its weights are drawn off the GUI thread
# (over SYNC_BUILD parameters) and its grid passes run in chunks (over HEAVY multiply-adds).
# Wider stacks take the same paths, only slower.
WIDE = [linear(1024), {"type": "ReLU"}, linear(1024), {"type": "ReLU"}, linear(2), {"type": "Tanh"}]
WIDE_SIZE = minidl.architecture.check(WIDE, 2)  # 1,054,722 parameters


def test_the_wide_stack_takes_the_background_and_chunked_paths():
    assert WIDE_SIZE > SYNC_BUILD
    assert 10_000 * WIDE_SIZE > TrainerConfig().heavy


def test_a_wide_stack_is_drawn_in_the_background_and_run_waits_for_it(window, qtbot):
    small_data(window, n_train=50, n_test=50, batch=50)
    s = window.session
    builders = []
    real = minidl.architecture.build

    def recording_build(*args, **kwargs):
        builders.append(threading.get_ident())
        return real(*args, **kwargs)

    minidl.architecture.build = recording_build
    try:
        s.edit(blocks=WIDE)
        assert s.building and not s.has_model
        assert window.boundary_plot.heatmap.image is None  # not the previous network's picture
        assert "Drawing the initial weights" in find(window, QLabel, "metricsLabel").text()
        with qtbot.waitSignal(window.trainingStarted, timeout=WAIT_MS):
            s.step()  # waits for the weights, then trains one epoch
        qtbot.waitUntil(lambda: s.state == "paused", timeout=WAIT_MS)
        s.run()  # resume: mini-batches of a million-parameter network, and a chunked picture each epoch
        qtbot.waitUntil(lambda: s.history.epochs >= 2, timeout=WAIT_MS)
        states = []
        s.events.connect("state", states.append)
        with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
            find(window, QPushButton, "stopButton").click()  # returns while the mini-batch ends
            if s.state == "stopping":
                assert not any(b.isEnabled() for b in window.run_panel.buttons())
                assert "Stopping" in window.last_message
    finally:
        minidl.architecture.build = real
    assert builders and threading.get_ident() not in builders[:1]  # drawn off the GUI thread
    assert finished.args == ["stopped"] and states[-1] == "finished" and s.history.epochs >= 2
    assert s.snapshot_epochs()[-1] == s.history.epochs  # the weights of the last whole epoch
    qtbot.waitUntil(lambda: window.boundary_plot.heatmap.image is not None, timeout=WAIT_MS)  # drawn elsewhere too


def test_a_newer_edit_makes_a_network_still_being_drawn_moot(window, qtbot):
    s = window.session
    s.edit(blocks=WIDE)
    s.edit(blocks=[linear(8), {"type": "ReLU"}, linear(2)])  # small: drawn at once
    assert s.has_model and not s.building and window.builds.busy
    qtbot.waitUntil(lambda: not window.builds.busy, timeout=WAIT_MS)  # the wide one was delivered, and ignored
    assert [tuple(p.shape) for p in s.model.parameters()][0] == (8, 2)  # the late wide network was dropped


def test_a_stop_interrupts_a_wide_network_s_picture_between_chunks():
    model = minidl.architecture.build(WIDE, 2)
    model.setLoss(minidl.MSE())
    data = type("D", (), {})()
    optimizer = minidl.SGD(1e-3)
    control = RunControl(optimizer, 1)
    grid = torch.rand(10_000, 2)
    trainer = Trainer(Job(model, data, optimizer, 1, 10, 1, grid, control), lambda message: None)
    # The trainer's chunked passes themselves, this test's unit: no public path reaches them between chunks.
    assert trainer._chunk < grid.shape[0]  # chunked: 10,000 points x a million parameters
    control.stop()
    assert trainer._outputs(grid) is None and trainer._image() is None


def test_typing_a_width_rebuilds_the_network_once_when_the_edit_is_done(window, qtbot):
    from gui_helpers import layer_list
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QSpinBox

    edits = []
    window.layers.blocksChanged.connect(edits.append)
    layer_list(window).setCurrentRow(0)
    spin = find(window, QSpinBox, "selectedWidthSpin")
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "30")
    assert edits == []  # not at each keystroke
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert len(edits) == 1 and edits[0][0]["width"] == 30


def test_a_file_s_width_shows_as_it_is_up_to_minidl_s_own_limit(window, tmp_path):
    """One limit (16,384) for the widgets, the files and minidl."""
    from gui_helpers import layer_list
    from PySide6.QtWidgets import QSpinBox

    from gui.files import experiment_file
    from gui.model import experiment as exp
    from gui.model import history

    e = exp.Experiment(blocks=[linear(10_000), {"type": "ReLU"}, linear(2)], n_train=50, n_test=50, batch_size=10)
    experiment_file.save(tmp_path / "wide.minidl", e, e.build_model(), history.History())
    assert window.files.open(tmp_path / "wide.minidl")
    layer_list(window).setCurrentRow(0)
    assert find(window, QSpinBox, "selectedWidthSpin").value() == 10_000
    assert window.session.experiment.blocks[0]["width"] == 10_000
