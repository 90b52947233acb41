"""Rich tables (and HTML for notebooks) from an ``Analysis``: Keras' summary columns plus RF | Jump | Start.

Nothing here computes; it only formats what ``analysis`` produced.

>>> from rfcalc import analyze
>>> print(to_text(analyze("c3,c3"), width=100).splitlines()[0])
Model: "c3*2"  input 32x32x3
"""

from __future__ import annotations

import io
from fractions import Fraction

FLAG_HELP = {
    "rf>input": "receptive field larger than the input",
    "skips": "stride longer than the window: some input pixels are never read",
    "drops": "'valid' leaves the last rows/columns of its input unread",
    "misaligned": "merged branches have different jumps or centres",
    "holes": "the field has holes: dilation or an earlier stride skips pixels inside it (gridding)",
    "holes?": "the field may have holes: they are followed exactly in fields up to 1,048,576 pixels wide",
    "causal": "all padding before: each output reads only inputs at or before its own position",
    "empty": "some output units read no input (a transposed conv whose taps miss them)",
    "reflect": "the border is filled with mirrored real pixels (the field positions past the edge read them)",
    "ties": "some units sample within float32 rounding of a tie (nearest) or a whole position (linear, "
    "cubic): onnxruntime reads a neighbouring pixel more or less there",
    "edge": "the border repeats the edge pixels (the field positions past the edge read them)",
    "bound": "an upper bound: parts with other fields were joined along a spatial axis, so a unit may read less",
    "tokens": "constants joined the tokens (a class token: extra entries that attention mixes in), or maps of "
    "other sizes were joined (their positions cannot be told apart: no field from there on)",
    "broadcast": "a gate made from a global pool (squeeze-excitation) multiplies here: every unit then depends on "
    "the whole input; the field shown is the local one, as convention (docs/frameworks.md)",
    "unproductive": "reads fields wider than the input on every axis: sees no more of it than the layer before",
    "unproductive?": "unproductive on some axes only (it still gathers context along the others)",
}

AXIS_NAMES = {1: ("positions",), 2: ("rows", "columns"), 3: ("frames", "rows", "columns")}


def fmt_int(n: int) -> str:
    """Thousands separators, as Keras' summary.

    >>> fmt_int(174214)
    '174,214'
    """
    return f"{n:,}"


def fmt_pair(pair, sep: str = "x") -> str:
    """``5`` when every axis agrees, else ``7x3`` (or ``3x7x7``); ``-`` for no value.

    >>> fmt_pair((5, 5)), fmt_pair((7, 3)), fmt_pair(None), fmt_pair((Fraction(1, 4),))
    ('5', '7x3', '-', '1/4')
    """
    if pair is None:
        return "-"
    parts = [fmt_num(v) for v in pair]
    return parts[0] if all(p == parts[0] for p in parts) else sep.join(parts)


def fmt_field(pair) -> str:
    """A receptive-field size, one number per axis: ``5x5`` (2-D), ``1024`` (1-D), ``3x5x5`` (3-D).

    >>> fmt_field((5, 5)), fmt_field((1024,))
    ('5x5', '1024')
    """
    return "global" if pair is None else "x".join(str(v) for v in pair)


def fmt_num(v) -> str:
    """An int or a Fraction, exactly: whole numbers as integers, halves as ``n.5``, else ``p/q`` (a jump
    below 1 after upsampling).

    >>> fmt_num(Fraction(1, 2)), fmt_num(Fraction(-3)), fmt_num(7), fmt_num(Fraction(10**24 - 1, 2))
    ('0.5', '-3', '7', '499999999999999999999999.5')
    >>> fmt_num(Fraction(1, 3))
    '1/3'
    """
    if isinstance(v, Fraction):
        if v.denominator == 1:
            return str(v.numerator)
        if v.denominator == 2:
            sign = "-" if v < 0 else ""
            return f"{sign}{abs(v.numerator) // 2}.5"
        return f"{v.numerator}/{v.denominator}"
    return str(v)


def fmt_jump(pair) -> str:
    """Jumps, fractions below 1 written ``1/2`` (after upsampling).

    >>> fmt_jump((Fraction(1, 2), Fraction(1, 2))), fmt_jump((2, 2))
    ('1/2', '2')
    """
    if pair is None:
        return "-"
    parts = [
        f"{v.numerator}/{v.denominator}" if isinstance(v, Fraction) and v.denominator > 1 else str(v) for v in pair
    ]
    return parts[0] if all(p == parts[0] for p in parts) else "x".join(parts)


def input_words(shape) -> str:
    """The title's input: ``input 32x32x3`` for images; 1-D and 3-D inputs in words.

    >>> input_words((32, 32, 3)), input_words((16000, 1))
    ('input 32x32x3', '1-D input: length 16000, 1 channel')
    """
    from .dsl import describe_input

    return f"input {'x'.join(str(v) for v in shape)}" if len(shape) == 3 else describe_input(shape)


