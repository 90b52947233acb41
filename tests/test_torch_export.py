"""from_torch's export routes (rfcalc/frameworks/torch_export.py): the small size-free trace reads as
the trace at the real size; a trace that holds its size, or an op written only for a fixed size,
takes the real size; a module the TorchScript exporter refuses goes through torch.export. Tier
``torch``: skipped when torch is not importable."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from rfcalc.errors import RFError  # noqa: E402
from rfcalc.frameworks import torch_export as E  # noqa: E402
from rfcalc.frameworks.onnx import from_onnx  # noqa: E402
from rfcalc.frameworks.torch import from_torch  # noqa: E402

pytestmark = pytest.mark.torch


def _x(shape):
    return torch.zeros(1, shape[-1], *shape[:-1])


def _json(analysis, stored=True) -> str:
    d = analysis.to_dict()
    if not stored:  # the exporter stores equal tensors once (zero biases, unit scales): its count is its own
        d.pop("stored_params", None)
    return json.dumps(d, sort_keys=True, default=str)


class Mixed(nn.Module):
    """Strides, ceil-mode and 'same' pools, a dilated branch, a Reshape built from shapes, an x2
    upsampling and a concat: what makes the graph compute sizes."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(3, 8, 7, stride=2, padding=3), nn.BatchNorm2d(8)
        self.p1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.c2 = nn.Conv2d(8, 8, 3, padding="same", dilation=2)
        self.c3 = nn.Conv2d(16, 4, 3, stride=2, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x):
        h = self.p1(F.relu(self.bn(self.c1(x))))
        h = torch.cat([h, self.c2(h)], 1)
        h = self.up(self.c3(h))
        n, c, height, width = h.shape
        return h.reshape(n, c, height * width).reshape(n, c, height, width)


def _resnet18():
    torchvision = pytest.importorskip("torchvision")
    return torchvision.models.resnet18(weights=None)


@pytest.mark.parametrize("shape", [(96, 96, 3), (101, 77, 3), (224, 224, 3)])
@pytest.mark.parametrize("build", [Mixed, _resnet18], ids=["mixed", "resnet18"])
def test_the_small_dynamic_export_reads_as_the_static_one(build, shape):
    m = build().eval()
    static = E.legacy(m, _x(shape), dynamic=False)
    small = E.legacy(m, _x((E.SMALL, E.SMALL, 3)), dynamic=True)
    assert b"s2" in small and b"s3" in small  # its spatial axes are symbolic (dim_param s2, s3)
    assert _json(from_onnx(small, input_shape=shape)) == _json(from_onnx(static))
    assert _json(from_onnx(E.export(m, shape, capture=False), input_shape=shape)) == _json(from_onnx(static))
    # route 0 (rfcalc's own capture) reads as the static export, and stores each tensor of the module once
    assert E.export_route(m, shape)[0] == 0
    a = from_torch(m, shape, cache=False)
    assert _json(a, stored=False) == _json(from_onnx(static), stored=False)
    assert a.stored_params == sum(p.numel() for p in m.parameters()) + a.non_trainable_params


class SizeInPython(nn.Module):
    """Pads by a size turned into a Python int: a trace at another size would hold the wrong pad."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)

    def forward(self, x):
        extra = int(x.shape[-1]) % 2
        return self.conv(F.pad(x, (0, extra, 0, extra)))


class AdaptiveTwo(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.pool = nn.Conv2d(3, 4, 3, stride=4), nn.AdaptiveAvgPool2d(2)

    def forward(self, x):
        return self.pool(self.conv(x))


@pytest.mark.parametrize("build", [SizeInPython, AdaptiveTwo])
@pytest.mark.parametrize("shape", [(97, 97, 3), (98, 98, 3)])
def test_a_trace_that_would_hold_its_size_takes_the_real_one(build, shape, capfd):
    m = build().eval()
    with pytest.raises(Exception):  # noqa: B017 (a TracerWarning raised, or the exporter's refusal)
        E.legacy(m, _x((E.SMALL, E.SMALL, 3)), dynamic=True)
    got = _json(from_torch(m, shape, cache=False))
    out, err = capfd.readouterr()
    assert out == "" and "graph" not in err  # the refused shortcut says nothing (torch prints its graph)
    assert got == _json(from_onnx(E.legacy(m, _x(shape), dynamic=False)))


class NoTrace(nn.Module):
    """A module the TorchScript tracer cannot export (as smp's PSPNet: an adaptive pool to a size that
    is not a factor of its input's); torch.export can."""

    def __init__(self):
        super().__init__()
        self.c1, self.bn, self.c2 = nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3)

    def forward(self, x):
        if torch.jit.is_tracing():
            raise RuntimeError("this module refuses the TorchScript tracer")
        return self.c2(F.relu(self.bn(self.c1(x))))


