"""torchinfo-level summaries (issue 18, point 19): Connected to, memory against torchinfo's own numbers,
--depth, --format md|csv, --rows. The torchinfo numbers were recorded with torch (make_torchinfo.py)."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from rfcalc import analyze
from rfcalc.cli import main
from rfcalc.errors import RFError
from rfcalc.frameworks.dispatch import analyze_source
from rfcalc.summary import megabytes, memory

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "onnx")
with open(os.path.join(FIXTURES, "torchinfo.json")) as _f:
    TORCHINFO = json.load(_f)
PY_OBJECT_HEADER = 64  # torchinfo's input size is sys.getsizeof(storage): the data plus this header


def _fixture(name):
    return analyze_source(os.path.join(FIXTURES, f"{name}.onnx"))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(TORCHINFO["models"]))
def test_memory_matches_torchinfo(name):
    a = _fixture(name)
    with open(os.path.join(FIXTURES, f"{name}.json")) as f:
        truth = json.load(f)
    for batch, t in TORCHINFO["models"][name]["batch"].items():
        m = memory(a, int(batch))
        assert m.forward_backward == t["total_output_bytes"]  # 2 x outputs of the rows with parameters
        assert m.input == t["total_input"] - PY_OBJECT_HEADER
        assert m.params == t["total_param_bytes"] + 4 * truth["running_stats"]  # BN statistics, as Keras counts
        assert m.total == m.input + m.params + m.forward_backward


def test_the_memory_line_prints_torchinfo_s_megabytes(capsys):
    assert main([os.path.join(FIXTURES, "vgg16.onnx"), "--batch-size", "4", "--wide"]) == 0
    out = capsys.readouterr().out
    t = TORCHINFO["models"]["vgg16"]["batch"]["4"]
    assert f"forward/backward {megabytes(t['total_output_bytes'])}" in out  # 433.81, as torchinfo prints it
    assert "Memory, batch 4: input 2.41 + params 553.43 + forward/backward 433.81 = 989.65 MB" in out


def test_keras_bytes_are_keras_summary_s():
    from rfcalc.render import fmt_bytes

    a = analyze("c3,c3,p2", head="seed")
    assert f"({fmt_bytes(a.total_params)})" == "(680.52 KB)"  # Keras' model.summary() for the notebook's model2
    assert memory(a).params == 4 * 174214


def test_connected_to_lists_what_each_node_reads(capsys):
    assert main([os.path.join(FIXTURES, "resnet18.onnx"), "--wide"]) == 0
    out = capsys.readouterr().out
    assert "Connected to" in out
    add = next(line for line in out.splitlines() if line.lstrip().startswith("layer1.0 (Add)"))
    assert add.rstrip().endswith("layer1.0.bn2, maxpool")
    chain = analyze("c3,c3").__grid__()
    assert "Connected to" not in chain.header_names()  # a chain needs no such column


def test_depth_sums_nested_rows_into_their_module():
    a = _fixture("resnet18")
    g = a.__grid__(depth=1, max_rows=None)
    names = [r[0] for r in g.rows]
    assert "layer1 (14 layers)" in names and "fc (Gemm)" in names and len(g.rows) < len(a.layers)
    assert sum(int(r[2].replace(",", "")) for r in g.rows) == a.total_params
    assert sum(int(r[3].replace(",", "")) for r in g.rows) == a.total_macs
    layer4 = g.rows[names.index("layer4 (16 layers)")]
    assert layer4[4] == "x".join(map(str, a.row("layer4.1.relu_1").rf))  # the module's output field
    assert any("summed into their module" in line for line in g.footer)
    assert len(a.__grid__(depth=4, max_rows=None).rows) == len(
        a.layers
    )  # layer2.0.downsample.0: 4 deep, as torchinfo counts


def test_markdown_and_csv_have_every_row_and_column(capsys):
    a = analyze("c3,c3,p2")
    assert main(["c3,c3,p2", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert md.splitlines()[2] == "| Layer (type) | Output Shape | Param # | MACs | RF | Jump | Start |"
    assert "| conv2d_1 (Conv2D) | (None, 32, 32, 32) | 9,248 | 9,437,184 | 5x5 | 1 | 0 |" in md
    assert main(["c3,c3,p2", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows] == [r.name for r in a.layers]
    assert sum(int(r["params"]) for r in rows) == a.total_params and rows[2]["start"] == "0.5x0.5"
    assert a.to_csv() == main_csv(capsys)


def main_csv(capsys):
    main(["c3,c3,p2", "--format", "csv"])
    return capsys.readouterr().out


def test_rows_filter_by_glob_and_range(capsys):
    a = _fixture("resnet18")
    g = a.__grid__(rows="layer2.*conv*", max_rows=None)
    assert [r[0].split()[0] for r in g.rows] == ["layer2.0.conv1", "layer2.0.conv2", "layer2.1.conv1", "layer2.1.conv2"]
    assert [r[0].split()[0] for r in a.__grid__(rows="1:3").rows] == ["bn1", "relu"]
    assert any("Rows shown: 2 of" in line for line in a.__grid__(rows="1:3").footer)
    assert main(["c3,c3,p2", "--rows", "max*", "--wide"]) == 0
    out = capsys.readouterr().out
    assert "max_pooling2d" in out and "conv2d_1 (" not in out and "Total params: 10,144" in out
    with pytest.raises(RFError, match="picks no row"):
        a.__grid__(rows="nothing*")


@pytest.mark.parametrize(
    "argv,words",
    [
        (["c3", "--json", "--rows", "c*"], "--rows shapes the table; --json prints no table"),
        (["c3", "--layer", "conv2d", "--depth", "2"], "--depth shapes the table; --layer prints no table"),
        (["c3", "--format", "csv", "--depth", "2"], "--format csv writes every row's own numbers"),
        (["c3", "--format", "md", "--wide"], "--format md has every column already"),
        (["c3", "--rows", "zz*"], "picks no row"),
        (["c3", "--rows", "10:3"], "picks no row"),
        (["c3", "--rows", "::"], "picks no row"),
        (["c3", "--rows", "["], "picks no row"),
        (["c3", "--rows=-1:"], "picks no row"),
        (["c3", "--depth", "9" * 20], "at most 12"),
        (["c3", "--format", "xml"], "invalid choice"),
        (["c3", "--batch-size", "0"], "expected a positive integer"),
    ],
)
def test_table_options_that_would_do_nothing_are_refused(capsys, argv, words):
    with (
        pytest.raises(SystemExit)
        if words in ("expected a positive integer", "at most 12", "invalid choice")
        else _nothing()
    ):
        code = main(argv)
        assert code == 2
    assert words in capsys.readouterr().err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.torch
def test_memory_matches_torchinfo_on_a_torch_model():
    """The oracle itself, where torch is installed: torchinfo.summary on a module, from_torch on the same."""
    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    from torch import nn

    import rfcalc

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 10),
    ).eval()
    a = rfcalc.from_torch(model, (32, 32, 3))
    for batch in (1, 3):
        s = torchinfo.summary(model, input_size=(batch, 3, 32, 32), verbose=0, device="cpu")
        m = memory(a, batch)
        assert m.forward_backward == s.total_output_bytes
        assert m.input == s.total_input - PY_OBJECT_HEADER
        assert m.params == s.total_param_bytes + 4 * 16  # BatchNorm2d(8): 8 running means, 8 variances
    g = a.__grid__(depth=0)
    assert sum(int(r[2].replace(",", "")) for r in g.rows) == a.total_params


@pytest.mark.tf
def test_param_bytes_are_keras_summary_s():
    """Keras' model.summary() prints 'Total params: N (B)': the same N and B as the table's first line."""
    keras = pytest.importorskip("keras")
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Conv2D(32, 3, padding="same")(x)
    model = keras.Model(inputs, keras.layers.MaxPooling2D()(x))
    lines = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    keras_total = next(line for line in " \n".join(lines).splitlines() if "Total params" in line).strip()
    from rfcalc.frameworks.keras import from_keras

    ours = next(line for line in str(from_keras(model)).splitlines() if line.startswith("Total params"))
    assert keras_total.replace("\x1b[1m", "").replace("\x1b[0m", "").endswith(ours.split(": ", 1)[1])


@pytest.mark.tf
def test_depth_folds_a_nested_keras_model():
    keras = pytest.importorskip("keras")
    from rfcalc.frameworks.keras import from_keras

    inner = keras.Sequential(
        [
            keras.Input((16, 16, 8)),
            keras.layers.Conv2D(8, 3, padding="same", name="c1"),
            keras.layers.Conv2D(8, 3, padding="same", name="c2"),
        ],
        name="block",
    )
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
    model = keras.Model(inputs, keras.layers.MaxPooling2D(name="pool")(inner(x)))
    a = from_keras(model)
    assert [r.name for r in a.layers] == ["stem", "block/c1", "block/c2", "pool"]
    rows = a.__grid__(depth=1).rows
    assert [r[0] for r in rows] == ["stem (Conv2D)", "block (2 layers)", "pool (MaxPooling2D)"]
    assert (
        rows[1][2] == f"{model.get_layer('block').count_params():,}" and rows[1][4] == "7x7"
    )  # the module's output field


@pytest.mark.parametrize(
    "argv",
    [
        ["compare", "c3", "c5", "--json", "--wide"],
        ["design", "--rf", "8", "--json", "--wide"],
        ["probe", "c3", "--json", "--wide"],
    ],
)
def test_wide_with_json_is_refused(capsys, argv):
    assert main(argv) == 2
    assert "--json prints no table: drop --wide" in capsys.readouterr().err


@pytest.mark.tf
def test_connected_to_in_a_keras_functional_model(capsys):
    assert main(["keras:ResNet50", "--input", "224x224x3", "--wide", "--rows", "conv2_block1_*"]) == 0
    out = capsys.readouterr().out
    add = next(line for line in out.splitlines() if "conv2_block1_add (Add)" in line)
    assert add.rstrip().endswith("conv2_block1_0_bn, conv2_block1_3_bn")  # what Keras' summary lists for the Add
    assert "Rows shown: 12 of 176" in out
