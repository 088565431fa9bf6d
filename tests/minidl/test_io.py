"""Model files: safetensors with the architecture as metadata; round trip, atomic writes, hostile files."""

import json
import os
import pickle
import random
import struct
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


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
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
    yield "float16 weights", safetensors_bytes({k: v.half() for k, v in weights().items()}, metadata=ours()), \
        "only float32/float64 are read"
    huge = {"__metadata__": ours(), "linear0.weight": {"dtype": "F32", "shape": [10**9, 10**9],
                                                       "data_offsets": [0, 24]}}
    yield "absurd tensor shape", raw(huge, bytes(24)), "points outside the file or has the wrong size"


BAD_FILES = list(bad_files())


@pytest.mark.parametrize("data, message", [case[1:] for case in BAD_FILES], ids=[case[0] for case in BAD_FILES])
def test_bad_files_are_refused_with_a_sentence_before_any_allocation(tmp_path, monkeypatch, data, message):
    def no_allocation(*args, **kwargs):
        raise AssertionError("a bad file reached the allocation of tensors")

    monkeypatch.setattr(minidl.io, "load_safetensors", no_allocation)
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
