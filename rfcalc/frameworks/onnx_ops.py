"""One ONNX node in: the allow-list that maps an op on NCHW tensors to an rfcalc layer and an ``Applied``.

rfcalc's fields and rows are channels-last, as Keras' are: an ONNX tensor (N, C, H, W) is the
field shape (H, W, C), (N, C, L) is (L, C) and (N, C, D, H, W) is (D, H, W, C), so the same
network read from Keras and from ONNX gives the same rows. Windows (Conv, ConvTranspose,
pooling) are read in ``onnx_windows``. Parameters are not computed here: the adapter counts them
from the initializers' dims. Conventions: docs/frameworks.md.

>>> from rfcalc.propagate import input_field
>>> layer, out = read_op("Pad", "pad", {"pads": [0, 0, 1, 2, 0, 0, 1, 2]}, [input_field((8, 8, 3))])
>>> out.field.shape, out.padding
((10, 12, 3), ((1, 1), (2, 2)))
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import ShapeError
from ..layers import BatchNorm, GlobalPool, Identity, ZeroPad
from ..propagate import Applied, Field, apply_layer, input_field
from . import axes as X, axes_fields as F, axes_views as V
from .graph import refuse
from .keras_layers import elementwise_merge
from .onnx_fold import Folded
from .onnx_layout import LAYOUT, REDUCE, read_layout
from .onnx_pointwise import POINTWISE
from .onnx_resize import resize
from .onnx_select import check_where, where
from .onnx_windows import CALL, spatial as _spatial, window

PASS_THROUGH = POINTWISE | frozenset({"Identity", "Dropout", "Cast", "Sin", "Cos"})
MERGES = frozenset({"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean"})
WINDOWS = frozenset({"Conv", "MaxPool", "AveragePool", "LpPool", "ConvTranspose"})
GLOBAL = {"GlobalAveragePool": "avg", "GlobalMaxPool": "max", "GlobalLpPool": "avg"}
SUPPORTED = (
    PASS_THROUGH
    | MERGES
    | WINDOWS
    | LAYOUT
    | REDUCE
    | set(GLOBAL)
    | {"BatchNormalization", "Pad", "Resize", "Upsample", "Where"}
)


def channels_last(shape) -> tuple:
    """rfcalc's shape of an ONNX tensor: (N, C, H, W) -> (H, W, C), (N, C, L) -> (L, C); (N, F) -> (F,)."""
    shape = tuple(shape)
    return (*shape[2:], shape[1]) if 3 <= len(shape) <= 5 else shape[1:]


def _collapsed(shape) -> Field:
    return Field(tuple(shape))


def _opt(ins, i):
    """The folded value of optional input ``i`` (None when left out or not known)."""
    return ins[i].value if len(ins) > i and isinstance(ins[i], Folded) else None


def _resize(name, op, field: Field, ins, attrs):
    """Resize / Upsample in every mode, by ONNX's rules: ``onnx_resize``."""
    return resize(name, op, field, ins, attrs)


def _pad(name, op, field: Field, ins, attrs):
    mode = attrs.get("mode", "constant")
    pads = _opt(ins, 1) or attrs.get("pads")
    if pads is None:
        raise ShapeError("its pads are computed at run time from values rfcalc cannot fold")
    rank = len(field.shape) + 1
    axes = _opt(ins, 3) or list(range(rank))
    full = [0] * (2 * rank)
    for i, a in enumerate(axes):
        full[a % rank], full[a % rank + rank] = pads[i], pads[i + len(axes)]
    if full[0] or full[1] or full[rank] or full[rank + 1] or min(full) < 0:
        raise refuse(name, op, f"pads the batch or channel axis or crops (pads={list(pads)})", CALL)
    if mode not in ("constant", "reflect", "edge"):
        raise refuse(name, op, f"pads in mode {mode!r}", CALL)
    layer = ZeroPad(tuple((full[a], full[a + rank]) for a in range(2, rank)), mode)
    applied = apply_layer(layer, field)
    return layer, applied if mode == "constant" else replace(applied, flags=applied.flags + (mode,))


