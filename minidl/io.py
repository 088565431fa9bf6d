"""Saving and loading models: one safetensors file, the architecture as JSON metadata.

No pickle: a safetensors file holds raw numbers and a JSON header, so opening one
never runs code. :func:`read` checks the header itself (sizes, offsets, dtypes, our
metadata) before it allocates anything, and every problem becomes a ``ValueError``
with a sentence. :func:`write` is atomic: a failed save leaves the old file intact.
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as dump_safetensors

from . import architecture
from .layers import Linear
from .sequential import Sequential

FORMAT = "minidl"
VERSION = "1"
MAX_FILE_BYTES = 1 << 30
MAX_HEADER_BYTES = 1 << 22
_DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8)}


def _weights(model: Sequential) -> dict[str, torch.Tensor]:
    tensors = {}
    for name, module in model.modules.items():
        if isinstance(module, Linear):
            tensors[f"{name}.weight"] = module.weight
            tensors[f"{name}.bias"] = module.bias
    return tensors


def write(path, model: Sequential, metadata: dict[str, str] | None = None,
          tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Save ``model`` (plus extra string ``metadata`` and ``tensors``) to ``path`` atomically."""
    header = {"format": FORMAT, "version": VERSION, "in_features": str(model.in_features),
              "layers": json.dumps(architecture.describe(model))}
    clash = set(header) & set(metadata or {})
    if clash:
        raise ValueError(f"metadata keys {sorted(clash)} are reserved by the minidl format")
    payload = {k: v.detach().to("cpu").contiguous() for k, v in {**(tensors or {}), **_weights(model)}.items()}
    data = dump_safetensors(payload, metadata={**(metadata or {}), **header})
    write_bytes_atomically(Path(path), data)


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(model: Sequential, path) -> None:
    """Save ``model`` to ``path`` (a ``.safetensors`` file)."""
    write(path, model)


def load(path) -> Sequential:
    """The model saved in ``path``; ``ValueError`` if the file is not a minidl model."""
    return read(path)[0]


def read(path) -> tuple[Sequential, dict[str, str], dict[str, torch.Tensor]]:
    """``(model, extra metadata, extra tensors)`` from a file written by :func:`write`."""
    path = Path(path)
    where = f"{path.name} is not a minidl model file"
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"{where}: it is {size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed")
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    header, body_size = _parse_header(data, where)
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{where}: it has no minidl metadata (was it saved by another program?)")
    if meta.get("version") != VERSION:
        raise ValueError(f"{where}: it has format version {meta.get('version')!r}; this minidl reads version {VERSION}")
    try:
        layers = json.loads(meta["layers"])
        in_features = int(meta["in_features"])
    except (KeyError, ValueError, TypeError, RecursionError):  # RecursionError: JSON nested absurdly deep
        raise ValueError(f"{where}: its architecture metadata is missing or malformed") from None
    try:
        architecture.check(layers, in_features)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    _check_tensors(header, body_size, where)
    expected = _expected_shapes(layers, in_features)
    for name, shape in expected.items():
        if name not in header or tuple(header[name]["shape"]) != shape:
            raise ValueError(f"{where}: tensor {name} is missing or does not have shape {shape}")
    dtypes = {header[name]["dtype"] for name in expected}
    if len(dtypes) != 1:
        raise ValueError(f"{where}: its weights mix dtypes {sorted(dtypes)}")
    try:
        tensors = load_safetensors(data)
    except Exception as error:  # safetensors raises its own error types
        raise ValueError(f"{where}: {error}") from None
    model = architecture.build(layers, in_features, dtype=_DTYPES[dtypes.pop()][0])
    for name, tensor in _weights(model).items():
        tensor.copy_(tensors.pop(name))
    reserved = {"format", "version", "in_features", "layers"}
    return model, {k: v for k, v in meta.items() if k not in reserved}, tensors


def _expected_shapes(layers: list[dict], in_features: int) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes a file of this architecture holds (names as :class:`Sequential` gives them)."""
    shapes, width = {}, in_features
    for index, layer in enumerate(x for x in layers if x["type"] == "Linear"):
        shapes[f"linear{index}.weight"] = (layer["width"], width)
        shapes[f"linear{index}.bias"] = (layer["width"],)
        width = layer["width"]
    return shapes


def _parse_header(data: bytes, where: str) -> tuple[dict, int]:
    if len(data) < 8:
        raise ValueError(f"{where}: it is {len(data)} bytes long, too short for a safetensors header")
    (length,) = struct.unpack("<Q", data[:8])
    if length > min(MAX_HEADER_BYTES, len(data) - 8):
        raise ValueError(f"{where}: its header claims {length:,} bytes, which the file cannot hold")
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, a 5,000-digit number, nesting absurdly deep
        raise ValueError(f"{where}: its header is not valid JSON (damaged or not safetensors)") from None
    if not isinstance(header, dict):
        raise ValueError(f"{where}: its header is not a JSON object")
    return header, len(data) - 8 - length


def _check_tensors(header: dict, body_size: int, where: str) -> None:
    for name, info in header.items():
        ok = (isinstance(info, dict) and info.get("dtype") in _DTYPES
              and isinstance(info.get("shape"), list) and isinstance(info.get("data_offsets"), list)
              and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in info["shape"])
              and len(info["data_offsets"]) == 2
              and all(isinstance(o, int) and not isinstance(o, bool) for o in info["data_offsets"]))
        if not ok:
            raise ValueError(f"{where}: tensor {name!r:.60} has a malformed entry (only float32/float64 are read)")
        begin, end = info["data_offsets"]
        nbytes = math.prod(info["shape"]) * _DTYPES[info["dtype"]][1]
        if not 0 <= begin <= end <= body_size or end - begin != nbytes:
            raise ValueError(f"{where}: tensor {name!r:.60} points outside the file or has the wrong size (truncated?)")
