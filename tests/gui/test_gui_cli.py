"""``python -m gui --screenshot FILE --epochs N`` in a subprocess: it trains, saves a PNG and exits."""

import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import PNG_SIGNATURE

from gui.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def playground(tmp_path, *args, timeout=120):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path)}  # keep settings and logs out of the real user's folders
    return subprocess.run([sys.executable, "-m", "gui", *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_screenshot_trains_and_saves_a_png(tmp_path):
    shot = tmp_path / "shot.png"
    done = playground(tmp_path, "--screenshot", shot, "--epochs", 5)
    assert done.returncode == 0, done.stderr
    width, height = png_size(shot)
    assert width >= 800 and height >= 500 and shot.stat().st_size > 10_000
    assert f"saved {shot} after 5 epochs (completed)" in done.stdout
    assert "Traceback" not in done.stderr


def nested_file(folder: Path) -> Path:
    """An experiment file whose metadata nests 100,000 lists deep (issue 16, item 2)."""
    from gui.files import experiment_file
    from gui.model import experiment as exp
    from gui.model import history

    class Nested(exp.Experiment):
        def to_json(self) -> str:
            return "[" * 100_000 + "]" * 100_000

    path = folder / "nested.minidl"
    experiment_file.save(path, Nested(), exp.Experiment().build_model(), history.History())
    return path


def bad_file(folder: Path) -> Path:
    path = folder / "bad.minidl"
    path.write_bytes(b"not a model")
    return path


@pytest.mark.parametrize("make", [bad_file, nested_file])
def test_screenshot_of_a_file_that_does_not_open_fails_and_saves_nothing(tmp_path, make):
    bad, shot = make(tmp_path), tmp_path / "shot.png"
    done = playground(tmp_path, bad, "--screenshot", shot, "--epochs", 1)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert f"error: Could not open {bad.name}" in done.stderr and "Traceback" not in done.stderr
    assert f"no screenshot saved: {bad} did not open" in done.stderr
    assert not shot.exists() and "saved" not in done.stdout


def test_a_file_that_does_not_open_is_reported_on_stderr_and_the_window_still_opens(tmp_path):
    bad = nested_file(tmp_path)  # its RecursionError once escaped to a dialog nobody saw: exit 1, silent
    done = playground(tmp_path, bad, "--quit-when-shown")
    assert done.returncode == 0, done.stderr
    assert f"error: Could not open {bad.name}" in done.stderr and "Traceback" not in done.stderr
    assert "shown" in done.stdout


@pytest.mark.parametrize("epochs", ["0", "-5", "many"])
def test_epochs_below_one_are_refused(capsys, epochs):
    with pytest.raises(SystemExit) as exit_:
        main(["--screenshot", "never.png", "--epochs", epochs])  # argparse exits before any window exists
    assert exit_.value.code == 2 and "--epochs" in capsys.readouterr().err


def test_screenshot_into_a_missing_folder_fails_with_status_1(tmp_path):
    done = playground(tmp_path, "--screenshot", tmp_path / "missing" / "shot.png", "--epochs", 1)
    assert done.returncode == 1
    assert "could not save" in done.stdout and "Traceback" not in done.stderr
