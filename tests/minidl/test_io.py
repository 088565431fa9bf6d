"""Model files: safetensors with the architecture as metadata; round trip, atomic writes, hostile files."""

import json
import math
import os
import pickle
import random
import re
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save as safetensors_bytes
from safetensors.torch import save_file

import minidl
from minidl import Linear, ReLU, Sequential, Tanh
from minidl.io import read, write

NOT_OURS = r"model\.safetensors is not a minidl model file"
LAYERS = json.dumps([{"type": "Linear", "width": 3}, {"type": "Tanh"}])


def small_model(dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    return Sequential(Linear(2, 4, generator=gen, dtype=dtype), ReLU(), Linear(4, 3, generator=gen, dtype=dtype),
                      Tanh())


def ours(**changes):
    """Our metadata for a Linear(2 -> 3), Tanh network, with ``changes`` (None removes a key)."""
    meta = {"format": "minidl", "version": "1", "in_features": "2", "layers": LAYERS, **changes}
    return {k: v for k, v in meta.items() if v is not None}


def weights(**changes):
    return {"linear0.weight": torch.zeros(3, 2), "linear0.bias": torch.zeros(3), **changes}


def raw(header, body=b""):
    """A safetensors-shaped file: 8-byte little-endian header length, the JSON header, the body."""
    text = (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(text)) + text + body


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_round_trip_gives_the_same_predictions_exactly(tmp_path, dtype):
    model, x = small_model(dtype), torch.rand(50, 2, dtype=dtype)
    minidl.save(model, tmp_path / "model.safetensors")
    loaded = minidl.load(tmp_path / "model.safetensors")
    assert repr(loaded) == repr(model) and loaded.dtype == dtype
    assert torch.equal(loaded.predict(x), model.predict(x))
    assert all(torch.equal(a, b) for a, b in zip(loaded.parameters(), model.parameters(), strict=True))


def test_extra_metadata_and_tensors_travel_along(tmp_path):
    path = tmp_path / "experiment.safetensors"
    write(path, small_model(), metadata={"note": "hello"}, tensors={"history": torch.arange(5.0)})
    model, meta, tensors = read(path)
    assert meta == {"note": "hello"} and torch.equal(tensors["history"], torch.arange(5.0))
    with pytest.raises(ValueError, match=r"metadata keys \['layers'\] are reserved by the minidl format"):
        write(path, model, metadata={"layers": "[]"})


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch, failing):
    path = tmp_path / "model.safetensors"
    minidl.save(small_model(), path)
    old = path.read_bytes()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        minidl.save(small_model(torch.float64), path)
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["model.safetensors"]  # no temporary left


