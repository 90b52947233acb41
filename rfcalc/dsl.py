"""The compact layer language: ``parse("c3,c3,p2")`` and its inverse ``format_spec``.

The token table lives in docs/dsl.md (kept verbatim in step with ``_LAYER`` below). Specs are
case-insensitive and ignore spaces. Numeric repeats are unrolled here; repeats whose count is a
symbol (``(c3,p2)*{n}``) stay as ``Repeat`` nodes for ``symbolic``.

>>> format_spec(parse("Conv3-64, conv3-64, maxpool"))
'c3-64*2,p2'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NoReturn

from . import ascii_input
from .errors import SpecError
from .layers import (
    ACTIVATIONS,
    MAX_LAYERS,
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
    SeparableConv,
    Sym,
    Upsample,
    ZeroPad,
    with_dilation,
)

MAX_SPEC_CHARS = 100_000
MAX_DEPTH = 32
MAX_DIGITS = 12

_NUM = r"\d+|\{[A-Za-z_][A-Za-z0-9_]*\}"
_LAYER = re.compile(
    rf"(?P<op>conv|crop|sep|dw|dense|maxpool|avgpool|fc|zp|up|c|p|a|t)(?P<k>(?:{_NUM})(?:x(?:{_NUM}))*|-(?:{_NUM}))?"
)
_KEYWORDS = {
    "bn": BatchNorm,
    "batchnorm": BatchNorm,
    "gap": lambda r: GlobalPool("avg", r),
    "gmp": lambda r: GlobalPool("max", r),
    "flat": Flatten,
    "flatten": Flatten,
    "id": Identity,
}
_SIDE = r"\d+(?::\d+)?"
_OPTION = re.compile(
    rf"d(?P<g1>\d+)\.\.(?P<g2>\d+)|d2\^(?P<e1>{_NUM})\.\.(?P<e2>{_NUM})"
    rf"|(?P<key>[sdmo])(?P<a>(?:{_NUM})(?:x(?:{_NUM}))*)|-(?P<f>{_NUM})"
    rf"|/pad(?P<pads>{_SIDE}(?:x{_SIDE})*)|/(?P<word>[a-z0-9]+)"
)
_PADS = re.compile(rf"{_SIDE}(?:x{_SIDE})*")
RANK_NAMES = {1: "1-D", 2: "2-D", 3: "3-D"}


def _number(text: str):
    if text.startswith("{"):
        return Sym(text[1:-1])
    return int(text)


class _Parser:
    """Recursive descent over the spec with spaces removed; ``pos`` maps back to the user's text."""

    def __init__(self, spec: str, rank: int = 2):
        self.spec = spec
        self.rank = rank
        self.pos = [i for i, ch in enumerate(spec) if not ch.isspace()]
        # lower-case everything but symbol names, so {C} and {c} stay distinct
        parts = re.split(r"(\{[^{}]*\})", "".join(spec[i] for i in self.pos))
        self.text = "".join(part if k % 2 else part.lower() for k, part in enumerate(parts))
        self.i = 0

    def fail(self, message: str, at: int, length: int = 1) -> NoReturn:
        start = self.pos[at] if at < len(self.pos) else len(self.spec)
        end = self.pos[min(at + length, len(self.pos)) - 1] + 1 if at < len(self.pos) else start + 1
        raise SpecError(message, self.spec, start, max(1, end - start))

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def sequence(self, depth: int, budget: int) -> tuple[list, int]:
        """items separated by commas, up to ')' or the end; returns nodes and their expanded size."""
        nodes, size = [], 0
        while True:
            item, n = self.item(depth, budget - size)
            nodes.extend(item)
            size += n
            if self.peek() != ",":
                return nodes, size
            self.i += 1
            if self.peek() in ("", ")") and nodes:  # a trailing comma, as in a Python list
                return nodes, size

    def item(self, depth: int, budget: int) -> tuple[list, int]:
        start = self.i
        if self.peek() == "(":
            if depth >= MAX_DEPTH:
                self.fail(f"groups nest deeper than {MAX_DEPTH}", start)
            self.i += 1
            body, size = self.sequence(depth + 1, budget)
            if self.peek() != ")":
                self.fail(
                    "'(' is never closed" if not self.peek() else f"expected ')' or ',', found {self.peek()!r}",
                    start if not self.peek() else self.i,
                )
            self.i += 1
        else:
            body = self.layer()
            size = len(body)
        while self.peek() == "*":
            star = self.i
            self.i += 1
            m = re.compile(_NUM).match(self.text, self.i)
            if not m:
                self.fail("'*' must be followed by a count such as *3 or *{n}", star)
            self.i = m.end()
            count = _number(m.group())
            if isinstance(count, Sym):
                body = [Repeat(tuple(body), count)]
                continue
            if count < 1:
                self.fail("a repeat count must be at least 1", star, m.end() - star)
            if size * count > budget:
                self.fail(
                    f"this expands to {size * count:,} layers; rfcalc analyses at most {MAX_LAYERS:,}",
                    star,
                    m.end() - star,
                )
            body, size = body * count, size * count
        if size > budget:
            self.fail(f"the spec expands to more than {MAX_LAYERS:,} layers", start)
        return body, size

    def layer(self):
        start = self.i
        end = start
        while end < len(self.text) and self.text[end] not in ",()*":
            end += 1
        token = self.text[start:end]
        self.i = end
        if not token:
            found = self.peek()
            self.fail(
                "empty layer (two commas in a row?)"
                if found == ","
                else f"expected a layer, found {found!r}"
                if found
                else "expected a layer at the end",
                start,
            )
        if token in _KEYWORDS:
            return [_KEYWORDS[token](self.rank) if token in ("gap", "gmp") else _KEYWORDS[token]()]
        m = _LAYER.match(token)
        if not m or (m.group("op") in ("c", "conv", "sep", "dw", "zp", "crop", "up", "t") and not m.group("k")):
            self.fail(f"unknown layer {token!r} (try c3, p2, fc20; see docs/dsl.md)", start, len(token))
        try:
            return self.build(m, token, start)
        except SpecError as err:
            if err.spec is None:  # a layer's own check: point at the whole token
                self.fail(err.reason, start, len(token))
            raise

    def dims(self, text: str, at: int, length: int, what: str) -> tuple:
        """``3`` or ``3x5`` (or ``3x1x1``): one number for every axis, or one per axis."""
        parts = tuple(_number(v) for v in re.findall(_NUM, text))  # not split("x"): {x} is a symbol
        if len(parts) == 1:
            return parts * self.rank
        if len(parts) != self.rank:
            self.fail(
                f"{what} {text!r} spells {len(parts)} axes, but the input is {RANK_NAMES[self.rank]} "
                f"({self.rank} ax{'es' if self.rank > 1 else 'is'}): write one number or {self.rank}",
                at,
                length,
            )
        return parts

    def pads(self, text: str, at: int, length: int) -> tuple:
        """``1``, ``1:2``, ``1x0:1``: (before, after) per axis, one side for all axes or one per axis."""
        sides = [tuple(int(v) for v in side.split(":")) for side in text.split("x")]
        pairs = tuple((p[0], p[-1]) for p in sides)
        if len(pairs) == 1:
            return pairs * self.rank
        if len(pairs) != self.rank:
            self.fail(
                f"padding {text!r} spells {len(pairs)} axes, but the input is {RANK_NAMES[self.rank]}", at, length
            )
        return pairs

    def options(self, rest: str, at: int, allowed: str) -> dict:
        opts: dict = {}
        seen: set = set()  # names set so far: /valid/same would otherwise let the last one win
        i = 0
        while i < len(rest):
            m = _OPTION.match(rest, i)
            if not m:
                self.fail(f"unknown option {rest[i:]!r}", at + i, len(rest) - i)
            key = (
                "g"
                if m.group("g1") or m.group("e1")
                else m.group("key") or ("-" if m.group("f") else "P" if m.group("pads") else "/")
            )
            if key not in allowed:
                self.fail(f"unknown option {rest[i:]!r}", at + i, len(rest) - i)
            name = key
            if key == "/":
                word = m.group("word")
                if word in ("same", "valid") and "p" in allowed or word == "causal" and "c" in allowed:
                    opts[name := "padding"] = word
                elif word in ACTIVATIONS and "a" in allowed:
                    opts[name := "activation"] = word
                elif word == "nobias" and "a" in allowed:
                    opts[name := "use_bias"] = False
                elif word in ("nearest", "bilinear") and "i" in allowed:
                    opts[name := "interpolation"] = word
                elif word in ("reflect", "edge", "constant") and "r" in allowed:
                    opts[name := "mode"] = word
                else:
                    self.fail(f"unknown option '/{word}'", at + i, m.end() - i)
            elif key == "P":
                opts[name := "padding"] = self.pads(m.group("pads"), at + i, m.end() - i)
            elif key == "-":
                opts["-"] = _number(m.group("f"))
            elif m.group("g1"):
                first, last = int(m.group("g1")), int(m.group("g2"))
                ratio, r = divmod(last, first) if first else (0, 1)
                if first < 1 or r or ratio & (ratio - 1):
                    self.fail(
                        "a dilation schedule dA..B doubles from A to B: B must be A times a power of two (d1..512)",
                        at + i,
                        m.end() - i,
                    )
                opts["schedule"] = (first, ratio.bit_length() - 1)
            elif m.group("e1"):
                e1, e2 = _number(m.group("e1")), _number(m.group("e2"))
                if isinstance(e1, int) and isinstance(e2, int) and e2 < e1:
                    self.fail("a dilation schedule d2^A..B needs A <= B", at + i, m.end() - i)
                opts["schedule"] = (e1, e2, "exp")
            else:
                opts[key] = self.dims(
                    m.group("a"),
                    at + i,
                    m.end() - i,
                    {"s": "stride", "d": "dilation", "m": "multiplier", "o": "output padding"}[key],
                )
                if key == "m":
                    if len(re.findall(_NUM, m.group("a"))) > 1:
                        self.fail("a depth multiplier is one number", at + i, m.end() - i)
                    opts[key] = opts[key][0]
            if name in seen:
                self.fail(
                    f"option {m.group()!r} is given twice"
                    if key != "/"
                    else f"option {m.group()!r} sets the {name.replace('use_', '')} a second time",
                    at + i,
                    m.end() - i,
                )
            seen.add(name)
            i = m.end()
        return opts

    def build(self, m, token: str, at: int) -> list:
        op, k = m.group("op"), m.group("k")
        rest, rest_at = token[m.end() :], at + m.end()
        if op in ("fc", "dense"):
            if not k or "x" in k:
                self.fail(f"{op} needs a unit count, as in fc20", at, len(token))
            opts = self.options(rest, rest_at, "/a")
            return [Dense(_number(k.lstrip("-")), **opts)]
        if k and k.startswith("-"):  # only fc/dense take "-units"; conv3-64 puts the filters after the kernel
            self.fail(f"unknown layer {token!r}", at, len(token))
        if op in ("zp", "crop"):
            tail = token[len(op) :]
            pm = _PADS.match(tail)
            if not pm or "{" in tail or pm.end() < len(tail) and (op == "crop" or tail[pm.end()] != "/"):
                self.fail(f"{op} takes pixels as zp1, zp1x2 or zp0:1x0:1 (before:after per axis)", at, len(token))
            pads = self.pads(pm.group(), at + len(op), pm.end())
            if op == "crop":
                return [Crop(pads)]
            opts = self.options(tail[pm.end() :], at + len(op) + pm.end(), "/r")
            return [ZeroPad(pads, **opts)]
        if op in ("maxpool", "avgpool", "p", "a"):
            kind = "max" if op in ("maxpool", "p") else "avg"
            if not k:
                if op in ("p", "a"):
                    self.fail(f"{op} needs a pool size, as in {op}2", at, len(token))
                k = "2"  # VGG's maxpool: 2x2, stride 2
            size = self.dims(k, at + len(op), len(k), "pool size")
            opts = self.options(rest, rest_at, "sP/p")
            return [Pool(kind, size, opts.get("s", size), opts.get("padding", "valid"))]  # stride: the size
        kernel = self.dims(k, at + len(op), len(k), "size" if op == "up" else "kernel")
        if op == "up":
            return [Upsample(kernel, **self.options(rest, rest_at, "/i"))]
        allowed = {"c": "sdg-P/pac", "conv": "sdg-P/pac", "dw": "sdgmP/pa", "sep": "sdgm-P/pa", "t": "sdo-P/pa"}[op]
        opts = self.options(rest, rest_at, allowed)
        schedule = opts.pop("schedule", None)
        if schedule and "d" in opts:
            self.fail("give either a dilation or a dilation schedule", at, len(token))
        common = dict(stride=opts.pop("s", None), dilation=opts.pop("d", None))
        layer: Conv | DepthwiseConv | ConvTranspose | SeparableConv
        if op in ("c", "conv"):
            layer = Conv(kernel, filters=opts.pop("-", 32), **common, **opts)
        elif op == "dw":
            layer = DepthwiseConv(kernel, depth_multiplier=opts.pop("m", 1), **common, **opts)
        elif op == "t":
            layer = ConvTranspose(
                kernel, filters=opts.pop("-", 32), output_padding=opts.pop("o", None), **common, **opts
            )
        else:
            layer = SeparableConv(
                kernel, filters=opts.pop("-", 32), depth_multiplier=opts.pop("m", 1), **common, **opts
            )
        if not schedule:
            return [layer]
        if len(schedule) == 2:  # dA..B: A = first, doubling `count` times
            first, doublings = schedule
            return [with_dilation(layer, first << e) for e in range(doublings + 1)]
        e1, e2, _ = schedule
        if isinstance(e1, Sym) or isinstance(e2, Sym):
            return [Schedule(layer, e1, e2)]
        if e2 - e1 >= MAX_LAYERS:
            self.fail(
                f"this schedule expands to {e2 - e1 + 1:,} layers; rfcalc analyses at most {MAX_LAYERS:,}",
                at,
                len(token),
            )
        return [with_dilation(layer, 1 << e) for e in range(e1, e2 + 1)]


