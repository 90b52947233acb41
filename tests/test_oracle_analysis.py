"""rfcalc.analyze against the brute-force dependency oracle (tests/oracle.py) and independent counts.

Shapes, receptive fields, jumps, centres, padding and flags come from the oracle, which slides
windows over explicit padded index arrays; parameters and MACs come from weight-tensor shapes
written out here, layer by layer, the way Keras allocates them.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from math import prod
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from oracle import OracleShapeError, axis_oracle, axis_unit_deps, mask_oracle  # noqa: E402

from rfcalc import analyze  # noqa: E402
from rfcalc.errors import ShapeError  # noqa: E402
from rfcalc.layers import (  # noqa: E402
    BatchNorm,
    Conv,
    Crop,
    Dense,
    DepthwiseConv,
    Flatten,
    GlobalPool,
    Identity,
    Pool,
    SeparableConv,
    ZeroPad,
)

WINDOWED = (Conv, DepthwiseConv, SeparableConv, Pool)


def to_oracle(layer):
    """The oracle's (h, w) descriptions of an rfcalc layer."""
    if isinstance(layer, WINDOWED):
        dil = getattr(layer, "dilation", (1, 1))
        return tuple(("win", layer.kernel[a], layer.stride[a], dil[a], layer.padding) for a in (0, 1))
    if isinstance(layer, ZeroPad):
        return tuple(("pad", *layer.pads[a]) for a in (0, 1))
    if isinstance(layer, Crop):
        return tuple(("crop", *layer.crops[a]) for a in (0, 1))
    if isinstance(layer, (BatchNorm, Dense, Identity)):  # Dense on a spatial input is a 1x1 conv
        return (("id",), ("id",))
    raise AssertionError(f"no oracle for {layer!r}")


def weight_tensors(layer, c_in):
    """(trainable shapes, non-trainable shapes, multiply shapes, c_out) as Keras would allocate them."""
    if isinstance(layer, Conv):
        kernel = (*layer.kernel, c_in, layer.filters)
        bias = [(layer.filters,)] if layer.use_bias else []
        return [kernel, *bias], [], [kernel], layer.filters
    if isinstance(layer, DepthwiseConv):
        kernel = (*layer.kernel, c_in, layer.depth_multiplier)
        c_out = c_in * layer.depth_multiplier
        bias = [(c_out,)] if layer.use_bias else []
        return [kernel, *bias], [], [kernel], c_out
    if isinstance(layer, SeparableConv):
        depthwise = (*layer.kernel, c_in, layer.depth_multiplier)
        pointwise = (1, 1, c_in * layer.depth_multiplier, layer.filters)
        bias = [(layer.filters,)] if layer.use_bias else []
        return [depthwise, pointwise, *bias], [], [depthwise, pointwise], layer.filters
    if isinstance(layer, BatchNorm):
        return [(c_in,), (c_in,)], [(c_in,), (c_in,)], [], c_in  # gamma, beta | moving mean, variance
    if isinstance(layer, Dense):
        kernel = (c_in, layer.units)
        return [kernel, *([(layer.units,)] if layer.use_bias else [])], [], [kernel], layer.units
    return [], [], [], c_in  # pooling, padding, cropping: no weights


def numel(shapes):
    return sum(prod(s) for s in shapes)


def expected_flags(descs, results, input_hw):
    """Flags from their definitions, read off the oracle: 'skips' when the stride is longer than
    the window, 'drops' when a 'valid' window leaves real input rows after the last one it reads,
    'rf>input' when the field is wider than the network input, 'holes' when unit 0's dependency
    set is not its whole span (dilation, or a stride no window covered: gridding).

    Without dilation every unread pixel is covered by 'skips' or 'drops'. With dilation and
    stride > 1 whole rows can fall between the taps of every unit; no flag is defined for that
    layer-level gap, and this test does not ask for one ('holes' is about one unit's field).
    """
    flags = set()
    for desc, res in zip(descs, results):
        if desc[0] != "win":
            continue
        _, k, s, d, padding = desc
        if s > d * (k - 1) + 1:
            flags.add("skips")
        elif padding == "valid" and res.trailing:
            flags.add("drops")
        if d == 1 and res.unread:
            assert flags & {"skips", "drops"}, "an undilated window left pixels unread without a flag"
    if any(res.rf > n for res, n in zip(results, input_hw)):
        flags.add("rf>input")
    if any(len(res.deps0) != res.rf for res in results):  # unit 0 reads fewer pixels than its span
        flags.add("holes")
    return flags


