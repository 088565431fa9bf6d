"""``python -m gui --screenshot FILE --epochs N`` in a subprocess: it trains, saves a PNG and exits."""

import os
import struct
import subprocess
import sys
from pathlib import Path

from gui_helpers import PNG_SIGNATURE

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


def test_screenshot_of_a_bad_file_says_so_and_still_renders(tmp_path):
    bad, shot = tmp_path / "bad.minidl", tmp_path / "shot.png"
    bad.write_bytes(b"not a model")
    done = playground(tmp_path, bad, "--screenshot", shot, "--epochs", 1)
    assert done.returncode == 0, done.stderr
    assert "error: Could not open bad.minidl" in done.stderr and "Traceback" not in done.stderr
    assert png_size(shot)[0] > 0 and "after 1 epochs (completed)" in done.stdout


def test_screenshot_into_a_missing_folder_fails_with_status_1(tmp_path):
    done = playground(tmp_path, "--screenshot", tmp_path / "missing" / "shot.png", "--epochs", 1)
    assert done.returncode == 1
    assert "could not save" in done.stdout and "Traceback" not in done.stderr
