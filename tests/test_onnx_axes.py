"""Axis tracking in from_onnx: graphs built with onnx.helper for each rule (NHWC LayerNorm and Linear,
channel shuffle, Split / Concat, space-to-depth and depth-to-space, strided Slice and Gather, Reduce
over a radix axis or one spatial axis, attention over all tokens or within windows, rolls), each
checked against onnxruntime: every tensor's shape (onnx's shape inference, then onnxruntime's own,
written into the file so that from_onnx checks each), and the field of every output unit measured
by perturbing one input pixel at a time and seeing which outputs change."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxfix import ints, model  # noqa: E402

from rfcalc.errors import RFError, ShapeError, UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.onnx import display_names, from_onnx  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(1)


def w(name, dims):
    return numpy_helper.from_array(((RNG.random(dims) + 0.5) / np.prod(dims[1:] or (1,))).astype(np.float32), name)


def conv(name, x, y, c_in, c_out, k, **attrs):
    g = attrs.get("group", 1)
    return [N("Conv", [x, f"{name}.w"], [y], name=name, kernel_shape=[k, k], **attrs)], [
        w(f"{name}.w", (c_out, c_in // g, k, k))
    ]


def _with_all_shapes(proto):
    """The model with onnxruntime's shape of every tensor written as value_info (from_onnx checks them)."""
    names = [o for n in proto.graph.node for o in n.output if o]
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    del m.graph.output[:]
    m.graph.output.extend(helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in names)
    session = _session(m)
    x = np.zeros([d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim], np.float32)
    outs = session.run(None, {"x": x})
    out = onnx.ModelProto()
    out.CopyFrom(proto)
    for t, o in zip(names, outs):
        if t != proto.graph.output[0].name:
            elem = TensorProto.INT64 if o.dtype == np.int64 else TensorProto.FLOAT
            out.graph.value_info.append(helper.make_tensor_value_info(t, elem, list(o.shape)))
    return out


def _session(m):
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])


def measured_fields(proto):
    """Per output position (NCHW output), the (lo, hi) input rows and columns whose change changes it."""
    session = _session(proto)
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    x = RNG.random(dims).astype(np.float32)
    base = session.run(None, {"x": x})[0]
    h, w_ = dims[2:]
    seen = np.zeros(base.shape[2:] + (h, w_), bool)
    for i in range(h):
        for j in range(w_):
            x2 = x.copy()
            x2[0, :, i, j] += 1.0
            diff = np.abs(session.run(None, {"x": x2})[0] - base).sum(axis=(0, 1))
            seen[..., i, j] = diff > 1e-5 * (1 + np.abs(base).max())
    out = {}
    for u in np.ndindex(*base.shape[2:]):
        rows, cols = np.nonzero(seen[u])
        out[u] = ((rows.min(), rows.max()), (cols.min(), cols.max())) if rows.size else None
    return out


def check(nodes, inits, shape=(1, 3, 16, 16), exact=True, opset=17):
    """from_onnx of the graph checks every shape; the last row's fields against onnxruntime's."""
    proto = model(nodes, inits, shape=shape, opset=opset)
    analysis = from_onnx(_with_all_shapes(proto))
    row = analysis.layers[-1]
    h, w_ = shape[2:]
    for u, truth in measured_fields(proto).items():
        ours = row.field_of(u)
        clipped = tuple((max(lo, 0), min(hi, n - 1)) for (lo, hi), n in zip(ours, (h, w_)))
        if exact:
            assert clipped == truth, (row.name, u, ours, truth)
        else:  # an upper bound
            assert all(a <= c and d <= b for (a, b), (c, d) in zip(clipped, truth)), (u, ours, truth)
    return analysis


def nhwc(x, y, name):
    return N("Transpose", [x], [y], name=name, perm=[0, 2, 3, 1])


def nchw(x, y, name):
    return N("Transpose", [x], [y], name=name, perm=[0, 3, 1, 2])


