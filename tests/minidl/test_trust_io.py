"""Hostile tensor shapes in a model file: a shape that holds no numbers but names absurd dimensions is refused
with a sentence (never torch's TypeError or RuntimeError), and so is anything the final reshape cannot do."""

from __future__ import annotations

import json
import struct

import pytest
import torch

import minidl
import minidl.io
from minidl.io import MAX_FILE_BYTES, MAX_TENSOR_DIMS

LIMITS = f"each dimension at most {MAX_FILE_BYTES:,} and at most {MAX_TENSOR_DIMS} dimensions"


def with_entry(path, name: str, shape: list) -> None:
    """Add to the file at ``path`` an empty float32 tensor ``name`` of ``shape``, at the start of its body."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [0, 0]}
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + length:])


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "model.safetensors"
    minidl.save(minidl.Sequential(minidl.Linear(2, 3), minidl.Tanh()), path)
    return path


@pytest.mark.parametrize("shape", [[0, 10**30], [10**30, 0], [0, 2**63], [0, 2**64 + 1], [0, MAX_FILE_BYTES + 1],
                                   [0] + [1] * MAX_TENSOR_DIMS, [0] * 1000], ids=lambda s: f"{s!r:.30}")
def test_an_empty_tensor_with_an_absurd_shape_is_a_sentence(model_file, shape):
    with_entry(model_file, "extra", shape)
    with pytest.raises(ValueError) as caught:
        minidl.io.read(model_file)
    text = str(caught.value)
    assert text.startswith("model.safetensors is not a minidl model file: tensor 'extra' has shape"), text
    assert LIMITS in text


@pytest.mark.parametrize("shape", [[0, MAX_FILE_BYTES], [0] * MAX_TENSOR_DIMS, [5, 0, 3]])
def test_an_empty_tensor_within_the_limits_loads(model_file, shape):
    with_entry(model_file, "extra", shape)
    model, _, tensors = minidl.io.read(model_file)
    assert tensors["extra"].shape == tuple(shape) and tensors["extra"].dtype == torch.float32
    assert model.out_features == 3


def test_a_shape_the_final_reshape_cannot_make_is_a_sentence(model_file, monkeypatch):
    """The last line of defence: whatever the checks let through, torch's own errors never leave read()."""
    with_entry(model_file, "extra", [0, 10**30])
    monkeypatch.setattr(minidl.io, "_check_tensors", lambda header, body_size: None)
    with pytest.raises(ValueError, match=r"is not a minidl model file: tensor 'extra' cannot be read as a float32 "
                                         r"tensor of shape \[0, 1000000"):
        minidl.io.read(model_file)
