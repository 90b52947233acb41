"""``analyze(spec)``: the forward fold from layers to an immutable ``Analysis`` with a row per layer.

>>> a = analyze("c3,c3,p2")
>>> a.rf, a.jump, a.total_params
((6, 6), (2, 2), 10144)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from fractions import Fraction
from functools import cache

from . import border, checks
from .dsl import format_layer, format_spec, parse, parse_shape
from .errors import RFError, SpecError, SymbolError
from .layers import (
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
    SeparableConv,
    Upsample,
    ZeroPad,
    bind,
    symbols_of,
)
from .propagate import Applied, Field, apply_layer, input_field

Pair = tuple[int, ...]

HEADS = {"seed": "flat,fc20,fc10/softmax"}  # the notebook's Flatten, Dense(20), Dense(10, softmax)


def _half(x: Fraction | int):
    """A Fraction as JSON: int when whole, a float when a double holds it exactly, else the exact
    decimal as a string (``"499999999999999999999999.5"``); ``Fraction(str(v))`` reads back every form."""
    if x.denominator == 1:
        return int(x)
    try:
        f = float(x)
    except OverflowError:
        f = None
    if f is not None and Fraction(f) == x:
        return f
    from .render import fmt_num

    return fmt_num(x)


@dataclass(frozen=True, slots=True)
class Row:
    """One layer's line: Keras name and class, shapes, parameters, MACs, and its receptive field."""

    index: int
    name: str
    kind: str
    token: str
    layer: object
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    trainable_params: int
    non_trainable_params: int
    macs: int
    rf: Pair | None
    rf_min: Pair | None
    jump: Pair | None
    start: tuple[Fraction, ...] | None
    padding: tuple[Pair, ...] | None = None
    flags: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    axes: tuple | None = dc_field(default=None, repr=False, compare=False)  # phases.Axis per axis

    @property
    def rank(self) -> int:
        """The number of spatial axes of the layer's input (1, 2 or 3)."""
        return len(self.input_shape) - 1

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def spatial(self) -> bool:
        return self.rf is not None

    def field_of(self, unit) -> tuple[Pair, ...]:
        """Per axis, the first and last input pixel of output unit ``unit``'s field (exact for every
        phase after upsampling; negative or past the input: padding).

        >>> analyze("c3,c3,p2").layers[2].field_of((3, 5))
        ((4, 9), (8, 13))
        >>> analyze("p2,up2", input_shape="8x1").layers[1].field_of((1,))
        ((0, 1),)
        """
        if self.rf is None:
            raise RFError(f"{self.name} has no spatial field (after Flatten or global pooling)")
        if len(unit) != len(self.rf):
            raise RFError(f"{self.name}: a unit has {len(self.rf)} coordinates here. Received: unit={tuple(unit)}")
        if self.axes is None:  # a row built without phase tables: the affine formula is exact
            start, jump = self.start or (), self.jump or ()  # both set wherever rf is
            return tuple(
                (int(s + u * j - Fraction(r - 1, 2)), int(s + u * j + Fraction(r - 1, 2)))
                for s, u, j, r in zip(start, unit, jump, self.rf)
            )
        return tuple(a.at(u) for a, u in zip(self.axes, unit))

    @property
    def span(self) -> tuple[Pair, ...] | None:
        """Per axis, the first and last input pixel in the field of output unit 0 (negative: padding)."""
        return None if self.rf is None else self.field_of((0,) * len(self.rf))

    def centre(self, unit) -> tuple[Fraction, ...]:
        """The input position of the centre of output unit ``unit``'s field (start + unit·jump when
        every unit's field has the same width).

        >>> analyze("c3,c3,p2").layers[2].centre((3, 5))
        (Fraction(13, 2), Fraction(21, 2))
        """
        return tuple(Fraction(lo + hi, 2) for lo, hi in self.field_of(unit))

    @property
    def eff_pad(self) -> Pair | None:
        """Effective padding: how far the field of output unit 0 reaches before input pixel 0."""
        span = self.span
        return None if span is None else tuple(-lo for lo, _ in span)

    def to_dict(self) -> dict:
        pair = lambda v: list(v) if v is not None else None
        return {
            "name": self.name,
            "kind": self.kind,
            "token": self.token,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "rf": pair(self.rf),
            "rf_min": pair(self.rf_min),
            "jump": [_half(j) for j in self.jump] if self.jump is not None else None,
            "start": [_half(s) for s in self.start] if self.start is not None else None,
            "padding": [list(p) for p in self.padding] if self.padding is not None else None,
            "eff_pad": pair(self.eff_pad),
            "flags": list(self.flags),
            **({"inputs": list(self.inputs)} if self.inputs else {}),
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    """Per-layer rows and totals. ``rf``/``jump``/``start`` are those of the last spatial layer.

    ``total_params`` counts every layer's weights as the network has them, per reading layer
    (the number a framework's summary gives). ``stored_params``, from a model file, counts each
    distinct stored tensor once: fewer where layers read one stored tensor (an exporter's
    deduplicated equal tensors, or weights the model truly shares); None when not known. Which
    stored tensors of an ONNX file are weights (not buffers nor exporter constants):
    ``rfcalc.frameworks.onnx_params``.
    """

    spec: str
    input_shape: tuple[int, ...]
    layers: tuple[Row, ...]
    stored_params: int | None = None
    _last: Row | None = dc_field(default=None, repr=False, compare=False)

    def __post_init__(self):
        last = next((r for r in reversed(self.layers) if r.spatial), None)
        object.__setattr__(self, "_last", last)

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(r.trainable_params for r in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(r.non_trainable_params for r in self.layers)

    @property
    def shares_params(self) -> bool:
        """Layers read some stored tensor more than once: ``stored_params`` is below ``total_params``."""
        return self.stored_params is not None and self.stored_params < self.total_params

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.layers)

    @property
    def rank(self) -> int:
        """Spatial axes of the input: 1 (length, channels), 2 (H, W, C) or 3 (D, H, W, C)."""
        return len(self.input_shape) - 1

    @property
    def rf(self) -> Pair:
        value = self._last.rf if self._last else None  # the last spatial row has every field
        return value if value is not None else (1,) * self.rank

    @property
    def rf_min(self) -> Pair:
        value = self._last.rf_min if self._last else None  # the last spatial row has every field
        return value if value is not None else (1,) * self.rank

    @property
    def jump(self) -> Pair:
        value = self._last.jump if self._last else None  # the last spatial row has every field
        return value if value is not None else (1,) * self.rank

    @property
    def start(self) -> tuple[Fraction, ...]:
        value = self._last.start if self._last else None  # the last spatial row has every field
        return value if value is not None else (Fraction(0),) * self.rank

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def rf_exceeds_input(self) -> bool:
        return any(r > n for r, n in zip(self.rf, self.input_shape[:-1]))

    def row(self, name: str) -> Row:
        """The row of the layer called ``name`` (Keras name such as ``conv2d_1``)."""
        for r in self.layers:
            if r.name == name:
                return r
        raise RFError(f"no layer named {name!r}; the layers are: {', '.join(r.name for r in self.layers)}")

    def productivity(self, search_limit: int | None = None) -> border.Productivity:
        """Unproductive rows, the border layer and the input-size range per axis (rfcalc/border.py).

        >>> analyze("c3*16", input_shape=(28, 28, 1)).productivity().border_name
        'conv2d_14'
        """
        return border.judge(self, _reanalyser(self), search_limit)

    def to_dict(self) -> dict:
        return {
            "spec": self.spec,
            "input_shape": list(self.input_shape),
            "layers": [r.to_dict() for r in self.layers],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            **({"stored_params": self.stored_params} if self.shares_params else {}),
            "total_macs": self.total_macs,
            "output_shape": list(self.output_shape),
            "rf": list(self.rf),
            "rf_min": list(self.rf_min),
            "jump": [_half(j) for j in self.jump],
            "start": [_half(s) for s in self.start],
            "productivity": self.productivity().to_dict(),
        }

    def __repr__(self) -> str:
        x = lambda v: "x".join(str(e) for e in v)
        return (
            f"Analysis({self.spec!r}, input={x(self.input_shape)}, layers={len(self.layers)}, "
            f"params={self.total_params:,}, rf={x(self.rf)}, jump={x(self.jump)})"
        )

    def __str__(self) -> str:
        from .render import to_text

        return to_text(self)

    def __rich__(self):
        from .render import table

        return table(self)

    def __grid__(self, **options):
        """The layer table as a ``textable.Grid`` (``options``: see ``summary.grid``)."""
        from .summary import grid

        return grid(self, **options)

    def to_markdown(self, **options) -> str:
        """The table as GitHub Markdown, every column (``options``: see ``summary.grid``).

        >>> print(analyze("c3").to_markdown().splitlines()[4])
        | conv2d (Conv2D) | (None, 32, 32, 32) | 896 | 884,736 | 3x3 | 1 | 0 |
        """
        from .summary import to_markdown

        return to_markdown(self, **options)

    def to_csv(self, rows: str | None = None) -> str:
        """Every row as CSV with plain numbers (``rows``: a name glob or an index range such as ``3:10``).

        >>> print(analyze("c3,p2").to_csv().splitlines()[0])
        index,name,type,output_shape,params,macs,rf,jump,start,flags,inputs
        """
        from .summary import to_csv

        return to_csv(self, rows)

    def _repr_html_(self) -> str:
        from .render import to_html

        return to_html(self)


_SPEC_LAYERS = (
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
    SeparableConv,
    Upsample,
    ZeroPad,
)


def _reanalyser(a: Analysis):
    """``shape -> Analysis`` for an analysis ``analyze`` made from a spec (a chain of rfcalc layers;
    its ``spec`` is their canonical spelling), else None: a model is judged on its own fields."""
    layers = tuple(r.layer for r in a.layers)
    if not layers or any(r.inputs for r in a.layers) or not all(isinstance(x, _SPEC_LAYERS) for x in layers):
        return None
    try:
        if format_spec(layers) != a.spec:
            return None
    except RFError:
        return None
    return lambda shape: analyze(layers, input_shape=shape)


@cache
def keras_name(class_name: str) -> str:
    """Keras' default layer-name stem for a class.

    >>> keras_name("Conv2D"), keras_name("MaxPooling2D"), keras_name("BatchNormalization")
    ('conv2d', 'max_pooling2d', 'batch_normalization')
    """
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)  # the rule of keras' to_snake_case
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _rf_min(field: Field, rf):
    """``field.rf_min``; equal to ``rf`` on one path whose fields have a single phase (the common case)."""
    if rf is not None and field.narrow is None and all(a.period == 1 for a in field.axes or ()):
        return rf
    return field.rf_min


