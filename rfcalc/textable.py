"""The one table renderer: a ``Grid`` (title, columns, rows, footer lines) as plain text that fits a width.

Every table rfcalc prints (the layer table, ``compare``, ``design``, ``probe``) is a ``Grid``, drawn
here in one style (rich's ``box.SIMPLE_HEAD`` look) in linear time. When the table is wider than
``width`` the grid's ``steps`` narrow it, in order, until it fits: ``("short", header)`` abbreviates
a column (its ``short`` header and ``shorten`` cells), ``("fold", header)`` moves a column under
its row, indented, ``("wrap", header)`` lets the cells of a ``wrap`` column wrap inside it (down to
``WRAP_MIN`` cells) and ``("drop", header)`` leaves it out; a footer line then names the columns left
out and how to see them (``hint``). If it is still too wide, the ``wrap`` column's cells (the layer
names) wrap inside it. Title, footer, folded cells and lines across the table wrap at spaces (a
word longer than the width is broken). ``width=None`` draws every column, nothing folded or wrapped.
Widths are terminal cells: a CJK character counts two.

>>> g = Grid("T", (Column("a"), Column("n", "right", drop=True)), (("x", "10"),), steps=(("drop", "n"),))
>>> print(text(g))
T
<BLANKLINE>
  a    n
 ────────
  x   10
<BLANKLINE>
>>> wide = Grid("T", (Column("a"), Column("n", "right", drop=True)), (("x" * 50, "10"),), steps=(("drop", "n"),))
>>> print(text(wide, width=56).splitlines()[-1])
Not shown at 56 columns: n (--wide shows every column)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

RULE = "─"
WRAP_MIN = 20  # a ("wrap", column) step narrows the column to no less than this; past every step, 8


def cells(s: str) -> int:
    """Terminal cells of ``s``: 2 for wide (CJK) characters, 1 otherwise.

    >>> cells("RF"), cells("受容野")
    (2, 6)
    """
    if s.isascii():
        return len(s)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in s)


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, ``left``/``right`` justification, and how it may be narrowed."""

    header: str
    justify: Literal["left", "right"] = "left"
    key: str = ""  # the name ``steps`` use (default: the header), the same in every language
    drop: bool = False  # may be left out when the table is too wide
    fold: bool = False  # may move under its row
    wrap: bool = False  # its cells may wrap inside the column (at most one column)
    short: str | None = None  # abbreviated header, with ``shorten`` for the cells
    label: str = ""  # its name in the line that lists dropped columns (default: the header)
    shorten: Callable[[str], str] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Grid:
    """A table to draw: rows are tuples of cells, or one string for a line across the table."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple
    footer: tuple[str, ...] = ()
    steps: tuple[tuple[str, str], ...] = ()
    hint: str = "--wide shows every column"
    dropped_words: str = "Not shown at {width} columns: {names} ({hint})"
    comma: str = ", "

    def header_names(self) -> tuple[str, ...]:
        return tuple(c.header for c in self.columns)

    def with_column(self, column: Column, cells, at: int | None = None, step: tuple | None = None) -> Grid:
        """A copy with one more column (``cells`` one per table row) at index ``at`` (default: last)."""
        at = len(self.columns) if at is None else at
        it = iter(cells)
        rows = tuple(r if isinstance(r, str) else r[:at] + (next(it),) + r[at:] for r in self.rows)
        steps = self.steps + ((step,) if step else ())
        return replace(self, columns=self.columns[:at] + (column,) + self.columns[at:], rows=rows, steps=steps)


def wrap(line: str, width: int | None, indent: str = "  ") -> list[str]:
    """``line`` wrapped at spaces to ``width`` cells, continuation lines indented; Japanese text breaks
    after any wide character; a word longer than the line is broken (after ``.``, ``_`` or ``/`` if it can).

    >>> wrap("one two three", 8)
    ['one two', '  three']
    """
    if width is None or cells(line) <= width:
        return [line]
    lead = line[: len(line) - len(line.lstrip(" "))]
    out, cur = [], lead
    for word in line[len(lead) :].split(" "):
        sep = "" if cur.strip() == "" else " "
        if cells(cur) + len(sep) + cells(word) <= width:
            cur += sep + word
            continue
        if cells(word) != len(word):  # CJK: break after a wide character that fits
            piece = _cjk_piece(word, width - cells(cur) - len(sep))
            if piece:
                out.append(cur + sep + piece)
                word, cur = word[len(piece) :], lead + indent
        if cur.strip():
            out.append(cur)
            cur = lead + indent
        while cells(cur) + cells(word) > width:
            room = max(width - cells(cur), 1)
            piece = _cjk_piece(word, room) if cells(word) != len(word) else ""
            if not piece:
                piece = _take(word, room)
                cut = max(piece.rfind(ch, 1) for ch in "._/")
                piece = piece[: cut + 1] if cut > 0 else piece
            out.append(cur + piece)
            word = word[len(piece) :]
            cur = lead + indent
        cur += word
    if cur.strip():
        out.append(cur)
    return out


def _cjk_piece(word: str, room: int) -> str:
    """The longest prefix of ``word`` within ``room`` cells that ends with a wide character ('' if none)."""
    piece = _take(word, room) if room > 0 else ""
    while piece and (cells(piece) > room or cells(piece[-1]) < 2):
        piece = piece[:-1]
    return piece


def _take(s: str, room: int) -> str:
    """The longest prefix of ``s`` that fits ``room`` cells (at least one character)."""
    n = 0
    for i, ch in enumerate(s):
        n += cells(ch)
        if n > room:
            return s[: max(i, 1)]
    return s


def _pad(s: str, w: int, justify: str) -> str:
    gap = " " * max(w - cells(s), 0)
    return gap + s if justify == "right" else s + gap


def _line(parts, widths, justs) -> str:
    return ("  " + "   ".join(_pad(c, w, j) for c, w, j in zip(parts, widths, justs))).rstrip()


def _total(widths) -> int:
    return sum(widths) + 3 * len(widths) + 1


def _layout(grid: Grid, width: int | None):
    """The columns kept (index, column, shortened?), those folded and those dropped, after the steps."""
    cols = list(grid.columns)
    kept = list(range(len(cols)))
    short, folded, dropped = set(), [], []
    data = [r for r in grid.rows if not isinstance(r, str)]

    def w_of(i):
        c = cols[i]
        if i in short:
            return max([cells(c.short or c.header)] + [cells(c.shorten(r[i])) for r in data])
        return max([cells(c.header)] + [cells(r[i]) for r in data])

    widths = {i: w_of(i) for i in kept}
    for action, name in grid.steps:
        if width is None or _total([widths[i] for i in kept]) <= width:
            break
        i = next((k for k, c in enumerate(cols) if (c.key or c.header) == name), None)
        if i is None or i not in kept:
            continue
        if action == "short" and cols[i].shorten is not None:
            short.add(i)
            widths[i] = w_of(i)
        elif action == "fold" and cols[i].fold:
            kept.remove(i)
            folded.append(i)
        elif action == "drop" and cols[i].drop:
            kept.remove(i)
            dropped.append(i)
        elif action == "wrap" and cols[i].wrap:  # let its cells wrap, down to WRAP_MIN cells
            over = _total([widths[k] for k in kept]) - width
            widths[i] = max(widths[i] - over, min(widths[i], WRAP_MIN))
    return kept, short, folded, dropped, widths


def widths_full(grid: Grid, i: int, short=()) -> int:
    """Column ``i``'s natural width: its widest cell or header."""
    c = grid.columns[i]
    data = [r for r in grid.rows if not isinstance(r, str)]
    if i in short:
        shorten = c.shorten
        assert shorten is not None  # _layout shortens only the columns that have a shorten
        return max([cells(c.short or c.header)] + [cells(shorten(r[i])) for r in data])
    return max([cells(c.header)] + [cells(r[i]) for r in data])


