"""ONNX Resize and Upsample in: the settings of one node as the core's ``Resize`` layer.

Every mode (nearest with each ``nearest_mode``, linear, cubic with ``cubic_coeff_a``) and every
coordinate transform but ``tf_crop_and_resize``, scales or sizes (from initializers, Constant
nodes or side graphs ``onnx_fold`` evaluates), ``axes`` and ``keep_aspect_ratio_policy`` (opset
18), 1-D to 3-D. ``Upsample`` and the opset-10 ``Resize`` (two inputs) sample as onnxruntime
does: asymmetric coordinates, nearest by the 'simple' rule. The output size from float scales
is ``⌊n·s⌋``; where onnxruntime's float32 product rounds to another whole number the node is
refused, not guessed. Sampling is exact (Fractions); where a sample lies on, or within
float32 rounding of, a rounding tie or a whole position (sizes 9 -> 3, scale 1/3) and onnxruntime's float32
arithmetic picks the neighbouring pixel, the row is flagged ``ties`` (the field stays the exact one). ``onnx_ops.read_op`` calls ``resize``.

>>> from rfcalc.propagate import input_field
>>> from rfcalc.frameworks.onnx_fold import Folded
>>> layer, out = resize("up", "Resize", input_field((5, 5, 3)), [None, Folded(None), Folded((4,), (1.0, 1.0, 1.5, 1.5))],
...                     {"mode": "linear", "coordinate_transformation_mode": "align_corners"})
>>> out.field.shape, out.field.rf, out.field.rf_min
((7, 7, 3), (2, 2), (1, 1))
"""

from __future__ import annotations

import struct
from dataclasses import replace
from fractions import Fraction
from math import floor

from ..errors import ShapeError
from ..layers import NEAREST_MODES, TRANSFORMS, Identity, Resize
from ..propagate import Applied, apply_layer
from ..resample import source, taps
from .graph import refuse
from .onnx_fold import Folded
from .onnx_windows import CALL, nchw, spatial

MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear", "cubic": "cubic"}


def _value(ins, i):
    f = ins[i] if len(ins) > i else None
    return f.value if isinstance(f, Folded) and f.dims is not None else None


def _given(ins, i) -> bool:
    f = ins[i] if len(ins) > i else None
    return isinstance(f, Folded) and f.dims is not None and f.size > 0


def _f32(x: Fraction) -> Fraction:
    """``x`` rounded to the nearest float32, as onnxruntime computes ``n·s``."""
    return Fraction(struct.unpack("<f", struct.pack("<f", float(x)))[0])


def _settings(name, op, attrs, ins):
    """(mode, transform, nearest_mode, scales or None, sizes or None) of one node."""
    legacy = op == "Upsample" or len(ins) == 2  # Upsample and Resize-10: (X, scales)
    mode = attrs.get("mode", "nearest")
    if mode not in MODES:
        raise refuse(name, op, f"interpolates with mode={mode!r}; rfcalc reads nearest, linear and cubic", CALL)
    if legacy:
        if op == "Upsample" and "scales" in attrs:
            return MODES[mode], "asymmetric", "simple", list(attrs["scales"]), None
        if not _given(ins, 1):
            raise refuse(name, op, "has no scales", CALL)
        return MODES[mode], "asymmetric", "simple", _known(name, op, ins, 1), None
    transform = attrs.get("coordinate_transformation_mode", "half_pixel")
    nearest = attrs.get("nearest_mode", "round_prefer_floor")
    if transform not in TRANSFORMS:
        raise refuse(
            name, op, f"has coordinate_transformation_mode={transform!r}; rfcalc reads {', '.join(TRANSFORMS)}", CALL
        )
    if nearest not in NEAREST_MODES[:-1]:
        raise refuse(name, op, f"has nearest_mode={nearest!r}", CALL)
    if _given(ins, 3):
        return MODES[mode], transform, nearest, None, _known(name, op, ins, 3)
    if _given(ins, 2):
        return MODES[mode], transform, nearest, _known(name, op, ins, 2), None
    raise refuse(name, op, "gives neither scales nor sizes", CALL)


def _known(name, op, ins, i):
    value = _value(ins, i)
    if value is None:
        f = ins[i]
        if f.sources:  # a float initializer (or one computed from it) whose data the file does not hold
            held = ", ".join(repr(s[0]) for s in sorted(f.sources))
            raise ShapeError(
                f"its scales come from the initializer {held}, whose data the file does not hold (its "
                "data stripped or in a missing external file); rfcalc needs their values"
            )
        raise ShapeError("its scales or sizes are computed at run time from values rfcalc cannot fold")
    return list(value)


def _full(values, axes, rank, fill):
    """Per-axis values of all ``rank`` axes from those given for ``axes`` (opset 18's ``axes``)."""
    if axes is None:
        return list(values)
    out = list(fill)
    for a, v in zip(axes, values):
        out[a % rank] = v
    return out


