"""Opening hostile or odd files from the playground: special files, nesting, non-finite and half-precision
weights; saving through symlinks. Each open that must fail returns False with a sentence and changes nothing."""

import contextlib
import os
import stat
import sys
import threading

import pytest
import torch

import minidl.io
from gui.files import experiment_file
from gui.model import experiment as exp
from gui.model import history


def refused(window, path, *phrases):
    """Open ``path``; it must fail with a sentence that names it and holds ``phrases``."""
    before = window.session.experiment.to_json(), window.session.model
    window.files.last_error = None
    assert window.files.open(path) is False
    title, text = window.files.last_error
    assert title == "Cannot open file" and path.name in text and "The current experiment is unchanged" in text
    assert all(phrase in text for phrase in phrases), text
    assert (window.session.experiment.to_json(), window.session.model) == before
    window.files.dialog.close()
    return text


@contextlib.contextmanager
def unblocked_after(seconds, unblock):
    """Call ``unblock`` if the body still runs after ``seconds``: a regression fails, it never hangs."""
    timer = threading.Timer(seconds, unblock)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextlib.contextmanager
def memory_cap(extra):
    """Cap the address space at its size now plus ``extra`` bytes: a read of /dev/zero to the end
    fails with MemoryError instead of eating the machine."""
    import resource

    with open("/proc/self/status") as status:
        now = int(next(line for line in status if line.startswith("VmSize:")).split()[1]) * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (now + extra, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_opening_a_fifo_is_refused_at_once(window, tmp_path):
    fifo = tmp_path / "pipe.minidl"
    os.mkfifo(fifo)

    def unblock():  # a reader stuck in open() sees end-of-file
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    with unblocked_after(10, unblock):
        refused(window, fifo, "it is a named pipe (FIFO), not a regular file")


@pytest.mark.skipif(sys.platform != "linux", reason="/dev/zero, /proc and rlimits")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_opening_a_symlink_to_a_device_is_refused_with_a_sentence(window, tmp_path, device):
    link = tmp_path / "model.minidl"
    link.symlink_to(device)
    with memory_cap(2 << 30):
        refused(window, link, "it is a device, not a regular file")


def deeply_nested_experiment(window, path):
    nested = "[" * 100_000 + "]" * 100_000
    minidl.io.write(path, window.session.experiment.build_model(), metadata={"experiment": nested})
    return path


def test_a_deeply_nested_experiment_is_a_sentence_not_a_recursion_error(window, tmp_path):
    with pytest.raises(ValueError, match="the experiment settings are not valid JSON"):
        exp.Experiment.from_json("[" * 100_000 + "]" * 100_000)
    path = deeply_nested_experiment(window, tmp_path / "nested.minidl")
    refused(window, path, "the experiment settings are not valid JSON")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_file_with_non_finite_weights_is_refused(window, tmp_path, value):
    model = window.session.experiment.build_model()
    model.parameters()[0][0, 0] = value
    with pytest.raises(ValueError, match="NaN or infinite"):  # the playground never writes one
        experiment_file.save(tmp_path / "diverged.minidl", window.session.experiment, model, history.History())
    # an older playground did: minidl's own writer still can
    minidl.io.write(tmp_path / "diverged.minidl", model, metadata={"experiment": window.session.experiment.to_json()})
    refused(window, tmp_path / "diverged.minidl", "holds weights that are not finite", "training diverged")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_weights_open_as_the_playgrounds_float32(window, tmp_path, dtype):
    model = window.session.experiment.build_model().to(dtype)
    experiment_file.save(tmp_path / "half.minidl", window.session.experiment, model, history.History())
    assert window.files.open(tmp_path / "half.minidl")
    assert window.session.model.dtype == torch.float32
    opened = window.session.model.parameters()
    assert all(torch.equal(a, b.float()) for a, b in zip(opened, model.parameters(), strict=True))


@pytest.mark.skipif(os.name != "posix", reason="symlinks and permission bits")
def test_saving_through_a_symlink_keeps_the_link_and_the_mode(window, tmp_path):
    (tmp_path / "class").mkdir()
    target = tmp_path / "class" / "shared.minidl"
    target.write_bytes(b"old")
    target.chmod(0o664)
    link = tmp_path / "mine.minidl"
    link.symlink_to(target)
    assert window.files.save_to(link)
    assert link.is_symlink() and stat.S_IMODE(target.stat().st_mode) == 0o664
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["class", "mine.minidl", "shared.minidl"]
    assert window.files.open(link)
