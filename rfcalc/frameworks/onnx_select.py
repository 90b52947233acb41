"""ONNX ops that select elements by constant tables: GatherND (index vectors) and Where (a mask).

torch's dynamo exporter writes ``adaptive_avg_pool2d`` to an output size that does not divide the
input (PSPNet's 3 and 6 bins on a map of 8) as ``Transpose`` to (H, W, N, C), a ``GatherND`` whose
constant index vectors list every window's (h, w) pairs (windows padded to one length by repeating
their last pixel), a ``Transpose`` back, a ``Where`` that zeroes the padded repeats, then sums and
a division (or a ``ReduceMean`` over the window axes). Both ops are read exactly here, through axis
roles (``axes_gather``); indices and masks must be folded constants (an initializer, or an integer
side graph ``onnx_ints`` evaluates), else the node is refused, named.

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks import axes as X, axes_fields as F
>>> from rfcalc.frameworks.onnx_fold import Folded
>>> t = F.on(input_field((4, 1)), X.image((4,), 1))
>>> _, out = where("w", "Where", [Folded((4,), (1, 1, 0, 1), dtype=9), t, Folded((), None, dtype=1)])
>>> [out.field.axes[0].at(u)[0] <= out.field.axes[0].at(u)[1] for u in range(4)]
[True, True, False, True]
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from ..layers import Identity
from ..propagate import Applied, Field
from . import axes as X, axes_fields as F, gathernd as ND, onnx_ints as I
from .axes_gather import gather_nd as _gather_nd, silence
from .graph import refuse
from .onnx_fold import Folded
from .onnx_windows import CALL


def gather_nd(name, op, attrs, ins):
    """``(layer, Applied)`` of a GatherND of an activation by constant index vectors."""
    if not isinstance(ins[0], Field):
        raise refuse(name, op, "gathers from a constant with indices from an activation", CALL)
    t = F.tensor(ins[0], F.layout_of(ins[0]))
    lay = t.layout
    idx = ins[1] if len(ins) > 1 else None
    if isinstance(idx, Field):
        raise refuse(name, op, "takes its indices from an activation", CALL)
    if not isinstance(idx, Folded) or idx.dims is None or idx.value is None:
        raise refuse(
            name,
            op,
            f"gathers from {X.roles(lay)} with indices rfcalc cannot fold (dims "
            f"{None if idx is None else idx.dims}): computed at run time, stored without data, or past "
            f"{I.LIMIT:,} values",
            CALL,
        )
    b = int(attrs.get("batch_dims", 0))
    _, coords = ND.picks(lay.shape, idx.dims, idx.value, b)
    out, bound = _gather_nd(t, b, idx.dims, coords)
    return Identity(op), Applied(out, flags=("bound",) if bound else ())


def where(name, op, ins):
    """``(layer, Applied)`` of ``Where(cond, x, y)`` with a constant ``cond`` and one activation among
    ``x``, ``y`` (the other a constant): exact when the mask varies along one canonical axis only
    (its masked units read nothing); ``None`` for every other case (the caller unions the inputs)."""
    cond, *branches = ins
    acts = [f for f in branches if isinstance(f, Field)]
    if not isinstance(cond, Folded) or cond.value is None or cond.dims is None or len(acts) != 1:
        return None
    other = next(f for f in branches if f is not acts[0])
    t = F.tensor(acts[0], F.layout_of(acts[0]))
    lay = t.layout
    if not isinstance(other, Folded) or other.dims is None:
        return None
    out_dims = I.broadcast(cond.dims, lay.shape, other.dims)
    if tuple(out_dims) != lay.shape:
        return None
    sel = [bool(v) == (acts[0] is branches[0]) for v in cond.value]
    if all(sel):
        return Identity(op), Applied(t)
    if not any(sel):
        return None
    lead = lay.rank - len(cond.dims)
    varies = [lead + a for a in range(len(cond.dims)) if cond.dims[a] > 1 and _varies(sel, cond.dims, a)]
    ks = {p.dim for i in varies for p in lay.axes[i] if p.dim != X.BATCH}
    if len(ks) != 1 or not isinstance(next(iter(ks)), int) or t.axes is None:
        return None
    (k,) = ks
    alive = [_at(sel, cond.dims, lead, lay, k, u) for u in range(lay.sizes[k])]
    return Identity(op), Applied(silence(t, k, alive))


def _varies(values, dims, a) -> bool:
    st = prod(dims[a + 1 :])
    return any(v != values[i - (i // st) % dims[a] * st] for i, v in enumerate(values))


def _at(sel, dims, lead, lay, k, u) -> bool:
    """The mask at canonical unit ``u`` of axis ``k`` (every other coordinate 0: the mask does not vary there)."""
    coords = []
    for axis in lay.axes:
        c = 0
        for p in axis:
            c = c * p.extent + ((u // p.stride) % p.extent if p.dim == k else 0)
        coords.append(c)
    flat = 0
    for a, d in enumerate(dims):
        flat = flat * d + (coords[lead + a] if d > 1 else 0)
    return sel[flat]


def check_where(name, op, ins, out_shape) -> None:
    """A Where read as a union must not broadcast its one activation (rfcalc would keep its shape)."""
    dims = [tuple(f.dims) for f in ins if isinstance(f, Folded) and f.dims is not None]
    if dims and tuple(I.broadcast(*dims, tuple(out_shape))) != tuple(out_shape):
        raise ShapeError(f"broadcasts its activation of shape {tuple(out_shape)} to {I.broadcast(*dims, out_shape)}")


__all__ = ["gather_nd", "where", "check_where"]
