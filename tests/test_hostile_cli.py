"""Hostile input at the command line, class by class: exit 2, one error line (a caret may follow), no traceback.

Each class is a table of argv's; the checks share one helper. TensorFlow-free: the Keras and probe
classes live in test_hostile_probe.py.
"""

import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy as sp

from rfcalc.cli import main
from rfcalc.symbolic import closed_forms, read_back


def refuse(capsys, argv, needle):
    """Exit 2, an ``error:`` line that contains ``needle``, nothing on stdout, no traceback."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    assert "Traceback" not in err and out == ""
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    assert needle in errors[0], err


def usage_error(capsys, argv, needle):
    """argparse's refusals: usage, then one ``error:`` line; exit 2."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and out == "" and "Traceback" not in err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and needle in errors[0], err


# --- options that would do nothing -------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["keras:VGG16", "--head", "seed"], "--head applies to specs"),
        (["model.keras", "--set", "k=3"], "--set applies to specs"),
        (["c3,c3", "--set", "k=3"], "no symbol {k}"),
        (["c{k}", "--set", "k=3", "--set", "n=2"], "no symbol {n}"),
        (["compare", "c3", "c5", "--set", "k=3"], "no spec has a symbol {k}"),
        (["compare", "keras:VGG16", "keras:VGG19", "--head", "seed"], "these are all models"),
        (["c{k}*{n}", "--symbolic", "--layer", "conv2d"], "drop --layer"),
        (["c{k}*{n}", "--symbolic", "--set", "k=3"], "drop --set"),
        (["keras:VGG16", "--symbolic"], "a model has none"),
        (["c3,c3", "--identity", "foo"], "--identity names layers of a Keras model"),
    ],
)
def test_options_that_would_do_nothing_are_refused(capsys, argv, needle):
    refuse(capsys, argv, needle)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["c3", "--head", ""], "argument --head: expected a value"),
        (["c3", "--layer", ""], "argument --layer: expected a value"),
        (["c3", "--head", "  "], "argument --head: expected a value"),
        (["explain", "c3", "--head", ""], "argument --head"),
    ],
)
def test_empty_option_values_are_refused(capsys, argv, needle):
    usage_error(capsys, argv, needle)


# --- one rule for characters: ASCII digits only, a hint for full-width input ---------------------


@pytest.mark.parametrize(
    "spec, hint",
    [
        ("c３", "type 'c3'"),  # full-width digit (IME)
        ("ｃ３,ｐ２", "type 'c3,p2'"),  # full-width letters too
        ("c٣", None),  # Arabic-Indic digit
        ("c३", None),  # Devanagari digit
        ("c3,p２", "type 'c3,p2'"),
        ("c{κ}", None),
        ("c3\u200b", None),  # zero-width space
    ],
)
def test_non_ascii_digits_are_refused_with_a_hint_for_full_width(capsys, spec, hint):
    refuse(capsys, [spec], "is not ASCII")
    main([spec])
    err = capsys.readouterr().err
    assert (hint in err) if hint else "full-width" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["c3", "--input", "３２x３２x３"],
        ["c{k}", "--set", "k=３"],
        ["explain", "c3", "--at", "１,１"],
    ],
)
def test_non_ascii_digits_in_option_values_are_refused(capsys, argv):
    usage_error(capsys, argv, "is not ASCII")


def test_the_library_reads_the_same_rule():
    import rfcalc

    with pytest.raises(rfcalc.SpecError, match="not ASCII"):
        rfcalc.analyze("c٣")
    with pytest.raises(rfcalc.SpecError, match="not ASCII"):
        rfcalc.parse_shape("２８x２８x１")
    assert rfcalc.parse_shape("28×28×1") == (28, 28, 1)  # the multiplication sign is the one exception


# --- huge numbers: exact output, no overflow ----------------------------------------------------

BIG = "1" + "0" * 11  # 12 digits, the most a number may have


