"""The ONNX ERF (onnxruntime, central finite differences): exact on linear nets, inside the
theoretical field, equal to TensorFlow's gradient ERF of the same network, and bad input in one line."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import helper, numpy_helper  # noqa: E402
from onnxfix import model  # noqa: E402

from rfcalc import from_onnx  # noqa: E402
from rfcalc.errors import RFError  # noqa: E402
from rfcalc.runs import onnx_erf  # noqa: E402
from rfcalc.runs.effective_rf import erf  # noqa: E402
from rfcalc.runs.erf_result import ErfResult  # noqa: E402
from rfcalc.runs.onnx_erf import erf_onnx  # noqa: E402

N = helper.make_node
RNG = np.random.default_rng(7)


def w(name, dims, rng=RNG):
    return numpy_helper.from_array(rng.standard_normal(dims).astype(np.float32), name)


def conv(i, o, name, k=3, pad=1, stride=1, dil=1):
    return N(
        "Conv",
        [i, f"{name}.w", f"{name}.b"],
        [o],
        name=name,
        kernel_shape=[k, k],
        pads=[pad] * 4,
        strides=[stride] * 2,
        dilations=[dil] * 2,
    )


def stack(relu=True, cin=3, size=12, seed=0):
    """conv 3x3 (4 ch) -> [ReLU] -> conv 3x3 stride 2 (5 ch) -> [ReLU] -> conv 3x3 dilation 2 (2 ch); weights from ``seed``."""
    rng = np.random.default_rng(seed)
    nodes = [conv("x", "a", "c1")] + ([N("Relu", ["a"], ["ar"], name="r1")] if relu else [])
    nodes += [conv(nodes[-1].output[0], "b", "c2", stride=2)] + ([N("Relu", ["b"], ["br"], name="r2")] if relu else [])
    nodes += [conv(nodes[-1].output[0], "y", "c3", pad=2, dil=2)]
    inits = [
        w("c1.w", (4, cin, 3, 3), rng),
        w("c1.b", (4,), rng),
        w("c2.w", (5, 4, 3, 3), rng),
        w("c2.b", (5,), rng),
        w("c3.w", (2, 5, 3, 3), rng),
        w("c3.b", (2,), rng),
    ]
    return model(nodes, inits, shape=(1, cin, size, size))


def test_one_linear_conv_is_its_weights_summed_over_channels():
    kernel = RNG.standard_normal((2, 3, 3, 3)).astype(np.float32)
    m = model([conv("x", "y", "c")], [numpy_helper.from_array(kernel, "c.w"), w("c.b", (2,))], shape=(1, 3, 7, 7))
    r = erf_onnx(m, samples=2)
    assert isinstance(r, ErfResult) and r.unit == (3, 3) and r.rf == (3, 3)
    expect = np.zeros((7, 7))
    expect[2:5, 2:5] = np.abs(kernel.sum(axis=0)).sum(axis=0)  # d(sum over filters)/dx_c = sum_f w[f, c]
    np.testing.assert_allclose(r.heatmap, expect / expect.sum(), rtol=1e-4, atol=1e-6)


def test_linear_stack_equals_the_exact_composed_kernel():
    m = stack(relu=False)
    r = erf_onnx(m, samples=1)
    # exact answer: the gradient of a linear net is constant; push a one-hot through each input element
    import onnxruntime as ort

    s = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    zero = s.run(None, {"x": np.zeros((1, 3, 12, 12), np.float32)})[0]
    expect = np.zeros((12, 12))
    for c in range(3):
        for i in range(12):
            for j in range(12):
                x = np.zeros((1, 3, 12, 12), np.float32)
                x[0, c, i, j] = 1
                d = s.run(None, {"x": x})[0] - zero
                expect[i, j] += abs(d[0, :, r.unit[0], r.unit[1]].astype(np.float64).sum())
    np.testing.assert_allclose(r.heatmap, expect / expect.sum(), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("relu", [True, False], ids=["relu_stack", "linear_stack"])
def test_support_lies_inside_the_theoretical_field(relu):
    m = stack(relu=relu)
    r = erf_onnx(m, samples=3, field_only=False)  # every input element perturbed
    assert np.array_equal(r.heatmap, erf_onnx(m, samples=3).heatmap)  # the default perturbs only the field
    (r0, r1), (c0, c1) = from_onnx(m).row(r.layer).field_of(r.unit)
    outside = r.heatmap.copy()
    outside[max(r0, 0) : r1 + 1, max(c0, 0) : c1 + 1] = 0
    assert outside.max() == 0 and r.heatmap.sum() == pytest.approx(1)
    assert r.sides[0.99] <= max(r.rf) and r.layer == "c3"


def test_dispatch_from_erf_and_a_chosen_layer(tmp_path):
    path = tmp_path / "stack.onnx"
    onnx.save(stack(), str(path))
    r = erf(str(path), layer="c2", samples=2)
    assert r.layer == "c2" and r.target == "stack" and r.unit == (2, 2) and r.rf == (5, 5)
    assert "central differences" in r.source and r.heatmap.shape == (12, 12)


def _stripped():
    m = stack()
    for t in m.graph.initializer:
        t.ClearField("raw_data")
        t.ClearField("float_data")
    return m


BAD = [
    ("too_large", dict(input_shape=(64, 64, 3), samples=32, field_only=False), "try fewer samples, a smaller --input"),
    ("too_many_samples_in_the_field", dict(input_shape=(64, 64, 3), samples=1000), "needs 1,014,000 forward runs"),
    ("no_weights", {}, "carries no weights"),
    ("flatten_layer", dict(layer="f"), "has no spatial output"),
    ("unknown_layer", dict(layer="nope"), "no layer named 'nope'"),
    ("zero_samples", dict(samples=0), "samples must be a positive integer"),
    ("bad_seed", dict(seed=-1), "seed must be an integer"),
]


@pytest.mark.parametrize("build, kwargs, message", BAD, ids=[case[0] for case in BAD])
def test_bad_input_is_one_line(build, kwargs, message):
    if build == "no_weights":
        m = _stripped()
    elif build == "flatten_layer":
        m = model(
            [conv("x", "a", "c"), N("Flatten", ["a"], ["y"], name="f")],
            [w("c.w", (2, 3, 3, 3)), w("c.b", (2,))],
            shape=(1, 3, 8, 8),
        )
    elif build.startswith("too_"):
        m = stack()
        m.graph.input[0].type.tensor_type.shape.dim[2].dim_param = "H"
        m.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "W"
    else:
        m = stack()
    with pytest.raises(RFError) as err:
        erf_onnx(m, **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_cost_is_bounded_before_any_run(monkeypatch):
    monkeypatch.setattr(onnx_erf, "_session", lambda *a: pytest.fail("ran past the bound"), raising=False)
    with pytest.raises(RFError, match="forward runs"):
        erf_onnx(stack(size=12), samples=onnx_erf.MAX_ROWS)


@pytest.mark.tf
def test_equals_tensorflow_gradient_erf_of_the_same_network():
    from rfcalc.runs.probe_model import _keras

    keras, _ = _keras()
    m = stack()
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    inp = keras.Input((12, 12, 3))
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inp)
    b = keras.layers.ZeroPadding2D(1)(a)
    b = keras.layers.Conv2D(5, 3, strides=2, activation="relu", name="c2")(b)
    y = keras.layers.Conv2D(2, 3, padding="same", dilation_rate=2, name="c3")(b)
    k = keras.Model(inp, y)
    for name in ("c1", "c2", "c3"):
        k.get_layer(name).set_weights([inits[f"{name}.w"].transpose(2, 3, 1, 0), inits[f"{name}.b"]])
    theirs = erf(k, layer="c3", samples=8, seed=3)
    ours = erf(m, layer="c3", samples=8, seed=3)
    assert ours.unit == theirs.unit and ours.rf == theirs.rf
    assert np.abs(ours.heatmap - theirs.heatmap).sum() < 0.01  # of a total mass of 1
    np.testing.assert_allclose(
        ours.heatmap, theirs.heatmap, atol=5e-2 * theirs.heatmap.max()
    )  # a ReLU within h of 0 is averaged over its kink
    assert ours.sides == theirs.sides


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "{m}", "--erf", "-o", "{out}"],
        ["probe", "{m}", "--erf", "--samples", "2", "--json"],
    ],
    ids=["report", "probe"],
)
def test_cli_erf_of_an_onnx_model_runs_without_tensorflow(tmp_path, argv):
    import json
    import os
    import subprocess
    import sys

    path, out = tmp_path / "stack.onnx", tmp_path / "r.html"
    onnx.save(stack(), str(path))
    args = [a.format(m=path, out=out) for a in argv]
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None; "
        f"from rfcalc.cli import main; sys.exit(main({args!r}))"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    if argv[0] == "report":
        html = out.read_text()
        assert 'id="erf-image-0"' in html and "wrote" in proc.stderr
    else:
        data = json.loads(proc.stdout)
        assert data["layer"] == "c3" and data["rf"] == [13, 13] and data["samples"] == 2


@pytest.mark.parametrize("rank", [1, 3], ids=["signal_1d", "volume_3d"])
def test_other_ranks_one_linear_conv_is_its_weights(rank):
    kernel = RNG.standard_normal((2, 2) + (3,) * rank).astype(np.float32)
    node = N("Conv", ["x", "c.w"], ["y"], name="c", kernel_shape=[3] * rank, pads=[1] * 2 * rank)
    m = model([node], [numpy_helper.from_array(kernel, "c.w")], shape=(1, 2) + (5,) * rank)
    r = erf_onnx(m, samples=1)
    expect = np.zeros((5,) * rank)
    expect[(slice(1, 4),) * rank] = np.abs(kernel.sum(axis=0)).sum(axis=0)
    assert r.unit == (2,) * rank and r.rf == (3,) * rank and r.sides[0.99] == 3
    np.testing.assert_allclose(r.heatmap, expect / expect.sum(), rtol=1e-4, atol=1e-6)
