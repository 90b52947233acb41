"""Keras ``Permute`` and ``Reshape`` by axis roles: the spatial axes first, in order, then the channels,
possibly split into pieces (``(rows, cols, groups, channels per group)`` after a Reshape).

A ``Field`` whose ``axes`` (one phase table per spatial axis) are fewer than its shape's axes minus
one carries its channels in pieces: its first ``len(axes)`` axes are spatial, the rest channel
pieces. A Permute that keeps the spatial axes in place and only reorders channel pieces, or a
Reshape that keeps the spatial sizes and regroups the channels, moves every value within its own
pixel (row-major order), so the field is kept exactly: a channel shuffle reads. Anything that moves,
splits or merges a spatial axis is refused naming the layer and the axes: rfcalc cannot prove what
a unit then sees. A Reshape of everything into one axis is a Flatten (no field, as ``Flatten``).

>>> from rfcalc.propagate import input_field
>>> grouped = reshape("split", (8, 8, 4, 6), input_field((8, 8, 24))).field
>>> grouped.shape, grouped.rf, describe(grouped)
((8, 8, 4, 6), (1, 1), '(rows 8, cols 8, channels 4 x 6)')
>>> shuffled = permute("shuffle", (1, 2, 4, 3), grouped).field
>>> reshape("merge", (8, 8, -1), shuffled).field.shape
(8, 8, 24)
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from ..errors import ShapeError
from ..layers import Flatten, Identity
from ..propagate import Applied, Field, apply_layer, merge_fields
from .graph import refuse

NAMES = {1: ("length",), 2: ("rows", "cols"), 3: ("depth", "rows", "cols")}


def n_spatial(field: Field) -> int:
    """How many leading axes are spatial (0 for a tensor without a field)."""
    return 0 if field.axes is None else len(field.axes)


def in_pieces(field: Field) -> bool:
    """The channels are split into more than one axis (a field is still followed)."""
    return field.axes is not None and len(field.shape) - 1 > len(field.axes)


def describe(field: Field) -> str:
    """The axes by role: ``(rows 8, cols 8, channels 4 x 6)``."""
    r = n_spatial(field)
    names = NAMES.get(r, tuple(f"axis {i + 1}" for i in range(r)))
    spatial = [f"{n} {s}" for n, s in zip(names, field.shape[:r])]
    pieces = " x ".join(str(s) for s in field.shape[r:])
    return "(" + ", ".join(spatial + [f"channels {pieces}"]) + ")"


def flat(field: Field) -> Field:
    """The same tensor with its channel pieces merged into one axis (what channel-wise rules read)."""
    r = n_spatial(field)
    return replace(field, shape=field.shape[:r] + (prod(field.shape[r:]),)) if r else field


def regroup(field: Field, shape) -> Field:
    """``field`` (channels in one axis) with its channels split as in ``shape`` again."""
    return replace(field, shape=tuple(shape)) if field.axes is not None else Field(tuple(shape))


def _refuse(name: str, cls: str, why: str):
    return refuse(name, cls, why)


def permute(name: str, dims, field: Field) -> Applied:
    """Keras ``Permute(dims)`` (1-based over the axes after the batch) on ``field``."""
    dims = tuple(int(d) for d in dims)
    if sorted(dims) != list(range(1, len(field.shape) + 1)):
        raise ShapeError(
            f"Permute '{name}': dims must reorder the axes 1..{len(field.shape)}. "
            f"Received: dims={dims} on shape {field.shape}"
        )
    shape = tuple(field.shape[d - 1] for d in dims)
    r = n_spatial(field)
    if r == 0:
        return Applied(Field(shape))
    if dims[:r] != tuple(range(1, r + 1)):
        moved = [
            f"{n} (axis {i + 1} -> {dims.index(i + 1) + 1})"
            for i, n in enumerate(NAMES.get(r, ()))
            if dims.index(i + 1) != i
        ]
        raise _refuse(
            name,
            "Permute",
            f"moves the spatial axes {', '.join(moved) or dims} of {describe(field)}: "
            f"dims={dims}; rfcalc follows a Permute that keeps the spatial axes first, in "
            "order, and reorders channel axes only",
        )
    return Applied(replace(field, shape=shape))


def target_shape(name: str, target, field: Field) -> tuple:
    """Keras' ``target_shape`` with its ``-1`` resolved, checked against the element count."""
    target = [int(t) for t in target]
    size = prod(field.shape)
    if target.count(-1) > 1 or any(t < -1 or t == 0 for t in target):
        raise ShapeError(f"Reshape '{name}': target_shape has sizes >= 1 and at most one -1. Received: {tuple(target)}")
    if -1 in target:
        known = prod(t for t in target if t != -1)
        if size % known:
            raise ShapeError(f"Reshape '{name}' cannot reshape {field.shape} to {tuple(target)}")
        target[target.index(-1)] = size // known
    if prod(target) != size:
        raise ShapeError(f"Reshape '{name}' cannot reshape {field.shape} ({size} values) to {tuple(target)}")
    return tuple(target)