def oracle_rows(layers, input_shape):
    """Per-layer oracle results for each axis (None for an axis where a layer does not fit), and
    the index of the first layer that does not fit on either axis (None when all fit)."""
    descs = [to_oracle(layer) for layer in layers]
    per_axis, bad = [], []
    for axis in (0, 1):
        try:
            per_axis.append(axis_oracle([d[axis] for d in descs], input_shape[axis]))
        except OracleShapeError as err:
            per_axis.append(None)
            bad.append(err.index)
    return descs, per_axis, min(bad, default=None)


def check_against_oracle(layers, input_shape, head=()):
    h, w, c = input_shape
    descs, (h_rows, w_rows), bad = oracle_rows(layers, input_shape)
    if bad is not None:
        with pytest.raises(ShapeError) as err:
            analyze(tuple(layers) + tuple(head), input_shape)
        assert str(err.value).startswith(f"layer {bad + 1} "), (bad, str(err.value))
        return None
    a = analyze(tuple(layers) + tuple(head), input_shape)
    assert len(a.layers) == len(layers) + len(head)
    channels = c
    for i, layer in enumerate(layers):
        row, hr, wr = a.layers[i], h_rows[i], w_rows[i]
        trainable, frozen, multiplies, channels = weight_tensors(layer, channels)
        where = f"layer {i} {row.token} on {input_shape}"
        assert row.output_shape == (hr.size, wr.size, channels), where
        assert row.rf == (hr.rf, wr.rf), where
        assert row.rf_min == row.rf, where  # a chain has one path
        assert row.jump == (hr.jump, wr.jump), where
        assert row.start == (hr.start, wr.start), where
        assert row.eff_pad == (-hr.lowest, -wr.lowest), where
        if isinstance(layer, (WINDOWED, ZeroPad)):
            assert row.padding == (hr.pad, wr.pad), where
        else:
            assert row.padding is None, where
        assert set(row.flags) == expected_flags(descs[i], (hr, wr), (h, w)), where
        assert row.trainable_params == numel(trainable), where
        assert row.non_trainable_params == numel(frozen), where
        assert row.macs == hr.size * wr.size * numel(multiplies), where
    # the head: flatten or global pooling, then dense layers
    size = a.layers[len(layers) - 1].output_shape if layers else input_shape
    n_in = prod(size)
    for j, layer in enumerate(head):
        row = a.layers[len(layers) + j]
        if isinstance(layer, Flatten):
            n_in = prod(size)
        elif isinstance(layer, GlobalPool):
            n_in = size[-1]
        else:
            trainable, _, multiplies, n_in = weight_tensors(layer, n_in)
            assert row.params == numel(trainable)
            assert row.macs == numel(multiplies)
        assert row.output_shape == (n_in,)
        assert row.rf is None
    total = sum(r.params for r in a.layers)
    assert a.total_params == total
    return a


# ---- strategies ---------------------------------------------------------------------------

small = st.integers(1, 5)
pairs = st.tuples(small, small)
strides = st.tuples(st.integers(1, 3), st.integers(1, 3))
dilations = st.one_of(st.just((1, 1)), st.tuples(st.integers(1, 3), st.integers(1, 3)))
paddings = st.sampled_from(["same", "valid"])
side = st.tuples(st.integers(0, 3), st.integers(0, 3))

layer_strategy = st.one_of(
    st.builds(Conv, pairs, strides, dilations, st.integers(1, 6), paddings, st.just("relu"), st.booleans()),
    st.builds(DepthwiseConv, pairs, strides, dilations, st.integers(1, 3), paddings, st.just("relu"), st.booleans()),
    st.builds(
        SeparableConv,
        pairs,
        strides,
        dilations,
        st.integers(1, 6),
        st.integers(1, 3),
        paddings,
        st.just("relu"),
        st.booleans(),
    ),
    st.builds(Pool, st.sampled_from(["max", "avg"]), pairs, st.one_of(st.none(), strides), paddings),
    st.builds(ZeroPad, st.tuples(side, side)),
    st.builds(Crop, st.tuples(side, side)),
    st.just(BatchNorm()),
    st.builds(Dense, st.integers(1, 6), st.sampled_from(["linear", "relu"]), st.booleans()),
    st.just(Identity()),
)
head_strategy = st.one_of(
    st.just(()),
    st.tuples(st.just(Flatten()), st.builds(Dense, st.integers(1, 9), st.just("linear"), st.booleans())),
    st.tuples(st.builds(GlobalPool, st.sampled_from(["avg", "max"])), st.builds(Dense, st.integers(1, 9))),
)
shapes = st.tuples(st.integers(9, 60), st.integers(9, 60), st.integers(1, 4))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(layer_strategy, min_size=1, max_size=7), shapes, head_strategy)
def test_random_stacks_match_the_dependency_oracle(layers, shape, head):
    check_against_oracle(layers, shape, head)


# ---- named cases: each one a behaviour worth seeing fail on its own --------------------------

