"""minidl stays a from-scratch engine: no Qt, no autograd, torch.nn only at the interop boundary, no pickle."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import minidl

SOURCES = sorted(Path(minidl.__file__).parent.glob("*.py"))
QT = {"PySide6", "PySide2", "PyQt5", "PyQt6", "pyqtgraph", "shiboken6"}
FORBIDDEN_TORCH = {"autograd", "optim"}
FORBIDDEN_ATTRIBUTES = {"requires_grad", "requires_grad_", "grad_fn", "retain_grad", "enable_grad"}


def dotted(node):
    """``torch.nn.functional`` for the expression ``torch.nn.functional``, None for anything else."""
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return base and f"{base}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else None


def violations(source: str, allow_torch_nn: bool = False) -> list[str]:
    """What the engine must not do, found in one file's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute):
            names = [dotted(node) or ""]
            if node.attr in FORBIDDEN_ATTRIBUTES:
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.keyword) and node.arg == "requires_grad":
            found.append("requires_grad= keyword")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "backward" \
                and not node.args and not node.keywords:
            found.append(f"line {node.lineno}: .backward() (autograd's)")
        for name in names:
            parts = name.split(".")
            if parts[0] in QT:
                found.append(f"Qt: {name}")
            if parts[0] in ("pickle", "marshal", "shelve", "dill") or name in ("torch.load", "torch.save"):
                found.append(f"pickle: {name}")
            if parts[0] == "torch" and len(parts) > 1 and parts[1] in FORBIDDEN_TORCH:
                found.append(f"autograd/optim: {name}")
            if parts[0] == "torch" and len(parts) > 1 and parts[1] == "nn" and not allow_torch_nn:
                found.append(f"torch.nn: {name}")
    return found


def test_the_scanner_sees_what_it_looks_for():
    bad = ("import pyqtgraph\nfrom PySide6 import QtCore\nfrom torch import nn, autograd\nimport torch.optim\n"
           "x.requires_grad_()\ny = torch.zeros(1, requires_grad=True)\nloss.backward()\nimport pickle\n"
           "torch.nn.functional.relu(x)\n")
    assert len(violations(bad)) >= 9
    assert violations("import torch\nmodule.backward(grad)\nx = torch.addmm(b, x, w)\n") == []


def test_the_glob_finds_the_engine():
    # A separate test: an empty glob would skip every parametrized case below without a failure.
    assert len(SOURCES) >= 12 and {"module.py", "plan.py", "checks.py"} <= {p.name for p in SOURCES}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_engine_sources_are_pure(path):
    assert violations(path.read_text(), allow_torch_nn=path.name == "interop.py") == []


def test_only_interop_mentions_torch_nn():
    users = {p.name for p in SOURCES if any("torch.nn" in v for v in violations(p.read_text()))}
    assert users == {"interop.py"}


def test_importing_minidl_loads_no_qt():
    code = ("import sys, json, minidl, minidl.data, minidl.io, minidl.interop, minidl.metrics, minidl.architecture; "
            f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(QT)!r})))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(result.stdout) == []
