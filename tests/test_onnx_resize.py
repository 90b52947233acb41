"""Resize in every mode against onnxruntime itself: which input pixels each output unit reads.

The oracle shares no code with rfcalc: a Resize (optionally followed by a 'valid' conv) built
with onnx.helper runs in onnxruntime on one-hot inputs (one batch entry per input pixel); an
output unit reads a pixel when its value changes. rfcalc's exact field of that unit
(``Row.field_of``), clamped to the input as the runtime clamps its taps to the edge, must be
exactly that set, for every unit, mode, transform, nearest rounding and kind of scale.
"""

from __future__ import annotations

import itertools
import pathlib
import sys
from fractions import Fraction

import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
np = pytest.importorskip("numpy")
sys.path.insert(0, str(pathlib.Path(__file__).parent))

from hypothesis import (  # noqa: E402
    HealthCheck,
    example,
    given,
    settings,
    strategies as st,  # noqa: E402
)
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from rfcalc.errors import RFError, ShapeError, UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx  # noqa: E402

TRANSFORMS = [
    "half_pixel",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
    "half_pixel_symmetric",
]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
# (kind, value): a scale (float32, as exporters store it) or an output size
SCALES = [
    ("scale", 2.0),
    ("scale", 3.0),
    ("scale", 1.5),
    ("scale", 0.5),
    ("scale", 2.5),
    ("scale", 0.75),
    ("size", 13),
    ("size", 4),
    ("size", 1),
    ("size", 17),
]


def _graph(n, rank, kind, value, opset=19, conv=0, op="Resize", **attrs):
    """(model, spatial input sizes): X (1 channel, spatial n per axis) -> Resize [-> conv]. onnxruntime
    resizes cubic in 2-D only: a 1-D cubic case is a (1, n) image with the first axis kept."""
    spatial = [n] * rank
    values = [value] * rank
    if attrs.get("mode") == "cubic" and rank == 1:
        spatial, values = [1, n], [1.0 if kind == "scale" else 1, value]
    rank = len(spatial)
    inits, inputs = [], ["x"]
    if op == "Upsample" or opset == 10:
        inputs.append("sc")
        inits.append(numpy_helper.from_array(np.array([1, 1] + values, np.float32), "sc"))
    elif kind == "scale":
        inputs += ["", "sc"]
        inits.append(numpy_helper.from_array(np.array([1, 1] + values, np.float32), "sc"))
    else:
        inputs += ["", "", "sz"]
        inits.append(numpy_helper.from_array(np.array([1, 1] + values, np.int64), "sz"))
    nodes = [helper.make_node(op, inputs, ["r"], name="rs", **attrs)]
    out = "r"
    if conv:
        k = [1 if n == 1 else conv for n in spatial]
        w = np.random.default_rng(0).uniform(0.5, 1.5, (1, 1, *k))  # no exact cancellation
        inits.append(numpy_helper.from_array(w.astype(np.float32), "w"))
        nodes.append(helper.make_node("Conv", ["r", "w"], ["y"], name="conv", kernel_shape=k))
        out = "y"
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1] + spatial)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m, spatial


def _measured(m, spatial):
    """Per output unit (a tuple), the set of input pixels (tuples) whose change changes it, by onnxruntime."""
    pixels = list(np.ndindex(*spatial))
    x = np.zeros((len(pixels), 1, *spatial), np.float32)
    for b, p in enumerate(pixels):
        x[(b, 0, *p)] = 1.0
    feed = m.graph.input[0]
    m2 = onnx.ModelProto()
    m2.CopyFrom(m)
    m2.graph.input[0].type.tensor_type.shape.dim[0].dim_value = len(pixels)
    for t in m2.graph.initializer:  # sizes name the batch too: one entry per pixel
        if t.name == "sz":
            sizes = numpy_helper.to_array(t).copy()
            sizes[0] = len(pixels)
            t.CopyFrom(numpy_helper.from_array(sizes, "sz"))
    options = ort.SessionOptions()
    options.log_severity_level = 3
    y = ort.InferenceSession(m2.SerializeToString(), options, providers=["CPUExecutionProvider"]).run(
        None, {feed.name: x}
    )[0]
    reads = {}
    for u in np.ndindex(*y.shape[2:]):
        col = y[(slice(None), 0, *u)]
        reads[u] = {pixels[b] for b in np.nonzero(np.abs(col) > 1e-6)[0]}
    return reads, y.shape[2:]


