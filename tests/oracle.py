"""A brute-force receptive-field oracle that shares no code with rfcalc.

It never uses a receptive-field recurrence. For each layer it builds the explicit padded index
array of that layer's input, slides the (dilated) window over it, and keeps, for every output
unit, the exact set of *input* pixel indices the unit depends on. Padding positions are kept
as indices ``< 0`` or ``>= n`` (a padding position of an inner layer stands for the virtual
unit that would sit there if the grid went on), so the extent of a set is the receptive field
in the sense of Araujo et al. (Distill 2019) and of google-research/receptive_field, which
count padding inside the field.

Layer descriptions are plain tuples, one per axis:

* ``("win", k, s, d, padding)``: a conv or pooling window; ``padding`` is ``"same"``, ``"valid"``,
  ``"causal"`` (``k_eff - 1`` zeros before, none after) or an explicit ``(before, after)`` pair.
  'same' pads the TensorFlow way: total ``max((ceil(n/s)-1)*s + k_eff - n, 0)``, the odd pixel after.
* ``("up", f, interpolation)``: UpSampling by ``f``; 'nearest' copies unit ``u // f``, 'bilinear'
  mixes the two inputs around ``(u + 1/2)/f - 1/2`` (TensorFlow's half-pixel centres), a tap whose
  weight is zero left out. Positions past the ends continue the grid (no clamping), as padding does.
* ``("tconv", k, s, d, padding, output_padding)``: a transposed conv, built as what it is, the
  adjoint of a forward conv: its output (of Keras' length) is the forward conv's input, and output
  position u depends on input i when the forward conv's unit i reads position u. ``padding`` may
  be an explicit ``(before, after)`` pair (ONNX: the full scatter output cropped).
* ``("pad", before, after)``: ZeroPadding2D on this axis.
* ``("crop", before, after)``: Cropping2D on this axis.
* ``("id",)``: anything that leaves the axis alone (BatchNorm, activations).

>>> [(r.size, r.rf, r.jump, r.start) for r in axis_oracle([("win", 3, 1, 1, "same"), ("win", 2, 2, 1, "valid")], 8)]
[(8, 3, 1, Fraction(0, 1)), (4, 4, 2, Fraction(1, 2))]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from itertools import product


class OracleShapeError(Exception):
    """The stack does not fit its input (a 'valid' window longer than the axis, or a crop too big)."""


@dataclass(frozen=True)
class AxisResult:
    """What the oracle reads off one layer on one axis."""

    size: int  # output length
    rf: int  # extent (max - min + 1) of unit 0's dependency set, padding included
    jump: int  # min index of unit 1's set minus that of unit 0
    start: Fraction  # centre of unit 0's extent, pixel i centred at i
    lowest: int  # min index of unit 0's set (minus this is the effective padding)
    deps0: frozenset  # the full dependency set of unit 0
    pad: tuple | None  # (before, after) the layer applied, None for crop/identity
    unread: frozenset  # positions of this layer's real input that no real output reads
    trailing: frozenset  # the unread positions after the last one read (the rows 'valid' leaves)


def _tf_same_total(n: int, k_eff: int, s: int) -> int:
    out = 1
    while out * s < n:  # out = ceil(n / s), counted rather than computed
        out += 1
    return max((out - 1) * s + k_eff - n, 0)


def _window_axis(prev, n: int, k: int, s: int, d: int, padding):
    """One windowed layer on one axis: returns (size, deps function, (before, after), unread)."""
    k_eff = d * (k - 1) + 1
    if padding == "same":
        total = _tf_same_total(n, k_eff, s)
        before, after = total // 2, total - total // 2
    elif padding == "causal":
        before, after = k_eff - 1, 0
    elif isinstance(padding, tuple):
        before, after = padding
    else:
        before, after = 0, 0
    padded = list(range(-before, n + after))  # the explicit padded index array
    taps = [d * t for t in range(k)]
    size = 0
    while size * s + taps[-1] < len(padded):  # count the window positions that fit
        size += 1
    if size < 1:
        raise OracleShapeError(f"window {k_eff} does not fit {n} ({padding})")
    read = {padded[q * s + t] for q in range(size) for t in taps} & set(range(n))
    unread = frozenset(set(range(n)) - read)

    @cache
    def deps(q: int) -> frozenset:
        out: set = set()
        for t in taps:
            i = q * s + t
            # real units read the explicit array; virtual units (beyond the ends) continue it
            pos = padded[i] if 0 <= q < size else i - before
            out |= prev(pos)
        return frozenset(out)

    return size, deps, (before, after), unread


def _up_axis(prev, n: int, f: int, interpolation: str):
    """UpSampling on one axis: nearest copies, or bilinear taps with a non-zero weight."""

    @cache
    def deps(u: int) -> frozenset:
        if interpolation == "nearest":
            return prev(u // f)
        x = Fraction(2 * u + 1, 2 * f) - Fraction(1, 2)  # the input coordinate of output u's centre
        low = x.numerator // x.denominator
        weights = {low: 1 - (x - low), low + 1: x - low}
        return frozenset().union(*(prev(i) for i, w in weights.items() if w != 0))

    return n * f, deps


def _keras_deconv_length(n, k_eff, s, padding, output_padding):
    """keras.src.utils.conv_utils.deconv_output_length, written out from its documentation."""
    if output_padding is None:
        return n * s + max(k_eff - s, 0) if padding == "valid" else n * s
    pad = k_eff // 2 if padding == "same" else 0
    return (n - 1) * s + k_eff - 2 * pad + output_padding


def _tconv_axis(prev, n: int, k: int, s: int, d: int, padding, output_padding):
    """A transposed conv as the adjoint of a forward conv over its own output."""
    k_eff = d * (k - 1) + 1
    if isinstance(padding, tuple):  # ONNX: scatter every input, crop `before` and keep the length asked for
        before = padding[0]
        size = (n - 1) * s + k_eff - padding[0] - padding[1] + (output_padding or 0)

        def reads(i):
            return [i * s - before + t * d for t in range(k)]
    else:
        size = _keras_deconv_length(n, k_eff, s, padding, output_padding)
        if size < 1:
            raise OracleShapeError("transposed conv output is empty")
        # the forward conv whose gradient TensorFlow runs: input `size` long, the same padding
        fwd_size, fwd_deps, pad, _ = _window_axis(lambda q: frozenset((q,)), size, k, s, d, padding)
        if fwd_size != n and padding == "same":
            raise OracleShapeError("no forward conv has this shape")
        before = pad[0]
        reads = fwd_deps
    if size < 1:
        raise OracleShapeError("transposed conv output is empty")

    @cache
    def deps(u: int) -> frozenset:
        # the forward units whose window can reach u (a superset of candidates), kept if they read it
        candidates = range((u + before - k_eff) // s - 1, (u + before) // s + 2)
        readers = [i for i in candidates if u in reads(i)]
        return frozenset().union(frozenset(), *(prev(i) for i in readers))

    return size, deps, (before, (n - 1) * s + k_eff - before - size)


def _propagate(layers, n: int, real_only: bool = False):
    """Yield ``(size, deps, pad, unread)`` after each layer; ``deps(q)`` is unit q's input set.

    ``real_only`` drops padding: a position outside a layer's real units depends on nothing,
    which is what a gradient through zero padding sees.
    """

    def deps(q: int) -> frozenset:
        return frozenset((q,)) if not real_only or 0 <= q < n0 else frozenset()

    def real(f, size):
        return lambda q: f(q) if 0 <= q < size else frozenset()

    n0 = n
    for layer in layers:
        kind = layer[0]
        pad = None
        unread = frozenset()
        if kind == "win":
            _, k, s, d, padding = layer
            n, deps, pad, unread = _window_axis(deps, n, k, s, d, padding)
        elif kind == "pad":
            b, a = layer[1], layer[2]
            n, pad = n + b + a, (b, a)
            deps = (lambda prev, b: lambda q: prev(q - b))(deps, b)  # noqa: B023 (bound by the outer lambda)
        elif kind == "crop":
            b, a = layer[1], layer[2]
            n = n - b - a
            if n < 1:
                raise OracleShapeError("crop leaves nothing")
            deps = (lambda prev, b: lambda q: prev(q + b))(deps, b)  # noqa: B023 (bound by the outer lambda)
        elif kind == "up":
            n, deps = _up_axis(deps, n, layer[1], layer[2])
        elif kind == "tconv":
            n, deps, pad = _tconv_axis(deps, n, *layer[1:])
        elif kind != "id":
            raise ValueError(f"unknown oracle layer {layer!r}")
        if real_only:
            deps = real(deps, n)
        yield n, deps, pad, unread


def axis_oracle(layers, n: int) -> list[AxisResult]:
    """Propagate dependency sets through per-axis layer descriptions over an ``n``-pixel axis.

    Raises ``OracleShapeError`` at the first layer that does not fit.
    """
    results = []
    size_in = n
    steps = _propagate(layers, n)
    while True:
        try:
            size, deps, pad, unread = next(steps)
        except StopIteration:
            break
        except OracleShapeError as err:
            err.index = len(results)  # the layer that does not fit
            raise
        d0, d1 = deps(0), deps(1)
        lo, hi = min(d0), max(d0)
        last = max(set(range(-1, size_in)) - unread) if unread else None
        trailing = frozenset(u for u in unread if u > last) if unread else frozenset()
        results.append(AxisResult(size, hi - lo + 1, min(d1) - lo, Fraction(lo + hi, 2), lo, d0, pad, unread, trailing))
        size_in = size
    return results


def axis_unit_deps(layers, n: int, q: int, real_only: bool = False) -> frozenset:
    """The input set of output unit ``q`` of the last layer on one axis (``real_only``: no padding)."""
    deps = None
    for _, deps, _, _ in _propagate(layers, n, real_only):  # noqa: B007 (the last one is wanted)
        pass
    return deps(q) if deps is not None else frozenset((q,))


def mask_oracle(layers_2d, shape: tuple[int, int], unit: tuple[int, int] = (0, 0)) -> frozenset:
    """The 2D dependency mask of one output unit, computed on the grid (no axis separation).

    ``layers_2d`` holds pairs of per-axis descriptions, ``(h_desc, w_desc)``. Returns the set of
    input pixels ``(i, j)`` (padding positions included) that output ``unit`` depends on.

    >>> sorted(mask_oracle([(("win", 2, 1, 1, "same"), ("win", 1, 1, 1, "same"))], (4, 4)))
    [(0, 0), (1, 0)]
    """

    def deps(p) -> frozenset:
        return frozenset((p,))

    h, w = shape
    for hd, wd in layers_2d:
        if hd[0] != wd[0]:
            raise ValueError("both axes of a 2D layer must be of the same kind")
        kind = hd[0]
        if kind == "win":
            deps, h, w = _window_2d(deps, (h, w), hd, wd)
        elif kind in ("pad", "crop"):
            sign = 1 if kind == "pad" else -1
            bh, bw = hd[1], wd[1]
            h, w = h + sign * (hd[1] + hd[2]), w + sign * (wd[1] + wd[2])
            deps = (lambda prev, bh, bw, sign: lambda p: prev((p[0] - sign * bh, p[1] - sign * bw)))(deps, bh, bw, sign)  # noqa: B023
    return deps(unit)


def _window_2d(prev, hw, hd, wd):
    """A 2D window over an explicitly padded 2D grid of positions."""
    dims = []
    for n, (_, k, s, d, padding) in zip(hw, (hd, wd)):
        k_eff = d * (k - 1) + 1
        total = _tf_same_total(n, k_eff, s) if padding == "same" else 0
        before = total // 2
        length = n + total
        size = (length - k_eff) // s + 1 if length >= k_eff else 0
        if size < 1:
            raise OracleShapeError("window does not fit")
        dims.append((size, k, s, d, before))
    (h_out, kh, sh, dh, bh), (w_out, kw, sw, dw, bw) = dims
    # the explicit padded grid: cell (a, b) holds the input position it stands for
    grid = [
        [(a - bh, b - bw) for b in range(hw[1] + 2 * bw + kw * dw + sw)] for a in range(hw[0] + 2 * bh + kh * dh + sh)
    ]

    @cache
    def deps(p) -> frozenset:
        qh, qw = p
        out: set = set()
        for th, tw in product(range(kh), range(kw)):
            a, b = qh * sh + dh * th, qw * sw + dw * tw
            inside = 0 <= a < len(grid) and 0 <= b < len(grid[0])
            out |= prev(grid[a][b] if inside else (a - bh, b - bw))  # virtual units continue the grid
        return frozenset(out)

    return deps, h_out, w_out


@dataclass(frozen=True)
class UnitFields:
    """Every real output unit of one layer on one axis: its dependency extent, read off the sets."""

    size: int
    spans: tuple  # (min, max) of unit q's input set, for q in range(size); None: reads nothing
    holes: bool  # some unit's set is not its whole span

    @property
    def rf(self) -> int:
        return max((hi - lo + 1 for lo, hi in filter(None, self.spans)), default=0)

    @property
    def rf_min(self) -> int:
        return min(0 if s is None else s[1] - s[0] + 1 for s in self.spans)


def axis_unit_fields(layers, n: int, max_units: int = 4096) -> list[UnitFields]:
    """For each layer, the extent of the dependency set of every output unit (the first
    ``max_units`` of them), padding positions included."""
    out = []
    for size, deps, _, _ in _propagate(layers, n):
        spans, holes = [], False
        if size > max_units:
            raise OracleShapeError(f"{size} units: more than this oracle lists")
        for q in range(size):
            d = deps(q)
            if not d:
                spans.append(None)
                continue
            lo, hi = min(d), max(d)
            spans.append((lo, hi))
            holes = holes or len(d) != hi - lo + 1
        out.append(UnitFields(size, tuple(spans), holes))
    return out
