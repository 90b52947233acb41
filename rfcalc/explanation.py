"""A worked derivation of the receptive field, layer by layer, in English or Japanese.

It answers the course question B2-2-2 (two stacked 3x3 convolutions: which region of the input
does one output pixel come from?) for any spec, with the numbers substituted into
``r_l = r_{l-1} + (k_eff - 1)·j_{l-1}`` and ``j_l = j_{l-1}·s_l``. No sympy here.

>>> print(explain("c3,c3").text.splitlines()[-1])
Answer: stacking two 3×3 convolutions, one pixel of the output feature map is computed from a 5×5 region of the input image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .analysis import Analysis, analyze
from .arithmetic import effective_kernel
from .dsl import describe_input
from .errors import RFError
from .explanation_words import LANGS
from .lang import language_code
from .layers import (
    SPATIAL,
    BatchNorm,
    Conv,
    ConvTranspose,
    Crop,
    Dense,
    DepthwiseConv,
    Identity,
    Pool,
    Resize,
    SeparableConv,
    Upsample,
    ZeroPad,
)
from .render import FLAG_HELP, fmt_jump, fmt_num, fmt_pair
from .stages import stage_lines
from .tablewords import FLAG_HELP_JA
from .words import with_article

MAX_TOKENS = 8  # past this many layers the answer names the first and last, not every token
STAGED = 12  # past this many spatial layers the derivation is told stage by stage, after a summary
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _hw(sizes) -> str:
    """Sizes joined by ×: ``32×32``, or ``32×32×3`` for a shape."""
    return "×".join(str(v) for v in sizes)


def _axes(T, lines) -> list[str]:
    """One line when every axis reads the same, else one per axis."""
    if all(line == lines[0] for line in lines):
        return [f"  {lines[0]}"]
    names = T["axes"] if len(lines) == 2 else T["axes_nd"][len(lines)]
    return [f"  {names[a]}{T['colon']}{lines[a]}" for a in range(len(lines))]


def _pad_words(T, layer, pads) -> str:
    before, after = fmt_pair([p[0] for p in pads], "×"), fmt_pair([p[1] for p in pads], "×")
    if isinstance(layer.padding, tuple):
        return T["explicit"].format(before=before, after=after)
    if layer.padding == "valid":
        return T["valid"]
    return T["causal" if layer.padding == "causal" else "same"].format(before=before, after=after)


def _decoder(T, row, l, m, prev) -> list[str]:
    """Lines of an upsampling or transposed-conv layer: the jump shrinks and fields depend on the phase."""
    layer = row.layer
    if isinstance(layer, Upsample):
        what = T["up"].format(k=_hw(layer.size), how=T[layer.interpolation])
    elif isinstance(layer, Resize):  # an ONNX Resize to layer.size units: its mode and coordinate transform
        what = T["up"].format(k=_hw(layer.size), how=f"{layer.mode}, {layer.transform}")
    else:
        what = T["tconv"].format(
            k=_hw(layer.kernel), s=fmt_pair(layer.stride, "×"), pad=_pad_words(T, layer, row.padding)
        )
    out = [T["layer"].format(l=l, name=row.name, token=row.token, what=what, out=_hw(row.output_shape))]
    ax = row.axes[0]
    out.append(T["decoder"].format(l=l, j=fmt_jump(row.jump), period=fmt_pair([a.period for a in row.axes], "×")))
    for u in range(min(ax.period, row.output_shape[0], 4)):
        lo, hi = ax.at(u)
        out.append(T["phase"].format(u=u, lo=lo, hi=hi, w=hi - lo + 1) if lo <= hi else T["phase_none"].format(u=u))
    return out + [
        T["decoder_rf"].format(l=l, r=_hw(row.rf), rmin=_hw(row.rf_min), st=", ".join(fmt_num(v) for v in row.start))
    ]


def _window(T, row, l, m, prev) -> list[str]:
    """Lines of a conv or pooling layer ``l`` whose input is layer ``m`` with field ``prev``."""
    layer = row.layer
    k, s, d = layer.kernel, layer.stride, layer.dilation
    (r0, j0, st0) = prev
    axes = range(len(k))
    ke = [effective_kernel(k[a], d[a]) for a in axes]
    pads = row.padding
    pad = _pad_words(T, layer, pads)
    key = (
        "pool"
        if isinstance(layer, Pool)
        else "dw"
        if isinstance(layer, DepthwiseConv)
        else "sep"
        if isinstance(layer, SeparableConv)
        else "conv"
    )
    what = T[key].format(k=_hw(k), s=fmt_pair(s, "×"), pad=pad, op=T.get(getattr(layer, "op", ""), ""))
    dilated = any(v != 1 for v in d)
    if dilated:
        what += T["comma"] + T["dil"].format(d=fmt_pair(d, "×"))
    out = [T["layer"].format(l=l, name=row.name, token=row.token, what=what, out=_hw(row.output_shape))]
    if dilated:
        out += _axes(T, [f"k_eff = d·(k - 1) + 1 = {d[a]}·({k[a]} - 1) + 1 = {ke[a]}" for a in axes])
    if any(r0[a] + (ke[a] - 1) * j0[a] != row.rf[a] for a in axes) or row.rf != row.rf_min:
        # after upsampling the phases of the input read differently: the textbook step no longer holds
        return out + [
            T["decoder_rf"].format(
                l=l, r=_hw(row.rf), rmin=_hw(row.rf_min), st=", ".join(fmt_num(v) for v in row.start)
            )
        ]
    out += _axes(
        T, [f"r_{l} = r_{m} + (k_eff - 1)·j_{m} = {r0[a]} + ({ke[a]} - 1)·{fmt_num(j0[a])} = {row.rf[a]}" for a in axes]
    )
    out += _axes(T, [f"j_{l} = j_{m}·s_{l} = {fmt_num(j0[a])}·{s[a]} = {fmt_num(row.jump[a])}" for a in axes])
    out += _axes(
        T,
        [
            f"start_{l} = start_{m} + ((k_eff - 1)/2 - p_{l})·j_{m} = {fmt_num(st0[a])} + (({ke[a]} - 1)/2 - "
            f"{pads[a][0]})·{fmt_num(j0[a])} = {fmt_num(row.start[a])}"
            for a in axes
        ],
    )
    return out


def _other(T, row, l, m, prev) -> list[str]:
    layer = row.layer
    if isinstance(layer, (Upsample, ConvTranspose, Resize)):
        return _decoder(T, row, l, m, prev)
    if isinstance(layer, (ZeroPad, Crop)):
        pads = layer.pads if isinstance(layer, ZeroPad) else layer.crops
        if len(pads) == 2:
            what = T["zp" if isinstance(layer, ZeroPad) else "crop"].format(
                t=pads[0][0], b=pads[0][1], l=pads[1][0], r=pads[1][1]
            )
        else:
            what = T["pads_nd" if isinstance(layer, ZeroPad) else "crops_nd"].format(
                pads="×".join(f"{b}:{e}" for b, e in pads)
            )
        sign = "-" if isinstance(layer, ZeroPad) else "+"
        out = [T["layer"].format(l=l, name=row.name, token=row.token, what=what, out=_hw(row.output_shape))]
        axes = range(len(pads))
        out += _axes(T, [f"r_{l} = r_{m} = {row.rf[a]}" for a in axes])
        out += _axes(T, [f"j_{l} = j_{m} = {fmt_num(row.jump[a])}" for a in axes])
        return out + _axes(
            T,
            [
                f"start_{l} = start_{m} {sign} {pads[a][0]}·j_{m} = {fmt_num(prev[2][a])} {sign} "
                f"{pads[a][0]}·{fmt_num(prev[1][a])} = {fmt_num(row.start[a])}"
                for a in axes
            ],
        )
    what = T["merge"].format(names=T["comma"].join(row.inputs)) if len(row.inputs) > 1 else T["pointwise"]
    out = [T["layer"].format(l=l, name=row.name, token=row.token, what=what, out=_hw(row.output_shape))]
    return out + [
        T["keep"].format(
            l=l, r=_hw(row.rf), j="×".join(fmt_num(v) for v in row.jump), st=", ".join(fmt_num(v) for v in row.start)
        )
    ]


def _phrase(T, lang, rows) -> str:
    windows = [r.layer for r in rows if isinstance(r.layer, SPATIAL)]
    if not rows:
        return T["none"]
    plain = (
        all(isinstance(r.layer, (Conv, BatchNorm, Identity, Dense)) for r in rows)
        and windows
        and all(w.kernel == windows[0].kernel and w.stride == (1, 1) and w.dilation == (1, 1) for w in windows)
    )
    if plain and len(windows) == 1:
        return T["single"].format(k=_hw(windows[0].kernel))
    if plain:
        count = len(windows)
        words = _WORDS[count] if lang == "en" and count < len(_WORDS) else str(count)
        return T["stack"].format(count=words, k=_hw(windows[0].kernel))
    if len(rows) > MAX_TOKENS:  # a long network: its first and last layers, not every token
        return T["these_many"].format(count=len(rows), first=rows[0].name, last=rows[-1].name)
    return T["these"].format(count=len(rows), tokens=T["comma"].join(r.token for r in rows))


def _at(T, a: Analysis, last, at):
    """Lines for output unit ``at`` and its (lo, hi) input span per axis, and the part inside the input."""
    rank = len(last.rf)
    if isinstance(at, str):
        m = re.fullmatch(r"\s*\(?\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*\)?\s*", at)
        if not m:
            raise RFError(f"an output pixel is written i,j (row, column), as in 0,0. Received: at={at!r}")
        at = tuple(int(v) for v in m.group(1).split(","))
    try:
        unit = tuple(int(v) for v in (at if isinstance(at, (tuple, list)) else (at,)))
    except (TypeError, ValueError):
        raise RFError(f"an output pixel is a pair (row, column) of integers. Received: at={at!r}") from None
    sizes = last.output_shape[:-1]
    if len(unit) != rank:
        raise RFError(
            f"the output of {last.name} is {'×'.join(map(str, sizes))} ({rank}-D): give {rank} "
            f"coordinate{'s' if rank > 1 else ''} from 0 to size - 1. Received: at={at!r}"
        )
    if not all(0 <= u < n for u, n in zip(unit, sizes)):
        shown = ", ".join(map(str, unit))
        raise RFError(
            f"output unit ({shown}) is outside the {'×'.join(map(str, sizes))} output of {last.name}; "
            f"give {rank} coordinate{'s' if rank > 1 else ''} from 0 to size - 1. Received: at=({shown})"
        )
    hw = "×".join(map(str, sizes))
    title = (
        T["at_title"].format(i=unit[0], j=unit[1], name=last.name, hw=hw)
        if rank == 2
        else T["at_title"].replace("({i}, {j})", "({u})").format(u=", ".join(map(str, unit)), name=last.name, hw=hw)
    )
    lines = ["", title]
    spans, insides = [], []
    fields = last.field_of(unit)
    phased = last.axes is not None and any(ax.period > 1 for ax in last.axes)
    names = T["axes"] if rank == 2 else T["axes_nd"][rank]
    for axis, idx in enumerate(unit):
        label = T["rows" if axis == rank - 2 else "cols"] if rank >= 2 and axis >= rank - 2 else names[axis]
        n = a.input_shape[axis]
        lo, hi = fields[axis]
        if phased:
            lines.append(
                T["at_phase"].format(
                    axis=names[axis], i=idx, unit=label, lo=lo, hi=hi, rmin=last.rf_min[axis], r=last.rf[axis]
                )
            )
        else:
            var = "ij"[axis] if rank == 2 else "i" if rank == 1 else "ijk"[axis]
            lines.append(
                T["at_axis"].format(
                    axis=names[axis],
                    var=var,
                    st=fmt_num(last.start[axis]),
                    i=idx,
                    j=fmt_num(last.jump[axis]),
                    c=fmt_num(Fraction(lo + hi, 2)),
                    half=fmt_num(Fraction(last.rf[axis] - 1, 2)),
                    unit=label,
                    lo=lo,
                    hi=hi,
                )
            )
        sides = T["pad_side"][axis - rank + 2] if axis >= rank - 2 and rank >= 2 else T["pad_side"][0]
        if lo < 0:
            lines.append(T["in_pad"].format(unit=label, lo=lo, hi=min(hi, -1), side=sides[0]))
        if hi > n - 1:
            lines.append(T["in_pad"].format(unit=label, lo=max(lo, n), hi=hi, side=sides[1]))
        inside: tuple[int, int] | None = (max(lo, 0), min(hi, n - 1))
        if max(lo, 0) > min(hi, n - 1):
            lines.append(T["nothing"])
            inside = None
        else:
            lines.append(
                T["all_inside"]
                if (lo, hi) == inside
                else T["inside"].format(unit=label, lo=max(lo, 0), hi=min(hi, n - 1))
            )
        spans.append((lo, hi))
        insides.append(inside)
    if "holes" in last.flags:  # propagate's exact test of the field, not a guess from dilation and strides
        lines.append(T["gaps"])
    return unit, lines, tuple(spans), tuple(insides)


def _which(T, bad) -> str:
    return T["one"].format(l=bad[0] + 1) if len(bad) == 1 else T["many"].format(l=bad[0] + 1, m=bad[-1] + 1)


def _productivity(T, a: Analysis) -> list[str]:
    """Which layers cannot see more of the image, and from what input size on they would (rfcalc/border.py)."""
    p = a.productivity()
    hw = _hw(p.input_size)
    out = []
    ranges = p.ranges
    lo, hi = _hw([r.lo for r in ranges]), _hw([r.hi for r in ranges]) if all(r.exists for r in ranges) else ("", "")
    bad = p.unproductive_rows
    if bad:
        out.append(
            T["unprod"].format(
                which=_which(T, bad),
                hw=hw,
                prev=bad[0],
                name=p.border_name,
                each=T["one_reads"] if len(bad) == 1 else T["many_read"],
                reads=_hw(p.reads[bad[0]]),
                first=bad[0] + 1,
            )
        )
        if all(r.exists for r in ranges):
            out.append(T["would"].format(lo=lo, hi=hi, they=T["it"] if len(bad) == 1 else T["they"]))
    elif all(r.exists for r in ranges) and any(r.spatial for r in a.layers):
        out.append(T["productive"].format(hw=hw, lo=lo, hi=hi))
    partly = [i for i in range(len(a.layers)) if p.partly(i)]
    if partly:
        names = T["axes"] if a.rank == 2 else T["axes_nd"][a.rank]
        axes = {
            ax for i in partly for ax, f in enumerate(p.axes_unproductive[i] or ()) if f
        }  # partly(i): row i has flags
        out.append(
            T["partly"]
            .format(
                which=_which(T, partly),
                verb=T["is_"] if len(partly) == 1 else T["are"],
                axes=T["comma"].join(names[ax] for ax in sorted(axes)),
                pron=T["it"] if len(partly) == 1 else T["they"],
            )
            .replace("  ", " ")
        )
    missing = [r for r in ranges if not r.exists and r.why]
    if missing and any(r.spatial for r in a.layers):
        why = missing[0].why
        assert why is not None  # missing keeps only the ranges that say why
        kind, x, top = why
        out.append(T["no_range"].format(why=T[f"why_{kind}"].format(x=x, hi=top)))
    return out


@dataclass(frozen=True)
class Explanation:
    """The derivation text; with ``at``, the output pixel's input ``rows``/``cols`` (lo, hi) and their in-image part."""

    text: str
    lang: str
    analysis: Analysis
    at: tuple | None = None
    rows: tuple | None = None
    cols: tuple | None = None
    rows_inside: tuple | None = None
    cols_inside: tuple | None = None

    def __str__(self) -> str:
        return self.text

    def __rich__(self):
        from rich.text import Text

        return Text(self.text)

    def _repr_html_(self) -> str:
        """The derivation in a ``<pre>`` block, for notebooks."""
        import html

        return f'<pre style="white-space:pre-wrap">{html.escape(self.text)}</pre>'


