"""Exact values of small constant tensors: the integer side graphs exporters compute from shapes.

A tensor here is its dims and its flat row-major values: Python ``int`` for integer and bool
tensors, ``Fraction`` (or the exact ``float`` an initializer holds) for float ones, so a Resize
scale computed as ``Cast(Shape) * 2.0`` or a TF-"same" pad computed as ``Max((ceil(n / s) - 1)
· s + k − n, 0)`` is exact. Work is bounded: a tensor of more than ``LIMIT`` values is kept by
its dims only, one of more than ``MAX_ELEMENTS`` is refused before it is built, integers must
fit int64. ``onnx_fold`` calls these; nothing here imports numpy or onnx.

>>> broadcast((2, 1), (3,))
(2, 3)
>>> elementwise(lambda a, b: a * b, [((2, 1), (1, 2)), ((3,), (1, 10, 100))])
((2, 3), (1, 10, 100, 2, 20, 200))
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil, floor, prod

from ..errors import ShapeError

LIMIT = 1 << 16  # values computed per tensor; bigger ones keep their dims only
MAX_ELEMENTS = 1 << 32  # a constant of more elements is refused: no vision model computes one
INT64 = 1 << 63
MAX_BITS = 256  # a Fraction whose terms grow past this many bits is dropped, not followed
FLOATS = frozenset({1, 10, 11, 16})
INTS = frozenset({2, 3, 4, 5, 6, 7, 12, 13})
BOOL = 9


def exact(v):
    """An int or Fraction for a stored value (a float from a float initializer converts exactly)."""
    if isinstance(v, float):
        return Fraction(v)  # ValueError/OverflowError for nan/inf: the caller drops the value
    return v


def count(dims, where: str = "") -> int:
    """The element count of ``dims``, refused past ``MAX_ELEMENTS`` or for a negative dim."""
    if any(not isinstance(d, int) or d < 0 for d in dims):
        raise ShapeError(f"a tensor with dims {tuple(dims)}{where}: dims must be non-negative integers")
    n = prod(dims)
    if n > MAX_ELEMENTS:
        raise ShapeError(
            f"computes a constant of {n:,} elements (dims {tuple(dims)}){where}; rfcalc refuses "
            f"constants past {MAX_ELEMENTS:,} elements: the shape is malformed"
        )
    return n


def checked(values, dtype: int):
    """``values`` as the tensor type ``dtype`` holds them: int64 range, bounded Fractions; None if not kept."""
    out = []
    for v in values:
        if dtype in FLOATS:
            v = exact(v)
            if isinstance(v, Fraction) and max(v.numerator.bit_length(), v.denominator.bit_length()) > MAX_BITS:
                return None
        elif isinstance(v, int) and not -INT64 <= v < INT64:
            raise ShapeError(f"an integer side computation overflows int64 (value {v})")
        out.append(v)
    return tuple(out)


def cast(v, dtype: int):
    """ONNX Cast of one value: to an integer type truncates toward zero, to bool tests for nonzero."""
    if dtype == BOOL:
        return int(v != 0)
    if dtype in INTS:
        return int(v)  # int() of a Fraction truncates toward zero, as C's cast does
    return exact(v)


def broadcast(*shapes) -> tuple:
    """Numpy's broadcast of several dims tuples; ``ShapeError`` when they do not broadcast."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(rank):
        ds = {s[i - rank + len(s)] for s in shapes if i - rank + len(s) >= 0}
        ds.discard(1)
        if len(ds) > 1:
            raise ShapeError(f"shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast")
        out.append(ds.pop() if ds else 1)
    return tuple(out)


def _strides(dims) -> list:
    out, step = [], 1
    for d in reversed(dims):
        out.append(step)
        step *= d
    return out[::-1]


def _indices(dims):
    """Every multi-index of ``dims`` in row-major order."""
    if not dims:
        yield ()
        return
    for i in range(dims[0]):
        for rest in _indices(dims[1:]):
            yield (i, *rest)


def expand_to(t, dims) -> tuple:
    """The values of tensor ``t = (dims, values)`` broadcast to ``dims`` (which ``broadcast`` gave)."""
    tdims, values = t
    if tuple(tdims) == tuple(dims):
        return tuple(values)
    off = len(dims) - len(tdims)
    strides = _strides(tdims)
    pick = [(i + off, strides[i]) for i, d in enumerate(tdims) if d != 1]
    return tuple(values[sum(idx[a] * s for a, s in pick)] for idx in _indices(dims))


