"""Closed forms checked by substitution against the numeric analysis, and against hand-worked numbers."""

from __future__ import annotations

import itertools
from functools import cache

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from rfcalc import analyze
from rfcalc.errors import RFError, ShapeError, SpecError, SymbolError
from rfcalc.symbolic import ClosedForms, closed_forms, symbol

k, n = symbol("k"), symbol("n")


def _numeric(spec, shape, values):
    """What analyze() says for the spec with its symbols bound: the oracle for every substitution."""
    a = analyze(spec, shape, symbols=values)
    last = next(r for r in reversed(a.layers) if r.spatial)
    return {
        "rf": a.rf,
        "jump": a.jump,
        "output_size": last.output_shape[:2],
        "channels": a.layers[-1].output_shape[-1],
        "params": a.total_params,
        "macs": a.total_macs,
    }


def _agree(cf: ClosedForms, spec, shape, values):
    """Every closed form that exists equals the numeric analysis; every missing one has a note."""
    try:
        want = _numeric(spec, shape, values)
    except ShapeError:
        return False
    names = {s: v for s, v in values.items() if s in cf.symbols}
    h, w, c = shape
    names.update({s: v for s, v in (("H", h), ("W", w), ("C_in", c)) if s in cf.symbols})
    got = cf.substitute(**names)
    for key, value in got.items():
        flat = value if isinstance(value, tuple) else (value,)
        if None in flat:
            assert cf.notes, f"{key} of {spec} is None without a note"
            continue
        assert value == want[key], f"{key} of {spec} with {names}: closed form {value}, analyze {want[key]}"
    return True


# ---------------------------------------------------------------- required forms, worked by hand


def test_stacked_kxk_convs_have_rf_n_times_k_minus_1_plus_1():
    cf = closed_forms("c{k}*{n}")
    assert sp.expand(cf.rf[0] - (n * (k - 1) + 1)) == 0
    assert cf.rf[0] == cf.rf[1] and cf.jump == (1, 1)


@pytest.mark.parametrize("count, rf", [(1, 4), (2, 10), (3, 22), (5, 94)])
def test_conv_pool_blocks_have_rf_3_times_2_to_the_n_minus_2(count, rf):
    cf = closed_forms("(c3,p2)*{n}")
    assert sp.expand(cf.rf[0] - (3 * 2**n - 2)) == 0
    assert cf.substitute(n=count, H=64, W=64)["rf"] == (rf, rf)
    assert cf.substitute(n=count)["jump"] == (2**count, 2**count)


def test_b2_2_2_two_3x3_convs_give_5x5():
    cf = closed_forms("c3,c3", (32, 32, 3))
    assert cf.rf == (5, 5) and cf.jump == (1, 1) and cf.output_size == (32, 32)
    assert cf.params == 896 + 9248


# ---------------------------------------------------------------- table: named behaviours over a grid

CASES = {
    "same_convs_keep_size": "c{k}*{n}",
    "valid_convs_shrink_by_k_minus_1_each": "c{k}/valid*{n}",
    "valid_pool_after_conv_floors": "(c3,p2)*{n}",
    "same_pool_ceils": "(c3,p2/same)*{n}",
    "strided_same_conv_ceils": "c3s{s}*{n}",
    "strided_valid_conv_affine_floor": "c3s2/valid*{n}",
    "valid_conv_then_pool_affine_floor": "(c3/valid,p2)*{n}",
    "dilation_symbolic": "c3d{d}*{n},p2",
    "symbolic_filters_steady": "(c3-{C},c3-{C},p2)*{n},gap,fc10",
    "flatten_dense_head": "c{k}/valid*{n},flat,fc10",
    "batchnorm_counts_four_per_channel": "(c3-{C},bn)*{n}",
    "non_square_kernels": "(c3x1,c1x3s1x2)*{n}",
    "padding_and_cropping": "zp1,c3/valid*{n},crop1",
    "depthwise_and_separable": "(dw3,sep3-16)*{n}",
    "nested_symbolic_repeats": "((c3)*{n},p2)*{r}",
    "pool_with_symbolic_size": "c3,p{k}",
    "stride_larger_than_kernel": "c1s3*{n}",
    "nothing_symbolic": "c3,c3,p2,flat,fc20,fc10/softmax",
}

VALUES = [
    dict(k=kk, n=nn, s=ss, d=dd, C=cc, r=rr)
    for kk, nn, ss, dd, cc, rr in [
        (1, 1, 1, 1, 1, 1),
        (3, 2, 2, 2, 4, 2),
        (2, 3, 3, 1, 2, 1),
        (5, 1, 2, 3, 3, 2),
        (3, 4, 1, 2, 1, 1),
    ]
]
SHAPES = [(32, 32, 3), (33, 17, 1), (64, 40, 5), (7, 9, 2)]


