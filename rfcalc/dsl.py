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

from . import ascii_input
from .errors import SpecError
from .layers import (
    ACTIVATIONS, MAX_LAYERS, BatchNorm, Conv, Crop, Dense, DepthwiseConv, Flatten, GlobalPool,
    Identity, Pool, Repeat, SeparableConv, Sym, ZeroPad,
)

MAX_SPEC_CHARS = 100_000
MAX_DEPTH = 32
MAX_DIGITS = 12

_NUM = r"\d+|\{[A-Za-z_][A-Za-z0-9_]*\}"
_LAYER = re.compile(
    rf"(?P<op>conv|crop|sep|dw|dense|maxpool|avgpool|fc|zp|c|p|a)(?P<k>{_NUM}|-(?:{_NUM}))?(?:x(?P<k2>{_NUM}))?"
)
_KEYWORDS = {
    "bn": BatchNorm, "batchnorm": BatchNorm, "gap": lambda: GlobalPool("avg"), "gmp": lambda: GlobalPool("max"),
    "flat": Flatten, "flatten": Flatten, "id": Identity,
}
_OPTION = re.compile(rf"(?P<key>[sdm])(?P<a>{_NUM})(?:x(?P<b>{_NUM}))?|-(?P<f>{_NUM})|/(?P<word>[a-z0-9]+)")
_PADS = re.compile(r"(\d+)(?::(\d+))?(?:x(\d+)(?::(\d+))?)?")


def _number(text: str):
    if text.startswith("{"):
        return Sym(text[1:-1])
    return int(text)


class _Parser:
    """Recursive descent over the spec with spaces removed; ``pos`` maps back to the user's text."""

    def __init__(self, spec: str):
        self.spec = spec
        self.pos = [i for i, ch in enumerate(spec) if not ch.isspace()]
        # lower-case everything but symbol names, so {C} and {c} stay distinct
        parts = re.split(r"(\{[^{}]*\})", "".join(spec[i] for i in self.pos))
        self.text = "".join(part if k % 2 else part.lower() for k, part in enumerate(parts))
        self.i = 0

    def fail(self, message: str, at: int, length: int = 1):
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
                self.fail("'(' is never closed" if not self.peek() else f"expected ')' or ',', found {self.peek()!r}",
                          start if not self.peek() else self.i)
            self.i += 1
        else:
            body, size = [self.layer()], 1
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
                self.fail(f"this expands to {size * count:,} layers; rfcalc analyses at most {MAX_LAYERS:,}",
                          star, m.end() - star)
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
            self.fail("empty layer (two commas in a row?)" if found == "," else
                      f"expected a layer, found {found!r}" if found else "expected a layer at the end", start)
        if token in _KEYWORDS:
            return _KEYWORDS[token]()
        m = _LAYER.match(token)
        if not m or (m.group("op") in ("c", "conv", "sep", "dw", "zp", "crop") and not m.group("k")):
            self.fail(f"unknown layer {token!r} (try c3, p2, fc20; see docs/dsl.md)", start, len(token))
        try:
            return self.build(m, token, start)
        except SpecError as err:
            if err.spec is None:  # a layer's own check: point at the whole token
                self.fail(err.reason, start, len(token))
            raise

    def options(self, rest: str, at: int, allowed: str) -> dict:
        opts: dict = {}
        seen: set = set()  # names set so far: /valid/same would otherwise let the last one win
        i = 0
        while i < len(rest):
            m = _OPTION.match(rest, i)
            key = m and (m.group("key") or ("-" if m.group("f") else "/"))
            if not m or key not in allowed:
                self.fail(f"unknown option {rest[i:]!r}", at + i, len(rest) - i)
            name = key
            if key == "/":
                word = m.group("word")
                if word in ("same", "valid") and "p" in allowed:
                    opts[name := "padding"] = word
                elif word in ACTIVATIONS and "a" in allowed:
                    opts[name := "activation"] = word
                elif word == "nobias" and "a" in allowed:
                    opts[name := "use_bias"] = False
                else:
                    self.fail(f"unknown option '/{word}'", at + i, m.end() - i)
            elif key == "-":
                opts["-"] = _number(m.group("f"))
            else:
                a = _number(m.group("a"))
                b = _number(m.group("b")) if m.group("b") else a
                opts[key] = (a, b) if key in "sd" else a
                if key == "m" and m.group("b"):
                    self.fail("a depth multiplier is one number", at + i, m.end() - i)
            if name in seen:
                self.fail(f"option {m.group()!r} is given twice" if key != "/" else
                          f"option {m.group()!r} sets the {name.replace('use_', '')} a second time", at + i, m.end() - i)
            seen.add(name)
            i = m.end()
        return opts

    def build(self, m, token: str, at: int):
        op, k, k2 = m.group("op"), m.group("k"), m.group("k2")
        rest, rest_at = token[m.end():], at + m.end()
        if op in ("fc", "dense"):
            if not k or k2:
                self.fail(f"{op} needs a unit count, as in fc20", at, len(token))
            opts = self.options(rest, rest_at, "/a")
            return Dense(_number(k.lstrip("-")), **opts)
        if k and k.startswith("-"):  # only fc/dense take "-units"; conv3-64 puts the filters after the kernel
            self.fail(f"unknown layer {token!r}", at, len(token))
        if op in ("zp", "crop"):
            pm = _PADS.fullmatch(token[len(op):])
            if not pm:
                self.fail(f"{op} takes pixels as zp1, zp1x2 or zp0:1x0:1 (top:bottom x left:right)", at, len(token))
            t, b, l, r = pm.groups()
            rows = (int(t), int(b or t))
            pads = (rows, rows if l is None else (int(l), int(r or l)))
            return ZeroPad(pads) if op == "zp" else Crop(pads)
        if op in ("maxpool", "avgpool", "p", "a"):
            kind = "max" if op in ("maxpool", "p") else "avg"
            if not k:
                if op in ("p", "a"):
                    self.fail(f"{op} needs a pool size, as in {op}2", at, len(token))
                k = "2"  # VGG's maxpool: 2x2, stride 2
            size = (_number(k), _number(k2 or k))
            opts = self.options(rest, rest_at, "s/p")
            return Pool(kind, size, opts.get("s"), opts.get("padding", "valid"))
        kernel = (_number(k), _number(k2 or k))
        if op in ("c", "conv"):
            opts = self.options(rest, rest_at, "sd-/pa")
            return Conv(kernel, opts.pop("s", (1, 1)), opts.pop("d", (1, 1)), opts.pop("-", 32), **opts)
        if op == "dw":
            opts = self.options(rest, rest_at, "sdm/pa")
            return DepthwiseConv(kernel, opts.pop("s", (1, 1)), opts.pop("d", (1, 1)), opts.pop("m", 1), **opts)
        opts = self.options(rest, rest_at, "sdm-/pa")
        return SeparableConv(kernel, opts.pop("s", (1, 1)), opts.pop("d", (1, 1)), opts.pop("-", 32),
                             opts.pop("m", 1), **opts)


