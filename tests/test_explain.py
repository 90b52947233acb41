"""The worked derivation: the B2-2-2 answer, and every number checked against a brute-force index oracle."""

from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO

import pytest
from hypothesis import given, settings, strategies as st

from rfcalc import analyze, parse
from rfcalc.errors import RFError, SpecError, SymbolError
from rfcalc.explanation import Explanation, explain
from rfcalc.layers import Crop, ZeroPad

# ---------------------------------------------------------------- the oracle: index sets from the definitions


def _axis_ops(layers, axis):
    """Per-axis description of each layer, read straight off the layer values."""
    ops = []
    for layer in layers:
        if hasattr(layer, "kernel"):
            ops.append(("win", layer.kernel[axis], layer.stride[axis], layer.dilation[axis], layer.padding))
        elif isinstance(layer, ZeroPad):
            ops.append(("pad", *layer.pads[axis]))
        elif isinstance(layer, Crop):
            ops.append(("crop", *layer.crops[axis]))
        elif type(layer).__name__ in ("Flatten", "GlobalPool"):
            break
        else:
            ops.append(("id",))
    return ops


def _forward(ops, n):
    """Input size and the 'before' offset of every layer: TF 'same' padding puts the odd pixel after."""
    plan = []
    for op in ops:
        if op[0] == "win":
            _, k, s, d, padding = op
            span = d * (k - 1) + 1
            if padding == "same":
                out = (n + s - 1) // s
                before = max((out - 1) * s + span - n, 0) // 2
            else:
                out, before = (n - span) // s + 1, 0
            plan.append((op, n, before))
            n = out
        elif op[0] == "pad":
            plan.append((op, n, op[1]))
            n = n + op[1] + op[2]
        elif op[0] == "crop":
            plan.append((op, n, -op[1]))
            n = n - op[1] - op[2]
        else:
            plan.append((op, n, 0))
    return plan, n


def _sources(ops, n, index, keep_padding=True):
    """Input indices output unit ``index`` depends on; padding of inner layers kept as virtual units or dropped."""
    plan, _ = _forward(ops, n)
    units = {index}
    for op, n_in, before in reversed(plan):
        if op[0] == "win":
            _, k, s, d, _ = op
            units = {p * s - before + t * d for p in units for t in range(k)}
        else:
            units = {p - before for p in units}
        if not keep_padding:
            units = {p for p in units if 0 <= p < n_in}
    return units


def _oracle_rf(ops, n):
    """Receptive field after each layer (hull of the virtual index set of unit 0)."""
    out = []
    for i in range(1, len(ops) + 1):
        units = _sources(ops[:i], n, 0)
        out.append(max(units) - min(units) + 1)
    return out


# ---------------------------------------------------------------- the course question


def test_b2_2_2_answer_in_english():
    e = explain("c3,c3")
    assert e.text.splitlines()[-1] == (
        "Answer: stacking two 3×3 convolutions, one pixel of the output feature map "
        "is computed from a 5×5 region of the input image."
    )
    assert "r_2 = r_1 + (k_eff - 1)·j_1 = 3 + (3 - 1)·1 = 5" in e.text
    assert str(e) == e.text


def test_b2_2_2_answer_in_japanese():
    e = explain("c3,c3", lang="ja")
    assert "3×3の畳み込みを2層重ねると、出力の1ピクセルは入力画像の5×5の領域から計算されます。" in e.text
    assert "受容野" in e.text and "ストライド" in e.text and "パディング" in e.text and "出力特徴マップ" in e.text


@pytest.mark.parametrize(
    "lang, words", [("en", ["6×6 region", "2 input pixels apart"]), ("ja", ["6×6の領域", "2 ピクセルずつずれています"])]
)
def test_pooling_after_two_convs_gives_6x6_with_jump_2(lang, words):
    text = explain("c3,c3,p2", lang=lang).text
    for w in words:
        assert w in text


# ---------------------------------------------------------------- numbers against the oracle

STACKS = {
    "strided": ("c3s2,c3s2,c3", (33, 32, 3)),
    "dilated": ("c3d2,c3d4,c3", (32, 32, 3)),
    "pooled": ("c3,c3,p2,c3,c3,p2", (32, 32, 3)),
    "valid_and_avg_pool": ("c5/valid,a3s2,c3/valid", (28, 28, 1)),
    "same_pool_odd_size": ("c3,p2/same,c3s2", (15, 15, 3)),
    "non_square": ("c3x1,c1x5s1x2,p2", (20, 13, 3)),
    "padding_and_cropping": ("zp2,c5/valid,crop1,c3", (16, 16, 3)),
    "depthwise_separable": ("dw3s2,sep3-16,bn,c3d2", (17, 23, 3)),
    "stride_longer_than_window": ("c1s3,c3", (12, 12, 3)),
    "seed_head": ("c3,c3,p2,flat,fc20,fc10/softmax", (32, 32, 3)),
}