def text(grid: Grid, width: int | None = None) -> str:
    """The grid as plain lines (no trailing blanks), at most ``width`` cells wide where it can be."""
    cols = grid.columns
    kept, short, folded, dropped, widths = _layout(grid, width)
    justs = [cols[i].justify for i in kept]
    ws = [widths[i] for i in kept]
    wrap_at = next((k for k, i in enumerate(kept) if cols[i].wrap), None)
    if width is not None and wrap_at is not None:  # the wrapped column takes what the others leave
        natural = widths_full(grid, kept[wrap_at], short)
        ws[wrap_at] = max(min(natural, ws[wrap_at] + width - _total(ws)), min(natural, 8))

    def cell(r, i):
        return cols[i].shorten(r[i]) if i in short else r[i]

    heads = [(cols[i].short or cols[i].header) if i in short else cols[i].header for i in kept]
    out = [w for part in grid.title.split("\n") for w in wrap(part, width)] + [""] if grid.title else [""]
    out.append(_line([_take(h, ws[k]) if cells(h) > ws[k] else h for k, h in enumerate(heads)], ws, justs))
    out.append(" " + RULE * (_total(ws) - 2))
    for r in grid.rows:
        if isinstance(r, str):
            out.extend(wrap("  " + r, width))
            continue
        parts = [cell(r, i) for i in kept]
        if wrap_at is not None and cells(parts[wrap_at]) > ws[wrap_at]:
            pieces = wrap(parts[wrap_at], ws[wrap_at], indent=" ")
            out.append(_line([pieces[0] if k == wrap_at else p for k, p in enumerate(parts)], ws, justs))
            out.extend(_line([p if k == wrap_at else "" for k in range(len(parts))], ws, justs) for p in pieces[1:])
        else:
            out.append(_line(parts, ws, justs))
        for i in folded:
            if r[i]:
                out.extend(wrap(f"      {cols[i].header}: {r[i]}", width, indent="  "))
    out.append("")
    for line in grid.footer:
        out.extend(wrap(line, width))
    if dropped:
        names = grid.comma.join(cols[i].label or cols[i].header for i in dropped)
        out.extend(wrap(grid.dropped_words.format(width=width, names=names, hint=grid.hint), width))
    return "\n".join(out)


