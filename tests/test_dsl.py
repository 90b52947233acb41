"""The layer language: every token and alias, canonical spelling, repeats, symbols, errors, limits.

Expected layers are written out by hand as rfcalc layer values; the round-trip property test
spells layers its own way (aliases, explicit defaults, random case and spaces) with a writer that
shares nothing with ``format_layer``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from rfcalc.dsl import MAX_DEPTH, MAX_SPEC_CHARS, format_layer, format_spec, parse, parse_shape
from rfcalc.errors import RFError, SpecError
from rfcalc.layers import (
    ACTIVATIONS,
    MAX_LAYERS,
    BatchNorm,
    Conv,
    Crop,
    Dense,
    DepthwiseConv,
    Flatten,
    GlobalPool,
    Identity,
    Pool,
    Repeat,
    SeparableConv,
    Sym,
    ZeroPad,
    symbols_of,
)

K, C, N = Sym("k"), Sym("C"), Sym("n")

# ---- every token and alias -----------------------------------------------------------------

TOKENS = {
    # convolution: c / conv, kernel k or kxk2, options s, d, -filters, /padding, /activation, /nobias
    "c3": Conv((3, 3)),
    "conv3": Conv((3, 3)),
    "c3x5": Conv((3, 5)),
    "c3-64": Conv((3, 3), filters=64),
    "conv3-64": Conv((3, 3), filters=64),
    "c3s2": Conv((3, 3), (2, 2)),
    "c3s2x1": Conv((3, 3), (2, 1)),
    "c3d2": Conv((3, 3), dilation=(2, 2)),
    "c3d1x3": Conv((3, 3), dilation=(1, 3)),
    "c3/valid": Conv((3, 3), padding="valid"),
    "c3/same": Conv((3, 3)),
    "c3/nobias": Conv((3, 3), use_bias=False),
    "c7s2-64/valid": Conv((7, 7), (2, 2), filters=64, padding="valid"),
    "c3-64s2": Conv((3, 3), (2, 2), filters=64),
    "c5x3s2x1d1x2-8/valid/tanh/nobias": Conv((5, 3), (2, 1), (1, 2), 8, "valid", "tanh", False),
    # depthwise: dw, multiplier m
    "dw3": DepthwiseConv((3, 3)),
    "dw3m2": DepthwiseConv((3, 3), depth_multiplier=2),
    "dw3x1s2d1x2m3/valid/linear/nobias": DepthwiseConv((3, 1), (2, 2), (1, 2), 3, "valid", "linear", False),
    # separable: sep, multiplier m and filters
    "sep3": SeparableConv((3, 3)),
    "sep3m2-16": SeparableConv((3, 3), filters=16, depth_multiplier=2),
    "sep5x3s2-8/valid/elu": SeparableConv((5, 3), (2, 2), filters=8, padding="valid", activation="elu"),
    # pooling: p / maxpool, a / avgpool; stride defaults to the pool size, padding to 'valid'
    "p2": Pool("max", (2, 2)),
    "maxpool": Pool("max", (2, 2)),
    "maxpool3": Pool("max", (3, 3)),
    "p3s2": Pool("max", (3, 3), (2, 2)),
    "p3x2s1x2/same": Pool("max", (3, 2), (1, 2), "same"),
    "p2/valid": Pool("max", (2, 2)),
    "a2": Pool("avg", (2, 2)),
    "avgpool": Pool("avg", (2, 2)),
    "avgpool3s1/same": Pool("avg", (3, 3), (1, 1), "same"),
    # dense: fc / dense, linear by default
    "fc20": Dense(20),
    "dense20": Dense(20),
    "fc-20": Dense(20),
    "fc10/softmax": Dense(10, "softmax"),
    "fc5/relu/nobias": Dense(5, "relu", False),
    # keywords
    "bn": BatchNorm(),
    "batchnorm": BatchNorm(),
    "gap": GlobalPool("avg"),
    "gmp": GlobalPool("max"),
    "flat": Flatten(),
    "flatten": Flatten(),
    "id": Identity(),
    # zero padding and cropping: all sides, HxW, top:bottom x left:right
    "zp1": ZeroPad(((1, 1), (1, 1))),
    "zp1x2": ZeroPad(((1, 1), (2, 2))),
    "zp1:2": ZeroPad(((1, 2), (1, 2))),
    "zp0:1x2:3": ZeroPad(((0, 1), (2, 3))),
    "zp1x2:3": ZeroPad(((1, 1), (2, 3))),
    "crop1": Crop(((1, 1), (1, 1))),
    "crop1:2x3:4": Crop(((1, 2), (3, 4))),
    # symbols
    "c{k}": Conv((K, K)),
    "c{k}x3": Conv((K, 3)),
    "c3-{C}": Conv((3, 3), filters=C),
    "c3s{n}d{k}": Conv((3, 3), (N, N), (K, K)),
    "dw{k}m{n}": DepthwiseConv((K, K), depth_multiplier=N),
    "p{k}": Pool("max", (K, K)),
    "fc{C}": Dense(C),
}


@pytest.mark.parametrize("spec, layer", TOKENS.items(), ids=TOKENS.keys())
def test_each_token_parses_to_its_layer(spec, layer):
    assert parse(spec) == (layer,)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_is_an_option(activation):
    assert parse(f"c3/{activation}") == (Conv((3, 3), activation=activation),)
    assert parse(f"fc4/{activation}") == (Dense(4, activation),)


@pytest.mark.parametrize(
    "spec",
    [
        "C3S2-64/VALID/TANH",
        "c3s2-64/valid/tanh",
        " c 3 s 2 - 6 4 / valid / tanh ",
        "Conv3S2-64/Valid/Tanh",
        "c3\ts2\n-64/valid/tanh",
    ],
)
def test_case_and_whitespace_do_not_matter(spec):
    assert parse(spec) == (Conv((3, 3), (2, 2), filters=64, padding="valid", activation="tanh"),)


# ---- canonical spelling --------------------------------------------------------------------

CANONICAL = {
    "Conv3-64, conv3-64, maxpool": "c3-64*2,p2",
    "C3S2-64/VALID/TANH": "c3s2-64/valid/tanh",
    "c3/same/relu": "c3",
    "c3x3s1x1d1-32": "c3",
    "c3/linear": "c3/linear",
    "p2s2/valid": "p2",
    "p3s2": "p3s2",
    "a2/same": "a2/same",
    "fc20/linear": "fc20",
    "dense10/softmax": "fc10/softmax",
    "batchnorm, flatten": "bn,flat",
    "zp1:1x1:1": "zp1",
    "zp1:2x1:2": "zp1:2",
    "crop0:1x2": "crop0:1x2",
    "dw3m1": "dw3",
    "sep3m1-32": "sep3",
    "sep3-32m2": "sep3m2",
    "(c3,p2)*2": "c3,p2,c3,p2",
    "c3*2*3": "c3*6",
    "c3*2,c3": "c3*3",
    "c3, ": "c3",
    "c 3 , p 2": "c3,p2",
    "(c3,p2)*{n}": "(c3,p2)*{n}",
    "c3*{n}": "c3*{n}",
    "c3*2*{n}": "(c3*2)*{n}",
    "c{K}-{C}": "c{K}-{C}",
    "gap,fc10/softmax": "gap,fc10/softmax",
    "ID": "id",
}


@pytest.mark.parametrize("spec, canonical", CANONICAL.items(), ids=CANONICAL.keys())
def test_format_spec_is_canonical_and_reparses(spec, canonical):
    layers = parse(spec)
    assert format_spec(layers) == canonical
    assert parse(canonical) == layers
    assert format_spec(parse(canonical)) == canonical


@pytest.mark.parametrize("spec, layer", TOKENS.items(), ids=TOKENS.keys())
def test_each_token_formats_to_a_spelling_that_reparses(spec, layer):
    assert parse(format_layer(layer)) == (layer,)


def test_format_layer_refuses_non_layers():
    with pytest.raises(TypeError):
        format_layer("c3")


# ---- repeats, groups and symbols -----------------------------------------------------------

c3, p2 = Conv((3, 3)), Pool("max", (2, 2))
REPEATS = {
    "c3*3": (c3, c3, c3),
    "(c3,p2)*2": (c3, p2, c3, p2),
    "((c3)*2,p2)*2": (c3, c3, p2, c3, c3, p2),
    "(c3,(p2)*2)": (c3, p2, p2),
    "(c3,)": (c3,),
    "c3*{n}": (Repeat((c3,), N),),
    "(c3,p2)*{n}": (Repeat((c3, p2), N),),
    "c3*2*{n}": (Repeat((c3, c3), N),),
    "c3*{n}*2": (Repeat((c3,), N), Repeat((c3,), N)),
    "(c{k}*{n},p2)*3": (Repeat((Conv((K, K)),), N), p2) * 3,
}


@pytest.mark.parametrize("spec, layers", REPEATS.items(), ids=REPEATS.keys())
def test_repeats_and_groups_unroll_numbers_and_keep_symbols(spec, layers):
    assert parse(spec) == layers


def test_symbol_names_keep_their_case():
    layers = parse("C3-{C}, c3-{c}, c{Kernel}")
    assert symbols_of(layers) == ("C", "c", "Kernel")
    assert format_spec(layers) == "c3-{C},c3-{c},c{Kernel}"


def test_layer_limit_is_exact():
    assert len(parse(f"c3*{MAX_LAYERS}")) == MAX_LAYERS
    assert len(parse(f"c3*{MAX_LAYERS // 2},p2*{MAX_LAYERS // 2}")) == MAX_LAYERS
    with pytest.raises(SpecError):
        parse(f"c3*{MAX_LAYERS + 1}")
    with pytest.raises(SpecError):
        parse(f"c3*{MAX_LAYERS // 2},p2*{MAX_LAYERS // 2 + 1}")


def test_depth_limit_is_exact():
    assert parse("(" * MAX_DEPTH + "c3" + ")" * MAX_DEPTH) == (c3,)
    with pytest.raises(SpecError) as err:
        parse("(" * (MAX_DEPTH + 1) + "c3" + ")" * (MAX_DEPTH + 1))
    assert err.value.pos == MAX_DEPTH


def test_length_limit_is_exact():
    assert parse("c3" + " " * (MAX_SPEC_CHARS - 2)) == (c3,)
    with pytest.raises(SpecError, match="characters long"):
        parse("c3" + " " * (MAX_SPEC_CHARS - 1))


# ---- errors: message and caret -------------------------------------------------------------

ERRORS = {
    # spec: (caret position, caret length, words in the message)
    "c3,,p2": (3, 1, "empty layer"),
    ",": (0, 1, "empty layer"),
    "c3,,": (3, 1, "empty layer"),
    "c3,q3": (3, 2, "unknown layer 'q3'"),
    "c3, q3": (4, 2, "unknown layer 'q3'"),
    "c": (0, 1, "unknown layer 'c'"),
    "zp": (0, 2, "unknown layer 'zp'"),
    "dwx3": (0, 4, "unknown layer 'dwx3'"),
    "conv-64": (0, 7, "unknown layer 'conv-64'"),
    "{k}": (0, 3, "unknown layer '{k}'"),
    "c3,p2)": (5, 1, "')' without a matching '('"),
    "(c3)*2)": (6, 1, "')' without a matching '('"),
    "c3)(": (2, 1, "')' without a matching '('"),
    "(c3,p2": (0, 1, "'(' is never closed"),
    "c3,(": (4, 1, "expected a layer at the end"),
    "()": (1, 1, "expected a layer, found ')'"),
    "c3*": (2, 1, "'*' must be followed by a count"),
    "c3**2": (2, 1, "'*' must be followed by a count"),
    "c3*{n": (2, 1, "'*' must be followed by a count"),
    "c3*0": (2, 2, "a repeat count must be at least 1"),
    "c3s0": (0, 4, "stride must be a positive integer. Received: stride=0"),
    "c3d0": (0, 4, "dilation must be a positive integer. Received: dilation=0"),
    "c3-0": (0, 4, "filters must be a positive integer. Received: filters=0"),
    "c3x0": (0, 4, "kernel must be a positive integer. Received: kernel=0"),
    "p2s0": (0, 4, "strides must be a positive integer"),
    "p0": (0, 2, "MaxPooling2D: pool_size must be a positive integer. Received: pool_size=0"),
    "fc0": (0, 3, "Dense: units must be a positive integer. Received: units=0"),
    "dw3m0": (0, 5, "DepthwiseConv2D: depth_multiplier must be a positive integer. Received: depth_multiplier=0"),
    "sep3m0": (0, 6, "SeparableConv2D: depth_multiplier must be a positive integer. Received: depth_multiplier=0"),
    "sep3-0": (0, 6, "SeparableConv2D: filters must be a positive integer. Received: filters=0"),
    "p": (0, 1, "p needs a pool size, as in p2"),
    "a": (0, 1, "a needs a pool size, as in a2"),
    "fc": (0, 2, "fc needs a unit count, as in fc20"),
    "fc3x3": (0, 5, "fc needs a unit count"),
    "c3/foo": (2, 4, "unknown option '/foo'"),
    "fc20/same": (4, 5, "unknown option '/same'"),
    "p2/relu": (2, 5, "unknown option '/relu'"),
    "c3m2": (2, 2, "unknown option 'm2'"),
    "dw3-8": (3, 2, "unknown option '-8'"),
    "p2-8": (2, 2, "unknown option '-8'"),
    "c3x": (2, 1, "unknown option 'x'"),
    "c3 p2": (3, 2, "unknown option 'p2'"),
    "c3s2s2": (4, 2, "option 's2' is given twice"),
    "c3-8-16": (4, 3, "option '-16' is given twice"),
    "c3/valid/same": (8, 5, "sets the padding a second time"),
    "c3/relu/tanh": (7, 5, "sets the activation a second time"),
    "c3/nobias/nobias": (9, 7, "sets the bias a second time"),
    "dw3m2x2": (3, 4, "a depth multiplier is one number"),
    "zp1:2:3": (0, 7, "zp takes pixels as"),
    "crop{n}": (0, 7, "crop takes pixels as"),
    "c3*1000000000": (2, 11, "expands to 1,000,000,000 layers"),
    "((c3)*1000)*1000": (11, 5, "expands to 1,000,000 layers"),
    "c" + "9" * 13: (1, 13, "a number of 13 digits"),
}


@pytest.mark.parametrize("spec, expected", ERRORS.items(), ids=[s[:20] for s in ERRORS])
def test_errors_point_at_the_bad_token(spec, expected):
    pos, length, words = expected
    with pytest.raises(SpecError) as err:
        parse(spec)
    e = err.value
    assert words in e.reason
    assert (e.pos, e.spec) == (pos, spec)
    message_line, spec_line, caret_line = str(e).split("\n")
    assert message_line == e.reason
    assert spec_line == "  " + spec.replace("\t", " ")
    assert caret_line == "  " + " " * pos + "^" * length


@pytest.mark.parametrize(
    "spec, words", [("", "empty"), ("   ", "empty"), (None, "must be a string"), (["c3"], "must be a string")]
)
def test_errors_without_a_position(spec, words):
    with pytest.raises(SpecError, match=words) as err:
        parse(spec)
    assert err.value.pos is None


def test_spec_errors_are_value_errors():
    assert issubclass(SpecError, RFError) and issubclass(SpecError, ValueError)


ABSURD = {
    "a billion repeats": "c3*1000000000",
    "nested repeats": "((c3)*1000)*1000",
    "a 1 MB spec": "c3," * 350_000,
    "10,000 nested parentheses": "(" * 10_000 + "c3" + ")" * 10_000,
    "a 5,000-digit kernel": "c" + "9" * 5000,
    "a 5,000-digit count": "c3*" + "9" * 5000,
    "a 5,000-digit dense": "fc" + "9" * 5000,
    "a 5,000-digit padding": "zp" + "9" * 5000,
    "a huge symbolic count of a huge group": "(c3*100000,c3)*{n}",
    "a long run of commas": "," * 90_000,
    "unclosed 10,000 deep": "(" * 10_000,
}


@pytest.mark.parametrize("spec", ABSURD.values(), ids=ABSURD.keys())
def test_absurd_inputs_fail_fast_with_a_spec_error(spec):
    with pytest.raises(SpecError) as err:
        parse(spec)
    assert len(str(err.value).split("\n")[0]) < 200  # one readable line, not the whole spec


def test_clipped_caret_on_long_specs_stays_under_the_token():
    spec = "c3," * 100 + "q3"
    with pytest.raises(SpecError) as err:
        parse(spec)
    _, spec_line, caret_line = str(err.value).split("\n")
    col = caret_line.index("^")
    assert spec_line[col : col + 2] == "q3"


# ---- property: any spelling of any layers parses back, and the canonical form is a fixed point


def _cased(draw, text):
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(ch.upper() if f else ch for ch, f in zip(text, flips))


def _spaced(draw, text):
    cuts = draw(st.lists(st.integers(0, len(text)), max_size=3))
    for cut in sorted(cuts, reverse=True):
        text = text[:cut] + draw(st.sampled_from([" ", "  ", "\t"])) + text[cut:]
    return text


def _dims(draw, pair, default=None, key=""):
    a, b = pair
    if pair == default and draw(st.booleans()):
        return ""
    if a == b and draw(st.booleans()):
        return f"{key}{a}"
    return f"{key}{a}x{b}"


dims = st.tuples(st.integers(1, 9), st.integers(1, 9))
small_dims = st.one_of(st.just((1, 1)), dims)
acts = st.sampled_from(ACTIVATIONS)


@st.composite
def spelled_layer(draw):
    """A random layer and a random (non-canonical) spelling of it."""
    kind = draw(st.sampled_from(["conv", "dw", "sep", "pool", "dense", "bn", "gap", "gmp", "flat", "id", "zp", "crop"]))
    if kind in ("conv", "dw", "sep"):
        k, s, d = draw(dims), draw(small_dims), draw(small_dims)
        padding, act, bias = draw(st.sampled_from(["same", "valid"])), draw(acts), draw(st.booleans())
        f, m = draw(st.sampled_from([32, 1, 7, 64])), draw(st.sampled_from([1, 2, 3]))
        opts = [_dims(draw, s, (1, 1), "s"), _dims(draw, d, (1, 1), "d")]
        if kind == "conv":
            layer = Conv(k, s, d, f, padding, act, bias)
            op = draw(st.sampled_from(["c", "conv"]))
        elif kind == "dw":
            layer = DepthwiseConv(k, s, d, m, padding, act, bias)
            op = "dw"
        else:
            layer = SeparableConv(k, s, d, f, m, padding, act, bias)
            op = "sep"
        if kind != "conv" and (m != 1 or draw(st.booleans())):
            opts.append(f"m{m}")
        if kind != "dw" and (f != 32 or draw(st.booleans())):
            opts.append(f"-{f}")
        opts = draw(st.permutations(opts))
        words = []  # '/word' options come last
        if padding == "valid" or draw(st.booleans()):
            words.append(f"/{padding}")
        if act != "relu" or draw(st.booleans()):
            words.append(f"/{act}")
        if not bias:
            words.append("/nobias")
        text = op + _dims(draw, k) + "".join(opts) + "".join(draw(st.permutations(words)))
    elif kind == "pool":
        op = draw(st.sampled_from(["max", "avg"]))
        k, padding = draw(dims), draw(st.sampled_from(["same", "valid"]))
        s = draw(st.one_of(st.just(k), dims))
        layer = Pool(op, k, s, padding)
        name = draw(st.sampled_from(["p", "maxpool"] if op == "max" else ["a", "avgpool"]))
        if name in ("maxpool", "avgpool") and k == (2, 2) and s == k and draw(st.booleans()):
            text = name
        else:
            text = name + _dims(draw, k) + _dims(draw, s, k, "s")
        if padding == "same" or draw(st.booleans()):
            text += f"/{padding}"
    elif kind == "dense":
        units, act, bias = draw(st.integers(1, 500)), draw(acts), draw(st.booleans())
        layer = Dense(units, act, bias)
        text = draw(st.sampled_from(["fc", "dense", "fc-"])) + str(units)
        if act != "linear" or draw(st.booleans()):
            text += f"/{act}"
        if not bias:
            text += "/nobias"
    elif kind in ("zp", "crop"):
        t, b, l, r = (draw(st.integers(0, 4)) for _ in range(4))
        layer = ZeroPad(((t, b), (l, r))) if kind == "zp" else Crop(((t, b), (l, r)))
        text = f"{kind}{t}:{b}x{l}:{r}"
    else:
        layer, names = {
            "bn": (BatchNorm(), ["bn", "batchnorm"]),
            "gap": (GlobalPool("avg"), ["gap"]),
            "gmp": (GlobalPool("max"), ["gmp"]),
            "flat": (Flatten(), ["flat", "flatten"]),
            "id": (Identity(), ["id"]),
        }[kind]
        text = draw(st.sampled_from(names))
    return layer, _spaced(draw, _cased(draw, text))


@st.composite
def spelled_spec(draw):
    items = draw(st.lists(spelled_layer(), min_size=1, max_size=6))
    layers, parts = [], []
    for layer, text in items:
        n = draw(st.integers(1, 3))
        layers.extend([layer] * n)
        parts.append(text if n == 1 else (f"{text}*{n}" if draw(st.booleans()) else f"({text})*{n}"))
    return tuple(layers), ",".join(parts) + draw(st.sampled_from(["", ",", " , "]))


@settings(max_examples=300, deadline=None)
@given(spelled_spec())
def test_any_spelling_parses_to_the_layers_it_spells(case):
    layers, spec = case
    assert parse(spec) == layers
    canonical = format_spec(layers)
    assert parse(canonical) == layers
    assert format_spec(parse(canonical)) == canonical
    assert canonical == canonical.lower() and " " not in canonical


@settings(max_examples=100, deadline=None)
@given(st.lists(spelled_layer(), min_size=1, max_size=3), st.sampled_from(["n", "N", "blocks"]))
def test_symbolic_repeats_round_trip(items, name):
    body = tuple(layer for layer, _ in items)
    spec = "(" + ",".join(text for _, text in items) + ")*{" + name + "}"
    assert parse(spec) == (Repeat(body, Sym(name)),)
    assert parse(format_spec(parse(spec))) == parse(spec)


def test_binding_a_huge_symbolic_count_fails_fast():
    from rfcalc import analyze

    with pytest.raises(SpecError, match="100,000"):
        analyze("(c3,p2)*{n}", symbols={"n": 10**9})


# ---- docs/dsl.md is the token table: its examples parse, its canonical forms and errors hold ----

DOC = (__import__("pathlib").Path(__file__).parent.parent / "docs" / "dsl.md").read_text()


def _section(title):
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _code_spans(cell):
    import re

    return re.findall(r"`([^`]+)`", cell)


def test_every_example_in_the_doc_token_table_parses():
    rows = [line for line in _section("Token table").splitlines() if line.startswith("| `")]
    examples = [ex for row in rows if row.count("|") == 5 for ex in _code_spans(row.split("|")[4])]
    assert len(examples) > 30
    for ex in examples:
        assert len(parse(ex)) == 1, ex


def test_doc_canonical_table_holds():
    rows = [line for line in _section("Canonical spelling").splitlines() if line.startswith("| `")]
    assert len(rows) >= 8
    for row in rows:
        spec, canonical = (_code_spans(cell)[0] for cell in row.split("|")[1:3])
        assert format_spec(parse(spec)) == canonical, spec


def test_doc_error_examples_are_verbatim():
    blocks = _section("Errors").split("```\n")[1::2]
    assert len(blocks) >= 8
    for block in blocks:
        message, spec_line, caret_line = block.rstrip("\n").split("\n")
        with pytest.raises(SpecError) as err:
            parse(spec_line.strip())
        assert str(err.value) == block.rstrip("\n")


def test_doc_limits_are_the_code_limits():
    from rfcalc import dsl

    limits = _section("Limits")
    assert f"MAX_SPEC_CHARS` = {MAX_SPEC_CHARS:,}" in limits
    assert f"MAX_DEPTH` = {MAX_DEPTH}" in limits
    assert f"MAX_LAYERS` = {MAX_LAYERS:,}" in limits
    assert f"longer than {dsl.MAX_DIGITS} digits" in limits


def test_doc_lists_every_activation_and_keyword():
    from rfcalc.dsl import _KEYWORDS

    table = _section("Token table")
    for act in ACTIVATIONS:
        assert f"`/{act}`" in table, act
    for word in _KEYWORDS:
        assert f"`{word}`" in table, word


SHAPES = {
    "32x32x3": (32, 32, 3),
    "28x28x1": (28, 28, 1),
    "224X224X3": (224, 224, 3),
    "(32, 32, 3)": (32, 32, 3),
    "32×32": (32, 32),
    " 64 x 48 ": (64, 48),
    "16000x1": (16000, 1),
    "16x112x112x3": (16, 112, 112, 3),
    "(16000, 1)": (16000, 1),
}  # two numbers are a 1-D input: length x channels, as Keras' input_shape


@pytest.mark.parametrize("text, shape", SHAPES.items(), ids=SHAPES.keys())
def test_input_shapes(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["0x3", "32x32x0", "32", "32x32x3x1x1", "axb", ""])
def test_bad_input_shapes(text):
    with pytest.raises(SpecError, match="sizes then channels|positive"):
        parse_shape(text)


def test_doc_input_shapes_parse():
    for ex in _code_spans(_section("Input shapes")):
        if ex not in (
            "--input",
            'analyze(..., input_shape="...")',
            "HxWxC",
            "HxW",
            "LxC",
            "DxHxWxC",
            "input_shape",
            "28x28",
        ):
            assert 2 <= len(parse_shape(ex)) <= 4, ex


def test_doc_opening_examples_parse():
    import re

    block = DOC.split("```\n", 2)[1]
    specs = [re.split(r"\s{2,}", line.strip())[0] for line in block.splitlines() if line.strip()]
    assert len(specs) == 4
    for spec in specs:
        assert parse(spec)