def bad_files():
    valid = safetensors_bytes(weights(), metadata=ours())
    deep = "[" * 100_000 + "]" * 100_000
    yield "empty file", b"", "0 bytes long, too short for a safetensors header"
    yield "random bytes", random.Random(0).randbytes(4096), "its header claims"
    yield "truncated header", valid[:40], "its header claims"
    yield "truncated body", valid[:-4], "points outside the file or has the wrong size"
    yield "header not JSON", raw("{not json"), "its header is not valid JSON"
    yield "header not UTF-8", struct.pack("<Q", 2) + b"\xff\xfe", "its header is not valid JSON"
    yield "header a list", raw([1, 2]), "its header is not a JSON object"
    yield "header nested too deep", raw(deep), "its header is not valid JSON"
    yield "header with a 5,000-digit number", raw('{"a": ' + "9" * 5000 + "}"), "its header is not valid JSON"
    yield "no metadata", safetensors_bytes(weights()), "it has no minidl metadata"
    yield "another program", safetensors_bytes(weights(), metadata={"format": "pt"}), "it has no minidl metadata"
    yield "newer version", safetensors_bytes(weights(), metadata=ours(version="2")), "format version '2'"
    for key in ("layers", "in_features"):
        yield f"missing {key}", safetensors_bytes(weights(), metadata=ours(**{key: None})), "missing or malformed"
    yield "layers not JSON", safetensors_bytes(weights(), metadata=ours(layers="[{")), "missing or malformed"
    yield "layers nested too deep", safetensors_bytes(weights(), metadata=ours(layers=deep)), "missing or malformed"
    yield "width of 5,000 digits", safetensors_bytes(weights(), metadata=ours(
        layers='[{"type": "Linear", "width": ' + "9" * 5000 + "}]")), "missing or malformed"
    yield "in_features a word", safetensors_bytes(weights(), metadata=ours(in_features="two")), "missing or malformed"
    yield "metadata not strings", raw({"__metadata__": {"format": "minidl", "version": "1", "in_features": "2",
                                                        "layers": [{"type": "Linear", "width": 3}]}}), "malformed"
    for layers, message in [({"type": "Linear"}, "the network has no layers"),
                            ([{"type": "Linear", "width": "3"}], r"layer 1 \(Linear\) needs a width from 1 to"),
                            ([{"type": "Linear", "width": 3.0}], r"layer 1 \(Linear\) needs a width"),
                            ([{"type": "Linear", "width": True}], r"layer 1 \(Linear\) needs a width"),
                            ([{"type": "Linear", "width": 0}], r"layer 1 \(Linear\) needs a width"),
                            ([{"type": "Conv2d"}], "layer 1 must have a type among Linear, ReLU, Tanh"),
                            (["Linear"], "layer 1 must have a type among"),
                            ([{"type": "ReLU"}], "the network has no Linear layer"),
                            ([{"type": "Linear", "width": 10**9}], r"needs a width from 1 to 16384, got 1000000000"),
                            ([{"type": "Linear", "width": 16384}] * 3, "the network would have over 50,000,000"),
                            ([{"type": "ReLU"}] * 300, "the network has 300 layers; at most 256")]:
        yield f"layers {json.dumps(layers)[:40]}", safetensors_bytes(weights(), metadata=ours(
            layers=json.dumps(layers))), message
    yield "in_features 10**9", safetensors_bytes(weights(), metadata=ours(in_features=str(10**9))), "input width"
    yield "in_features 0", safetensors_bytes(weights(), metadata=ours(in_features="0")), "input width"
    yield "tensor of wrong shape", safetensors_bytes(weights(**{"linear0.bias": torch.zeros(4)}), metadata=ours()), \
        r"tensor linear0.bias is missing or does not have shape \(3,\)"
    yield "tensor missing", safetensors_bytes({"linear0.weight": torch.zeros(3, 2)}, metadata=ours()), \
        "tensor linear0.bias is missing"
    yield "mixed dtypes", safetensors_bytes(weights(**{"linear0.bias": torch.zeros(3, dtype=torch.float64)}),
                                            metadata=ours()), "its weights mix dtypes"
    yield "int64 weights", safetensors_bytes({k: v.long() for k, v in weights().items()}, metadata=ours()), \
        "has dtype 'I64'; minidl files hold float16, bfloat16, float32 or float64 only"
    yield "bytes after the last tensor", valid + bytes(16), "16 bytes after its last tensor"
    huge = {"__metadata__": ours(), "linear0.weight": {"dtype": "F32", "shape": [10**9, 10**9],
                                                       "data_offsets": [0, 24]}}
    yield "absurd tensor shape", raw(huge, bytes(24)), "points outside the file or has the wrong size"


BAD_FILES = list(bad_files())


@pytest.mark.parametrize("data, message", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_files_are_refused_with_a_sentence_before_any_allocation(tmp_path, monkeypatch, data, message):
    def no_allocation(*args, **kwargs):
        raise AssertionError("a bad file reached the allocation of tensors")

    monkeypatch.setattr(minidl.io, "_read_tensors", no_allocation)
    monkeypatch.setattr(minidl.io.architecture, "build", no_allocation)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=f"{NOT_OURS}: .*{message}"):
        minidl.load(path)