CASES = {
    "same stride 2 on an even input pads only after": ([Conv((3, 3), (2, 2))], (32, 32, 3)),
    "same stride 2 on an odd input pads both sides": ([Conv((3, 3), (2, 2))], (33, 33, 3)),
    "same even kernel puts the odd pixel after": ([Conv((2, 4))], (10, 10, 1)),
    "valid pool on an odd input drops the last row": ([Pool("max", (2, 2))], (11, 12, 4)),
    "stride longer than the window skips pixels": ([Conv((1, 1), (3, 2))], (20, 20, 2)),
    "dilation widens the field with holes": ([Conv((3, 3), dilation=(2, 3)), Conv((3, 3))], (30, 30, 1)),
    "field larger than the input is flagged": ([Conv((5, 5))] * 4, (9, 12, 1)),
    "dilation leaves holes a later conv fills": ([Conv((3, 3), dilation=(2, 2)), Conv((3, 3))], (16, 16, 1)),
    "stacked equal dilations keep their holes (gridding)": ([Conv((3, 3), dilation=(2, 2))] * 3, (30, 30, 1)),
    "a 1x1 stride 2 then a 3x3 leaves holes": ([Conv((1, 1), (2, 2)), Conv((3, 3))], (16, 16, 1)),
    "same pooling pads like same convolution": ([Pool("avg", (3, 3), (2, 2), "same")], (15, 16, 2)),
    "zero padding moves the centre, not the field": (
        [ZeroPad(((2, 1), (0, 3))), Conv((3, 3), padding="valid")],
        (12, 12, 1),
    ),
    "cropping moves the centre the other way": (
        [Conv((3, 3), (2, 2)), Crop(((1, 0), (2, 1))), Conv((3, 3))],
        (21, 20, 1),
    ),
    "separable then depthwise with a multiplier": (
        [SeparableConv((3, 5), filters=8, depth_multiplier=2), DepthwiseConv((3, 3), (2, 2), depth_multiplier=3)],
        (17, 18, 3),
    ),
    "batchnorm counts 4C, half frozen": ([Conv((3, 3), filters=5), BatchNorm()], (9, 9, 1)),
    "valid window longer than the input is a ShapeError": ([Conv((5, 5), padding="valid")] * 3, (12, 12, 1)),
    "cropping everything is a ShapeError": ([Crop(((5, 5), (0, 0)))], (10, 10, 1)),
    "vgg block": ([Conv((3, 3), filters=8), Conv((3, 3), filters=8), Pool("max", (2, 2))] * 3, (60, 60, 3)),
}


@pytest.mark.parametrize("layers, shape", CASES.values(), ids=CASES.keys())
def test_named_stacks_match_the_dependency_oracle(layers, shape):
    check_against_oracle(layers, shape, (Flatten(), Dense(3)))


def test_named_cases_cover_each_flag():
    seen = set()
    for layers, shape in CASES.values():
        try:
            a = analyze(tuple(layers), shape)
        except ShapeError:
            continue
        seen |= {f for r in a.layers for f in r.flags}
    assert {"skips", "drops", "rf>input", "holes"} <= seen


@pytest.mark.parametrize(
    "spec, holes",
    [
        ("c3d2", [True]),
        ("c3d2,c3", [True, False]),
        ("c3d2*3", [True] * 3),
        ("c3d2,c3d3", [True, True]),
        ("c1s2,c3", [False, True]),
        ("c1s2,c3,c3", [False, True, True]),
        ("p2,c3", [False, False]),
        ("c3d1x2", [True]),
    ],
)
def test_holes_flag_by_hand(spec, holes):
    # c3d2: taps 0,2,4 of a 5-pixel span; a following c3 fills 1 and 3. After c1s2 only even pixels
    # are ever read, so no later stride-1 layer fills the odd ones. c3d2,c3d3: spans of 5 with
    # taps 3 apart cover 0,2,3,4,5,6,7,8,9,11,13 and leave 1, 10, 12 out.
    assert ["holes" in r.flags for r in analyze(spec).layers] == holes


# ---- the axes really are separable: 2D masks equal products of the 1D sets -------------------

MASK_CASES = {
    "square conv and pool": [Conv((3, 3)), Pool("max", (2, 2)), Conv((3, 3))],
    "non-square, strided, dilated": [Conv((3, 5), (2, 1), (1, 2)), Conv((2, 3), (1, 3))],
    "same padding with odd pixel then valid": [Conv((4, 3), (2, 2)), Pool("avg", (3, 2), (2, 1), "valid")],
    "pad and crop": [ZeroPad(((1, 2), (3, 0))), Conv((3, 3), (2, 2), padding="valid"), Crop(((1, 0), (0, 1)))],
}


