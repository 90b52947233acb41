"""What people see for 1-D, 3-D and decoder specs: the table header in words, per-axis columns,
jumps as fractions, --json with one entry per axis, explain (en, ja) walking through a decoder
step, --at with Row.field_of, compare and symbolic on 1-D/3-D."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from rfcalc import analyze
from rfcalc.cli import main
from rfcalc.explanation import explain
from rfcalc.render import to_text


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    "shape, words",
    [
        ("28x28", "1-D input: length 28, 28 channels"),  # the trap: two numbers are a sequence, said in words
        ("16000x1", "1-D input: length 16000, 1 channel"),
        ("16x112x112x3", "3-D input: 16x112x112 voxels, 3 channels"),
        ("32x32x3", "input 32x32x3"),  # images keep today's header
    ],
)
def test_the_table_header_states_the_rank_in_words(capsys, shape, words):
    code, out, _ = run(capsys, "c3,p2", "--input", shape)
    assert code == 0 and words in out.splitlines()[0]


def test_json_has_one_entry_per_axis_and_fraction_jumps(capsys):
    code, out, _ = run(capsys, "c3,p2,up2,up2", "--input", "16x1", "--json")
    data = json.loads(out)
    assert code == 0 and data["input_shape"] == [16, 1] and data["rf"] == [4] and data["jump"] == [0.5]
    assert data["layers"][-1]["rf_min"] == [4] and data["layers"][0]["padding"] == [[1, 1]]
    code, out, _ = run(capsys, "c3,p2", "--input", "8x8x8x2", "--json")
    data = json.loads(out)
    assert data["rf"] == [4, 4, 4] and data["jump"] == [2, 2, 2] and data["output_shape"] == [4, 4, 4, 32]


def test_table_prints_jumps_below_one_as_fractions():
    text = to_text(analyze("p2,p2,up2,up2,up2", input_shape="32x32x1"))
    assert " 1/2 " in text and "jump 1/2" in text


def test_explain_walks_through_a_decoder_step_in_english_and_japanese():
    en = explain("c3,p2,c3,up2,c3", lang="en", input_shape="16x1").text
    ja = explain("c3,p2,c3,up2,c3", lang="ja", input_shape="16x1").text
    assert "1-D input: length 16, 1 channel" in en
    assert "units of different phases read different inputs" in en and "unit 1: input" in en
    assert "位相の違うユニット" in ja and "ユニット 1：入力" in ja
    a = analyze("c3,p2,c3,up2,c3", input_shape="16x1")
    lo, hi = a.layers[3].field_of((1,))[0]
    assert f"unit 1: input {lo}..{hi} ({hi - lo + 1} pixels)" in en


@pytest.mark.parametrize(
    "spec, shape, unit",
    [("c3,p2,up2,c3", "16x1", (5,)), ("c3s2,t3s2", "8x8x8x1", (1, 2, 3)), ("c3,c3,p2", "32x32x3", (3, 4))],
)
def test_explain_at_reads_the_exact_field_of_the_unit(spec, shape, unit):
    a = analyze(spec, input_shape=shape)
    e = explain(a, at=unit)
    fields = a.layers[-1].field_of(unit)
    for lo, hi in fields:
        assert f"{lo}..{hi}" in e.text
    assert e.at == unit


def test_explain_at_refuses_a_unit_of_the_wrong_rank():
    from rfcalc.errors import RFError

    with pytest.raises(RFError, match="give 1 coordinate"):
        explain("c3", at=(1, 2), input_shape="16x1")


def test_compare_and_symbolic_work_on_1d(capsys):
    code, out, _ = run(capsys, "compare", "c2d1..512/causal", "c1025/causal", "--input", "16000x1")
    assert code == 0 and "1-D input: length 16000" in out and "1024" in out and "1025" in out
    code, out, _ = run(capsys, "c{k}d2^0..{m}/causal", "--symbolic", "--input", "16000x1", "--json")
    data = json.loads(out)
    assert code == 0 and data["rf"] == ["(2**(m + 1) - 1)*(k - 1) + 1"] and data["output_size"] == ["16000"]


def test_field_of_is_the_affine_formula_on_plain_stacks():
    a = analyze("c3,c3s2,p3s2,c5d2", input_shape="64x48x3")
    for row in a.layers:
        for unit in [(0, 0), (3, 7), (10, 2)]:
            for (lo, hi), s, u, j, r in zip(row.field_of(unit), row.start, unit, row.jump, row.rf):
                assert Fraction(lo + hi, 2) == s + u * j and hi - lo + 1 == r
