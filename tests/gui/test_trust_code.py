"""A file's strings never become code: a kept run's words reach an exported script only inside a comment,
every script is compiled before it is written, and a block with a key it does not have is refused by every
reader (experiment files, runs sections, lessons)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication
from session_helpers import ROOT, InlineRun, small

from gui.files import experiment_file, runs_file
from gui.files import script as scripts
from gui.model import lesson
from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.qt.window import exports
from minidl import architecture

HOSTILE = [
    'x"""\nimport os; print("PWNED")\n"""',          # closes the docstring: code at the top level
    "eta \\U and \\N{ and \\x",                        # a docstring escape that does not compile
    "a\r\nimport os\rprint('PWNED')\x00\x0c\x85\u2028print('PWNED')\u2029\x1b[2J",  # every kind of line break
    "\ud800 a lone surrogate",                        # cannot even be encoded as UTF-8
]
EXPECTED_IMPORTS = {"base64", "numpy", "torch", "minidl", "minidl.data", "minidl.metrics", "minidl.schedules"}


def hostile_file(tmp_path, diff: str, epochs: int = 3):
    """An experiment file whose one kept run (the current one) has ``diff`` for its words."""
    s = small(epochs=epochs)
    assert s.run()
    s.runs[0].diff = diff
    meta, tensors = runs_file.to_file(s.runs, s.current_run, s.schedule)
    path = tmp_path / "hostile.minidl"
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=meta, extra_tensors=tensors)
    return path


def opened(path) -> Session:
    """``path`` opened as File › Open opens it (gui/qt/window/file_menu.py), without a window."""
    loaded = experiment_file.load(path)
    s = Session(runner=InlineRun)
    s.replace(loaded.experiment, loaded.model, loaded.history, loaded.timeline, path=path,
              optimizer_state=loaded.optimizer_state)
    s.adopt_runs(*runs_file.from_file(loaded.metadata, loaded.tensors))
    return s


def assert_harmless(text: str, diff: str) -> None:
    """``text`` compiles, imports only what a script needs, calls nothing named in ``diff``, and the words
    of ``diff`` appear only on comment lines."""
    tree = ast.parse(compile(text, "<exported script>", "exec", ast.PyCF_ONLY_AST))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= EXPECTED_IMPORTS, imported
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert "os" not in names
    printed = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Call) and "PWNED" in ast.unparse(n)]
    assert not printed
    pieces = [p.strip() for p in re.split(r"[\x00-\x1f\x85\u2028\u2029]+", diff)]
    pieces = [p for p in pieces if len(p) > 3 and p.isprintable()]
    for line in text.splitlines():
        if any(p in line for p in pieces):
            assert line.startswith("# "), line
    assert "\x00" not in text and "\r" not in text and "\u2028" not in text and "\x1b" not in text


@pytest.mark.parametrize("diff", HOSTILE, ids=["triple-quote", "escapes", "line-breaks", "surrogate"])
def test_a_kept_runs_words_from_a_file_stay_in_a_comment(tmp_path, diff):
    s = opened(hostile_file(tmp_path, diff))
    assert s.runs[0].diff == diff[:500]  # the words came from the file as they were
    for text in (exports.script_text(s, "A"), exports.script_text(s)):  # the kept run; the current weights
        assert_harmless(text, diff)
        text.encode("utf-8")  # the file can be written


def test_the_script_of_a_hostile_run_still_replays_it_and_runs_nothing_else(tmp_path):
    diff = HOSTILE[0]
    s = opened(hostile_file(tmp_path, diff))
    path = tmp_path / "replay.py"
    path.write_text(exports.script_text(s, "A"), "utf-8")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert "PWNED" not in out
    final = next(line for line in out.splitlines() if line.startswith("final train loss per point: "))
    assert np.float32(final.rpartition(" ")[2]) == s.runs[0].history.train[-1]


def test_every_entry_point_writes_a_script_that_compiles(window, tmp_path, qtbot):
    """File › Export as Python, Copy as code, and the runs table's Export this run / Copy as code."""
    diff = HOSTILE[0] + HOSTILE[1]
    assert window.files.open(hostile_file(tmp_path, diff), confirmed=True)
    exports_ = window.files.exports
    assert exports_.export_script(tmp_path / "current.py")
    assert exports_.export_script(tmp_path / "run_A.py", "A")
    assert exports_.copy_as_code()
    copied = QApplication.clipboard().text()
    assert exports_.copy_as_code("A")
    for text in ((tmp_path / "current.py").read_text("utf-8"), (tmp_path / "run_A.py").read_text("utf-8"), copied,
                 QApplication.clipboard().text()):
        assert_harmless(text, diff)