def _check(m, spatial):
    analysis = from_onnx(m)
    row = analysis.layers[-1]
    reads, out = _measured(m, spatial)
    assert row.output_shape[:-1] == tuple(out)
    for u, truth in reads.items():
        per_axis = []
        for a, n, v in zip(row.axes, spatial, u):  # the exact pixels of the unit, holes included
            q, p = divmod(v, a.period)
            lo, hi = a.at(v)
            cover = a.phase_cover(p)
            pixels = range(lo, hi + 1) if cover is None else [lo + b for b in range(hi - lo + 1) if cover >> b & 1]
            per_axis.append(sorted({min(max(x, 0), n - 1) for x in pixels}))  # taps past the border read the edge
        ours = set(itertools.product(*per_axis))
        if ours != truth and "ties" in row.flags:  # a tie the runtime's float32 arithmetic breaks the other way
            near = lambda p, others: min(max(abs(a - b) for a, b in zip(p, q)) for q in others) <= 2
            assert all(near(p, truth) for p in ours) and all(near(p, ours) for p in truth), (u, ours, truth)
            continue
        assert ours == truth, (u, row.field_of(u), sorted(truth))
    return row


CASES = [
    (mode, t, near, kind, value)
    for mode in ["nearest", "linear", "cubic"]
    for t in TRANSFORMS
    for near in (NEAREST if mode == "nearest" else ["round_prefer_floor"])
    for kind, value in SCALES
]


@pytest.mark.parametrize(
    "mode,transform,nearest,kind,value", CASES, ids=[f"{c[0]}-{c[1]}-{c[2][:12]}-{c[3]}{c[4]}" for c in CASES]
)
def test_every_unit_reads_what_onnxruntime_reads(mode, transform, nearest, kind, value):
    m, spatial = _graph(7, 1, kind, value, mode=mode, coordinate_transformation_mode=transform, nearest_mode=nearest)
    _check(m, spatial)


@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
@pytest.mark.parametrize(
    "rank,kind,value,transform",
    [
        (2, "scale", 1.5, "align_corners"),
        (2, "size", 11, "half_pixel"),
        (3, "scale", 2.0, "pytorch_half_pixel"),
        (2, "size", 3, "asymmetric"),
    ],
)
def test_2d_and_3d_resize_then_valid_conv(mode, rank, kind, value, transform):
    if mode == "cubic" and rank == 3:
        pytest.skip("onnxruntime resizes cubic in 2-D only")
    m, spatial = _graph(
        4 if rank == 3 else 6, rank, kind, value, conv=2, mode=mode, coordinate_transformation_mode=transform
    )
    _check(m, spatial)


@pytest.mark.parametrize(
    "op,opset,mode,value",
    [
        ("Upsample", 9, "nearest", 2.0),
        ("Upsample", 9, "linear", 2.0),
        ("Upsample", 9, "nearest", 1.5),
        ("Resize", 10, "nearest", 0.6),
        ("Resize", 10, "linear", 1.5),
        ("Resize", 10, "nearest", 2.5),
    ],
)
def test_upsample_and_resize_10_sample_asymmetric_as_onnxruntime(op, opset, mode, value):
    m, spatial = _graph(7, 1, "scale", value, opset=opset, op=op, mode=mode)
    _check(m, spatial)


def test_cubic_coefficient_and_exclude_outside_keep_the_fields():
    for a in (-0.5, -0.75):
        for ex in (0, 1):
            m, spatial = _graph(7, 1, "scale", 2.5, mode="cubic", cubic_coeff_a=a, exclude_outside=ex)
            _check(m, spatial)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 12),
    m=st.integers(1, 30),
    mode=st.sampled_from(["nearest", "linear", "cubic"]),
    transform=st.sampled_from(TRANSFORMS),
    nearest=st.sampled_from(NEAREST),
    by_scale=st.booleans(),
)
@example(n=9, m=5, mode="nearest", transform="half_pixel_symmetric", nearest="floor", by_scale=True)  # a draw: x = 4.0
def test_any_size_any_mode_matches_onnxruntime(n, m, mode, transform, nearest, by_scale):
    kind, value = ("scale", float(np.float32(m / n))) if by_scale else ("size", m)
    proto, spatial = _graph(
        n, 1, kind, value, mode=mode, coordinate_transformation_mode=transform, nearest_mode=nearest
    )
    try:
        _check(proto, spatial)
    except UnsupportedLayerError as err:  # a float32 product onnxruntime rounds to another size: refused
        assert "float32" in str(err)