@lru_cache(maxsize=512)
def _parse(spec: str) -> tuple:
    if len(spec) > MAX_SPEC_CHARS:
        raise SpecError(f"the spec is {len(spec):,} characters long; rfcalc reads at most {MAX_SPEC_CHARS:,}")
    ascii_input.check(spec)  # c３ and c٣ are not c3: one rule, docs/dsl.md
    p = _Parser(spec)
    if not p.text:
        raise SpecError("the spec is empty; try \"c3,c3,p2\"")
    for m in re.finditer(r"\{[^{}]*\}|(\d{%d,})" % (MAX_DIGITS + 1), p.text):
        if m.group(1):  # int() would refuse past 4,300 digits with a bare ValueError; say it here
            p.fail(f"a number of {len(m.group(1)):,} digits; numbers in a spec have at most {MAX_DIGITS}",
                   m.start(1), len(m.group(1)))
    nodes, _ = p.sequence(0, MAX_LAYERS)
    if p.i < len(p.text):
        ch = p.peek()
        p.fail("')' without a matching '('" if ch == ")" else f"unexpected {ch!r}", p.i)
    return tuple(nodes)


def parse(spec: str) -> tuple:
    """Parse a spec into a tuple of frozen layers (``Repeat`` only for symbolic counts).

    >>> [type(layer).__name__ for layer in parse("c3*2, p2")]
    ['Conv', 'Conv', 'Pool']
    >>> parse("c7s2-64/valid")[0].stride
    (2, 2)
    """
    if not isinstance(spec, str):
        raise SpecError(f"a spec must be a string such as \"c3,c3,p2\". Received: {type(spec).__name__}")
    return _parse(spec)


def _dims(values) -> str:
    a, b = values
    return f"{a}" if a == b else f"{a}x{b}"


