"""onnx_wire (rfcalc's own protobuf reader) against onnx's parser, and on damaged bytes."""

from __future__ import annotations

import pathlib
import random

import pytest

onnx = pytest.importorskip("onnx")

from onnx import helper  # noqa: E402

from rfcalc.errors import RFError  # noqa: E402
from rfcalc.frameworks import onnx_wire as wire  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx  # noqa: E402

FIXTURES = sorted((pathlib.Path(__file__).parent / "fixtures" / "onnx").glob("*.onnx"))


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_wire_reader_sees_what_onnx_sees(path):
    theirs, ours = onnx.load(path, load_external_data=False), wire.parse(path.read_bytes())
    assert ours.ir_version == theirs.ir_version
    assert ours.opsets == {o.domain: o.version for o in theirs.opset_import}
    assert len(ours.graph.node) == len(theirs.graph.node)
    for a, b in zip(ours.graph.node, theirs.graph.node):
        assert (a.name, a.op_type, a.domain, a.input, a.output) == (
            b.name,
            b.op_type,
            b.domain,
            tuple(b.input),
            tuple(b.output),
        )
        attrs = {x.name: helper.get_attribute_value(x) for x in b.attribute}
        for key, value in a.attrs.items():
            if isinstance(value, wire.Tensor):
                assert value.dims == tuple(attrs[key].dims)
            elif isinstance(value, float):
                assert value == pytest.approx(attrs[key])
            else:
                assert value == (attrs[key].decode() if isinstance(attrs[key], bytes) else attrs[key])
    assert [(t.name, t.dims, t.data_type) for t in ours.graph.initializer] == [
        (t.name, tuple(t.dims), t.data_type) for t in theirs.graph.initializer
    ]
    for vi, ref in zip(ours.graph.input, theirs.graph.input):
        assert vi.dims == tuple(d.dim_value or None for d in ref.type.tensor_type.shape.dim)


def test_small_integer_constants_are_decoded():
    t = onnx.numpy_helper.from_array(__import__("numpy").array([1, -1, 7], "int64"), "shape")
    node = helper.make_node("Constant", [], ["c"], value=t)
    graph = helper.make_graph([node], "g", [], [helper.make_tensor_value_info("c", onnx.TensorProto.INT64, [3])])
    model = wire.parse(helper.make_model(graph).SerializeToString())
    assert model.graph.node[0].attrs["value"].value == (1, -1, 7)


def test_damaged_bytes_fail_as_rferror():
    data = bytearray((FIXTURES[0]).read_bytes())
    rng = random.Random(0)
    for _ in range(200):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        cut = bad[: rng.randrange(len(bad))] if rng.random() < 0.5 else bad
        try:
            from_onnx(bytes(cut))
        except RFError:
            pass  # damaged bytes may also decode to another valid-looking model; never another exception