def test_align_corners_bilinear_is_periodic_with_the_exact_jump():
    m, _ = _graph(64, 2, "size", 256, mode="linear", coordinate_transformation_mode="align_corners")
    row = from_onnx(m).layers[-1]
    assert row.jump == (Fraction(63, 255),) * 2 and [a.period for a in row.axes] == [85, 85]
    assert row.rf == (2, 2) and row.rf_min == (1, 1) and row.token == "resize256/linear/align_corners"


def test_a_float_scale_without_a_short_period_covers_the_axis():
    m, _ = _graph(30, 1, "scale", float(np.float32(4 / 3)), mode="linear")
    row = from_onnx(m).layers[-1]
    assert row.output_shape == (40, 1) and row.axes[0].period <= 40 and row.rf == (2,)


def test_resize_then_conv_fields_feed_the_next_layer():
    m, spatial = _graph(9, 1, "scale", 2.5, conv=3, mode="cubic", coordinate_transformation_mode="half_pixel")
    row = _check(m, spatial)
    assert row.rf[-1] == 5 and row.rf_min[-1] == 4


HOSTILE = [
    (
        "tf_crop_and_resize",
        dict(mode="linear", coordinate_transformation_mode="tf_crop_and_resize"),
        UnsupportedLayerError,
        "tf_crop_and_resize",
    ),
    ("an unknown mode", dict(mode="lanczos"), UnsupportedLayerError, "lanczos"),
    ("an unknown nearest_mode", dict(mode="nearest", nearest_mode="banker"), UnsupportedLayerError, "banker"),
    ("antialias when downsampling", dict(mode="linear", antialias=1), UnsupportedLayerError, "antialias"),
]


@pytest.mark.parametrize("what,attrs,error,words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_refused_settings_name_the_node(what, attrs, error, words):
    m, _ = _graph(8, 2, "scale", 0.5, **attrs)
    with pytest.raises(error, match=words) as info:
        from_onnx(m)
    assert "'rs'" in str(info.value)


@pytest.mark.parametrize(
    "kind,value,words",
    [
        ("scale", float("nan"), "not finite"),
        ("scale", -2.0, "positive"),
        ("size", 0, "sizes"),
        ("scale", 1e-3, "empty"),
        ("scale", 1e6, "phases repeat|refus"),
    ],
)
def test_hostile_scales_and_sizes_are_one_clear_error(kind, value, words):
    m, _ = _graph(8, 1, kind, value, mode="linear")
    with pytest.raises(RFError, match=words):
        from_onnx(m)


def test_channel_resize_is_refused():
    inits = [numpy_helper.from_array(np.array([1, 2, 2, 2], np.float32), "sc")]
    node = helper.make_node("Resize", ["x", "", "sc"], ["y"], name="rs", mode="nearest")
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    with pytest.raises(UnsupportedLayerError, match="channel"):
        from_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)]))


def test_a_float32_product_that_rounds_to_another_size_is_refused():
    m, _ = _graph(3, 1, "scale", float(np.float32(5 / 3)), mode="nearest")
    with pytest.raises(UnsupportedLayerError, match="float32"):
        from_onnx(m)


def test_shape_error_type_for_wrong_count():
    inits = [numpy_helper.from_array(np.array([1, 1, 2], np.float32), "sc")]
    node = helper.make_node("Resize", ["x", "", "sc"], ["y"], name="rs", mode="nearest")
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    with pytest.raises(ShapeError, match="rank-4"):
        from_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)]))