class WritesMarker:
    """Unpickling this would create ``marker``: the payload of a hostile 'model file'."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return Path.write_text, (Path(self.marker), "code ran")


@pytest.mark.parametrize("maker", ["pickle", "torch.save"])
def test_a_pickle_renamed_to_safetensors_is_refused_without_running_it(tmp_path, maker):
    marker, path = tmp_path / "marker", tmp_path / "model.safetensors"
    if maker == "pickle":
        path.write_bytes(pickle.dumps({"weights": WritesMarker(marker)}))
    else:
        torch.save({"weights": WritesMarker(marker)}, path)
    assert b"write_text" in path.read_bytes()  # the payload really carries the call
    with pytest.raises(ValueError, match=NOT_OURS):
        minidl.load(path)
    assert not marker.exists()


def test_missing_files_and_folders_are_reported(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read .*nowhere.safetensors: No such file or directory"):
        minidl.load(tmp_path / "nowhere.safetensors")
    with pytest.raises(ValueError, match="cannot read"):
        minidl.load(tmp_path)


def test_a_file_saved_by_safetensors_with_our_metadata_loads(tmp_path):
    save_file(weights(**{"linear0.bias": torch.ones(3)}), tmp_path / "model.safetensors", metadata=ours())
    model = minidl.load(tmp_path / "model.safetensors")
    assert repr(model) == "Sequential(\n  (linear0): Linear(2 -> 3)\n  (tanh0): Tanh()\n)"
    torch.testing.assert_close(model.predict(torch.rand(4, 2)), torch.tanh(torch.ones(4, 3)))


def test_every_truncation_of_a_valid_file_is_refused(tmp_path):
    data, path = safetensors_bytes(weights(), metadata=ours()), tmp_path / "model.safetensors"
    for length in range(len(data)):
        path.write_bytes(data[:length])
        with pytest.raises(ValueError, match=NOT_OURS):
            minidl.load(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300) | st.builds(lambda prefix, rest: prefix + rest,
                                               st.sampled_from([raw({}), struct.pack("<Q", 2) + b"{}"]),
                                               st.binary(max_size=100)))
def test_random_bytes_never_escape_as_anything_but_value_error(tmp_path, data):
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="fuzz.safetensors is not a minidl model file"):
        minidl.load(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(0, 10**6), value=st.integers(0, 255))
def test_a_corrupted_byte_loads_or_is_refused(tmp_path, position, value):
    data = bytearray(safetensors_bytes(weights(), metadata=ours()))
    data[position % len(data)] = value
    path = tmp_path / "model.safetensors"
    path.write_bytes(bytes(data))
    try:
        model = minidl.load(path)
    except ValueError as error:
        assert "model.safetensors is not a minidl model file" in str(error)
    else:  # the byte fell among the weights, or changed nothing that matters
        assert isinstance(model, Sequential) and model.out_features == 3


# -- special and huge files (issue 16, item 1) --------------------------------------------------
def bounded(call, unblock, seconds=10.0):
    """``call()``'s exception, run in a thread; if it blocks, ``unblock()`` it and fail the test."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        unblock()
        thread.join(seconds)
        pytest.fail(f"the call blocked for {seconds} s")
    return outcome.get("error")


def unblock_fifo(fifo):
    """Open and close the write end: a reader blocked in open() then sees end-of-file."""
    def unblock():
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    return unblock


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("through", ["fifo", "symlink to a fifo"])
def test_a_fifo_is_refused_at_once_without_waiting_for_a_writer(tmp_path, through):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    path = fifo
    if through != "fifo":
        path = tmp_path / "link.safetensors"
        path.symlink_to(fifo)
    error = bounded(lambda: minidl.load(path), unblock_fifo(fifo))
    assert isinstance(error, ValueError)
    assert str(error) == (f"cannot read {path}: it is a named pipe (FIFO), not a regular file; "
                          "choose a file saved by minidl")


