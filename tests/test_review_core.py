"""Regressions found in review: each case names the behaviour it keeps."""

import json

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
