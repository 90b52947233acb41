"""Closed forms with sympy: receptive field, jump, output size, parameters and MACs of a spec
whose numbers may be symbols (``c{k}*{n}``, ``(c3,p2)*{n}``, ``c3-{C}``) on a symbolic input H×W.

The per-layer formulas are those of ``rfcalc.arithmetic``, run on sympy expressions. A repeat
with a symbolic count is solved as a recurrence: a body that grows the field by ``a·j`` and
multiplies the jump by ``m`` gives ``rf + a·j·(m^n − 1)/(m − 1)`` after ``n`` repetitions.
This is the only module that imports sympy.

>>> closed_forms("c{k}*{n}").rf[0]
n*(k - 1) + 1
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from . import arithmetic as A
from .dsl import format_spec, parse
from .errors import ShapeError, SpecError, SymbolError
from .layers import (
    SPATIAL,
    BatchNorm,
    Conv,
    ConvTranspose,
    Crop,
    Dense,
    DepthwiseConv,
    Flatten,
    GlobalPool,
    Identity,
    Pool,
    Repeat,
    Schedule,
    Sym,
    Upsample,
    ZeroPad,
    symbols_of,
)

INPUT_NAMES = ("H", "W", "C_in")  # C_in, not C: specs often name their filters {C}
RANK_NAMES = {1: ("L", "C_in"), 2: INPUT_NAMES, 3: ("D", "H", "W", "C_in")}
AXIS_LETTERS = {1: ("l",), 2: ("h", "w"), 3: ("d", "h", "w")}


def symbol(name: str) -> sp.Symbol:
    """The sympy symbol for a spec symbol ``{name}``: a positive integer.

    >>> symbol("k").is_integer, symbol("k").is_positive
    (True, True)
    """
    return sp.Symbol(name, integer=True, positive=True)


def _num(v):
    return symbol(v.name) if isinstance(v, Sym) else sp.Integer(v)


def _tidy(e):
    """Rewrite ``-floor(-x)`` (what ``ceil_div`` builds) as ``ceiling(x)``, then merge nested roundings."""
    if e is None or not isinstance(e, sp.Basic):
        return e
    e = e.replace(
        lambda t: t.is_Mul and len(t.args) == 2 and t.args[0] == -1 and isinstance(t.args[1], sp.floor),
        lambda t: sp.ceiling(-t.args[1].args[0]),
    )
    return _collapse(e)


def _linear(e, x):
    """``(q, r)`` when ``e`` is ``q·x + r`` with ``q`` nonzero and free of ``x``; else None."""
    q, r = sp.diff(e, x), e.subs(x, 0)
    if q.has(x) or sp.expand(e - q * x - r) != 0 or q == 0:
        return None
    return q, r


def _collapse(e):
    """``F((F(y) + b)/m) = F((y + b)/m)`` for F floor or ceiling, integer b, positive integer m."""
    if e.is_Add:
        return sp.Add(*[_collapse(t) for t in e.args])
    if not isinstance(e, (sp.floor, sp.ceiling)):
        return e
    arg = e.args[0]
    inner = [g for g in arg.atoms(type(e))]
    if len(inner) != 1:
        return e
    g, t = inner[0], sp.Dummy("t")
    line = arg.subs(g, t)
    qr = _linear(line, t)
    if qr is None:
        return e
    q, r = qr
    if (1 / q).is_integer and (1 / q).is_positive and (r == 0 or (r / q).is_integer):
        return _collapse(type(e)(line.subs(t, g.args[0])))
    return e


def _geometric(m, n):
    """``1 + m + ... + m^(n−1)``; a Piecewise when ``m`` is a symbol that may be 1."""
    if m == 1:
        return n
    if m.is_number:
        return (m**n - 1) / (m - 1)
    return sp.Piecewise((n, sp.Eq(m, 1)), ((m**n - 1) / (m - 1), True))


def _prod(values):
    out = sp.Integer(1)
    for v in values:
        out = out * v
    return out


def _out_size(n, k_eff, s, padding):
    """The output length on one axis for every padding kind (arithmetic's formulas, on sympy)."""
    if padding == "same":
        return A.output_size(n, k_eff, s, padding)
    before, after = A.window_padding(n, k_eff, s, padding)
    return A.padded_output_size(n, k_eff, s, before, after)


@dataclass(frozen=True)
class _State:
    size: tuple  # spatial sizes of the last spatial tensor; an entry is None when it has no closed form
    rf: tuple
    jump: tuple
    channels: Any  # last axis (features after Flatten), a sympy expression; None when unknown
    spatial: bool = True
    params: Any = sp.Integer(0)  # sympy expressions; None when there is no closed form
    macs: Any = sp.Integer(0)
    notes: tuple = ()


def _add(total, part):
    return None if total is None or part is None else total + part


def _note(st: _State, text: str) -> _State:
    return st if text in st.notes else replace(st, notes=st.notes + (text,))


def _need_spatial(layer, st: _State) -> None:
    if not st.spatial:
        name = layer.keras_class
        raise ShapeError(
            f"{name} needs a spatial input (H, W, C); the spatial extent ended earlier. "
            f"Received: {name} after Flatten/GlobalPooling"
        )


def _windowed(layer, st: _State) -> _State:
    name = layer.keras_class
    _need_spatial(layer, st)
    dil = layer.dilation
    size, rf, jump = [], [], []
    if len(layer.kernel) != len(st.size):
        raise ShapeError(f"{name} needs a {len(layer.kernel)}-D input. Received: a {len(st.size)}-D input")
    for axis in range(len(st.size)):
        k, s, d = _num(layer.kernel[axis]), _num(layer.stride[axis]), _num(dil[axis])
        k_eff = A.effective_kernel(k, d)
        n = st.size[axis]
        pad = layer.padding[axis] if isinstance(layer.padding, tuple) else layer.padding
        out = None if n is None else _tidy(_out_size(n, k_eff, s, pad))
        if out is not None and out.is_number and out < 1:
            raise ShapeError(
                f"{name}: a {k_eff}-pixel window does not fit its {n}-pixel input with 'valid' "
                f"padding. Received: kernel={tuple(layer.kernel)}, input size {n}"
            )
        size.append(out)
        rf.append(st.rf[axis] + (k_eff - 1) * st.jump[axis])  # arithmetic.rf_step, without the Fraction centre
        jump.append(st.jump[axis] * s)
    # the 2-D formulas are products: a kernel of any rank enters as its tap count, the output as its positions
    kh, kw, c = _prod(_num(v) for v in layer.kernel), 1, st.channels
    known = c is not None and None not in size
    oh, ow = (_prod(size), 1) if None not in size else (None, None)
    if isinstance(layer, Pool):
        params, macs, c_out = sp.Integer(0), sp.Integer(0), c
    elif isinstance(layer, Conv):
        f = _num(layer.filters)
        params = None if c is None else A.conv_params(kh, kw, c, f, layer.use_bias)
        macs = A.conv_macs(oh, ow, kh, kw, c, f) if known else None
        c_out = f
    elif isinstance(layer, DepthwiseConv):
        m = _num(layer.depth_multiplier)
        params = None if c is None else A.depthwise_params(kh, kw, c, m, layer.use_bias)
        macs = A.depthwise_macs(oh, ow, kh, kw, c, m) if known else None
        c_out = None if c is None else c * m
    else:
        f, m = _num(layer.filters), _num(layer.depth_multiplier)
        params = None if c is None else A.separable_params(kh, kw, c, f, m, layer.use_bias)
        macs = A.separable_macs(oh, ow, kh, kw, c, f, m) if known else None
        c_out = f
    return replace(
        st,
        size=tuple(size),
        rf=tuple(rf),
        jump=tuple(jump),
        channels=c_out,
        params=_add(st.params, params),
        macs=_add(st.macs, macs),
    )


def _schedule(node: Schedule, st: _State) -> _State:
    """Dilations 2^a .. 2^b (stride 1): the field grows by (k − 1)·(2^(b+1) − 2^a)·j on each axis."""
    layer: Any = node.layer  # a conv: symbols.Schedule cannot name the classes of layers.py
    token = format_spec((node,))
    _need_spatial(layer, st)
    if any(v != 1 for v in layer.stride):
        raise SpecError(f"a symbolic dilation schedule needs stride 1. Received: {token}")
    a, b = _num(node.first), _num(node.last)
    count, growth = b - a + 1, 2 ** (b + 1) - 2**a
    size, rf = [], []
    for axis in range(len(st.size)):
        k_eff_sum = (_num(layer.kernel[axis]) - 1) * growth
        rf.append(st.rf[axis] + k_eff_sum * st.jump[axis])
        n = st.size[axis]
        size.append(None if n is None else n if layer.padding in ("same", "causal") else n - k_eff_sum)
    first = _windowed(layer, replace(st, params=sp.Integer(0), macs=sp.Integer(0)))
    later = _windowed(layer, replace(st, channels=first.channels, params=sp.Integer(0), macs=sp.Integer(0)))
    params = None if None in (first.params, later.params) else first.params + (count - 1) * later.params
    same = layer.padding in ("same", "causal")
    macs = first.macs + (count - 1) * later.macs if same and None not in (first.macs, later.macs) else None
    out = (
        st if macs is not None else _note(st, f"the MACs of {token} have no closed form ('valid' shrinks every layer)")
    )
    return replace(
        out,
        size=tuple(size),
        rf=tuple(rf),
        channels=later.channels,
        params=_add(st.params, params),
        macs=_add(st.macs, macs),
    )


def _step(layer, st: _State) -> _State:
    if isinstance(layer, Repeat):
        return _repeat(layer, st)
    if isinstance(layer, Schedule):
        return _schedule(layer, st)
    if isinstance(layer, (Upsample, ConvTranspose)):
        raise SpecError(
            f"--symbolic follows conv and pooling stacks; {layer.keras_class} makes the field depend on "
            f"the output phase, so analyse it with numbers (--set). Received: {format_spec((layer,))}"
        )
    if isinstance(layer, SPATIAL):
        return _windowed(layer, st)
    if isinstance(layer, (ZeroPad, Crop)):
        _need_spatial(layer, st)
        sign = 1 if isinstance(layer, ZeroPad) else -1
        pads = layer.pads if isinstance(layer, ZeroPad) else layer.crops
        size = tuple(None if n is None else n + sign * (p[0] + p[1]) for n, p in zip(st.size, pads))
        return replace(st, size=size)
    if isinstance(layer, BatchNorm):
        c = st.channels
        return replace(st, params=None if c is None else _add(st.params, sum(A.batchnorm_params(c))))
    if isinstance(layer, Identity):
        return st
    if isinstance(layer, Flatten):
        if not st.spatial:
            return st
        feats = None if None in (*st.size, st.channels) else _prod(st.size) * st.channels
        return replace(st, spatial=False, channels=feats)
    if isinstance(layer, GlobalPool):
        _need_spatial(layer, st)
        return replace(st, spatial=False)
    if isinstance(layer, Dense):
        u, c = _num(layer.units), st.channels
        params = None if c is None else A.dense_params(c, u, layer.use_bias)
        if st.spatial:
            macs = None if None in (*st.size, c) else A.dense_macs(_prod(st.size), c, u)
        else:
            macs = None if c is None else A.dense_macs(1, c, u)
        if c is None:
            st = _note(st, "the input width of a Dense layer has no closed form, so neither have the parameters")
        return replace(st, channels=u, params=_add(st.params, params), macs=_add(st.macs, macs))
    raise TypeError(f"closed_forms: not a layer: {layer!r}")


def _fold(nodes, st: _State) -> _State:
    for node in nodes:
        st = _step(node, st)
    return st


def _size_map(out, x):
    """``(F, m, b)`` when ``out(x)`` is ``F((x + b)/m)`` (F floor, ceiling, or None for ``x + b``); else None."""
    if out is None:
        return None
    c, rest = out.as_independent(x, as_Add=True)
    if not c.is_integer and c != 0:
        return None
    if rest == x:
        return None, sp.Integer(1), c
    if not isinstance(rest, (sp.floor, sp.ceiling)):
        return None
    qr = _linear(rest.args[0], x)
    if qr is None:
        return None
    q, r = qr
    m = 1 / q
    b = sp.expand(r * m + c * m)
    if not (m.is_integer and m.is_positive and (b == 0 or b.is_integer)):
        return None
    return type(rest), m, b


def _repeat(node: Repeat, st: _State) -> _State:
    token = format_spec((node,))
    n = _num(node.count)
    if not st.spatial:
        raise ShapeError(f"a symbolic repeat needs a spatial input. Received: {token} after Flatten")
    if any(isinstance(x, (Flatten, GlobalPool)) for x in node.body):
        raise SpecError(f"a symbolic repeat cannot end the spatial extent. Received: {token}")
    rank = len(st.size)
    xs = tuple(sp.Dummy(f"x{a}", integer=True, positive=True) for a in range(rank))
    probe = _State(size=xs, rf=(sp.Integer(0),) * rank, jump=(sp.Integer(1),) * rank, channels=st.channels)
    first = _fold(node.body, probe)
    later = _fold(node.body, replace(probe, channels=first.channels))
    out = st
    for text in first.notes + later.notes:
        out = _note(out, text)
    rf, jump = [], []
    size: list = []
    iterates: list = []
    for axis in range(rank):
        a, m = first.rf[axis], first.jump[axis]
        rf.append(st.rf[axis] + a * st.jump[axis] * _geometric(m, n))
        jump.append(st.jump[axis] * m**n)
        form = _size_map(first.size[axis], xs[axis])
        s0 = st.size[axis]
        if form is None:
            out = _note(
                out,
                f"the output size of {token} has no closed form in {RANK_NAMES[rank][axis]} "
                "(its body's size map does not compose into one floor or ceiling)",
            )
            size.append(None)
            iterates.append(None)
            continue
        rounding, m_size, b = form
        if s0 is None:
            size.append(None)
        elif rounding is None:
            size.append(s0 + b * n)
        else:
            grow = 0 if b == 0 else b * _geometric(m_size, n)
            size.append(_tidy(rounding((s0 + grow) / m_size**n)))
        iterates.append((rounding, b) if rounding is None or m_size == 1 else None)
    steady = (
        first.channels is not None and later.channels is not None and sp.expand(later.channels - first.channels) == 0
    )
    if not steady:
        out = _note(
            out,
            f"the channels of {token} change with every repetition, so its parameters "
            "and MACs have no closed form here",
        )
    params = macs = None
    if steady and None not in (first.params, later.params):
        params = first.params + (n - 1) * later.params
    if steady and None not in (first.macs, later.macs) and None not in st.size:
        m1 = first.macs.subs({xs[a]: st.size[a] for a in range(rank)})
        if not later.macs.has(*xs):
            macs = m1 + (n - 1) * later.macs
        elif None not in iterates:
            i = sp.Dummy("i", integer=True, positive=True)
            term = later.macs.subs({xs[a]: st.size[a] + iterates[a][1] * i for a in range(rank)})
            total = sp.summation(sp.expand(term), (i, 1, n - 1))
            macs = None if total.has(sp.Sum) else m1 + total
        if macs is None:
            out = _note(out, f"the MACs of {token} have no closed form (the size changes geometrically)")
    return replace(
        out,
        size=tuple(size),
        rf=tuple(rf),
        jump=tuple(jump),
        channels=later.channels if steady else None,
        params=_add(st.params, params),
        macs=_add(st.macs, macs),
    )


def _input(input_shape):
    """Sizes then channels as sympy values: numbers where given, the symbols (L | H, W | D, H, W) and
    C_in where None or named."""
    if input_shape is None:
        input_shape = (None, None, 3)
    if isinstance(input_shape, str):
        parts = re.split(r"\s*[x×,]\s*", input_shape.strip().strip("()"))
        if not 2 <= len(parts) <= 4 or not all(re.fullmatch(r"\d+|[A-Za-z_]\w*", p) for p in parts):
            raise SpecError(
                f"an input shape is sizes then channels, numbers or names: Lx1, HxWx3, DxHxWx3. "
                f"Received: {input_shape!r}"
            )
        input_shape = tuple(int(p) if p.isdigit() else None for p in parts)
    shape = tuple(input_shape)
    if not 2 <= len(shape) <= 4:
        raise SpecError(
            f"input_shape must be (L, C), (H, W, C) or (D, H, W, C); use None for a symbolic size. "
            f"Received: input_shape={shape}"
        )
    out = []
    for name, v in zip(RANK_NAMES[len(shape) - 1], shape):
        if v is None:
            out.append(symbol(name))
        elif isinstance(v, int) and not isinstance(v, bool) and v >= 1:
            out.append(sp.Integer(v))
        else:
            raise SpecError(f"input sizes must be positive integers or None. Received: input_shape={shape}")
    return tuple(out)


def _text(e):
    return None if e is None else str(e)


def _srepr(e):
    return None if e is None else sp.srepr(e)


def read_back(data: dict) -> dict:
    """The sympy expressions of ``ClosedForms.to_dict()`` (its ``"sympy"`` part), for any symbol names.

    >>> read_back(closed_forms("c{lambda}").to_dict())["rf"][0]
    lambda
    """

    def back(v):
        if v is None:
            return None
        if isinstance(v, list):
            return [back(x) for x in v]
        return sp.sympify(v)

    return {key: back(v) for key, v in data["sympy"].items()}


@dataclass(frozen=True)
class ClosedForms:
    """Closed forms of one spec; expressions are sympy, ``None`` where no closed form was found."""

    spec: str
    symbols: tuple  # names: the spec's symbols, then the input's (H, W, C_in) that are symbolic
    input: tuple  # sizes then channels ((H, W, C) in 2-D) as sympy values
    rf: tuple
    jump: tuple
    output_size: tuple  # spatial sizes of the last spatial layer
    channels: object
    params: object
    macs: object
    notes: tuple = ()

    def to_dict(self) -> dict:
        """JSON-able. Each formula twice: as text for people (``"n*(k - 1) + 1"``), and under ``"sympy"``
        as ``sympy.srepr`` with every symbol declared, so that ``sympy.sympify`` reads it back exactly
        whatever the symbols are called (``{E}``, ``{I}``, ``{pi}``, ``{lambda}``: names that plain
        text would turn into constants or keywords). ``read_back`` does it.

        >>> d = closed_forms("c{E}*{n}").to_dict()
        >>> d["rf"][0], read_back(d)["rf"][0] == closed_forms("c{E}*{n}").rf[0]
        ('n*(E - 1) + 1', True)
        """
        exact = {
            "input": [sp.srepr(v) for v in self.input],
            "rf": [_srepr(v) for v in self.rf],
            "jump": [_srepr(v) for v in self.jump],
            "output_size": [_srepr(v) for v in self.output_size],
            "channels": _srepr(self.channels),
            "params": _srepr(self.params),
            "macs": _srepr(self.macs),
        }
        return {
            "spec": self.spec,
            "symbols": list(self.symbols),
            "input": [str(v) for v in self.input],
            "rf": [_text(v) for v in self.rf],
            "jump": [_text(v) for v in self.jump],
            "output_size": [_text(v) for v in self.output_size],
            "channels": _text(self.channels),
            "params": _text(self.params),
            "macs": _text(self.macs),
            "notes": list(self.notes),
            "sympy": exact,
        }

    def substitute(self, **values) -> dict:
        """Numbers for given symbol values; a formula stays symbolic where a value is missing.

        >>> closed_forms("(c3,p2)*{n}").substitute(n=2, H=32, W=32)["rf"]
        (10, 10)
        """
        subs = {}
        for name, v in values.items():
            if name not in self.symbols:
                known = ", ".join(self.symbols) or "none"
                raise SymbolError(
                    f"{name!r} is not a symbol of {self.spec!r} (its symbols: {known}). Received: {name}={v!r}"
                )
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise SymbolError(f"symbol {name} must be a positive integer. Received: {name}={v!r}")
            subs[symbol(name)] = v

        def num(e):
            if e is None:
                return None
            e = e.subs(subs)
            return int(e) if e.is_Integer else e

        return {
            "rf": tuple(num(v) for v in self.rf),
            "jump": tuple(num(v) for v in self.jump),
            "output_size": tuple(num(v) for v in self.output_size),
            "channels": num(self.channels),
            "params": num(self.params),
            "macs": num(self.macs),
        }

    def _lines(self) -> list[tuple[str, str]]:
        def pair(v):
            parts = [str(x) if x is not None else "no closed form" for x in v]
            if all(p == parts[0] for p in parts):
                return parts[0]
            return ", ".join(f"{p} ({axis})" for p, axis in zip(parts, AXIS_LETTERS[len(parts)]))

        return [
            ("input", " x ".join(str(v) for v in self.input)),
            ("receptive field", pair(self.rf)),
            ("jump", pair(self.jump)),
            ("output size", pair(self.output_size)),
            ("channels", _text(self.channels) or "no closed form"),
            ("params", _text(self.params) or "no closed form"),
            ("MACs", _text(self.macs) or "no closed form"),
        ]

    def __str__(self) -> str:
        lines = [f"closed forms of {self.spec}"] + [f"  {k}: {v}" for k, v in self._lines()]
        return "\n".join(lines + [f"  note: {t}" for t in self.notes])

    def __rich__(self):
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"closed forms of {self.spec}", show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for k, v in self._lines():
            table.add_row(k, v)
        return Group(table, *(Text(f"note: {t}", style="dim") for t in self.notes))


def closed_forms(spec, input_shape=None) -> ClosedForms:
    """Closed forms for a spec with symbols on an input of symbolic (None) or given sizes.

    >>> cf = closed_forms("(c3,p2)*{n}")
    >>> cf.rf[0], cf.output_size[0]
    (3*2**n - 2, floor(H/2**n))
    >>> closed_forms("c{k}d2^0..{m}/causal", "Lx1").rf   # m + 1 layers, dilations doubling from 1
    ((2**(m + 1) - 1)*(k - 1) + 1,)
    """
    shape = _input(input_shape)
    *sizes, c = shape
    layers = tuple(spec) if isinstance(spec, (tuple, list)) else parse(spec, len(sizes))
    if not layers:
        raise SpecError('the spec has no layers; try "c{k}*{n}"')
    named = symbols_of(layers)
    inputs = [str(v) for v in shape if isinstance(v, sp.Symbol)]
    clash = [s for s in named if s in inputs]
    if clash:
        raise SymbolError(
            f"the spec symbol {{{clash[0]}}} has the name of a symbolic input size; rename it. "
            f"Received: {spec if isinstance(spec, str) else format_spec(layers)!r}"
        )
    one, zero = sp.Integer(1), sp.Integer(0)
    rank = len(sizes)
    st = _fold(layers, _State(size=tuple(sizes), rf=(one,) * rank, jump=(one,) * rank, channels=c, macs=zero))
    return ClosedForms(
        format_spec(layers),
        tuple(named) + tuple(inputs),
        shape,
        st.rf,
        st.jump,
        st.size,
        st.channels,
        st.params,
        st.macs,
        st.notes,
    )
