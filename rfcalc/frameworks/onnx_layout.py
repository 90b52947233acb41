"""ONNX ops that move axes, read through axis roles (``axes``, ``axes_fields``, ``axes_views``).

Layout ops (Transpose, Reshape, Flatten, Squeeze, Unsqueeze, DepthToSpace, SpaceToDepth, Expand,
Tile) rewrite roles only; Split / Slice / Gather / Concat act on the pieces of the axis they name;
GatherND (index vectors picking positions) is in ``onnx_select``.
Ops that mix along axes (Softmax, Reduce*, MatMul) are in ``onnx_mixing``. Every handler returns
``(layer, Applied)`` (Split: and its other outputs); what cannot be proven is refused naming the
node, the op and the axes.

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks.axes_fields import tensor
>>> layer, out = read_layout("Transpose", "t", {"perm": [0, 2, 3, 1]}, [tensor(input_field((4, 4, 3)))], 17, 1)
>>> out.field.shape, out.field.layout.shape
((4, 4, 3), (1, 4, 4, 3))
"""

from __future__ import annotations

from math import prod

from ..errors import ShapeError
from ..layers import Flatten, Identity
from ..propagate import Applied, Field
from . import axes as X, axes_fields as F, axes_views as V
from .graph import refuse
from .onnx_fold import Folded
from .onnx_mixing import MIXING, REDUCE, ints_of as _ints_of, read_mixing, value as _value
from .onnx_select import gather_nd
from .onnx_windows import CALL

LAYOUT = (
    frozenset(
        {
            "Transpose",
            "Reshape",
            "Flatten",
            "Squeeze",
            "Unsqueeze",
            "DepthToSpace",
            "SpaceToDepth",
            "Expand",
            "Tile",
            "Split",
            "Slice",
            "Gather",
            "GatherND",
            "Concat",
            "Size",
        }
    )
    | MIXING
)


def _unfollowed(name, op, err):
    return refuse(name, op, f"cannot be followed: {err}", CALL)


def _data(ins):
    return [f for f in ins if isinstance(f, Field)]


def read_layout(op, name, attrs, ins, opset: int, n_out: int):
    """``(layer, Applied[, more outputs])`` for one layout or mixing op (``LAYOUT``, ``REDUCE``)."""
    try:
        return _read(op, name, attrs, ins, opset, n_out)
    except X.Unfollowed as err:
        raise _unfollowed(name, op, err) from None


def _read(op, name, attrs, ins, opset, n_out):
    data = _data(ins)
    if op == "Concat":
        return _concat(name, op, attrs, ins)
    if op in MIXING or op in REDUCE:
        return read_mixing(op, name, attrs, ins, opset)
    if op == "GatherND":
        return gather_nd(name, op, attrs, ins)
    t = F.tensor(data[0], F.layout_of(data[0]))
    lay = t.layout
    if op == "Transpose":
        perm = attrs.get("perm") or list(range(lay.rank))[::-1]
        return Identity(op), Applied(F.on(t, X.transpose(lay, perm)))
    if op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze"):
        return _reshape(name, op, attrs, ins, t, opset)
    if op in ("DepthToSpace", "SpaceToDepth"):
        return _depth(name, op, attrs, t)
    if op in ("Expand", "Tile"):
        return _copies(name, op, ins, t)
    if op == "Split":
        return _split(name, op, attrs, ins, t, opset, n_out)
    if op == "Slice":
        return _slice(name, op, attrs, ins, t, opset)
    if op == "Gather":
        return _gather(name, op, attrs, ins, t)
    raise refuse(name, op, "is not in rfcalc's list of ONNX ops", CALL)


def _reshape(name, op, attrs, ins, t, opset):
    lay = t.layout
    shape = lay.shape
    if op == "Reshape":
        spec = _value(ins, 1)
        if spec is None:
            raise ShapeError("its target shape is computed at run time from values rfcalc cannot fold")
        target = X.reshape_target(shape, spec, attrs.get("allowzero", 0))
    elif op == "Flatten":
        axis = attrs.get("axis", 1)
        axis = axis + len(shape) if axis < 0 else axis
        if not 0 <= axis <= len(shape):
            raise ShapeError(f"axis {attrs.get('axis')} is outside a {len(shape)}-d tensor")
        target = (prod(shape[:axis]), prod(shape[axis:]))
    else:
        axes = _ints_of(name, op, ins, 1, attrs, "axes", opset >= 13)
        if op == "Squeeze":
            new = X.squeeze(lay, axes)
        else:
            if axes is None:
                raise ShapeError("Unsqueeze names no axes")
            new = X.unsqueeze(lay, axes)
        return Identity(op), Applied(F.on(t, new))
    if t.axes is None:  # no field to follow: only the shape matters
        try:
            new = X.reshape(lay, target)
        except X.Unfollowed:
            new = X.flat(target, lay.sizes)
        return Identity(op), Applied(F.on(t, new))
    new = X.reshape(lay, target)
    if len(target) <= 2:  # (N, features): a Flatten, as Keras has it (the field ends here)
        return Flatten(), Applied(F.Tensor(F.collapsed_shape(new.shape), None, None, new))
    return Identity(op), Applied(F.on(t, new))