@lru_cache(maxsize=512)
def _parse(spec: str, rank: int) -> tuple:
    if len(spec) > MAX_SPEC_CHARS:
        raise SpecError(f"the spec is {len(spec):,} characters long; rfcalc reads at most {MAX_SPEC_CHARS:,}")
    ascii_input.check(spec)  # c３ and c٣ are not c3: one rule, docs/dsl.md
    p = _Parser(spec, rank)
    if not p.text:
        raise SpecError('the spec is empty; try "c3,c3,p2"')
    for m in re.finditer(r"\{[^{}]*\}|(\d{%d,})" % (MAX_DIGITS + 1), p.text):
        if m.group(1):  # int() would refuse past 4,300 digits with a bare ValueError; say it here
            p.fail(
                f"a number of {len(m.group(1)):,} digits; numbers in a spec have at most {MAX_DIGITS}",
                m.start(1),
                len(m.group(1)),
            )
    nodes, _ = p.sequence(0, MAX_LAYERS)
    if p.i < len(p.text):
        ch = p.peek()
        p.fail("')' without a matching '('" if ch == ")" else f"unexpected {ch!r}", p.i)
    return tuple(nodes)


def parse(spec: str, rank: int = 2) -> tuple:
    """Parse a spec into a tuple of frozen layers of ``rank`` spatial axes (``Repeat`` and
    ``Schedule`` only for symbolic counts and exponents).

    >>> [type(layer).__name__ for layer in parse("c3*2, p2")]
    ['Conv', 'Conv', 'Pool']
    >>> parse("c7s2-64/valid")[0].stride, parse("c3", rank=1)[0].keras_class
    ((2, 2), 'Conv1D')
    """
    if not isinstance(spec, str):
        raise SpecError(f'a spec must be a string such as "c3,c3,p2". Received: {type(spec).__name__}')
    if rank not in (1, 2, 3):
        raise SpecError(f"rfcalc reads specs for 1-D, 2-D and 3-D inputs. Received: rank={rank!r}")
    return _parse(spec, rank)