def elementwise(fn, tensors) -> tuple:
    """``fn`` applied elementwise with numpy broadcasting to tensors ``(dims, values)``."""
    dims = broadcast(*(t[0] for t in tensors))
    if count(dims) > LIMIT:
        return dims, None
    columns = [expand_to(t, dims) for t in tensors]
    return dims, tuple(fn(*vs) for vs in zip(*columns))


def divide(a, b, integer: bool):
    """ONNX Div of two values: integers truncate toward zero (as onnxruntime), floats are exact.

    >>> divide(-7, 2, True), divide(7, 2, False)
    (-3, Fraction(7, 2))
    """
    if b == 0:
        raise ShapeError("an integer side computation divides by zero") if integer else ZeroDivisionError
    if integer:
        q = abs(a) // abs(b)
        return q if (a >= 0) == (b >= 0) else -q  # C's truncation, as onnxruntime divides integers
    return Fraction(a) / b


def modulo(a, b, fmod: bool, integer: bool):
    """ONNX Mod: the sign of the divisor (``fmod=0``) or of the dividend (``fmod=1``).

    >>> modulo(-7, 3, False, True), modulo(-7, 3, True, True)
    (2, -1)
    """
    if b == 0:
        raise ShapeError("an integer side computation takes a modulo by zero")
    if fmod:  # C's fmod: the sign of the dividend
        r = abs(a) % abs(b)
        return r if a >= 0 else -r
    return a % b  # Python's: the sign of the divisor, as ONNX Mod with fmod=0


ROUND = {
    "Floor": floor,
    "Ceil": ceil,
    "Neg": lambda v: -v,
    "Abs": abs,
    "Not": lambda v: int(not v),
    "Sign": lambda v: (v > 0) - (v < 0),
}
COMPARE = {
    "Equal": lambda a, b: int(a == b),
    "Less": lambda a, b: int(a < b),
    "Greater": lambda a, b: int(a > b),
    "LessOrEqual": lambda a, b: int(a <= b),
    "GreaterOrEqual": lambda a, b: int(a >= b),
    "And": lambda a, b: int(bool(a) and bool(b)),
    "Or": lambda a, b: int(bool(a) or bool(b)),
    "Xor": lambda a, b: int(bool(a) != bool(b)),
}


def axis_of(axis: int, rank: int, what: str = "axis") -> int:
    """``axis`` (negative counts from the end) checked against ``rank``.

    >>> axis_of(-1, 4)
    3
    """
    if not -rank <= axis < max(rank, 1):
        raise ShapeError(f"{what} {axis} is outside a tensor of rank {rank}")
    return axis % max(rank, 1)


def gather(t, index, axis: int) -> tuple:
    """ONNX Gather along ``axis`` with the index tensor ``index = (dims, values)``.

    >>> gather(((4,), (1, 64, 7, 9)), ((2,), (2, -1)), 0)
    ((2,), (7, 9))
    """
    dims, values = t
    axis = axis_of(axis, len(dims))
    n = dims[axis]
    for i in index[1]:
        if not -n <= i < n:
            raise ShapeError(f"Gather index {i} is outside an axis of {n} (dims {tuple(dims)})")
    out_dims = dims[:axis] + tuple(index[0]) + dims[axis + 1 :]
    if count(out_dims) > LIMIT or values is None:
        return out_dims, None
    outer, inner = prod(dims[:axis]), prod(dims[axis + 1 :])
    out = []
    for o in range(outer):
        for i in index[1]:
            base = (o * n + i % n) * inner
            out.extend(values[base : base + inner])
    return out_dims, tuple(out)


def slice_range(n: int, start: int, end: int, step: int) -> range:
    """The indices ONNX Slice takes from an axis of ``n`` (starts/ends clamped as the spec says).

    >>> list(slice_range(4, -2, 2 ** 63 - 1, 1)), list(slice_range(5, 3, 0, -2))
    ([2, 3], [3, 1])
    """
    if step == 0:
        raise ShapeError("Slice with step 0")
    if start < 0:
        start += n
    if end < 0:
        end += n
    if step > 0:
        start, end = max(0, min(n, start)), max(0, min(n, end))
    else:
        start, end = max(-1, min(n - 1, start)), max(-1, min(n - 1, end))
    return range(start, end, step)