def fmt_shape(shape) -> str:
    """Keras' style, with the batch dimension: ``(None, 32, 32, 32)``.

    >>> fmt_shape((16, 16, 32))
    '(None, 16, 16, 32)'
    """
    return "(None, " + ", ".join(str(d) for d in shape) + ")"


def fmt_bytes(params: int) -> str:
    """Float32 size, as Keras' summary prints it; exact integer arithmetic at any size.

    >>> fmt_bytes(174214), fmt_bytes(10144), fmt_bytes(10**300)[-5:]
    ('680.52 KB', '39.62 KB', '00 GB')
    """
    size, unit = params * 4, "B"
    scale = 1
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 * scale or unit == "GB":
            break
        scale *= 1024
    hundredths = round(Fraction(size * 100, scale))  # ties to even, as Keras' f"{x:.2f}" rounds its exact float
    return f"{hundredths // 100}.{hundredths % 100:02d} {unit}"


def _marks(p, i: int) -> tuple[str, ...]:
    if p is None:
        return ()
    return ("unproductive",) if p.unproductive(i) else ("unproductive?",) if p.partly(i) else ()


def _cells(row, marks=()) -> list[str]:
    return [
        f"{row.name} ({row.kind})",
        fmt_shape(row.output_shape),
        fmt_int(row.params),
        fmt_int(row.macs),
        fmt_field(row.rf),
        fmt_jump(row.jump),
        fmt_pair(row.start, ", "),
        " ".join(row.flags + tuple(marks)),
    ]


HEADERS = ("Layer (type)", "Output Shape", "Param #", "MACs", "RF", "Jump", "Start", "Note")