def markdown(grid: Grid) -> str:
    """The grid as a GitHub Markdown table, every column, the footer as lines below it.

    >>> print(markdown(Grid("T", (Column("a"), Column("n", "right")), (("x|y", "10"),))))
    **T**
    <BLANKLINE>
    | a | n |
    | :-- | --: |
    | x\\|y | 10 |
    """
    esc = lambda s: s.replace("|", "\\|")
    n = len(grid.columns)
    out = [f"**{esc(grid.title)}**", ""] if grid.title else []
    out.append("| " + " | ".join(esc(c.header) for c in grid.columns) + " |")
    out.append("| " + " | ".join("--:" if c.justify == "right" else ":--" for c in grid.columns) + " |")
    for r in grid.rows:
        out.append("| " + (esc(r) + " |" * n if isinstance(r, str) else " | ".join(esc(c) for c in r) + " |"))
    if grid.footer:
        out += [""] + [line + "  " for line in grid.footer[:-1]] + [grid.footer[-1]]
    return "\n".join(out)


def html(grid: Grid) -> str:
    """The grid as an HTML table (every column), title in bold, footer lines below.

    >>> html(Grid("T", (Column("a"),), (("<x>",),)))
    '<div><b>T</b><table><thead><tr><th>a</th></tr></thead><tbody><tr><td>&lt;x&gt;</td></tr></tbody></table><p></p></div>'
    """
    import html as _html

    esc = _html.escape
    n = len(grid.columns)
    head = "".join(f"<th>{esc(c.header)}</th>" for c in grid.columns)
    body = "".join(
        f'<tr><td colspan="{n}">{esc(r)}</td></tr>'
        if isinstance(r, str)
        else "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
        for r in grid.rows
    )
    foot = "<br>".join(esc(line) for line in grid.footer)
    return (
        f"<div><b>{esc(grid.title)}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<p>{foot}</p></div>"
    )


def from_rich(table) -> Grid | None:
    """A ``Grid`` of a simple rich ``Table`` (plain-string cells), else None: such tables draw here too."""
    if not table.show_header or not all(
        isinstance(c.header, str) and all(isinstance(v, str) for v in c._cells) for c in table.columns
    ):
        return None
    columns = tuple(
        Column(c.header, c.justify if c.justify == "right" else "left", fold=c.overflow == "fold")
        for c in table.columns
    )
    rows = tuple(zip(*(c._cells for c in table.columns))) if columns else ()
    last = columns[-1].header if columns and columns[-1].fold else None
    footer = tuple(str(table.caption).splitlines()) if table.caption else ()
    return Grid(str(table.title or ""), columns, rows, footer, (("fold", last),) if last else ())


def to_rich(g: Grid):
    """A ``rich.table.Table`` of a grid, every column, drawn in the same style (for ``__rich__``)."""
    from rich import box
    from rich.table import Table

    t = Table(
        title=g.title or None,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        caption="\n".join(g.footer) or None,
        caption_justify="left",
    )
    for c in g.columns:
        t.add_column(c.header, justify=c.justify, no_wrap=not c.fold, overflow="fold" if c.fold else "ellipsis")
    for r in g.rows:
        if isinstance(r, str):
            t.add_row(r, style="dim")
        else:
            t.add_row(*r)
    return t