def _dims(values) -> str:
    first = values[0]
    return f"{first}" if all(v == first for v in values) else "x".join(str(v) for v in values)


def _pads(pads) -> str:
    def axis(p):
        return f"{p[0]}" if p[0] == p[1] else f"{p[0]}:{p[1]}"

    sides = [axis(p) for p in pads]
    return sides[0] if all(x == sides[0] for x in sides) else "x".join(sides)


def _padding(layer, default: str) -> str:
    if isinstance(layer.padding, tuple):
        return f"/pad{_pads(layer.padding)}"
    return "" if layer.padding == default else f"/{layer.padding}"


def _tail(layer, default_act: str) -> str:
    out = _padding(layer, "same")
    if layer.activation != default_act:
        out += f"/{layer.activation}"
    return out + ("" if layer.use_bias else "/nobias")


def _ones(values) -> bool:
    return all(v == 1 for v in values)


def _strides(layer, dilation: str | None = None) -> str:
    out = "" if _ones(layer.stride) else f"s{_dims(layer.stride)}"
    if dilation is not None:
        return out + dilation
    return out + ("" if _ones(layer.dilation) else f"d{_dims(layer.dilation)}")


def _token(layer, dilation: str | None = None) -> str:
    """A conv's token; ``dilation`` replaces its ``dN`` part (a schedule such as ``d1..512``)."""
    if isinstance(layer, Conv):
        filters = "" if layer.filters == 32 else f"-{layer.filters}"
        return f"c{_dims(layer.kernel)}{_strides(layer, dilation)}{filters}{_tail(layer, 'relu')}"
    if isinstance(layer, DepthwiseConv):
        mult = "" if layer.depth_multiplier == 1 else f"m{layer.depth_multiplier}"
        return f"dw{_dims(layer.kernel)}{_strides(layer, dilation)}{mult}{_tail(layer, 'relu')}"
    if isinstance(layer, SeparableConv):
        mult = "" if layer.depth_multiplier == 1 else f"m{layer.depth_multiplier}"
        filters = "" if layer.filters == 32 else f"-{layer.filters}"
        return f"sep{_dims(layer.kernel)}{_strides(layer, dilation)}{mult}{filters}{_tail(layer, 'relu')}"
    filters = "" if layer.filters == 32 else f"-{layer.filters}"  # ConvTranspose
    out_pad = "" if layer.output_padding is None else f"o{_dims(layer.output_padding)}"
    return f"t{_dims(layer.kernel)}{_strides(layer)}{out_pad}{filters}{_tail(layer, 'relu')}"


