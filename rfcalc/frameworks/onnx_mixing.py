"""ONNX ops that work along axes: Softmax, Reduce*, ArgMax, MatMul and Gemm, read through axis roles.

Mixing along channel pieces keeps the field; along spatial pieces every unit reads all units that
differ from it only there (``axes_fields.mix``): a Softmax or Reduce over all tokens gives the whole
span, over a window's tokens the window. A Reduce over every spatial piece is a global pool. A
MatMul by a constant weight is a Linear over the last axis; a MatMul of two activations (attention)
unions both operands' fields, B's columns that repeat A's positions (the keys) becoming channels.

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks.axes_fields import tensor
>>> layer, out = read_mixing("Softmax", "s", {"axis": 3}, [tensor(input_field((4, 4, 3)))], 17)
>>> out.field.rf, out.field.jump
((1, 4), (1, 0))
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from ..layers import Dense, GlobalPool, Identity
from ..propagate import Applied, Field
from . import axes as X, axes_fields as F, axes_views as V
from .graph import refuse
from .onnx_fold import Folded
from .onnx_windows import CALL

REDUCE = frozenset(
    {
        "ReduceMean",
        "ReduceMax",
        "ReduceMin",
        "ReduceSum",
        "ReduceL1",
        "ReduceL2",
        "ReduceProd",
        "ReduceLogSum",
        "ReduceLogSumExp",
        "ReduceSumSquare",
    }
)
MIXING = frozenset({"Softmax", "LogSoftmax", "Hardmax", "ArgMax", "ArgMin", "MatMul", "Gemm"})
POOL_KIND = {"ReduceMax": "max", "ReduceMin": "max"}


def value(ins, i):
    return ins[i].value if len(ins) > i and isinstance(ins[i], Folded) else None


def ints_of(name, op, ins, i, attrs, key, opset_input: bool):
    """A list of ints given as attribute ``key`` or as input ``i`` (whichever the file uses)."""
    v = attrs.get(key)
    if v is None and len(ins) > i and not isinstance(ins[i], Folded):
        raise refuse(name, op, f"takes its {key} from an activation", CALL)
    if v is None:
        v = value(ins, i)
        if v is None and len(ins) > i and isinstance(ins[i], Folded) and ins[i].dims is not None:
            raise ShapeError(f"its {key} are computed at run time from values rfcalc cannot fold")
    return None if v is None else [int(a) for a in v]


def read_mixing(op, name, attrs, ins, opset: int):
    """``(layer, Applied)`` of a Softmax, Reduce*, ArgMax, MatMul or Gemm node on activations."""
    data = [f for f in ins if isinstance(f, Field)]
    if op == "MatMul" and len(data) == 2:
        return _matmul2(name, op, data)
    t = F.tensor(data[0], F.layout_of(data[0]))
    lay = t.layout
    if op in ("Softmax", "LogSoftmax", "Hardmax"):
        a = X.axis_index(attrs.get("axis", 1 if opset < 13 else -1), lay.rank)
        return Identity(op), Applied(F.mix(t, list(range(a, lay.rank)) if opset < 13 else [a]))
    if op in ("MatMul", "Gemm"):
        return _dense(name, op, attrs, ins, t)
    return _reduce(name, op, attrs, ins, t, opset)


def _reduce(name, op, attrs, ins, t, opset):
    lay = t.layout
    if op in ("ArgMax", "ArgMin"):
        axes = [attrs.get("axis", 0)]
    else:
        axes = ints_of(name, op, ins, 1, attrs, "axes", True)
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            return Identity(op), Applied(t)
        axes = list(range(lay.rank))
    axes = sorted({X.axis_index(a, lay.rank) for a in axes})
    keep = attrs.get("keepdims", 1)
    spatial = {p for i in axes for p in lay.axes[i] if p.spatial}
    everything = (
        t.axes is not None and spatial and all({p for _, p in lay.pieces(k)} <= spatial for k in range(len(lay.sizes)))
    )
    new = X.Layout(
        tuple(() if i in axes and keep else a for i, a in enumerate(lay.axes) if keep or i not in axes), lay.sizes
    )
    if everything:  # a global pool: the field is the whole input (rfcalc's GlobalPool: no field left)
        out_layout = X.Layout(new.axes, ())
        out = F.Tensor(F.collapsed_shape(new.shape), None, None, out_layout)
        return GlobalPool(POOL_KIND.get(op, "avg"), len(lay.sizes)), Applied(out)
    mixed = F.mix(t, axes)
    return Identity(op), Applied(F.settle(mixed, new))


def _dense(name, op, attrs, ins, t):
    """MatMul / Gemm by a constant weight along the last axis (a Linear over channels keeps the field)."""
    lay = t.layout
    weight = ins[1] if len(ins) > 1 and isinstance(ins[1], Folded) else None
    if op == "Gemm" and (attrs.get("transA", 0) or lay.rank != 2):
        raise refuse(name, op, "multiplies a transposed or non-2-d A", CALL)
    if weight is None or weight.dims is None or len(weight.dims) != 2:
        raise refuse(name, op, "does not multiply by a constant 2-d weight", CALL)
    k_dim, units = weight.dims[::-1] if attrs.get("transB", 0) else weight.dims
    if lay.shape[-1] != k_dim:
        raise ShapeError(f"multiplies a last axis of {lay.shape[-1]} by a ({weight.dims[0]}, {weight.dims[1]}) weight")
    mixed = F.mix(t, [lay.rank - 1])
    new = X.replace_axis(lay, lay.rank - 1, (X.Piece(X.CHANNEL, units),))
    out = F.settle(mixed, new)
    bias = op == "Gemm" and len(ins) > 2 and isinstance(ins[2], Folded) and ins[2].dims is not None
    macs = prod(new.shape) * k_dim
    return Dense(units, "linear", bias), Applied(out, macs=macs)


def _matmul2(name, op, data):
    """A @ B of two activations (attention): contracted spatial pieces mix; B's columns that repeat A's
    positions (keys) become channels, and their pieces mix. Extra entries (a class token) on A's rows
    read what their own row reads and all that B's mixed columns read."""
    a, b = (F.tensor(f, F.layout_of(f)) for f in data)
    la, lb = a.layout, b.layout
    if la.rank < 2 or lb.rank < 2 or la.rank != lb.rank:
        raise X.Unfollowed(f"multiplies {X.roles(la)} by {X.roles(lb)}")
    if la.sizes != lb.sizes:
        raise X.Unfollowed(f"multiplies tensors on different spatial sizes {la.sizes} and {lb.sizes}")
    pa, pb = X.plain(la), X.plain(lb)
    batch = []
    for i in range(la.rank - 2):
        ea, eb = X.extent(la.axes[i]), X.extent(lb.axes[i])
        if pa.axes[i] == pb.axes[i] or eb == 1:
            batch.append(la.axes[i])
        elif ea == 1 and not any(p.spatial for p in la.axes[i]):
            batch.append(lb.axes[i])
        else:
            raise X.Unfollowed(f"multiplies {X.roles(la)} by {X.roles(lb)}: their batch axes differ")
    if X.extent(la.axes[-1]) != X.extent(lb.axes[-2]):
        raise ShapeError(f"MatMul of {la.shape} and {lb.shape}")
    rows, cols = la.axes[-2], lb.axes[-1]
    placed = {p for ax in (*batch, rows) for p in ax if p.spatial}
    dup = any(p.spatial and p in placed for p in cols)
    keys = (X.Piece(X.CHANNEL, X.extent(cols)),) if dup else cols
    ma = F.mix(a, [la.rank - 1])
    mb = F.mix(b, [lb.rank - 2, lb.rank - 1] if dup else [lb.rank - 2])
    if rows and rows[0].dim == X.EXTRA and a.axes is not None and b.axes is not None:
        uniform = F.spans(mb.axes)
        if None in uniform:
            raise X.Unfollowed(
                f"multiplies {X.roles(la)} by {X.roles(lb)}: the extra entries' rows read positions rfcalc cannot tell"
            )
        field = uniform if rows[0].field is None else F.add_extra(uniform, rows[0].field)
        rows = (X.Extra(rows[0].extent, field), *rows[1:])
    new = X.Layout(tuple(X._norm(ax) for ax in (*batch, rows, keys)), la.sizes)
    if a.axes is None or b.axes is None:
        return Identity(op), Applied(F.Tensor(F.collapsed_shape(new.shape), None, None, new))
    shape = F.shape_of(new, ma)
    field, _ = V.union([Field(shape, ma.axes, ma.narrow), Field(shape, mb.axes, mb.narrow)], shape)
    out = F.settle(F.Tensor(field.shape, field.axes, field.narrow, la), new)
    macs = prod(new.shape) * X.extent(la.axes[-1])
    return Identity(op), Applied(out, macs=macs)
