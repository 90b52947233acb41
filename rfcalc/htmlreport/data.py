"""The data an HTML report embeds: per-layer table cells, exact per-unit field tables, holes, totals.

The page computes nothing the core did not. For every spatial layer and axis it gets a table of
``P`` phases: the first and last input pixel (``lo``/``hi``) of the field of units ``0..P-1`` and the
``step`` by which they move every ``P`` units, so that unit ``i`` reads ``lo[i % P] + (i // P)·step``
.. ``hi[i % P] + (i // P)·step``. Each table is checked against :func:`unit_field` on two periods and the
last unit of its axis; where the field is not periodic, ``P`` is the axis length (a table of every unit,
at most ``MAX_LISTED``).

>>> rows = layer_data(analyze("c3,c3,p2"))
>>> rows[2]["axes"][0]
{'P': 1, 'step': 2, 'lo': [-2], 'hi': [3]}
"""

from __future__ import annotations

from fractions import Fraction

from ..analysis import Analysis, analyze  # noqa: F401  (analyze: the doctests)
from ..errors import ShapeError
from ..render import FLAG_HELP, HEADERS, _cells, fmt_bytes, fmt_field, fmt_int, fmt_pair
from .text import FLAG_HELP_JA, TEXT

MAX_LISTED = 1 << 16  # units of an axis listed one by one when its field has no phase table


def unit_field(row, unit) -> tuple:
    """Per axis, the (first, last) input pixel of output unit ``unit``'s field (negative: padding).

    >>> unit_field(analyze("c3,c3,p2").layers[2], (3, 0))
    ((4, 9), (-2, 3))
    """
    return tuple(tuple(p) for p in row.field_of(tuple(unit)))


def axis_table(row, axis: int) -> dict:
    """The phase table of one axis of a spatial row (the core's ``Row.axes``), checked against ``field_of``.

    >>> axis_table(analyze("c3s2").layers[0], 1)  # TensorFlow pads 0 before, 1 after
    {'P': 1, 'step': 2, 'lo': [0], 'hi': [2]}
    >>> axis_table(analyze("p2,up2", input_shape="8x1").layers[1], 0)
    {'P': 2, 'step': 2, 'lo': [0, 0], 'hi': [1, 1]}
    """
    n = row.output_shape[axis]
    rank = len(row.rf)

    def field(i):
        unit = [0] * rank
        unit[axis] = i
        return unit_field(row, unit)[axis]

    ax = row.axes[axis] if getattr(row, "axes", None) is not None else None
    if ax is not None:
        period = min(ax.period, n)
        table = {"P": period, "step": ax.shift, "lo": list(ax.lo[:period]), "hi": list(ax.hi[:period])}
        # checked on two periods and the last unit: the table is periodic, so checking every unit costs O(n)
        checked = sorted({*range(min(n, 2 * period + 1)), n - 1})
        if all(
            field(i)
            == (table["lo"][i % period] + (i // period) * ax.shift, table["hi"][i % period] + (i // period) * ax.shift)
            for i in checked
        ):
            return table
    if n > MAX_LISTED:
        raise ShapeError(
            f"the report lists every unit of an axis without a phase table, at most {MAX_LISTED:,}. "
            f"Received: {n:,} units in {row.name!r}"
        )
    fields = [field(i) for i in range(n)]
    return {"P": n, "step": 0, "lo": [f[0] for f in fields], "hi": [f[1] for f in fields]}


def _num(v):
    v = Fraction(v)
    return int(v) if v.denominator == 1 else float(v)


def _gaps(cover, width: int):
    """Runs ``[a, b]`` of span offsets that the field does not read, from a cover bit mask."""
    if cover is None or cover < 0:
        return []
    runs, a = [], None
    for b in range(width):
        unread = not (cover >> b) & 1
        if unread and a is None:
            a = b
        elif not unread and a is not None:
            runs.append([a, b - 1])
            a = None
    if a is not None:
        runs.append([a, width - 1])
    return runs


def hole_runs(row) -> list | None:
    """Per axis and phase, the runs of field offsets the unit does not read (the core's cover masks); None: no holes.

    >>> hole_runs(analyze("c3d2").layers[0])
    [[[[1, 1], [3, 3]]], [[[1, 1], [3, 3]]]]
    """
    axes = getattr(row, "axes", None)
    if axes is None or "holes" not in row.flags:
        return None
    out = []
    for a, n in zip(axes, row.output_shape):
        period = min(a.period, n)
        out.append([_gaps(a.phase_cover(p), a.hi[p] - a.lo[p] + 1) for p in range(period)])
    return out


def layer_data(analysis: Analysis) -> list[dict]:
    """One dict per layer: table cells (as the CLI prints them), and for spatial layers the field tables."""
    out = []
    for row in analysis.layers:
        d = {
            "name": row.name,
            "kind": row.kind,
            "token": row.token,
            "cells": _cells(row),
            "flags": list(row.flags),
            "inputs": list(row.inputs),
            "spatial": row.spatial,
        }
        if row.spatial:
            rank = len(row.rf)
            d.update(
                out=list(row.output_shape[:rank]),
                rf=list(row.rf),
                rf_min=list(row.rf_min),
                jump=[_num(j) for j in row.jump],
                start=[_num(s) for s in row.start],
                axes=[axis_table(row, a) for a in range(rank)],
                gaps=hole_runs(row),
            )
        out.append(d)
    return out


def footer(analysis: Analysis, lang: str) -> list[str]:
    """The totals under the table, in ``lang`` (the CLI's footer in English)."""
    T = TEXT[lang]
    a = analysis
    shape = "x".join(str(v) for v in a.input_shape)
    lines = [
        T["total"].format(n=fmt_int(a.total_params), b=fmt_bytes(a.total_params)),
        T["trainable"].format(n=fmt_int(a.trainable_params), b=fmt_bytes(a.trainable_params)),
        T["nontrainable"].format(n=fmt_int(a.non_trainable_params), b=fmt_bytes(a.non_trainable_params)),
        T["macs"].format(n=fmt_int(a.total_macs)),
        T["field"].format(rf=fmt_field(a.rf), shape=shape, j=fmt_pair(a.jump), s=fmt_pair(a.start, ", "))
        + (T["larger"] if a.rf_exceeds_input else ""),
    ]
    if a.rf_min != a.rf:
        lines.append(T["smallest"].format(rf=fmt_field(a.rf_min)))
    used = {f for r in a.layers for f in r.flags}
    helps = FLAG_HELP_JA if lang == "ja" else FLAG_HELP
    lines += [f"{flag}: {helps[flag]}" for flag in FLAG_HELP if flag in used]
    return lines


def payload(analysis: Analysis, lang: str = "en") -> dict:
    """Everything the page shows but the image and the ERF, as plain JSON-able data.

    >>> p = payload(analyze("c3,c3"))
    >>> p["input"], [r["rf"] for r in p["layers"]]
    ([32, 32, 3], [[3, 3], [5, 5]])
    """
    T = TEXT[lang]
    return {
        "spec": analysis.spec,
        "input": list(analysis.input_shape),
        "lang": lang,
        "headers": list(T["headers"]) if "headers" in T else list(HEADERS),
        "layers": layer_data(analysis),
        "footer": footer(analysis, lang),
        "T": T["ui"],
    }