def test_convnext_block_layernorm_and_linear_in_nhwc_keep_the_field():
    c = 8
    n0, i0 = conv("dw", "x", "h", 3, 3, 7, pads=[3, 3, 3, 3], group=3)
    n1, i1 = conv("pw", "h", "h1", 3, c, 1)
    nodes = (
        n0
        + n1
        + [
            nhwc("h1", "t", "to_nhwc"),
            N("LayerNormalization", ["t", "g", "b"], ["ln"], name="ln", axis=-1),
            N("MatMul", ["ln", "fc1"], ["f1"], name="fc1"),
            N("Tanh", ["f1"], ["f1g"], name="act"),
            N("MatMul", ["f1g", "fc2"], ["f2"], name="fc2"),
            N("Mul", ["f2", "gamma"], ["ls"], name="layerscale"),
            nchw("ls", "back", "to_nchw"),
            N("Add", ["back", "h1"], ["y"], name="add"),
        ]
    )
    inits = i0 + i1 + [w("g", (c,)), w("b", (c,)), w("fc1", (c, 4 * c)), w("fc2", (4 * c, c)), w("gamma", (c,))]
    a = check(nodes, inits, opset=18)
    assert a.row("ln").output_shape == (16, 16, 8) and a.row("fc1").output_shape == (16, 16, 32)
    assert a.layers[-1].rf == (7, 7)
    assert a.row("fc1").params == 8 * 32 and a.row("fc1").macs == 16 * 16 * 8 * 32


def test_channel_shuffle_keeps_the_field():
    n0, i0 = conv("a", "x", "h", 3, 8, 3, pads=[1, 1, 1, 1])
    n1, i1 = conv("b", "s", "y", 8, 8, 3, pads=[1, 1, 1, 1])
    nodes = (
        n0
        + [
            N("Reshape", ["h", "t5"], ["r"], name="groups"),
            N("Transpose", ["r"], ["tr"], name="shuffle", perm=[0, 2, 1, 3, 4]),
            N("Reshape", ["tr", "t4"], ["s"], name="back"),
        ]
        + n1
    )
    a = check(nodes, i0 + i1 + [ints("t5", [1, 2, 4, 16, 16]), ints("t4", [1, -1, 16, 16])])
    assert a.layers[-1].rf == (5, 5)


@pytest.mark.parametrize("form", ["attribute", "input", "num_outputs", "equal"])
def test_split_along_channels_then_concat_csp_style(form):
    n0, i0 = conv("a", "x", "h", 3, 8, 1)
    n1, i1 = conv("b", "p1", "q", 4, 4, 5, pads=[2, 2, 2, 2])
    opset = 13 if form in ("input", "equal") else 11 if form == "attribute" else 18
    extra = {"attribute": dict(split=[4, 4]), "num_outputs": dict(num_outputs=2)}.get(form, {})
    ins = ["h", "sizes"] if form == "input" else ["h"]
    nodes = (
        n0
        + [N("Split", ins, ["p0", "p1"], name="split", axis=1, **extra)]
        + n1
        + [N("Concat", ["p0", "q"], ["y"], name="cat", axis=1)]
    )
    a = check(nodes, i0 + i1 + ([ints("sizes", [4, 4])] if form == "input" else []), exact=False, opset=opset)
    assert a.row("split").output_shape == (16, 16, 4)
    assert a.layers[-1].rf == (5, 5) and a.layers[-1].rf_min == (1, 1)


def test_split_num_outputs_with_a_smaller_last_part():
    n0, i0 = conv("a", "x", "h", 3, 7, 1)
    nodes = n0 + [
        N("Split", ["h"], ["p0", "p1", "p2"], name="split", axis=1, num_outputs=3),
        N("Concat", ["p2", "p0"], ["y"], name="cat", axis=1),
    ]
    a = check(nodes, i0, opset=18)
    assert a.layers[-1].output_shape == (16, 16, 4)  # 3 + 3 + 1: the last part is the rest


