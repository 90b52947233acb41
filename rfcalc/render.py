"""Rich tables (and HTML for notebooks) from an ``Analysis``: Keras' summary columns plus RF | Jump | Start.

Nothing here computes; it only formats what ``analysis`` produced.

>>> from rfcalc import analyze
>>> print(to_text(analyze("c3,c3"), width=100).splitlines()[0])
Model: "c3*2"  input 32x32x3
"""

from __future__ import annotations

import html
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
    "edge": "the border repeats the edge pixels (the field positions past the edge read them)",
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


def _cells(row) -> list[str]:
    return [
        f"{row.name} ({row.kind})",
        fmt_shape(row.output_shape),
        fmt_int(row.params),
        fmt_int(row.macs),
        fmt_field(row.rf),
        fmt_jump(row.jump),
        fmt_pair(row.start, ", "),
        " ".join(row.flags),
    ]


HEADERS = ("Layer (type)", "Output Shape", "Param #", "MACs", "RF", "Jump", "Start", "Note")


def footer_lines(a) -> list[str]:
    """The totals under the table."""
    lines = [
        f"Total params: {fmt_int(a.total_params)} ({fmt_bytes(a.total_params)})",
        f"Trainable params: {fmt_int(a.trainable_params)} ({fmt_bytes(a.trainable_params)})",
        f"Non-trainable params: {fmt_int(a.non_trainable_params)} ({fmt_bytes(a.non_trainable_params)})",
        f"Total MACs: {fmt_int(a.total_macs)} per image",
        f"Receptive field: {fmt_field(a.rf)} of the {'x'.join(map(str, a.input_shape))} input, jump {fmt_jump(a.jump)}, "
        f"start {fmt_pair(a.start, ', ')}" + (" (larger than the input)" if a.rf_exceeds_input else ""),
    ]
    if a.rf_min != a.rf:
        lines.append(f"Smallest field over all paths: {fmt_field(a.rf_min)}")
    used = {f for r in a.layers for f in r.flags}
    lines += [f"{flag}: {FLAG_HELP[flag]}" for flag in FLAG_HELP if flag in used]
    return lines


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


def table(a, max_rows: int | None = 200):
    """A ``rich.table.Table`` of the analysis, totals in the caption.

    Past ``max_rows`` layers only the first and last halves are shown, with a row that says how
    many are left out (``None`` shows all).
    """
    from rich import box
    from rich.table import Table

    t = Table(
        title=f'Model: "{a.spec}"  {input_words(a.input_shape)}',
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption="\n".join(footer_lines(a)),
        caption_justify="left",
    )
    notes = any(r.flags for r in a.layers)
    for head in HEADERS[:-1] + (HEADERS[-1:] if notes else ()):
        numeric = head in ("Param #", "MACs", "RF", "Jump", "Start")
        t.add_column(
            head,
            justify="right" if numeric else "left",
            no_wrap=head != "Note",
            overflow="fold" if head == "Note" else "ellipsis",
        )  # plain text folds Note, never cuts it
    for row in visible_rows(a, max_rows):
        if isinstance(row, str):
            t.add_row(row, style="dim")
        else:
            t.add_row(*_cells(row)[: len(t.columns)])
    return t


def width_from_env(default: int | None = 120) -> int | None:
    """The width for text that goes to a pipe or file: ``COLUMNS`` when set, else ``default``."""
    import os

    cols = os.environ.get("COLUMNS", "").strip()
    return int(cols) if cols.isdigit() and int(cols) > 0 else default


def _table_of(renderable):
    """What rich would draw for an object that renders itself (``__rich__``), else the object."""
    rich = getattr(renderable, "__rich__", None)
    return rich() if callable(rich) and not isinstance(renderable, type) else renderable


def plain(renderable, width: int | None = 120) -> str:
    """Any rich renderable as plain text (no colour, no trailing blanks), ``width`` columns.

    Simple tables (the layer tables) are written directly, in linear time, and never cut: past
    ``width`` their Note column folds under each row.

    >>> plain("a  ")
    'a'
    """
    from rich.console import Console
    from rich.table import Table

    from . import textable

    renderable = _table_of(renderable)
    if isinstance(renderable, Table) and textable.fits(renderable):
        return textable.text(renderable, width)
    out = io.StringIO()
    Console(file=out, width=width or 120, color_system=None, legacy_windows=False, soft_wrap=False).print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def show(renderable) -> None:
    """Print to the terminal at its width; into a pipe or file as ``plain`` text, ``COLUMNS`` (else 120) wide."""
    import sys

    from rich.table import Table

    from . import textable

    if sys.stdout.isatty():
        from rich.console import Console

        console = Console(soft_wrap=False)
        renderable = _table_of(renderable)
        if isinstance(renderable, Table) and textable.fits(renderable):
            sys.stdout.write(textable.text(renderable, console.width) + "\n")
        else:
            console.print(renderable)
    else:
        sys.stdout.write(plain(renderable, width_from_env()) + "\n")


def to_text(a, width: int = 120) -> str:
    """Plain text of the table, as ``str(analysis)`` shows it."""
    return plain(table(a), width)


def to_html(a) -> str:
    """An HTML table for Jupyter (``Analysis._repr_html_``)."""
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in HEADERS)
    body = "".join(
        f'<tr><td colspan="{len(HEADERS)}">{esc(r)}</td></tr>'
        if isinstance(r, str)
        else "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in _cells(r)) + "</tr>"
        for r in visible_rows(a)
    )
    foot = "<br>".join(esc(line) for line in footer_lines(a))
    return (
        f"<div><b>Model: &quot;{esc(a.spec)}&quot;</b> {esc(input_words(a.input_shape))}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p>{foot}</p></div>"
    )


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
