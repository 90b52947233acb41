"""GatherND and Where through axis roles, against onnxruntime itself.

Each graph (onnx.helper) runs in onnxruntime once per input pixel on a one-hot input; the pixels
whose one-hot reaches an output element are what that element reads. rfcalc's field of every output
unit must be exactly that set (clipped to the input: rfcalc counts padding positions) where rfcalc
says it is exact, and contain it where rfcalc flags ``bound``. The graphs: the decomposition torch's
dynamo exporter writes for ``adaptive_avg_pool2d`` to sizes that do not divide the input (PSPNet's
pyramid: Transpose, GatherND of window index vectors, Transpose, Where over the padded taps, Gather
and Add, or ReduceMean), random separable and joint picks, ``batch_dims``, channel picks; then
hostile indices, each one RFError naming the node.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from rfcalc.errors import RFError  # noqa: E402
from rfcalc.frameworks import gathernd as ND  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(16)


def ints(name, values):
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def floats(name, values):
    return numpy_helper.from_array(np.asarray(values, np.float32), name)


def _model(nodes, inits, h, w, opset=20, conv=False):
    """x (1, 1, h, w) [-> 3x3 conv, pads 1] -> nodes (reading "a", ending in "y")."""
    pre, more = [], []
    if conv:
        pre = [N("Conv", ["x", "cw"], ["a"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
        more = [floats("cw", np.full((1, 1, 3, 3), 1 / 9))]
    else:
        pre = [N("Identity", ["x"], ["a"], name="in")]
    graph = helper.make_graph(
        pre + nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=more + list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _reads(m, h, w):
    """Per output unit (its spatial coordinates, NCHW output), the input pixels whose one-hot reaches it."""
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    reads: dict = {}
    for i, j in itertools.product(range(h), range(w)):
        x = np.zeros((1, 1, h, w), np.float32)
        x[0, 0, i, j] = 1.0
        y = session.run(None, {"x": x})[0]
        for u in np.ndindex(*y.shape[2:]):
            reads.setdefault(u, set())
            if np.abs(y[(slice(None), slice(None), *u)]).max() > 1e-6:
                reads[u].add((i, j))
    return reads


def _check(m, h, w, exact=True, identity=()):
    """rfcalc's last row against onnxruntime, unit by unit; returns the row."""
    row = from_onnx(m, identity=identity).layers[-1]
    reads = _reads(m, h, w)
    assert tuple(d + 1 for d in max(reads)) == row.output_shape[:-1]
    assert ("bound" in row.flags) == (not exact), row.flags
    for u, truth in reads.items():
        (h0, h1), (w0, w1) = row.field_of(u)
        ours = set(itertools.product(range(max(h0, 0), min(h1, h - 1) + 1), range(max(w0, 0), min(w1, w - 1) + 1)))
        if exact:
            assert ours == truth, (u, row.field_of(u), sorted(truth))
        else:
            assert truth <= ours, (u, row.field_of(u), sorted(truth))
    return row