def make_row(index: int, name: str, layer, before: Field, applied: Applied, input_hw, inputs=()) -> Row:
    """A Row from one applied layer; adds the ``rf>input`` and ``holes`` flags (``input_hw``: the
    network input's spatial sizes)."""
    out = applied.field
    flags = applied.flags
    rf = out.rf
    if rf is not None and any(r > n for r, n in zip(rf, input_hw)):
        flags = flags + ("rf>input",)
    if rf is not None and any(a.cover is not None for a in out.axes or ()):
        if out.holes:
            flags = flags + ("holes",)
        elif out.holes_untracked:
            flags = flags + ("holes?",)
    return Row(
        index,
        name,
        layer.keras_class,
        format_layer(layer),
        layer,
        before.shape,
        out.shape,
        applied.trainable,
        applied.non_trainable,
        applied.macs,
        rf,
        _rf_min(out, rf),
        out.jump,
        out.start,
        applied.padding,
        flags,
        tuple(inputs),
        out.axes,
    )


def with_head(spec, head=None, rank: int = 2) -> tuple:
    """Layers from a spec string or layer sequence, then those of ``head`` ('seed' or a spec), symbols kept.

    >>> len(with_head("c3,", "seed"))
    4
    """
    layers = parse(spec, rank) if isinstance(spec, str) else tuple(spec)
    return layers + parse(HEADS.get(head, head), rank) if head else layers


