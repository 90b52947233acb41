"""Symbols in specs and the nodes that hold them: ``Sym`` (``{k}``), ``Repeat`` (``(c3,p2)*{n}``),
``Schedule`` (``c{k}d2^0..{m}``), and ``bind``/``symbols_of`` over layer tuples.

>>> symbols_of((Repeat((Schedule(object(), 0, Sym("m")),), Sym("n")),))
('m', 'n')
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .errors import SpecError, SymbolError


@dataclass(frozen=True, slots=True)
class Sym:
    """A named positive integer in a spec, written ``{name}``."""

    name: str

    def __str__(self) -> str:
        return "{" + self.name + "}"


Dim = int | Sym


@dataclass(frozen=True, slots=True)
class Repeat:
    """``body`` repeated ``count`` times; only kept when ``count`` is a symbol."""

    body: tuple
    count: Dim


@dataclass(frozen=True, slots=True)
class Schedule:
    """``layer`` once per dilation ``2**e`` for ``e`` from ``first`` to ``last`` (inclusive); kept only
    when an exponent is a symbol (numeric schedules are unrolled by the parser)."""

    layer: object
    first: Dim
    last: Dim


def _with_dilation(layer, d: int):
    return replace(layer, dilation=(d,) * len(layer.kernel))


MAX_LAYERS = 100_000  # a spec that expands past this is refused before anything is built


def _subst(value, values: dict):
    if isinstance(value, Sym):
        if value.name not in values:
            return value
        n = values[value.name]
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise SymbolError(f"symbol {value} must be bound to a positive integer. Received: {value.name}={n!r}")
        return n
    if isinstance(value, tuple):
        return tuple(_subst(v, values) for v in value)
    return value


def symbols_of(nodes) -> tuple[str, ...]:
    """Names of the symbols in a layer tuple, in order of first appearance.

    >>> from rfcalc.layers import Conv
    >>> symbols_of((Conv((Sym("k"), Sym("k")), filters=Sym("C")),))
    ('k', 'C')
    """
    seen: dict[str, None] = {}

    def walk(value):
        if isinstance(value, Sym):
            seen.setdefault(value.name)
        elif isinstance(value, tuple):
            for v in value:
                walk(v)
        elif isinstance(value, Repeat):
            walk(value.body)
            walk(value.count)
        elif hasattr(value, "__dataclass_fields__"):
            for name in value.__dataclass_fields__:
                walk(getattr(value, name))

    walk(tuple(nodes))
    return tuple(seen)


def bind(nodes, values: dict) -> tuple:
    """Substitute numbers for symbols and unroll repeats whose count became a number.

    >>> from rfcalc.layers import Conv
    >>> bind((Repeat((Conv((Sym("k"), Sym("k"))),), Sym("n")),), {"k": 5, "n": 2})
    (Conv(kernel=(5, 5), stride=(1, 1), dilation=(1, 1), filters=32, padding='same', activation='relu', use_bias=True), Conv(kernel=(5, 5), stride=(1, 1), dilation=(1, 1), filters=32, padding='same', activation='relu', use_bias=True))
    """
    out: list = []

    def emit(node):
        if isinstance(node, Repeat):
            body = bind(node.body, values)
            count = _subst(node.count, values)
            if isinstance(count, Sym):
                out.append(Repeat(body, count))
                return
            if len(out) + len(body) * count > MAX_LAYERS:
                raise SpecError(
                    f"the spec expands to {len(body) * count:,} layers; rfcalc analyses at most {MAX_LAYERS:,}"
                )
            out.extend(body * count)
            return
        if isinstance(node, Schedule):
            layer, first, last = bind((node.layer,), values)[0], _subst(node.first, values), _subst(node.last, values)
            if isinstance(first, Sym) or isinstance(last, Sym):
                out.append(Schedule(layer, first, last))
                return
            if last < first:
                raise SpecError(
                    f"a dilation schedule d2^{first}..{last} runs backwards; write the smaller exponent first"
                )
            if last - first + 1 + len(out) > MAX_LAYERS:
                raise SpecError(
                    f"the schedule d2^{first}..{last} expands to {last - first + 1:,} layers; "
                    f"rfcalc analyses at most {MAX_LAYERS:,}"
                )
            out.extend(_with_dilation(layer, 2**e) for e in range(first, last + 1))
            return
        changes = {f.name: _subst(getattr(node, f.name), values) for f in fields(node)}
        out.append(replace(node, **changes) if changes else node)

    for node in nodes:
        emit(node)
    return tuple(out)
