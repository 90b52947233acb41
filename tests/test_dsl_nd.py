"""The layer language for 1-D and 3-D inputs and for decoders: tokens by rank, schedules, the
canonical spelling round trip, and the errors that name the token."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from rfcalc.dsl import format_spec, parse
from rfcalc.errors import SpecError
from rfcalc.layers import (
    Conv,
    ConvTranspose,
    Crop,
    DepthwiseConv,
    GlobalPool,
    Pool,
    Schedule,
    SeparableConv,
    Sym,
    Upsample,
    ZeroPad,
)

TOKENS = {  # (spec, rank): the layer it spells
    ("c3", 1): Conv((3,)),
    ("c3", 3): Conv((3, 3, 3)),
    ("c3x1x1", 3): Conv((3, 1, 1)),
    ("c5s2-64/valid", 1): Conv((5,), (2,), filters=64, padding="valid"),
    ("c2d4/causal", 1): Conv((2,), dilation=(4,), padding="causal"),
    ("c3/pad0:2", 1): Conv((3,), padding=((0, 2),)),
    ("c3s2/pad1x0:1", 2): Conv((3, 3), (2, 2), padding=((1, 1), (0, 1))),
    ("p2", 1): Pool("max", (2,)),
    ("a2x2x2", 3): Pool("avg", (2, 2, 2)),
    ("p3s2/pad0:1", 1): Pool("max", (3,), (2,), ((0, 1),)),
    ("gap", 1): GlobalPool("avg", 1),
    ("gmp", 3): GlobalPool("max", 3),
    ("dw3", 1): DepthwiseConv((3,)),
    ("sep3-16", 1): SeparableConv((3,), filters=16),
    ("zp1:2", 1): ZeroPad(((1, 2),)),
    ("zp1/reflect", 2): ZeroPad(((1, 1), (1, 1)), "reflect"),
    ("zp2/edge", 1): ZeroPad(((2, 2),), "edge"),
    ("crop1x0x2", 3): Crop(((1, 1), (0, 0), (2, 2))),
    ("up2", 1): Upsample((2,)),
    ("up2x1x1", 3): Upsample((2, 1, 1)),
    ("up2/bilinear", 2): Upsample((2, 2), "bilinear"),
    ("t3s2", 2): ConvTranspose((3, 3), (2, 2)),
    ("t4s2o1-16/valid", 1): ConvTranspose((4,), (2,), filters=16, padding="valid", output_padding=(1,)),
    ("t3s2/pad1:0", 1): ConvTranspose((3,), (2,), padding=((1, 0),)),
    ("c{k}d2^0..{n}", 1): Schedule(Conv((Sym("k"),)), 0, Sym("n")),
}


@pytest.mark.parametrize("spec, rank", TOKENS, ids=[f"{s}@{r}D" for s, r in TOKENS])
def test_each_token_spells_its_layer_of_the_inputs_rank(spec, rank):
    (layer,) = parse(spec, rank)
    assert layer == TOKENS[(spec, rank)]
    assert parse(format_spec((layer,)), rank) == (layer,)


KERAS_NAMES = {
    ("c3", 1): "Conv1D",
    ("c3", 3): "Conv3D",
    ("t3", 3): "Conv3DTranspose",
    ("up2", 2): "UpSampling2D",
    ("p2", 1): "MaxPooling1D",
    ("a2", 3): "AveragePooling3D",
    ("gap", 3): "GlobalAveragePooling3D",
    ("zp1", 1): "ZeroPadding1D",
    ("crop1", 3): "Cropping3D",
    ("sep3", 1): "SeparableConv1D",
    ("dw3", 1): "DepthwiseConv1D",
    ("zp1/reflect", 1): "ReflectionPadding1D",
}


@pytest.mark.parametrize("spec, rank", KERAS_NAMES, ids=[f"{s}@{r}D" for s, r in KERAS_NAMES])
def test_keras_class_follows_the_rank(spec, rank):
    assert parse(spec, rank)[0].keras_class == KERAS_NAMES[(spec, rank)]


SCHEDULES = {
    "c2d1..512/causal": (1, 10, "c2d1..512/causal"),
    "(c2d1..512/causal)*3": (1, 30, "c2d1..512/causal*3"),
    "c3d2^0..3": (1, 4, "c3d1..8"),
    "c3d4..16-64": (1, 3, "c3d4..16-64"),
    "c3d1,c3d2,c3d4,c3d8": (1, 4, "c3d1..8"),
    "c3d1,c3d2": (1, 2, "c3,c3d2"),  # two layers are not folded
    "dw3d1..4": (2, 3, "dw3d1..4"),
}


@pytest.mark.parametrize("spec", SCHEDULES)
def test_dilation_schedules_unroll_and_fold_back_canonically(spec):
    rank, count, canonical = SCHEDULES[spec]
    layers = parse(spec, rank)
    assert len(layers) == count and format_spec(layers) == canonical and parse(canonical, rank) == layers


def test_wavenet_is_one_short_spec():
    assert len("(c2d1..512/causal)*3") <= 40
    assert [layer.dilation[0] for layer in parse("(c2d1..512/causal)*3", 1)] == [2**e for e in range(10)] * 3


ERRORS = {
    ("c3x3", 1): "spells 2 axes, but the input is 1-D",
    ("c3x3x3", 2): "spells 3 axes, but the input is 2-D",
    ("c3s1x2", 1): "stride '1x2' spells 2 axes",
    ("c3/causal", 2): "padding='causal' is for 1-D convolutions",
    ("p2/causal", 1): "unknown option '/causal'",
    ("dw3", 3): "Keras has no 3-D DepthwiseConv",
    ("sep3", 3): "Keras has no 3-D SeparableConv",
    ("up2/bilinear", 1): "'bilinear' interpolation is 2-D only",
    ("up2/bilinear", 3): "'bilinear' interpolation is 2-D only",
    ("c3d1..6", 1): "B must be A times a power of two",
    ("c3d2^3..1", 1): "needs A <= B",
    ("c3d2d1..4", 1): "either a dilation or a dilation schedule",
    ("t3s2o2", 1): "output_padding must be at least 0 and below the stride",
    ("c3/pad1/valid", 1): "sets the padding a second time",
    ("zp1/bilinear", 1): "unknown option '/bilinear'",
}


@pytest.mark.parametrize("spec, rank", ERRORS, ids=[f"{s}@{r}D" for s, r in ERRORS])
def test_bad_nd_tokens_name_the_token(spec, rank):
    with pytest.raises(SpecError) as err:
        parse(spec, rank)
    assert ERRORS[(spec, rank)] in str(err.value)
    assert "^" in str(err.value)


def test_two_d_parsing_is_unchanged_by_default():
    assert parse("c3x5,p2") == parse("c3x5,p2", 2) and parse("c3")[0].kernel == (3, 3)


dims = st.integers(1, 4)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda r: st.tuples(
            st.just(r),
            st.lists(
                st.one_of(
                    st.builds(
                        Conv,
                        st.tuples(*[dims] * r),
                        st.tuples(*[dims] * r),
                        st.tuples(*[dims] * r),
                        st.integers(1, 64),
                        st.sampled_from(["same", "valid"] + (["causal"] if r == 1 else [])),
                    ),
                    st.builds(
                        ConvTranspose,
                        st.tuples(*[dims] * r),
                        st.tuples(*[dims] * r),
                        st.just((1,) * r),
                        st.integers(1, 8),
                    ),
                    st.builds(Upsample, st.tuples(*[dims] * r)),
                    st.builds(
                        Pool,
                        st.sampled_from(["max", "avg"]),
                        st.tuples(*[dims] * r),
                        st.tuples(*[dims] * r),
                        st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * r),
                    ),
                    st.builds(
                        ZeroPad,
                        st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2))] * r),
                        st.sampled_from(["constant", "reflect", "edge"]),
                    ),
                ),
                min_size=1,
                max_size=8,
            ),
        )
    )
)
def test_any_nd_layers_round_trip_through_the_canonical_spelling(case):
    rank, layers = case
    text = format_spec(layers)
    assert parse(text, rank) == tuple(layers)
    assert format_spec(parse(text, rank)) == text


def test_the_doc_rank_table_parses_at_each_inputs_rank():
    import re
    from pathlib import Path

    from rfcalc.dsl import parse_shape

    doc = (Path(__file__).parent.parent / "docs" / "dsl.md").read_text()
    section = doc.split("## Ranks, causal convs and dilation schedules\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) >= 6
    for row in rows:
        spec, shape = (re.findall(r"`([^`]+)`", cell)[0] for cell in row.split("|")[1:3])
        layers = parse(spec, len(parse_shape(shape)) - 1)
        assert layers and format_spec(layers)


def test_symbol_names_with_an_x_are_not_split_as_axes():
    (layer,) = parse("c{x}s{ex}-{max}", 1)
    assert layer.kernel == (Sym("x"),) and layer.stride == (Sym("ex"),) and layer.filters == Sym("max")
    assert parse("c{x}x3", 2)[0].kernel == (Sym("x"), 3)
