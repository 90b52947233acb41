"""explain on a long network reads as a summary and one paragraph per stage, and says when the field
has holes (issue 18, point 10)."""

from __future__ import annotations

import os
import re

import pytest

from rfcalc import analyze, explain
from rfcalc.frameworks.dispatch import analyze_source

RESNET50 = os.path.join(os.path.dirname(__file__), "fixtures", "onnx", "resnet50.onnx")


@pytest.fixture(scope="module")
def resnet50():
    return analyze_source(RESNET50)


@pytest.mark.parametrize(
    "lang,summary,stage,answer",
    [
        ("en", "In short: 172 spatial layers in 5 stages", r"^Stage (\d), (\S+) \(layers (\d+)-(\d+)\)", "Answer: "),
        ("ja", "まとめ：空間方向の層 172 層が 5 段に分かれ", r"^段 (\d)「(\S+)」（第(\d+)〜(\d+)層）", "答え："),
    ],
)
def test_resnet50_is_a_summary_then_a_paragraph_per_stage(resnet50, lang, summary, stage, answer):
    text = explain(resnet50, lang=lang).text
    lines = text.splitlines()
    assert max(len(line) for line in lines) < 300  # was one 1,655-character answer sentence
    assert summary in text
    heads = [re.match(stage, line) for line in lines if re.match(stage, line)]
    assert [h.group(2) for h in heads] == ["conv1..maxpool", "layer1", "layer2", "layer3", "layer4"]
    spans = [(int(h.group(3)), int(h.group(4))) for h in heads]
    assert spans[0][0] == 1 and all(b + 1 == c for (_, b), (c, _) in zip(spans, spans[1:]))  # they tile the layers
    final = next(line for line in lines if line.startswith(answer))
    assert len(final) < 200 and "427×427" in final
    items = [line for line in lines if line.startswith("  - ")]
    assert len(items) == 5 and "267×267" in items[3] and "427×427" in items[4]


def test_each_stage_reports_the_field_the_rows_have(resnet50):
    text = explain(resnet50).text
    for name, rf in (("layer1", resnet50.row("layer1.2.relu_2").rf), ("layer4", resnet50.rf)):
        item = next(line for line in text.splitlines() if line.startswith(f"  - {name}:"))
        assert item.split("field ")[1].split(",")[0].endswith("×".join(map(str, rf)))


@pytest.mark.parametrize(
    "spec,lang,words",
    [
        ("c3d2*3,c3d4", "en", ("From here the field has holes", "The 21×21 region has holes")),
        ("c3d2*3,c3d4", "ja", ("ここから受容野に穴があります", "この 21×21 の領域には穴があります")),
        ("p1s2,c3", "en", ("The 5×5 region has holes",)),  # a jump of 2 wider than the 1-pixel window reaches
    ],
)
def test_holes_in_the_field_are_said(spec, lang, words):
    a = analyze(spec)
    assert "holes" in a.layers[-1].flags  # propagate's exact test is what the text follows
    text = explain(a, lang=lang).text
    for w in words:
        assert w in text


def test_fields_without_holes_say_nothing_of_holes_and_b222_is_unchanged():
    text = explain("c3,c3").text
    assert "holes" not in text and "In short" not in text and "Stage" not in text
    assert text.splitlines()[-1] == (
        "Answer: stacking two 3×3 convolutions, one pixel of the output feature map "
        "is computed from a 5×5 region of the input image."
    )
    assert "Answer: after these 6 layers (c3, c3, p2, c3, c3, p2)" in explain("(c3,c3,p2)*2").text
