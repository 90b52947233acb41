"""Several specs side by side: field, shape, parameters and MACs, with ratios to the first.

>>> c = compare(["c7", "c3*3"], input_shape=(32, 32, 3))
>>> [(e.analysis.rf, e.kernel_weights) for e in c.entries]
[((7, 7), 49), ((7, 7), 27)]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import TYPE_CHECKING, cast

from .analysis import Analysis, analyze
from .layers import Conv, ConvTranspose, DepthwiseConv, SeparableConv

if TYPE_CHECKING:
    from .border import Productivity


def kernel_weights(analysis: Analysis) -> int:
    """Spatial kernel weights per (input, output) channel pair, summed over the conv layers: 49 for c7, 27 for c3*3.

    >>> kernel_weights(analyze("c3,c3"))
    18
    """
    total = 0
    for row in analysis.layers:
        if isinstance(row.layer, (Conv, DepthwiseConv, SeparableConv, ConvTranspose)):
            kernel = cast("tuple[int, ...]", row.layer.kernel)  # analysed: every symbol is bound to a number
            total += prod(kernel)  # k·k in 2-D, k in 1-D, k·k·k in 3-D
    return total


def _json_ratio(v):
    """A ratio as a float, or as the exact ``"p/q"`` string when a double cannot hold it."""
    if v is None:
        return None
    try:
        return float(v)
    except OverflowError:
        return f"{v.numerator}/{v.denominator}"


def _text_ratio(v) -> str:
    v = _json_ratio(v)
    return f"{v:.2f}" if isinstance(v, float) else v


@dataclass(frozen=True, slots=True)
class Entry:
    analysis: Analysis
    kernel_weights: int
    productivity: Productivity | None = None  # unproductive layers and the input-size range

    def ratios(self, base: Entry) -> dict:
        """Params, MACs and kernel weights as exact fractions of the first spec's."""

        def ratio(a, b):
            return Fraction(a, b) if b else None

        return {
            "params": ratio(self.analysis.total_params, base.analysis.total_params),
            "macs": ratio(self.analysis.total_macs, base.analysis.total_macs),
            "kernel_weights": ratio(self.kernel_weights, base.kernel_weights),
        }


