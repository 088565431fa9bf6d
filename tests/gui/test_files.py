"""File menu: save/open round trips, bad files refused, failed saves harmless, PNG and CSV exports."""

import errno
import json
import os
import pickle
import random
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_helpers import (
    PNG_SIGNATURE,
    WAIT_MS,
    button,
    find,
    heatmap,
    run_to_end,
    small_data,
    start_long_run,
    train_curve,
)
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

import minidl.io
from gui.files import experiment_file
from gui.model import boundary
from gui.model import experiment as exp
from gui.qt.window import file_menu as files_module
from minidl import architecture


def trained(qtbot, window, epochs=5):
    small_data(window)
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.002)
    assert run_to_end(qtbot, window, epochs=epochs) == "completed"
    return window


def snapshot(window):
    """What must survive a failed open or save untouched."""
    s = window.session
    return (s.experiment.to_json(), s.model, [p.clone() for p in s.model.parameters()], s.history.train.copy(),
            s.path, heatmap(window))


def assert_unchanged(window, before):
    text, model, weights, losses, path, image = before
    assert window.session.experiment.to_json() == text
    assert window.session.model is model
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), weights, strict=True))
    np.testing.assert_array_equal(window.session.history.train, losses)
    assert window.session.path == path
    np.testing.assert_array_equal(heatmap(window), image)


# -- round trips ----------------------------------------------------------------------
def test_save_then_open_restores_the_boundary_history_and_settings(window, qtbot, tmp_path):
    trained(qtbot, window)
    shown = heatmap(window)
    np.testing.assert_allclose(shown, boundary.image(window.session.model, window.session.grid), atol=1e-5)
    path = tmp_path / "disc.minidl"
    assert window.files.save_to(path)
    assert window.session.path == path and path.stat().st_size > 0
    saved = window.session.experiment.to_json(), window.session.history.train.copy(), window.session.history.test.copy()
    saved_test_epochs = window.session.history.test_epochs.copy()
    weights = [p.clone() for p in window.session.model.parameters()]

    window.files.new()
    assert window.session.history.epochs == 0 and window.session.experiment.n_train == 1000
    assert not np.array_equal(heatmap(window), shown)

    assert window.files.open(path)
    np.testing.assert_array_equal(heatmap(window), shown)
    assert window.session.experiment.to_json() == saved[0]
    np.testing.assert_array_equal(window.session.history.train, saved[1])
    np.testing.assert_array_equal(window.session.history.test, saved[2])
    np.testing.assert_array_equal(window.session.history.test_epochs, saved_test_epochs)
    np.testing.assert_array_equal(train_curve(window), saved[1])
    assert all(torch.equal(a, b) for a, b in zip(window.session.model.parameters(), weights, strict=True))
    assert find(window, QDoubleSpinBox, "etaSpin").value() == 0.002
    assert find(window, QSpinBox, "trainSizeSpin").value() == 200
    assert find(window, QSpinBox, "epochsSpin").value() == 5
    assert window.run_panel.progress.value() == 5 and "Epoch 5 of 5" in window.run_panel.metrics.text()
    assert window.session.path == path and window.files.last_error is None


def test_training_on_after_open_equals_training_without_a_break(window, qtbot, tmp_path):
    trained(qtbot, window, epochs=3)
    assert window.files.save_to(tmp_path / "half.minidl")
    window.files.new()
    assert window.files.open(tmp_path / "half.minidl")
    assert run_to_end(qtbot, window) == "completed"  # three more
    resumed = window.session.history.train.copy()
    button(window, "resetButton").click()
    assert run_to_end(qtbot, window, epochs=6) == "completed"
    np.testing.assert_array_equal(resumed, window.session.history.train)


def test_save_without_a_path_asks_and_save_again_reuses_it(window, tmp_path, monkeypatch):
    chosen = tmp_path / "chosen.minidl"
    asked = []
    monkeypatch.setattr(files_module.QFileDialog, "getSaveFileName",
                        lambda *args, **kwargs: (asked.append(args) or str(chosen), ""))
    assert window.files.save()
    assert len(asked) == 1 and chosen.exists() and window.session.path == chosen
    assert Path(window.settings.value("lastFolder")) == tmp_path
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.05)
    assert window.files.save()
    assert len(asked) == 1  # no second dialog
    assert experiment_file.load(chosen).experiment.eta == 0.05


def test_cancelled_save_dialog_writes_nothing(window, tmp_path, monkeypatch):
    monkeypatch.setattr(files_module.QFileDialog, "getSaveFileName", lambda *args, **kwargs: ("", ""))
    assert not window.files.save()
    assert window.session.path is None and window.files.last_error is None