def take(t, picks) -> tuple:
    """The sub-tensor of ``t`` taking the indices ``picks[a]`` (a sequence) on every axis ``a``."""
    dims, values = t
    out_dims = tuple(len(p) for p in picks)
    if count(out_dims) > LIMIT or values is None:
        return out_dims, None
    strides = _strides(dims)
    return out_dims, tuple(
        values[sum(picks[a][i] * strides[a] for a, i in enumerate(idx))] for idx in _indices(out_dims)
    )


def concat(tensors, axis: int) -> tuple:
    rank = len(tensors[0][0])
    axis = axis_of(axis, rank)
    for d, _ in tensors:
        if len(d) != rank or d[:axis] + d[axis + 1 :] != tensors[0][0][:axis] + tensors[0][0][axis + 1 :]:
            raise ShapeError(f"Concat on axis {axis} of tensors with dims {[tuple(d) for d, _ in tensors]}")
    first = tensors[0][0]
    dims = (*first[:axis], sum(d[axis] for d, _ in tensors), *first[axis + 1 :])
    if count(dims) > LIMIT or any(v is None for _, v in tensors):
        return dims, None
    outer = prod(dims[:axis])
    out = []
    for o in range(outer):
        for d, v in tensors:
            block = prod(d[axis:])
            out.extend(v[o * block : (o + 1) * block])
    return dims, tuple(out)


def transpose(t, perm) -> tuple:
    dims, values = t
    perm = list(range(len(dims)))[::-1] if perm is None else list(perm)
    if sorted(perm) != list(range(len(dims))):
        raise ShapeError(f"Transpose with perm={perm} of a tensor of rank {len(dims)}: not a permutation")
    out_dims = tuple(dims[p] for p in perm)
    if values is None or count(out_dims) > LIMIT:
        return out_dims, None
    strides = _strides(dims)
    return out_dims, tuple(values[sum(idx[i] * strides[p] for i, p in enumerate(perm))] for idx in _indices(out_dims))


def reshape_dims(dims, target, allowzero: bool = False) -> tuple:
    """ONNX Reshape's output dims: 0 copies the input dim (unless ``allowzero``), one -1 is inferred.

    >>> reshape_dims((1, 64, 7, 7), (0, -1))
    (1, 3136)
    """
    out = [dims[i] if v == 0 and not allowzero and i < len(dims) else v for i, v in enumerate(target)]
    if out.count(-1) > 1 or any(v < -1 for v in out):
        raise ShapeError(f"Reshape of dims {tuple(dims)} to {tuple(target)}: at most one -1 and no other negative")
    total = count(dims)
    if -1 in out:
        known = prod(v for v in out if v != -1)
        if known == 0 or total % known:
            raise ShapeError(
                f"Reshape of dims {tuple(dims)} ({total} elements) to {tuple(target)}: "
                "the element count does not divide"
            )
        out[out.index(-1)] = total // known
    if prod(out) != total:
        raise ShapeError(
            f"Reshape of dims {tuple(dims)} ({total} elements) to {tuple(target)} "
            f"({prod(out)} elements) does not keep the element count"
        )
    return tuple(out)


def reduce_dims(dims, axes, keepdims: bool) -> tuple:
    axes = set(range(len(dims))) if axes is None else {axis_of(a, len(dims)) for a in axes}
    return tuple(1 if i in axes else d for i, d in enumerate(dims) if keepdims or i not in axes), axes


def reduce(t, axes, keepdims: bool, fn) -> tuple:
    dims, values = t
    out_dims, axes = reduce_dims(dims, axes, keepdims)
    if values is None:
        return out_dims, None
    groups: dict = {}
    for idx, v in zip(_indices(dims), values):
        groups.setdefault(tuple(0 if i in axes else x for i, x in enumerate(idx)), []).append(v)
    return out_dims, tuple(fn(g) for g in groups.values())


def arange(start, limit, delta) -> tuple:
    """ONNX Range: ``max(⌈(limit − start)/delta⌉, 0)`` values, refused past ``MAX_ELEMENTS``.

    >>> arange(10, 1, -4)
    ((3,), (10, 6, 2))
    """
    if delta == 0:
        raise ShapeError("Range with delta 0")
    n = max(ceil(Fraction(exact(limit) - exact(start)) / exact(delta)), 0)
    count((n,))
    if n > LIMIT:
        return (n,), None
    return (n,), tuple(start + i * delta for i in range(n))
