"""Small tables an ONNX file keeps in an external data file: read from its folder, nothing else.

torch's exporter writes every initializer past about 1 KB to ``NAME.onnx.data``; among them, at
larger inputs, the integer tables rfcalc must know (PSPNet's GatherND indices at 512 pixels). Only
integer and bool tensors ``onnx_wire.small`` admits are read, only from a file that resolves inside the model's
folder, only at the offset and length the model names; anything else keeps its dims only (and a
node that needs its values is refused naming it). Weights are never read.
"""

from __future__ import annotations

import os
import struct
from dataclasses import replace
from math import prod

from .onnx_wire import FLOAT_TYPES, UNPACK, Model, Tensor, parse, small  # noqa: F401 (parse: doctest)


def with_external(model: Model, folder: str) -> Model:
    """``model`` whose small external initializers (a GatherND index table torch wrote beside the
    model) carry their values, read from the files they name inside ``folder``; any other stays
    without data (a location outside the folder, a missing or short file: never an error here).

    >>> with_external(parse(bytes([0x08, 0x07])), ".").ir_version
    7
    """
    inits = model.graph.initializer
    if not any(_wanted(t) for t in inits):
        return model
    root = os.path.realpath(folder)
    out = [replace(t, value=_read_external(root, t)) if _wanted(t) else t for t in inits]
    return replace(model, graph=replace(model.graph, initializer=tuple(out)))


def _wanted(t: Tensor) -> bool:
    return bool(
        t.location
        and t.value is None
        and t.data_type in UNPACK
        and t.data_type not in FLOAT_TYPES
        and small(prod(t.dims), t.data_type)
    )


def _read_external(root: str, t: Tensor):
    assert t.location is not None
    name, offset, length = t.location
    size = prod(t.dims)
    want = size * struct.calcsize(UNPACK[t.data_type])
    path = os.path.realpath(os.path.join(root, name))
    if os.path.isabs(name) or os.path.commonpath([root, path]) != root or offset < 0 or length not in (-1, want):
        return None
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(want)
    except OSError:
        return None
    return struct.unpack(f"<{size}{UNPACK[t.data_type]}", data) if len(data) == want else None


__all__ = ["with_external"]
