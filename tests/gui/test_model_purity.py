"""The playground's Qt-free packages stay free of Qt (napari's rule): they can be used and tested without a
QApplication. import-linter's contract in pyproject.toml reads the imports of whole packages (``make test``
runs ``lint-imports``); these tests check that the contract is there and holds, that it would catch a
breach, and, at run time, that importing every Qt-free module loads no Qt."""

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QT_FREE = ("gui.model", "gui.training", "gui.files")
QT = ("PySide6", "pyqtgraph")
LINT = ("import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(no_cache=True))")


def pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def lint(folder: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("importlinter")
    return subprocess.run([sys.executable, "-c", LINT], cwd=folder, capture_output=True, text=True, timeout=120)


def test_the_contract_forbids_qt_in_the_qt_free_packages_and_the_engine():
    linter = pyproject()["tool"]["importlinter"]
    assert linter["include_external_packages"] is True  # else imports of PySide6 are not in the graph
    forbidden = [c for c in linter["contracts"] if c["type"] == "forbidden"]
    assert any({*QT_FREE, "minidl"} <= set(c["source_modules"]) and set(QT) <= set(c["forbidden_modules"])
               for c in forbidden)
    assert any(c["source_modules"] == ["minidl"] and "gui" in c["forbidden_modules"] for c in forbidden)


def test_the_contract_holds():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and " 0 broken" in done.stdout


def test_the_contract_would_see_qt(tmp_path):
    for name in ("gui", "minidl", "pyproject.toml"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    with open(tmp_path / "gui" / "files" / "script.py", "a") as module:
        module.write("\nfrom pyqtgraph import mkPen  # noqa: E402, F401\n")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert "gui.files.script -> pyqtgraph" in done.stdout


def test_every_qt_free_module_imports_without_qt():
    """At run time too: no module of the Qt-free packages pulls Qt in, directly or through a lazy import."""
    names = [m.name for package in QT_FREE for m in pkgutil.walk_packages(
        [str(ROOT / Path(*package.split(".")))], prefix=package + ".")]
    assert len(names) > 20  # the walk found the packages' modules
    probe = (f"import sys\nfor name in {names!r}:\n    __import__(name)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'pyqtgraph', 'shiboken6'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_probe_would_see_qt():
    probe = "import sys\nimport gui.qt.runner\nprint('PySide6' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.stdout.strip() == "True"