def test_open_dialog_opens_the_chosen_file(window, qtbot, tmp_path, monkeypatch):
    trained(qtbot, window, epochs=2)
    assert window.files.save_to(tmp_path / "a.minidl")
    window.files.new()
    monkeypatch.setattr(files_module.QFileDialog, "getOpenFileName",
                        lambda *args, **kwargs: (str(tmp_path / "a.minidl"), ""))
    window.files.open_dialog()
    assert window.session.history.epochs == 2 and window.session.path == tmp_path / "a.minidl"


# -- bad files --------------------------------------------------------------------------
class Payload:
    """Unpickling this would create ``marker``: proof that a file ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (Path(self.marker),)


def linear(width):
    return {"type": "Linear", "width": width}


def raw_safetensors(metadata: dict, tensors: dict) -> bytes:
    header = json.dumps({"__metadata__": metadata, **tensors}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 16


def written(folder: Path, model, experiment_json: str | None = None) -> bytes:
    """The bytes minidl.io.write produces for ``model`` (with an experiment, if given)."""
    path = folder / "scratch.minidl"
    minidl.io.write(path, model, metadata=None if experiment_json is None else {"experiment": experiment_json})
    return path.read_bytes()


def torch_saved(folder: Path, obj) -> bytes:
    path = folder / "scratch.pt"
    torch.save(obj, path)
    return path.read_bytes()


def bad_files(folder: Path, good: bytes) -> dict[str, bytes]:
    """Name -> content of files that must be refused."""
    from safetensors.torch import save as foreign_save

    report = exp.Experiment()
    settings = json.loads(report.to_json())
    model = report.build_model()
    huge = [{"type": "Linear", "width": 10**9}, {"type": "Linear", "width": 2}]
    header_length = struct.unpack("<Q", good[:8])[0]
    return {
        "random bytes": random.Random(0).randbytes(4096),
        "empty": b"",
        "seven bytes": good[:7],
        "truncated": good[: len(good) // 2],
        "header only": good[: 8 + header_length],
        "foreign safetensors": foreign_save({"x": torch.ones(3)}),
        "pickle payload": pickle.dumps(Payload(folder / "pwned")),
        "torch.save zip": torch_saved(folder, {"weight": torch.ones(2, 2)}),
        "model without experiment": written(folder, model),
        "wrong types": written(folder, model, json.dumps(settings | {"eta": "fast", "epochs": True})),
        "missing key": written(folder, model, json.dumps({k: v for k, v in settings.items() if k != "seed"})),
        "NaN eta": written(folder, model, report.to_json().replace('"eta": 0.001', '"eta": NaN')),
        "weights of other blocks": written(folder, model, exp.Experiment(blocks=[linear(2)]).to_json()),
        "one output": written(folder, architecture.build([linear(1)], 2), exp.Experiment(blocks=[linear(1)]).to_json()),
        "three inputs": written(folder, architecture.build(report.blocks, 3), report.to_json()),
        "absurd size": raw_safetensors(
            {"format": "minidl", "version": "1", "in_features": "2", "layers": json.dumps(huge),
             "experiment": json.dumps(settings | {"blocks": huge})},
            {"linear0.weight": {"dtype": "F32", "shape": [10**9, 2], "data_offsets": [0, 16]}}),
    }


def test_bad_files_are_refused_and_leave_the_experiment_untouched(window, qtbot, tmp_path):
    trained(qtbot, window, epochs=2)
    assert window.files.save_to(tmp_path / "good.minidl")
    good = (tmp_path / "good.minidl").read_bytes()
    before = snapshot(window)
    cases = bad_files(tmp_path, good)
    assert len(cases) == 16
    for name, content in cases.items():
        path = tmp_path / f"bad-{name.replace(' ', '-')}.minidl"
        path.write_bytes(content)
        window.files.last_error = None
        assert not window.files.open(path), name
        title, text = window.files.last_error
        assert title == "Cannot open file" and path.name in text and "unchanged" in text, (name, text)
        assert "Traceback" not in text
        assert_unchanged(window, before)
        window.files.dialog.close()
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("target", ["missing.minidl", "a-folder"])
def test_paths_that_are_not_files_are_refused(window, tmp_path, target):
    (tmp_path / "a-folder").mkdir()
    before = snapshot(window)
    assert not window.files.open(tmp_path / target)
    assert window.files.last_error[0] == "Cannot open file"
    assert_unchanged(window, before)


def test_float64_weights_open_as_the_playgrounds_float32(window, qtbot, tmp_path):
    report = exp.Experiment(n_train=200, n_test=200, batch_size=20)
    model = report.build_model().to(torch.float64)
    minidl.io.write(tmp_path / "f64.minidl", model, metadata={"experiment": report.to_json()})
    assert window.files.open(tmp_path / "f64.minidl")
    assert window.session.model.dtype == torch.float32
    assert run_to_end(qtbot, window, epochs=2) == "completed"


# -- failed saves -------------------------------------------------------------------------
def test_save_into_a_missing_folder_fails_with_a_message(window, tmp_path):
    target = tmp_path / "no-such-folder" / "e.minidl"
    before = snapshot(window)
    assert not window.files.save_to(target)
    title, text = window.files.last_error
    assert title == "Cannot save" and "e.minidl" in text and "still open" in text
    assert not target.parent.exists()
    assert_unchanged(window, before)


def test_a_failing_save_keeps_the_previous_file_and_the_open_experiment(window, tmp_path, monkeypatch):
    path = tmp_path / "keep.minidl"
    assert window.files.save_to(path)
    old = path.read_bytes()
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.25)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(minidl.io.os, "fsync", disk_full)
    assert not window.files.save_to(path)
    title, text = window.files.last_error
    assert "No space left" in text and "intact" in text
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.minidl"]  # no temporary file left
    assert window.session.experiment.eta == 0.25 and window.session.path == path


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_save_into_a_read_only_folder_keeps_the_previous_file(window, tmp_path):
    path = tmp_path / "ro.minidl"
    assert window.files.save_to(path)
    old = path.read_bytes()
    find(window, QDoubleSpinBox, "etaSpin").setValue(0.25)
    tmp_path.chmod(0o555)
    try:
        assert not window.files.save_to(path)
    finally:
        tmp_path.chmod(0o755)
    assert path.read_bytes() == old and window.session.experiment.eta == 0.25
    assert window.files.last_error[0] == "Cannot save"


def test_an_invalid_stack_cannot_be_saved(window, tmp_path):
    window.layers.list.setCurrentRow(6)
    find(window, QSpinBox, "selectedWidthSpin").setValue(3)
    assert not window.files.save_to(tmp_path / "x.minidl")
    assert "not valid" in window.files.last_error[1] and not (tmp_path / "x.minidl").exists()


# -- exports ---------------------------------------------------------------------------------
@pytest.mark.parametrize("export", ["export_boundary_png", "export_loss_png"])
def test_png_exports_are_real_pngs(window, qtbot, tmp_path, export):
    trained(qtbot, window, epochs=3)
    path = tmp_path / "plot.png"
    assert getattr(window.files, export)(path)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000
    image = QImage(str(path))
    assert not image.isNull() and image.width() > 100 and image.height() > 100
    assert len({image.pixel(x, image.height() // 2) for x in range(0, image.width(), 5)}) > 2  # not blank
    assert Path(window.settings.value("lastFolder")) == tmp_path


def test_export_into_a_missing_folder_fails_with_a_message(window, tmp_path):
    for export in (window.files.export_boundary_png, window.files.export_loss_png, window.files.export_loss_csv):
        window.files.last_error = None
        assert not export(tmp_path / "missing" / "out.file")
        assert window.files.last_error[0] == "Cannot export"
        window.files.dialog.close()
    assert not (tmp_path / "missing").exists()


def test_csv_export_has_a_header_and_one_row_per_epoch(window, qtbot, tmp_path):
    trained(qtbot, window, epochs=7)
    path = tmp_path / "loss.csv"
    assert window.files.export_loss_csv(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,train_loss,test_loss"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == 7 and [int(r[0]) for r in rows] == list(range(1, 8))
    np.testing.assert_allclose([float(r[1]) for r in rows], window.session.history.train, rtol=1e-6)
    tested = {int(r[0]): float(r[2]) for r in rows if r[2]}
    assert 7 in tested and list(tested) == window.session.history.test_epochs.tolist()
    np.testing.assert_allclose(list(tested.values()), window.session.history.test, rtol=1e-6)


# -- New and Open during a run ------------------------------------------------------------
def test_new_during_a_run_stops_the_worker_first(window, qtbot):
    small_data(window)
    start_long_run(qtbot, window)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        window.files.new_action.trigger()
    assert finished.args == ["stopped"] and not window.session.running
    assert window.session.experiment.to_json() == files_module.report_experiment().to_json()
    assert window.session.history.epochs == 0 and window.session.path is None


def test_open_during_a_run_stops_the_worker_first(window, qtbot, tmp_path):
    trained(qtbot, window, epochs=2)
    assert window.files.save_to(tmp_path / "two.minidl")
    start_long_run(qtbot, window)
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS) as finished:
        assert window.files.open(tmp_path / "two.minidl")
    assert finished.args == ["stopped"] and not window.session.running
    assert window.session.history.epochs == 2 and window.session.experiment.epochs == 2
    assert button(window, "runButton").isEnabled()


def test_a_bad_open_during_a_run_leaves_the_run_going(window, qtbot, tmp_path):
    small_data(window)
    start_long_run(qtbot, window)
    (tmp_path / "junk.minidl").write_bytes(b"junk")
    with qtbot.assertNotEmitted(window.trainingFinished):
        assert not window.files.open(tmp_path / "junk.minidl")
    assert window.session.running
    window.files.dialog.close()
    with qtbot.waitSignal(window.trainingFinished, timeout=WAIT_MS):
        button(window, "stopButton").click()