def resize(name, op, field, ins, attrs):
    """``(layer, Applied)`` of a Resize or Upsample node; refused by name for what rfcalc does not read."""
    field = spatial(name, op, field)
    shape = nchw(field)
    rank = len(shape)
    mode, transform, nearest, scales, sizes = _settings(name, op, attrs, ins)
    if attrs.get("antialias", 0) and mode != "nearest":
        antialias = True
    else:
        antialias = False
    axes = attrs.get("axes")
    given = scales if scales is not None else sizes
    if len(given) != (rank if axes is None else len(axes)):
        raise ShapeError(f"it gives {len(given)} scales or sizes for a rank-{rank} input {shape}")
    if sizes is not None:
        sizes = [int(v) for v in _full(sizes, axes, rank, shape)]
        if any(v < 1 for v in sizes):
            raise ShapeError(f"it resizes {shape} to sizes {sizes}")
        policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        factors = [Fraction(m, n) for m, n in zip(sizes, shape)]
        if policy != "stretch":
            picked = [factors[a % rank] for a in (axes or range(rank))]
            one = min(picked) if policy == "not_larger" else max(picked)
            factors = [one if (axes is None or i in [a % rank for a in axes]) else Fraction(1) for i in range(rank)]
            sizes = [floor(f * n + Fraction(1, 2)) if f != 1 else n for f, n in zip(factors, shape)]
    else:
        try:
            factors = [Fraction(v) for v in _full(scales, axes, rank, [1] * rank)]
        except (ValueError, OverflowError, TypeError):
            raise ShapeError(f"its scales {scales} are not finite numbers") from None
        if any(f <= 0 for f in factors):
            raise ShapeError(f"it scales by {[str(f) for f in factors]}; scales must be positive")
        sizes = [floor(f * n) for f, n in zip(factors, shape)]
        runtime = [floor(_f32(f * n)) for f, n in zip(factors, shape)]
        if runtime != sizes:
            raise refuse(
                name,
                op,
                f"scales {shape} by {scales}: the output size is {sizes} exactly but {runtime} in "
                "onnxruntime's float32 arithmetic; give sizes instead of scales",
                CALL,
            )
        if any(v < 1 for v in sizes):
            raise ShapeError(f"it scales {shape} by {scales} to the empty size {sizes}")
    if sizes[:2] != list(shape[:2]):
        raise refuse(
            name, op, f"resizes the batch or channel axis ({shape} to {sizes}); rfcalc resizes spatial axes", CALL
        )
    if antialias and any(f < 1 for f in factors[2:]):
        raise refuse(
            name,
            op,
            "downsamples with antialias=1 (a filter widened by 1/scale); rfcalc reads antialias only when upsampling",
            CALL,
        )
    if all(f == 1 for f in factors):  # onnxruntime copies the input (even tf_half_pixel_for_nn's shift is skipped)
        return Identity(op), Applied(field)
    layer = Resize(
        tuple(sizes[2:]), mode, transform, tuple(factors[2:]), nearest, Fraction(attrs.get("cubic_coeff_a", -0.75))
    )
    applied = apply_layer(layer, field)
    given_scales = [None] * len(sizes[2:]) if scales is None else _full(scales, axes, rank, [1] * rank)[2:]
    if _ties(layer, shape[2:], given_scales):
        applied = replace(applied, flags=applied.flags + ("ties",))
    return layer, applied


def _runtime_x(v: int, n: int, m: int, s: float, transform: str, single: bool = True) -> float:
    """``x(v)`` as onnxruntime may compute it from its float32 scale ``s``: in float32 operations, or
    (``single=False``) in doubles (only to find where it may differ from the exact value)."""

    def f(y: float) -> float:
        return struct.unpack("<f", struct.pack("<f", y))[0] if single else y

    if transform == "align_corners":
        return 0.0 if m == 1 else f(f(v * (n - 1)) / (m - 1))
    if transform == "asymmetric":
        return f(v / s)
    if transform == "tf_half_pixel_for_nn":
        return f((v + 0.5) / s)
    if transform == "pytorch_half_pixel" and m == 1:
        return 0.0
    x = f(f((v + 0.5) / s) - 0.5)
    if transform == "half_pixel_symmetric":
        x = f(x + f(f(n / 2) * f(1 - f(m / f(s * n)))))
    return x


def _ties(layer: Resize, inputs, scales, limit: int = 1 << 16) -> bool:
    """Some sample reads other pixels in onnxruntime's float32 arithmetic than exactly: it lies on (or
    within float32 rounding of) a rounding tie, or a whole position where one weight vanishes."""
    assert layer.scale is not None  # read_resize always gives the scales
    for m, n, exact, given in zip(layer.size, inputs, layer.scale, scales):
        assert isinstance(m, int)  # an ONNX Resize's sizes are numbers, never symbols
        s32 = float(_f32(exact if given is None else Fraction(given)))
        if Fraction(s32) == exact and max(exact.numerator, exact.denominator, n, m) < 1 << 9:
            continue  # x has a denominator below 2^10 and |x| < 2^9: float32 lands on the same side of every tie
        for v in range(min(m, limit)):
            x = source(v, n, m, exact, layer.transform)
            if Fraction(s32) != exact and (2 * x).denominator == 1:
                return True  # exactly on a rounding tie or a whole position: any float error may flip it
            if abs(2 * x - round(2 * x)) * (1 << 21) <= (abs(x) if abs(x) > 1 else 1):
                return True  # within a few float32 ulps of one: the runtime's order of operations decides
            ours = taps(x, layer.mode, layer.nearest_mode, layer.cubic_a, exact < 1)
            for single in (True, False):  # float32 throughout, or doubles from the float32 scale
                theirs = taps(
                    Fraction(_runtime_x(v, n, m, s32, layer.transform, single)),
                    layer.mode,
                    layer.nearest_mode,
                    layer.cubic_a,
                    exact < 1,
                )
                if {min(max(t, 0), n - 1) for t in ours} != {min(max(t, 0), n - 1) for t in theirs}:
                    return True
    return False