def test_a_folder_is_refused_with_a_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"cannot read .*: it is a folder, not a regular file"):
        minidl.load(tmp_path)


# Runs in a child whose address space is capped, so that a regression (reading /dev/zero
# to the end) fails with MemoryError instead of eating the machine; reports what each load
# said and how many bytes the process read meanwhile (rchar in /proc/self/io).
CHILD = r"""
import json, resource, sys
import minidl

with open("/proc/self/status") as status:  # the address space now (large with CUDA libraries), plus 2 GiB
    size = int(next(line for line in status if line.startswith("VmSize:")).split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + (2 << 30), resource.getrlimit(resource.RLIMIT_AS)[1]))

def bytes_read():
    with open("/proc/self/io") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])

results = {}
for path in sys.argv[1:]:
    before = bytes_read()
    try:
        minidl.load(path)
        said = "loaded"
    except (ValueError, MemoryError) as error:
        said = f"{type(error).__name__}: {error}"
    results[path] = [said, bytes_read() - before]
print(json.dumps(results))
"""
GIB = 1 << 30


def sparse(path, prefix, size):
    """A file of ``size`` bytes: ``prefix``, then a hole that reads as zeros (no disk used)."""
    with open(path, "wb") as file:
        file.write(prefix)
        file.truncate(size)
    return path


SPECIAL = {  # case: (file name, what the refusal says)
    "symlink to /dev/zero": ("zero.safetensors", "it is a device, not a regular file"),
    "symlink to /dev/urandom": ("urandom.safetensors", "it is a device, not a regular file"),
    "1 GiB of zeros": ("zeros.safetensors", "its header is not valid JSON"),
    "a valid header, then 1 GiB": ("padded.safetensors", "bytes after its last tensor"),
    "1 byte over the limit": ("big.safetensors", "it is 1,073,741,825 bytes, more than the 1,073,741,824 allowed"),
}


@pytest.fixture(scope="module")
def child_loads(tmp_path_factory):
    folder = tmp_path_factory.mktemp("special")
    (folder / "zero.safetensors").symlink_to("/dev/zero")
    (folder / "urandom.safetensors").symlink_to("/dev/urandom")
    sparse(folder / "zeros.safetensors", b"", GIB)
    sparse(folder / "padded.safetensors", safetensors_bytes(weights(), metadata=ours()), GIB)
    sparse(folder / "big.safetensors", b"", GIB + 1)
    paths = [str(folder / name) for name, _ in SPECIAL.values()]
    child = subprocess.run([sys.executable, "-c", CHILD, *paths], capture_output=True, text=True, timeout=120,
                           cwd=Path(minidl.__file__).parent.parent)
    assert child.returncode == 0, child.stderr[-2000:]
    return {Path(path).name: result for path, result in json.loads(child.stdout).items()}


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux devices, rlimits and /proc/self/io")
@pytest.mark.parametrize("case", SPECIAL)
def test_devices_and_huge_files_are_refused_before_their_body_is_read(child_loads, case):
    name, expected = SPECIAL[case]
    said, read = child_loads[name]
    assert said.startswith("ValueError: ") and expected in said and name in said, said
    assert read < 1 << 20, f"refusing it read {read:,} bytes"


def test_a_file_that_grows_while_it_is_read_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    minidl.save(small_model(), path)
    # The private header check is the one seam between reading the header and the body: no public path
    # can grow the file at that moment.
    check = minidl.io._check_header

    def grow_after_the_header_is_checked(*args):
        with open(path, "ab") as file:
            file.write(b"more")
        return check(*args)

    monkeypatch.setattr(minidl.io, "_check_header", grow_after_the_header_is_checked)
    with pytest.raises(ValueError, match=f"{NOT_OURS}: it changed while it was being read; try again"):
        minidl.load(path)


