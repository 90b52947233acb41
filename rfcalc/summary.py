"""The layer table of an ``Analysis`` as a ``textable.Grid``: the columns of Keras' summary plus RF | Jump |
Start, a "Connected to" column for branched graphs, torchinfo's memory estimate, ``depth`` to sum
nested modules, ``rows`` to filter, and Markdown and CSV. Nothing is computed here but sums of rows.

>>> from rfcalc import analyze
>>> print(to_markdown(analyze("c3,p2")).splitlines()[2])
| Layer (type) | Output Shape | Param # | MACs | RF | Jump | Start |
>>> print(to_csv(analyze("c3")).splitlines()[1])
0,conv2d,Conv2D,32x32x32,896,884736,3x3,1x1,0x0,,
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
from dataclasses import dataclass
from math import prod

from . import textable
from .errors import RFError
from .render import (
    FLAG_HELP,
    _cells,
    _marks,
    _productivity,
    fmt_bytes,
    fmt_field,
    fmt_int,
    fmt_jump,
    fmt_pair,
    input_words,
    productivity_lines,
)
from .tablewords import FLAG_HELP_JA, WORDS, ja_line
from .textable import Column, Grid

MB = 10**6  # torchinfo's megabyte


@dataclass(frozen=True, slots=True)
class Memory:
    """Bytes in float32 (4 per number), as torchinfo's footer defines them, for ``batch`` inputs.

    ``input``: the input tensor; ``params``: every parameter, trainable or not (rfcalc counts batch-norm
    statistics as Keras does); ``forward_backward``: 2 x the outputs of every row that has parameters
    (the activation and its gradient); ``total``: the three summed.
    """

    batch: int
    input: int
    params: int
    forward_backward: int

    @property
    def total(self) -> int:
        return self.input + self.params + self.forward_backward


def memory(a, batch: int = 1) -> Memory:
    """torchinfo's estimate of an analysis' memory, exactly, in bytes.

    >>> from rfcalc import analyze
    >>> memory(analyze("c3,p2"), batch=2)
    Memory(batch=2, input=24576, params=3584, forward_backward=524288)
    """
    if not isinstance(batch, int) or batch < 1:
        raise RFError(f"the batch size is a positive integer. Received: batch={batch!r}")
    act = sum(prod(r.output_shape) for r in a.layers if r.params > 0)
    return Memory(batch, 4 * batch * prod(a.input_shape), 4 * a.total_params, 2 * 4 * batch * act)


def megabytes(n: int) -> str:
    """Bytes as torchinfo's MB (10**6 bytes), two decimals, rounded half up exactly.

    >>> megabytes(602112), megabytes(5000)
    ('0.60', '0.01')
    """
    hundredths = (n + MB // 200) // (MB // 100)
    return f"{hundredths // 100:,}.{hundredths % 100:02d}"


def footer_lines(a, lang: str = "en", batch: int = 1, p=None) -> list[str]:
    """The totals under the table, in ``lang`` (``p``: the analysis' ``Productivity``: the border
    layer and the productive input sizes)."""
    W = WORDS[lang]
    m = memory(a, batch)
    lines = [
        W["total"].format(n=fmt_int(a.total_params), b=fmt_bytes(a.total_params)),
        W["trainable"].format(n=fmt_int(a.trainable_params), b=fmt_bytes(a.trainable_params)),
        W["nontrainable"].format(n=fmt_int(a.non_trainable_params), b=fmt_bytes(a.non_trainable_params)),
        *(
            [W["stored"].format(n=fmt_int(a.stored_params), b=fmt_bytes(a.stored_params))]
            if getattr(a, "shares_params", False)
            else []
        ),
        W["macs"].format(n=fmt_int(a.total_macs)),
        W["field"].format(
            rf=fmt_field(a.rf), shape="x".join(map(str, a.input_shape)), j=fmt_jump(a.jump), s=fmt_pair(a.start, ", ")
        )
        + (W["larger"] if a.rf_exceeds_input else ""),
        W["memory"].format(
            batch=batch,
            inp=megabytes(m.input),
            par=megabytes(m.params),
            fwd=megabytes(m.forward_backward),
            tot=megabytes(m.total),
        ),
    ]
    if a.rf_min != a.rf:
        lines.insert(len(lines) - 1, W["smallest"].format(rf=fmt_field(a.rf_min)))
    lines[len(lines) - 1 : len(lines) - 1] = [ja_line(x) if lang == "ja" else x for x in productivity_lines(a, p)]
    used = {f for r in a.layers for f in r.flags}
    if p is not None:
        used |= {m for i in range(len(a.layers)) for m in _marks(p, i)}
    helps = FLAG_HELP_JA if lang == "ja" else FLAG_HELP
    return lines + [f"{flag}: {helps[flag]}" for flag in FLAG_HELP if flag in used]


def branched(a) -> bool:
    """True when some row reads another row than the one before it (a graph, not a chain)."""
    return any(
        r.inputs and (len(r.inputs) > 1 or i == 0 or r.inputs[0] != a.layers[i - 1].name)
        for i, r in enumerate(a.layers)
    )


def connected(a) -> list[str]:
    """Per row, the rows it reads: its graph inputs, else the row before it (``input`` for the first)."""
    out = []
    for i, r in enumerate(a.layers):
        out.append(", ".join(r.inputs) if r.inputs else (a.layers[i - 1].name if i else "input"))
    return out


def select(rows, pattern: str | None):
    """The rows a ``--rows`` value picks: ``3:10`` (row indices, as a Python slice), else a name glob.

    >>> from rfcalc import analyze
    >>> [r.name for r in select(analyze("c3,c3,p2").layers, "conv*")]
    ['conv2d', 'conv2d_1']
    >>> [r.index for r in select(analyze("c3*5").layers, "1:3")]
    [1, 2]
    """
    if pattern is None:
        return tuple(rows)
    m = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", pattern)
    if m:
        lo, hi = (int(v) if v else None for v in m.groups())
        picked = tuple(rows)[lo:hi]
    else:
        picked = tuple(r for r in rows if fnmatch.fnmatchcase(r.name, pattern) or fnmatch.fnmatchcase(r.kind, pattern))
    if not picked:
        raise RFError(
            f"--rows {pattern} picks no row: give a name pattern such as 'conv*' or an index range "
            f"such as 3:10 (rows 0 to {len(rows) - 1})"
        )
    return picked


def _path(name: str) -> tuple[str, ...]:
    """The module path of a row: Keras' nested ``outer/inner`` and torch's ``layer1.0.conv1``."""
    return tuple(p for p in re.split(r"[/.]", name) if p)


def _collapse(rows, depth: int, cells, W) -> list:
    """Cells per shown row; runs of rows deeper than ``depth`` sharing a prefix become one summed row."""
    out, i = [], 0
    while i < len(rows):
        head = _path(rows[i].name)[:depth]
        j = i
        while j < len(rows) and len(_path(rows[j].name)) > depth and _path(rows[j].name)[:depth] == head:
            j += 1
        if j - i > 1 or (j > i and len(_path(rows[i].name)) > depth):
            group, last = rows[i:j], rows[j - 1]
            c = list(cells(last))
            c[0] = f"{'.'.join(head)} ({W['group'].format(n=j - i)})"
            c[2] = fmt_int(sum(r.params for r in group))
            c[3] = fmt_int(sum(r.macs for r in group))
            c[7] = " ".join(dict.fromkeys(f for r in group for f in r.flags))
            out.append((tuple(c), j - i))
            i = j
        else:
            out.append((tuple(cells(rows[i])), 1))
            i += 1
    return out


def _shape_short(cell: str) -> str:
    return "x".join(cell[7:-1].split(", ")) if cell.startswith("(None, ") else cell


def grid(
    a, lang: str = "en", max_rows: int | None = 200, rows: str | None = None, depth: int | None = None, batch: int = 1
) -> Grid:
    """The layer table of ``a`` as a ``Grid`` (``textable.text`` draws it at any width).

    >>> from rfcalc import analyze
    >>> g = grid(analyze("c3,c3"))
    >>> g.header_names()[:3], len(g.rows)
    (('Layer (type)', 'Output Shape', 'Param #'), 2)
    """
    W = WORDS[lang]
    h = W["headers"]
    conn = branched(a)
    names = dict(zip((r.name for r in a.layers), connected(a))) if conn else {}

    p = _productivity(a)
    index = {id(r): i for i, r in enumerate(a.layers)}

    def cells(r):
        c = _cells(r, _marks(p, index[id(r)]))
        return c + [names[r.name]] if conn else c

    picked = select(a.layers, rows)
    if depth is not None:
        shown = _collapse(picked, depth, cells, W)
    else:
        shown = [(tuple(cells(r)), 1) for r in picked]
    folded = sum(n - 1 for _, n in shown)
    body = [c for c, _ in shown]
    if max_rows is not None and len(body) > max_rows:
        skipped = len(body) - 2 * (max_rows // 2)
        body = body[: max_rows // 2] + [W["more"].format(n=fmt_int(skipped))] + body[len(body) - max_rows // 2 :]
    notes = any(c[7] for c in body if not isinstance(c, str))
    columns = [
        Column(h[0], key="Layer (type)", wrap=True),
        Column(h[1], key="Output Shape", drop=True, short=W["shape_short"], shorten=_shape_short),
        Column(h[2], "right", key="Param #", drop=True),
        Column(h[3], "right", key="MACs", drop=True),
        Column(h[4], "right", key="RF"),
        Column(h[5], "right", key="Jump", drop=True),
        Column(h[6], "right", key="Start", drop=True),
        Column(h[7], key="Note", fold=True),
    ]
    keep = [k for k in range(8) if k != 7 or notes]
    if conn:
        columns.append(Column(W["connected"], key="Connected to", drop=True, fold=True))
        keep.append(8)
    kept = tuple(c if isinstance(c, str) else tuple(c[k] for k in keep) for c in body)
    footer = footer_lines(a, lang, batch, p)
    if rows is not None:
        footer.insert(0, W["rows_shown"].format(shown=len(picked), total=len(a.layers), pattern=rows))
    if folded:
        footer.insert(0, W["depth"].format(depth=depth, n=folded))
    steps = (
        ("short", "Output Shape"),
        ("drop", "Connected to"),
        ("fold", "Note"),
        ("drop", "Start"),
        ("drop", "MACs"),
        ("drop", "Jump"),
        ("wrap", "Layer (type)"),
        ("drop", "Output Shape"),
        ("drop", "Param #"),
    )
    shape = "x".join(map(str, a.input_shape))
    words = f"入力 {shape}" if lang == "ja" and a.rank == 2 else input_words(a.input_shape)
    title = W["model"].format(spec=a.spec, input=words)
    return Grid(title, tuple(columns[k] for k in keep), kept, tuple(footer), steps, W["hint"], W["dropped"], W["comma"])


def to_markdown(a, **options) -> str:
    """The whole table as GitHub Markdown (every column); ``options`` as ``grid``'s.

    >>> from rfcalc import analyze
    >>> to_markdown(analyze("c3")).splitlines()[4]
    '| conv2d (Conv2D) | (None, 32, 32, 32) | 896 | 884,736 | 3x3 | 1 | 0 |'
    """
    return textable.markdown(grid(a, **{"max_rows": None, **options}))


CSV_FIELDS = ("index", "name", "type", "output_shape", "params", "macs", "rf", "jump", "start", "flags", "inputs")


def to_csv(a, rows: str | None = None) -> str:
    """Every row (or those ``rows`` picks) as CSV with plain numbers: sizes ``32x32x32``, fields ``5x5``,
    jumps and starts per axis joined by ``x`` (``1/2`` after upsampling, ``0.5`` for a half pixel)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for r in select(a.layers, rows):
        w.writerow(
            [
                r.index,
                r.name,
                r.kind,
                "x".join(map(str, r.output_shape)),
                r.params,
                r.macs,
                fmt_field(r.rf),
                fmt_jump(r.jump) if r.jump is None else "x".join(fmt_jump((j,)) for j in r.jump),
                fmt_pair(r.start) if r.start is None else "x".join(fmt_pair((s,)) for s in r.start),
                " ".join(r.flags),
                " ".join(r.inputs),
            ]
        )
    return out.getvalue()
