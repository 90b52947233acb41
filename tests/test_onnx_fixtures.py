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

from rfcalc.frameworks.onnx import from_onnx, load_onnx  # noqa: E402

HERE = pathlib.Path(__file__).parent / "fixtures" / "onnx"
READ = ["resnet18", "resnet50", "vgg16", "mobilenet_v3_small", "efficientnet_b0", "densenet121", "unet", "fcn_resnet50"]


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
    assert a.layers[-1].output_shape == _channels_last(rec["output"][1:])


@pytest.mark.parametrize("name", READ)
def test_every_row_shape_equals_onnxruntime(name):
    proto = load_onnx(HERE / f"{name}.onnx")
    assert_shapes_match_onnxruntime(proto, from_onnx(proto))


def test_resnet18_numbers():
    a = from_onnx(HERE / "resnet18.onnx")
    assert a.row("conv1").rf == (7, 7) and a.row("conv1").start == (0, 0)
    assert a.row("maxpool").rf == (11, 11) and a.row("maxpool").jump == (4, 4)
    assert a.row("layer4.1.conv2").rf == (435, 435) and a.row("layer4.1.conv2").jump == (32, 32)


def test_unet_transposed_convs_and_fcn_resize():
    u = from_onnx(HERE / "unet.onnx")
    assert u.row("up2").kind == "ConvTranspose" and u.row("up2").output_shape == (32, 32, 16)
    assert "misaligned" in u.row("Concat").flags  # a 2x2 stride-2 transposed conv shifts the field by 1/2 pixel
    f = from_onnx(HERE / "fcn_resnet50.onnx")
    assert f.layers[-1].kind == "Resize" and f.layers[-1].output_shape == (224, 224, 21)


def test_unet_probe_matches_the_exact_field_of_each_probed_unit():
    from rfcalc.runs.onnx_probe import probe_onnx

    result = probe_onnx(str(HERE / "unet.onnx"))
    analysis = result.analysis
    checked = 0
    for p in result.layers:
        if p.clipped or p.rf is None:
            continue
        assert list(p.spans) == [tuple(analysis.row(p.name).field_of(u)) for u in p.units], p.name
        assert p.agree, p.name  # rf and rf_min over every phase of the decoder, jump and start
        checked += 1
    assert checked >= 5 and any(max(p.phases) == 4 for p in result.layers)


@pytest.mark.slow
def test_resnet18_probe_agrees_through_layer2():
    from rfcalc.runs.onnx_probe import probe_onnx

    result = probe_onnx(str(HERE / "resnet18.onnx"), layer="layer2.0.conv1")
    assert all(p.agree for p in result.layers), [p.name for p in result.layers if not p.agree]