@lru_cache(maxsize=4096)
def format_layer(layer) -> str:
    """The canonical token of one layer.

    >>> format_layer(parse("conv7-64, ")[0]), format_layer(parse("p3 s2")[0]), format_layer(parse("t3s2", 1)[0])
    ('c7-64', 'p3s2', 't3s2')
    """
    if isinstance(layer, (Conv, DepthwiseConv, SeparableConv, ConvTranspose)):
        return _token(layer)
    if isinstance(layer, Pool):
        stride = "" if layer.stride == layer.kernel else f"s{_dims(layer.stride)}"
        return f"{'p' if layer.op == 'max' else 'a'}{_dims(layer.kernel)}{stride}{_padding(layer, 'valid')}"
    if isinstance(layer, Upsample):
        return f"up{_dims(layer.size)}{'' if layer.interpolation == 'nearest' else '/' + layer.interpolation}"
    if isinstance(layer, Dense):
        act = "" if layer.activation == "linear" else f"/{layer.activation}"
        return f"fc{layer.units}{act}{'' if layer.use_bias else '/nobias'}"
    if isinstance(layer, BatchNorm):
        return "bn"
    if isinstance(layer, GlobalPool):
        return "gap" if layer.op == "avg" else "gmp"
    if isinstance(layer, Flatten):
        return "flat"
    if isinstance(layer, ZeroPad):
        return f"zp{_pads(layer.pads)}{'' if layer.mode == 'constant' else '/' + layer.mode}"
    if isinstance(layer, Crop):
        return f"crop{_pads(layer.crops)}"
    if isinstance(layer, Identity):
        return "id"
    if isinstance(layer, Repeat):
        body = format_spec(layer.body)
        single = len(layer.body) == 1 and "*" not in body
        return f"{body if single else '(' + body + ')'}*{layer.count}"
    if isinstance(layer, Schedule):
        return _token(layer.layer, f"d2^{layer.first}..{layer.last}")
    raise TypeError(f"format_layer: not a layer: {layer!r}")