@pytest.mark.parametrize("spec", CASES.values(), ids=CASES.keys())
def test_closed_forms_match_numeric_analysis(spec):
    cf = closed_forms(spec, (None, None, None))
    checked = sum(_agree(cf, spec, shape, values) for shape, values in itertools.product(SHAPES, VALUES))
    assert checked > 0


@pytest.mark.parametrize("spec", ["c3,c3", "(c3,p2)*{n}", "c3s2*{n}", "(c3-{C},p2)*{n}"])
def test_numeric_input_sizes_give_numbers(spec):
    cf = closed_forms(spec, (32, 32, 3))
    assert not ({"H", "W", "C_in"} & set(cf.symbols))
    for values in VALUES:
        assert _agree(cf, spec, (32, 32, 3), values)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("(c3,p2)*{n}", "floor(H/2**n)"),
        ("(c3,p2/same)*{n}", "ceiling(H/2**n)"),
        ("c3s2,c3s2,c3s2", "ceiling(H/8)"),
        ("c{k}/valid*{n}", "H - n*(k - 1)"),
        ("p2,p2", "floor(H/4)"),
    ],
)
def test_sizes_compose_into_one_rounding(spec, expected):
    got = closed_forms(spec).output_size[0]
    H = symbol("H")
    want = sp.sympify(expected, locals={"H": H, "n": n, "k": k})
    assert sp.expand(got - want) == 0, got


def test_symbolic_stride_gives_a_piecewise_rf_that_is_right_at_stride_1():
    cf = closed_forms("c3s{s}*{n}")
    assert cf.rf[0].has(sp.Piecewise)
    assert cf.substitute(s=1, n=4)["rf"] == (9, 9)
    assert cf.substitute(s=2, n=3)["rf"] == (15, 15)


def test_channels_that_grow_each_repeat_give_none_with_a_reason():
    cf = closed_forms("dw3m2*{n}")
    assert cf.params is None and cf.channels is None
    assert any("channels" in note for note in cf.notes)
    assert cf.rf[0] == 2 * n + 1