# -- save refuses what load refuses (item 4) --------------------------------------------------
def chain(n):
    return Sequential(*[Linear(2, 2) for _ in range(n)])


@pytest.mark.parametrize("make, message", [
    (lambda: Sequential(Linear(2, 20_000)), r"layer 1 \(Linear\) needs a width from 1 to 16384, got 20000"),
    (lambda: chain(300), "the network has 300 layers; at most 256 are supported"),
    (lambda: (small_model(), {"extra": torch.arange(3)}), "tensor 'extra' has dtype 'I64'; minidl files hold"),
    (lambda: (small_model(), {"linear0.weight": torch.zeros(4, 2)}), r"tensor names \['linear0.weight'\] are reserved"),
    (lambda: (small_model(), {}, {"note": "x" * (5 << 20)}),
     r"its header claims 5,2\d\d,\d\d\d bytes, more than the file holds or the 4,194,304 allowed"),
], ids=["width 20,000", "300 layers", "int64 tensor", "tensor named like a weight", "5 MiB of metadata"])
def test_save_refuses_what_load_would_refuse_before_writing(tmp_path, make, message):
    made = make()
    model, tensors, metadata = (made, None, None) if isinstance(made, Sequential) else (*made, None)[:3]
    with pytest.raises(ValueError, match=message):
        write(tmp_path / "model.safetensors", model, metadata=metadata, tensors=tensors)
    assert os.listdir(tmp_path) == []


def test_every_trainable_dtype_loads_and_trains_on(tmp_path):
    for dtype in (torch.float16, torch.bfloat16):
        model = small_model(dtype)
        minidl.save(model, tmp_path / "model.safetensors")
        loaded = minidl.load(tmp_path / "model.safetensors")
        loaded.setLoss(minidl.MSE())
        x = torch.rand(20, 2, dtype=dtype)
        loaded.train(x, torch.zeros(20, 3, dtype=dtype), 2, 10, minidl.SGD(1e-3), verbose_every_nth=0)
        assert loaded.dtype == dtype and loaded.predict(x).dtype == dtype


# -- non-finite weights (issue 9, item 2) ----------------------------------------------------------
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_non_finite_weights_are_refused_on_load(tmp_path, value, dtype):
    model = small_model(dtype)
    model.modules["linear1"].bias[2] = value
    minidl.save(model, tmp_path / "model.safetensors")  # writing them is the caller's policy
    with pytest.raises(ValueError, match=r"model\.safetensors holds weights that are not finite \(NaN or infinity "
                                         r"in linear1\.bias\), probably saved after training diverged"):
        minidl.load(tmp_path / "model.safetensors")


# -- side effects of the atomic save (item 5) ----------------------------------------------------
@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path, umask, mask, mode):
    umask(mask)
    minidl.save(small_model(), tmp_path / "model.safetensors")
    assert stat.S_IMODE(os.stat(tmp_path / "model.safetensors").st_mode) == mode


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o664, 0o400])
def test_a_replaced_file_keeps_its_mode(tmp_path, umask, mode):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old")
    path.chmod(mode)
    umask(0o077)
    minidl.save(small_model(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode and minidl.load(path).out_features == 3


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only root may give a file to another user")
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"old")
    os.chown(path, 4321, 8765)
    minidl.save(small_model(), path)
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (4321, 8765)


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
@pytest.mark.parametrize("link", ["absolute", "relative", "chain", "dangling"])
def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path, link):
    (tmp_path / "shared").mkdir()
    (tmp_path / "mine").mkdir()
    target = tmp_path / "shared" / "model.safetensors"
    if link != "dangling":
        target.write_bytes(b"old")
    path = tmp_path / "mine" / "model.safetensors"
    path.symlink_to("../shared/model.safetensors" if link == "relative" else target)
    if link == "chain":
        path = tmp_path / "mine" / "again.safetensors"
        path.symlink_to(tmp_path / "mine" / "model.safetensors")
    minidl.save(small_model(), path)
    assert path.is_symlink() and path.resolve() == target.resolve()
    assert minidl.load(target).out_features == 3
    assert sorted(os.listdir(tmp_path / "shared")) == ["model.safetensors"]  # no temporary left anywhere
    assert all(p.is_symlink() for p in (tmp_path / "mine").iterdir())