_DILATED = (Conv, DepthwiseConv, SeparableConv)


def _schedule_length(layers, i: int) -> int:
    """How many layers from ``i`` on form a doubling dilation schedule (0 when fewer than 3)."""
    first = layers[i]
    if not isinstance(first, _DILATED) or len(set(first.dilation)) != 1 or not isinstance(first.dilation[0], int):
        return 0
    d, n = first.dilation[0], 1
    while i + n < len(layers):
        nxt = layers[i + n]  # compare the dilation first: building a layer per position is slow
        if (
            type(nxt) is not type(first)
            or nxt.dilation != (d << n,) * len(first.dilation)
            or any(getattr(nxt, f) != getattr(first, f) for f in first.__dataclass_fields__ if f != "dilation")
        ):
            break
        n += 1
    return n if n >= 3 else 0


def _tokens(layers):
    """One token per layer, or per doubling dilation schedule of three or more layers (``d1..512``)."""
    i = 0
    while i < len(layers):
        n = _schedule_length(layers, i) if isinstance(layers[i], _DILATED) else 0
        if n:
            d = layers[i].dilation[0]
            yield _token(layers[i], f"d{d}..{d << (n - 1)}"), False
            i += n
        else:
            yield format_layer(layers[i]), isinstance(layers[i], Repeat)
            i += 1


