"""Constants in an ONNX graph: weights known by their dims, and the small integer tensors exporters
compute from shapes (``Shape -> Gather -> Unsqueeze -> Concat -> Reshape``), folded to values
while the graph is read so that the ``Reshape`` at the end of such a chain sees its target.

A ``Folded`` tensor makes no row. Values are flat tuples (row-major) beside their dims; a weight
whose data was stripped (or lives in a missing external file) has dims and no value. Nothing
here imports onnx: tensors come from ``onnx_wire``.

>>> fold("Concat", [Folded((1,), (1,)), Folded((1,), (-1,))], {"axis": 0}).value
(1, -1)
>>> fold("Gather", [Folded((4,), (1, 64, 7, 7)), Folded((), (0,))], {"axis": 0})
Folded(dims=(), value=(1,), weight=False)
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

FLOAT_TYPES = frozenset({1, 10, 11, 16})  # FLOAT, FLOAT16, DOUBLE, BFLOAT16: what counts as a weight


@dataclass(frozen=True, slots=True)
class Folded:
    """A tensor that is not an activation: a weight (``weight``: counted as parameters) or a constant."""

    dims: tuple | None
    value: tuple | None = None
    weight: bool = False

    @property
    def size(self) -> int:
        return prod(self.dims) if self.dims is not None else 0


def from_tensor(t) -> Folded:
    """A tensor read by ``onnx_wire`` as ``Folded``: dims always, the values of a small one with data."""
    return Folded(t.dims, t.value, t.data_type in FLOAT_TYPES)


def constant(attrs: dict) -> Folded:
    """The output of a ``Constant`` node (never a weight: exporters write literals this way)."""
    if "value" in attrs:
        return Folded(attrs["value"].dims, attrs["value"].value)
    for key in ("value_int", "value_float"):
        if key in attrs:
            return Folded((), (attrs[key],))
    for key in ("value_ints", "value_floats"):
        if key in attrs:
            return Folded((len(attrs[key]),), tuple(attrs[key]))
    return Folded(None)


def _axes(attrs, ins, rank):
    axes = attrs.get("axes")
    if axes is None and len(ins) > 1 and ins[1].value is not None:
        axes = ins[1].value
    return None if axes is None else sorted(a % rank for a in axes)


def _arith(op, a, b):
    if op == "Add":
        return a + b
    if op == "Sub":
        return a - b
    if op == "Mul":
        return a * b
    if isinstance(a, int) and isinstance(b, int):
        return int(a / b)  # ONNX integer Div truncates
    return a / b


def fold(op: str, ins: list, attrs: dict) -> Folded:
    """The output of ``op`` on constant inputs; value ``None`` where rfcalc does not compute it."""
    weight = any(f.weight for f in ins)  # (a left-out optional input is Folded(None))
    x = ins[0] if ins else None
    try:
        if op == "Constant":
            return constant(attrs)
        if op in ("Identity", "Cast") and x is not None:
            return Folded(x.dims, x.value, weight)
        if x is None or x.value is None:
            return Folded(None, None, weight)
        if op == "Gather" and len(x.dims) == 1 and attrs.get("axis", 0) == 0 and ins[1].value is not None:
            return Folded(ins[1].dims, tuple(x.value[i] for i in ins[1].value))
        if op == "Unsqueeze":
            axes = attrs.get("axes") or (ins[1].value if len(ins) > 1 else None)
            if axes is None:  # no axes given (or not constant): unknown, as the except clause below says
                return Folded(None, None, weight)
            dims = list(x.dims)
            for a in sorted(a % (len(dims) + len(axes)) for a in axes):
                dims.insert(a, 1)
            return Folded(tuple(dims), x.value)
        if op == "Squeeze":
            axes = _axes(attrs, ins, len(x.dims))
            kept = tuple(d for i, d in enumerate(x.dims) if (d != 1 if axes is None else i not in axes))
            return Folded(kept, x.value)
        if op == "Concat" and all(f.value is not None and len(f.dims) <= 1 for f in ins):
            value = tuple(v for f in ins for v in f.value)
            return Folded((len(value),), value)
        if op in ("Add", "Sub", "Mul", "Div") and ins[1].value is not None:
            a, b = x.value, ins[1].value
            if len(a) == 1 or len(b) == 1 or len(a) == len(b):
                n = max(len(a), len(b))
                value = tuple(_arith(op, a[i % len(a)], b[i % len(b)]) for i in range(n))
                return Folded(x.dims if len(a) >= len(b) else ins[1].dims, value)
        if op == "Slice" and len(x.dims) == 1 and all(f.value is not None for f in ins[1:3]):
            step = ins[4].value[0] if len(ins) > 4 and ins[4].value else 1
            value = x.value[slice(ins[1].value[0], ins[2].value[0], step)]
            return Folded((len(value),), value)
        if op == "Reshape" and ins[1].value is not None and -1 not in ins[1].value and 0 not in ins[1].value:
            return Folded(tuple(ins[1].value), x.value)
        if op == "ConstantOfShape":
            given = constant({"value": attrs["value"]}).value if "value" in attrs else (0.0,)
            if not given:  # a value that is not readable: unknown, as the except clause below says
                return Folded(None, None, weight)
            fill = given[0]
            return Folded(tuple(x.value), (fill,) * prod(x.value) if prod(x.value) <= 4096 else None)
    except (IndexError, TypeError, ZeroDivisionError, ValueError):
        pass  # an unusual constant: keep its place, drop its value
    return Folded(None, None, weight)