def reshape(name: str, target, field: Field) -> Applied:
    """Keras ``Reshape(target_shape)`` on ``field``: channels regrouped keep the field; a flatten ends it."""
    target = target_shape(name, target, field)
    r = n_spatial(field)
    if target == field.shape or r == 0:
        return Applied(replace(field, shape=target) if target == field.shape else Field(target))
    if len(target) == 1:  # everything into one axis: a Flatten
        return Applied(Field(target))
    if len(target) > r and target[:r] == field.shape[:r]:
        return Applied(replace(field, shape=target))
    raise _refuse(
        name,
        "Reshape",
        f"reshapes {describe(field)} to {target}, which splits, merges or moves spatial "
        "axes; rfcalc follows a Reshape that keeps the spatial sizes first and regroups "
        "the channels only (or flattens everything)",
    )


def on_pieces(op, cls: str, fields: list, map_one, allowed):
    """A Keras layer on tensors whose channels are in pieces: only work within each pixel reads.

    ``map_one(op, cls, fields)`` maps the layer as usual (``keras_layers``); ``allowed`` lists the classes
    that work within each pixel. Concatenate along a channel piece, Dense over the last piece and
    Flatten are sized here.
    """
    field = next(f for f in fields if in_pieces(f))
    if cls not in allowed:
        raise _refuse(
            op.name,
            cls,
            f"reads {describe(field)}, channels split into pieces by a Reshape; there "
            "rfcalc follows only work within each pixel (merges, Dense, normalisation, "
            "Permute/Reshape of the channels): reshape the channels back first",
        )
    if cls == "Concatenate":
        axis = int(op.axis) % (len(field.shape) + 1)
        if axis <= len(field.axes):
            raise _refuse(op.name, cls, f"concatenates {describe(field)} along axis {axis}, not a channel axis")
        rest = {f.shape[: axis - 1] + f.shape[axis:] for f in fields}
        if len(rest) > 1 or any(not in_pieces(f) or len(f.axes) != len(field.axes) for f in fields):
            raise ShapeError(
                f"Concatenate needs equal shapes except on axis {axis}. Received: shapes={[f.shape for f in fields]}"
            )
        shape = list(field.shape)
        shape[axis - 1] = sum(f.shape[axis - 1] for f in fields)
        merged = merge_fields([flat(f) for f in fields], -1)  # per pixel: the fields merge as for channels
        merged = replace(merged, field=regroup(merged.field, shape))
        return Identity(cls), merged
    if cls == "Dense":
        layer, applied = map_one(op, cls, fields)
        return layer, replace(applied, macs=prod(field.shape[:-1]) * field.shape[-1] * int(op.units))
    if cls == "Flatten":
        return Flatten(), apply_layer(Flatten(), flat(field))
    return map_one(op, cls, fields)