def format_spec(layers) -> str:
    """The canonical spelling: one token per layer, doubling dilations written as a schedule
    ``d1..512``, runs of equal tokens written ``tok*n``.

    >>> format_spec(parse("C3 , c3,c3 ,P2,(c3,p2)*{n}"))
    'c3*3,p2,(c3,p2)*{n}'
    >>> format_spec(parse("(c2d1..512/causal)*3", rank=1))
    'c2d1..512/causal*3'
    """
    out: list[str] = []
    run_token, run = None, 0
    for token, repeat in _tokens(tuple(layers)):
        if token == run_token and not repeat:
            run += 1
            continue
        if run_token is not None:
            out.append(run_token if run == 1 else f"{run_token}*{run}")
        run_token, run = token, 1
    if run_token is not None:
        out.append(run_token if run == 1 else f"{run_token}*{run}")
    return ",".join(out)


_SHAPE = re.compile(r"\(?\s*(\d+(?:\s*[x×,]\s*\d+){1,3})\s*,?\s*\)?", re.IGNORECASE)


def parse_shape(text: str) -> tuple[int, ...]:
    """Read an input shape that ends with the channels, as Keras' ``input_shape``: ``LxC`` (1-D),
    ``HxWxC`` (2-D), ``DxHxWxC`` (3-D).

    >>> parse_shape("224x224x3"), parse_shape("16000x1"), parse_shape("16x112x112x3")
    ((224, 224, 3), (16000, 1), (16, 112, 112, 3))
    """
    ascii_input.check(text.replace("×", "x"), "input shape")  # × is the one non-ASCII sign read
    m = _SHAPE.fullmatch(text.strip())
    if not m:
        raise SpecError(
            f"an input shape is sizes then channels: 16000x1 (1-D), 32x32x3 (2-D) or 16x112x112x3 "
            f"(3-D). Received: {text!r}"
        )
    sizes = tuple(int(v) for v in re.split(r"\s*[x×,]\s*", m.group(1), flags=re.IGNORECASE))
    if min(sizes) < 1:
        raise SpecError(f"input sizes must be positive. Received: {text!r}")
    return sizes


def describe_input(shape) -> str:
    """The input in words, so that a shape meant otherwise is noticed at once.

    >>> describe_input((16000, 1)), describe_input((28, 28))
    ('1-D input: length 16000, 1 channel', '1-D input: length 28, 28 channels')
    >>> describe_input((32, 32, 3)), describe_input((16, 112, 112, 3))
    ('2-D input: 32x32 pixels, 3 channels', '3-D input: 16x112x112 voxels, 3 channels')
    """
    *sizes, c = shape
    channels = f"{c} channel{'' if c == 1 else 's'}"
    if len(sizes) == 1:
        return f"1-D input: length {sizes[0]}, {channels}"
    unit = "pixels" if len(sizes) == 2 else "voxels"
    return f"{len(sizes)}-D input: {'x'.join(str(n) for n in sizes)} {unit}, {channels}"