def _pads(pads) -> str:
    def axis(p):
        return f"{p[0]}" if p[0] == p[1] else f"{p[0]}:{p[1]}"
    a, b = axis(pads[0]), axis(pads[1])
    return a if a == b else f"{a}x{b}"


def _tail(layer, default_act: str) -> str:
    out = "" if layer.padding == "same" else "/valid"
    if layer.activation != default_act:
        out += f"/{layer.activation}"
    return out + ("" if layer.use_bias else "/nobias")


def _strides(layer) -> str:
    out = "" if layer.stride == (1, 1) else f"s{_dims(layer.stride)}"
    return out + ("" if layer.dilation == (1, 1) else f"d{_dims(layer.dilation)}")


@lru_cache(maxsize=4096)
def format_layer(layer) -> str:
    """The canonical token of one layer.

    >>> format_layer(parse("conv7-64, ")[0]), format_layer(parse("p3 s2")[0])
    ('c7-64', 'p3s2')
    """
    if isinstance(layer, Conv):
        filters = "" if layer.filters == 32 else f"-{layer.filters}"
        return f"c{_dims(layer.kernel)}{_strides(layer)}{filters}{_tail(layer, 'relu')}"
    if isinstance(layer, DepthwiseConv):
        mult = "" if layer.depth_multiplier == 1 else f"m{layer.depth_multiplier}"
        return f"dw{_dims(layer.kernel)}{_strides(layer)}{mult}{_tail(layer, 'relu')}"
    if isinstance(layer, SeparableConv):
        mult = "" if layer.depth_multiplier == 1 else f"m{layer.depth_multiplier}"
        filters = "" if layer.filters == 32 else f"-{layer.filters}"
        return f"sep{_dims(layer.kernel)}{_strides(layer)}{mult}{filters}{_tail(layer, 'relu')}"
    if isinstance(layer, Pool):
        stride = "" if layer.stride == layer.kernel else f"s{_dims(layer.stride)}"
        pad = "" if layer.padding == "valid" else "/same"
        return f"{'p' if layer.op == 'max' else 'a'}{_dims(layer.kernel)}{stride}{pad}"
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
        return f"zp{_pads(layer.pads)}"
    if isinstance(layer, Crop):
        return f"crop{_pads(layer.crops)}"
    if isinstance(layer, Identity):
        return "id"
    if isinstance(layer, Repeat):
        body = format_spec(layer.body)
        single = len(layer.body) == 1 and "*" not in body
        return f"{body if single else '(' + body + ')'}*{layer.count}"
    raise TypeError(f"format_layer: not a layer: {layer!r}")


def format_spec(layers) -> str:
    """The canonical spelling: one token per layer, runs of equal layers written ``tok*n``.

    >>> format_spec(parse("C3 , c3,c3 ,P2,(c3,p2)*{n}"))
    'c3*3,p2,(c3,p2)*{n}'
    """
    out: list[str] = []
    run_token, run = None, 0
    for layer in layers:
        token = format_layer(layer)
        if token == run_token and not isinstance(layer, Repeat):
            run += 1
            continue
        if run_token is not None:
            out.append(run_token if run == 1 else f"{run_token}*{run}")
        run_token, run = token, 1
    if run_token is not None:
        out.append(run_token if run == 1 else f"{run_token}*{run}")
    return ",".join(out)


_SHAPE = re.compile(r"\(?\s*(\d+)\s*[x×,]\s*(\d+)\s*(?:[x×,]\s*(\d+))?\s*\)?", re.IGNORECASE)


def parse_shape(text: str) -> tuple[int, int, int]:
    """Read an input shape ``HxWxC`` (``HxW`` means 3 channels).

    >>> parse_shape("224x224x3"), parse_shape("28x28x1"), parse_shape("64x48")
    ((224, 224, 3), (28, 28, 1), (64, 48, 3))
    """
    ascii_input.check(text.replace("×", "x"), "input shape")  # × is the one non-ASCII sign read
    m = _SHAPE.fullmatch(text.strip())
    if not m:
        raise SpecError(f"an input shape is written HxWxC, as in 32x32x3. Received: {text!r}")
    h, w, c = int(m.group(1)), int(m.group(2)), int(m.group(3) or 3)
    if min(h, w, c) < 1:
        raise SpecError(f"input sizes must be positive. Received: {text!r}")
    return h, w, c
