"""Saving and loading models: one safetensors file, the architecture as JSON metadata.

No pickle: a safetensors file holds raw numbers and a JSON header, so opening one
never runs code. :func:`read` opens regular files only, reads the 8-byte header length
and the header first, and checks them (sizes, offsets, dtypes, our metadata, the
architecture's limits) before it reads the body or allocates a tensor; it never reads
more than ``MAX_FILE_BYTES + 1`` bytes, and reads each tensor straight into its own memory (a
file's numbers are in memory once, not as the file's bytes and again as tensors). Every problem
is a ``ValueError`` with a sentence.
:func:`write` runs the same checks on what it is about to write, so a save never
produces a file that :func:`read` refuses (except for non-finite weights, which only
:func:`read` refuses), and it is atomic: a failed save leaves the old file intact.
"""

from __future__ import annotations

import json
import math
import os
import stat
import struct
import sys
from pathlib import Path

import torch
from safetensors.torch import save as dump_safetensors

from . import architecture
from .atomic import file_kind as _kind
from .atomic import write_bytes_atomically
from .layers import Linear
from .sequential import Sequential

FORMAT = "minidl"
VERSION = "1"
MAX_FILE_BYTES = 1 << 30
MAX_HEADER_BYTES = 1 << 22
MAX_TENSOR_DIMS = 8  # our tensors have 1 or 2; a shape's dimensions are each at most MAX_FILE_BYTES
# Every dtype the engine trains in; safetensors' names.
_DTYPES = {"F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "F32": (torch.float32, 4),
           "F64": (torch.float64, 8)}
_DTYPE_NAMES = "float16, bfloat16, float32 or float64"
_RESERVED = ("format", "version", "in_features", "layers")
# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after).
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0)


def _weights(model: Sequential) -> dict[str, torch.Tensor]:
    tensors = {}
    for name, module in model.modules.items():
        if isinstance(module, Linear):
            tensors[f"{name}.weight"] = module.weight
            tensors[f"{name}.bias"] = module.bias
    return tensors


def write(path, model: Sequential, metadata: dict[str, str] | None = None,
          tensors: dict[str, torch.Tensor] | None = None) -> None:
    """Save ``model`` (plus extra string ``metadata`` and ``tensors``) to ``path`` atomically.

    Refuses with ``ValueError``, before writing anything, what :func:`read` would refuse."""
    cannot = f"cannot save {Path(path).name}"
    header = {"format": FORMAT, "version": VERSION, "in_features": str(model.in_features),
              "layers": json.dumps(architecture.describe(model))}
    clash = set(header) & set(metadata or {})
    if clash:
        raise ValueError(f"metadata keys {sorted(clash)} are reserved by the minidl format")
    weights = _weights(model)
    clash = set(weights) & set(tensors or {})
    if clash:
        raise ValueError(f"tensor names {sorted(clash)} are reserved for the model's weights")
    try:  # first the architecture's limits: cheap, and before a huge model is serialised
        architecture.check(architecture.describe(model), model.in_features)
    except ValueError as error:
        raise ValueError(f"{cannot}: {error}") from None
    payload = {k: v.detach().to("cpu").contiguous() for k, v in {**(tensors or {}), **weights}.items()}
    data = dump_safetensors(payload, metadata={**(metadata or {}), **header})
    try:  # then every check read() makes: a save never writes a file that load refuses
        length = _header_length(data[:8], len(data))
        _check_header(_parse_json(data[8:8 + length]), len(data) - 8 - length)
    except ValueError as error:
        raise ValueError(f"{cannot}: {error}") from None
    write_bytes_atomically(Path(path), data)


def save(model: Sequential, path) -> None:
    """Save ``model`` to ``path`` (a ``.safetensors`` file)."""
    write(path, model)


def load(path) -> Sequential:
    """The model saved in ``path``; ``ValueError`` if the file is not a minidl model."""
    return read(path)[0]