@pytest.mark.skipif(os.name != "posix", reason="device files")
def test_saving_over_a_device_is_refused(tmp_path):
    (tmp_path / "model.safetensors").symlink_to("/dev/null")
    with pytest.raises(ValueError, match=r"cannot save to .*model.safetensors: it is a device, not a regular file"):
        minidl.save(small_model(), tmp_path / "model.safetensors")
    assert Path("/dev/null").is_char_device()


KILLED_SAVE = r"""
import os, signal, sys
import minidl.io
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # killed after writing, before the rename
minidl.io.write_bytes_atomically(sys.argv[1], b"half a model")
"""


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name != "model.safetensors")


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_killed_save_leaves_a_recognisable_temporary_that_the_next_save_removes(tmp_path):
    path = tmp_path / "model.safetensors"
    minidl.save(small_model(), path)
    seen = []
    for _ in range(2):  # the second killed save removes the first one's temporary: at most one is ever left
        child = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], capture_output=True, timeout=120,
                               cwd=Path(minidl.__file__).parent.parent)
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        left = temporaries(tmp_path)
        assert len(left) == 1 and left[0] not in seen, (left, seen)
        assert re.fullmatch(r"\.model\.safetensors\.[0-9a-f]{8}-\d+-[0-9a-f]{8}\.minidl-tmp", left[0]), left
        assert (tmp_path / left[0]).read_bytes() == b"half a model"
        seen += left
    assert minidl.load(path).out_features == 3  # the old file survived the kills
    minidl.save(small_model(torch.float64), path)
    assert temporaries(tmp_path) == [] and minidl.load(path).dtype == torch.float64


@pytest.mark.skipif(os.name != "posix", reason="writers are told apart by pid on POSIX only")
def test_only_our_stale_temporaries_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", ""])
    dead.wait()
    here, other = minidl.atomic._HOST, "0" * 8 if minidl.atomic._HOST != "0" * 8 else "1" * 8
    names = {
        f".model.safetensors.{here}-{dead.pid}-0123abcd.minidl-tmp": "removed: its writer is gone",
        f".other.minidl.{here}-{dead.pid}-0123abcd.minidl-tmp": "removed: another file's, same folder",
        f".model.safetensors.{here}-{os.getpid()}-0123abcd.minidl-tmp": "kept: a save in progress here",
        f".model.safetensors.{other}-{dead.pid}-0123abcd.minidl-tmp": "kept: another machine's, recent",
        f".model.safetensors.{other}-1-0123abcd.minidl-tmp.old": "kept: not our name",
        ".model.safetensors.k3j4h5.tmp": "kept: not our name (any program's temporary)",
        f".old.safetensors.{other}-77-0123abcd.minidl-tmp": "removed: over an hour old",
        f".link.safetensors.{here}-{dead.pid}-0123abcd.minidl-tmp": "kept: a symlink, not a file",
    }
    for name in names:
        if "symlink" in names[name]:
            (tmp_path / name).symlink_to(tmp_path / "model.safetensors")
        else:
            (tmp_path / name).write_bytes(b"x")
    hour_ago = time.time() - minidl.atomic.STALE_SECONDS - 60
    os.utime(tmp_path / f".old.safetensors.{other}-77-0123abcd.minidl-tmp", (hour_ago, hour_ago))
    minidl.save(small_model(), tmp_path / "model.safetensors")
    assert temporaries(tmp_path) == sorted(name for name, why in names.items() if why.startswith("kept"))
