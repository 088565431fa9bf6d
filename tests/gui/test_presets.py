"""File › Examples and the default experiment load the shipped presets in every way the project runs.

In-process tests import ``gui`` from the checkout (pytest puts it first on ``sys.path``), which
hides how an installed copy finds its presets. The subprocess tests run from a folder outside
the checkout: one through the installed (editable, as ``make run`` and ``make test`` install it)
package, one through a plain checkout on ``PYTHONPATH`` with no site-packages finders at all.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from PySide6.QtGui import QAction

from gui.model.experiment import Experiment
from gui.qt.window import file_menu as files

ROOT = Path(__file__).resolve().parents[2]
STEMS = ("report", "xor", "spiral", "blobs")
LOAD_ALL = ("import gui, gui.qt.window.file_menu as f; "
            "print(gui.__file__); "
            f"[print(n, len(f.preset(n).blocks)) for n in {[s + '.json' for s in STEMS]!r}]; "
            "print('report', f.report_experiment() == f.preset('report.json'))")


def shipped(stem: str) -> Experiment:
    return Experiment.from_json((ROOT / "resources" / f"{stem}.json").read_text("utf-8"))


@pytest.mark.parametrize("stem", STEMS)
def test_each_example_opens_through_the_menu(window, stem):
    action = window.findChild(QAction, f"exampleAction_{stem}")
    assert action is not None, f"no QAction named exampleAction_{stem}"
    assert action.toolTip()
    if stem == "report":  # the window opens with the report: start elsewhere, so the menu has to act
        window.findChild(QAction, "exampleAction_xor").trigger()
    action.trigger()
    assert window.files.last_error is None
    assert window.session.experiment == shipped(stem)
    assert window.layers.blocks() == shipped(stem).blocks
    assert window.session.experiment is not files.preset(f"{stem}.json")  # a fresh copy each time


def test_every_shipped_preset_is_in_the_menu():
    on_disk = {p.stem for p in (ROOT / "resources").glob("*.json")}
    assert on_disk == {Path(name).stem for name in files.PRESETS.values()} == set(STEMS)


def test_the_window_opens_with_the_shipped_report_and_logs_nothing(caplog):
    with caplog.at_level(logging.WARNING, logger="gui"):
        experiment = files.report_experiment()
    assert experiment == shipped("report")
    assert json.loads((ROOT / "resources" / "report.json").read_text())["epochs"] == experiment.epochs
    assert not caplog.records


def test_a_missing_report_preset_is_logged_and_the_app_still_starts(monkeypatch, caplog):
    def missing(name):
        raise FileNotFoundError(f"the preset {name} is missing")

    monkeypatch.setattr(files, "preset_path", missing)
    with caplog.at_level(logging.ERROR, logger="gui"):
        experiment = files.report_experiment()
    assert experiment == Experiment()
    assert any("report.json is missing" in r.getMessage() for r in caplog.records)


def test_an_unknown_preset_names_where_it_looked():
    with pytest.raises(FileNotFoundError, match="nothing.json is missing: looked in"):
        files.preset("nothing.json")


def run_outside_checkout(tmp_path, *args, env=None):
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONPATH"} | (
        {"PYTHONPATH": env["PYTHONPATH"]} if env and "PYTHONPATH" in env else {})
    return subprocess.run([sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def assert_all_presets_load(done, gui_folder: Path) -> None:
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert Path(lines[0]).resolve().parent == gui_folder
    assert lines[1:] == ["report.json 8", "xor.json 4", "spiral.json 8", "blobs.json 5", "report True"], done.stdout


def test_presets_load_from_the_installed_package(tmp_path):
    """The editable install of ``make run`` / ``make test`` (or a wheel): ``gui`` found by site-packages."""
    where = run_outside_checkout(tmp_path, "-c", "import importlib.util as u; s = u.find_spec('gui'); "
                                 "print(s.origin if s else '')")
    installed = where.stdout.strip()
    if not installed:
        pytest.skip("the project is not installed in this interpreter (make test installs it editable)")
    if Path(installed).resolve().parents[1] != ROOT:
        pytest.skip(f"the installed gui is another checkout's ({installed}), not this one's")
    assert_all_presets_load(run_outside_checkout(tmp_path, "-c", LOAD_ALL), ROOT / "gui")


def site_packages() -> list[str]:
    return list(dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib")))


def test_presets_load_from_a_plain_checkout_on_pythonpath(tmp_path):
    """No install at all: ``-S`` skips site-packages' .pth finders; the dependencies come by path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *site_packages()])}
    assert_all_presets_load(run_outside_checkout(tmp_path, "-S", "-c", LOAD_ALL, env=env), ROOT / "gui")


def project_copy(tmp_path) -> Path:
    """The files a build reads, copied, so that building leaves no build/ or egg-info in the checkout."""
    pytest.importorskip("setuptools", reason="building the project needs setuptools (the dev venv has it)")
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    for name in ("gui", "minidl", "resources"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def build(copy: Path, hook: str) -> Path:
    """Call setuptools' PEP 517/660 hook in ``copy`` and return the wheel. Nothing is installed:
    ``pip install`` would first uninstall the project from this very interpreter's environment."""
    out = copy.parent / hook
    done = subprocess.run([sys.executable, "-c", f"from setuptools import build_meta; build_meta.{hook}({str(out)!r})"],
                          cwd=copy, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


def unpack(wheel: Path, site: Path) -> list[str]:
    """Install a pure-Python wheel the way pip does at heart: unpack it into a site folder."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        return archive.namelist()


@pytest.mark.slow
def test_presets_load_from_an_editable_install(tmp_path):
    """What ``make run`` and ``make test`` install (``pip install -e``): setuptools' editable finder."""
    copy = project_copy(tmp_path)
    names = unpack(build(copy, "build_editable"), tmp_path / "site")
    assert any(name.endswith("finder.py") for name in names), f"not a finder-based editable wheel: {names}"
    add = "; ".join(f"site.addsitedir({str(d)!r})" for d in (tmp_path / "site", *site_packages()))
    # -S, then the temporary site first: its .pth installs its finder before any other editable copy's.
    done = run_outside_checkout(tmp_path, "-S", "-c", f"import site; {add}; {LOAD_ALL}")
    assert_all_presets_load(done, copy / "gui")


def test_presets_load_from_a_built_wheel(tmp_path):
    names = unpack(build(project_copy(tmp_path), "build_wheel"), tmp_path / "site")
    assert {f"gui/resources/{stem}.json" for stem in STEMS} <= set(names)
    assert "gui/resources/screenshot.png" not in names  # the README's pictures stay out of the app
    assert "gui/resources/features.png" not in names
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), *site_packages()])}
    assert_all_presets_load(run_outside_checkout(tmp_path, "-S", "-c", LOAD_ALL, env=env),
                            tmp_path / "site" / "gui")
