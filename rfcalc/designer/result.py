"""The result of ``rfcalc.design``: the front's rows (each an ``Analysis``) and what the search covered.

It renders itself as text, a rich table, and HTML in a notebook; ``to_dict`` is the ``--json`` output.

>>> from rfcalc.designer.api import design
>>> print(str(design(32, max_depth=6)).splitlines()[0])
Cheapest stacks of 'c3,c5,p2' that reach a 32x32 field on a 32x32x3 input
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..analysis import Analysis

OBJECTIVES = ("params", "macs", "depth")


@dataclass(frozen=True, slots=True)
class DesignRow:
    """One stack of the front: its analysis (head included), depth, the stack's own spec, the objectives it wins."""

    analysis: Analysis
    depth: int
    stack: str
    wins: tuple = ()

    @property
    def spec(self) -> str:
        """The spec to give ``rfcalc`` (head included) that prints exactly this row's numbers."""
        return self.analysis.spec

    @property
    def params(self) -> int:
        return self.analysis.total_params

    @property
    def macs(self) -> int:
        return self.analysis.total_macs

    @property
    def output_shape(self) -> tuple:
        """The stack's output (the last spatial layer's), not the head's."""
        last = next(r for r in reversed(self.analysis.layers) if r.spatial)
        return last.output_shape

    def cost(self, objective: str) -> tuple:
        """The sort key for ``objective``: it first, then the other two."""
        rest = [o for o in OBJECTIVES if o != objective]
        return tuple(getattr(self, o) for o in (objective, *rest)) + (self.spec,)

    def to_dict(self) -> dict:
        return {
            **self.analysis.to_dict(),
            "depth": self.depth,
            "stack": self.stack,
            "stack_output_shape": list(self.output_shape),
            "wins": list(self.wins),
        }


def _dims(values) -> str:
    return "x".join(str(v) for v in values)


@dataclass(frozen=True, slots=True)
class Design:
    """The Pareto front, sorted by the objective to minimize, and the search's account of itself."""

    rows: tuple  # every row of the front, best first
    minimize: str
    top: int | None
    input_shape: tuple
    target: str
    space: str
    mode: str
    head: str | None
    proven: bool
    goal: object  # the search.Goal searched for
    cuts: tuple
    stacks: int
    states: int
    labels: int
    transitions: int
    seconds: float

    @classmethod
    def build(cls, rows, *, minimize, top, input_shape, goal, limits, space, mode, head, outcome, stacks, seconds):
        winners = {o: min(rows, key=lambda r: r.cost(o)) for o in OBJECTIVES}
        marked = tuple(
            DesignRow(r.analysis, r.depth, r.stack, tuple(o for o in OBJECTIVES if winners[o] is r)) for r in rows
        )
        marked = tuple(sorted(marked, key=lambda r: r.cost(minimize)))
        target = "cover the whole input" if goal.cover else f"reach a {_dims(goal.rf)} field"
        bounds = [f"depth <= {limits.max_depth}"]
        if limits.max_params is not None:
            bounds.append(f"params <= {limits.max_params:,}")
        if limits.max_macs is not None:
            bounds.append(f"MACs <= {limits.max_macs:,}")
        if goal.min_output is not None:
            bounds.append(f"output >= {_dims(goal.min_output)}")
        return cls(
            marked,
            minimize,
            top,
            tuple(input_shape),
            f"{target} ({', '.join(bounds)})",
            space,
            mode,
            head,
            outcome.proven,
            goal,
            outcome.cuts,
            stacks,
            outcome.states,
            outcome.labels,
            outcome.transitions,
            seconds,
        )

    def best(self, objective: str = "params") -> DesignRow:
        """The row that wins ``objective`` (ties broken by the other two objectives)."""
        return min(self.rows, key=lambda r: r.cost(objective))

    @property
    def shown(self) -> tuple:
        return self.rows if self.top is None else self.rows[: self.top]

    def notes(self) -> list[str]:
        """The lines under the table: what was searched, which bounds cut it, whether it is proven."""
        kind = "stacks like" if self.mode == "like" else "stacks of"
        lines = [
            f"Searched all {self.stacks:,} {kind} {self.space!r} within the bounds through "
            f"{self.states:,} states ({self.labels:,} labels, {self.transitions:,} layer steps) "
            f"in {self.seconds:.2f} s."
        ]
        bound = [c for c in self.cuts if c in ("depth", "params", "macs", "min-output")]
        if bound:
            lines.append(f"Bounds that cut the search: {', '.join(bound)} (stacks past them were not considered).")
        if not self.proven:
            stop = [c for c in self.cuts if c in ("states", "time")]
            lines.append(
                f"NOT PROVEN OPTIMAL: the search stopped at its {' and '.join(stop)} limit; "
                f"these are the best stacks found before it."
            )
        else:
            lines.append("Exact: no stack in this space beats these on params, MACs and depth at once.")
        if self.top is not None and len(self.rows) > self.top:
            lines.append(f"{len(self.rows) - self.top} more stacks on the front (--top to show them).")
        h = " --head " + self.head if self.head else ""
        lines.append(
            f"Each spec reproduces its row: rfcalc SPEC --input {_dims(self.input_shape)}"
            + (f" (the spec includes the head{h.replace(' --head', '')})" if self.head else "")
        )
        return lines

    def title(self) -> str:
        what = "stacks like" if self.mode == "like" else "stacks of"
        return f"Cheapest {what} {self.space!r} that {self.target.split(' (')[0]} on a {_dims(self.input_shape)} input"

    def cells(self, row: DesignRow) -> list[str]:
        a = row.analysis
        return [
            a.spec,
            f"{row.params:,}",
            f"{row.macs:,}",
            str(row.depth),
            _dims(a.rf),
            _dims(row.output_shape),
            ", ".join(row.wins),
        ]

    HEADERS = ("Spec", "Params", "MACs", "Depth", "RF", "Output", "Best for")

    def to_dict(self) -> dict:
        """The ``--json`` output: the front as ``Analysis.to_dict()`` summaries plus the search's numbers."""
        return {
            "target": self.target,
            "input_shape": list(self.input_shape),
            "mode": self.mode,
            "space": self.space,
            "minimize": self.minimize,
            "search": {
                "proven_optimal": self.proven,
                "cuts": list(self.cuts),
                "stacks": self.stacks,
                "states": self.states,
                "labels": self.labels,
                "transitions": self.transitions,
                "seconds": round(self.seconds, 4),
                "front_size": len(self.rows),
            },
            "front": [r.to_dict() for r in self.shown],
        }

    def __rich__(self):
        from rich import box
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        t = Table(box=box.SIMPLE_HEAD)
        for head in self.HEADERS:
            t.add_column(head, justify="left" if head in ("Spec", "Output", "Best for") else "right")
        for row in self.shown:
            t.add_row(*self.cells(row))
        marks = [Text(line, style="bold red" if line.startswith("NOT PROVEN") else "") for line in self.notes()]
        return Group(Text(self.title(), style="bold"), t, *marks)

    def __str__(self) -> str:
        from ..render import plain

        return plain(self, width=140)

    def __repr__(self) -> str:
        return (
            f"Design({self.title()!r}, rows={len(self.rows)}, proven={self.proven}, "
            f"best={self.best(self.minimize).spec!r})"
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th>{esc(h)}</th>" for h in self.HEADERS)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in self.cells(r)) + "</tr>" for r in self.shown)
        notes = "<br>".join(esc(line) for line in self.notes())
        return (
            f"<div><b>{esc(self.title())}</b><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table><p>{notes}</p></div>"
        )
