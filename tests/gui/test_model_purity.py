"""The playground's models stay free of Qt (napari's rule): they can be used and tested without a QApplication."""

import subprocess
import sys

QT_FREE = ["gui.experiment", "gui.session", "gui.timeline", "gui.trainer", "gui.messages", "gui.boundary",
           "gui.weights", "gui.lesson", "gui.pace", "gui.points", "gui.inside", "gui.batch_steps",
           "gui.units_wanted"]


def test_the_run_model_imports_no_qt():
    probe = (f"import sys\nfor name in {QT_FREE!r}:\n    __import__(name)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'pyqtgraph', 'shiboken6'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_probe_would_see_qt():
    probe = "import sys\nimport gui.worker\nprint('PySide6' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "True"
