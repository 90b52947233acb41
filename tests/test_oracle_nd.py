"""1-D, 3-D, causal, explicit padding, upsampling and transposed convs against the brute-force
dependency oracle (tests/oracle.py), unit by unit: the exact field of EVERY output unit (every
phase), ``rf`` (largest over the units), ``rf_min`` (smallest), ``start`` (centre of unit 0's
field), shapes, padding and the holes flag. Published numbers (WaveNet, U-Net) at the end.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from oracle import OracleShapeError, axis_unit_fields  # noqa: E402

from rfcalc import analyze  # noqa: E402
from rfcalc.dsl import format_spec, parse  # noqa: E402
from rfcalc.errors import RFError, ShapeError, SpecError  # noqa: E402
from rfcalc.layers import (  # noqa: E402
    BatchNorm,
    Conv,
    ConvTranspose,
    Crop,
    DepthwiseConv,
    Pool,
    SeparableConv,
    Upsample,
    ZeroPad,
)


def to_axis(layer, axis: int):
    """The oracle's description of one axis of an rfcalc layer."""
    if isinstance(layer, (Conv, DepthwiseConv, SeparableConv, Pool)):
        pad = layer.padding[axis] if isinstance(layer.padding, tuple) else layer.padding
        return ("win", layer.kernel[axis], layer.stride[axis], layer.dilation[axis], pad)
    if isinstance(layer, ConvTranspose):
        pad = layer.padding[axis] if isinstance(layer.padding, tuple) else layer.padding
        op = None if layer.output_padding is None else layer.output_padding[axis]
        return ("tconv", layer.kernel[axis], layer.stride[axis], layer.dilation[axis], pad, op)
    if isinstance(layer, Upsample):
        return ("up", layer.size[axis], layer.interpolation)
    if isinstance(layer, ZeroPad):
        return ("pad", *layer.pads[axis])
    if isinstance(layer, Crop):
        return ("crop", *layer.crops[axis])
    return ("id",)


def check(layers, shape):
    """Compare every row and every unit (per axis) with the oracle; returns the analysis or None."""
    rank = len(shape) - 1
    oracle = []
    for axis in range(rank):
        try:
            oracle.append(axis_unit_fields([to_axis(layer, axis) for layer in layers], shape[axis]))
        except OracleShapeError as err:
            if "more than this oracle lists" in str(err):
                return None
            with pytest.raises(ShapeError):
                analyze(tuple(layers), shape)
            return None
    a = analyze(tuple(layers), shape)
    for i, row in enumerate(a.layers):
        where = f"layer {i} {row.token} of {format_spec(layers)} on {shape}"
        fields = [oracle[axis][i] for axis in range(rank)]
        assert row.output_shape[:-1] == tuple(f.size for f in fields), where
        assert row.rf == tuple(f.rf for f in fields), where
        assert row.rf_min == tuple(f.rf_min for f in fields), where
        zero = [f.spans[0] for f in fields]
        if all(zero):
            assert row.start == tuple(Fraction(lo + hi, 2) for lo, hi in zero), where
        for axis, f in enumerate(fields):
            for q, span in enumerate(f.spans):
                unit = tuple(q if ax == axis else 0 for ax in range(rank))
                got = row.field_of(unit)[axis]
                if span is None:
                    assert got[0] > got[1], (where, unit)
                else:
                    assert got == span, (where, unit)
        assert ("holes" in row.flags or "holes?" in row.flags) == any(f.holes for f in fields), where
    return a


def _pads():
    return st.tuples(st.integers(0, 3), st.integers(0, 3))


def window_layers(rank):
    k = st.integers(1, 4)
    s = st.integers(1, 3)
    d = st.integers(1, 3)
    axes = lambda x: st.tuples(*[x] * rank)  # noqa: E731
    padding = st.sampled_from(["same", "valid"]) | axes(_pads())
    conv = st.builds(Conv, axes(k), axes(s), axes(d), st.just(4), padding)
    causal = st.builds(Conv, axes(k), axes(s), axes(d), st.just(4), st.just("causal")) if rank == 1 else conv
    pool = st.builds(Pool, st.sampled_from(["max", "avg"]), axes(st.integers(1, 3)), axes(s), padding)
    return [conv, causal, pool]