def _pad_roles(name, op, t: F.Tensor, ins, attrs):
    """Pad on a tensor in another layout (NHWC before a window partition): each padded axis must hold
    one whole spatial axis; the canonical field is padded there."""
    lay = t.layout
    pads = _opt(ins, 1) or attrs.get("pads")
    if pads is None:
        raise ShapeError("its pads are computed at run time from values rfcalc cannot fold")
    rank = lay.rank
    axes = _opt(ins, 3) or list(range(rank))
    per = [[0, 0] for _ in lay.sizes]
    pieces = list(lay.axes)
    for i, a in enumerate(axes):
        a = X.axis_index(a, rank)
        b, e = pads[i], pads[i + len(axes)]
        if not b and not e:
            continue
        own = [p for p in lay.axes[a] if p.dim != X.BATCH]
        if len(own) != 1 or not own[0].spatial or own[0].extent != lay.sizes[own[0].dim] or min(b, e) < 0:
            raise refuse(
                name,
                op,
                f"pads {X.words(lay, a)} by ({b}, {e}) in a tensor of axes {X.roles(lay)}; "
                "rfcalc pads whole spatial axes",
                CALL,
            )
        k = own[0].dim
        per[k] = [b, e]
        pieces[a] = (X.Piece(k, lay.sizes[k] + b + e, 1),)
    mode = attrs.get("mode", "constant")
    if mode not in ("constant", "reflect", "edge"):
        raise refuse(name, op, f"pads in mode {mode!r}", CALL)
    layer = ZeroPad(tuple((b, e) for b, e in per), mode)
    applied = apply_layer(layer, Field(t.shape, t.axes, t.narrow))
    out = applied.field
    new = X.Layout(tuple(pieces), out.shape[:-1])
    flags = applied.flags + ((mode,) if mode != "constant" else ())
    return layer, replace(applied, field=F.Tensor(out.shape, out.axes, out.narrow, new), flags=flags)


def read_op(op: str, name: str, attrs: dict, ins: list, opset: int = 17, n_out: int = 1):
    """``(layer, Applied)`` for one allow-listed ONNX node; ``ins`` holds ``Field`` and ``Folded`` inputs.

    Activations are ``axes_fields.Tensor`` values (a field and its axis roles), and so are the
    outputs. An image-shaped input without a field (a squeeze-excitation branch after a global
    pool) is sized as usual, and its output has no field either. Raises ``UnsupportedLayerError``
    naming the node for an op, setting or axis mapping rfcalc does not read. A Split returns its
    other outputs as a third item.
    """
    if op not in SUPPORTED:
        raise refuse(name, op, "is not in rfcalc's list of ONNX ops", CALL)
    ins = [F.tensor(f) if isinstance(f, Field) else f for f in ins]
    data = [f for f in ins if isinstance(f, Field)]
    if op in LAYOUT or op in REDUCE:
        layer, applied, *more = read_layout(op, name, attrs, ins, opset, n_out)
        applied = replace(applied, field=_features(applied.field))
        return (layer, applied, tuple(_features(f) for f in more[0])) if more else (layer, applied)
    if op == "Where":
        return _where(name, op, ins, data)
    if op in MERGES and len(data) > 1:
        return Identity(op), _merge(op, name, data)
    (t,) = data
    assert isinstance(t, F.Tensor)  # every Field in ins became a Tensor above
    if op in PASS_THROUGH or op in MERGES or op == "BatchNormalization":
        return (BatchNorm() if op == "BatchNormalization" else Identity(op)), Applied(t)
    if op == "Pad" and not t.layout.canonical and t.axes is not None:
        return _pad_roles(name, op, t, ins, attrs)
    try:
        img, bound = V.to_image(t, op)
    except X.Unfollowed as err:
        raise refuse(name, op, f"cannot be followed: {err}", CALL) from None
    if img.axes is None and img.spatial:
        stand_in = [input_field(img.shape) if f is t else f for f in ins]
        layer, applied = _read(op, name, attrs, stand_in)
        return layer, replace(applied, field=_image(_collapsed(applied.field.shape)))
    layer, applied = _read(op, name, attrs, [img if f is t else f for f in ins])
    flags = applied.flags + ("bound",) if bound else applied.flags
    return layer, Applied(
        _image(applied.field), applied.trainable, applied.non_trainable, applied.macs, applied.padding, flags
    )


