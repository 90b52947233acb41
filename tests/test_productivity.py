"""Unproductive layers, the border layer and the input-size range against the brute-force
dependency oracle (tests/oracle.py): per row and axis the oracle's narrowest field of what the row
reads decides productivity; the range is found by trying every size with the oracle. Branches:
the oracle enumerates the paths of the graph (no merge arithmetic). Hostile inputs at the end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from oracle import OracleShapeError, chain_reads_oracle, narrowest_path_oracle, range_oracle  # noqa: E402
from test_oracle_nd import stacks, to_axis  # noqa: E402

from rfcalc import analyze, productivity  # noqa: E402
from rfcalc.dsl import format_spec, parse  # noqa: E402
from rfcalc.errors import RFError  # noqa: E402


def check(layers, shape):
    """Every row's flags, the border and every axis' range against the oracle."""
    rank = len(shape) - 1
    try:
        a = analyze(tuple(layers), shape)
    except RFError:
        return None
    p = productivity(a)
    where = f"{format_spec(layers)} on {shape}"
    for axis in range(rank):
        desc = [to_axis(x, axis) for x in layers]
        reads, _ = chain_reads_oracle(desc, shape[axis])
        for i in range(len(a.layers)):
            assert p.reads[i][axis] == reads[i], (where, i, axis)
            assert p.axes_unproductive[i][axis] == (reads[i] > shape[axis]), (where, i, axis)
        r = p.ranges[axis]
        limit = r.searched or max(2 * (r.hi or 0), 64)
        good = range_oracle(desc, lambda n: n, min(limit, 160))
        if r.lo is None:
            assert not good, (where, axis, good)
            continue
        assert good and good[0] == r.lo, (where, axis, r, good[:5])
        if r.hi <= 160:
            assert good[-1] == r.hi, (where, axis, r, good[-5:])
            gaps = [n for n in range(r.lo, r.hi + 1) if n not in good]
            assert list(r.gaps) == gaps[:8] and r.more_gaps == max(len(gaps) - 8, 0), (where, axis, r)
    border = next((i for i in range(len(a.layers)) if all(p.axes_unproductive[i])), None)
    assert p.border == border
    return p


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_1d_stacks_and_decoders_match_the_oracle(data):
    layers_st, shape_st = stacks(1, 24)
    layers, shape = data.draw(layers_st), data.draw(shape_st)
    try:
        check(layers, shape)
    except OracleShapeError:
        pass  # more units than the oracle lists


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_2d_stacks_match_the_oracle_on_both_axes(data):
    layers_st, shape_st = stacks(2, 10)
    try:
        check(data.draw(layers_st), data.draw(shape_st))
    except OracleShapeError:
        pass


NAMED = {
    "deep 3x3 stack past 28": ("c3*16", (28, 28, 1)),
    "the experiment's family at 28": ("c3-16,p2,c3-16,p2,c3-16*5", (28, 28, 1)),
    "the same at 56": ("c3-16,p2,c3-16,p2,c3-16*7", (56, 56, 1)),
    "dilated": ("c3d1..8*2", (24, 24, 1)),
    "strided same, odd input": ("c3s2,c3s2,c3*3", (13, 13, 1)),
    "upsampling then strided (fields depend on parity)": ("c3,up2,c3s2,c3", (9, 9, 1)),
    "transposed decoder": ("c3s2,c3s2,t3s2,t3s2,c3", (12, 12, 1)),
    "valid stack (the smallest size it runs at)": ("c3/valid,p2,c3/valid,c3/valid", (32, 32, 1)),
    "1-D causal": ("c2d1..16/causal", (20, 1)),
    "3-D": ("c3*4", (6, 6, 6, 1)),
}


@pytest.mark.parametrize("spec, shape", NAMED.values(), ids=NAMED.keys())
def test_named_stacks_match_the_oracle(spec, shape):
    assert check(parse(spec, len(shape) - 1), shape) is not None


def test_the_experiments_border_moves_with_the_input():
    base = "c3-16,p2,c3-16,p2"
    at28 = productivity(analyze(base + ",c3-16*8", (28, 28, 1)))
    at56 = productivity(analyze(base + ",c3-16*8", (56, 56, 1)))
    # rows: c3 p2 c3 p2 then the added convs at rows 4..11; they read 10, 18, 26, 34, ...
    assert at28.border == 7 and at56.border == 10
    assert (at28.ranges[0].lo, at28.ranges[0].hi) == (66, 74)


def test_a_graph_with_branches_matches_the_path_oracle():
    """Two branches merge by Add; rows after it read the narrowest path, enumerated by the oracle."""
    keras = pytest.importorskip("keras")
    from rfcalc import from_keras

    inp = keras.Input((10, 10, 1))
    a = keras.layers.Conv2D(2, 7, padding="same", name="wide")(inp)
    b = keras.layers.Conv2D(2, 3, padding="same", name="narrow")(inp)
    b = keras.layers.Conv2D(2, 3, padding="same", name="narrow2")(b)
    x = keras.layers.Add(name="add")([a, b])
    x = keras.layers.Conv2D(2, 5, padding="same", name="after")(x)
    x = keras.layers.Conv2D(2, 5, padding="same", name="after2")(x)
    x = keras.layers.Conv2D(2, 5, padding="same", name="after3")(x)
    an = from_keras(keras.Model(inp, x))
    p = productivity(an)
    w = lambda k, d=1: ("win", k, 1, d, "same")  # noqa: E731
    paths = {"wide": [[w(7)]], "narrow": [[w(3)]], "narrow2": [[w(3), w(3)]]}
    paths["add"] = paths["wide"] + paths["narrow2"]
    paths["after"] = [q + [w(5)] for q in paths["add"]]
    paths["after2"] = [q + [w(5)] for q in paths["after"]]
    paths["after3"] = [q + [w(5)] for q in paths["after2"]]
    reads = {
        "wide": [[]],
        "narrow": [[]],
        "narrow2": paths["narrow"],
        "add": paths["add"],
        "after": paths["add"],
        "after2": paths["after"],
        "after3": paths["after2"],
    }
    for i, row in enumerate(an.layers):
        if row.name in reads:
            want = narrowest_path_oracle(reads[row.name], 10)
            assert p.reads[i] == (want, want), row.name
            assert p.axes_unproductive[i] == (want > 10,) * 2, row.name
    # the narrowest path (5 pixels at the merge) reads 9 at after2 and 13 at after3: after3 is the
    # border; the widest path (7 at the merge) would have made after2 (reading 11) the border
    assert p.border_name == "after3" and p.unproductive_rows == (6,)
    assert (p.ranges[0].lo, p.ranges[0].hi, p.ranges[0].method) == (13, 19, "fields")


def _front(points):
    """The Pareto-optimal (params, macs, depth) triples of ``points``, by brute force."""
    pts = set(points)
    return {p for p in pts if not any(q != p and all(a <= b for a, b in zip(q, p)) for q in pts)}


@pytest.mark.parametrize("rf, size", [(12, 16), (20, 16), (9, 8)])
def test_design_productive_front_is_the_brute_force_front(rf, size):
    """Every stack of c3/p2 up to depth 5 with a conv (design needs one) enumerated, analysed, judged by productivity(), and the front
    of those that reach the field and have no unproductive layer compared with design(productive=True)."""
    from itertools import product

    from rfcalc import design

    points = []
    for depth in range(1, 6):
        for combo in product(("c3", "p2"), repeat=depth):
            try:
                a = analyze(",".join(combo), (size, size, 3))
            except RFError:
                continue
            if "c3" in combo and a.rf[0] >= rf and "holes" not in a.layers[-1].flags and productivity(a).productive:
                points.append((a.total_params, a.total_macs, depth))
    want = _front(points)
    if not want:
        with pytest.raises(RFError, match="productive"):
            design(str(rf), input_shape=(size, size, 3), layers="c3,p2", max_depth=5, productive=True)
        return
    got = design(str(rf), input_shape=(size, size, 3), layers="c3,p2", max_depth=5, productive=True)
    assert {(r.params, r.macs, r.depth) for r in got.rows} == want
    assert all(productivity(r.analysis).productive for r in got.rows)


HOSTILE = {
    "no size makes every layer productive": ("crop2,c3/valid", "16x1", "no input size makes every layer productive"),
    "input smaller than the first kernel": ("c5,c3", "3x3x1", "smaller than the first window"),
    "1-D": ("c3*12", "16x1", None),
    "3-D": ("c3*5", "8x8x8x1", None),
}


@pytest.mark.parametrize("spec, shape, words", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_inputs_are_statements_in_every_door(spec, shape, words, capsys):
    """The table, --json and explain (en, ja) say it in words; nothing raises."""
    import json

    from rfcalc.cli import main

    for argv in (
        [spec, "--input", shape],
        [spec, "--input", shape, "--json"],
        ["explain", spec, "--input", shape],
        ["explain", spec, "--input", shape, "--lang", "ja"],
        ["compare", spec, "c3", "--input", shape],
    ):
        assert main(argv) == 0, argv
        out = capsys.readouterr().out
        if "--json" in argv:
            data = json.loads(out)["productivity"]
            assert len(data["range"]) == len(shape.split("x")) - 1
            if words:
                assert any(words in n for n in data["notes"]), data["notes"]
        elif words and argv[0] == spec:
            assert words.lower() in out.lower().replace("\n", " "), out
    p = productivity(analyze(spec, shape))
    assert len(p.ranges) == len(shape.split("x")) - 1


def test_productivity_refuses_what_is_not_an_analysis():
    with pytest.raises(RFError, match="takes an Analysis"):
        productivity("c3,c3")