def decoder_layers(rank):
    axes = lambda x: st.tuples(*[x] * rank)  # noqa: E731
    up = st.builds(Upsample, axes(st.integers(1, 3)))
    tconv = st.builds(
        ConvTranspose,
        axes(st.integers(1, 4)),
        axes(st.integers(1, 3)),
        axes(st.integers(1, 2)),
        st.just(4),
        st.sampled_from(["same", "valid"]),
    )
    tconv_op = st.integers(1, 3).flatmap(
        lambda s: st.builds(
            ConvTranspose,
            axes(st.integers(1, 4)),
            st.just((s,) * rank),
            st.just((1,) * rank),
            st.just(4),
            st.sampled_from(["same", "valid"]),
            axes(st.integers(0, s - 1)),
        )
    )
    tconv_pads = st.builds(
        ConvTranspose,
        axes(st.integers(1, 4)),
        axes(st.integers(1, 3)),
        axes(st.integers(1, 2)),
        st.just(4),
        axes(_pads()),
    )
    zp = st.builds(ZeroPad, axes(_pads()))
    crop = st.builds(Crop, axes(st.tuples(st.integers(0, 2), st.integers(0, 2))))
    out = [up, tconv, tconv_op, tconv_pads, zp, crop, st.just(BatchNorm())]
    if rank == 2:
        out.append(st.builds(Upsample, axes(st.integers(1, 4)), st.just("bilinear")))
    return out


def stacks(rank, size):
    layer = st.one_of(*window_layers(rank), *decoder_layers(rank))
    return st.lists(layer, min_size=1, max_size=6), st.tuples(*[st.integers(1, size)] * rank, st.just(2))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_1d_stacks_and_decoders_match_the_oracle_at_every_unit(data):
    layers_st, shape_st = stacks(1, 24)
    layers, shape = data.draw(layers_st), data.draw(shape_st)
    try:
        check(layers, shape)
    except RFError as err:  # a period past the bound, or a shape the oracle accepted
        assert "phases" in str(err), err


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_2d_decoders_with_bilinear_match_the_oracle_at_every_unit(data):
    layers_st, shape_st = stacks(2, 12)
    check(data.draw(layers_st), data.draw(shape_st))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_3d_stacks_match_the_oracle_on_every_axis(data):
    layers_st, shape_st = stacks(3, 9)
    check(data.draw(layers_st), data.draw(shape_st))


CASES = {
    "causal dilated 1-D": ("c2d1..8/causal", (32, 1)),
    "explicit pads 1-D": ("c3s2/pad0:1,p3s2/pad1", (20, 1)),
    "a small U-Net decoder step": ("c3,p2,c3,p2,up2,c3,up2,c3", (32, 32, 1)),
    "transposed conv, same": ("c3s2,t3s2", (16, 16, 1)),
    "transposed conv, valid, output padding": ("t3s2o1/valid", (9, 9, 1)),
    "transposed conv, kernel shorter than the stride": ("c3,t1s2", (8, 1)),
    "bilinear x2 and x3": ("c3,up2/bilinear,up3/bilinear,c3", (6, 6, 1)),
    "3-D with per-axis kernels": ("c3x1x1,c1x3x3,p1x2x2,up1x2x2", (8, 8, 8, 1)),
    "reflect padding then valid": ("zp2/reflect,c5/valid", (16, 1)),
}


@pytest.mark.parametrize("spec, shape", CASES.values(), ids=CASES.keys())
def test_named_stacks_match_the_oracle_at_every_unit(spec, shape):
    assert check(parse(spec, len(shape) - 1), shape) is not None


def test_wavenet_fields_are_the_papers():
    """van den Oord et al. 2016: kernel-2 causal convs, dilations 1..512: 1,024 samples per stack."""
    one = analyze("c2d1..512/causal", input_shape="16000x1")
    three = analyze("(c2d1..512/causal)*3", input_shape="16000x1")
    assert one.rf == (1024,) and three.rf == (3070,)
    assert one.start == (Fraction(-1023, 2),)  # causal: unit 0 reads samples -1023..0
    assert three.layers[-1].field_of((100,)) == ((100 - 3069, 100),)
    assert (
        len("(c2d1..512/causal)*3") <= 40
        and format_spec(three.layers[i].layer for i in range(30)) == "c2d1..512/causal*3"
    )