def test_size_map_without_closed_form_gives_none_with_a_reason():
    cf = closed_forms("(c3s2,p2)*{n}")  # ceil then floor: no single rounding under repetition
    assert cf.rf[0] is not None and cf.output_size == (None, None)
    assert any("output size" in note for note in cf.notes)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(
        st.sampled_from(
            [
                "c3",
                "c{k}",
                "c3/valid",
                "c{k}/valid",
                "c3s2",
                "c{k}s{s}",
                "c3s{s}/valid",
                "c3d{d}",
                "c3x1",
                "c1x3s1x2",
                "p2",
                "p3s2",
                "p2/same",
                "a2",
                "dw3",
                "dw{k}m2",
                "sep3-16",
                "c3-{C}",
                "c1-{C}/valid",
                "bn",
                "zp1",
                "crop1",
                "p3s1/same",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    wrap=st.sampled_from(["{}", "({})*{{n}}", "c3,({})*{{r}}", "({})*{{n}},p2"]),
    head=st.sampled_from(["", ",flat,fc{u}", ",gap,fc5", ",fc7", ",id"]),
    values=st.fixed_dictionaries(
        {name: st.integers(1, hi) for name, hi in dict(k=4, s=3, d=3, C=6, n=3, r=2, u=4).items()}
    ),
    shape=st.tuples(st.integers(1, 70), st.integers(1, 70), st.integers(1, 4)),
)
def test_random_specs_substitute_to_the_numeric_analysis(items, wrap, head, values, shape):
    spec = wrap.format(",".join(items)) + head
    try:
        cf = _cached(spec)
    except ShapeError:
        return
    _agree(cf, spec, shape, values)


@cache
def _cached(spec):
    return closed_forms(spec, (None, None, None))


# ---------------------------------------------------------------- output: dict, text, rich


def test_to_dict_strings_read_back_with_sympify():
    cf = closed_forms("(c3-{C},p2)*{n},flat,fc10")
    d = cf.to_dict()
    assert set(d) >= {"spec", "symbols", "input", "rf", "jump", "output_size", "params", "macs", "notes"}
    values = {"C": 4, "n": 2, "H": 32, "W": 24}
    sub = {sp.Symbol(name): v for name, v in values.items()}
    back = sp.sympify(d["params"]).subs(sub)
    assert back == cf.substitute(**values)["params"] == analyze("(c3-4,p2)*2,flat,fc10", (32, 24, 3)).total_params
    assert [sp.sympify(r).subs(sub) for r in d["rf"]] == [10, 10]
    assert d["macs"] is None and d["notes"]
    import json

    assert json.loads(json.dumps(d)) == d


@pytest.mark.parametrize(
    "shape, symbols",
    [((32, None, 3), {"W"}), ((None, 24, None), {"H", "C_in"}), (None, {"H", "W"}), ((8, 8, 1), set())],
)
def test_input_sizes_may_be_partly_symbolic(shape, symbols):
    cf = closed_forms("c3s2,c3-{C}", shape)
    assert set(cf.symbols) == symbols | {"C"}
    values = {"C": 5, "H": 32, "W": 24, "C_in": 3}
    got = cf.substitute(**{s: v for s, v in values.items() if s in cf.symbols})
    h, w, c = (v if v is not None else values[name] for v, name in zip(shape or (None, None, 3), ("H", "W", "C_in")))
    assert got["params"] == analyze("c3s2,c3-5", (h, w, c)).total_params


def test_text_and_rich_show_the_formulas():
    from io import StringIO

    from rich.console import Console

    cf = closed_forms("c{k}*{n}")
    assert "n*(k - 1) + 1" in str(cf)
    out = StringIO()
    Console(file=out, width=100, color_system=None).print(cf)
    assert "n*(k - 1) + 1" in out.getvalue() and "receptive field" in out.getvalue()


# ---------------------------------------------------------------- errors name the bad input


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: closed_forms("c3,,c3"), SpecError, "empty layer"),
        (lambda: closed_forms("q{k}"), SpecError, "unknown layer"),
        (lambda: closed_forms("c{H}", None), SymbolError, "{H}"),
        (lambda: closed_forms("c3", (32, 0, 3)), SpecError, "Received"),
        (lambda: closed_forms("c3", (32, 32, 32, 32, 3)), SpecError, "Received"),
        (lambda: closed_forms("c3", "32xfoo!x3"), SpecError, "Received"),
        (lambda: closed_forms("(c3,flat)*{n}"), SpecError, "Received"),
        (lambda: closed_forms("gap,c3"), ShapeError, "Received"),
        (lambda: closed_forms("c7/valid", (5, 5, 3)), ShapeError, "Received"),
        (lambda: closed_forms("c{k}").substitute(q=3), SymbolError, "'q'"),
        (lambda: closed_forms("c{k}").substitute(k=0), SymbolError, "k=0"),
        (lambda: closed_forms("c{k}").substitute(k=2.5), SymbolError, "k=2.5"),
        (lambda: closed_forms(42), SpecError, "Received"),
    ],
)
def test_nonsense_raises_an_rferror_naming_it(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, RFError) and words in str(info.value)


def test_input_shape_string_may_name_symbols():
    cf = closed_forms("c3s2", "Hx32x3")
    assert str(cf.output_size[0]) == "ceiling(H/2)" and cf.output_size[1] == 16


def test_a_doubling_dilation_schedule_has_the_textbook_field():
    """n layers of kernel k with dilations 1, 2, ..., 2^(n-1): field (k-1)(2^n - 1) + 1."""
    k, m = sp.Symbol("k", integer=True, positive=True), sp.Symbol("m", integer=True, positive=True)
    n = m + 1  # d2^0..{m} has m + 1 layers
    cf = closed_forms("c{k}d2^0..{m}/causal", "16000x1")
    assert sp.simplify(cf.rf[0] - ((k - 1) * (2**n - 1) + 1)) == 0 and cf.output_size == (16000,)
    numbers = cf.substitute(k=2, m=9)
    wavenet = analyze("c2d1..512/causal", input_shape="16000x1")
    assert numbers["rf"] == wavenet.rf == (1024,) and numbers["params"] == wavenet.total_params
    assert numbers["macs"] == wavenet.total_macs


@pytest.mark.parametrize(
    "spec, shape", [("(c3,p2)*{n}", "64x1"), ("c3s2*{n},c{k}", "32x32x32x1"), ("c{k}d2^1..{m}", "100x1")]
)
def test_symbolic_forms_of_1d_and_3d_stacks_equal_the_numbers(spec, shape):
    cf = closed_forms(spec, shape)
    values = {name: 2 for name in cf.symbols}
    got = cf.substitute(**values)
    a = analyze(spec, input_shape=shape, symbols=values)
    assert got["rf"] == a.rf and got["jump"] == a.jump and got["params"] == a.total_params
    assert got["output_size"] == a.output_shape[:-1] and got["macs"] in (None, a.total_macs)


def test_symbolic_refuses_decoders_with_a_reason():
    with pytest.raises(SpecError, match="depend on the output phase"):
        closed_forms("c3,up2,c{k}", "32x32x1")