def test_huge_inputs_print_exact_values_in_tables_and_json(capsys):
    assert main(["p2*30", "--input", f"{BIG}x{BIG}x3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    start = Fraction(str(data["start"][0]))
    assert start == Fraction(2**30 - 1, 2)  # exact, whatever JSON type carries it
    usage_error(capsys, ["p2*80", "--input", "1" + "0" * 25 + "x3x3"], "at most 12")  # 26 digits: refused


def test_start_beyond_double_precision_is_exact_everywhere():
    from rfcalc import analyze
    from rfcalc.render import fmt_num

    a = analyze("p2*80", (2**81, 2**81, 3))
    exact = Fraction(2**80 - 1, 2)
    assert a.start[0] == exact
    assert Fraction(str(a.to_dict()["start"][0])) == exact
    assert fmt_num(exact) == f"{(2**80 - 1) // 2}.5"
    assert str(a).rstrip().endswith(f"start {fmt_num(exact)}")


@pytest.mark.parametrize(
    "params, text",
    [
        (0, "0.00 B"),
        (256, "1.00 KB"),
        (174214, "680.52 KB"),
        (10**300, "GB"),
    ],
)
def test_fmt_bytes_never_overflows(params, text):
    from rfcalc.render import fmt_bytes

    assert fmt_bytes(params).endswith(text) if text == "GB" else fmt_bytes(params) == text


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["c3", "--input", "1e300x1e300x3"], "--input"),
        (["c{k}", "--set", "k=10**200"], "--set"),
        (["c{k}", "--set", "k=" + "9" * 400], "at most 12"),
        (["c3", "--input", "9" * 5000 + "x3x3"], "at most 12"),
        (["explain", "c3", "--at", "9" * 5000 + ",1"], "at most 12"),
    ],
)
def test_huge_numbers_in_options_are_one_line(capsys, argv, needle):
    usage_error(capsys, argv, needle)


def test_compare_ratios_beyond_a_double_stay_exact(capsys):
    big = "9" * 12
    assert main(["compare", "c1-1", f"c{big}-{big}", "--json"]) == 0
    ratio = json.loads(capsys.readouterr().out)["specs"][1]["ratio_to_first"]["params"]
    assert isinstance(ratio, (float, str))


# --- library calls: wrong types are TypeErrors that say what was expected ------------------------


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        (dict(spec=None), "a spec is a string"),
        (dict(spec=b"c3"), "a spec is a string"),
        (dict(spec=3), "a spec is a string"),
        (dict(spec=["c3"]), "a spec is a string"),
        (dict(spec="c3", input_shape=None), "input_shape is a tuple of ints"),
        (dict(spec="c3", input_shape=b"32x32x3"), "input_shape is a tuple of ints"),
        (dict(spec="c3", input_shape=(32.5, 32, 3)), "input_shape is a tuple of ints"),
        (dict(spec="c3", head=3), "head is 'seed'"),
        (dict(spec="c3", symbols=3), "symbols is a dict"),
    ],
)
def test_library_type_errors_are_clear(kwargs, needle):
    import rfcalc

    with pytest.raises(TypeError, match=needle):
        rfcalc.analyze(**kwargs)


# --- --symbolic --json: the formulas read back for every symbol name -----------------------------

NAMES = [
    "E",
    "I",
    "pi",
    "S",
    "N",
    "O",
    "Q",
    "beta",
    "gamma",
    "lambda",
    "zeta",
    "oo",
    "nan",
    "zoo",
    "Integer",
    "Symbol",
    "Rational",
    "floor",
    "ceiling",
    "Piecewise",
    "Eq",
    "Mod",
    "Float",
    "True",
    "False",
    "None",
    "print",
    "exec",
    "C_in",
    "x",
    "k",
]


@pytest.mark.parametrize("name", NAMES)
def test_symbolic_json_reads_back_for_every_symbol_name(capsys, name):
    spec = f"(c{{{name}}}s2,p2)*{{n}},c3-{{{name}}}"
    assert main([spec, "--symbolic", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    want = closed_forms(spec)
    got = read_back(data)
    assert got["rf"] == list(want.rf) and got["jump"] == list(want.jump)
    assert got["output_size"] == list(want.output_size)
    assert got["params"] == want.params and got["macs"] == want.macs and got["channels"] == want.channels
    assert str(want.params) == data["params"]  # the text for people is still there
    assert sp.Symbol(name, integer=True, positive=True) in got["params"].free_symbols


# --- presets, --version ---------------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    import rfcalc

    assert capsys.readouterr().out.strip() == f"rfcalc {rfcalc.__version__}"


# --- output: never cut, linear ----------------------------------------------------------------


def _cli(*argv, env=None):
    environ = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "rfcalc.cli", *argv], capture_output=True, text=True, env=environ, timeout=120
    )


