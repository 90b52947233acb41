"""ONNX windows: Conv, ConvTranspose and pooling, with ``auto_pad``, explicit ``pads`` and ``ceil_mode``.

Explicit pads that equal TensorFlow's 'same' (or zero) read as 'same' ('valid'); others,
``SAME_LOWER`` and ``ceil_mode``'s extra after-padding stay explicit ``((before, after), ...)``
pairs, which the core reads as PyTorch does. ``onnx_ops.read_op`` calls ``window``.

>>> from rfcalc.propagate import input_field
>>> layer, out = window("MaxPool", "pool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
...                     input_field((112, 112, 64)), None)
>>> out.field.shape, out.field.rf, out.padding
((56, 56, 64), (3, 3), ((1, 1), (1, 1)))
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from .. import arithmetic as A
from ..errors import ShapeError
from ..layers import Conv, ConvTranspose, DepthwiseConv, Pool
from ..propagate import Field, apply_layer
from .graph import refuse

CALL = "from_onnx(path"


def nchw(field: Field) -> tuple:
    """The ONNX shape (batch 1) of a tensor rfcalc holds as ``field``."""
    s = field.shape
    return (1, s[-1], *s[:-1]) if field.spatial else (1, *s)


def spatial(name, op, field: Field) -> Field:
    """``field`` when it is a signal, image or volume; else the op is refused by name."""
    if not isinstance(field, Field) or not field.spatial:
        shape = nchw(field) if isinstance(field, Field) else None
        raise refuse(
            name,
            op,
            f"reads a tensor of shape {shape}; rfcalc reads this op on (N, C, ...) signals, images and volumes",
            CALL,
        )
    return field


def _pads(attrs, field: Field, k_eff, s, name, op):
    """Per axis (before, after) padding of a window from ``auto_pad`` / ``pads``."""
    auto = attrs.get("auto_pad", "NOTSET")
    r = len(k_eff)
    if auto == "VALID":
        return ((0, 0),) * r
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [A.same_padding(field.shape[i], k_eff[i], s[i]) for i in range(r)]
        return tuple(p[::-1] if auto == "SAME_LOWER" else p for p in pads)
    if auto != "NOTSET":
        raise refuse(name, op, f"has auto_pad={auto!r}", CALL)
    p = list(attrs.get("pads", [0] * (2 * r)))
    return tuple((p[i], p[i + r]) for i in range(r))


def _ceil_extra(attrs, field, k_eff, s, pads):
    """PyTorch/ONNX ``ceil_mode``: the after-padding that makes the floor formula give the ceil size."""
    if not attrs.get("ceil_mode", 0):
        return pads
    out = []
    for i, (b, a) in enumerate(pads):
        n = field.shape[i]
        size = -(-(n + b + a - k_eff[i]) // s[i]) + 1
        if (size - 1) * s[i] >= n + b:  # the last window must start inside the input or its left padding
            size -= 1
        out.append((b, max(a, (size - 1) * s[i] + k_eff[i] - n - b)))
    return tuple(out)


def _padding(pads, field: Field, k_eff, s):
    """'valid' or 'same' where the explicit pads are those, else the pads themselves."""
    if all(p == (0, 0) for p in pads):
        return "valid"
    if all(p == A.same_padding(field.shape[i], k_eff[i], s[i]) for i, p in enumerate(pads)):
        return "same"
    return tuple(pads)


def window(op, name, attrs, field, weight):
    """``(layer, Applied)`` of a Conv, ConvTranspose, MaxPool, AveragePool or LpPool node."""
    field = spatial(name, op, field)
    r = len(field.shape) - 1
    if op in ("Conv", "ConvTranspose"):
        k = tuple(weight.dims[2:]) if weight is not None and weight.dims else tuple(attrs["kernel_shape"])
    else:
        k = tuple(attrs["kernel_shape"])
    if len(k) != r:
        raise ShapeError(f"a {len(k)}-d kernel {k} on a {r}-d input {nchw(field)}")
    s = tuple(attrs.get("strides", (1,) * r))
    d = tuple(attrs.get("dilations", (1,) * r))
    k_eff = tuple(A.effective_kernel(k[i], d[i]) for i in range(r))
    if op == "ConvTranspose":
        return _transposed(name, attrs, field, weight, k, s, d, k_eff)
    padding = _padding(_ceil_extra(attrs, field, k_eff, s, _pads(attrs, field, k_eff, s, name, op)), field, k_eff, s)
    if op != "Conv":
        if d != (1,) * r:
            raise refuse(name, op, f"has dilations={list(d)}; rfcalc's pooling windows are not dilated", CALL)
        layer = Pool("max" if op == "MaxPool" else "avg", k, s, padding)
        return layer, apply_layer(layer, field)
    c_in, filters, groups = field.shape[-1], weight.dims[0], int(attrs.get("group", 1))
    common = dict(kernel=k, stride=s, dilation=d, activation="linear", padding=padding)
    if groups == c_in and groups > 1 and filters % c_in == 0:
        layer = DepthwiseConv(depth_multiplier=filters // c_in, **common)
        return layer, apply_layer(layer, field)
    layer = Conv(filters=filters, **common)
    applied = apply_layer(layer, field)
    if groups == 1:
        return layer, applied
    if c_in % groups or filters % groups:
        raise ShapeError(
            f"channels must divide by groups. Received: input channels={c_in}, filters={filters}, group={groups}"
        )
    positions = prod(applied.field.shape[:-1])
    return layer, replace(
        applied,
        macs=A.conv_macs(positions, 1, prod(k), 1, c_in // groups, filters),
        flags=applied.flags + (f"groups={groups}",),
    )


def _transposed(name, attrs, field, weight, k, s, d, k_eff):
    """ConvTranspose: ``pads`` crop the full output; ``output_shape`` or SAME_* fix the size instead."""
    r, op = len(k), "ConvTranspose"
    groups = int(attrs.get("group", 1))
    if groups != 1:
        raise refuse(name, op, f"has group={groups}; rfcalc reads ungrouped transposed convolutions", CALL)
    extra = tuple(attrs.get("output_padding", (0,) * r))
    full = [(field.shape[i] - 1) * s[i] + k_eff[i] + extra[i] for i in range(r)]
    auto, wanted = attrs.get("auto_pad", "NOTSET"), attrs.get("output_shape")
    if wanted is not None or auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = list(wanted)[-r:] if wanted is not None else [field.shape[i] * s[i] for i in range(r)]
        totals = [full[i] - wanted[i] for i in range(r)]
        lower = auto == "SAME_LOWER"
        pads = tuple(((t - t // 2, t // 2) if lower else (t // 2, t - t // 2)) for t in totals)
    elif auto == "VALID":
        pads = ((0, 0),) * r
    else:
        pads = _pads(attrs, field, k_eff, s, name, op)
    layer = ConvTranspose(
        kernel=k,
        stride=s,
        dilation=d,
        filters=weight.dims[1],
        padding=tuple(pads),
        output_padding=extra if any(extra) else None,
        activation="linear",
    )
    return layer, apply_layer(layer, field)