def _where(name, op, ins, data):
    """Where: exact for a constant mask along one canonical axis (``onnx_select``); otherwise every output
    reads what its inputs read there (the union of the activations' fields), flagged as an upper bound."""
    got = where(name, op, ins)
    if got is not None:
        return got
    if len(data) > 1:
        applied = _merge(op, name, data)
    else:
        check_where(name, op, ins, data[0].layout.shape)
        applied = Applied(data[0])
    return Identity(op), replace(applied, flags=tuple(dict.fromkeys(applied.flags + ("bound",))))


def _features(t: F.Tensor) -> F.Tensor:
    """A (N, features) or smaller tensor has no field (as after Keras' Flatten): its units are not positions."""
    if t.axes is None or t.layout.rank > 2:
        return t
    return F.Tensor(F.collapsed_shape(t.layout.shape), None, None, t.layout)


def _image(field: Field) -> F.Tensor:
    """A window op's output: an (N, C, spatial...) tensor."""
    s = field.shape
    if field.axes is None:
        return F.Tensor(s, None, None, X.flat((1, s[-1], *s[:-1]) if field.spatial else (1, *s)))
    return F.Tensor(s, field.axes, field.narrow, X.image(s[:-1], s[-1]))


def _merge(op, name, data):
    """An elementwise op on several activations: numpy broadcasting of axes that hold the same roles."""
    lays = [F.layout_of(f) for f in data]
    if all(X.plain(lay) == X.plain(lays[0]) for lay in lays):
        applied = elementwise_merge(op, data)
        fielded = [f for f in data if f.axes is not None]
        if len({f.jump for f in fielded}) > 1:  # a residual around attention: the union unit by unit
            field, _ = V.union([Field(applied.field.shape, f.axes, f.narrow) for f in fielded], applied.field.shape)
            applied = replace(applied, field=field)
        layout = F.with_extras(lays[0], lays)
        field = F.Tensor(applied.field.shape, applied.field.axes, applied.field.narrow, layout)
        return Applied(field, applied.trainable, applied.non_trainable, applied.macs, applied.padding, applied.flags)
    rank = max(lay.rank for lay in lays)
    padded = [((),) * (rank - lay.rank) + lay.axes for lay in lays]
    out = []
    roled = [a for a, f in zip(padded, data) if f.axes is not None] or padded  # field-less: shapes only
    for i in range(rank):
        full = {X.plain(X.Layout((a[i],), ())).axes[0] for a in roled if X.extent(a[i]) != 1}
        if any(X.extent(a[i]) not in (1, X.extent(next(iter(full)))) for a in padded) if full else False:
            raise refuse(name, op, "cannot broadcast shapes " + ", ".join(str(lay.shape) for lay in lays), CALL)
        if len(full) > 1:
            raise refuse(
                name, op, "joins tensors whose axis roles differ: " + ", ".join(X.roles(lay) for lay in lays), CALL
            )
        out.append(full.pop() if full else roled[0][i])
    sizes = max((lay.sizes for lay in lays if lay.sizes), key=len, default=())
    layout = F.with_extras(X.Layout(tuple(out), sizes), lays)
    fielded = [f for f in data if f.axes is not None]
    if fielded and any(len(f.shape) != len(sizes) + 1 for f in fielded):
        raise refuse(
            name, op, "joins tensors on different spatial axes: " + ", ".join(X.roles(lay) for lay in lays), CALL
        )
    shape = F.shape_of(layout, fielded[0]) if fielded else F.collapsed_shape(layout.shape)
    field, same = V.union([Field(shape, b.axes, b.narrow) for b in (V.broadcast_to(f, sizes) for f in fielded)], shape)
    flags = ("broadcast",)  # the union is exact, unit by unit, whatever the jumps
    return Applied(F.Tensor(shape, field.axes, field.narrow, layout), flags=flags)


def _read(op: str, name: str, attrs: dict, ins: list):
    """A window, resize, pad or global pool on an (N, C, spatial...) input."""
    (field,) = [f for f in ins if isinstance(f, Field)]
    if op in WINDOWS:
        return window(op, name, attrs, field, ins[1] if op in ("Conv", "ConvTranspose") else None)
    if op in ("Resize", "Upsample"):
        return _resize(name, op, field, ins, attrs)
    if op in GLOBAL:
        field = _spatial(name, op, field)
        rank = len(field.shape) - 1
        return GlobalPool(GLOBAL[op], rank), Applied(_collapsed((1,) * rank + (field.shape[-1],)))
    return _pad(name, op, _spatial(name, op, field), ins, attrs)
