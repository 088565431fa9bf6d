"""gui/ in packages that show its architecture, and the README's layout map that names them: a newcomer
who reads the map finds any module in one guess."""

import re
from pathlib import Path

import pytest

import gui

ROOT = Path(__file__).resolve().parents[2]
GUI = Path(gui.__file__).resolve().parent


def readme_map() -> dict[str, set[str]]:
    """``{folder: modules}`` from the code block of the README's "## Layout" section: a line that
    starts with ``name/`` (indented two spaces a level) opens a folder; its modules follow."""
    text = (ROOT / "README.md").read_text("utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    folders: dict[str, set[str]] = {}
    path: list[str] = []
    for line in block.splitlines():
        opened = re.match(r"( *)([\w.]+)/\s", line + " ")
        if opened:
            depth = len(opened.group(1)) // 2
            path = [*path[:depth], opened.group(2)]
        if path and path[0] == "gui":
            folders.setdefault("/".join(path), set()).update(re.findall(r"\b(\w+\.py)\b", line))
    return folders


def test_gui_holds_only_packages_and_its_entry_points():
    """Every module sits in a package; at the top only ``python -m gui`` and the documented
    ``gui.main_window`` remain."""
    top = sorted(p.name for p in GUI.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "main_window.py"]


def test_the_readme_maps_every_folder_and_module():
    folders = {str(p.parent.relative_to(GUI.parent)): {m.name for m in p.parent.glob("*.py")} - {"__init__.py"}
               for p in GUI.rglob("__init__.py")}
    assert readme_map() == folders


def test_every_package_is_in_the_wheel():
    """pyproject.toml lists its packages by hand (gui.resources is a mapped folder): a new package must
    be listed, or the wheel would lack it."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("gui", "minidl")
             for p in (ROOT / top).rglob("__init__.py")}
    assert found <= listed, f"missing from [tool.setuptools] packages: {sorted(found - listed)}"