def test_piped_output_honours_columns_and_folds_the_note_column():
    wide = _cli("c3,p2,c7/valid,p2", "--input", "18x18x3", env={"COLUMNS": "80"})
    assert wide.returncode == 0 and wide.stderr == ""
    assert "Note: drops" in wide.stdout and "drops: 'valid'" in wide.stdout  # the note and its legend
    assert not any(line.rstrip().endswith("drops") and "(None," in line for line in wide.stdout.splitlines())
    roomy = _cli("c3,p2,c7/valid,p2", "--input", "18x18x3", env={"COLUMNS": "200"})
    assert any(line.rstrip().endswith("drops") and "(None," in line for line in roomy.stdout.splitlines())


def test_long_footer_lines_are_not_cut():
    huge = "9" * 12
    result = _cli(f"c{huge}", "--input", f"{huge}x{huge}x3")
    assert result.returncode == 0
    assert f"of the {huge}x{huge}x3 input, jump 1, start 0" in result.stdout


def test_the_text_writer_matches_rich_and_is_linear():
    import io
    import time

    from rich.console import Console

    from rfcalc import analyze
    from rfcalc.render import plain, table

    for spec in ("c3,c3,p2,dw3s2x1,flat,fc10", "c3", "c3,p2,c7/valid"):
        t = table(analyze(spec, (20, 19, 3)))
        out = io.StringIO()
        Console(file=out, width=400, color_system=None, soft_wrap=False).print(t)
        assert plain(t, 400) == "\n".join(line.rstrip() for line in out.getvalue().splitlines())
    t = table(analyze("c1*20000"), max_rows=None)
    start = time.process_time()
    text = plain(t)
    assert time.process_time() - start < 2.0 and text.count("\n") > 20000


def test_library_functions_stay_callable_after_their_modules_are_imported():
    import importlib

    import rfcalc

    importlib.import_module("rfcalc.explanation")
    importlib.import_module("rfcalc.comparison")
    assert rfcalc.explain("c3,c3").text and rfcalc.compare(["c3", "c5"]).entries


def test_huge_values_through_the_library_render_without_overflow():
    import json

    import rfcalc
    from rfcalc.render import plain

    a = rfcalc.analyze("c{k},p2", (10**300, 10**300, 3), symbols={"k": 10**200})
    assert str(a) and json.dumps(a.to_dict())
    assert rfcalc.explain(a, at=(5, 5)).text
    c = rfcalc.compare(["c3", a])
    assert plain(c) and json.dumps(c.to_dict())


@pytest.mark.parametrize(
    "message, cli",
    [
        (
            "rfcalc: error: model 'm' has no input shape yet: pass input_shape=(H, W, C) or build it",
            "rfcalc: error: model 'm' has no input shape yet: pass --input HxWxC or build it",
        ),
        (
            "rfcalc: error: keras.applications.VGG16 refused input_shape=(10, 10, 3): too small",
            "rfcalc: error: keras.applications.VGG16 refused --input 10x10x3: too small",
        ),
        (
            "rfcalc: error: layer 1 'conv2d' (c7/valid): Received: input_shape=(3, 3, 3)",
            "rfcalc: error: layer 1 'conv2d' (c7/valid): Received: input_shape=(3, 3, 3)",
        ),  # a layer's own input
    ],
)
def test_cli_messages_speak_of_the_input_option(message, cli):
    from rfcalc.cli import cli_words

    assert cli_words(message) == cli


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["c3", "--all", "--json"], "drop --all"),
        (["c3", "--all", "--layer", "conv2d"], "drop --all"),
        (["c{k}", "--all", "--symbolic"], "drop --all"),
    ],
)
def test_all_where_no_table_is_printed_is_refused(capsys, argv, needle):
    refuse(capsys, argv, needle)


def test_rfcalc_train_has_a_version_too(capsys):
    import rfcalc
    from training.cli import build_parser

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"rfcalc-train {rfcalc.__version__}"


def test_one_preset_table_for_both_commands(capsys):
    from rfcalc.presets import PRESETS as BOTH
    from training.models import PRESETS, resolve_spec

    assert set(PRESETS) == set(BOTH) and resolve_spec("model2") == "c3*2,p2"
    for name, total in (("model1", "164,966"), ("model2", "174,214")):
        assert main([name]) == 0 and f"Total params: {total}" in capsys.readouterr().out
    assert main(["compare", "model1", "model2", "--json"]) == 0
    assert [d["params"] for d in json.loads(capsys.readouterr().out)["specs"]] == [164966, 174214]


def test_compare_binds_a_symbol_that_one_of_its_specs_has(capsys):
    assert main(["compare", "c{k}", "c3", "--set", "k=5", "--json"]) == 0
    assert [d["rf"] for d in json.loads(capsys.readouterr().out)["specs"]] == [[5, 5], [3, 3]]