@dataclass(frozen=True, slots=True)
class Comparison:
    """Specs lined up on one input; ``mode`` says which comparison that is: ``"inside"`` (every conv
    reads as many channels as it writes, C->C, as inside a network), ``"first-layer"`` (the first conv
    reads the image's channels) or ``"input"`` (an input given as it is)."""

    entries: tuple[Entry, ...]
    mode: str = "input"

    def lesson(self) -> str:
        """The line that leads: kernel weights per channel pair (``49C²`` against ``27C²``), and the fields.

        >>> compare(["c7", "c3*3"]).lesson()
        'kernel weights per channel pair: c7 49, c3*3 27 (0.55x); with C channels in and out, 49C² vs 27C² for the same 7x7 field'
        """
        from .render import fmt_field

        base = self.entries[0]
        if any(e.kernel_weights == 0 for e in self.entries):
            return "parameters and MACs with ratios to the first spec"
        parts = [
            f"{e.analysis.spec[:30]} {e.kernel_weights}"
            + ("" if e is base else f" ({_text_ratio(Fraction(e.kernel_weights, base.kernel_weights))}x)")
            for e in self.entries
        ]
        same = len({e.analysis.rf for e in self.entries}) == 1
        field = f" for the same {fmt_field(base.analysis.rf)} field" if same else ""
        costs = " vs ".join(f"{e.kernel_weights}C²" for e in self.entries)
        return f"kernel weights per channel pair: {', '.join(parts)}; with C channels in and out, {costs}{field}"

    def shown(self) -> str:
        """One line: which comparison the table shows."""
        shape = self.entries[0].analysis.input_shape
        x = "x".join(map(str, shape))
        if self.mode == "inside":
            return (
                f"inside a network: every conv reads {shape[-1]} channels and writes its filters "
                f"(C->C on a {x} input); ratios to the first spec; --first-layer: on the image's 3 channels"
            )
        if self.mode == "first-layer":
            return (
                f"as the first layer: the first conv reads the image's {shape[-1]} channels ({x} input), the "
                f"convs after it their filters, so the params ratio is not C->C's; drop --first-layer for that"
            )
        from .dsl import describe_input
        from .words import with_article

        words = with_article(f"{x} input") if len(shape) == 3 else describe_input(shape)
        return f"compared on {words} (ratios to the first spec)"

    def to_dict(self) -> dict:
        base = self.entries[0]
        out = []
        for e in self.entries:
            a = e.analysis
            ratios = {k: _json_ratio(v) for k, v in e.ratios(base).items()}
            out.append(
                {
                    "spec": a.spec,
                    "rf": list(a.rf),
                    "jump": list(a.jump),
                    "output_shape": list(a.output_shape),
                    "params": a.total_params,
                    "macs": a.total_macs,
                    "kernel_weights": e.kernel_weights,
                    "ratio_to_first": ratios,
                    "productivity": e.productivity.to_dict() if e.productivity is not None else None,
                }
            )
        return {"input_shape": list(base.analysis.input_shape), "comparison": self.mode, "specs": out}

    def __repr__(self) -> str:
        specs = ", ".join(repr(e.analysis.spec[:30]) for e in self.entries[:6])
        more = f", ... {len(self.entries) - 6} more" if len(self.entries) > 6 else ""
        return f"Comparison([{specs}{more}], input={'x'.join(map(str, self.entries[0].analysis.input_shape))})"

    def __str__(self) -> str:
        """The table, as ``print(analysis)`` prints an analysis."""
        from .render import plain

        return plain(self)

    def _repr_html_(self) -> str:
        """The same table as ``__rich__``, as HTML for notebooks."""
        import html

        t = self.__rich__()
        cells = [[html.escape(str(c)) for c in col._cells] for col in t.columns]
        head = "".join(f"<th>{html.escape(str(col.header))}</th>" for col in t.columns)
        body = "".join("<tr>" + "".join(f"<td>{col[i]}</td>" for col in cells) + "</tr>" for i in range(t.row_count))
        return (
            f"<div><b>{html.escape(str(t.title))}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table><p>{html.escape(str(t.caption))}</p></div>"
        )

    def __grid__(self, lang: str = "en"):
        """The table as a ``textable.Grid`` that fits a width (the same rows as ``__rich__``), in ``lang``."""
        from .render import grid_of
        from .tablewords import translate

        return translate(grid_of(self.__rich__()), lang, COMPARE_STEPS)

    def __rich__(self):
        from rich import box
        from rich.table import Table

        from .render import fmt_field, fmt_int, fmt_jump, fmt_range, fmt_shape

        base = self.entries[0]
        shown = self.shown()
        t = Table(title=f"{self.lesson()}\n{shown[0].upper()}{shown[1:]}", title_justify="left", box=box.SIMPLE_HEAD)
        for head in (
            "Spec",
            "RF",
            "Jump",
            "Output Shape",
            "Params",
            "x",
            "MACs",
            "x",
            "k·k weights",
            "x",
            "Unprod.",
            "Sizes",
        ):
            t.add_column(head, justify="left" if head in ("Spec", "Output Shape") else "right")

        def x(v):
            v = _json_ratio(v)
            return "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else v)

        for e in self.entries:
            a, r = e.analysis, e.ratios(base)
            t.add_row(
                a.spec,
                fmt_field(a.rf),
                fmt_jump(a.jump),
                fmt_shape(a.output_shape),
                fmt_int(a.total_params),
                x(r["params"]),
                fmt_int(a.total_macs),
                x(r["macs"]),
                fmt_int(e.kernel_weights),
                x(r["kernel_weights"]),
                str(len(e.productivity.unproductive_rows)) if e.productivity else "-",
                fmt_range(e.productivity, short=True) if e.productivity else "-",
            )
        t.caption = (
            "k·k weights: kernel weights per input/output channel pair, summed over conv layers "
            "(c7: 49; c3*3: 27 for the same 7x7 field)\n"
            "Unprod.: layers that read a field wider than the input (from the border layer on); "
            "Sizes: input sizes with every layer productive and the last field covering the input "
            "(docs/productivity.md)"
        )
        t.caption_justify = "left"
        return t


COMPARE_STEPS = (
    ("short", "Output Shape"),
    ("drop", "Sizes"),
    ("drop", "Jump"),
    ("drop", "MACs x"),
    ("drop", "MACs"),
    ("wrap", "Spec"),
    ("drop", "Output Shape"),
    ("drop", "Unprod."),
    ("drop", "Params x"),
)


def compare(specs, input_shape=(32, 32, 3), head=None, symbols=None, mode="input") -> Comparison:
    """Analyse each spec on the same input and line them up.

    >>> compare(["c5", "c3*2"]).to_dict()["specs"][1]["ratio_to_first"]["kernel_weights"]
    0.72
    """
    specs = list(specs)
    if not specs:
        from .errors import SpecError

        raise SpecError("compare needs at least one spec")
    entries = []
    for spec in specs:
        a = spec if isinstance(spec, Analysis) else analyze(spec, input_shape, head, symbols)
        entries.append(Entry(a, kernel_weights(a), a.productivity()))
    return Comparison(tuple(entries), mode)