def _depth(name, op, attrs, t):
    b = int(attrs["blocksize"])
    n, c, *hw = t.layout.shape
    if len(hw) != 2:
        raise refuse(name, op, f"moves blocks of a {len(hw)}-d tensor; ONNX defines it for (N, C, H, W)", CALL)
    h, w = hw
    lay = t.layout
    if op == "SpaceToDepth":
        if h % b or w % b:
            raise ShapeError(f"blocks of {b} do not tile {h}x{w}")
        lay = X.reshape(lay, (n, c, h // b, b, w // b, b))
        lay = X.reshape(X.transpose(lay, (0, 3, 5, 1, 2, 4)), (n, c * b * b, h // b, w // b))
    else:
        if c % (b * b):
            raise ShapeError(f"{c} channels do not divide into blocks of {b}x{b}")
        if attrs.get("mode", "DCR") == "DCR":
            lay = X.transpose(X.reshape(lay, (n, b, b, c // (b * b), h, w)), (0, 3, 4, 1, 5, 2))
        else:
            lay = X.transpose(X.reshape(lay, (n, c // (b * b), b, b, h, w)), (0, 1, 4, 2, 5, 3))
        lay = X.reshape(lay, (n, c // (b * b), h * b, w * b))
    return Identity(op), Applied(F.on(t, lay))


def _copies(name, op, ins, t):
    """Expand / Tile: the new coordinates are copies, so they are channel pieces (one field per position)."""
    lay = t.layout
    spec = _value(ins, 1)
    if spec is None:
        raise ShapeError(
            f"its {'shape' if op == 'Expand' else 'repeats'} are computed at run time from values rfcalc cannot fold"
        )
    spec = [int(v) for v in spec]
    if op == "Expand":
        rank = max(lay.rank, len(spec))
        axes = [()] * (rank - lay.rank) + list(lay.axes)
        spec = [1] * (rank - len(spec)) + spec
        out = []
        for a, want in zip(axes, spec):
            have = X.extent(a)
            if want in (1, have):
                out.append(a)
            elif have == 1:
                out.append(((X.Piece(X.CHANNEL, want)),) + tuple(a))
            else:
                raise ShapeError(f"Expand cannot broadcast size {have} to {want}")
    else:
        if len(spec) != lay.rank:
            raise ShapeError(f"Tile needs one repeat per axis ({lay.rank}). Received: {spec}")
        out = [((X.Piece(X.CHANNEL, r)),) + tuple(a) if r != 1 else a for a, r in zip(lay.axes, spec)]
    X.check_size([X.extent(a) for a in out], f"the {op} output")
    return Identity(op), Applied(F.on(t, X.Layout(tuple(X._norm(a) for a in out), lay.sizes)))


def _split(name, op, attrs, ins, t, opset, n_out):
    lay = t.layout
    a = X.axis_index(attrs.get("axis", 0), lay.rank)
    n = lay.shape[a]
    sizes = attrs.get("split")
    if sizes is None and len(ins) > 1 and isinstance(ins[1], Folded) and ins[1].dims is not None:
        sizes = _value(ins, 1)
        if sizes is None:
            raise ShapeError("its split sizes are computed at run time from values rfcalc cannot fold")
    if sizes is None:
        parts = int(attrs.get("num_outputs", n_out))
        chunk = -(-n // parts)
        sizes = [chunk] * (parts - 1) + [n - chunk * (parts - 1)]
        if "num_outputs" not in attrs and n % parts:
            raise ShapeError(f"{n} does not split into {parts} equal parts")
    sizes = [int(s) for s in sizes]
    if sum(sizes) != n or any(s < 0 for s in sizes) or len(sizes) != n_out:
        raise ShapeError(f"splits axis {a} of size {n} into {sizes} for {n_out} outputs")
    outs, at = [], 0
    for s in sizes:
        outs.append(F.pick(t, a, range(at, at + s)))
        at += s
    return Identity(op), Applied(outs[0]), tuple(outs[1:])


def _slice(name, op, attrs, ins, t, opset):
    lay = t.layout
    if opset < 10 or "starts" in attrs:
        starts, ends, axes, steps = attrs.get("starts"), attrs.get("ends"), attrs.get("axes"), None
    else:
        starts, ends, axes, steps = (_value(ins, i) for i in (1, 2, 3, 4))
        if (
            starts is None
            or ends is None
            or (len(ins) > 3 and isinstance(ins[3], Folded) and ins[3].dims is not None and axes is None)
            or (len(ins) > 4 and isinstance(ins[4], Folded) and ins[4].dims is not None and steps is None)
        ):
            raise ShapeError("its starts, ends, axes or steps are computed at run time from values rfcalc cannot fold")
    axes = list(axes) if axes is not None else list(range(len(starts)))
    steps = list(steps) if steps is not None else [1] * len(starts)
    out = t
    for b, e, ax, st in zip(starts, ends, axes, steps):
        ax = X.axis_index(ax, lay.rank)
        if st == 0:
            raise ShapeError("a Slice step of 0")
        coords = list(range(*slice(int(b), int(e), int(st)).indices(lay.shape[ax])))
        if not coords:
            raise ShapeError(f"the Slice leaves nothing of axis {ax} (size {lay.shape[ax]})")
        if coords == list(range(lay.shape[ax])):
            continue
        if any(p.dim == X.BATCH for p in lay.axes[ax]) and len(lay.axes[ax]) == 1:
            continue
        out = F.pick(out, ax, coords)
    return Identity(op), Applied(out)


def _gather(name, op, attrs, ins, t):
    lay = t.layout
    a = X.axis_index(attrs.get("axis", 0), lay.rank)
    idx = ins[1] if len(ins) > 1 and isinstance(ins[1], Folded) else None
    if idx is None or idx.value is None or idx.dims is None:
        raise refuse(name, op, "gathers with indices computed at run time", CALL)
    n = lay.shape[a]
    coords = [int(v) + n if int(v) < 0 else int(v) for v in idx.value]
    if any(not 0 <= c < n for c in coords):
        raise ShapeError(f"an index is outside axis {a} of size {n}. Received: {list(idx.value)}")
    if t.axes is None:  # no field to follow: only the shape matters
        shape = lay.shape[:a] + tuple(idx.dims) + lay.shape[a + 1 :]
        return Identity(op), Applied(F.on(t, X.flat(shape, lay.sizes)))
    if len(idx.dims) > 1:
        raise refuse(name, op, f"gathers with {len(idx.dims)}-d indices along {X.words(lay, a)}", CALL)
    out = F.pick(t, a, coords)
    if len(idx.dims) == 0:  # a scalar index drops the axis
        out = F.on(out, X.replace_axis(out.layout, a, None))
    return Identity(op), Applied(out)


def _concat(name, op, attrs, ins):
    data = _data(ins)
    lays = [F.layout_of(f) for f in data]
    rank = lays[0].rank
    a = X.axis_index(attrs.get("axis", 1), rank)
    if any(f.axes is None for f in data) and any(f.axes is not None for f in data):
        # a tensor without a field (an image-pooling branch) has no roles to match: only its shape
        keep = next(f for f in data if f.axes is not None)
        data = [f if f.axes is not None else F.on(f, _like(F.layout_of(keep), F.layout_of(f), a)) for f in data]
        lays = [F.layout_of(f) for f in data]
    first = X.plain(lays[0])
    if any(lay.rank != rank for lay in lays) or any(
        X.plain(lay).axes[:a] + X.plain(lay).axes[a + 1 :] != first.axes[:a] + first.axes[a + 1 :] for lay in lays
    ):
        raise X.Unfollowed(f"joins tensors whose other axes differ: {', '.join(X.roles(lay) for lay in lays)}")
    flags = ()
    pieces = [p for lay in lays for p in lay.axes[a] if p.dim != X.BATCH]
    if any(p.dim == X.BATCH for lay in lays for p in lay.axes[a]) and len(data) > 1 and not pieces:
        raise refuse(name, op, "concatenates along the batch axis", CALL)
    spatial = [p for p in pieces if p.spatial]
    whole = [tuple(p for p in lay.axes[a] if p.dim != X.BATCH) for lay in lays]
    ks = {p.dim for p in spatial}
    if (
        spatial
        and len(data) == len(ins)
        and len(ks) == 1
        and all(
            len(w) == 1 and w[0].spatial and w[0].stride == 1 and w[0].extent == lay.sizes[w[0].dim]
            for w, lay in zip(whole, lays)
        )
        and all(f.axes is not None for f in data)
    ):
        k = next(iter(ks))
        if any(lay.sizes[:k] + lay.sizes[k + 1 :] != first.sizes[:k] + first.sizes[k + 1 :] for lay in lays):
            raise X.Unfollowed("joins tensors of different sizes along the other spatial axes")
        sizes = list(first.sizes)
        sizes[k] = sum(lay.sizes[k] for lay in lays)
        new = X.Layout(X.replace_axis(first, a, (X.Piece(k, sizes[k], 1),)).axes, tuple(sizes))
        out, flags = V.concat_spatial(data, k, new)
        return Identity(op), Applied(out, flags=flags)
    if spatial and len(data) == 1 and data[0].axes is not None:
        at = next(i for i, f in enumerate(ins) if f is data[0])
        held = {p for p in lays[0].axes[a] if p.spatial}
        if at == len(ins) - 1 and held == {p for k in range(len(first.sizes)) for _, p in lays[0].pieces(k)}:
            # constants before the positions (class and distillation tokens): extra entries, read nothing
            count = sum(_const_extent(f, a, rank) for f in ins[:at])
            rest = lays[0].axes[a]
            if rest and rest[0].dim == X.EXTRA:
                count, field, rest = count + rest[0].extent, rest[0].field, rest[1:]
            else:
                field = None
            new = X.replace_axis(lays[0], a, (X.Extra(count, field), *rest))
            return Identity(op), Applied(F.on(data[0], new), flags=("tokens",))
    if spatial:  # maps of other sizes (or tokens after constants) join: no position tells them apart
        data = [_collapse(f, lay, ks) for f, lay in zip(data, lays)]
        lays = [f.layout for f in data]
        flags = ("tokens",)
    ext = sum(X.extent(lay.axes[a]) for lay in lays)
    ext += sum(_const_extent(f, a, rank) for f in ins if isinstance(f, Folded))
    new = F.with_extras(X.replace_axis(lays[0], a, (X.Piece(X.CHANNEL, ext),)), lays)
    fielded = [f for f in data if f.axes is not None]
    if any(f.layout.sizes != lays[0].sizes for f in fielded):
        raise X.Unfollowed("joins tensors of different spatial sizes: " + ", ".join(X.roles(lay) for lay in lays))
    if not fielded:
        return Identity(op), Applied(F.Tensor(F.collapsed_shape(new.shape), None, None, new), flags=flags)
    frame = (*lays[0].sizes, 1)
    field, same = V.union([Field(frame, f.axes, f.narrow) for f in fielded], frame)
    out = F.Tensor(F.shape_of(new, field), field.axes, field.narrow, new)
    return Identity(op), Applied(out, flags=flags + (() if same and _centred(fielded) else ("misaligned",)))


def _like(model: X.Layout, lay: X.Layout, a: int) -> X.Layout:
    """``model``'s roles on every axis but ``a`` (where ``lay``'s extent stays): a field-less tensor of the
    same shape joined to one with roles."""
    if model.shape[:a] + model.shape[a + 1 :] != lay.shape[:a] + lay.shape[a + 1 :]:
        raise X.Unfollowed(f"joins tensors of shapes {model.shape} and {lay.shape}")
    axes = list(model.axes)
    axes[a] = (X.Piece(X.CHANNEL, lay.shape[a]),)
    return X.Layout(tuple(X._norm(x) for x in axes), model.sizes)


def _centred(fields) -> bool:
    return all(f.start == fields[0].start for f in fields)


def _const_extent(f: Folded, a, rank):
    if f.dims is None or len(f.dims) != rank:
        raise ShapeError("joins a constant of unknown shape")
    return f.dims[a]


def _collapse(t, lay, ks) -> F.Tensor:
    """The pieces of the canonical axes ``ks`` turned into channels: positions that cannot be told apart
    any more, so the tensor has no field (flag ``tokens``; as after a global pool)."""
    axes = tuple(tuple(X.Piece(X.CHANNEL, p.extent) if p.spatial and p.dim in ks else p for p in a) for a in lay.axes)
    new = X.Layout(tuple(X._norm(a) for a in axes), lay.sizes)
    return F.Tensor(F.collapsed_shape(new.shape), None, None, new)
