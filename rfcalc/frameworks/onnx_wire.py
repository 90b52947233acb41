"""Read an ONNX file's protobuf wire format directly: the fields rfcalc needs, nothing executed.

``import onnx`` costs seconds (it loads ml_dtypes and numpy); reading a model's structure needs
only the protobuf wire format (varints and length-delimited fields), so ``rfcalc model.onnx``
decodes it here, in pure Python, and starts in a fraction of a second. Weights are not copied:
a tensor's data is decoded only when it is small (a shape vector, pads, axes; integer tables such
as GatherND's indices up to 65,536 values), big ones keep their dims. Field numbers are those of onnx/onnx.proto (IR version 3 to 10).

>>> model = parse(bytes([0x08, 0x07]))  # ir_version 7 and nothing else
>>> model.ir_version, model.graph.node
(7, ())
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from math import prod

from ..errors import RFError

SMALL = 4096  # elements: the data of bigger float tensors is never decoded
FLOAT_TYPES = frozenset({1, 10, 11, 16})  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
INDEX_SMALL = 1 << 16  # integer and bool tensors (shapes, GatherND index tables, masks) up to this many
UNPACK = {1: "f", 6: "i", 7: "q", 11: "d", 2: "B", 3: "b", 4: "H", 5: "h", 9: "?", 12: "I", 13: "Q"}


class WireError(RFError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True, slots=True)
class Tensor:
    name: str
    dims: tuple
    data_type: int
    value: tuple | None  # flat values of a small tensor whose data is present
    external: bool = False
    location: tuple | None = None  # external data: (file, offset, length) as the file names them


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    op_type: str
    domain: str
    input: tuple
    output: tuple
    attrs: dict = field(hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class ValueInfo:
    name: str
    dims: tuple | None  # None: no shape; an entry None: a dynamic size
    meta: tuple = ()  # metadata_props as (key, value) pairs (torch's InputSpec kinds, onnxscript's folded_from)


@dataclass(frozen=True, slots=True)
class Graph:
    name: str
    node: tuple
    initializer: tuple
    input: tuple
    output: tuple
    value_info: tuple
    meta: tuple = ()  # metadata_props as (key, value) pairs (torch writes its export's graph signature here)


@dataclass(frozen=True, slots=True)
class Model:
    ir_version: int
    opsets: dict
    graph: Graph


def _fields(buf, start=0, end=None):
    """Yield (field number, wire type, value): ints for varints/fixed, (start, end) for bytes."""
    end = len(buf) if end is None else end
    i = start
    while i < end:
        key = buf[i]
        if key < 0x80:
            i += 1
        else:
            key, i = _varint(buf, i, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == 0:
            value, i = _varint(buf, i, end)
        elif wire == 2:
            n, i = _varint(buf, i, end)
            if i + n > end:
                raise WireError("a length-delimited field runs past the end (truncated?)")
            value, i = (i, i + n), i + n
        elif wire == 5:
            if i + 4 > end:
                raise WireError("truncated fixed32")
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            if i + 8 > end:
                raise WireError("truncated fixed64")
            value, i = buf[i : i + 8], i + 8
        else:
            raise WireError(f"wire type {wire}")
        yield number, wire, value


def _varint(buf, i, end):
    if i < end and buf[i] < 0x80:  # most keys and lengths fit one byte
        return buf[i], i + 1
    result = shift = 0
    while True:
        if i >= end:
            raise WireError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 70:
            raise WireError("varint too long")


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _str(buf, span) -> str:
    return bytes(buf[span[0] : span[1]]).decode("utf-8", "replace")


def _ints(buf, wire, value, out: list):
    if wire == 2:  # packed
        i, end = value
        while i < end:
            v, i = _varint(buf, i, end)
            out.append(_signed(v))
    else:
        out.append(_signed(value))


def _floats(buf, wire, value, out: list, fmt="f"):
    size = struct.calcsize(fmt)
    raw = bytes(buf[value[0] : value[1]]) if wire == 2 else bytes(value)
    out.extend(struct.unpack(f"<{len(raw) // size}{fmt}", raw))


def _tensor(buf, start, end) -> Tensor:
    dims: list[int] = []
    typed: list = []  # int32/int64/float/double data, as read
    name, dtype, raw, external = "", 0, None, False
    where: dict = {}
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            _ints(buf, wire, value, dims)
        elif number == 2:
            dtype = value
        elif number == 8:
            name = _str(buf, value)
        elif number == 9:
            raw = value
        elif number in (5, 7) and wire in (0, 2):  # int32_data, int64_data
            _ints(buf, wire, value, typed)
        elif number == 4:  # float_data
            _floats(buf, wire, value, typed, "f")
        elif number == 10:  # double_data
            _floats(buf, wire, value, typed, "d")
        elif number == 13 and wire == 2:  # external_data: StringStringEntryProto (key 1, value 2)
            entry = {n: _str(buf, v) for n, w, v in _fields(buf, *value) if w == 2}
            where[entry.get(1, "")] = entry.get(2, "")
        elif number == 14:
            external = value == 1
    size = prod(dims)
    data = None
    if small(size, dtype) and not external:
        if raw is not None and dtype in UNPACK and raw[1] - raw[0] == size * struct.calcsize(UNPACK[dtype]):
            data = struct.unpack(f"<{size}{UNPACK[dtype]}", bytes(buf[raw[0] : raw[1]]))
        elif typed and len(typed) == size:
            data = tuple(typed)
    location = None
    if external and "location" in where:
        try:
            location = (where["location"], int(where.get("offset", 0)), int(where.get("length", -1)))
        except ValueError:
            location = None
    return Tensor(name, tuple(dims), dtype, data, external, location)


def small(size: int, dtype: int) -> bool:
    """Whether a tensor of ``size`` values of ONNX type ``dtype`` is one rfcalc decodes."""
    return size <= (SMALL if dtype in FLOAT_TYPES else INDEX_SMALL)


def _attribute(buf, start, end):
    name, kind, values = "", 0, {}
    ints, floats, strings = [], [], []
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            name = _str(buf, value)
        elif number == 20:
            kind = value
        elif number == 2:
            values[1] = struct.unpack("<f", bytes(value))[0]
        elif number == 3:
            values[2] = _signed(value)
        elif number == 4:
            values[3] = _str(buf, value)
        elif number == 5:
            values[4] = _tensor(buf, *value)
        elif number == 7:
            _floats(buf, wire, value, floats)
        elif number == 8:
            _ints(buf, wire, value, ints)
        elif number == 9:
            strings.append(_str(buf, value))
    values.update({6: floats, 7: ints, 8: strings})
    return name, values.get(kind)


def _node(buf, start, end) -> Node:
    ins, outs, name, op, domain, attrs = [], [], "", "", "", {}
    for number, _, value in _fields(buf, start, end):
        if number == 1:
            ins.append(_str(buf, value))
        elif number == 2:
            outs.append(_str(buf, value))
        elif number == 3:
            name = _str(buf, value)
        elif number == 4:
            op = _str(buf, value)
        elif number == 7:
            domain = _str(buf, value)
        elif number == 5:
            key, v = _attribute(buf, *value)
            if v is not None:
                attrs[key] = v
    return Node(name, op, domain, tuple(ins), tuple(outs), attrs)


def _sub(buf, span, number_wanted):
    for number, wire, value in _fields(buf, *span):
        if number == number_wanted and wire == 2:
            return value
    return None


def _entry(buf, span) -> tuple[str, str]:
    """A StringStringEntryProto (metadata_props) as (key, value)."""
    key = value = ""
    for number, wire, v in _fields(buf, *span):
        if number == 1 and wire == 2:
            key = _str(buf, v)
        elif number == 2 and wire == 2:
            value = _str(buf, v)
    return key, value


def _value_info(buf, start, end) -> ValueInfo:
    name, dims = "", None
    sizes: list[int | None] = []
    meta = []
    for number, wire, value in _fields(buf, start, end):
        if number == 1:
            name = _str(buf, value)
        elif number == 4 and wire == 2:
            meta.append(_entry(buf, value))
        elif number == 2:
            tensor = _sub(buf, value, 1)  # TypeProto.tensor_type
            shape = _sub(buf, tensor, 2) if tensor else None
            if shape is not None:
                sizes = []
                for n, _, dim in _fields(buf, *shape):
                    if n == 1:
                        known = [v for k, w, v in _fields(buf, *dim) if k == 1 and w == 0]
                        sizes.append(_signed(known[0]) if known and _signed(known[0]) > 0 else None)
                dims = tuple(sizes)
    return ValueInfo(name, dims, tuple(meta))


def _graph(buf, start, end) -> Graph:
    parts: dict[int, list] = {1: [], 5: [], 11: [], 12: [], 13: []}
    name = ""
    meta = []
    read = {1: _node, 5: _tensor, 11: _value_info, 12: _value_info, 13: _value_info}
    for number, wire, value in _fields(buf, start, end):
        if number == 2 and wire == 2:
            name = _str(buf, value)
        elif number == 16 and wire == 2:
            meta.append(_entry(buf, value))
        elif number in read and wire == 2:
            parts[number].append(read[number](buf, *value))
    return Graph(
        name, tuple(parts[1]), tuple(parts[5]), tuple(parts[11]), tuple(parts[12]), tuple(parts[13]), tuple(meta)
    )


def parse(data) -> Model:
    """A ``Model`` from the bytes of a ModelProto; ``WireError`` when they are not one."""
    try:
        return _parse(bytes(data))  # bytes index faster than a memoryview; no copy when already bytes
    except (TypeError, IndexError, ValueError, struct.error, RecursionError) as err:
        raise WireError(f"a field has the wrong type or size ({type(err).__name__})") from None


def _parse(buf) -> Model:
    ir, opsets, graph = 0, {}, None
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 0:
            ir = value
        elif number == 8 and wire == 2:
            domain, version = "", 0
            for n, w, v in _fields(buf, *value):
                if n == 1 and w == 2:
                    domain = _str(buf, v)
                elif n == 2 and w == 0:
                    version = v
            opsets[domain] = version
        elif number == 7 and wire == 2:
            graph = _graph(buf, *value)
    return Model(ir, opsets, graph or Graph("", (), (), (), (), ()))
