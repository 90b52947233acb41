"""Several specs side by side: field, shape, parameters and MACs, with ratios to the first.

>>> c = compare(["c7", "c3*3"], input_shape=(32, 32, 3))
>>> [(e.analysis.rf, e.kernel_weights) for e in c.entries]
[((7, 7), 49), ((7, 7), 27)]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import cast

from .analysis import Analysis, analyze
from .layers import Conv, ConvTranspose, DepthwiseConv, SeparableConv


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


@dataclass(frozen=True, slots=True)
class Entry:
    analysis: Analysis
    kernel_weights: int

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
    entries: tuple[Entry, ...]

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
                }
            )
        return {"input_shape": list(base.analysis.input_shape), "specs": out}

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

    def __rich__(self):
        from rich import box
        from rich.table import Table

        from .dsl import describe_input
        from .render import fmt_field, fmt_int, fmt_jump, fmt_shape

        base = self.entries[0]
        shape = base.analysis.input_shape
        words = f"a {'x'.join(map(str, shape))} input" if len(shape) == 3 else describe_input(shape)
        t = Table(title=f"Compared on {words} (ratios to the first spec)", title_justify="left", box=box.SIMPLE_HEAD)
        for head in ("Spec", "RF", "Jump", "Output Shape", "Params", "x", "MACs", "x", "k·k weights", "x"):
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
            )
        t.caption = (
            "k·k weights: kernel weights per input/output channel pair, summed over conv layers "
            "(c7: 49; c3*3: 27 for the same 7x7 field)"
        )
        t.caption_justify = "left"
        return t


def compare(specs, input_shape=(32, 32, 3), head=None, symbols=None) -> Comparison:
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
        entries.append(Entry(a, kernel_weights(a)))
    return Comparison(tuple(entries))