def _windows(n, o, pad_with=None):
    """adaptive pooling n -> o as torch decomposes it: per bin its taps, padded to one length
    (repeating the last tap, or ``pad_with``), and which taps are padding."""
    starts = [i * n // o for i in range(o)]
    ends = [-(-(i + 1) * n // o) for i in range(o)]
    length = max(e - s for s, e in zip(starts, ends))
    taps = [
        [s + t if s + t < e else (e - 1 if pad_with is None else pad_with) for t in range(length)]
        for s, e in zip(starts, ends)
    ]
    pads = [[s + t >= e for t in range(length)] for s, e in zip(starts, ends)]
    return np.array(taps), np.array(pads), length


def _pool_graph(h, w, oh, ow, style, pad_with=None):
    """The dynamo decomposition of adaptive_avg_pool2d (h, w) -> (oh, ow)."""
    th, mh, lh = _windows(h, oh, pad_with)
    tw, mw, lw = _windows(w, ow, pad_with)
    idx = np.zeros((oh, lh, ow, lw, 2), np.int64)
    idx[..., 0] = th[:, :, None, None]
    idx[..., 1] = tw[None, None, :, :]
    nodes = [
        N("Transpose", ["a"], ["t"], name="to_hwnc", perm=[2, 3, 0, 1]),
        N("GatherND", ["t", "idx"], ["g"], name="gnd", batch_dims=0),
        N("Transpose", ["g"], ["win"], name="to_nc", perm=[4, 5, 0, 1, 2, 3]),
    ]
    inits = [ints("idx", idx)]
    if style == "mean":
        nodes.append(N("ReduceMean", ["win", "ax"], ["y"], name="mean", keepdims=0))
        inits.append(ints("ax", [-3, -1]))
        return nodes, inits
    nodes += [
        N("Where", ["mh", "zero", "win"], ["m1"], name="mask_h"),
        N("Where", ["mw", "zero", "m1"], ["m2"], name="mask_w"),
    ]
    inits += [
        numpy_helper.from_array(mh[:, :, None, None], "mh"),
        numpy_helper.from_array(mw, "mw"),
        floats("zero", 0.0),
    ]
    total = None
    for b in range(lh):
        nodes.append(N("Gather", ["m2", f"i{b}"], [f"r{b}"], name=f"row{b}", axis=3))
        for d in range(lw):
            out = f"s{b}_{d}"
            nodes.append(N("Gather", [f"r{b}", f"i{d}"], [out], name=f"col{b}_{d}", axis=4))
            if total is not None:
                nodes.append(N("Add", [total, out], [f"sum{b}_{d}"], name=f"add{b}_{d}"))
                out = f"sum{b}_{d}"
            total = out
    inits += [ints(f"i{n}", n) for n in range(max(lh, lw))]
    count = (~mh).sum(1)[:, None] * (~mw).sum(1)[None, :]
    nodes.append(N("Div", [total, "count"], ["y"], name="div"))
    inits.append(floats("count", count))
    return nodes, inits


@pytest.mark.parametrize("style", ["sum", "mean"])
@pytest.mark.parametrize("h,w,oh,ow", [(8, 8, 3, 3), (8, 8, 6, 6), (7, 5, 3, 2), (6, 9, 4, 5)])
@pytest.mark.parametrize("conv", [False, True])
def test_adaptive_pooling_decomposed_reads_every_window_exactly(h, w, oh, ow, style, conv):
    nodes, inits = _pool_graph(h, w, oh, ow, style)
    row = _check(_model(nodes, inits, h, w, conv=conv), h, w)
    assert row.output_shape == (oh, ow, 1)


def test_masked_taps_outside_the_window_read_nothing():
    """Pad every window with pixel 0 and mask it: the field must leave pixel 0 out (the mask is exact)."""
    nodes, inits = _pool_graph(8, 8, 3, 3, "sum", pad_with=0)
    _check(_model(nodes, inits, 8, 8), 8, 8)


def _picks_graph(idx, perm_in, perm_out, batch_dims=0, reshape=None):
    nodes = [
        N("Transpose", ["a"], ["t"], name="to", perm=perm_in),
        N("GatherND", ["t", "idx"], ["g"], name="gnd", batch_dims=batch_dims),
        N("Transpose", ["g"], ["y" if reshape is None else "b"], name="back", perm=perm_out),
    ]
    inits = [ints("idx", idx)]
    if reshape is not None:
        nodes.append(N("Reshape", ["b", "shape"], ["y"], name="flat"))
        inits.append(ints("shape", reshape))
    return nodes, inits


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("conv", [False, True])
def test_random_separable_picks_with_repeats_and_negatives_are_exact(seed, conv):
    rng = np.random.default_rng(seed)
    h, w = 6, 7
    a, b, c, d = rng.integers(1, 4, 4)
    rows = rng.integers(-h, h, (a, b))  # negative indices count from the end, as ONNX says
    cols = rng.integers(-w, w, (c, d))
    idx = np.zeros((a, b, c, d, 2), np.int64)
    idx[..., 0], idx[..., 1] = rows[:, :, None, None], cols[None, None]
    nodes, inits = _picks_graph(idx, [2, 3, 0, 1], [4, 5, 0, 1, 2, 3], reshape=[0, 0, int(a * b), int(c * d)])
    _check(_model(nodes, inits, h, w, conv=conv), h, w)


@pytest.mark.parametrize("seed", range(4))
def test_points_picked_jointly_are_an_upper_bound_never_smaller(seed):
    """Index vectors listing (h, w) points: one index axis moves both spatial axes at once."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    idx = np.stack([rng.integers(0, 5, k), rng.integers(0, 6, k)], 1)
    nodes, inits = _picks_graph(idx, [2, 3, 0, 1], [1, 2, 0], reshape=[0, 0, k, 1])
    row = _check(_model(nodes, inits, 5, 6, conv=True), 5, 6, exact=False)
    assert row.output_shape == (k, 1, 1)


def test_batch_dims_picks_within_each_batch_entry():
    idx = np.zeros((1, 3, 2, 2), np.int64)
    idx[0, :, :, 0] = [[4], [0], [2]]
    idx[0, :, :, 1] = [[1, 3]]
    nodes, inits = _picks_graph(idx, [0, 2, 3, 1], [0, 3, 1, 2], batch_dims=1)
    _check(_model(nodes, inits, 5, 4, conv=True), 5, 4)


def test_rows_picked_by_one_coordinate_keep_the_columns():
    idx = np.array([[3], [1], [1], [4]])
    nodes, inits = _picks_graph(idx, [2, 0, 1, 3], [1, 2, 0, 3])
    _check(_model(nodes, inits, 5, 4, conv=True), 5, 4)


def test_a_channel_pick_keeps_the_field():
    nodes = [
        N("Conv", ["a", "c3"], ["b"], name="widen", kernel_shape=[1, 1]),
        N("Transpose", ["b"], ["t"], name="to", perm=[1, 0, 2, 3]),
        N("GatherND", ["t", "idx"], ["g"], name="gnd"),
        N("Transpose", ["g"], ["y"], name="back", perm=[1, 0, 2, 3]),
    ]
    inits = [floats("c3", np.ones((3, 1, 1, 1))), ints("idx", [[2], [0]])]
    row = _check(_model(nodes, inits, 4, 4, conv=True), 4, 4)
    assert row.output_shape == (4, 4, 2)


def test_a_mask_along_both_axes_is_an_upper_bound():
    mask = (np.add.outer(np.arange(4), np.arange(5)) % 2).astype(bool)[None, None]
    nodes = [N("Where", ["m", "zero", "a"], ["y"], name="checker")]
    inits = [numpy_helper.from_array(mask, "m"), floats("zero", 0.0)]
    _check(_model(nodes, inits, 4, 5, conv=True), 4, 5, exact=False)


def test_a_mask_along_one_axis_is_exact():
    mask = np.array([True, False, False, True, False])[None, None, None]
    nodes = [N("Where", ["m", "a", "zero"], ["y"], name="cols")]
    inits = [numpy_helper.from_array(mask, "m"), floats("zero", 0.0)]
    _check(_model(nodes, inits, 4, 5, conv=True), 4, 5)


def test_a_computed_mask_is_an_upper_bound():
    """(Greater is read as identity here: the mask it makes is an activation.)"""
    nodes = [
        N("Greater", ["a", "half"], ["m"], name="gt"),
        N("Where", ["m", "a", "zero"], ["y"], name="relu_like"),
    ]
    inits = [floats("half", 0.5), floats("zero", 0.0)]
    _check(_model(nodes, inits, 4, 4, conv=True), 4, 4, exact=False, identity=("gt",))


@pytest.mark.parametrize("batch_dims", [0, 1])
def test_folded_gathernd_takes_what_onnxruntime_takes(batch_dims):
    data = RNG.integers(-50, 50, (2, 3, 4)).astype(np.int64)
    idx = np.array([[[1, -1], [0, 2]], [[2, 0], [-3, 3]]]) if batch_dims else np.array([[[1, 2], [-2, 0]]])
    out_dims, coords = ND.picks(data.shape, idx.shape, idx.ravel().tolist(), batch_dims)
    ours = ND.take(data.shape, data.ravel().tolist(), idx.shape, coords, batch_dims)
    graph = helper.make_graph(
        [N("GatherND", ["d", "i"], ["y"], batch_dims=batch_dims)],
        "g",
        [],
        [helper.make_tensor_value_info("y", TensorProto.INT64, None)],
        initializer=[ints("d", data), ints("i", idx)],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    theirs = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {})[0]
    assert out_dims == theirs.shape and list(ours) == theirs.ravel().tolist()


def test_a_shape_picked_by_gathernd_feeds_a_reshape():
    """An integer side graph with a GatherND (the (N, C) of a shape) is folded exactly."""
    nodes = [
        N("Shape", ["a"], ["s"], name="shape"),
        N("GatherND", ["s", "nc"], ["g"], name="nc_of"),
        N("Concat", ["g", "minus1"], ["target"], name="target", axis=0),
        N("Reshape", ["a", "target"], ["r"], name="tokens"),
        N("Reshape", ["r", "back"], ["y"], name="image"),
    ]
    inits = [ints("nc", [[0], [1]]), ints("minus1", [-1]), ints("back", [1, 1, 4, 6])]
    _check(_model(nodes, inits, 4, 6, conv=True), 4, 6)


def _stripped(name, dims):
    """A float initializer with dims and no data (as the zoo's files store weights)."""
    t = onnx.TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    return t


def _hostile(idx, batch_dims=0, perm=(2, 3, 0, 1), idx_node=None, extra=()):
    nodes = [N("Transpose", ["a"], ["t"], name="to", perm=list(perm))]
    inits = list(extra)
    if idx_node is None:
        inits.append(ints("idx", idx))
    else:
        nodes += idx_node
    nodes.append(N("GatherND", ["t", "idx"], ["y"], name="the_gather", batch_dims=batch_dims))
    return _model(nodes, inits, 4, 4)


HOSTILE = [
    ("an index past its axis", dict(idx=[[0, 4]]), "index 4 is outside axis 1 of size 4"),
    ("an index below minus the axis", dict(idx=[[-5, 0]]), "index -5 is outside axis 0"),
    ("batch_dims beyond the rank", dict(idx=[[0, 0]], batch_dims=4), "batch_dims=4"),
    ("batch_dims negative", dict(idx=[[0, 0]], batch_dims=-1), "batch_dims=-1"),
    ("batch axes that differ", dict(idx=[[[0], [1]]], batch_dims=1), "batch axes differ"),
    ("index vectors too long", dict(idx=[[0, 0, 0, 0, 0]]), "index vectors of 5 entries"),
    ("no index vectors", dict(idx=np.zeros((0, 2), np.int64)), "picks nothing"),
    (
        "indices from an activation",
        dict(
            idx=None,
            idx_node=[N("Cast", ["a"], ["c"], name="c", to=7), N("Reshape", ["c", "s2"], ["idx"], name="r")],
            extra=[ints("s2", [8, 2])],
        ),
        "takes its indices from an activation",
    ),
    (
        "indices computed from a float without data",
        dict(
            idx=None, idx_node=[N("Cast", ["stripped"], ["idx"], name="c", to=7)], extra=[_stripped("stripped", [3, 2])]
        ),
        "cannot fold",
    ),
    (
        "indices too many to fold",
        dict(
            idx=None,
            idx_node=[N("Expand", ["one", "big"], ["idx"], name="e")],
            extra=[ints("one", [[0, 0]]), ints("big", [300, 300, 2])],
        ),
        "cannot fold",
    ),
]


@pytest.mark.parametrize("case,kw,message", HOSTILE, ids=[c[0] for c in HOSTILE])
def test_hostile_indices_give_one_clear_error_naming_the_node(case, kw, message):
    m = _hostile(**kw)
    with pytest.raises(RFError) as err:
        from_onnx(m)
    text = str(err.value)
    assert "the_gather" in text and "GatherND" in text and message in text, text
    assert len(text.splitlines()) == 1


def test_the_pspnet_fixture_reads_its_pyramid():
    """The zoo's PSPNet: the 3-bin and 6-bin branches read exact windows of the 8x8 map."""
    import pathlib

    path = pathlib.Path(__file__).parent / "fixtures" / "zoo" / "pspnet_resnet18.dynamo.onnx"
    a = from_onnx(path)
    mean6 = a.row("node_mean_1")
    assert mean6.output_shape == (6, 6, 128) and "bound" not in mean6.flags
    bins3 = a.row("node_div_4")
    assert bins3.output_shape == (3, 3, 128) and "bound" not in bins3.flags
    # the 6 bins of 8 map units: windows 0-1, 1-2, 2-3, 4-5, 5-6, 6-7 (a map unit is 8 pixels)
    units = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7)]
    layer2 = a.row("node_relu_8")
    for u, (lo, hi) in enumerate(units):
        assert mean6.field_of((u, 0))[0] == (layer2.field_of((lo, 0))[0][0], layer2.field_of((hi, 0))[0][1])
    a.row(a.layers[-1].name).field_of((0, 0))


def _pool_file(tmp_path, location="tables.data"):
    nodes, inits = _pool_graph(8, 8, 3, 3, "mean")
    m = _model(nodes, inits, 8, 8, conv=True)
    path = tmp_path / "pool.onnx"
    inline = onnx.ModelProto()
    inline.CopyFrom(m)  # save_model moves the data of the proto it saves out to the file
    onnx.save_model(m, str(path), save_as_external_data=True, location=location, size_threshold=0)
    return inline, path


def test_index_tables_in_an_external_data_file_are_read(tmp_path):
    """torch writes tables past ~1 KB beside the model (PSPNet at 512 pixels): read from the model's folder."""
    m, path = _pool_file(tmp_path)
    assert (tmp_path / "tables.data").exists()
    ours, inline = from_onnx(path).layers[-1], from_onnx(m).layers[-1]
    assert [ours.field_of((u, u)) for u in range(3)] == [inline.field_of((u, u)) for u in range(3)]


def test_an_external_location_outside_the_folder_is_never_read(tmp_path):
    inner = tmp_path / "inner"
    inner.mkdir()
    _, path = _pool_file(tmp_path)
    proto = onnx.load(str(path), load_external_data=False)
    for t in proto.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../tables.data"
    onnx.save_model(proto, str(inner / "pool.onnx"))
    with pytest.raises(RFError, match="'gnd' \\(GatherND\\).*cannot fold"):
        from_onnx(inner / "pool.onnx")
