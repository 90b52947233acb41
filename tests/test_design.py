"""rfcalc design as a user meets it: the library result, the command, reproduction of every row, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import FrozenInstanceError

import pytest

import rfcalc
from rfcalc.cli import main
from rfcalc.errors import RFError, SpecError


def run(capsys, *argv):
    try:
        code = main(["design", *argv])
    except SystemExit as exit:  # argparse's own usage errors
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


QUERIES = {
    "notebook_cover": dict(cover=True),
    "notebook_cover_head_schedule": dict(cover=True, min_output=4, filters=(32, 64, 128), head="seed"),
    "rf_64_rich_vocabulary": dict(rf=64, layers="c3,c5,c3d2,p2,a2,c3s2", min_output="4x4", max_depth=14),
    "like_template": dict(rf=10, like="c3,c3,p2"),
    "budgets": dict(rf=24, max_params=50_000, max_macs=5_000_000),
    "non_square": dict(rf="20x9", input_shape=(24, 12, 1), layers="c3,c3x1,p2"),
}


@pytest.mark.parametrize("name", QUERIES)
def test_every_row_reproduces_under_analyze(name):
    kw = dict(QUERIES[name])
    d = rfcalc.design(kw.pop("rf", None), top=None, **kw)
    shape = kw.get("input_shape", (32, 32, 3))
    assert d.proven and d.rows
    for row in d.rows:
        again = rfcalc.analyze(row.spec, input_shape=shape)
        assert again.to_dict() == row.analysis.to_dict()
        assert (again.total_params, again.total_macs) == (row.params, row.macs)
        assert len(rfcalc.parse(row.stack)) == row.depth


def test_cli_json_rows_reproduce_under_rfcalc_spec(capsys):
    code, out, _ = run(
        capsys, "--rf", "32", "--layers", "c3,c5,p2,c3s2", "--min-output", "2", "--json", "--filters", "16,32"
    )
    assert code == 0
    data = json.loads(out)
    assert data["search"]["proven_optimal"] is True and data["front"]
    for entry in data["front"]:
        code, again, _ = capsys.readouterr() and (main([entry["spec"], "--json"]), *capsys.readouterr())
        assert code == 0
        mine = {k: v for k, v in entry.items() if k not in ("depth", "stack", "stack_output_shape", "wins")}
        assert json.loads(again) == mine


def test_the_course_question_has_the_documented_answer():
    d = rfcalc.design(cover=True, min_output=4, max_depth=12)
    best = d.best("params")
    assert best.spec == "p2*3,c5,c3" and best.params == 11_680 and best.macs == 185_856
    assert best.analysis.rf == (56, 56) and best.output_shape == (4, 4, 32)


DOCS_TABLE = [  # docs/design.md, the course's question: (request, best-for-params spec, params, MACs)
    (dict(cover=True), "p2*5,c3", 896, 864),
    (dict(cover=True, min_output=4), "p2*3,c5,c3", 11_680, 185_856),
    (dict(cover=True, min_output=8), "p2*2,c5,c3*5", 48_672, 3_102_720),
    (dict(cover=True, layers="c3,c5", max_depth=40), "c5,c3*29", 270_624, 276_135_936),
    (dict(rf=32, min_output=8), "p2*2,c5,c3*2", 20_928, 1_333_248),
    (dict(cover=True, min_output=4, head="seed"), "p2*3,c5,c3,flat,fc20,fc10/softmax", 22_150, 196_296),
]


@pytest.mark.parametrize("kw, spec, params, macs", DOCS_TABLE)
def test_the_docs_table_is_what_the_search_finds(kw, spec, params, macs):
    kw = dict(kw)
    best = rfcalc.design(kw.pop("rf", None), **kw).best("params")
    assert (best.spec, best.params, best.macs) == (spec, params, macs)


def test_fewest_layers_at_8x8_is_the_documented_one():
    best = rfcalc.design(cover=True, min_output=8).best("depth")
    assert (best.spec, best.params, best.macs, best.depth) == ("p2*2,c5,c3,c5*2", 62_944, 4_020_224, 6)


def test_each_objective_has_one_winner_and_rows_sort_by_the_chosen_one():
    d = rfcalc.design(cover=True, min_output=8, max_depth=12, minimize="macs", top=None)
    assert [o for r in d.rows for o in r.wins].count("macs") == 1
    assert d.rows[0].wins and "macs" in d.rows[0].wins
    assert [r.macs for r in d.rows] == sorted(r.macs for r in d.rows)
    for a in d.rows:  # a front: nobody beats anybody on all three
        assert not any(b is not a and b.params <= a.params and b.macs <= a.macs and b.depth <= a.depth for b in d.rows)


def test_result_is_frozen_and_renders_as_text_and_html():
    d = rfcalc.design(32, max_depth=6)
    with pytest.raises(FrozenInstanceError):
        d.minimize = "macs"
    text = str(d)
    assert "Spec" in text and "Best for" in text and "Exact:" in text and "p2*5,c3" in text
    html = d._repr_html_()
    assert html.startswith("<div>") and "<table>" in html and "p2*5,c3" in html


def test_top_limits_rows_and_says_how_many_more(capsys):
    code, out, _ = run(capsys, "--cover", "--min-output", "16", "--max-depth", "20", "--top", "2")
    assert code == 0 and "more stacks on the front (--top to show them)" in out


def test_depth_bound_is_reported_when_it_cuts(capsys):
    code, out, _ = run(capsys, "--rf", "32", "--max-depth", "5")
    assert code == 0 and "Bounds that cut the search: depth" in out


def test_like_keeps_order_and_kinds():
    d = rfcalc.design(10, like="c3,c3,p2", top=None)
    for row in d.rows:
        kinds = [type(layer).__name__ for layer in rfcalc.parse(row.stack)]
        first_pool = kinds.index("Pool")
        assert kinds[0] == "Conv" and set(kinds[:first_pool]) == {"Conv"} and set(kinds[first_pool:]) == {"Pool"}
        assert min(row.analysis.rf) >= 10


def test_free_dilation_token_tries_powers_of_two():
    d = rfcalc.design(31, layers="c3d*", max_depth=6, top=None)
    assert d.best("depth").stack == "c3d1..8"  # c3,c3d2,c3d4,c3d8: field 31 without holes, the WaveNet doubling


def test_state_limit_stops_with_a_not_proven_mark(capsys):
    code, out, _ = run(capsys, "--cover", "--min-output", "16", "--max-depth", "30", "--max-states", "200")
    assert code == 0 and "NOT PROVEN OPTIMAL" in out


def test_state_limit_with_a_seed_still_gives_rows_marked_not_proven(capsys):
    code, out, _ = run(
        capsys,
        "--rf",
        "200",
        "--input",
        "224x224x3",
        "--layers",
        "c3,c5,c3d2,p2",
        "--min-output",
        "7",
        "--max-depth",
        "20",
        "--max-states",
        "50",
    )
    assert code == 0 and "NOT PROVEN OPTIMAL: the search stopped at its states limit" in out


def test_time_limit_stops_the_search_and_says_so():
    with pytest.raises(RFError, match="before the search stopped at its time limit"):
        rfcalc.design(64, layers="c3,c5,c3d2,p2,a2,c3s2", min_output=4, max_depth=16, seconds=0.0)


def test_design_cli_loads_nothing_heavy():
    code = (
        "import io, contextlib, sys, rfcalc.cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
        "    rfcalc.cli.main(['design', '--rf', '32', '--json'])\n"
        "print(' '.join(m for m in ('tensorflow', 'sympy', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == []


BAD = {
    "token_that_does_not_parse": (["--rf", "32", "--layers", "c3,q3,p2"], "unknown layer 'q3'", "     ^^"),
    "option_that_does_not_parse": (["--rf", "32", "--layers", "c3,c5q"], "unknown option 'q'", "       ^"),
    "item_of_two_layers": (["--rf", "32", "--layers", "c3*2,p2"], "each vocabulary item is one layer", "  ^^^^"),
    "empty_item": (["--rf", "32", "--layers", "c3,,p2"], "empty vocabulary item", "     ^"),
    "token_twice": (["--rf", "32", "--layers", "c3,conv3"], "is in the vocabulary twice", "     ^^^^^"),
    "pooling_only": (["--rf", "32", "--layers", "p2,a2"], "needs a convolution", "  ^^^^^"),
    "dense_in_vocabulary": (["--rf", "32", "--layers", "c3,fc10"], "put Flatten/Dense in --head", "     ^^^^"),
    "free_dilation_on_a_pool": (["--rf", "32", "--layers", "c3,p2d*"], "needs a convolution", "       ^^"),
    "free_dilation_in_like": (["--rf", "32", "--like", "c3d*,p2"], "varies dilations itself", "  ^^^^"),
    "field_of_one": (["--rf", "1"], "nothing to design", None),
    "field_not_a_number": (["--rf", "big"], "the target field is N or HxW", None),
    "min_output_above_input": (["--rf", "8", "--min-output", "40x40"], "larger than the 32x32 input", None),
    "depth_unreachable": (["--rf", "300", "--max-depth", "4"], "raise --max-depth to 8", None),
    "params_unreachable": (["--rf", "32", "--max-params", "100"], "raise --max-params to 896", None),
    "macs_unreachable": (["--rf", "32", "--max-macs", "500"], "raise --max-macs to 864", None),
    "min_output_unreachable": (
        ["--rf", "32", "--min-output", "32", "--max-depth", "5"],
        "lower --min-output to 16x16",
        None,
    ),
    "contradictory_budgets": (
        ["--rf", "32", "--max-params", "1k", "--max-macs", "1k", "--filters", "512"],
        "raise --max-params to 14,336 and --max-macs to 13,824 (for p2*5,c3-512)",
        None,
    ),
    "wavenet_past_the_default_depth": (
        ["--input", "16000x1", "--rf", "16000", "--layers", "c2d*/causal"],
        "raise --max-depth to 14",
        None,
    ),
    "depth_past_the_limit": (["--rf", "32", "--max-depth", "500"], "max_depth is 1..64", None),
    "layers_and_like": (["--rf", "32", "--layers", "c3", "--like", "c3"], "not allowed with argument", None),
    "rf_and_cover": (["--rf", "32", "--cover"], "not allowed with argument", None),
    "no_target": ([], "one of the arguments --rf --cover is required", None),
    "budget_not_a_count": (["--rf", "32", "--max-params", "lots"], "expected a positive count", None),
    "budget_fraction": (["--rf", "32", "--max-params", "1.5"], "expected a positive count", None),
    "dilations_without_like": (["--rf", "32", "--dilations", "1,2"], "shape the --like search", None),
    "bad_filters": (["--rf", "32", "--filters", "32,x"], "write filters as", None),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_input_is_one_message_and_exit_2(capsys, name):
    argv, message, caret = BAD[name]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith(("rfcalc: error:", "usage:")) or "error:" in err
    if caret is not None:
        assert lines[-1] == caret
    elif not err.startswith("usage:"):
        assert len(lines) == 1


def test_library_errors_are_rf_errors():
    with pytest.raises(SpecError):
        rfcalc.design(32, layers="c3,q3")
    with pytest.raises(RFError, match="one of the two"):
        rfcalc.design(32, cover=True)
    with pytest.raises(RFError, match="minimize"):
        rfcalc.design(32, minimize="speed")
    with pytest.raises(RFError, match="2 positive sizes"):
        rfcalc.design((3, 4, 5))


def test_one_d_free_dilations_design_the_wavenet_schedule():
    d = rfcalc.design(256, input_shape=(16000, 1), layers="c2d*/causal", top=None)
    best = d.best("params")
    assert d.proven and best.spec == "c2d1..128/causal" and best.depth == 8
    assert rfcalc.analyze(best.spec, input_shape=(16000, 1)).to_dict() == best.analysis.to_dict()


def test_one_d_cli_names_the_schedule(capsys):
    code, out, _ = run(capsys, "--input", "16000x1", "--rf", "64", "--layers", "c2d*/causal,c3/causal")
    assert code == 0 and "c2d1..32/causal" in out and "Exact:" in out


def test_one_d_rank_mismatch_is_a_caret_error(capsys):
    code, _, err = run(capsys, "--input", "32x32x3", "--rf", "16", "--layers", "c2d*/causal")
    assert code == 2 and "causal" in err and err.splitlines()[-1].strip().startswith("^")


def test_one_second_of_audio_takes_the_full_wavenet_stack():
    d = rfcalc.design(16000, input_shape=(16000, 1), layers="c2d*/causal", max_depth=16)
    best = d.best("params")
    assert d.proven and best.spec == "c2d1..8192/causal" and best.analysis.rf == (16384,)
    assert (best.params, best.macs) == (27_136, 427_008_000)