def explain(spec_or_analysis, lang="en", at=None, input_shape=(32, 32, 3)) -> Explanation:
    """The worked receptive-field derivation of a spec (or an ``Analysis``) in ``lang`` 'en' or 'ja';
    decoder steps (upsampling, transposed convs) list the fields of the first units of each phase.

    >>> print(explain("c3,c3", lang="ja").text.splitlines()[-1])
    答え：3×3の畳み込みを2層重ねると、出力の1ピクセルは入力画像の5×5の領域から計算されます。
    """
    if lang not in LANGS:  # "JA", "ja_JP.UTF-8" name Japanese too (rfcalc.lang.pick)
        code = language_code(lang) if isinstance(lang, str) else None
        if code is None:
            raise RFError(f"lang must be one of {', '.join(LANGS)}. Received: lang={lang!r}")
        lang = code
    T = LANGS[lang]
    helps = FLAG_HELP_JA if lang == "ja" else FLAG_HELP
    a = spec_or_analysis if isinstance(spec_or_analysis, Analysis) else analyze(spec_or_analysis, input_shape)
    shape = _hw(a.input_shape) if a.rank == 2 else describe_input(a.input_shape)
    lines = [
        T["title"].format(spec=a.spec, shape=shape, a_shape=with_article(shape)),
        "",
        T["intro"],
        "",
        T["input"].format(shape=shape),
    ]
    start: tuple = ((1,) * a.rank, (1,) * a.rank, (Fraction(0),) * a.rank)
    seen: dict[str, tuple] = {}
    prev = start  # seen: layer name -> (number, field), for graphs whose rows name their inputs
    spatial, last = [], None
    heads = stage_lines(T, a, lines, STAGED)
    holed = False
    for l, row in enumerate(a.layers, start=1):
        m = l - 1
        if row.inputs:
            m, prev = seen.get(row.inputs[0], (0, start))
        lines.append("")
        if l in heads:
            lines += [heads[l], ""]
        if not row.spatial:
            before = last.output_shape[:-1] if last else a.input_shape[:-1]
            lines.append(T["flat"].format(l=l, name=row.name, token=row.token, map=_hw(before)))
            rest = a.layers[l:]
            if rest:
                lines.append(T["rest"].format(tokens=T["comma"].join(r.token for r in rest)))
            break
        lines += (_window if isinstance(row.layer, SPATIAL) else _other)(T, row, l, m, prev)
        if "holes" in row.flags and not holed:  # propagate's exact test, not a guess from dilation and strides
            lines.append(T["holes_here"].format(rf=_hw(row.rf)))
        holed = "holes" in row.flags
        lines += [f"  {flag}: {helps[flag]}" for flag in ("bound", "tokens") if flag in row.flags]
        prev = (row.rf, row.jump, row.start)
        seen[row.name] = (l, prev)
        spatial.append(row)
        last = row
    answer = T["answer"].format(phrase=_phrase(T, lang, spatial), region=_hw(a.rf), a_region=with_article(_hw(a.rf)))
    extra = []
    if any(j != 1 for j in a.jump):
        extra.append(T["jump"].format(j=fmt_jump(a.jump) if a.rank == 1 else fmt_pair(a.jump, "×")))
    if a.rf_exceeds_input:
        extra.append(T["bigger"].format(hw=_hw(a.input_shape[:-1])))
    if last is not None and "holes" in last.flags:
        extra.append(T["holes"].format(rf=_hw(a.rf)))
    elif last is not None and "holes?" in last.flags:
        extra.append(T["holes_maybe"].format(rf=_hw(a.rf)))
    extra += _productivity(T, a)
    lines += [""] + extra + [answer]
    spans: tuple = (None, None)
    insides: tuple = (None, None)
    pixel = None
    if at is not None:
        if last is None:
            raise RFError(
                f"{a.spec!r} has no spatial layer, so there is no output pixel to locate. Received: at={at!r}"
            )
        pixel, at_lines, spans, insides = _at(T, a, last, at)
        lines += at_lines
    spans, insides = tuple(spans) + (None,) * 2, tuple(insides) + (None,) * 2
    first = 0 if a.rank < 3 else a.rank - 2  # rows and cols: the last two axes (the only one in 1-D)
    return Explanation(
        "\n".join(lines), lang, a, pixel, spans[first], spans[first + 1], insides[first], insides[first + 1]
    )