def _printed_rf(text, layer, axis_name):
    """The last number on the printed ``r_l = ...`` line of layer ``layer`` for one axis (or both)."""
    for line in text.splitlines():
        m = re.match(rf"\s+(?:(\w+): )?r_{layer} = .* = (\d+)$", line)
        if m and m.group(1) in (None, axis_name):
            return int(m.group(2))
    m = re.search(rf"r_{layer} = (\d+)(?:×(\d+))?,", text)  # the "r, j and start stay" line
    if m:
        return int(m.group(1) if axis_name == "height" or not m.group(2) else m.group(2))
    raise AssertionError(f"no r_{layer} line in\n{text}")


@pytest.mark.parametrize("spec, shape", STACKS.values(), ids=STACKS.keys())
def test_printed_receptive_fields_match_the_oracle(spec, shape):
    layers = parse(spec)
    text = explain(spec, input_shape=shape).text
    for axis, name in enumerate(("height", "width")):
        ops = _axis_ops(layers, axis)
        for l, rf in enumerate(_oracle_rf(ops, shape[axis]), start=1):
            assert _printed_rf(text, l, name) == rf, (spec, l, name)


@pytest.mark.parametrize("spec, shape", STACKS.values(), ids=STACKS.keys())
def test_output_pixel_rows_and_columns_match_the_oracle(spec, shape):
    layers = parse(spec)
    ops = [_axis_ops(layers, a) for a in range(2)]
    out = [_forward(ops[a], shape[a])[1] for a in range(2)]
    for i, j in {(0, 0), (out[0] - 1, out[1] - 1), (out[0] // 2, 0), (0, out[1] - 1)}:
        e = explain(spec, at=(i, j), input_shape=shape)
        for axis, idx, span, inside in ((0, i, e.rows, e.rows_inside), (1, j, e.cols, e.cols_inside)):
            virtual = _sources(ops[axis], shape[axis], idx)
            assert span == (min(virtual), max(virtual)), (spec, axis, idx)
            real = _sources(ops[axis], shape[axis], idx, keep_padding=False)
            clipped = set(range(max(min(virtual), 0), min(max(virtual), shape[axis] - 1) + 1))
            assert inside == ((min(clipped), max(clipped)) if clipped else None)
            assert real <= clipped
        assert f"rows {e.rows[0]}..{e.rows[1]}" in e.text and f"columns {e.cols[0]}..{e.cols[1]}" in e.text


@settings(max_examples=40, deadline=None)
@given(
    tokens=st.lists(
        st.sampled_from(
            [
                "c3",
                "c5",
                "c3s2",
                "c3d2",
                "c3/valid",
                "p2",
                "p3s2",
                "p2/same",
                "a2s1",
                "c3x1",
                "c1x3s1x2",
                "zp1",
                "crop1",
                "bn",
                "dw3s2",
                "c2s3",
            ]
        ),
        min_size=1,
        max_size=5,
    ),
    h=st.integers(8, 40),
    w=st.integers(8, 40),
    fi=st.floats(0, 1),
    fj=st.floats(0, 1),
)
def test_random_stacks_locate_any_output_pixel_like_the_oracle(tokens, h, w, fi, fj):
    spec = ",".join(tokens)
    try:
        a = analyze(spec, (h, w, 3))
    except RFError:
        return
    oh, ow = a.output_shape[:2]
    i, j = min(int(fi * oh), oh - 1), min(int(fj * ow), ow - 1)
    e = explain(a, at=(i, j))
    layers = parse(spec)
    for axis, idx, span in ((0, i, e.rows), (1, j, e.cols)):
        virtual = _sources(_axis_ops(layers, axis), (h, w)[axis], idx)
        assert span == (min(virtual), max(virtual))
    assert f"{a.rf[0]}×{a.rf[1]}" in e.text


# ---------------------------------------------------------------- --at, padding, and non-spatial layers


@pytest.mark.parametrize(
    "lang, at, words",
    [
        (
            "en",
            (0, 0),
            [
                "rows -2..2",
                "rows -2..-1 lie in the top padding",
                "columns -2..-1 lie in the left padding",
                "Inside the image: rows 0..2",
            ],
        ),
        ("en", (31, 31), ["rows 29..33", "rows 32..33 lie in the bottom padding", "columns 32..33 lie in the right"]),
        ("en", (10, 20), ["rows 8..12", "columns 18..22", "All of them are inside the image."]),
        (
            "ja",
            (0, 0),
            ["行 -2〜2", "行 -2〜-1 は上側のパディング", "列 -2〜-1 は左側のパディング", "画像の内側にあるのは行 0〜2"],
        ),
        ("ja", "31,31", ["行 32〜33 は下側のパディング", "列 32〜33 は右側のパディング"]),
    ],
)
def test_output_pixel_at_the_border_reaches_into_the_padding(lang, at, words):
    e = explain("c3,c3", lang=lang, at=at)
    for w in words:
        assert w in e.text, w


def test_region_larger_than_the_image_is_said_and_clipped():
    e = explain("c7*3", input_shape=(8, 8, 3), at=(0, 0))
    assert "19×19 region" in e.text and "larger than the 8×8 image" in e.text
    assert e.rows == (-9, 9) and e.rows_inside == (0, 7)


@pytest.mark.parametrize(
    "spec, lang, words",
    [
        (
            "c3,c3,p2,flat,fc20",
            "en",
            ["flatten (flat): the spatial layout ends here", "(fc20) have no spatial extent", "16×16 feature map"],
        ),
        ("c3,gap,fc10", "en", ["global_average_pooling2d (gap): the spatial layout ends here"]),
        ("c3,c3,flat,fc10", "ja", ["ここで空間の並びがなくなります", "32×32 の特徴マップ全体"]),
    ],
)
def test_non_spatial_layers_end_the_derivation(spec, lang, words):
    text = explain(spec, lang=lang).text
    for w in words:
        assert w in text
    assert "r_3" not in text.split("spatial layout ends")[-1]


def test_an_analysis_can_be_explained_and_rendered_with_rich():
    from rich.console import Console

    e = explain(analyze("c3,c3", (64, 48, 1)))
    assert isinstance(e, Explanation) and "64×48×1" in e.text
    out = StringIO()
    Console(file=out, width=200, color_system=None).print(e)
    assert "5×5 region" in out.getvalue()


def test_explain_does_not_import_sympy():
    code = "import sys, rfcalc; rfcalc.explain('c3,c3', lang='ja', at=(0, 0)); print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(spec_or_analysis="c3,c3", lang="fr"), RFError, "lang='fr'"),
        (dict(spec_or_analysis="c3,c3", at=(32, 0)), RFError, "at=(32, 0)"),
        (dict(spec_or_analysis="c3,c3", at=(0, -1)), RFError, "at=(0, -1)"),
        (dict(spec_or_analysis="c3,c3,p2", at=(16, 0)), RFError, "16×16"),
        (dict(spec_or_analysis="c3,c3", at="a,b"), RFError, "at='a,b'"),
        (dict(spec_or_analysis="c3,c3", at=(1,)), RFError, "Received"),
        (dict(spec_or_analysis="c3,,c3"), SpecError, "empty layer"),
        (dict(spec_or_analysis="c{k}*2"), SymbolError, "{k}"),
        (dict(spec_or_analysis="flat,fc10", at=(0, 0)), RFError, "no spatial layer"),
    ],
)
def test_bad_input_raises_an_rferror_naming_it(kwargs, error, words):
    with pytest.raises(error) as info:
        explain(**kwargs)
    assert words in str(info.value)


