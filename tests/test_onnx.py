"""from_onnx on graphs built with onnx.helper: every op against onnxruntime's own shapes and the
onnxruntime probe (a positive linear copy of the model), hand-worked numbers, and bad input."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from fractions import Fraction

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402
from onnxfix import assert_shapes_match_onnxruntime, ints, model, weight  # noqa: E402

from rfcalc.errors import RFError, ShapeError, UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx  # noqa: E402
from rfcalc.runs.onnx_probe import probe_onnx  # noqa: E402

N = helper.make_node


def conv(name, x, y, c_in, c_out, k, **attrs):
    g = attrs.get("group", 1)
    return [N("Conv", [x, f"{name}.w", f"{name}.b"], [y], name=name, kernel_shape=[k, k], **attrs)], [
        weight(f"{name}.w", (c_out, c_in // g, k, k)),
        weight(f"{name}.b", (c_out,)),
    ]


def chain(*parts):
    nodes, inits = [], []
    for n, i in parts:
        nodes += n
        inits += i
    return nodes, inits


def _residual():
    a = conv("a", "x", "h", 3, 8, 3, pads=[1, 1, 1, 1])
    b = conv("b", "h", "h2", 8, 8, 3, pads=[1, 1, 1, 1])
    s = conv("skip", "x", "s", 3, 8, 1)
    add = ([N("Add", ["h2", "s"], ["y"], name="add")], [])
    return chain(a, b, s, add)


def _folded_reshape():
    c = conv("c", "x", "h", 3, 4, 3, strides=[2, 2])
    nodes = [
        N("Shape", ["h"], ["sh"], name="shape"),
        N("Gather", ["sh", "zero"], ["n"], name="gather", axis=0),
        N("Unsqueeze", ["n", "ax"], ["n1"], name="unsq"),
        N("Concat", ["n1", "minus1"], ["target"], name="cat", axis=0),
        N("Reshape", ["h", "target"], ["flat"], name="reshape"),
        N("Gemm", ["flat", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    inits = [
        ints("zero", 0),
        ints("ax", [0]),
        ints("minus1", [-1]),
        weight("fc.w", (10, 4 * 15 * 15)),
        weight("fc.b", (10,)),
    ]
    return chain(c, (nodes, inits))


# (id, build, expected rf, jump, start of the last spatial row; None: only the oracles)
CASES = [
    ("conv_pads_equal_to_same_read_as_same", lambda: conv("c", "x", "y", 3, 8, 3, pads=[1, 1, 1, 1]), 3, 1, 0),
    (
        "conv_7x7_stride_2_symmetric_pads_start_at_0",
        lambda: conv("c", "x", "y", 3, 8, 7, strides=[2, 2], pads=[3, 3, 3, 3]),
        7,
        2,
        0,
    ),
    (
        "conv_auto_pad_same_upper",
        lambda: conv("c", "x", "y", 3, 8, 3, strides=[2, 2], auto_pad="SAME_UPPER"),
        3,
        2,
        Fraction(1),
    ),
    ("conv_auto_pad_same_lower", lambda: conv("c", "x", "y", 3, 8, 2, auto_pad="SAME_LOWER"), 2, 1, Fraction(-1, 2)),
    ("conv_auto_pad_valid", lambda: conv("c", "x", "y", 3, 8, 3, auto_pad="VALID"), 3, 1, 1),
    ("conv_asymmetric_pads", lambda: conv("c", "x", "y", 3, 8, 3, pads=[0, 2, 1, 0]), 3, 1, None),
    ("conv_dilated", lambda: conv("c", "x", "y", 3, 8, 3, dilations=[2, 2], pads=[2, 2, 2, 2]), 5, 1, 0),
    (
        "conv_depthwise_group_equals_channels",
        lambda: chain(
            conv("c", "x", "h", 3, 6, 3, pads=[1, 1, 1, 1]), conv("dw", "h", "y", 6, 6, 3, group=6, strides=[2, 2])
        ),
        5,
        2,
        None,
    ),
    (
        "conv_two_groups",
        lambda: chain(conv("c", "x", "h", 3, 8, 1), conv("g", "h", "y", 8, 8, 3, group=2, pads=[1, 1, 1, 1])),
        3,
        1,
        0,
    ),
    (
        "maxpool_ceil_mode_adds_after_padding",
        lambda: chain(
            conv("c", "x", "h", 3, 4, 1),
            ([N("MaxPool", ["h"], ["y"], name="p", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)], []),
        ),
        3,
        2,
        1,
    ),
    (
        "averagepool_counting_pads",
        lambda: (
            [
                N(
                    "AveragePool",
                    ["x"],
                    ["y"],
                    name="p",
                    kernel_shape=[3, 3],
                    strides=[2, 2],
                    pads=[1, 1, 1, 1],
                    count_include_pad=1,
                )
            ],
            [],
        ),
        3,
        2,
        0,
    ),
    (
        "lppool_is_a_window",
        lambda: ([N("LpPool", ["x"], ["y"], name="p", kernel_shape=[2, 2], strides=[2, 2])], []),
        2,
        2,
        Fraction(1, 2),
    ),
    (
        "pad_then_conv",
        lambda: chain(
            ([N("Pad", ["x", "pads"], ["h"], name="pad")], [ints("pads", [0, 0, 2, 2, 0, 0, 2, 2])]),
            conv("c", "h", "y", 3, 4, 5),
        ),
        5,
        1,
        0,
    ),
    (
        "slice_crops_like_cropping2d",
        lambda: chain(
            conv("c", "x", "h", 3, 4, 3),
            (
                [N("Slice", ["h", "st", "en", "axes"], ["y"], name="crop")],
                [ints("st", [2, 1]), ints("en", [-2, 31]), ints("axes", [2, 3])],
            ),
        ),
        3,
        1,
        None,
    ),
    ("residual_add_merges_paths", _residual, 5, 1, 0),
    (
        "concat_of_branches",
        lambda: chain(
            conv("a", "x", "h1", 3, 4, 3, pads=[1, 1, 1, 1]),
            conv("b", "x", "h2", 3, 4, 5, pads=[2, 2, 2, 2]),
            ([N("Concat", ["h1", "h2"], ["y"], name="cat", axis=1)], []),
        ),
        5,
        1,
        0,
    ),
    ("shape_gather_concat_reshape_chain_folds", _folded_reshape, 3, 2, 1),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_ops_match_onnxruntime_shapes_and_probe(case):
    _, build, rf, jump, start = case
    nodes, inits = build()
    proto = model(nodes, inits)
    analysis = from_onnx(proto)
    assert_shapes_match_onnxruntime(proto, analysis)
    spatial = [r for r in analysis.layers if r.spatial]
    last = spatial[-1]
    assert last.rf == (rf, rf) and last.jump == (jump, jump)
    if start is not None:
        assert last.start == (start, start)
    result = probe_onnx(proto)
    for p in result.layers:
        if not p.clipped:
            assert p.agree, (p.name, p.rf, p.analytic_rf, p.jump, p.analytic_jump, p.start, p.analytic_start)


def test_batchnorm_running_statistics_are_not_trainable():
    c = conv("c", "x", "h", 3, 8, 3, pads=[1, 1, 1, 1])
    bn = (
        [N("BatchNormalization", ["h", "g", "b", "m", "v"], ["y"], name="bn")],
        [weight("g", (8,)), weight("b", (8,)), weight("m", (8,)), weight("v", (8,), positive=True)],
    )
    row = from_onnx(model(*chain(c, bn))).row("bn")
    assert (row.trainable_params, row.non_trainable_params) == (16, 16)


def test_reflect_padding_is_flagged():
    nodes = [N("Pad", ["x", "pads"], ["y"], name="pad", mode="reflect")]
    row = from_onnx(model(nodes, [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1])])).row("pad")
    assert "reflect" in row.flags and row.output_shape == (34, 34, 3)


def test_global_pool_flatten_gemm_head_counts_weights_from_dims():
    c = conv("c", "x", "h", 3, 8, 3, pads=[1, 1, 1, 1])
    head = (
        [
            N("GlobalAveragePool", ["h"], ["g"], name="gap"),
            N("Flatten", ["g"], ["f"], name="flat"),
            N("Gemm", ["f", "w", "b"], ["y"], name="fc", transB=1),
        ],
        [weight("w", (10, 8)), weight("b", (10,))],
    )
    proto = model(*chain(c, head))
    analysis = from_onnx(proto)
    assert_shapes_match_onnxruntime(proto, analysis)
    assert analysis.row("fc").params == 90 and analysis.row("gap").output_shape == (1, 1, 8)
    assert analysis.total_params == 3 * 3 * 3 * 8 + 8 + 90


def test_matmul_on_flat_features():
    nodes = [N("Flatten", ["x"], ["f"], name="flat"), N("MatMul", ["f", "w"], ["y"], name="mm")]
    analysis = from_onnx(model(nodes, [weight("w", (3 * 8 * 8, 5))], shape=(1, 3, 8, 8)))
    assert analysis.row("mm").output_shape == (5,) and analysis.row("mm").params == 3 * 64 * 5


def test_weights_without_data_count_by_their_dims():
    c = conv("c", "x", "y", 3, 8, 3, pads=[1, 1, 1, 1])
    proto = model(*c)
    for t in proto.graph.initializer:
        t.ClearField("raw_data")
        t.ClearField("float_data")
    assert from_onnx(proto).total_params == 3 * 3 * 3 * 8 + 8


def test_external_data_missing_is_fine(tmp_path):
    proto = model(*conv("c", "x", "y", 3, 8, 3, pads=[1, 1, 1, 1]))
    onnx.save_model(
        proto,
        tmp_path / "m.onnx",
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="weights.bin",
        size_threshold=0,
    )
    (tmp_path / "weights.bin").unlink()
    assert from_onnx(str(tmp_path / "m.onnx")).total_params == 224


def test_dynamic_sizes_need_input_shape():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    proto = model(*conv("c", "x", "y", 3, 8, 3, pads=[1, 1, 1, 1]), inputs=[x])
    with pytest.raises(ShapeError, match="dynamic sizes"):
        from_onnx(proto)
    assert from_onnx(proto, input_shape=(20, 24, 3)).layers[-1].output_shape == (20, 24, 8)


def test_unknown_op_is_named_and_identity_lets_it_pass():
    nodes = [N("Relu", ["x"], ["h"], name="r"), N("Swizzle", ["h"], ["y"], name="odd", domain="my.ops")]
    proto = model(nodes)
    proto.opset_import.append(helper.make_opsetid("my.ops", 1))
    with pytest.raises(UnsupportedLayerError, match=r"'odd' \(Swizzle\).*identity=\('odd',\)"):
        from_onnx(proto)
    assert from_onnx(proto, identity=["odd"]).row("odd").flags[-1:] == ("identity",)


def test_identity_that_names_nothing_is_refused():
    with pytest.raises(RFError, match="names no node"):
        from_onnx(model(*conv("c", "x", "y", 3, 8, 3)), identity=["nope"])


def _cli(*args):
    code = "import sys; from rfcalc.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True)


def _two_inputs():
    xs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 8, 8]) for n in ("x", "x2")]
    return model([N("Add", ["x", "x2"], ["y"], name="add")], inputs=xs)


def _dynamic():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    return model(*conv("c", "x", "y", 3, 8, 3), inputs=[x])


def _opset_99():
    return model(*conv("c", "x", "y", 3, 8, 3), opset=99)


def _unknown_op():
    return model([N("Swizzle", ["x"], ["y"], name="odd")])


HOSTILE = [
    ("not_a_protobuf", lambda p: p.write_bytes(b"\xff\xfe this is not an onnx model \x00" * 20), "not an ONNX model"),
    (
        "truncated_file",
        lambda p: p.write_bytes(model(*conv("c", "x", "y", 3, 64, 7)).SerializeToString()[:900]),
        "ONNX model",
    ),
    ("empty_file", lambda p: p.write_bytes(b""), "not an ONNX model"),
    ("dynamic_spatial_dims", lambda p: onnx.save(_dynamic(), p), "--input HxWxC"),
    ("unknown_opset", lambda p: onnx.save(_opset_99(), p), "opset 99"),
    ("unknown_op", lambda p: onnx.save(_unknown_op(), p), "'odd' (Swizzle)"),
    ("two_image_inputs", lambda p: onnx.save(_two_inputs(), p), "one image input"),
]


@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_bad_onnx_files_fail_in_one_line(tmp_path, case):
    _, write, words = case
    path = tmp_path / "bad.onnx"
    write(path)
    out = _cli(path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert words in out.stderr


def test_missing_file_fails_in_one_line(tmp_path):
    out = _cli(tmp_path / "nope.onnx")
    assert out.returncode == 2 and "no ONNX model file" in out.stderr


def test_cli_reads_onnx_with_input_and_identity(tmp_path):
    onnx.save(_dynamic(), tmp_path / "d.onnx")
    out = _cli(tmp_path / "d.onnx", "--input", "16x16x3", "--json")
    assert out.returncode == 0, out.stderr
    assert '"output_shape": [\n        16,\n        16,\n        8' in out.stdout or "16" in out.stdout
    onnx.save(_unknown_op(), tmp_path / "u.onnx")
    assert _cli(tmp_path / "u.onnx", "--identity", "odd").returncode == 0


def test_reading_onnx_loads_no_tensorflow_keras_torch_or_onnxruntime():
    code = (
        "import sys; from rfcalc.cli import main; main([sys.argv[1], '--json']);"
        "sys.stderr.write(' '.join(m for m in ('tensorflow', 'keras', 'torch', 'onnxruntime') if m in sys.modules))"
    )
    path = str(pathlib.Path(__file__).parent / "fixtures" / "onnx" / "resnet18.onnx")
    out = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    assert out.returncode == 0 and out.stderr.strip() == "", out.stderr


def test_cli_probe_of_an_onnx_file_agrees(tmp_path):
    onnx.save(model(*_residual()), tmp_path / "res.onnx")
    out = _cli("probe", tmp_path / "res.onnx", "--json")
    assert out.returncode == 0, out.stderr
    assert '"agree": true' in out.stdout


def _nd(rank, nodes, inits, size=16, c=3):
    return model(nodes, inits, shape=(1, c) + (size,) * rank)


ND_CASES = [  # (id, rank, nodes+inits builder, expected rf, jump of the last row)
    (
        "conv1d_ncl",
        1,
        lambda: (
            [N("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[5], pads=[2, 2], strides=[2])],
            [weight("w", (4, 3, 5))],
        ),
        (5,),
        (2,),
    ),
    (
        "conv3d_ncdhw",
        3,
        lambda: (
            [N("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3, 3], pads=[1] * 6)],
            [weight("w", (4, 3, 3, 3, 3))],
        ),
        (3, 3, 3),
        (1, 1, 1),
    ),
    (
        "maxpool3d_ceil",
        3,
        lambda: ([N("MaxPool", ["x"], ["y"], name="p", kernel_shape=[3, 3, 3], strides=[2, 2, 2], ceil_mode=1)], []),
        (3, 3, 3),
        (2, 2, 2),
    ),
    (
        "convtranspose_pads_output_padding",
        2,
        lambda: (
            [
                N(
                    "ConvTranspose",
                    ["x", "w"],
                    ["y"],
                    name="up",
                    kernel_shape=[3, 3],
                    strides=[2, 2],
                    pads=[1, 1, 1, 1],
                    output_padding=[1, 1],
                )
            ],
            [weight("w", (3, 4, 3, 3))],
        ),
        None,
        None,
    ),
    (
        "convtranspose_output_shape",
        2,
        lambda: (
            [
                N(
                    "ConvTranspose",
                    ["x", "w"],
                    ["y"],
                    name="up",
                    kernel_shape=[4, 4],
                    strides=[2, 2],
                    output_shape=[32, 32],
                )
            ],
            [weight("w", (3, 4, 4, 4))],
        ),
        None,
        None,
    ),
    (
        "resize_nearest_scales",
        2,
        lambda: ([N("Resize", ["x", "", "sc"], ["y"], name="rs", mode="nearest")], [weight("sc", (4,))]),
        None,
        None,
    ),
    (
        "resize_linear_sizes",
        2,
        lambda: ([N("Resize", ["x", "", "", "sz"], ["y"], name="rs", mode="linear")], [ints("sz", [1, 3, 48, 48])]),
        None,
        None,
    ),
]


@pytest.mark.parametrize("case", ND_CASES, ids=[c[0] for c in ND_CASES])
def test_nd_ops_match_onnxruntime_shapes(case):
    _, rank, build, rf, jump = case
    nodes, inits = build()
    inits = [
        onnx.numpy_helper.from_array(__import__("numpy").array([1, 1, 2, 2], "float32"), "sc") if t.name == "sc" else t
        for t in inits
    ]
    proto = _nd(rank, nodes, inits)
    analysis = from_onnx(proto)
    assert_shapes_match_onnxruntime(proto, analysis)
    last = analysis.layers[-1]
    assert len(last.output_shape) == rank + 1
    if rf is not None:
        assert last.rf == rf and last.jump == jump


def test_upsampling_probe_matches_the_exact_field_of_the_probed_units():
    nodes = [
        N("Conv", ["x", "w"], ["h"], name="c", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        N("Resize", ["h", "", "sc"], ["y"], name="rs", mode="linear"),
    ]
    inits = [
        weight("w", (4, 3, 3, 3)),
        onnx.numpy_helper.from_array(__import__("numpy").array([1, 1, 2, 2], "float32"), "sc"),
    ]
    result = probe_onnx(model(nodes, inits))
    for p in result.layers:  # every phase of the x2 resize: its units' fields, rf and rf_min
        assert len(p.units) == max(p.phases) + 1, p.name
        assert list(p.spans) == [tuple(s) for s in p.analytic_spans], p.name
    assert result.agree


def test_public_names():
    import rfcalc
    from rfcalc.frameworks import torch as torch_adapter

    assert rfcalc.from_onnx is from_onnx and rfcalc.from_torch is torch_adapter.from_torch
