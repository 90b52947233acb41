"""Constants in an ONNX graph: weights known by their dims, weights computed from weights, and the
small integer tensors exporters compute from shapes, folded while the graph is read.

With the input shape fixed, the side graphs exporters write (``Shape -> Gather -> Unsqueeze ->
Concat -> Reshape``; TF-"same" pads ``Shape -> Slice -> Sub -> Max -> Concat -> Pad``; Resize
scales ``Shape -> Cast -> Mul -> Floor``) are evaluated exactly (``onnx_ints``: ints, Fractions,
bounded work). A weight computed at run time (weight standardisation: ``w -> ReduceMean -> Sub
-> Div -> Conv``) has its dims inferred through the chain, and ``sources`` names the stored
initializers behind it: what its reading layer counts as parameters. A ``Folded`` tensor makes
no row. Nothing here imports onnx: tensors come from ``onnx_wire``.

>>> fold("Concat", [Folded((1,), (1,)), Folded((1,), (-1,))], {"axis": 0}).value
(1, -1)
>>> fold("Gather", [Folded((4,), (1, 64, 7, 7), dtype=7), Folded((), (0,), dtype=7)], {"axis": 0}).value
(1,)
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from ..errors import ShapeError
from . import gathernd as ND, onnx_ints as I
from .onnx_ints import FLOATS

FLOAT_TYPES = FLOATS  # FLOAT, FLOAT16, DOUBLE, BFLOAT16: what counts as a weight
SAME_DIMS = frozenset(
    {
        "Identity",
        "Relu",
        "Sigmoid",
        "Tanh",
        "Sqrt",
        "Exp",
        "Log",
        "Reciprocal",
        "Erf",
        "Softplus",
        "Softsign",
        "Sin",
        "Cos",
        "Elu",
        "Selu",
        "LeakyRelu",
        "HardSigmoid",
        "Dropout",
        "BatchNormalization",
        "Softmax",
        "InstanceNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "LpNormalization",
        "Round",
        "IsNaN",
        "Floor",
        "Ceil",
        "Neg",
        "Abs",
        "Not",
        "Sign",
        "Clip",
        "Cast",
        "CastLike",
    }
)
LAYOUT_OPS = frozenset(  # ops that move a weight's values without computing new ones: a loose weight stays one
    {"Identity", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Cast", "CastLike", "Dropout"}
)
BINARY = frozenset({"Add", "Sub", "Mul", "Div", "Mod", "Pow", "Max", "Min", "Sum", "Mean", *I.COMPARE})
REDUCE = {
    "ReduceSum": sum,
    "ReduceProd": prod,
    "ReduceMax": max,
    "ReduceMin": min,
    "ReduceMean": lambda g: I.exact(sum(I.exact(v) for v in g)) / len(g),
    "ReduceL2": None,
    "ReduceSumSquare": None,
    "ReduceL1": None,
    "ReduceLogSumExp": None,
}


@dataclass(frozen=True, slots=True)
class Folded:
    """A tensor that is not an activation: a weight (``weight``) or a constant, by dims and maybe value.

    ``dtype`` is the ONNX element type (0: not known); ``sources`` the ``(name, size, role)`` of the
    stored float initializers a weight is, or is computed from (``role``: ``onnx_params``).
    """

    dims: tuple | None
    value: tuple | None = None
    weight: bool = False
    dtype: int = 0
    sources: frozenset = frozenset()

    @property
    def size(self) -> int:
        return prod(self.dims) if self.dims is not None else 0


def from_tensor(t, role: str = "param") -> Folded:
    """A tensor read by ``onnx_wire`` as ``Folded``: dims always, the values of a small one with data;
    a float one is a weight, with ``role`` (``onnx_params.roles_of``: param, buffer, loose, const)."""
    weight = t.data_type in FLOAT_TYPES
    sources = frozenset({(t.name, prod(t.dims), role)}) if weight else frozenset()
    return Folded(t.dims, t.value, weight, t.data_type, sources)


def constant(attrs: dict) -> Folded:
    """The output of a ``Constant`` node (never a weight: exporters write literals this way)."""
    if "value" in attrs:
        t = attrs["value"]
        return Folded(t.dims, t.value, dtype=t.data_type)
    for key, dtype in (("value_int", 7), ("value_float", 1)):
        if key in attrs:
            return Folded((), (attrs[key],), dtype=dtype)
    for key, dtype in (("value_ints", 7), ("value_floats", 1)):
        if key in attrs:
            return Folded((len(attrs[key]),), tuple(attrs[key]), dtype=dtype)
    return Folded(None)


def fold(op: str, ins: list, attrs: dict, aliases: dict | None = None) -> Folded:
    """The output of ``op`` on constant inputs: dims where rfcalc infers them, exact values of
    small ones; ``ShapeError`` for a malformed side computation (a bad index, a Reshape that
    changes the element count, a constant too big to be one).

    ``aliases`` (one dict per graph read): an ``Identity`` or ``Dropout`` passes its input's values
    on unchanged, so their exact form is computed once per input tensor, not once per alias (a
    legacy torch export reads an untrained ResNet-50's equal BatchNorm vectors through 200 aliases).
    """
    if op == "Constant":
        return constant(attrs)
    weight = any(f.weight for f in ins)  # (a left-out optional input is Folded(None))
    sources = frozenset().union(*(f.sources for f in ins)) if weight else frozenset()
    try:
        dims, value, dtype = _eval(op, ins, attrs)
    except ShapeError:  # a malformed side computation: refused, the walk names the node
        raise
    except (ArithmeticError, TypeError, IndexError, KeyError, ValueError):
        dims, value, dtype = None, None, 0  # an input not known (or an op not followed): dims and value unknown
    if op in ("Shape", "Size"):
        weight, sources = False, frozenset()
    elif op in REDUCE:  # a statistic of a weight (the mean and variance of weight standardisation) is not
        sources = frozenset()  # a further parameter: the weight counts where its values flow on
    elif op not in LAYOUT_OPS:  # a loose tensor (no recorded kind) computed on is an exporter's constant
        sources = frozenset(s for s in sources if s[2] != "loose")

    if value is not None:
        if dims is None or I.count(dims) != len(value):
            value = None
        elif aliases is not None and op in ("Identity", "Dropout"):
            value = _alias(aliases, value, dtype)
        else:
            value = I.checked(value, dtype)
    return Folded(dims, value, weight, dtype, sources)


def _alias(aliases: dict, value: tuple, dtype: int):
    """``I.checked(value, dtype)``, remembered in ``aliases`` by the identity of ``value`` (the entry
    holds ``value``, so its id is not reused while the dict lives)."""
    hit = aliases.get(id(value))
    if hit is None or hit[0] is not value or hit[1] != dtype:
        hit = aliases[id(value)] = (value, dtype, I.checked(value, dtype))
    return hit[2]


def _t(f: Folded):
    return (f.dims, f.value)


def _vals(f: Folded):
    """The exact values of an input (ints, Fractions), or None."""
    return None if f.value is None else tuple(I.exact(v) for v in f.value)


def _ints(f: Folded | None):
    if f is None or f.value is None:
        return None
    return tuple(int(v) for v in f.value)


def _arg(ins, i):
    return ins[i] if len(ins) > i and ins[i].dims is not None else None


def _axes(attrs, ins, i=1):
    axes = attrs.get("axes")
    if axes is None and _arg(ins, i) is not None:
        axes = _ints(ins[i])
        if axes is None:
            raise ValueError("axes not known")
    return axes


def _eval(op, ins, attrs):
    x = ins[0] if ins else Folded(None)
    dtype = x.dtype
    if op in ("Identity", "Dropout"):
        return x.dims, x.value, dtype
    if op == "Shape":
        dims = x.dims[attrs.get("start", 0) : attrs.get("end")] if "end" in attrs else x.dims[attrs.get("start", 0) :]
        return (len(dims),), tuple(dims), 7
    if op == "Size":
        return (), (prod(x.dims),), 7
    if op in ("Cast", "CastLike"):
        to = attrs.get("to") if op == "Cast" else ins[1].dtype
        values = None if x.value is None else tuple(I.cast(v, to) for v in _vals(x))
        return x.dims, values, to
    if op in I.ROUND:
        values = None if x.value is None else tuple(I.ROUND[op](v) for v in _vals(x))
        return x.dims, values, 9 if op == "Not" else dtype
    if op == "Relu":
        return x.dims, None if x.value is None else tuple(max(v, 0) for v in _vals(x)), dtype
    if op == "Reciprocal":
        return x.dims, None if x.value is None else tuple(1 / v for v in _vals(x)), dtype
    if op in SAME_DIMS and op != "Clip":
        return x.dims, None, dtype
    if op in BINARY or op == "Clip" or op == "Where":
        return _elementwise(op, ins, attrs)
    if op == "Gather":
        dims, value = I.gather((x.dims, x.value), (ins[1].dims, _ints(ins[1])), attrs.get("axis", 0))
        return dims, value, dtype
    if op == "GatherND":
        return (*_gather_nd(x, ins[1], int(attrs.get("batch_dims", 0))), dtype)
    if op == "Slice":
        return (*_slice(x, ins, attrs), dtype)
    if op == "Concat":
        dims, value = I.concat([_t(f) for f in ins], attrs["axis"])
        return dims, value, dtype
    if op in ("Squeeze", "Unsqueeze"):
        axes = _axes(attrs, ins)
        if op == "Squeeze":
            keep = {I.axis_of(a, len(x.dims)) for a in axes} if axes is not None else None
            dims = tuple(d for i, d in enumerate(x.dims) if (d != 1 if keep is None else i not in keep))
            if keep is not None and any(x.dims[a] != 1 for a in keep):
                raise ShapeError(f"Squeeze of axes {list(axes)} of dims {x.dims}: they are not 1")
        else:
            rank = len(x.dims) + len(axes)
            dims = list(x.dims)
            for a in sorted(I.axis_of(a, rank) for a in axes):
                dims.insert(a, 1)
        return tuple(dims), x.value, dtype
    if op == "Reshape":
        return I.reshape_dims(x.dims, _ints(ins[1]), bool(attrs.get("allowzero", 0))), x.value, dtype
    if op == "Flatten":
        axis = I.axis_of(attrs.get("axis", 1), len(x.dims) + 1)
        return (prod(x.dims[:axis]), prod(x.dims[axis:])), x.value, dtype
    if op == "Transpose":
        dims, value = I.transpose(_t(x), attrs.get("perm"))
        return dims, value, dtype
    if op == "Expand":
        dims = I.broadcast(x.dims, _ints(ins[1]))
        I.count(dims)
        return dims, None if x.value is None or I.count(dims) > I.LIMIT else I.expand_to(_t(x), dims), dtype
    if op == "Tile":
        reps = _ints(ins[1])
        dims = tuple(d * r for d, r in zip(x.dims, reps))
        return (
            dims,
            None
            if x.value is None or I.count(dims) > I.LIMIT
            else I.take(_t(x), [[i % d for i in range(d * r)] for d, r in zip(x.dims, reps)])[1],
            dtype,
        )
    if op == "ConstantOfShape":
        dims = _ints(x)
        fill = constant({"value": attrs["value"]}) if "value" in attrs else Folded((1,), (0.0,), dtype=1)
        n = I.count(dims)
        return tuple(dims), None if n > I.LIMIT or fill.value is None else fill.value[:1] * n, fill.dtype or 1
    if op == "Range":
        start, limit, delta = (_vals(f)[0] for f in ins[:3])
        dims, value = I.arange(start, limit, delta)
        return dims, value, dtype
    if op in REDUCE:
        axes = _axes(attrs, ins)
        if axes == () or axes == []:
            axes = None if not attrs.get("noop_with_empty_axes", 0) else ()
        fn = REDUCE[op]
        if fn is None or x.value is None:
            return I.reduce_dims(x.dims, axes, bool(attrs.get("keepdims", 1)))[0], None, dtype
        dims, value = I.reduce((x.dims, _vals(x)), axes, bool(attrs.get("keepdims", 1)), fn)
        return dims, value, dtype
    if op == "MatMul":
        a, b = x.dims, ins[1].dims
        a2, b2 = (a if len(a) > 1 else (1,) + a), (b if len(b) > 1 else b + (1,))
        if a2[-1] != b2[-2]:
            raise ShapeError(f"MatMul of constants with dims {a} and {b}")
        dims = I.broadcast(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
        dims = dims[:-2] + ((a2[-2],) if len(a) > 1 else ()) + ((b2[-1],) if len(b) > 1 else ())
        return dims, None, dtype
    return None, None, 0


def _elementwise(op, ins, attrs):
    present = [f for f in ins if f.dims is not None]
    if op == "Clip":  # Clip(x, min, max): optional inputs left out are Folded(None); opset < 11 uses attrs
        x, lo, hi = ins[0], _arg(ins, 1), _arg(ins, 2)
        lo_v = _vals(lo)[0] if lo is not None and lo.value else attrs.get("min")
        hi_v = _vals(hi)[0] if hi is not None and hi.value else attrs.get("max")
        if x.value is None or (lo is not None and lo.value is None) or (hi is not None and hi.value is None):
            return x.dims, None, x.dtype
        lo_v, hi_v = I.exact(lo_v), I.exact(hi_v)
        clip = lambda v: (
            min(max(v, lo_v) if lo_v is not None else v, hi_v)
            if hi_v is not None
            else (max(v, lo_v) if lo_v is not None else v)
        )
        return x.dims, tuple(clip(v) for v in _vals(x)), x.dtype
    dims = I.broadcast(*(f.dims for f in present))
    dtype = (ins[1] if op == "Where" else present[0]).dtype
    if op in I.COMPARE:
        out_type = 9
    else:
        out_type = dtype
    if any(f.value is None for f in present):
        return dims, None, out_type
    integer = (
        dtype in I.INTS
        or dtype == 9
        or (  # a Shape of an activation may come without its type
            dtype == 0 and all(isinstance(v, int) for f in present for v in f.value)
        )
    )
    if integer and out_type == 0:
        out_type = 7
    if op == "Where":
        fn = lambda c, a, b: a if c else b
    elif op in I.COMPARE:
        fn = I.COMPARE[op]
    elif op == "Div":
        fn = lambda a, b: I.divide(a, b, integer)
    elif op == "Mod":
        fn = lambda a, b: I.modulo(a, b, bool(attrs.get("fmod", 0)), integer)
    elif op == "Pow":

        def fn(a, b):
            if b != int(b) or abs(b) > 64:
                raise ArithmeticError("Pow with a fractional or large exponent")
            r = I.exact(a) ** int(b)
            return int(r) if integer else r
    elif op in ("Max", "Min"):
        fn = lambda *v: (max if op == "Max" else min)(v)
    elif op in ("Sum", "Add"):
        fn = lambda *v: sum(v)
    elif op == "Mean":
        fn = lambda *v: I.exact(sum(v)) / len(v)
    elif op == "Sub":
        fn = lambda a, b: a - b
    else:
        fn = lambda a, b: a * b
    dims, value = I.elementwise(fn, [(f.dims, _vals(f)) for f in present])
    return dims, value, out_type


def _gather_nd(x, idx, b):
    if idx.value is None:  # dims only (the picks are not known: they cannot be checked either)
        m = idx.dims[-1]
        return tuple(idx.dims[:-1]) + tuple(x.dims[b + m :]), None
    dims, coords = ND.picks(x.dims, idx.dims, _ints(idx), b)
    if x.value is None or I.count(dims) > I.LIMIT:
        return dims, None
    return dims, ND.take(x.dims, x.value, idx.dims, coords, b)


def _slice(x, ins, attrs):
    if len(ins) > 1:  # opset 10+: starts, ends, axes, steps as inputs
        starts, ends = _ints(ins[1]), _ints(ins[2])
        axes = _ints(_arg(ins, 3)) if _arg(ins, 3) is not None else None
        steps = _ints(_arg(ins, 4)) if _arg(ins, 4) is not None else None
        if (
            starts is None
            or ends is None
            or (_arg(ins, 3) is not None and axes is None)
            or (_arg(ins, 4) is not None and steps is None)
        ):
            raise ValueError("slice bounds not known")
    else:
        starts, ends, axes, steps = attrs["starts"], attrs["ends"], attrs.get("axes"), None
    rank = len(x.dims)
    axes = list(range(len(starts))) if axes is None else [I.axis_of(a, rank) for a in axes]
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps) or len(set(axes)) != len(axes):
        raise ShapeError(f"Slice with starts {starts}, ends {ends}, axes {axes}, steps {steps}: they do not match")
    picks = [range(d) for d in x.dims]
    for b, e, a, s in zip(starts, ends, axes, steps):
        picks[a] = I.slice_range(x.dims[a], b, e, s)
    return I.take(_t(x), picks)
