"""--symbolic and --plot of rfcalc design: closed forms checked against analyze and the search; a real PNG."""

from __future__ import annotations

import json

import pytest

import rfcalc
from rfcalc.cli import main

sp = pytest.importorskip("sympy")


def test_least_3x3_count_is_half_the_field_and_matches_the_search():
    from rfcalc.designer.symbolic import families

    d = rfcalc.design(41, layers="c3", max_depth=25)
    row = families(d).rows[0]
    assert row.family == "c3*{n}" and row.count == 20 == d.best("depth").depth
    R = sp.Symbol("R", positive=True)
    assert sp.simplify(row.least - sp.ceiling((R - 1) / 2)) == 0


@pytest.mark.parametrize("target", [10, 32, 57, 100])
def test_every_family_row_is_the_least_count_and_reproduces(target):
    from rfcalc.designer.symbolic import families

    d = rfcalc.design(target, layers="c3,c5,p2", input_shape=(256, 256, 3), max_depth=8)
    n, R = sp.Symbol("n", integer=True, positive=True), sp.Symbol("R", positive=True)
    for row in families(d).rows:
        assert row.rf.subs(n, row.count) >= target
        assert row.count == 1 or row.rf.subs(n, row.count - 1) < target  # no smaller n reaches R
        assert int(row.least.subs(R, target)) == row.count
        a = rfcalc.analyze(row.spec, input_shape=(256, 256, 3))
        assert (min(a.rf), a.total_params, a.total_macs) == (row.rf_value, row.params, row.macs)
        assert a.rf[0] == row.rf.subs(n, row.count)


def test_symbolic_json_is_one_document(capsys):
    code = main(["design", "--rf", "20", "--layers", "c3,p2", "--symbolic", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["symbolic"]["families"][0]["least_count"] == "ceiling(R/2 - 1/2)"


def test_plot_writes_a_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "front.png"
    code = main(["design", "--cover", "--min-output", "8", "--plot", str(out)])
    assert code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"plot: {out}" in capsys.readouterr().out


def test_free_dilation_vocabulary_gets_the_doubling_schedule_form():
    from rfcalc.designer.symbolic import families

    d = rfcalc.design(1024, input_shape=(16000, 1), layers="c2d*/causal")
    row = families(d).rows[0]
    n = sp.Symbol("n", integer=True, positive=True)
    assert row.rf.subs(n, row.count) >= 1024 > row.rf.subs(n, row.count - 1)
    assert row.count == d.best("depth").depth == 10 and row.spec == d.best("depth").spec == "c2d1..512/causal"
    assert (row.params, row.macs) == (d.best("depth").params, d.best("depth").macs)