@pytest.mark.parametrize(
    "first,second",
    [
        ((2.0, "nearest", "asymmetric"), (1.5, "linear", "align_corners")),
        ((3.0, "linear", "half_pixel"), (0.6, "nearest", "half_pixel")),
        ((2.5, "linear", "pytorch_half_pixel"), (1.25, "linear", "half_pixel")),
    ],
)
def test_a_resize_of_a_resized_axis_composes_the_phase_tables(first, second):
    """The second Resize reads a table with several phases: its period takes whole input periods."""
    nodes, inits = [], []
    for i, (s, mode, t) in enumerate((first, second)):
        inits.append(numpy_helper.from_array(np.array([1, 1, s], np.float32), f"s{i}"))
        nodes.append(
            helper.make_node(
                "Resize",
                ["x" if i == 0 else "r0", "", f"s{i}"],
                [f"r{i}"],
                name=f"rs{i}",
                mode=mode,
                coordinate_transformation_mode=t,
            )
        )
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 9])],
        [helper.make_tensor_value_info("r1", TensorProto.FLOAT, None)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 8
    row = _check(m, [9])
    assert row.axes[0].period > 1


def test_the_onnxruntime_probe_measures_non_integer_resizes_and_refuses_cubic():
    from rfcalc.runs.onnx_probe import probe_onnx

    m, _ = _graph(24, 2, "scale", 1.5, conv=3, mode="linear", coordinate_transformation_mode="half_pixel")
    result = probe_onnx(m)
    assert result.agree and [p.phases for p in result.layers] == [(3, 3), (3, 3)]
    m, _ = _graph(20, 2, "scale", 2.5, conv=3, mode="cubic")
    with pytest.raises(RFError, match="'rs'.*cubic"):
        probe_onnx(m)


def test_scales_whose_data_the_file_lacks_name_the_initializer():
    m, _ = _graph(8, 2, "scale", 2.0, mode="nearest")
    m.graph.initializer[0].ClearField("float_data")
    m.graph.initializer[0].ClearField("raw_data")
    with pytest.raises(ShapeError, match="'rs'.*initializer 'sc'.*does not hold"):
        from_onnx(m)


def _conv(name, x, y, k, s, p, inits):
    w = np.random.default_rng(len(inits)).uniform(0.5, 1.5, (1, 1, k))  # positive: no exact cancellation
    inits.append(numpy_helper.from_array(w.astype(np.float32), f"w_{name}"))
    return helper.make_node("Conv", [x, f"w_{name}"], [y], name=name, kernel_shape=[k], strides=[s], pads=[p, p])


def _up(name, x, y, inits):
    inits.append(numpy_helper.from_array(np.array([1, 1, 2], np.float32), f"s_{name}"))
    return helper.make_node(
        "Resize", [x, "", f"s_{name}"], [y], name=name, mode="linear", coordinate_transformation_mode="align_corners"
    )


@pytest.mark.parametrize("n", [16, 24, 40])
def test_a_pyramid_of_align_corners_levels_summed_reads_what_onnxruntime_reads(n):
    """smp's FPN in 1-D: a deep level upsampled twice and a shallow one upsampled once (bilinear,
    align_corners: slopes (n-1)/(m-1), no common jump), summed with a full-resolution path, a conv,
    then a last align_corners x2: every output unit's pixels are onnxruntime's (one-hot inputs)."""
    inits: list = []
    nodes = [
        _conv("c1", "x", "a1", 3, 2, 1, inits),  # n/2
        _conv("c2", "a1", "a2", 3, 2, 1, inits),  # n/4
        _up("u2a", "a2", "b2", inits),  # n/2
        _up("u2b", "b2", "d2", inits),  # n
        _conv("c3", "a1", "b1", 3, 1, 1, inits),
        _up("u1", "b1", "d1", inits),  # n
        _conv("c0", "x", "d0", 3, 1, 1, inits),
        helper.make_node("Sum", ["d2", "d1", "d0"], ["m"], name="merge"),
        _conv("head", "m", "h", 3, 1, 1, inits),
        _up("out", "h", "y", inits),  # 2n
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 8
    row = _check(m, [n])
    assert row.output_shape == (2 * n, 1)
    assert row.jump == (0,)  # no common jump: one table covering the axis, each unit's own field
    assert "misaligned" in from_onnx(m).row("merge").flags
