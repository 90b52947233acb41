"""Regressions found in review: each case names the behaviour it keeps."""

import json

import pytest

from rfcalc.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_symbolic_with_a_head_accepts_the_trailing_comma_the_plain_path_accepts(capsys):
    code, out, err = run(capsys, "c3,", "--head", "seed", "--symbolic", "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["spec"] == "c3,flat,fc20,fc10/softmax"


def test_a_note_from_a_nested_symbolic_repeat_is_said_once():
    from rfcalc.symbolic import closed_forms

    notes = closed_forms("((c3s2,zp1)*{a})*{n}").notes
    assert notes and len(notes) == len(set(notes))


@pytest.mark.parametrize(
    "spec, gaps",
    [
        ("c3d2", True),  # taps 2 apart: pixels 1 and 3 of 0..4 are skipped
        ("p1s2,c3", True),  # a 3x3 window over a stride the 1x1 pool left uncovered
        ("c3d2,c3", False),  # the second conv fills the dilation's holes: all of 7x7 is read
        ("p1s2", False),  # a 1x1 field: its one pixel is read
    ],
)
def test_explain_mentions_unread_pixels_only_when_the_field_has_holes(spec, gaps):
    from rfcalc.explanation import explain

    assert ("not every pixel" in explain(spec, at=(0, 0)).text) is gaps