def visible_rows(a, max_rows: int | None = 200) -> tuple:
    """The rows to show: all of them, or the first and last halves of ``max_rows`` with a note between.

    >>> from rfcalc import analyze
    >>> rows = visible_rows(analyze("c3*9"), max_rows=4)
    >>> [r if isinstance(r, str) else r.name for r in rows]
    ['conv2d', 'conv2d_1', '... 5 more layers (--all or --json shows every one) ...', 'conv2d_7', 'conv2d_8']
    """
    rows = a.layers
    if max_rows is None or len(rows) <= max_rows:
        return rows
    head, tail = rows[: max_rows // 2], rows[len(rows) - max_rows // 2 :]
    skipped = len(rows) - len(head) - len(tail)
    return (*head, f"... {fmt_int(skipped)} more layers (--all or --json shows every one) ...", *tail)


def fmt_range(p, short: bool = False) -> str:
    """The input-size range of a ``Productivity``, one ``lo-hi`` per axis (``none`` where there is none;
    ``short``: once when every axis has the same).

    >>> from rfcalc import analyze
    >>> p = analyze("c3*16", input_shape=(28, 28, 1)).productivity()
    >>> fmt_range(p), fmt_range(p, short=True)
    ('31-33 x 31-33', '31-33')
    """

    def one(r):
        if not r.exists:
            return "none"
        gaps = f" but not {', '.join(map(str, r.gaps))}{' ...' if r.more_gaps else ''}" if r.gaps else ""
        return (f"{r.lo}" if r.lo == r.hi else f"{r.lo}-{r.hi}") + gaps

    parts = [one(r) for r in p.ranges]
    return parts[0] if short and len(set(parts)) == 1 else " x ".join(parts)


def productivity_lines(a, p) -> list[str]:
    """The border layer and the input-size range, for the lines under the table (each under 80
    columns where names allow: rich wraps a caption at the table's width)."""
    import textwrap

    if p is None:
        return []
    size = "x".join(map(str, p.input_size))
    lines = []
    bad = p.unproductive_rows
    if bad:
        more = f" .. {p.names[bad[-1]]} ({len(bad)} layers)" if len(bad) > 1 else ""
        lines.append(f"Border layer: {p.border_name} reads {fmt_field(p.reads[p.border])} > {size}")
        lines.append(f"Unproductive: {p.border_name}{more}")
    if any(r.exists for r in p.ranges):
        fields = " (fields at this size)" if {r.method for r in p.ranges} == {"fields"} else ""
        lines.append(f"Productive input sizes: {fmt_range(p)}{fields}")
    for note in p.notes:
        if not note.startswith("range from the fields"):
            lines += textwrap.wrap(note[0].upper() + note[1:], 76, break_on_hyphens=False)
    return lines


def _productivity(a):
    method = getattr(a, "productivity", None)
    return method() if callable(method) else None


def table(a, max_rows: int | None = 200):
    """A ``rich.table.Table`` of the analysis (every column), totals in the caption.

    Past ``max_rows`` layers only the first and last halves are shown, with a row that says how
    many are left out (``None`` shows all).
    """
    from . import textable

    return textable.to_rich(a.__grid__(max_rows=max_rows))


def width_from_env(default: int | None = 120) -> int | None:
    """``COLUMNS`` when it is set to a positive number, else ``default``."""
    import os

    cols = os.environ.get("COLUMNS", "").strip()
    return int(cols) if cols.isdigit() and int(cols) > 0 else default


def terminal_width() -> int:
    """The width tables fit when printed: ``COLUMNS`` when set; else the size of the terminal that
    stdout, or else stderr, is (so ``rfcalc ... | less`` fits the terminal); else 80.

    >>> import os; os.environ["COLUMNS"] = "100"; terminal_width()
    100
    >>> del os.environ["COLUMNS"]
    """
    import os
    import sys

    cols = width_from_env(None)
    if cols is not None:
        return cols
    for stream in (sys.stdout, sys.stderr):
        try:
            return os.get_terminal_size(stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError):
            continue
    return 80


def grid_of(renderable):
    """The ``textable.Grid`` an object draws as (a Grid, an object with ``__grid__``, or a simple rich
    Table), else None."""
    from . import textable

    if isinstance(renderable, textable.Grid):
        return renderable
    method = getattr(renderable, "__grid__", None)
    if callable(method) and not isinstance(renderable, type):
        return method()
    from rich.table import Table

    rich = getattr(renderable, "__rich__", None)
    if callable(rich) and not isinstance(renderable, type):
        renderable = rich()
    return textable.from_rich(renderable) if isinstance(renderable, Table) else None


def plain(renderable, width: int | None = 120) -> str:
    """Any table or rich renderable as plain text (no colour, no trailing blanks), fitting ``width``
    columns (``None``: every column at its full width).

    Tables (``textable.Grid``) are written directly, in linear time: past ``width`` they abbreviate,
    fold and drop columns as their steps say, and name what they left out.

    >>> plain("a  ")
    'a'
    """
    from rich.console import Console

    from . import textable

    grid = grid_of(renderable)
    if grid is not None:
        return textable.text(grid, width)
    out = io.StringIO()
    Console(file=out, width=width or 120, color_system=None, legacy_windows=False, soft_wrap=False).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def show(renderable, wide: bool = False) -> None:
    """Print a table fitted to ``terminal_width()`` (``wide``: every column, however wide); other
    renderables through rich on a terminal, as ``plain`` text into a pipe or file."""
    import sys

    from . import textable

    grid = grid_of(renderable)
    if grid is not None:
        sys.stdout.write(textable.text(grid, None if wide else terminal_width()) + "\n")
    elif sys.stdout.isatty():
        from rich.console import Console

        Console(soft_wrap=False).print(renderable)
    else:
        sys.stdout.write(plain(renderable, width_from_env()) + "\n")


def to_text(a, width: int | None = 120, **options) -> str:
    """Plain text of the table, as ``str(analysis)`` shows it (``options`` as ``summary.grid``'s:
    ``lang``, ``rows``, ``depth``, ``batch``, ``max_rows``)."""
    from . import textable

    return textable.text(a.__grid__(**options), width)


def to_html(a) -> str:
    """An HTML table for Jupyter (``Analysis._repr_html_``): the layer table, every column."""
    from . import textable

    return textable.html(a.__grid__())


def layer_text(a, row) -> str:
    """A few lines on one layer's field: size, jump, start and the input span of unit (0, 0).

    >>> from rfcalc import analyze
    >>> a = analyze("c3,c3,p2")
    >>> print(layer_text(a, a.row("conv2d_1")).splitlines()[1])
      receptive field 5x5, jump 1, start 0
    """
    lines = [
        f"{row.name} ({row.kind}) {row.token}: output {fmt_shape(row.output_shape)}, "
        f"{fmt_int(row.params)} params, {fmt_int(row.macs)} MACs"
    ]
    if row.rf is None:
        lines.append("  no spatial extent here: every output depends on the whole input")
        return "\n".join(lines)
    lines.append(f"  receptive field {fmt_field(row.rf)}, jump {fmt_jump(row.jump)}, start {fmt_pair(row.start, ', ')}")
    if row.rf_min != row.rf:
        lines.append(f"  smallest field over all paths {fmt_field(row.rf_min)}")
    spans = [f"{label} {lo}..{hi}" for label, (lo, hi) in zip(AXIS_NAMES[len(row.rf)], row.span)]
    zero = "0" if len(row.rf) == 1 else "(" + ", ".join("0" * len(row.rf)) + ")"
    lines.append(f"  output unit {zero} reads input {', '.join(spans)} (negative = padding)")
    phased = row.axes is not None and any(ax.period > 1 for ax in row.axes)
    if len(row.rf) == 2 and not phased:
        lines.append(
            f"  unit (i, j) is centred at input (start + i*jump, start + j*jump); effective padding "
            f"{fmt_pair(row.eff_pad)}"
        )
    elif not phased:
        lines.append(
            f"  unit u is centred at input start + u*jump on every axis; effective padding {fmt_pair(row.eff_pad)}"
        )
    else:
        periods = fmt_pair(tuple(ax.period for ax in row.axes))
        lines.append(
            f"  units of different phases read different inputs: the fields repeat every {periods} units "
            f"(Row.field_of gives any unit's); effective padding {fmt_pair(row.eff_pad)}"
        )
    lines += [f"  {flag}: {FLAG_HELP[flag]}" for flag in row.flags if flag in FLAG_HELP]
    return "\n".join(lines)