def test_a_script_that_does_not_compile_is_a_sentence_and_no_file(window, tmp_path, monkeypatch):
    assert window.files.open(hostile_file(tmp_path, "first run"), confirmed=True)
    monkeypatch.setattr(scripts, "network_code", lambda blocks, *_: "Sequential(")  # a generator bug
    with pytest.raises(ValueError, match="does not compile"):
        scripts.script(window.session.run_settings(), window.session.schedule, window.session.history.epochs)
    assert not window.files.exports.export_script(tmp_path / "broken.py")
    assert not (tmp_path / "broken.py").exists()
    title, text = window.files.last_error
    assert "does not compile" in text
    assert not window.files.exports.copy_as_code()


def test_settings_that_are_not_what_they_claim_are_refused_not_pasted():
    settings = {**asdict(Experiment()), "seed": "0\nimport os"}
    with pytest.raises(ValueError, match="seed"):
        scripts.script(settings, None, 3)


# -- blocks with keys they do not have ----------------------------------------------------------------------
EXTRA = [{"type": "Linear", "width": 8, "x": "__import__('os')"}, {"type": "Tanh"}, {"type": "Linear", "width": 2},
         {"type": "Tanh"}]


@pytest.mark.parametrize("blocks", [EXTRA, [{"type": "Linear", "width": 8}, {"type": "ReLU", "width": 3},
                                            {"type": "Linear", "width": 2}]], ids=["linear", "activation"])
def test_a_lesson_block_with_an_unknown_key_is_refused_naming_the_scene_and_the_key(blocks):
    text = json.dumps({"title": "L", "scenes": [{"title": "First"},
                                                {"title": "Odd", "experiment": {"blocks": blocks}}]})
    with pytest.raises(ValueError) as refused:
        lesson.parse(text)
    message = str(refused.value)
    assert message.startswith("scene 2 ('Odd')")
    assert ("'x'" if "x" in blocks[0] else "'width'") in message and "unknown key" in message


def test_an_experiment_file_block_with_an_unknown_key_is_refused():
    with pytest.raises(ValueError, match="unknown key 'x'"):
        Experiment.from_json(json.dumps({**asdict(Experiment()), "blocks": EXTRA}))
    with pytest.raises(ValueError, match="unknown key"):
        architecture.check(EXTRA, 2)


def test_a_runs_section_block_with_an_unknown_key_is_refused(tmp_path):
    loaded = experiment_file.load(hostile_file(tmp_path, "first run"))
    raw = json.loads(loaded.metadata["runs"])
    raw["runs"][0]["settings"]["blocks"] = EXTRA
    with pytest.raises(ValueError, match="run A's settings are damaged.*unknown key 'x'"):
        runs_file.from_file({"runs": json.dumps(raw)}, loaded.tensors)


@pytest.mark.parametrize("blocks", [[{"width": 8, "type": "Linear"}, {"type": "Tanh"}, {"type": "Linear", "width": 2},
                                     {"type": "Tanh"}], None], ids=["keys-in-another-order", "report"])
def test_a_lesson_scene_saved_opens_again(tmp_path, blocks):
    """Save after loading a lesson's scene, then Open: the file is one the playground reads."""
    scene = {"title": "S", "experiment": {"epochs": 3, "n_train": 100, "n_test": 100}}
    if blocks is not None:
        scene["experiment"]["blocks"] = blocks
    chosen = lesson.parse(json.dumps({"title": "L", "scenes": [scene]})).scene
    s = Session(Experiment.from_json(chosen.experiment.to_json()), runner=InlineRun)
    assert s.run()
    path = tmp_path / "scene.minidl"
    meta, tensors = runs_file.to_file(s.runs, s.current_run, s.schedule)
    experiment_file.save(path, s.experiment, s.model, s.history, s.timeline, optimizer=s.optimizer,
                         extra_metadata=meta, extra_tensors=tensors)
    again = opened(path)
    assert again.experiment.blocks == s.experiment.blocks and again.history.epochs == 3
