"""Unproductive layers, the border layer and the input-size range (Richter et al. 2021, exact and per axis).

A layer is *unproductive* on an axis at input size ``n`` when everything it reads already has a
field wider than the input: the narrowest field among its inputs (``rf_min`` of the rows it reads,
the narrowest path through branches, padding counted) exceeds ``n``. It cannot see more of the
image than the layer before it. A row is unproductive when it is so on every spatial axis (on only
some axes it still gathers context along the others: *partly*). The *border layer* is the first
unproductive row. The *input-size range* of an axis is the set of sizes ``n`` at which no layer
is unproductive on that axis (``n >= lo``: the widest field any layer reads) and the last field
still covers the input (``n <= hi``: the last spatial row's ``rf``), the network running at ``n``.
docs/productivity.md defines both bounds with a worked example and compares rfa-toolbox.

>>> from rfcalc import analyze
>>> p = productivity(analyze("c3*16", input_shape=(28, 28, 1)))
>>> p.border, p.ranges[0].lo, p.ranges[0].hi
(14, 31, 33)
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RFError, ShapeError

MAX_SEARCH = 4096  # sizes tried per axis when the fields depend on the size (phases after upsampling)


@dataclass(frozen=True, slots=True)
class AxisRange:
    """The input sizes on one axis at which every layer is productive and the last field covers the input.

    ``lo``/``hi`` are None when no size qualifies. ``method`` says how they were found: ``closed
    form`` (fields do not depend on the size), ``search`` (every size ``1..searched`` re-analysed)
    or ``fields`` (from this analysis' fields; whether the model accepts other sizes is not known).
    ``gaps`` lists sizes inside ``lo..hi`` that do not qualify (search only, at most 8 shown).
    """

    axis: int
    lo: int | None
    hi: int | None
    method: str
    searched: int | None = None
    gaps: tuple[int, ...] = ()
    more_gaps: int = 0
    why: tuple | None = None  # why no size qualifies: ("wider", lo, hi) or ("runs", smallest size it runs at, hi)

    @property
    def reason(self) -> str | None:
        """``why`` in English words."""
        if self.why is None:
            return None
        kind, x, hi = self.why
        if kind == "wider":
            return f"a layer reads a {x}-pixel field, wider than the last field ({hi})"
        return f"the network runs only on inputs of {x} pixels or more, more than its last field ({hi}) covers"

    @property
    def exists(self) -> bool:
        return self.lo is not None

    def contains(self, n: int) -> bool:
        return (
            self.lo is not None
            and self.hi is not None
            and self.lo <= n <= self.hi
            and n not in self.gaps
            and not self.more_gaps
        )

    def to_dict(self) -> dict:
        return {
            "axis": self.axis,
            "lo": self.lo,
            "hi": self.hi,
            "method": self.method,
            "searched": self.searched,
            "gaps": list(self.gaps),
            "more_gaps": self.more_gaps,
            "why": list(self.why) if self.why else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Productivity:
    """Per row and axis: the narrowest field the row reads and whether it exceeds the input; the
    border row; one ``AxisRange`` per axis; ``notes``: plain statements (no range, small input...)."""

    input_size: tuple[int, ...]
    names: tuple[str, ...]
    reads: tuple[tuple[int, ...] | None, ...]
    axes_unproductive: tuple[tuple[bool, ...] | None, ...]
    border: int | None
    ranges: tuple[AxisRange, ...]
    notes: tuple[str, ...] = ()

    def unproductive(self, i: int) -> bool:
        """Row ``i`` reads fields wider than the input on every axis."""
        flags = self.axes_unproductive[i] or ()
        return bool(flags) and all(flags)

    def partly(self, i: int) -> bool:
        """Row ``i`` is unproductive on some axes but not all."""
        flags = self.axes_unproductive[i] or ()
        return bool(flags) and any(flags) and not all(flags)

    @property
    def unproductive_rows(self) -> tuple[int, ...]:
        return tuple(i for i in range(len(self.names)) if self.unproductive(i))

    @property
    def border_name(self) -> str | None:
        return None if self.border is None else self.names[self.border]

    @property
    def productive(self) -> bool:
        """No row is unproductive on any axis."""
        return not any(any(f) for f in self.axes_unproductive if f)

    def to_dict(self) -> dict:
        return {
            "input": list(self.input_size),
            "border": self.border_name,
            "border_index": self.border,
            "unproductive": [self.names[i] for i in self.unproductive_rows],
            "partly": [self.names[i] for i in range(len(self.names)) if self.partly(i)],
            "rows": [
                None if r is None else {"reads": list(r), "unproductive": list(f or ())}
                for r, f in zip(self.reads, self.axes_unproductive)
            ],
            "range": [r.to_dict() for r in self.ranges],
            "notes": list(self.notes),
        }


def _reads(a) -> list:
    """Per row, the narrowest field (per axis) among the rows it reads (the input reads as 1)."""
    by_name = {r.name: r for r in a.layers}
    ones = (1,) * a.rank
    out: list[tuple[int, ...] | None] = []
    for i, row in enumerate(a.layers):
        if not row.spatial:
            out.append(None)
            continue
        if row.inputs:
            src = [by_name[n].rf_min if n in by_name and by_name[n].spatial else ones for n in row.inputs]
        else:
            prev = a.layers[i - 1] if i else None
            src = [prev.rf_min if prev is not None and prev.spatial else ones]
        out.append(tuple(min(s[ax] for s in src) for ax in range(a.rank)))
    return out


def _flags(a, reads) -> list:
    n = a.input_shape[:-1]
    return [None if r is None else tuple(v > m for v, m in zip(r, n)) for r in reads]


def _bounds(a, reads, axis: int):
    """(lo, hi) from this analysis' fields: the widest field any row reads, the last row's field."""
    spatial = [r for r in reads if r is not None]
    if not spatial or a.layers is None:
        return None
    return max(r[axis] for r in spatial), a.rf[axis]


def _phased(a, axis: int) -> bool:
    """Some row's field on ``axis`` has phases: widths may change with the size (docs/productivity.md)."""
    return any(r.axes is not None and r.axes[axis].period > 1 for r in a.layers if r.spatial)


def _at(again, a, axis: int, n: int):
    """The analysis with ``axis`` resized to ``n`` (None: it does not run there)."""
    shape = list(a.input_shape)
    shape[axis] = n
    try:
        return again(tuple(shape))
    except ShapeError:
        return None


def _ok(b, axis: int, n: int) -> bool:
    if b is None:
        return False
    reads = _reads(b)
    bounds = _bounds(b, reads, axis)
    return bounds is not None and bounds[0] <= n <= bounds[1]


def _search(again, a, axis: int, limit: int) -> AxisRange:
    good = [n for n in range(1, limit + 1) if _ok(_at(again, a, axis, n), axis, n)]
    if not good:
        return AxisRange(axis, None, None, "search", limit)
    inside = set(good)
    gaps = [n for n in range(good[0], good[-1] + 1) if n not in inside]
    return AxisRange(axis, good[0], good[-1], "search", limit, tuple(gaps[:8]), max(len(gaps) - 8, 0))


def _closed(again, a, axis: int, lo: int, hi: int) -> AxisRange:
    """Fields without phases do not depend on the size; only whether the chain runs does, and it
    runs at every size above one it runs at (each layer's output grows with its input)."""
    n0 = a.input_shape[axis]
    if lo > hi:
        return AxisRange(axis, None, None, "closed form", why=("wider", lo, hi))
    if lo < n0 and _at(again, a, axis, lo) is None:
        left, right = lo, n0  # fails at left, runs at right
        while right - left > 1:
            mid = (left + right) // 2
            left, right = (left, mid) if _at(again, a, axis, mid) is not None else (mid, right)
        if right > hi:
            return AxisRange(axis, None, None, "closed form", why=("runs", right, hi))
        lo = right
    return AxisRange(axis, lo, hi, "closed form")


def _range(a, reads, axis: int, again, limit: int | None) -> AxisRange:
    bounds = _bounds(a, reads, axis)
    if bounds is None:
        return AxisRange(axis, None, None, "fields")
    lo, hi = bounds
    if again is not None and _phased(a, axis):
        top = max(2 * hi, 2 * lo, a.input_shape[axis], 64)
        return _search(again, a, axis, min(top, limit or MAX_SEARCH))
    if again is not None:
        return _closed(again, a, axis, lo, hi)
    if lo > hi:
        return AxisRange(axis, None, None, "fields", why=("wider", lo, hi))
    return AxisRange(axis, lo, hi, "fields")


def _notes(a, p_reads, ranges) -> list[str]:
    n = a.input_shape[:-1]
    size = "x".join(map(str, n))
    notes = []
    if not any(r.spatial for r in a.layers):
        return [f"no spatial layers: nothing reads a field of the {size} input"]
    first = next((r for r in a.layers if r.spatial and any(v > 1 for v in r.rf)), None)
    if first is not None and any(v > m for v, m in zip(first.rf, n)):
        notes.append(
            f"the input ({size}) is smaller than the first window: {first.name}'s field is "
            f"{'x'.join(map(str, first.rf))}, so every layer after it reads a field wider than the input"
        )
    for r in ranges:
        if not r.exists:
            axis = "" if len(n) == 1 else f" on axis {r.axis}"
            how = f": {r.reason}" if r.reason else f" (sizes 1..{r.searched} tried)" if r.searched else ""
            notes.append(
                f"no input size makes every layer productive{axis} with the last field covering the input{how}"
            )
        elif r.method == "fields":
            notes.append(
                f"range from the fields at {size}; other sizes were not re-analysed (the model may not "
                f"accept every size in it)"
            )
    return list(dict.fromkeys(notes))


def productivity(a, search_limit: int | None = None) -> Productivity:
    """Which rows of ``a`` are unproductive at its input size, its border row and input-size range
    (``a.productivity()``: a spec's analysis is re-analysed at other sizes where the range needs it).

    >>> from rfcalc import analyze
    >>> p = productivity(analyze("c3,p2,c3,p2,c3*4", input_shape=(28, 28, 1)))
    >>> p.border_name, p.unproductive_rows, (p.ranges[0].lo, p.ranges[0].hi)
    ('conv2d_5', (7,), (34, 42))
    """
    method = getattr(a, "productivity", None)
    if not callable(method) or not hasattr(a, "layers"):
        raise RFError(
            f"productivity() takes an Analysis (from analyze, from_keras, from_onnx or from_torch). "
            f"Received: {type(a).__name__}"
        )
    return method(search_limit)


def judge(a, again=None, search_limit: int | None = None) -> Productivity:
    """``productivity`` of the analysis ``a``; ``again(shape)`` re-analyses the same network at another
    input shape (raising ``ShapeError`` where it does not run), or is None where that is not possible
    (a model file: the range then comes from ``a``'s fields alone)."""
    reads = _reads(a)
    flags = _flags(a, reads)
    border = next((i for i, f in enumerate(flags) if f and all(f)), None)
    ranges = tuple(_range(a, reads, axis, again, search_limit) for axis in range(a.rank))
    return Productivity(
        tuple(a.input_shape[:-1]),
        tuple(r.name for r in a.layers),
        tuple(reads),
        tuple(flags),
        border,
        ranges,
        tuple(_notes(a, reads, ranges)),
    )