def test_the_docs_quote_what_explain_prints():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "b2-2-2.md").read_text(encoding="utf-8")
    ja = explain("c3,c3", lang="ja").text.splitlines()[-1].removeprefix("答え：")
    en = explain("c3,c3").text.splitlines()[-1].removeprefix("Answer: ")
    assert f"**{ja}**" in doc and f"**{en[0].upper() + en[1:]}**" in doc
    assert 'rfcalc explain "c3,c3" --lang ja' in doc


def test_graph_rows_take_their_field_from_the_named_input():
    from rfcalc.analysis import Analysis, make_row
    from rfcalc.layers import Conv, Identity
    from rfcalc.propagate import apply_layer, input_field, merge_fields

    x = input_field((16, 16, 3))
    a1 = apply_layer(Conv((3, 3)), x)
    a2 = apply_layer(Conv((3, 3)), a1.field)
    add = merge_fields([a1.field, a2.field])
    a3 = apply_layer(Conv((3, 3), stride=(2, 2)), a1.field)  # a branch off the first conv
    rows = (
        make_row(0, "conv2d", Conv((3, 3)), x, a1, (16, 16)),
        make_row(1, "conv2d_1", Conv((3, 3)), a1.field, a2, (16, 16)),
        make_row(2, "add", Identity("Add"), a1.field, add, (16, 16), ("conv2d", "conv2d_1")),
        make_row(3, "conv2d_2", Conv((3, 3), stride=(2, 2)), a1.field, a3, (16, 16), ("conv2d",)),
    )
    text = explain(Analysis("graph", (16, 16, 3), rows)).text
    assert "merges conv2d, conv2d_1" in text
    assert "r_4 = r_1 + (k_eff - 1)·j_1 = 3 + (3 - 1)·1 = 5" in text  # from conv2d, not from add