def read(path) -> tuple[Sequential, dict[str, str], dict[str, torch.Tensor]]:
    """``(model, extra metadata, extra tensors)`` from a file written by :func:`write`."""
    path = Path(path)
    tensors, (meta, layers, in_features, dtype) = _read_checked(path, f"{path.name} is not a minidl model file")
    model = architecture.build(layers, in_features, dtype=dtype)
    for name, tensor in _weights(model).items():
        loaded = tensors.pop(name)
        if not torch.isfinite(loaded).all():
            raise ValueError(f"{path.name} holds weights that are not finite (NaN or infinity in {name}), "
                             "probably saved after training diverged: train again, or open an earlier file")
        tensor.copy_(loaded)
    return model, meta, tensors


def _read_checked(path: Path, where: str) -> tuple[dict[str, torch.Tensor], tuple]:
    """The tensors of ``path`` and :func:`_check_header`'s answer. Special files are refused
    before they are opened (a stat) and after (an fstat of the opened file, so that a path
    swapped in between is caught too); the header is checked before the body is read."""
    try:
        _refuse_special(os.stat(path).st_mode, path)
        with open(os.open(path, _OPEN_FLAGS), "rb") as file:
            info = os.fstat(file.fileno())
            _refuse_special(info.st_mode, path)
            if _NONBLOCK:
                os.set_blocking(file.fileno(), True)
            size = info.st_size
            try:
                length = _header_length(file.read(8), size)
                header = _parse_json(file.read(length))
                checked = _check_header(header, size - 8 - length)
                tensors = _read_tensors(file, header)
                if file.read(1):  # one byte more than expected: a file that grows is caught
                    raise ValueError("it changed while it was being read; try again")
            except ValueError as error:
                raise ValueError(f"{where}: {error}") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    return tensors, checked


def _read_tensors(file, header: dict) -> dict[str, torch.Tensor]:
    """The tensors of a checked ``header`` (they tile the body, in offset order), each read from ``file``
    (just past the header) into a tensor of its own: no copy of the file's bytes is ever made."""
    tensors = {}
    for name, info in sorted(((k, v) for k, v in header.items() if k != "__metadata__"),
                             key=lambda item: item[1]["data_offsets"]):
        dtype, size = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        raw = torch.empty(end - begin, dtype=torch.uint8)
        view, done = memoryview(raw.numpy()), 0
        while done < end - begin:
            got = file.readinto(view[done:])
            if not got:
                raise ValueError("it changed while it was being read; try again")
            done += got
        try:  # the checks bound every shape; torch's own refusal still becomes a sentence
            if sys.byteorder == "big":  # safetensors stores little-endian numbers
                raw = raw.view(-1, size).flip(1).reshape(-1)
            tensors[name] = raw.view(dtype).reshape(info["shape"])
        except (TypeError, RuntimeError, OverflowError, ValueError):
            kind = str(dtype).removeprefix("torch.")
            raise ValueError(f"tensor {name!r:.60} cannot be read as a {kind} tensor of shape "
                             f"{info['shape']!r:.60}") from None
    return tensors


def _refuse_special(mode: int, path: Path) -> None:
    if not stat.S_ISREG(mode):
        raise ValueError(f"cannot read {path}: it is {_kind(mode)}, not a regular file; choose a file saved by minidl")


def _header_length(start: bytes, size: int) -> int:
    """The header length that the first 8 of a file's ``size`` bytes give, if plausible."""
    if size > MAX_FILE_BYTES:
        raise ValueError(f"it is {size:,} bytes, more than the {MAX_FILE_BYTES:,} allowed")
    if len(start) < 8:
        raise ValueError(f"it is {len(start)} bytes long, too short for a safetensors header")
    (length,) = struct.unpack("<Q", start)
    if length > min(MAX_HEADER_BYTES, size - 8):
        raise ValueError(f"its header claims {length:,} bytes, more than the file holds or the "
                         f"{MAX_HEADER_BYTES:,} allowed")
    return length


def _parse_json(text: bytes) -> dict:
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, a 5,000-digit number, nesting absurdly deep
        raise ValueError("its header is not valid JSON (damaged or not safetensors)") from None
    if not isinstance(header, dict):
        raise ValueError("its header is not a JSON object")
    return header