def resolve(spec, head=None, symbols=None, rank: int = 2) -> tuple:
    """Layers from a spec string or layer sequence (read for ``rank`` spatial axes), with an optional
    head and symbol bindings."""
    layers = with_head(spec, head, rank)
    if symbols:
        layers = bind(layers, dict(symbols))
    elif isinstance(spec, str) and "{" not in spec and not (head and "{" in HEADS.get(head, head)):
        return layers  # strings without braces hold no symbols: skip the walk over every layer
    left = symbols_of(layers)
    if left:
        names = ", ".join("{" + s + "}" for s in left)
        raise SymbolError(f"the spec has the symbols {names}: bind them (--set {left[0]}=3) or use --symbolic")
    return layers


def analyze(spec, input_shape=(32, 32, 3), head=None, symbols=None) -> Analysis:
    """Analyse a spec (string or layers) on an input whose shape ends with the channels, as Keras'
    ``input_shape``: ``(L, C)`` is 1-D, ``(H, W, C)`` 2-D, ``(D, H, W, C)`` 3-D; the spec's tokens
    mean the layers of that rank. ``head='seed'`` adds the notebook's head.

    >>> analyze("c3,c3,p2", head="seed").total_params
    174214
    >>> analyze("c7s2-64/valid", input_shape="224x224x3").layers[0].output_shape
    (109, 109, 64)
    >>> analyze("c2d1..512/causal*3", input_shape="16000x1").rf
    (3070,)
    """
    checks.arguments(spec, input_shape, head, symbols)  # wrong types: TypeError saying what was expected
    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    try:
        input_shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise SpecError(f"input_shape must be sizes ending with the channels. Received: {input_shape!r}") from None
    if not 2 <= len(input_shape) <= 4 or min(input_shape) < 1:
        raise SpecError(
            f"input_shape must be (L, C), (H, W, C) or (D, H, W, C) with positive sizes. "
            f"Received: input_shape={input_shape}"
        )
    layers = resolve(spec, head, symbols, len(input_shape) - 1)
    field = input_field(input_shape)
    counts: dict[str, int] = {}
    rows = []
    for i, layer in enumerate(layers):
        stem = keras_name(layer.keras_class)
        n = counts.get(stem, 0)
        counts[stem] = n + 1
        name = stem if n == 0 else f"{stem}_{n}"
        try:
            applied = apply_layer(layer, field)
        except RFError as err:
            raise type(err)(f"layer {i + 1} '{name}' ({format_layer(layer)}): {err}") from None
        rows.append(make_row(i, name, layer, field, applied, input_shape[:-1]))
        field = applied.field
    return Analysis(format_spec(layers), input_shape, tuple(rows))
