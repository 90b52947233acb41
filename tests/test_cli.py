"""The rfcalc command as a user runs it: output, JSON, exit codes, one-message errors."""

import json
import subprocess
import sys

import pytest

from rfcalc.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plain_spec_prints_keras_columns_and_field(capsys):
    code, out, err = run(capsys, "c3,c3,p2")
    assert code == 0 and err == ""
    for text in (
        "Layer (type)",
        "Output Shape",
        "Param #",
        "RF",
        "Jump",
        "Start",
        "conv2d_1 (Conv2D)",
        "(None, 16, 16, 32)",
        "6x6",
        "Total params: 10,144",
    ):
        assert text in out


@pytest.mark.parametrize("spec, total", [("c3,p2", "164,966"), ("c3,c3,p2", "174,214")])
def test_seed_head_matches_the_notebook_summary(capsys, spec, total):
    code, out, _ = run(capsys, spec, "--head", "seed")
    assert code == 0 and f"Total params: {total}" in out


def test_json_has_the_documented_keys(capsys):
    code, out, _ = run(capsys, "c3,c3,p2", "--json", "--input", "28x28x1")
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"spec", "input_shape", "layers", "total_params", "total_macs", "rf", "jump", "start"}
    assert data["input_shape"] == [28, 28, 1]
    assert data["rf"] == [6, 6] and data["jump"] == [2, 2] and data["start"] == [0.5, 0.5]
    layer = data["layers"][1]
    assert set(layer) >= {"name", "kind", "output_shape", "params", "macs", "rf", "jump", "start"}
    assert layer["params"] == 3 * 3 * 32 * 32 + 32


def test_top_level_field_is_the_last_spatial_layer(capsys):
    _, out, _ = run(capsys, "c3,p2,flat,fc10", "--json")
    data = json.loads(out)
    assert data["rf"] == [4, 4] and data["layers"][-1]["rf"] is None


def test_layer_option_shows_one_layer(capsys):
    code, out, _ = run(capsys, "c3,c3,p2", "--layer", "conv2d_1")
    assert code == 0 and "receptive field 5x5" in out and "rows -2..2" in out


def test_set_binds_symbols(capsys):
    code, out, _ = run(capsys, "c{k}*{n}", "--set", "k=5", "--set", "n=2", "--json")
    assert code == 0 and json.loads(out)["rf"] == [9, 9]


def test_compare_shows_same_field_fewer_weights(capsys):
    code, out, _ = run(capsys, "compare", "c7", "c3*3", "--json")
    data = json.loads(out)["specs"]
    assert code == 0
    assert [d["rf"] for d in data] == [[7, 7], [7, 7]]
    assert [d["kernel_weights"] for d in data] == [49, 27]
    code, out, _ = run(capsys, "compare", "c7", "c3*3")
    assert "49" in out and "27" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["c3,q3,p2"], "unknown layer 'q3'"),
        (["c3,,p2"], "empty layer"),
        (["c3*1000000000"], "at most 100,000"),
        (["c7/valid*6"], "does not fit"),
        (["c{k}"], "{k}"),
        (["c3", "--layer", "nope"], "no layer named 'nope'"),
        (["compare", "c3", "x9"], "unknown layer 'x9'"),
        (["missing.keras"], "missing.keras"),
        (["c3,c3", "--identity", "foo"], "--identity names layers of a Keras model"),
    ],
)
def test_bad_input_is_one_message_and_exit_2(capsys, argv, needle):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("rfcalc: error: ") and needle in err
    assert "Traceback" not in err


def test_caret_points_at_the_bad_token(capsys):
    _, _, err = run(capsys, "c3, q3")
    spec_line, caret_line = err.splitlines()[1:3]
    assert spec_line.strip() == "c3, q3"
    assert caret_line.index("^") == spec_line.index("q3")


@pytest.mark.parametrize("argv", [["--input", "3x", "c3"], ["c3", "--set", "k"], ["explain", "c3", "--at", "x"]])
def test_bad_options_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


@pytest.mark.parametrize("argv", [["--help"], ["compare", "--help"], ["explain", "--help"]])
def test_help_exits_0(capsys, argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    assert "usage: rfcalc" in capsys.readouterr().out


def test_console_script_runs_as_a_process():
    proc = subprocess.run([sys.executable, "-m", "rfcalc.cli", "c3,c3", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["rf"] == [5, 5]
    proc = subprocess.run([sys.executable, "-m", "rfcalc.cli", "c3,(p2"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "never closed" in proc.stderr


def test_explain_answers_b2_2_2_in_both_languages(capsys):
    code, out, _ = run(capsys, "explain", "c3,c3")
    assert code == 0 and "5×5" in out and "r_2 = r_1 + (k_eff - 1)·j_1 = 3 + (3 - 1)·1 = 5" in out
    code, out, _ = run(capsys, "explain", "c3,c3", "--lang", "ja")
    assert code == 0 and "3×3の畳み込みを2層重ねると、出力の1ピクセルは入力画像の5×5の領域から計算されます。" in out


def test_explain_at_names_the_input_rows_and_the_padding(capsys):
    code, out, _ = run(capsys, "explain", "c3,c3", "--at", "0,31")
    assert code == 0 and "rows -2..2" in out and "columns 29..33" in out and "padding" in out
    code, _, err = run(capsys, "explain", "c3,c3", "--at", "32,0")
    assert code == 2 and err.startswith("rfcalc: error: ")


def test_symbolic_json_reads_back_with_sympy(capsys):
    sympy = pytest.importorskip("sympy")
    code, out, _ = run(capsys, "(c3,p2)*{n}", "--symbolic", "--json")
    data = json.loads(out)
    n = sympy.Symbol("n", integer=True, positive=True)
    rf = sympy.sympify(data["rf"][0], locals={"n": n})
    assert code == 0 and [rf.subs(n, v) for v in (1, 2, 3)] == [4, 10, 22]
    code, out, _ = run(capsys, "c{k}*{n}", "--symbolic")
    assert code == 0 and "n*(k - 1) + 1" in out


def test_symbolic_refuses_bindings(capsys):
    code, _, err = run(capsys, "c{k}", "--symbolic", "--set", "k=3")
    assert code == 2 and "--symbolic" in err


def test_long_networks_print_both_ends_and_say_how_many_are_left_out(capsys):
    code, out, _ = run(capsys, "c3*500")
    assert code == 0 and "... 300 more layers" in out
    assert "conv2d_99 " in out and "conv2d_100 " not in out and "conv2d_499 " in out
    assert "Receptive field: 1001x1001" in out
    code, out, _ = run(capsys, "c3*500", "--all")
    assert "more layers" not in out and "conv2d_250 " in out


@pytest.mark.parametrize("missing", ["tensorflow", "keras", "matplotlib"])
def test_missing_optional_package_names_the_extra(capsys, monkeypatch, missing):
    import rfcalc.cli as cli

    def no_tf(argv):
        raise ModuleNotFoundError(f"No module named '{missing}'", name=missing)

    monkeypatch.setattr(cli, "run_probe", no_tf)
    code, out, err = run(capsys, "probe", "c3")
    assert code == 2 and out == "" and "pip install 'rfcalc[tf]'" in err and missing in err


def test_an_unexpected_missing_module_is_not_disguised(monkeypatch):
    import rfcalc.cli as cli

    def broken(argv):
        raise ModuleNotFoundError("No module named 'rfcalc.nothing'", name="rfcalc.nothing")

    monkeypatch.setattr(cli, "run_probe", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["probe", "c3"])