class NoTraceNoBias(NoTrace):
    """As NoTrace, its convs without bias (torch.export writes them an all-zero bias of its own)."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 4, 3, stride=2, bias=False), nn.Conv2d(4, 4, 3, bias=False)


@pytest.fixture
def no_capture(monkeypatch):
    """Route 0 (rfcalc's own capture) declines: the exporter's routes decide, as before it."""
    from rfcalc.frameworks import torch_capture

    def decline(*args):
        raise torch_capture.Cannot("declined by the test")

    monkeypatch.setattr(torch_capture, "capture", decline)


def test_the_zero_bias_torch_export_adds_to_a_conv_without_one_is_not_counted(no_capture):
    pytest.importorskip("onnxscript")
    m = NoTraceNoBias()
    a = from_torch(m, (16, 16, 3))
    assert a.trainable_params == sum(p.numel() for p in m.parameters()) == 108 + 8 + 144
    assert [r.params for r in a.layers if r.name in ("c1", "c2")] == [108, 144]


class Neither(NoTrace):
    def forward(self, x):
        if torch.jit.is_tracing() or torch.compiler.is_exporting():
            raise RuntimeError("no export of any kind")
        return self.c1(x)


def test_a_module_the_tracer_refuses_is_read_through_torch_export(capfd, no_capture):
    pytest.importorskip("onnxscript")
    m = NoTrace()
    a = from_torch(m, (16, 16, 3))
    assert [(r.name, r.rf) for r in a.layers if r.params] == [("c1", (3, 3)), ("bn", (3, 3)), ("c2", (7, 7))]
    assert a.total_params == sum(t.numel() for t in (*m.parameters(), *m.buffers()) if t.is_floating_point())
    assert a.trainable_params == sum(p.numel() for p in m.parameters())
    assert a.layers[-1].output_shape == tuple(m(torch.zeros(1, 3, 16, 16)).permute(0, 2, 3, 1).shape[1:])
    out, err = capfd.readouterr()
    assert out == "" and "torch.export" not in err  # nothing said on success


def test_a_module_both_exporters_refuse_is_one_line_naming_both(no_capture):
    pytest.importorskip("onnxscript")
    with pytest.raises(RFError) as info:
        from_torch(Neither(), (16, 16, 3))
    text = str(info.value)
    assert "\n" not in text and "\x1b" not in text
    assert "dynamo=False) said: no export of any kind" in text and "(dynamo=True) said: no export of any kind" in text


@pytest.mark.parametrize(
    "build, shape",
    [
        (
            lambda: nn.Sequential(nn.Conv1d(2, 4, 5, 2, 2), nn.MaxPool1d(3, 2, ceil_mode=True), nn.Conv1d(4, 4, 3)),
            (201, 2),
        ),
        (lambda: nn.Sequential(nn.Conv3d(1, 2, 3, padding=1, stride=2), nn.AvgPool3d(2)), (70, 81, 66, 1)),
    ],
    ids=["1d", "3d"],
)
def test_signals_and_volumes_read_the_same_through_the_small_export(build, shape):
    m = build().eval()
    static = _json(from_onnx(E.legacy(m, _x(shape), dynamic=False)))
    small = E.legacy(m, _x((E.SMALL,) * (len(shape) - 1) + (shape[-1],)), dynamic=True)
    assert _json(from_onnx(small, input_shape=shape)) == static == _json(from_torch(m, shape, cache=False))
