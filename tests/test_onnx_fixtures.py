"""Real torchvision exports (tests/fixtures/onnx, weights stripped) against what torch said at export
time (NAME.json: parameter counts, every leaf module's output shape) and onnxruntime's own shapes.
No torch needed; make_fixtures.py made the files."""

from __future__ import annotations

import json
import pathlib

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnxfix import assert_shapes_match_onnxruntime  # noqa: E402
from rfcalc.errors import UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx, load_onnx  # noqa: E402

HERE = pathlib.Path(__file__).parent / "fixtures" / "onnx"
READ = ["resnet18", "resnet50", "vgg16", "mobilenet_v3_small", "efficientnet_b0", "densenet121"]
NEEDS_ND = [("unet", "ConvTranspose"), ("fcn_resnet50", "Resize")]


def _record(name):
    return json.loads((HERE / f"{name}.json").read_text())


def _channels_last(shape):
    return (*shape[1:], shape[0]) if len(shape) == 3 else tuple(shape)


@pytest.mark.parametrize("name", READ)
def test_parameters_equal_torch_counts(name):
    rec, a = _record(name), from_onnx(HERE / f"{name}.onnx")
    assert a.trainable_params == rec["trainable"] == rec["params"]
    assert a.non_trainable_params == rec["running_stats"]  # BatchNorm running mean and variance


@pytest.mark.parametrize("name", READ)
def test_rows_are_named_by_module_path_with_torch_shapes(name):
    rec, a = _record(name), from_onnx(HERE / f"{name}.onnx")
    rows = {r.name: r for r in a.layers}
    matched = [k for k in rec["leaf_output_shapes"] if k in rows]
    assert len(matched) >= 0.6 * len(rec["leaf_output_shapes"])  # SiLU etc. export as two nodes
    for k in matched:
        assert rows[k].output_shape == _channels_last(rec["leaf_output_shapes"][k]), k
    assert a.layers[-1].output_shape == tuple(rec["output"][1:])


@pytest.mark.parametrize("name", READ)
def test_every_row_shape_equals_onnxruntime(name):
    proto = load_onnx(HERE / f"{name}.onnx")
    assert_shapes_match_onnxruntime(proto, from_onnx(proto))


def test_resnet18_numbers():
    a = from_onnx(HERE / "resnet18.onnx")
    assert a.row("conv1").rf == (7, 7) and a.row("conv1").start == (0, 0)
    assert a.row("maxpool").rf == (11, 11) and a.row("maxpool").jump == (4, 4)
    assert a.row("layer4.1.conv2").rf == (435, 435) and a.row("layer4.1.conv2").jump == (32, 32)


@pytest.mark.parametrize("name,op", NEEDS_ND)
def test_transposed_conv_and_resize_are_refused_by_name(name, op):
    with pytest.raises(UnsupportedLayerError, match=rf"\({op}\)"):
        from_onnx(HERE / f"{name}.onnx")


@pytest.mark.slow
def test_resnet18_probe_agrees_through_layer2():
    from rfcalc.runs.onnx_probe import probe_onnx

    result = probe_onnx(str(HERE / "resnet18.onnx"), layer="layer2.0.conv1")
    assert all(p.agree for p in result.layers), [p.name for p in result.layers if not p.agree]
