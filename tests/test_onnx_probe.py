"""The onnxruntime probe on 1-D, 2-D and 3-D models and decoders: every output phase is measured,
rf and rf_min are hand-derived here, and every probed unit's field equals ``Row.field_of``."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

import numpy as np  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
from onnxfix import ints, model, weight  # noqa: E402

from rfcalc.errors import RFError  # noqa: E402
from rfcalc.runs.onnx_probe import probe_onnx  # noqa: E402
from rfcalc.runs.probe_result import LayerProbe, ProbeResult  # noqa: E402

N = helper.make_node


def scales(*values):
    return numpy_helper.from_array(np.array(values, np.float32), "sc")


def _nd(rank, nodes, inits, size=16):
    return model(nodes, inits, shape=(1, 3) + (size,) * rank)


def conv_t(rank, k, s, **attrs):
    return (
        [N("ConvTranspose", ["x", "w"], ["y"], name="up", kernel_shape=[k] * rank, strides=[s] * rank, **attrs)],
        [weight("w", (3, 4) + (k,) * rank)],
    )


# (id, rank, builder, measured rf, rf_min, jump of the last layer), all worked by hand:
# a transposed conv k3 s2 pads 1: odd outputs read 2 inputs, even ones 1; k2 s3: every third output
# reads nothing (rf_min 0); linear Resize x2 (half_pixel) reads 2 pixels everywhere, x3 reads 1 where
# the sample lands on a pixel; nearest Resize copies one pixel.
CASES = [
    (
        "conv1d_stride_2",
        1,
        lambda: (
            [N("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[5], pads=[2, 2], strides=[2])],
            [weight("w", (4, 3, 5))],
        ),
        (5,),
        (5,),
        (2,),
    ),
    (
        "conv3d_then_maxpool3d",
        3,
        lambda: (
            [
                N("Conv", ["x", "w"], ["h"], name="c", kernel_shape=[3, 3, 3], pads=[1] * 6),
                N("MaxPool", ["h"], ["y"], name="p", kernel_shape=[2, 2, 2], strides=[2, 2, 2]),
            ],
            [weight("w", (4, 3, 3, 3, 3))],
        ),
        (4, 4, 4),
        (4, 4, 4),
        (2, 2, 2),
    ),
    (
        "convtranspose_k3_s2_phases_read_2_or_1",
        2,
        lambda: conv_t(2, 3, 2, pads=[1, 1, 1, 1], output_padding=[1, 1]),
        (2, 2),
        (1, 1),
        (Fraction(1, 2),) * 2,
    ),
    ("convtranspose_stride_longer_than_kernel_leaves_holes", 1, lambda: conv_t(1, 2, 3), (1,), (0,), (Fraction(1, 3),)),
    ("convtranspose3d_k2_s2", 3, lambda: conv_t(3, 2, 2), (1, 1, 1), (1, 1, 1), (Fraction(1, 2),) * 3),
    (
        "resize_nearest_x2",
        2,
        lambda: ([N("Resize", ["x", "", "sc"], ["y"], name="rs", mode="nearest")], [scales(1, 1, 2, 2)]),
        (1, 1),
        (1, 1),
        (Fraction(1, 2),) * 2,
    ),
    (
        "resize_linear_x2",
        2,
        lambda: ([N("Resize", ["x", "", "sc"], ["y"], name="rs", mode="linear")], [scales(1, 1, 2, 2)]),
        (2, 2),
        (2, 2),
        (Fraction(1, 2),) * 2,
    ),
    (
        "resize_linear_x3_sizes",
        2,
        lambda: ([N("Resize", ["x", "", "", "sz"], ["y"], name="rs", mode="linear")], [ints("sz", [1, 3, 48, 48])]),
        (2, 2),
        (1, 1),
        (Fraction(1, 3),) * 2,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_probe_measures_every_phase_of_nd_models_and_decoders(case):
    _, rank, build, rf, rf_min, jump = case
    result = probe_onnx(_nd(rank, *build()))
    p = result.layers[-1]
    assert isinstance(result, ProbeResult) and isinstance(p, LayerProbe)
    assert (p.rf, p.rf_min, p.jump) == (rf, rf_min, jump)
    assert len(p.units) == max(p.phases) + 1 and p.complete and not p.clipped
    for unit, measured, analytic in zip(p.units, p.spans, p.analytic_spans):
        if measured is None:  # a unit that reads nothing: its exact field is empty
            assert all(lo > hi for lo, hi in analytic), unit
        else:
            assert measured == tuple(analytic), unit
    assert result.agree, result.to_dict()["layers"]


def test_probe_result_has_the_shape_of_the_tensorflow_probe():
    result = probe_onnx(_nd(1, *conv_t(1, 3, 2, pads=[1, 1], output_padding=[1])))
    d = result.to_dict()
    assert set(d) == {
        "target",
        "input_shape",
        "probe_shape",
        "layer",
        "measured",
        "analytic",
        "agree",
        "passes",
        "seconds",
        "layers",
    }
    assert set(d["measured"]) == set(d["analytic"]) == {"rf", "rf_min", "jump", "start"}
    assert d["measured"]["rf_min"] == [1] and d["layers"][0]["phases"] == [2]
    assert [f["unit"] for f in d["layers"][0]["fields"]] == [[14], [15], [16]]
    assert result.passes == 2 * 16 // 16  # one onnxruntime run of the 2·16 masks, 16 per run


def test_a_field_wider_than_the_input_is_clipped_not_agreeing():
    nodes = [N("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[9], dilations=[3], pads=[12, 12])]
    p = probe_onnx(_nd(1, nodes, [weight("w", (4, 3, 9))], size=8)).layers[-1]
    assert p.clipped and not p.agree


def test_layer_picks_the_last_probed_and_refuses_a_flat_one():
    nodes = [
        N("Conv", ["x", "w"], ["h"], name="c", kernel_shape=[3], pads=[1, 1]),
        N("Conv", ["h", "w2"], ["h2"], name="c2", kernel_shape=[3], pads=[1, 1]),
        N("GlobalAveragePool", ["h2"], ["y"], name="gap"),
    ]
    proto = _nd(1, nodes, [weight("w", (4, 3, 3)), weight("w2", (4, 4, 3))])
    result = probe_onnx(proto, layer="c")
    assert [p.name for p in result.layers] == ["c"] and result.layer == "c"
    with pytest.raises(RFError, match="no spatial output"):
        probe_onnx(proto, layer="gap")


def test_cli_probe_table_of_a_1d_decoder(tmp_path):
    onnx.save(_nd(1, *conv_t(1, 3, 2, pads=[1, 1], output_padding=[1])), tmp_path / "dec.onnx")
    code = "import sys; from rfcalc.cli import main; sys.exit(main(sys.argv[1:]))"
    out = subprocess.run(
        [sys.executable, "-c", code, "probe", str(tmp_path / "dec.onnx")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "up" in out.stdout and "Traceback" not in out.stderr


@pytest.mark.tf
def test_onnxruntime_and_gradient_probes_measure_one_decoder_alike():
    from rfcalc.runs.probes import probe

    nodes = [
        N("Conv", ["x", "w"], ["h"], name="c", kernel_shape=[5], pads=[2, 2], strides=[2]),
        N("ConvTranspose", ["h", "wt"], ["t"], name="t", kernel_shape=[3], strides=[2], pads=[1, 0]),
        N("Resize", ["t", "", "sc"], ["y"], name="rs", mode="nearest"),
    ]
    ours = probe_onnx(_nd(1, nodes, [weight("w", (4, 3, 5)), weight("wt", (4, 4, 3)), scales(1, 1, 2)], size=24))
    theirs = probe("c5s2,t3s2,up2", input_shape=(24, 3))
    a, b = ours.layers[-1], theirs.layers[-1]
    assert (
        (a.rf, a.rf_min, a.jump, a.phases)
        == (b.rf, b.rf_min, b.jump, b.phases)
        == ((7,), (5,), (Fraction(1, 2),), (4,))
    )
    assert a.to_dict().keys() == b.to_dict().keys() and ours.to_dict().keys() == theirs.to_dict().keys()
    assert ours.agree and theirs.agree


def test_resize_sizes_from_a_constant_node_run_at_the_probe_batch():
    sizes = helper.make_tensor("v", onnx.TensorProto.INT64, [4], [1, 3, 32, 32])
    nodes = [
        N("Constant", [], ["sz"], name="k", value=sizes),
        N("Resize", ["x", "", "", "sz"], ["y"], name="rs", mode="nearest"),
    ]
    p = probe_onnx(model(nodes, [], shape=(1, 3, 16, 16))).layers[-1]
    assert p.name == "rs" and (p.rf, p.rf_min) == ((1, 1), (1, 1)) and p.agree