def _check_header(header: dict, body_size: int) -> tuple[dict, list, int, torch.dtype]:
    """``(extra metadata, layers, in_features, dtype)`` of a file whose header is ``header``
    and whose body has ``body_size`` bytes; ``ValueError`` with a reason if we would refuse it."""
    header = dict(header)
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("it has no minidl metadata (was it saved by another program?)")
    if meta.get("version") != VERSION:
        raise ValueError(f"it has format version {meta.get('version')!r}; this minidl reads version {VERSION}")
    try:
        layers = json.loads(meta["layers"])
        in_features = int(meta["in_features"])
    except (KeyError, ValueError, TypeError, RecursionError):  # RecursionError: JSON nested absurdly deep
        raise ValueError("its architecture metadata is missing or malformed") from None
    architecture.check(layers, in_features)
    _check_tensors(header, body_size)
    expected = _expected_shapes(layers, in_features)
    for name, shape in expected.items():
        if name not in header or tuple(header[name]["shape"]) != shape:
            raise ValueError(f"tensor {name} is missing or does not have shape {shape}")
    dtypes = {header[name]["dtype"] for name in expected}
    if len(dtypes) != 1:
        raise ValueError(f"its weights mix dtypes {sorted(dtypes)}")
    end = max((info["data_offsets"][1] for info in header.values()), default=0)
    if end != body_size:
        raise ValueError(f"it has {body_size - end:,} bytes after its last tensor (damaged or not safetensors)")
    return {k: v for k, v in meta.items() if k not in _RESERVED}, layers, in_features, _DTYPES[dtypes.pop()][0]


def _expected_shapes(layers: list[dict], in_features: int) -> dict[str, tuple[int, ...]]:
    """Tensor names and shapes a file of this architecture holds (names as :class:`Sequential` gives them)."""
    shapes, width = {}, in_features
    for index, layer in enumerate(x for x in layers if x["type"] == "Linear"):
        shapes[f"linear{index}.weight"] = (layer["width"], width)
        shapes[f"linear{index}.bias"] = (layer["width"],)
        width = layer["width"]
    return shapes


def _check_tensors(header: dict, body_size: int) -> None:
    for name, info in header.items():
        ok = (isinstance(info, dict) and isinstance(info.get("shape"), list)
              and isinstance(info.get("data_offsets"), list)
              and all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in info["shape"])
              and len(info["data_offsets"]) == 2
              and all(isinstance(o, int) and not isinstance(o, bool) for o in info["data_offsets"]))
        if not ok:
            raise ValueError(f"tensor {name!r:.60} has a malformed entry")
        shape = info["shape"]
        if len(shape) > MAX_TENSOR_DIMS or any(d > MAX_FILE_BYTES for d in shape):
            # An empty tensor's product is 0 whatever its other dimensions: bound each one, so that no shape
            # reaches torch that it cannot make
            raise ValueError(f"tensor {name!r:.60} has shape {shape!r:.60}; minidl files hold tensors with each "
                             f"dimension at most {MAX_FILE_BYTES:,} and at most {MAX_TENSOR_DIMS} dimensions")
        if info.get("dtype") not in _DTYPES:
            raise ValueError(f"tensor {name!r:.60} has dtype {info.get('dtype')!r:.20}; minidl files hold "
                             f"{_DTYPE_NAMES} only")
        begin, end = info["data_offsets"]
        nbytes = math.prod(info["shape"]) * _DTYPES[info["dtype"]][1]
        if not 0 <= begin <= end <= body_size or end - begin != nbytes:
            raise ValueError(f"tensor {name!r:.60} points outside the file or has the wrong size (truncated?)")
    position = 0  # safetensors' rule: the tensors follow one another, with nothing between or shared
    for begin, end in sorted(info["data_offsets"] for info in header.values()):
        if begin != position:
            raise ValueError("its tensors overlap or leave gaps between them (damaged or not safetensors)")
        position = end
