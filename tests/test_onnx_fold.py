"""Side computations folded exactly, computed weights, and parameters counted per reading layer.

Oracles: onnxruntime evaluates the same small integer graphs (and gives every row's shape);
parameter counts are the sizes of the initializers each graph was built with.
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
ort = pytest.importorskip("onnxruntime")
sys.path.insert(0, str(pathlib.Path(__file__).parent))

from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.helper import make_node as N  # noqa: E402
from onnxfix import assert_shapes_match_onnxruntime, ints, model, weight  # noqa: E402

from rfcalc.errors import RFError, ShapeError, UnsupportedLayerError  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx  # noqa: E402
from rfcalc.frameworks.onnx_fold import Folded, fold  # noqa: E402
from rfcalc.frameworks.onnx_wire import Tensor  # noqa: E402
from rfcalc.render import to_text  # noqa: E402

I64, F32 = TensorProto.INT64, TensorProto.FLOAT


def _ort(op, arrays, attrs, opset=19):
    """onnxruntime's output of one op on constant inputs (fed as graph inputs)."""
    names = [f"i{k}" for k in range(len(arrays))]
    kinds = {np.dtype("int64"): I64, np.dtype("float32"): F32, np.dtype("bool"): TensorProto.BOOL}
    g = helper.make_graph(
        [N(op, names, ["y"], **attrs)],
        "g",
        [helper.make_tensor_value_info(n, kinds[a.dtype], list(a.shape)) for n, a in zip(names, arrays)],
        [onnx.ValueInfoProto(name="y")],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 9
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(
        None, dict(zip(names, arrays))
    )[0]


def _folded(a):
    dtype = {np.dtype("int64"): 7, np.dtype("float32"): 1, np.dtype("bool"): 9}[a.dtype]
    values = tuple(int(v) if dtype != 1 else float(v) for v in a.reshape(-1).tolist())
    return Folded(tuple(a.shape), values, dtype=dtype)


A = np.array
CASES = [  # (op, inputs, attrs): small integer side graphs as exporters write them
    ("Gather", [A([1, 64, 7, 9]), A([2, 3])], {"axis": 0}),
    ("Gather", [A([[1, 2, 3], [4, 5, 6]]), A([-1])], {"axis": 1}),
    ("Slice", [A([1, 64, 7, 9]), A([-2]), A([9223372036854775807]), A([0]), A([1])], {}),
    ("Slice", [A([1, 64, 7, 9, 5]), A([3]), A([0]), A([0]), A([-2])], {}),
    ("Concat", [A([1, 2]), A([3]), A([-1, 7])], {"axis": 0}),
    ("Div", [A([7, -7, 9]), A([2, 2, -4])], {}),
    ("Mod", [A([7, -7, 9]), A([3, 3, -4])], {}),
    ("Mod", [A([7, -7, 9]), A([3, 3, -4])], {"fmod": 1}),
    ("Sub", [A([[10], [20]]), A([1, 2, 3])], {}),
    ("Max", [A([3, -1, 5]), A([0])], {}),
    ("Min", [A([3, -1, 5]), A([2, 2, 2]), A([4])], {}),
    ("Neg", [A([3, -1])], {}),
    ("Equal", [A([1, 2, 3]), A([2])], {}),
    ("Less", [A([1, 2, 3]), A([2])], {}),
    ("Where", [A([True, False, True]), A([1, 2, 3]), A([-1])], {}),
    ("Not", [A([True, False])], {}),
    ("Range", [A(2), A(11), A(3)], {}),
    ("Range", [A(10), A(1), A(-4)], {}),
    ("Expand", [A([[1], [2]]), A([2, 3])], {}),
    ("ConstantOfShape", [A([2, 3])], {"value": A([7])}),
    ("Transpose", [A([[1, 2, 3], [4, 5, 6]])], {"perm": [1, 0]}),
    ("Reshape", [A([1, 2, 3, 4, 5, 6]), A([3, -1])], {}),
    ("Unsqueeze", [A([5, 6]), A([0])], {}),
    ("Squeeze", [A([[5, 6]]), A([0])], {}),
    ("Cast", [A([1.7, -1.7, 2.5], "float32")], {"to": I64}),
    ("Floor", [A([1.5, -1.5], "float32")], {}),
    ("Ceil", [A([1.5, -1.5], "float32")], {}),
    ("Mul", [A([7.0, 9.0], "float32"), A([2.5], "float32")], {}),
    ("Clip", [A([-3, 4, 9]), A(0), A(5)], {}),
    ("Shape", [A([[1, 2, 3], [4, 5, 6]])], {"start": -1}),
    ("Size", [A([[1, 2, 3], [4, 5, 6]])], {}),
    ("ReduceProd", [A([2, 3, 4]), A([0])], {"keepdims": 0}),
    ("Tile", [A([1, 2]), A([3])], {}),
]


@pytest.mark.parametrize("op,arrays,attrs", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_side_computations_equal_onnxruntime(op, arrays, attrs):
    arrays = [a.astype("int64") if a.dtype.kind == "i" else a for a in arrays]
    if "value" in attrs:  # a tensor attribute: onnx's TensorProto for onnxruntime, onnx_wire's Tensor for rfcalc
        value = attrs["value"].astype("int64")
        theirs = _ort(op, arrays, {"value": numpy_helper.from_array(value)})
        attrs = {"value": Tensor("v", value.shape, 7, tuple(value.tolist()))}
    else:
        theirs = _ort(op, arrays, attrs)
    ours = fold(op, [_folded(a) for a in arrays], attrs)
    assert ours.dims == tuple(theirs.shape)
    assert list(ours.value) == theirs.reshape(-1).tolist()


def _same_pad_graph(h, w, k=3, s=2):
    """timm's TF-'same' padding: pads computed from Shape(x) at run time, then Pad, then a 'valid' conv."""
    nodes = [
        N("Shape", ["x"], ["shp"]),
        N("Slice", ["shp", "two", "four"], ["hw"]),
        N("Cast", ["hw"], ["hwf"], to=F32),
        N("Div", ["hwf", "sf"], ["q"]),
        N("Ceil", ["q"], ["cq"]),
        N("Cast", ["cq"], ["c"], to=I64),
        N("Sub", ["c", "one"], ["c1"]),
        N("Mul", ["c1", "s"], ["c2"]),
        N("Add", ["c2", "k"], ["c3"]),
        N("Sub", ["c3", "hw"], ["c4"]),
        N("Max", ["c4", "zero"], ["total"]),
        N("Div", ["total", "two"], ["before"]),
        N("Sub", ["total", "before"], ["after"]),
        N("Concat", ["zeros2", "before", "zeros2", "after"], ["pads"], axis=0),
        N("Pad", ["x", "pads"], ["xp"], name="pad"),
        N("Conv", ["xp", "w"], ["y"], name="conv", kernel_shape=[k, k], strides=[s, s]),
    ]
    inits = [
        ints("two", [2]),
        ints("four", [4]),
        ints("one", [1]),
        ints("s", [s]),
        ints("k", [k]),
        ints("zero", [0]),
        ints("zeros2", [0, 0]),
        numpy_helper.from_array(np.array([s], np.float32), "sf"),
        weight("w", (8, 3, k, k)),
    ]
    return model(nodes, inits, shape=(1, 3, h, w))


@pytest.mark.parametrize("h,w,k,s", [(15, 16, 3, 2), (224, 224, 3, 2), (7, 9, 5, 3), (8, 8, 1, 2)])
def test_tf_same_pads_computed_at_run_time_are_read(h, w, k, s):
    proto = _same_pad_graph(h, w, k, s)
    a = from_onnx(proto)
    assert_shapes_match_onnxruntime(proto, a)
    pad = a.row("pad").padding
    for n, (b, e) in zip((h, w), pad):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        assert (b, e) == (total // 2, total - total // 2)
    assert a.layers[-1].output_shape[:2] == (-(-h // s), -(-w // s))


def test_resize_sizes_computed_from_shapes():
    nodes = [
        N("Shape", ["x"], ["shp"]),
        N("Gather", ["shp", "idx"], ["hw"], axis=0),
        N("Cast", ["hw"], ["f"], to=F32),
        N("Mul", ["f", "scale"], ["g"]),
        N("Floor", ["g"], ["fl"]),
        N("Cast", ["fl"], ["sz2"], to=I64),
        N("Concat", ["nc", "sz2"], ["sz"], axis=0),
        N(
            "Resize",
            ["x", "", "", "sz"],
            ["y"],
            name="rs",
            mode="linear",
            coordinate_transformation_mode="align_corners",
        ),
    ]
    inits = [ints("idx", [2, 3]), ints("nc", [1, 3]), numpy_helper.from_array(np.array([2.5], np.float32), "scale")]
    proto = model(nodes, inits, shape=(1, 3, 13, 10), opset=19)
    a = from_onnx(proto)
    assert_shapes_match_onnxruntime(proto, a)
    assert a.layers[-1].output_shape == (32, 25, 3)


HOSTILE = [  # (id, nodes, inits, error, words): one clear error naming the node, never a hang
    (
        "a 10^12-element ConstantOfShape",
        [N("ConstantOfShape", ["big"], ["c"], name="huge"), N("Add", ["x", "c"], ["y"])],
        [ints("big", [1000000, 1000000])],
        ShapeError,
        "huge.*1,000,000,000,000",
    ),
    (
        "a 10^12-element Range",
        [N("Range", ["z", "lim", "d"], ["r"], name="rng"), N("Reshape", ["x", "r"], ["y"])],
        [ints("z", 0), ints("lim", 10**12), ints("d", 1)],
        ShapeError,
        "rng",
    ),
    (
        "a 10^12-element Expand",
        [N("Expand", ["one", "big"], ["e"], name="ex"), N("Add", ["x", "e"], ["y"])],
        [ints("one", [1]), ints("big", [1000000, 1000000])],
        ShapeError,
        "ex",
    ),
    (
        "a Gather index out of range",
        [N("Shape", ["x"], ["s"]), N("Gather", ["s", "i"], ["g"], name="gat"), N("Reshape", ["x", "g"], ["y"])],
        [ints("i", [7])],
        ShapeError,
        "gat.*index 7",
    ),
    (
        "a Reshape of an integer tensor that changes the count",
        [N("Shape", ["x"], ["s"]), N("Reshape", ["s", "t"], ["r"], name="rsh"), N("Reshape", ["x", "r"], ["y"])],
        [ints("t", [3, 2])],
        ShapeError,
        "rsh.*element count",
    ),
    (
        "a Transpose with a bad permutation",
        [
            N("Shape", ["x"], ["s"]),
            N("Unsqueeze", ["s", "zero"], ["u"]),
            N("Transpose", ["u"], ["t"], name="tr", perm=[0, 0]),
            N("Reshape", ["x", "t"], ["y"]),
        ],
        [ints("zero", [0])],
        ShapeError,
        "tr.*perm",
    ),
    (
        "an int64 overflow",
        [N("Mul", ["big", "big"], ["m"], name="mul"), N("Reshape", ["x", "m"], ["y"])],
        [ints("big", [2**40])],
        ShapeError,
        "mul.*int64",
    ),
    (
        "an integer division by zero",
        [N("Shape", ["x"], ["s"]), N("Div", ["s", "zero"], ["d"], name="div"), N("Reshape", ["x", "d"], ["y"])],
        [ints("zero", [0])],
        ShapeError,
        "div.*by zero",
    ),
    (
        "a cyclic integer subgraph",
        [
            N("Add", ["b", "one"], ["a"], name="cyc_a"),
            N("Add", ["a", "one"], ["b"], name="cyc_b"),
            N("Reshape", ["x", "a"], ["y"]),
        ],
        [ints("one", [1])],
        RFError,
        "disconnected",
    ),
]


@pytest.mark.parametrize("what,nodes,inits,error,words", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_malformed_side_computations_are_one_clear_error(what, nodes, inits, error, words):
    with pytest.raises(error, match=words):
        from_onnx(model(nodes, inits, shape=(1, 3, 8, 8)))


def _standardised(with_value_info=True, unknown_op=False):
    """NF-ResNet's weight standardisation: w -> ReduceMean -> Sub -> Mul/ReduceMean -> Sqrt -> Div -> * gain -> Conv."""
    nodes = [
        N("ReduceMean", ["w"], ["mu"], axes=[1, 2, 3], keepdims=1),
        N("Sub", ["w", "mu"], ["d"]),
        N("Mul", ["d", "d"], ["d2"]),
        N("ReduceMean", ["d2"], ["var"], axes=[1, 2, 3], keepdims=1),
        N("Add", ["var", "eps"], ["ve"]),
        N("Sqrt", ["ve"], ["sd"]),
        N("Div", ["d", "sd"], ["ws"]),
        N(
            "Einsum" if unknown_op else "Mul",
            ["ws", "gain"],
            ["wk"],
            **({"equation": "oihw,oihw->oihw"} if unknown_op else {}),
        ),
        N("Conv", ["x", "wk", "b"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ]
    inits = [
        weight("w", (16, 3, 3, 3)),
        weight("gain", (16, 1, 1, 1)),
        weight("b", (16,)),
        numpy_helper.from_array(np.array(1e-5, np.float32), "eps"),
    ]
    proto = model(nodes, inits, shape=(1, 3, 16, 16))
    if with_value_info:
        proto.graph.value_info.append(helper.make_tensor_value_info("wk", F32, [16, 3, 3, 3]))
    return proto


def test_a_weight_computed_at_run_time_is_sized_through_its_chain_and_counts_what_is_behind_it():
    proto = _standardised(with_value_info=False)
    a = from_onnx(proto)
    assert_shapes_match_onnxruntime(proto, a)
    conv = a.row("conv")
    assert conv.rf == (3, 3) and conv.output_shape == (16, 16, 16)
    assert conv.params == 16 * 3 * 9 + 16 + 16 + 1  # w, gain, bias, and eps (a stored float it reads)


def test_a_computed_weight_rfcalc_cannot_size_reads_the_files_shape_or_is_refused_by_name():
    a = from_onnx(_standardised(with_value_info=True, unknown_op=True))
    assert a.row("conv").output_shape == (16, 16, 16)
    with pytest.raises(UnsupportedLayerError, match="'conv'.*computed at run time"):
        from_onnx(_standardised(with_value_info=False, unknown_op=True))


def _two_convs(shared_name):
    """Two convs; their zero biases are one stored tensor, behind Identity aliases or read by name."""
    if shared_name:
        nodes = [
            N("Conv", ["x", "w", "b"], ["h"], name="c1", kernel_shape=[3, 3], pads=[1] * 4),
            N("Conv", ["h", "w", "b"], ["y"], name="c2", kernel_shape=[3, 3], pads=[1] * 4),
        ]
        inits = [weight("w", (3, 3, 3, 3)), numpy_helper.from_array(np.zeros(3, np.float32), "b")]
    else:
        nodes = [
            N("Identity", ["b"], ["b1"]),
            N("Identity", ["b"], ["b2"]),
            N("Conv", ["x", "w1", "b1"], ["h"], name="c1", kernel_shape=[3, 3], pads=[1] * 4),
            N("Conv", ["h", "w2", "b2"], ["y"], name="c2", kernel_shape=[3, 3], pads=[1] * 4),
        ]
        inits = [
            weight("w1", (3, 3, 3, 3)),
            weight("w2", (3, 3, 3, 3)),
            numpy_helper.from_array(np.zeros(3, np.float32), "b"),
        ]
    return model(nodes, inits, shape=(1, 3, 8, 8))


def test_a_deduplicated_zero_bias_behind_identity_aliases_counts_for_each_conv():
    a = from_onnx(_two_convs(shared_name=False))
    assert [r.params for r in a.layers] == [84, 84]  # each conv as the network has it: 81 weights + 3 biases
    assert a.total_params == 168 and a.stored_params == 165  # the file stores the zero bias once
    d = a.to_dict()
    assert d["total_params"] == 168 and d["stored_params"] == 165
    assert "Stored params: 165" in to_text(a)
    json.dumps(d)


def test_weights_truly_shared_by_name_count_per_layer_and_the_stored_count_says_once():
    a = from_onnx(_two_convs(shared_name=True))
    assert [r.params for r in a.layers] == [84, 84] and a.total_params == 168 and a.stored_params == 84
    assert a.to_dict()["stored_params"] == 84 and "Stored params: 84" in to_text(a)


def test_no_stored_line_when_every_layer_has_its_own_tensors():
    a = from_onnx(model([N("Conv", ["x", "w"], ["y"], name="c", kernel_shape=[3, 3])], [weight("w", (4, 3, 3, 3))]))
    assert a.stored_params == a.total_params == 108
    assert "stored_params" not in a.to_dict() and "Stored params" not in to_text(a)


def test_a_conv_whose_weight_is_an_activation_is_refused_by_name():
    nodes = [
        N("Conv", ["x", "w"], ["h"], name="c1", kernel_shape=[1, 1]),
        N("Reshape", ["h", "t"], ["k"], name="as_kernel"),
        N("Conv", ["x", "k"], ["y"], name="dyn", kernel_shape=[3, 3]),
    ]
    with pytest.raises(UnsupportedLayerError, match="'dyn'.*dynamic"):
        from_onnx(model(nodes, [weight("w", (27, 3, 1, 1)), ints("t", [3, 3, 3, 3])], shape=(1, 3, 1, 3)))


def test_legacy_weight_standardisation_counts_the_weight_once_not_its_statistics():
    """PyTorch's dynamo=False export of timm's ScaledStdConv2d: BatchNormalization over the reshaped
    weight, whose mean and variance are ReduceMeans of a second stored copy of the same weight."""
    nodes = [
        N("ReduceMean", ["w_copy"], ["mu"], axes=[0, 1], keepdims=0),
        N("Sub", ["w_copy", "mu1"], ["d"]),
        N("ReduceMean", ["w_copy"], ["mu1"], axes=[0, 1], keepdims=1),
        N("Mul", ["d", "d"], ["d2"]),
        N("ReduceMean", ["d2"], ["var"], axes=[0, 1], keepdims=0),
        N("Constant", [], ["zeros"], value=numpy_helper.from_array(np.zeros(16, np.float32))),
        N("BatchNormalization", ["w_flat", "gain", "zeros", "mu", "var"], ["ws"], epsilon=1e-5),
        N("Reshape", ["ws", "shape"], ["wk"]),
        N("Conv", ["x", "wk", "b"], ["y"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    ]
    inits = [
        weight("w_flat", (1, 16, 27)),
        weight("w_copy", (1, 27, 16)),
        weight("gain", (16,)),
        weight("b", (16,)),
        ints("shape", [16, 3, 3, 3]),
    ]
    a = from_onnx(model(nodes, inits, shape=(1, 3, 8, 8)))
    conv = a.row("conv")
    assert conv.output_shape == (8, 8, 16) and conv.rf == (3, 3)
    assert conv.params == 16 * 27 + 16 + 16  # the weight, the gain, the bias: as torch's parameters() counts


FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "onnx_fold"


def test_pytorch_legacy_pads_computed_at_run_time():
    """F.pad exported with dynamo=False (make_pads.py): causal 1-D padding with a dynamic length, reflect 2-D."""
    causal = from_onnx(str(FIXTURES / "causal_pad_legacy.onnx"), input_shape=(32, 2))
    assert [(r.kind, r.padding) for r in causal.layers] == [("Pad", ((4, 0),)), ("Conv", ((0, 0),))]
    assert causal.rf == (5,) and causal.start == (-2,) and causal.output_shape == (32, 4)
    reflect = from_onnx(str(FIXTURES / "reflect_pad_legacy.onnx"))
    pad = reflect.layers[0]
    assert pad.padding == ((1, 1), (2, 0)) and "reflect" in pad.flags and reflect.output_shape == (16, 16, 4)
    assert_shapes_match_onnxruntime(onnx.load(str(FIXTURES / "reflect_pad_legacy.onnx")), reflect)


def test_values_read_through_many_identity_aliases_are_checked_once_and_read_the_same(monkeypatch):
    """A legacy torch export reads equal BatchNorm vectors through Identity aliases (200 in an untrained
    ResNet-50): the aliased values are made exact once per tensor; the analysis is that of aliases checked
    one by one (the reader before), and each BatchNorm counts its four vectors (torch's own count)."""
    from rfcalc.frameworks import onnx_fold

    c, n = 64, 12
    inits = [weight("w", (c, 3, 3, 3)), numpy_helper.from_array(np.linspace(0.5, 1.5, c, dtype=np.float32), "v")]
    nodes, x = [N("Conv", ["x", "w"], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], "h"
    for k in range(n):
        names = [f"a{k}_{j}" for j in range(4)]
        nodes += [N("Identity", ["v"], [a]) for a in names]
        nodes.append(N("BatchNormalization", [x, *names], [f"b{k}"]))
        x = f"b{k}"
    proto = model(nodes, inits)
    calls = []
    real = onnx_fold.I.checked
    monkeypatch.setattr(onnx_fold.I, "checked", lambda v, d: calls.append(len(v)) or real(v, d))
    fast = from_onnx(proto)
    assert calls == [c]  # one tensor behind 4 * n aliases
    monkeypatch.setattr(onnx_fold, "_alias", lambda aliases, value, dtype: real(value, dtype))
    slow = from_onnx(proto)
    assert json.dumps(fast.to_dict(), default=str) == json.dumps(slow.to_dict(), default=str)
    assert [r.params for r in fast.layers if r.name.startswith("b")] == [4 * c] * n
