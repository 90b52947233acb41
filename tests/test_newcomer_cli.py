"""Issue 18, a newcomer's second hour at the command line: each test here failed before its fix.

Subprocess tests run the commands as a user does; a core-only install is simulated by a meta path
finder that makes the optional packages unimportable (nothing is uninstalled).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rfcalc.cli import main

ROOT = Path(__file__).resolve().parents[1]
FASHION = Path("/usr/share/datasets/fashion-mnist")

_BLOCKER = textwrap.dedent("""
    import importlib, importlib.abc, sys
    BLOCK = set(sys.argv[1].split(","))
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCK:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):
        if name.partition(".")[0] in BLOCK:
            del sys.modules[name]
    module, sys.argv = sys.argv[2], [sys.argv[2]] + sys.argv[3:]
    sys.exit(importlib.import_module(module).main())
""")


def run_without(blocked, module, *argv, env=None, cwd=None):
    """Run ``module.main()`` with ``argv`` in a fresh interpreter where ``blocked`` packages cannot be imported."""
    environ = dict(os.environ, PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run(
        [sys.executable, "-c", _BLOCKER, ",".join(blocked), module, *argv],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
        cwd=cwd,
    )


def refused(capsys, argv, *needles, code=2):
    assert main(list(argv)) == code
    captured = capsys.readouterr()
    err = captured.err
    assert "Traceback" not in err and err.startswith("rfcalc: error: "), err
    assert len(err.strip().splitlines()) <= 3, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


# --- 2: a core-only install and rfcalc-train -------------------------------------------------

CORE_ONLY = ("numpy", "tensorflow", "keras", "matplotlib", "h5py", "PIL")


@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist to get past the data check")
def test_train_on_a_core_only_install_names_the_extra(tmp_path):
    r = run_without(
        CORE_ONLY,
        "training.cli",
        "c3,c3",
        "--dataset",
        "fashion_mnist",
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "runs"),
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr == "rfcalc-train: error: this needs numpy, which is not installed: pip install 'rfcalc[tf]'\n"


def test_train_report_on_a_core_only_install_names_the_extra(tmp_path):
    r = run_without(CORE_ONLY, "training.cli", "--report", "--out", str(tmp_path))
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "pip install 'rfcalc[tf]'" in r.stderr and "Traceback" not in r.stderr


# --- 13: the dynamic-ONNX message -----------------------------------------------------------


def test_dynamic_onnx_message_says_the_input_option_once(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3])], "g", [x], [y], [w]
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "d.onnx")
    err = refused(capsys, [str(tmp_path / "d.onnx")], "dynamic sizes")
    assert err.count("--input") == 1 and "input_shape" not in err, err
    from rfcalc import from_onnx
    from rfcalc.errors import ShapeError

    with pytest.raises(ShapeError) as info:
        from_onnx(str(tmp_path / "d.onnx"))
    assert str(info.value).count("input_shape=(H, W, C)") == 1 and "--input" not in str(info.value)


# --- 12: print(rfcalc.compare(...)) ---------------------------------------------------------


def test_a_comparison_prints_its_table_as_an_analysis_does():
    import rfcalc
    from rfcalc.render import plain

    c = rfcalc.compare(["c7", "c3*3"])
    text = str(c)
    assert "Entry(" not in text and "Comparison(" not in text
    assert text == plain(c) and "c3*3" in text and "49" in text
    assert repr(c).startswith("Comparison(") and len(repr(c)) < 200 and "c7" in repr(c)
    html = c._repr_html_()
    assert "c3*3" in html and "<table>" in html


# --- 7: --data-size too small to train ------------------------------------------------------


@pytest.mark.parametrize(
    "argv, least",
    [
        (["--data-size", "5"], "--data-size 143"),  # smaller than a batch
        (["--data-size", "130"], "--data-size 143"),  # a batch, but not after the split
        (["--data-size", "20", "--batch-size", "20"], "--data-size 23"),  # no validation image left
        (["--data-size", "3", "--batch-size", "1", "--validation-split", "0"], None),  # trains: 3 batches of 1
    ],
)
def test_data_size_that_cannot_train_is_refused_with_the_smallest_that_can(capsys, argv, least):
    from training.cli import main as train_main

    code = train_main(["c3", "--dataset", "fashion_mnist", "--data-dir", str(ROOT), "--dry-run", *argv])
    err = capsys.readouterr().err
    if least is None:
        assert "cannot train" not in err
        return
    assert code == 2 and err.startswith("rfcalc-train: error: --data-size") and least in err, err
    assert err.count("\n") == 1


# --- 5: a path that is not a model --------------------------------------------------------


def _not_models(tmp_path):
    (tmp_path / "cat.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    (tmp_path / "net.pt").write_bytes(b"PK\x03\x04" + b"\0" * 64)
    (tmp_path / "notes.txt").write_text("c3,c3,p2\n")
    (tmp_path / "folder").mkdir()
    return {
        "jpeg": (tmp_path / "cat.jpg", "an image"),
        "pt": (tmp_path / "net.pt", "rfcalc.from_torch"),
        "pth_missing": (tmp_path / "gone" / "weights.pth", "rfcalc.from_torch"),
        "directory": (tmp_path / "folder", "a directory"),
        "text": (tmp_path / "notes.txt", "not a model rfcalc reads"),
        "missing_path": (tmp_path / "nope" / "model", "no such file"),
    }


@pytest.mark.parametrize("kind", ["jpeg", "pt", "pth_missing", "directory", "text", "missing_path"])
@pytest.mark.parametrize("command", [[], ["explain"], ["compare", "c3"], ["report"], ["probe"]])
def test_a_path_that_is_not_a_model_is_not_read_as_a_spec(capsys, tmp_path, kind, command):
    path, words = _not_models(tmp_path)[kind]
    argv = [*command, str(path)] if command[:1] != ["compare"] else ["compare", "c3", str(path)]
    if command == ["report"]:
        argv += ["-o", str(tmp_path / "r.html")]
    err = refused(capsys, argv, words)
    assert "unknown layer" not in err
    assert ".keras" in err and ".onnx" in err  # what it does read


def test_a_spec_with_slashes_is_still_a_spec(capsys):
    assert main(["c7s2-64/valid,p2/same", "--json"]) == 0
    capsys.readouterr()


# --- 15: typo hints -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, fixed",
    [("c3 c3", "c3,c3"), ("c3;c3", "c3,c3"), ("c3; c3 p2", "c3,c3,p2"), ("c3-64 c3-64, p2", "c3-64,c3-64,p2")],
)
def test_spaces_and_semicolons_between_layers_suggest_commas(capsys, spec, fixed):
    refused(capsys, [spec], "comma", repr(fixed))


def test_a_bad_spec_that_commas_do_not_fix_gets_no_comma_hint(capsys):
    err = refused(capsys, ["c3 q9"])
    assert "comma" not in err


@pytest.mark.parametrize("name, hint", [("keras:ResNet", "ResNet50"), ("keras:resnet5", "ResNet50")])
def test_keras_names_get_the_closest_right_names(capsys, name, hint):
    pytest.importorskip("keras")
    refused(capsys, [name], hint)


@pytest.mark.tf
def test_unknown_layers_are_named_at_once_and_their_class_names_work(capsys):
    keras = pytest.importorskip("keras")
    from rfcalc import from_keras
    from rfcalc.errors import UnsupportedLayerError

    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    class Shift(keras.layers.Layer):
        def call(self, x):
            return x + 1.0

    x = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(4, 3, padding="same")(x)
    h = Scale(name="s1")(h)
    h = keras.layers.Conv2D(4, 3, padding="same")(h)
    h = Scale(name="s2")(h)
    h = Shift(name="t1")(h)
    model = keras.Model(x, h)
    with pytest.raises(UnsupportedLayerError) as info:
        from_keras(model)
    text = str(info.value)
    assert "'s1', 's2' (Scale)" in text and "'t1' (Shift)" in text and "3 layers" in text, text
    assert "--identity Scale --identity Shift" in text
    a = from_keras(model, identity=("Scale", "Shift"))
    assert a.rf == (5, 5) and [r.kind for r in a.layers].count("Scale") == 2


# --- 6: presets never ignore an option; every command takes every source --------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["model2", "--head", "fc5"],
        ["explain", "model1", "--head", "fc5"],
        ["compare", "model1", "c3", "--head", "seed"],
    ],
)
def test_a_preset_refuses_a_head_it_would_replace(capsys, argv):
    refused(capsys, argv, "preset", '"c3,')


@pytest.mark.tf
def test_report_erf_takes_a_preset(capsys, tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", "model2", "--erf", "-o", str(out)]) == 0, capsys.readouterr().err
    assert out.stat().st_size > 10_000


def test_design_like_takes_a_preset_visibly(capsys):
    assert main(["design", "--rf", "7", "--like", "model2", "--json"]) == 0
    captured = capsys.readouterr()
    assert "'c3,c3,p2'" in captured.err and "note" in captured.err
    assert main(["design", "--rf", "7", "--like", "c3,c3,p2", "--json"]) == 0
    import json

    def stacks(text):
        return [c["spec"] if isinstance(c, dict) and "spec" in c else c for c in json.loads(text).get("front", [])]

    assert stacks(capsys.readouterr().out) == stacks(captured.out) != []


@pytest.mark.parametrize("model", ["keras:VGG16", "tests/fixtures/onnx/resnet18.onnx", "m.keras"])
def test_design_like_refuses_a_model_naming_what_it_reads(capsys, model):
    refused(capsys, ["design", "--rf", "40", "--like", model], "--like takes", "preset")


# --- 4: --input in either convention, never silently misread --------------------------------


@pytest.mark.parametrize("command", [[], ["explain"], ["compare", "c3"], ["probe"], ["report"]])
@pytest.mark.parametrize(
    "shape, written",
    [
        ("3x32x32", "--input 32x32x3"),
        ("1x28x28", "--input 28x28x1"),
        ("1x32x32x3", "--input 32x32x3"),
        ("1x3x32x32", "--input 32x32x3"),
    ],
)
def test_a_shape_that_looks_channels_first_or_batched_is_refused_naming_both_readings(
    capsys, tmp_path, command, shape, written
):
    argv = [*command, "c3", "--input", shape] + (["-o", str(tmp_path / "r.html")] if command == ["report"] else [])
    refused(capsys, argv, written, "--channels-last")


def test_channels_first_is_read_and_said(capsys):
    assert main(["c3", "--input", "3x32x32", "--channels-first", "--json"]) == 0
    captured = capsys.readouterr()
    assert '"input_shape": [\n    32,\n    32,\n    3\n  ]' in captured.out
    assert "read as HxW 32x32 with 3 channels" in captured.err
    assert main(["design", "--rf", "7", "--input", "3x32x32", "--channels-first", "--json"]) == 0
    assert "32x32 with 3 channels" in capsys.readouterr().err


def test_channels_last_keeps_the_literal_reading(capsys):
    assert main(["c3", "--input", "3x32x32", "--channels-last", "--json"]) == 0
    assert '"input_shape": [\n    3,\n    32,\n    32\n  ]' in capsys.readouterr().out


@pytest.mark.parametrize(
    "shape, header",
    [
        ("16000x1", "1-D input: length 16000, 1 channel"),
        ("16x112x112x3", "3-D input: 16x112x112 voxels, 3 channels"),
        ("28x28", "1-D input: length 28, 28 channels"),
        ("32x32x3", "input 32x32x3"),
        ("1x1x1", "input 1x1x1"),
        ("3x3x3", "input 3x3x3"),
    ],
)
def test_todays_correct_readings_stay(capsys, shape, header):
    assert main(["c1", "--input", shape]) == 0
    captured = capsys.readouterr()
    assert header in captured.out.splitlines()[0] and captured.err == ""


def test_a_channel_flag_without_input_is_refused(capsys):
    refused(capsys, ["c3", "--channels-first"], "--channels-first", "--input")


# --- 20: compare leads with the lesson, inside a network --------------------------------------


def test_compare_defaults_to_layers_inside_a_network_and_leads_with_the_lesson(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per title sentence
    import json

    assert main(["compare", "c7", "c3*3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shape"] == [32, 32, 32] and data["comparison"] == "inside"
    c7, c3 = data["specs"]
    # oracle: a CxC conv has k*k*C*C + C weights; C = 32
    assert c7["params"] == 49 * 32 * 32 + 32 and c3["params"] == 3 * (9 * 32 * 32 + 32)
    assert c3["ratio_to_first"]["params"] < 0.6
    assert main(["compare", "c7", "c3*3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "49C²" in lines[0] and "27C²" in lines[0], lines[0]
    assert "inside a network" in lines[1].lower() and "--first-layer" in lines[1], lines[1]


def test_compare_keeps_the_first_layer_case_as_an_option(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per title sentence
    import json

    assert main(["compare", "c7", "c3*3", "--first-layer", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shape"] == [32, 32, 3] and data["comparison"] == "first-layer"
    assert data["specs"][0]["params"] == 49 * 3 * 32 + 32
    assert main(["compare", "c7", "c3*3", "--first-layer"]) == 0
    assert "first layer" in capsys.readouterr().out.splitlines()[1].lower()


def test_compare_of_whole_networks_says_it_reads_their_input(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per title sentence
    assert main(["compare", "model1", "model2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "32x32x3" in "\n".join(out[:2])


# --- 9: no TensorFlow, absl or oneDNN lines on a normal run -------------------------------

TF_NOISE = ("absl::", "oneDNN", "port.cc", "cuda", "TensorFlow binary", "I0000", "W0000", "E0000")


@pytest.mark.tf
@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ["report", "c3,c3", "--input", "16x16x3", "--erf"],
        ["probe", "c3,c3", "--input", "8x8x1"],
        ["probe", "c3", "--input", "8x8x1", "--erf", "--samples", "2"],
        ["c3,p2", "--input", "8x8x1"],
    ],
)
def test_no_tensorflow_lines_on_stderr(tmp_path, argv):
    if argv[0] == "report":
        argv = [*argv, "-o", str(tmp_path / "r.html")]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(
        [sys.executable, "-m", "rfcalc.cli", *argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert r.returncode == 0, r.stderr
    noise = [line for line in r.stderr.splitlines() if any(n in line for n in TF_NOISE)]
    assert not noise, r.stderr


def test_asking_whether_tensorflow_is_installed_keeps_its_import_quiet():
    code = textwrap.dedent("""
        import importlib.util, sys
        from rfcalc import tfquiet
        tfquiet.install()
        importlib.util.find_spec("tensorflow")
        print(sum(isinstance(f, tfquiet._QuietFinder) for f in sys.meta_path))
    """)
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=60,
    )
    assert r.stdout.strip() == "1", r.stderr


# --- 3: every probe and ERF knows its cost before it runs -------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["probe", "c2001"],
        ["probe", "c2001", "--erf"],
        ["report", "c2001", "--erf"],
        ["probe", "c3-256*20", "--input", "128x128x3"],
    ],
)
def test_a_probe_too_long_is_refused_before_it_runs(capsys, tmp_path, argv):
    pytest.importorskip("tensorflow")
    import time

    if argv[0] == "report":
        argv = [*argv, "-o", str(tmp_path / "r.html")]
    t0 = time.perf_counter()
    err = refused(capsys, argv, "would take about", "the limit is 600 s", "RFCALC_MAX_SECONDS=")
    assert time.perf_counter() - t0 < 60 and err.count("\n") == 1


def _tiny_onnx(path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.1] * 108)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
        "g",
        [x],
        [y],
        [w],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return str(path)


@pytest.mark.parametrize("extra", [[], ["--erf", "--samples", "2"]])
def test_onnxruntime_probes_know_their_cost_and_the_limit_lifts(capsys, tmp_path, monkeypatch, extra):
    path = _tiny_onnx(tmp_path / "t.onnx")
    monkeypatch.setenv("RFCALC_MAX_SECONDS", "0.000001")
    refused(capsys, ["probe", path, *extra], "would take about", "the limit is 1e-06 s", "RFCALC_MAX_SECONDS=1")
    monkeypatch.setenv("RFCALC_MAX_SECONDS", "60")
    assert main(["probe", path, *extra, "--json"]) == 0
    capsys.readouterr()


@pytest.mark.tf
@pytest.mark.slow
def test_the_time_estimate_errs_long():
    """The estimate is above the measured time of a real gradient run (after TensorFlow's start)."""
    import time

    from rfcalc import analyze
    from rfcalc.runs.effective_rf import erf
    from rfcalc.runs.probe_limits import run_cost

    erf("c3", input_shape=(8, 8, 1), samples=1)  # TensorFlow's start-up is not the run's
    spec, shape = "c3-32*4", (64, 64, 32)
    t0 = time.perf_counter()
    erf(spec, input_shape=shape, samples=32)
    measured = time.perf_counter() - t0
    assert run_cost(analyze(spec, shape), 32)[1] > measured


# --- 21: design's defaults give stacks a practitioner would train, and say how to lift them ------


def _pools_follow_convs(spec: str) -> bool:
    from rfcalc.dsl import parse
    from rfcalc.layers import Pool

    layers = parse(spec)
    return not isinstance(layers[0], Pool) and all(
        not (isinstance(a, Pool) and isinstance(b, Pool)) for a, b in zip(layers, layers[1:])
    )


@pytest.mark.parametrize("argv", [["--rf", "32"], ["--cover"], ["--rf", "64", "--input", "64x64x3"]])
def test_design_defaults_are_practical_and_printed(capsys, argv):
    import json

    assert main(["design", *argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    specs = [row["spec"] for row in data["front"]]
    assert specs and all(_pools_follow_convs(s) for s in specs), specs
    assert all(min(row["output_shape"][:-1]) >= 2 for row in data["front"]), specs
    assert any("--min-output 1" in d for d in data["defaults"]) and any("--any-order" in d for d in data["defaults"])
    assert main(["design", *argv]) == 0
    assert "Defaults: --min-output 2x2 (--min-output 1 lifts it)" in capsys.readouterr().out


def test_design_defaults_lift(capsys):
    import json

    assert main(["design", "--rf", "32", "--min-output", "1", "--any-order", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["front"][0]["spec"] == "p2*5,c3" and data["defaults"] == []


# --- 22: the tutorial uses the real data it finds, and says which ------------------------------


@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist")
def test_the_tutorial_trains_on_fashion_mnist_when_cifar_is_absent(tmp_path, monkeypatch, capsys):
    pytest.importorskip("numpy")
    import json

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no CIFAR-10 in this cache
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.syspath_prepend(str(ROOT))
    nb = json.loads((ROOT / "docs" / "tutorial.ipynb").read_text(encoding="utf-8"))
    cell = next(
        "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code" and "tiny_cifar" in "".join(c["source"])
    )
    scope = {"TINY": False, "WORK": tmp_path, "Path": Path, "pickle": __import__("pickle")}
    exec(compile(cell, "tutorial data cell", "exec"), scope)
    assert scope["data"].name == "fashion_mnist" and len(scope["data"].x_train) == 5000
    assert "data used: fashion_mnist (real), 5000 training images 28x28x1" in capsys.readouterr().out
