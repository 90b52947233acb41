"""Closed forms next to a design: how many layers of a regular family reach the target field.

For each stride-1 convolution ``c`` of the vocabulary, the family ``c*{n}`` has field
``1 + n·(k_eff − 1)``, so the least ``n`` for a field R is ``⌈(R − 1)/(k_eff − 1)⌉`` ((R−1)/2 for
3x3). With a pooling ``p`` after every ``m`` convolutions the family ``(c*{m},p)*{n}`` has the
field ``rfcalc.symbolic`` derives; the least ``n`` is the ceiling of its solution for R. Like
``symbolic``, this module imports sympy, and only the ``--symbolic`` path loads it.

>>> from rfcalc.designer.api import design
>>> f = families(design(32, layers="c3,p2", max_depth=8))
>>> f.rows[0].family, str(f.rows[0].least), f.rows[0].count
('c3*{n}', 'ceiling(R/2 - 1/2)', 16)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from ..analysis import analyze
from ..dsl import format_layer
from ..layers import Conv, DepthwiseConv, Pool, SeparableConv
from ..symbolic import closed_forms, symbol
from .space import like as like_space, space as free_space

MS = (1, 2, 3)  # convolutions per pooling shown for the (c*m, p)*n families


@dataclass(frozen=True)
class FamilyRow:
    """One family: its spec with symbols, field formula, least count formula, and the count and stack for R."""

    family: str
    rf: object  # sympy expression of the field
    least: object  # sympy expression of the least count in R (None: no closed form)
    count: int | None  # the least count for the design's target
    spec: str | None  # the stack it gives, with its numbers
    params: int | None
    macs: int | None
    rf_value: int | None


@dataclass(frozen=True)
class Families:
    """Closed forms for the regular families of a design's vocabulary, at its target field R."""

    target: int
    rows: tuple

    def to_dict(self) -> dict:
        return {
            "R": self.target,
            "families": [
                {
                    "family": r.family,
                    "rf": str(r.rf),
                    "least_count": None if r.least is None else str(r.least),
                    "count": r.count,
                    "spec": r.spec,
                    "params": r.params,
                    "macs": r.macs,
                    "rf_value": r.rf_value,
                }
                for r in self.rows
            ],
        }

    def _cells(self, r: FamilyRow) -> list[str]:
        num = lambda v: "-" if v is None else f"{v:,}"
        return [
            r.family,
            str(r.rf),
            "-" if r.least is None else str(r.least),
            num(r.count),
            r.spec or "-",
            num(r.params),
            num(r.macs),
        ]

    def __rich__(self):
        from rich import box
        from rich.table import Table

        t = Table(
            title=f"Closed forms (R = {self.target}: the least field per axis)",
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        for head in ("Family", "RF", "Least n for R", "n", "Stack", "Params", "MACs"):
            t.add_column(head, justify="right" if head in ("n", "Params", "MACs") else "left")
        for r in self.rows:
            t.add_row(*self._cells(r))
        return t

    def __str__(self) -> str:
        from ..render import plain

        return plain(self, width=140)


def _stride_one_convs(layers):
    return [c for c in layers if isinstance(c, (Conv, DepthwiseConv, SeparableConv)) and set(c.stride) == {1}]


def _pools(layers):
    return [p for p in layers if isinstance(p, Pool) and p.stride == p.kernel and len(set(p.kernel)) == 1]


def _least(expr, n, R):
    """The least integer n with expr(n) >= R, as a formula in R: fields grow as a·n + b or a·S^n + b."""
    a, b, s = (sp.Wild(name, exclude=[n]) for name in "abs")
    linear = sp.expand(expr).match(a * n + b)
    if linear and linear[a] != 0:
        return sp.ceiling((R - linear[b]) / linear[a])
    power = sp.expand(expr).match(a * s**n + b)
    if power and power[a] != 0 and power[s].is_Integer and power[s] > 1:
        return sp.ceiling(sp.log((R - power[b]) / power[a]) / sp.log(power[s]))
    return None


def _count(cf, given: dict, target: int, limit: int = 64):
    """The least n (1..limit) whose field reaches ``target`` on both axes, by exact substitution."""
    for n in range(1, limit + 1):
        rf = cf.substitute(n=n, **given)["rf"]
        if all(isinstance(v, int) and v >= target for v in rf):
            return n
    return None


def _row(family: str, stack_of, given: dict, target: int, shape) -> FamilyRow:
    cf = closed_forms(family)
    n, R = symbol("n"), sp.Symbol("R", positive=True)
    expr = cf.rf[0].subs({symbol(k): v for k, v in given.items()})
    least = _least(expr, n, R)
    count = int(least.subs(R, target)) if least is not None else _count(cf, given, target)
    spec = params = macs = rf_value = None
    if count is not None:
        spec = stack_of(count)
        try:
            a = analyze(spec, input_shape=shape)
            params, macs, rf_value = a.total_params, a.total_macs, min(a.rf)
        except ValueError:  # an RFError: the family runs out of input before reaching R
            spec = f"{spec} (does not fit the input)"
    if "m" in given:
        family = family.replace("*{m}", "" if given["m"] == 1 else f"*{given['m']}")
    return FamilyRow(family, expr, least, count, spec, params, macs, rf_value)


def _planar(layer):
    """The 2-D layer with the same per-axis numbers (closed forms are derived on 2-D specs; the field per
    axis does not depend on the rank, and causal padding only moves it)."""
    if len(layer.kernel) == 2:
        return layer
    pick = lambda v: (v[0], v[0])
    changes = {"kernel": pick(layer.kernel), "stride": pick(layer.stride)}
    if not isinstance(layer, Pool):
        changes["dilation"] = pick(layer.dilation)
    if layer.padding == "causal":
        changes["padding"] = "same"
    return replace(layer, **changes)


def _doubling(c, target: int, shape) -> FamilyRow:
    """``c`` with dilations 1, 2, 4, ... 2^(n−1) (a WaveNet stack): field 1 + (k−1)(2^n − 1)."""
    n, R = symbol("n"), sp.Symbol("R", positive=True)
    k = c.kernel[0]
    rf = 1 + (k - 1) * (2**n - 1)
    count = next((i for i in range(1, 64) if 1 + (k - 1) * (2**i - 1) >= target), None)
    base = format_layer(replace(c, dilation=(1,) * len(c.kernel)))
    spec = params = macs = rf_value = None
    if count is not None:
        spec = ",".join(format_layer(replace(c, dilation=(2**i,) * len(c.kernel))) for i in range(count))
        a = analyze(spec, input_shape=shape)
        spec, params, macs, rf_value = a.spec, a.total_params, a.total_macs, min(a.rf)
    least = sp.ceiling(sp.log((R - 1) / (k - 1) + 1) / sp.log(2))
    return FamilyRow(f"{base} at d1, d2, .., d2^(n-1)", rf, least, count, spec, params, macs, rf_value)


def families(design) -> Families:
    """Closed forms for the vocabulary of a ``Design`` (its layers, or its template's kinds)."""
    shape = design.input_shape
    sizes = shape[:-1]
    rank = len(sizes)
    grammar = like_space(design.space, rank=rank) if design.mode == "like" else free_space(design.space, rank=rank)
    target = max(design.goal.rf) if design.goal.rf is not None else max(sizes)  # cover needs rf >= the input
    rows = []
    convs = list(dict.fromkeys(_stride_one_convs(grammar.choices)))
    pools = list(dict.fromkeys(_pools(grammar.choices)))
    plain = [c for c in convs if set(c.dilation) == {1}]
    for c in plain:
        if any(replace(c, dilation=(2,) * rank) == other for other in convs):  # a d* token: its doubling schedule
            rows.append(_doubling(c, target, shape))
    for c in plain or convs[:1]:
        tok, flat = format_layer(c), format_layer(_planar(c))
        rows.append(_row(f"{flat}*{{n}}", lambda n, tok=tok: f"{tok}*{n}", {}, target, shape))
        for p in pools:
            ptok, pflat = format_layer(p), format_layer(_planar(p))
            for m in MS:
                body = tok if m == 1 else f"{tok}*{m}"
                rows.append(
                    _row(
                        f"({flat}*{{m}},{pflat})*{{n}}",
                        lambda n, body=body, ptok=ptok: f"({body},{ptok})*{n}",
                        {"m": m},
                        target,
                        shape,
                    )
                )
    return Families(target, tuple(rows))
