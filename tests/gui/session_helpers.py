"""Qt-free helpers for the session's tests: a runner that trains inline, a small session, a
plain-torch reference forward, and running an exported script."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import torch

from gui.model.experiment import Experiment
from gui.model.session import Session
from gui.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
ACTS = {"ReLU": torch.relu, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid}


class InlineRun:
    """A runner that trains in the caller's thread: ``session.run()`` returns when the run is over."""

    def __init__(self, job, deliver):
        self.job = job
        Trainer(job, deliver).run()

    def command(self, name: str, *args) -> None:
        self.job.control.apply(name, *args)

    def wait(self, *_) -> bool:
        return True

    def close(self) -> None:
        pass


def small(**changes) -> Session:
    """A session of 100 + 100 points in batches of 10, 6 epochs a Run, trained inline."""
    settings = {"n_train": 100, "n_test": 100, "batch_size": 10, "epochs": 6, **changes}
    return Session(Experiment(**settings), runner=InlineRun)


def forward_all(blocks, params, X) -> list[torch.Tensor]:
    """Each block's output by plain torch ops: h = act(h W^T + b)."""
    outs, h, k = [], X, 0
    for block in blocks:
        if block["type"] == "Linear":
            h = h @ params[2 * k].T + params[2 * k + 1]
            k += 1
        else:
            h = ACTS[block["type"]](h)
        outs.append(h)
    return outs


def run_script(text: str, tmp_path) -> dict[str, str]:
    """Run ``text`` as a script (PYTHONPATH: this repository); its printed ``key: value`` lines."""
    path = tmp_path / "replay.py"
    path.write_text(text, "utf-8")
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines() if ":" in line)}


def once_during_run(s: Session, before: int, action) -> list[int]:
    """Call ``action()`` once, from the first progress message before epoch ``before``, as a person does
    during a run; returns the list that gets the epoch it was made at. A message comes every epoch
    (``progress_hz`` raised): at the real rate a fast machine sends none before the end."""
    s.trainer_config = dataclasses.replace(s.trainer_config, progress_hz=1e6)
    done: list[int] = []

    def once(_message):
        if not done and s.history.epochs < before:
            done.append(s.history.epochs)
            action()

    s.events.connect("progress", once)
    return done


def edit_once_during_run(s: Session, monkeypatch, before: int, **changes) -> list[int]:
    """Make ``s.edit(**changes)`` once during a run (:func:`once_during_run`)."""
    return once_during_run(s, before, lambda: s.edit(**changes))
