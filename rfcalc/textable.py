"""Plain text of a simple rich ``Table`` in linear time, never cut: a 100,000-row table in well under 2 s.

rich lays a table out cell by cell (quadratic in practice for long tables) and cuts lines at the
console width. For the tables rfcalc prints most (``box.SIMPLE_HEAD``, plain-string cells) this
module writes the same text directly. Nothing is cut: when the table is wider than ``width``, a
last column marked ``overflow="fold"`` (the Note column) moves onto an indented line under its row.

>>> from rich import box
>>> from rich.table import Table
>>> t = Table(title="T", box=box.SIMPLE_HEAD, title_justify="left")
>>> t.add_column("a"); t.add_column("n", justify="right"); t.add_row("x", "10")
>>> print(text(t))
T
<BLANKLINE>
  a    n
 ────────
  x   10
<BLANKLINE>
"""

from __future__ import annotations


def fits(table) -> bool:
    """True when ``text`` renders ``table`` as rich would: a SIMPLE_HEAD box and plain-string cells."""
    from rich import box

    if table.box is not box.SIMPLE_HEAD or not table.show_header or not table.show_edge:
        return False
    if tuple(table.padding) not in ((0, 1), (0, 1, 0, 1)):
        return False
    return all(isinstance(c.header, str) and all(isinstance(v, str) for v in c._cells) for c in table.columns)


def _line(cells, widths, justs) -> str:
    parts = [c.rjust(w) if j == "right" else c.ljust(w) for c, w, j in zip(cells, widths, justs)]
    return ("  " + "   ".join(parts)).rstrip()


def text(table, width: int | None = None) -> str:
    """The table as plain lines (no trailing blanks); ``width`` None means as wide as it needs."""
    columns = list(table.columns)
    headers = [c.header for c in columns]
    rows = list(zip(*(c._cells for c in columns))) if columns else []
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    justs = [c.justify for c in columns]
    folded = None
    total = sum(widths) + 3 * len(widths) + 1
    if width is not None and total > width and len(columns) > 1 and columns[-1].overflow == "fold":
        folded = [r[-1] for r in rows]  # the last column goes under its row, indented
        headers, widths, justs = headers[:-1], widths[:-1], justs[:-1]
        rows = [r[:-1] for r in rows]
        total = sum(widths) + 3 * len(widths) + 1
        folded_label = columns[-1].header
    out = []
    if table.title:
        out.append(str(table.title))
        out.append("")
    else:
        out.append("")
    out.append(_line(headers, widths, justs))
    out.append(" " + "─" * (total - 2))
    for k, r in enumerate(rows):
        out.append(_line(r, widths, justs))
        if folded and folded[k]:
            out.append(f"      {folded_label}: {folded[k]}")
    out.append("")
    if table.caption:
        out.extend(str(table.caption).splitlines())
    return "\n".join(out)