def test_unet_valid_convs_give_the_papers_shapes():
    """Ronneberger et al. 2015: 572x572 in, 388x388 out, valid 3x3 convs, 2x2 up-convs."""
    spec = (
        "(c3-64/valid)*2,p2,(c3-128/valid)*2,p2,(c3-256/valid)*2,p2,(c3-512/valid)*2,p2,(c3-1024/valid)*2,"
        "t2s2-512/valid,(c3-512/valid)*2,t2s2-256/valid,(c3-256/valid)*2,t2s2-128/valid,(c3-128/valid)*2,"
        "t2s2-64/valid,(c3-64/valid)*2,c1-2/valid"
    )
    a = analyze(spec, input_shape="572x572x1")
    shapes = [r.output_shape[0] for r in a.layers]
    assert shapes[:4] == [570, 568, 284, 282] and shapes[13] == 28 and a.output_shape == (388, 388, 2)
    # fields of 188 to 204 pixels (not the affine 200), moving 16 pixels every 16 units
    assert a.rf == (204, 204) and a.rf_min == (188, 188) and a.layers[-1].axes[0].period == 16
    last = a.layers[-1]
    assert [last.field_of((u, 0))[0] for u in (0, 1, 15, 16)] == [(0, 187), (0, 187), (0, 203), (16, 203)]
    assert check(parse(spec, 1), (572, 1)).rf == (204,)  # the same numbers, unit by unit, from the oracle


BAD = {
    "causal on 2-D": ("c3/causal", "32x32x3", "Conv2D: padding='causal' is for 1-D"),
    "3-D depthwise": ("dw3", "8x8x8x3", "Keras has no 3-D DepthwiseConv"),
    "bilinear on 1-D": ("up2/bilinear", "16x1", "'bilinear' interpolation is 2-D only"),
    "kernel of the wrong rank": ("c3x3", "16x1", "spells 2 axes, but the input is 1-D"),
    "an output that shrinks to zero": ("c5/valid", "4x1", "Conv1D: a 5-pixel window does not fit its 4-pixel"),
    "explicit pads of the wrong rank": ("c3/pad1x1", "16x1", "spells 2 axes"),
}


@pytest.mark.parametrize("spec, shape, words", BAD.values(), ids=BAD.keys())
def test_bad_nd_input_is_one_line_naming_the_layer(spec, shape, words):
    with pytest.raises((SpecError, ShapeError)) as err:
        analyze(spec, input_shape=shape)
    assert words in str(err.value)


def test_cli_bad_nd_input_exits_2_with_one_line(capsys):
    from rfcalc.cli import main

    for spec, shape, words in BAD.values():
        try:
            code = main([spec, "--input", shape])
        except SystemExit as ex:  # argparse's own errors exit; rfcalc's return 2
            code = ex.code
        assert code == 2, (spec, shape)
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


MERGES = {  # two paths from the same input to outputs of one shape: a U-Net skip, a decoder vs a conv
    "U-Net skip: conv vs pool-conv-up": ("c3", "p2,c3,up2", (16, 1)),
    "transposed vs conv": ("c5", "c3s2,t3s2", (16, 1)),
    "two decoders of different periods": ("p2,up2", "p4,c3,up4", (32, 1)),
    "bilinear skip in 2-D": ("c3,c3", "p2,c3,up2/bilinear", (12, 12, 1)),
}


@pytest.mark.parametrize("a, b, shape", MERGES.values(), ids=MERGES.keys())
def test_merged_paths_read_the_union_of_their_fields_at_every_unit(a, b, shape):
    from rfcalc.propagate import apply_layer, input_field, merge_fields

    rank = len(shape) - 1
    paths = []
    for spec in (a, b):
        field = input_field(shape)
        for layer in parse(spec, rank):
            field = apply_layer(layer, field).field
        paths.append((parse(spec, rank), field))
    merged = merge_fields([f for _, f in paths], concat_axis=-1).field  # Concatenate, as a U-Net
    for axis in range(rank):
        per_path = [
            axis_unit_fields([to_axis(layer, axis) for layer in layers], shape[axis])[-1] for layers, _ in paths
        ]
        size = per_path[0].size
        widths = []
        for q in range(size):
            lo = min(p.spans[q][0] for p in per_path)
            hi = max(p.spans[q][1] for p in per_path)
            assert merged.axes[axis].at(q) == (lo, hi), (a, b, axis, q)
            widths.append(hi - lo + 1)
        assert merged.rf[axis] == max(widths)
        assert merged.rf_min[axis] == min(p.rf_min for p in per_path)  # the narrowest path's smallest field
