"""Which stored tensors an ONNX file's parameter count takes (rfcalc/frameworks/onnx_params.py), on
hand-made graphs that spell what torch's exporters write; each expected count is the one torch gives
for the module the graph stands for (``sum(p.numel() for p in m.parameters())``, BatchNorm's running
statistics apart as non-trainable), worked out in the test's comment."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from rfcalc import from_onnx
from tests.onnxfix import ints, ort_shapes, weight

KIND = "pkg.torch.export.graph_signature.InputSpec.kind"
FOLDED_FROM = "pkg.onnxscript.optimizer.folded_from"
SIGNATURE = "pkg.torch.export.ExportedProgram.graph_signature"


def _info(name, dims, **meta):
    v = helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))
    for key, value in meta.items():
        entry = v.metadata_props.add()
        entry.key, entry.value = key, value
    return v


def _dynamo_like(kinds: dict, folded: dict | None = None, signature: str | None = None):
    """Module: conv (3 -> 8, 3x3, bias) -> BatchNorm2d(8) -> blur (a depthwise 3x3 whose filter is a
    registered buffer) -> x * 0.125 (a Python scalar: the exporter's constant) -> 1x1 conv (8 -> 4,
    no bias) whose weight the file stores folded (``w2``, no kind).

    torch: conv 8*3*3*3 + 8 = 224, BatchNorm 8 + 8 = 16, the 1x1 conv 4*8 = 32: 272 parameters; the
    running mean and variance 16 non-trainable; the blur filter (72) and the scalar are no parameters.
    """
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "g", "beta", "mean", "var"], ["n"]),
        helper.make_node("Conv", ["n", "filt"], ["blur"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Mul", ["blur", "scale"], ["m"]),
        helper.make_node("Conv", ["m", "w2"], ["y"]),
    ]
    inits = [
        weight("w", (8, 3, 3, 3)),
        weight("b", (8,)),
        weight("g", (8,)),
        weight("beta", (8,)),
        weight("mean", (8,)),
        weight("var", (8,), positive=True),
        weight("filt", (8, 1, 3, 3)),
        numpy_helper.from_array(np.asarray(0.125, np.float32), "scale"),
        weight("w2", (4, 8, 1, 1)),
    ]
    infos = [
        _info(
            t.name,
            t.dims,
            **({KIND: kinds[t.name]} if t.name in kinds else {}),
            **({FOLDED_FROM: folded[t.name]} if folded and t.name in folded else {}),
        )
        for t in inits
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
        value_info=infos,
    )
    if signature is not None:
        entry = graph.metadata_props.add()
        entry.key, entry.value = SIGNATURE, signature
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


TORCH_KINDS = {
    "w": "PARAMETER",
    "b": "PARAMETER",
    "g": "PARAMETER",
    "beta": "PARAMETER",
    "mean": "BUFFER",
    "var": "BUFFER",
    "filt": "BUFFER",
}


def test_a_file_with_torch_kinds_counts_parameters_not_buffers_nor_exporter_scalars():
    a = from_onnx(_dynamo_like(TORCH_KINDS))
    # torch: 272 parameters + 16 running statistics (the blur filter and the 0.125 scale are neither)
    assert (a.trainable_params, a.non_trainable_params) == (272, 16)
    assert [r.params for r in a.layers] == [224, 32, 0, 0, 32]
    assert a.output_shape == (16, 16, 4)
    assert ort_shapes(_dynamo_like(TORCH_KINDS), ["y"])["y"] == (1, 4, 16, 16)


def test_a_file_without_kinds_keeps_the_rule_for_legacy_exports():
    # no InputSpec kinds anywhere: every float initializer a layer reads is a weight (what a
    # dynamo=False export of the same module stores: there the blur filter and the scale come as
    # initializers too, and are counted: 272 + 72 + 1)
    a = from_onnx(_dynamo_like({}))
    assert (a.trainable_params, a.non_trainable_params) == (272 + 72 + 1, 16)


def test_a_kindless_tensor_counts_by_what_onnxscript_says_it_was_folded_from():
    sig = "\n# inputs\np_w: PARAMETER target='w'\np_conv2_weight: PARAMETER target='conv2.weight'\nx: USER_INPUT\n"
    # w2 folded from the module's conv2.weight: a parameter (272, as torch)
    a = from_onnx(_dynamo_like(TORCH_KINDS, {"w2": "['conv2.weight', 'val_3']"}, sig))
    assert a.trainable_params == 272
    # w2 folded from exporter values only (a constant the exporter made): not a parameter
    b = from_onnx(_dynamo_like(TORCH_KINDS, {"w2": "['val_3', 'val_4']"}, sig))
    assert b.trainable_params == 272 - 32
    # BN's running stats folded from buffers stay non-trainable statistics
    kinds = {k: v for k, v in TORCH_KINDS.items() if k not in ("mean", "var")}
    sig += "b_bn_running_mean: BUFFER target='bn.running_mean'\n"
    c = from_onnx(_dynamo_like(kinds, {"mean": "['bn.running_mean']"}, sig))
    assert c.non_trainable_params == 8 + 8  # mean (a buffer by folded_from), var (no record: a BN input)
    # folded from a buffer but read by a Conv (a blur filter the optimiser rewrote): no parameter
    d = from_onnx(_dynamo_like(TORCH_KINDS, {"w2": "['bn.running_mean']"}, sig))
    assert d.trainable_params == 272 - 32


@pytest.mark.parametrize("text", ["[[[", "{'a': 1}", "['ok', 3]", "x" * 5000, "__import__('os')"])
def test_a_malformed_folded_from_is_read_as_no_record(text):
    # one clear reading, never a traceback: w2 is then a kind-less weight a Conv reads (counted)
    a = from_onnx(_dynamo_like(TORCH_KINDS, {"w2": text}, "p_w: PARAMETER target='w'"))
    assert a.trainable_params == 272


def test_a_legacy_weight_standardisation_through_batchnorm_in_training_mode():
    """timm's ScaledStdConv2d as torch's dynamo=False exporter writes it: the weight reshaped to
    (1, out, -1), BatchNormalization in training mode (three outputs) with ``gain * scale`` as its
    scale and a Constant zero bias, reshaped back by a Shape of the weight. torch: weight 8*3*3*3 +
    gain 8 + bias 8 = 232 parameters."""
    zeros = helper.make_tensor("z", TensorProto.FLOAT, [8], [0.0] * 8)
    nodes = [
        helper.make_node("Reshape", ["w", "to3"], ["w3"]),
        helper.make_node("Mul", ["gain", "s"], ["gs"]),
        helper.make_node("Reshape", ["gs", "flat"], ["gs1"]),
        helper.make_node("Constant", [], ["zero"], value=zeros),
        helper.make_node("Transpose", ["w3"], ["wt"], perm=[0, 2, 1]),
        helper.make_node("ReduceMean", ["wt"], ["mu"], axes=[0, 1], keepdims=0),
        helper.make_node("ReduceMean", ["wt"], ["mu1"], axes=[0, 1], keepdims=1),
        helper.make_node("Sub", ["wt", "mu1"], ["d"]),
        helper.make_node("Mul", ["d", "d"], ["d2"]),
        helper.make_node("ReduceMean", ["d2"], ["var"], axes=[0, 1], keepdims=0),
        helper.make_node(
            "BatchNormalization",
            ["w3", "gs1", "zero", "mu", "var"],
            ["wn", "rm", "rv"],
            training_mode=1,
            momentum=1.0,
        ),
        helper.make_node("Shape", ["w"], ["wshape"]),
        helper.make_node("Reshape", ["wn", "wshape"], ["wstd"]),
        helper.make_node("Conv", ["x", "wstd", "b"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2]),
    ]
    inits = [
        weight("w", (8, 3, 3, 3)),
        weight("gain", (8, 1, 1, 1)),
        numpy_helper.from_array(np.asarray(27**-0.5, np.float32), "s"),
        ints("to3", [1, 8, -1]),
        ints("flat", [-1]),
        weight("b", (8,)),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    a = from_onnx(proto)
    conv = a.layers[-1]
    assert conv.rf == (3, 3) and conv.jump == (2, 2) and a.output_shape == (8, 8, 8)
    assert ort_shapes(proto, ["y"])["y"] == (1, 8, 8, 8)
    # 232 (the weight, gain and bias; the scalar 1/sqrt(27) is the file's too: this file records no
    # kinds, so it counts as a legacy export's float initializer does: + 1)
    assert a.total_params == 232 + 1