@pytest.mark.parametrize("layers", MASK_CASES.values(), ids=MASK_CASES.keys())
@pytest.mark.parametrize("unit", [(0, 0), (1, 2), (3, 1)])
def test_2d_dependency_mask_is_the_product_of_axis_sets(layers, unit):
    shape = (13, 14)
    descs = [to_oracle(layer) for layer in layers]
    mask = mask_oracle(descs, shape, unit)
    rows = axis_unit_deps([d[0] for d in descs], shape[0], unit[0])
    cols = axis_unit_deps([d[1] for d in descs], shape[1], unit[1])
    assert mask == {(i, j) for i in rows for j in cols}
    if unit == (0, 0):  # and the 2D extent is rfcalc's rf
        a = analyze(tuple(layers), (*shape, 1))
        extent = tuple(max(p[ax] for p in mask) - min(p[ax] for p in mask) + 1 for ax in (0, 1))
        assert a.rf == extent
        centre = tuple(Fraction(max(p[ax] for p in mask) + min(p[ax] for p in mask), 2) for ax in (0, 1))
        assert a.start == centre


def test_oracle_itself_on_hand_worked_numbers():
    """The oracle reproduces hand-worked sets, so it is not just agreeing with itself."""
    # 3x3 'same' then 2x2/2 pool on 8 pixels: pool unit 0 reads conv units 0, 1 -> pixels -1..2
    r = axis_oracle([("win", 3, 1, 1, "same"), ("win", 2, 2, 1, "valid")], 8)
    assert r[1].deps0 == {-1, 0, 1, 2} and r[1].size == 4 and r[1].jump == 2
    # TF 'same', k=3, s=2, n=32: total pad 1, all after; unit 0 reads 0, 1, 2
    r = axis_oracle([("win", 3, 2, 1, "same")], 32)
    assert r[0].pad == (0, 1) and r[0].deps0 == {0, 1, 2} and r[0].size == 16
    # dilation 2, kernel 3: unit 0 reads -2, 0, 2 under 'same'
    r = axis_oracle([("win", 3, 1, 2, "same")], 9)
    assert r[0].deps0 == {-2, 0, 2} and r[0].rf == 5
    # stride 3 over window 1 on 7 pixels: reads 0, 3, 6; nothing trails
    r = axis_oracle([("win", 1, 3, 1, "valid")], 7)
    assert r[0].unread == {1, 2, 4, 5} and not r[0].trailing
    # 'valid' 2/2 on 7 pixels: pixel 6 trails
    r = axis_oracle([("win", 2, 2, 1, "valid")], 7)
    assert r[0].trailing == {6}


SHAPE_ERRORS = {
    "valid conv too wide, third layer": (
        "c5/valid*3",
        (12, 12, 1),
        ["layer 3 'conv2d_2'", "5-pixel window", "4-pixel input", "input_shape=(4, 4, 32)"],
    ),
    "crop everything": ("crop5:5x0", (10, 10, 1), ["layer 1 'cropping2d'", "crops 10 pixels from a 10-pixel axis"]),
    "dilated valid": ("c3d4/valid", (8, 9, 1), ["9-pixel window", "8-pixel input", "dilation=(4, 4)"]),
}


@pytest.mark.parametrize("spec, shape, words", SHAPE_ERRORS.values(), ids=SHAPE_ERRORS.keys())
def test_shape_errors_name_the_layer_and_the_sizes(spec, shape, words):
    with pytest.raises(ShapeError) as err:
        analyze(spec, shape)
    for w in words:
        assert w in str(err.value)


def test_holes_in_fields_too_wide_to_follow_are_said_to_be_possible_not_guessed():
    # each c3s2d2 doubles the jump, so the field (and an exact hole mask) doubles per layer:
    # past 2**20 pixels rfcalc stops following holes and says 'holes?', with rf/jump/start exact
    a = analyze("c3s2d2*40", (64, 64, 1))
    flags = [r.flags for r in a.layers]
    assert all("holes" in f for f in flags[:18]) and all("holes?" in f for f in flags[-5:])
    assert a.rf == (2**42 - 3,) * 2 and a.jump == (2**40,) * 2  # rf_n = 1 + 4·(2^n − 1)


def test_merging_huge_full_fields_needs_no_mask():
    from rfcalc.phases import Axis
    from rfcalc.propagate import Field, merge_fields

    wide = Axis(1, 2**48, (-(2**49),), (2**49 - 1,))  # a field of 2^50 pixels centred on unit 0
    narrow = Axis(1, 2**48, (-1,), (1,))
    big, small = Field((4, 4, 1), (wide, wide)), Field((4, 4, 1), (narrow, narrow))
    out = merge_fields([big, small]).field
    assert out.rf == (2**50, 2**50) and out.rf_min == (3, 3) and not out.holes and not out.holes_untracked