def _s2d_reshape(x, y, c, n, b, tag):
    return [
        N("Reshape", [x, f"{tag}6"], [f"{tag}r"], name=f"{tag}.split"),
        N("Transpose", [f"{tag}r"], [f"{tag}t"], name=f"{tag}.move", perm=[0, 3, 5, 1, 2, 4]),
        N("Reshape", [f"{tag}t", f"{tag}4"], [y], name=f"{tag}.merge"),
    ], [ints(f"{tag}6", [1, c, n // b, b, n // b, b]), ints(f"{tag}4", [1, c * b * b, n // b, n // b])]


def test_space_to_depth_reshape_transpose_reshape_is_a_window_tresnet_stem():
    nodes, inits = _s2d_reshape("x", "s", 3, 16, 4, "s2d")
    n1, i1 = conv("c", "s", "y", 48, 8, 3, pads=[1, 1, 1, 1])
    a = check(nodes + n1, inits + i1)
    assert a.row("s2d.merge").rf == (4, 4) and a.row("s2d.merge").jump == (4, 4)
    assert a.layers[-1].rf == (12, 12) and a.layers[-1].jump == (4, 4)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space_op_upsamples_with_exact_phases(mode):
    n0, i0 = conv("a", "x", "h", 3, 16, 3, pads=[1, 1, 1, 1], strides=[2, 2])
    n1, i1 = conv("b", "d", "y", 4, 4, 3, pads=[1, 1, 1, 1])
    a = check(n0 + [N("DepthToSpace", ["h"], ["d"], name="d2s", blocksize=2, mode=mode)] + n1, i0 + i1)
    assert a.row("d2s").output_shape == (16, 16, 4) and a.row("d2s").jump == (1, 1)


def test_pixel_shuffle_and_unshuffle_spelled_as_reshapes():
    n0, i0 = conv("a", "x", "h", 3, 16, 3, pads=[1, 1, 1, 1], strides=[2, 2])
    ps = [
        N("Reshape", ["h", "ps6"], ["p1"], name="ps.split"),
        N("Transpose", ["p1"], ["p2"], name="ps.move", perm=[0, 1, 4, 2, 5, 3]),
        N("Reshape", ["p2", "ps4"], ["up"], name="ps.merge"),
    ]
    n1, i1 = conv("b", "up", "h2", 4, 4, 3, pads=[1, 1, 1, 1])
    un, ui = _s2d_reshape("h2", "y", 4, 16, 2, "un")
    check(n0 + ps + n1 + un, i0 + i1 + ui + [ints("ps6", [1, 4, 2, 2, 8, 8]), ints("ps4", [1, 4, 16, 16])])


def test_space_to_depth_op():
    n1, i1 = conv("c", "s", "y", 12, 4, 3)
    a = check([N("SpaceToDepth", ["x"], ["s"], name="s2d", blocksize=2)] + n1, i1)
    assert a.layers[-1].rf == (6, 6) and a.layers[-1].jump == (2, 2)


def test_strided_slice_and_gather_on_spatial_axes():
    n0, i0 = conv("a", "x", "h", 3, 4, 3, pads=[1, 1, 1, 1])
    nodes = n0 + [
        N("Slice", ["h", "st", "en", "ax", "sp"], ["s"], name="every_other"),
        N("Gather", ["s", "idx"], ["y"], name="pick", axis=2),
    ]
    inits = i0 + [
        ints("st", [1, 0]),
        ints("en", [16, 15]),
        ints("ax", [2, 3]),
        ints("sp", [2, 1]),
        ints("idx", [0, 2, 5]),
    ]
    a = check(nodes, inits)
    assert a.row("every_other").jump == (2, 1) and a.layers[-1].output_shape == (3, 15, 4)


def test_reduce_over_a_radix_axis_keeps_the_field_resnest():
    n0, i0 = conv("a", "x", "h", 3, 8, 3, pads=[1, 1, 1, 1])
    nodes = n0 + [
        N("Reshape", ["h", "t5"], ["r"], name="radix"),
        N("ReduceSum", ["r", "axes"], ["y0"], name="sum", keepdims=0),
        N("Softmax", ["y0"], ["y"], name="softmax_channels", axis=1),
    ]
    a = check(nodes, i0 + [ints("t5", [1, 2, 4, 16, 16]), ints("axes", [1])], opset=13)
    assert a.layers[-1].rf == (3, 3) and a.layers[-1].output_shape == (16, 16, 4)


def test_reduce_over_one_spatial_axis_then_broadcast_coordinate_attention():
    n0, i0 = conv("a", "x", "h", 3, 4, 3, pads=[1, 1, 1, 1])
    nodes = n0 + [
        N("ReduceMean", ["h"], ["m"], name="pool_w", axes=[3], keepdims=1),
        N("Mul", ["h", "m"], ["y"], name="gate"),
    ]
    a = check(nodes, i0)
    assert a.layers[-1].rf == (3, 18)  # the whole row, with the conv's padding


def _tokens(x, c, n):
    return [
        N("Reshape", [x, "tok3"], ["tk"], name="flatten"),
        N("Transpose", ["tk"], ["tokens"], name="tokens", perm=[0, 2, 1]),
    ], [ints("tok3", [1, c, n * n])]


def _attention(x, y, c, tag):
    """Single-head attention over the tokens axis (axis 1 of (B, T, C))."""
    return [
        N("MatMul", [x, f"{tag}.q"], [f"{tag}q"], name=f"{tag}.q"),
        N("MatMul", [x, f"{tag}.k"], [f"{tag}k"], name=f"{tag}.k"),
        N("MatMul", [x, f"{tag}.v"], [f"{tag}v"], name=f"{tag}.v"),
        N("Transpose", [f"{tag}k"], [f"{tag}kt"], name=f"{tag}.kt", perm=[0, 2, 1]),
        N("MatMul", [f"{tag}q", f"{tag}kt"], [f"{tag}s"], name=f"{tag}.scores"),
        N("Softmax", [f"{tag}s"], [f"{tag}p"], name=f"{tag}.softmax", axis=-1),
        N("MatMul", [f"{tag}p", f"{tag}v"], [y], name=f"{tag}.mix"),
    ], [w(f"{tag}.{k}", (c, c)) for k in "qkv"]


def test_attention_over_all_tokens_gives_the_whole_span_vit():
    c = 8
    n0, i0 = conv("patch", "x", "h", 3, c, 4, strides=[4, 4])
    tn, ti = _tokens("h", c, 4)
    an, ai = _attention("tokens", "o", c, "att")
    back = [
        N("Transpose", ["o"], ["ot"], name="untokens", perm=[0, 2, 1]),
        N("Reshape", ["ot", "img"], ["y"], name="image"),
    ]
    a = check(n0 + tn + an + back, i0 + ti + ai + [ints("img", [1, c, 4, 4])])
    assert a.row("att.softmax").rf == (16, 16) and a.row("att.softmax").jump == (0, 0)
    assert a.row("att.q").rf == (4, 4)


def test_window_attention_gives_exact_window_fields_swin():
    c, n, win = 4, 8, 4
    n0, i0 = conv("patch", "x", "h", 3, c, 2, strides=[2, 2])
    part = [
        nhwc("h", "hw", "nhwc"),
        N("Reshape", ["hw", "p6"], ["p"], name="part.split"),
        N("Transpose", ["p"], ["pt"], name="part.move", perm=[0, 1, 3, 2, 4, 5]),
        N("Reshape", ["pt", "p3"], ["win"], name="windows"),
    ]
    an, ai = _attention("win", "o", c, "att")
    rev = [
        N("Reshape", ["o", "r6"], ["r"], name="rev.split"),
        N("Transpose", ["r"], ["rt"], name="rev.move", perm=[0, 1, 3, 2, 4, 5]),
        N("Reshape", ["rt", "r4"], ["rw"], name="rev.merge"),
        nchw("rw", "y", "nchw"),
    ]
    inits = (
        i0
        + ai
        + [
            ints("p6", [1, n // win, win, n // win, win, c]),
            ints("p3", [(n // win) ** 2, win * win, c]),
            ints("r6", [1, n // win, n // win, win, win, c]),
            ints("r4", [1, n, n, c]),
        ]
    )
    a = check(n0 + part + an + rev, inits)
    assert a.layers[-1].rf == (8, 8) and a.layers[-1].jump == (2, 2)
    assert "bound" not in a.layers[-1].flags


def test_roll_as_slice_and_concat_is_exact_shifted_windows():
    n0, i0 = conv("a", "x", "h", 3, 4, 3, pads=[1, 1, 1, 1])
    nodes = n0 + [
        N("Slice", ["h", "s1", "e1", "ax"], ["tail"], name="tail"),
        N("Slice", ["h", "s0", "e0", "ax"], ["head"], name="head"),
        N("Concat", ["tail", "head"], ["y"], name="roll", axis=2),
    ]
    a = check(nodes, i0 + [ints("s1", [13]), ints("e1", [16]), ints("s0", [0]), ints("e0", [13]), ints("ax", [2])])
    assert a.layers[-1].field_of((0, 0))[0] == (12, 14)


def _vit(c, attention: bool):
    n0, i0 = conv("patch", "x", "h", 3, c, 4, strides=[4, 4])
    tn, ti = _tokens("h", c, 4)
    nodes = (
        n0
        + tn
        + [N("Concat", ["cls", "tokens"], ["t"], name="cls", axis=1), N("Add", ["t", "pos"], ["tp"], name="pos_embed")]
    )
    inits = (
        i0
        + ti
        + [
            w("cls", (1, 1, c)),
            w("pos", (1, 17, c)),
            ints("one", [1]),
            ints("big", [17]),
            ints("ax1", [1]),
            ints("img", [1, c, 4, 4]),
        ]
    )
    last = "tp"
    if attention:
        an, ai = _attention("tp", "o", c, "att")
        nodes, inits, last = nodes + an + [N("Add", ["o", "tp"], ["res"], name="residual")], inits + ai, "res"
    nodes += [
        N("Slice", [last, "one", "big", "ax1"], ["pos_only"], name="drop_cls"),
        N("Transpose", ["pos_only"], ["ct"], name="untokens", perm=[0, 2, 1]),
        N("Reshape", ["ct", "img"], ["y"], name="image"),
    ]
    return nodes, inits


def test_a_class_token_is_an_extra_entry_the_positions_keep_their_fields():
    a = check(*_vit(4, attention=False))
    assert "tokens" in a.row("cls").flags and a.row("cls").rf == (4, 4) and a.row("cls").output_shape == (4, 4, 4)
    assert a.layers[-1].rf == (4, 4)


def test_attention_with_a_class_token_reads_everything_and_the_token_reads_it_too():
    a = check(*_vit(4, attention=True))
    assert a.row("att.softmax").rf == (16, 16) and a.layers[-1].rf == (16, 16)
    nodes, inits = _vit(4, attention=True)
    nodes = nodes[:-3] + [N("Gather", ["res", "zero"], ["y"], name="take_cls", axis=1)]
    row = from_onnx(_with_all_shapes(model(nodes, inits + [ints("zero", 0)], shape=(1, 3, 16, 16)))).layers[-1]
    assert row.output_shape == (4,) and row.rf is None  # the class token: no position, every pixel behind it


HOSTILE = [
    (
        "bad_permutation",
        [N("Transpose", ["x"], ["y"], name="tp", perm=[0, 1, 1, 2])],
        [],
        ShapeError,
        r"'tp'.*permutation",
    ),
    (
        "reshape_changes_the_count",
        [N("Reshape", ["x", "t"], ["y"], name="rs")],
        [ints("t", [1, 3, 16, 17])],
        ShapeError,
        r"'rs'.*elements",
    ),
    (
        "target_of_10_to_the_12",
        [N("Reshape", ["x", "t"], ["y"], name="rs")],
        [ints("t", [1, 10**6, 10**6])],
        ShapeError,
        r"'rs'.*elements",
    ),
    (
        "unprovable_regrouping",
        [N("Reshape", ["x", "t"], ["r"], name="flat"), N("Reshape", ["r", "t2"], ["y"], name="odd")],
        [ints("t", [1, 3, 256]), ints("t2", [1, 3, 32, 8, 1])],
        None,
        None,
    ),
    (
        "window_op_on_nhwc",
        [nhwc("x", "t", "nhwc"), N("MaxPool", ["t"], ["y"], name="pool", kernel_shape=[2, 2])],
        [],
        UnsupportedLayerError,
        r"'pool' \(MaxPool\).*\(batch, H, W, channels \(3\)\)",
    ),
    (
        "split_sizes_do_not_add_up",
        [N("Split", ["x", "s"], ["a", "y"], name="sp", axis=1)],
        [ints("s", [1, 1])],
        ShapeError,
        r"'sp'.*splits axis 1",
    ),
]


@pytest.mark.parametrize("case", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_bad_axis_ops_are_one_clear_error_naming_the_node(case):
    _, nodes, inits, err, words = case
    proto = model(nodes, inits, shape=(1, 3, 16, 16))
    if err is None:  # a regrouping rfcalc can follow: it must then be exact (onnxruntime's shapes)
        from_onnx(proto)
        return
    with pytest.raises(err, match=words):
        from_onnx(proto)


def test_unprovable_regrouping_names_node_op_and_axes():
    nodes = [N("Reshape", ["x", "t"], ["r"], name="flat"), N("Reshape", ["r", "t2"], ["y"], name="odd")]
    proto = model(nodes, [ints("t", [1, 3, 12, 4]), ints("t2", [1, 3, 8, 6])], shape=(1, 3, 6, 8))
    with pytest.raises(UnsupportedLayerError, match=r"'odd' \(Reshape\) cannot be followed.*H"):
        from_onnx(proto)


def test_a_cyclic_graph_is_refused_not_a_hang():
    nodes = [
        N("Add", ["x", "b"], ["a"], name="one"),
        N("Relu", ["a"], ["b"], name="two"),
        N("Relu", ["a"], ["y"], name="out"),
    ]
    with pytest.raises(RFError, match="disconnected"):
        from_onnx(model(nodes, shape=(1, 3, 8, 8)))


def test_shape_of_an_activation_follows_its_layout():
    nodes = [
        nhwc("x", "t", "nhwc"),
        N("Shape", ["t"], ["s"], name="shape"),
        N("Reshape", ["t", "s"], ["r"], name="same"),
        nchw("r", "y", "back"),
    ]
    a = from_onnx(model(nodes, shape=(1, 3, 8, 10)))
    assert a.layers[-1].rf == (1, 1) and a.layers[-1].output_shape == (8, 10, 3)


def test_row_names_of_the_cases_are_the_node_names():
    n0, i0 = conv("a", "x", "y", 3, 4, 3)
    proto = model(n0, i0)
    assert display_names(proto.graph.node) == ["a"]


def test_the_onnxruntime_probe_measures_only_rows_of_image_tensors():
    from rfcalc.runs.onnx_probe import probe_onnx

    n0, i0 = conv("dw", "x", "h", 3, 3, 7, pads=[3, 3, 3, 3], group=3)
    nodes = n0 + [
        nhwc("h", "t", "to_nhwc"),
        N("MatMul", ["t", "fc"], ["f"], name="fc"),
        nchw("f", "back", "to_nchw"),
        N("Add", ["back", "back"], ["y"], name="add"),
    ]
    result = probe_onnx(model(nodes, i0 + [w("fc", (3, 8))], shape=(1, 3, 32, 32)))
    assert [p.name for p in result.layers] == ["dw", "to_nchw", "add"] and result.agree


def test_maps_of_other_sizes_joined_lose_their_positions_yolo_head():
    n0, i0 = conv("p3", "x", "a", 3, 4, 3, pads=[1, 1, 1, 1])
    n1, i1 = conv("p4", "x", "b", 3, 4, 3, pads=[1, 1, 1, 1], strides=[2, 2])
    nodes = (
        n0
        + n1
        + [
            N("Reshape", ["a", "fa"], ["ta"], name="flat3"),
            N("Reshape", ["b", "fb"], ["tb"], name="flat4"),
            N("Concat", ["ta", "tb"], ["t"], name="levels", axis=2),
            N("Reshape", ["t", "four"], ["r"], name="dfl_view"),
            N("Conv", ["r", "dfl.w"], ["y"], name="dfl", kernel_shape=[1, 1]),
        ]
    )
    inits = (
        i0
        + i1
        + [ints("fa", [1, 4, 256]), ints("fb", [1, 4, 64]), ints("four", [1, 4, 4, 80]), w("dfl.w", (1, 4, 1, 1))]
    )
    a = from_onnx(_with_all_shapes(model(nodes, inits, shape=(1, 3, 16, 16))))
    assert "tokens" in a.row("levels").flags and a.row("levels").rf is None
    assert a.row("dfl").output_shape == (4, 80, 1) and a.row("dfl").rf is None


def test_parts_with_other_fields_joined_along_a_spatial_axis_are_a_flagged_upper_bound():
    import json

    from rfcalc import explain
    from rfcalc.render import to_text

    n0, i0 = conv("a", "top", "ca", 3, 4, 3, pads=[1, 1, 1, 1])
    n1, i1 = conv("b", "bottom", "cb", 3, 4, 5, pads=[2, 2, 2, 2])
    nodes = (
        [
            N("Slice", ["x", "s0", "e0", "ax"], ["top"], name="top"),
            N("Slice", ["x", "s1", "e1", "ax"], ["bottom"], name="bottom"),
        ]
        + n0
        + n1
        + [N("Concat", ["ca", "cb"], ["j"], name="join", axis=2), N("Relu", ["j"], ["y"], name="after")]
    )
    inits = i0 + i1 + [ints("s0", [0]), ints("e0", [8]), ints("s1", [8]), ints("e1", [16]), ints("ax", [2])]
    a = check(nodes, inits, exact=False)
    assert "bound" in a.row("join").flags and "bound" in a.row("after").flags  # carried downstream
    assert a.row("join").rf == (5, 5)
    assert "bound" in json.dumps(a.to_dict()["layers"][-1]["flags"])
    assert "bound: an upper bound" in to_text(a, width=200) and "bound: an upper bound" in explain(a).text


@pytest.mark.parametrize("rows", [5, 6])
def test_an_upsampled_part_joined_along_a_spatial_axis_reads_no_unit_across_the_join(rows):
    """An odd total after a x2 upsample has no common jump: the units a later window reads past either
    end continue the end parts' own grids, not the far end of the joined axis (onnxruntime decides)."""
    floats = numpy_helper.from_array(np.array([1, 1, 2, 1], np.float32), "scales")
    n1, i1 = conv("after", "j", "y", 3, 4, 3, pads=[1, 1, 1, 1])
    nodes = [
        N("Slice", ["x", "s0", "e0", "ax"], ["top"], name="top"),
        N("Resize", ["top", "", "scales"], ["up"], name="up", mode="nearest"),
        N("Slice", ["x", "s1", "e1", "ax"], ["bottom"], name="bottom"),
        N("Concat", ["up", "bottom"], ["j"], name="join", axis=2),
        *n1,
    ]
    inits = [floats, ints("s0", [0]), ints("e0", [8]), ints("s1", [16 - rows]), ints("e1", [16]), ints("ax", [2])]
    check(nodes, inits + i1)
