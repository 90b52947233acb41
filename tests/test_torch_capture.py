"""from_torch's route 0 (rfcalc/frameworks/torch_capture.py): the forward recorded and written as ONNX by
rfcalc. Oracles: torch's own TorchScript export of the same module at the real size (route 2, read by
the same reader: every row's field, shape and parameters must be the same), torch's output shapes and
parameter counts. Modules route 0 cannot prove go to the exporter and read as it does. Tier ``torch``."""

from __future__ import annotations

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


def _rows(a):
    return {r.name: (r.rf, r.jump, r.start, r.output_shape, r.params) for r in a.layers if r.rf is not None}


LAYERS = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "Resize", "Pad", "DepthToSpace", "Concat", "Gemm"}
LAYERS |= {"BatchNormalization", "LayerNormalization", "GlobalAveragePool"}


def _layers(a):
    return sorted(
        (r.kind, r.rf, r.jump, r.start, r.output_shape, r.params) for r in a.layers if r.kind in LAYERS and r.rf
    )


def _same_as_the_exporter(m, shape):
    """Route 0 taken; every row both readings name agrees, and the totals, with torch's own export."""
    m = m.eval()
    route, data = E.export_route(m, shape)
    assert route == 0
    ours = from_onnx(data, input_shape=shape)
    theirs = from_onnx(E.legacy(m, _x(shape), dynamic=False))
    a, b = _rows(ours), _rows(theirs)
    paths = {p for p, _ in m.named_modules() if p}  # rows named by module path (functional ops' names are numbered
    shared = {n for n in a.keys() & b.keys() if n.split("/")[0] in paths or n.rsplit("_", 1)[0] in paths}  # apart)
    assert {n: a[n] for n in shared} == {n: b[n] for n in shared}
    assert _layers(ours) == _layers(theirs)  # every layer with a window, a resize, a pad or weights, by name or not
    assert (ours.rf, ours.jump, ours.start, ours.output_shape) == (
        theirs.rf,
        theirs.jump,
        theirs.start,
        theirs.output_shape,
    )
    assert (ours.trainable_params, ours.non_trainable_params) == (theirs.trainable_params, theirs.non_trainable_params)
    assert ours.stored_params == sum(p.numel() for p in m.parameters()) + ours.non_trainable_params  # each once
    with torch.no_grad():
        out = m(_x(shape))
    want = tuple(out.shape[2:]) + (out.shape[1],) if out.dim() > 2 else tuple(out.shape[1:])
    assert tuple(ours.output_shape) == want
    return ours


class Block(nn.Module):
    """One of each windowed layer and merge, with in-place ops on fresh tensors."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 4, stride=2, padding="valid", dilation=1)
        self.c2 = nn.Conv2d(8, 8, 4, padding="same", groups=2, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.p1 = nn.MaxPool2d(3, 2, padding=1, ceil_mode=True)
        self.p2 = nn.AvgPool2d(3, 2, padding=1, count_include_pad=False, ceil_mode=True)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        h = self.c1(x)
        h = F.relu(self.bn(self.c2(h)), inplace=True)
        h += self.c2(h)
        h = self.p1(h) * torch.sigmoid(self.p2(h))
        return F.leaky_relu(self.up(h), 0.2)


class Channels(nn.Module):
    """Layout and channel ops: cat, split, chunk, permute + LayerNorm + Linear over channels, slices."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 12, 3, padding=1)
        self.ln, self.fc = nn.LayerNorm(6), nn.Linear(6, 6)
        self.gn = nn.GroupNorm(3, 24)

    def forward(self, x):
        h = self.c(x)
        a, b = h.split(6, dim=1)
        c, d = torch.chunk(h, 2, 1)
        b = self.fc(self.ln(b.permute(0, 2, 3, 1))).permute(0, 3, 1, 2).contiguous()
        h = torch.cat([a + b, F.gelu(c) - d, F.silu(h[:, 3:9]), F.hardswish(h[:, :6])], 1)
        return self.gn(h).mean((2, 3), keepdim=True) + h


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        h = F.interpolate(self.c1(x), scale_factor=2.0, mode="bilinear", align_corners=False)
        h = F.pad(h, (1, 2, 0, 1), mode="reflect")
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        return self.c2(F.pixel_shuffle(torch.cat([h] * 4, 1), 2))


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.c = nn.Conv2d(3, 8, 3, stride=2)
        self.gap, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(8, 5)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.fc(self.drop(torch.flatten(self.gap(F.hardtanh(self.c(x), 0.0, 6.0)), 1)))


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.conv(self.act(self.conv(x))))


SIGNALS = [
    lambda: nn.Sequential(nn.Conv1d(2, 4, 5, 2, 2), nn.MaxPool1d(3, 2, ceil_mode=True), nn.Conv1d(4, 4, 3)),
    lambda: nn.Sequential(nn.Conv3d(1, 2, 3, padding=1, stride=2), nn.AvgPool3d(2), nn.BatchNorm3d(2)),
]
CASES = [
    ("block", Block, (80, 80, 3)),
    ("block_real_size", Block, (33, 31, 3)),
    ("channels", Channels, (72, 70, 3)),
    ("decoder", Decoder, (70, 66, 3)),
    ("head", Head, (96, 96, 3)),
    ("adaptive_to_two", lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=4), nn.AdaptiveAvgPool2d(2)), (98, 98, 3)),
    ("conv1d", SIGNALS[0], (201, 2)),
    ("conv3d", SIGNALS[1], (70, 66, 66, 1)),
]


@pytest.mark.parametrize("build, shape", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_route_0_reads_as_torchs_own_export(build, shape):
    _same_as_the_exporter(build(), shape)


def test_resnet18_takes_route_0_at_the_small_size_and_reads_as_the_exporter():
    torchvision = pytest.importorskip("torchvision")
    a = _same_as_the_exporter(torchvision.models.resnet18(weights=None), (224, 224, 3))
    assert a.row("layer1.0.conv1").rf == (19, 19) and a.row("layer4.1.relu_1").rf == (435, 435)


def test_a_shared_module_counts_per_use_and_is_named_per_call():
    m = Twice()
    route, data = E.export_route(m, (8, 8, 3))
    a = from_onnx(data)
    assert route == 0 and [r.name for r in a.layers] == ["conv", "act", "conv_1", "act_1"]
    assert a.stored_params == 84 and a.trainable_params == 168


def test_the_size_free_capture_stops_at_a_size_read():
    class SizeRead(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, stride=2)

        def forward(self, x):
            extra = x.shape[-1] % 2
            return self.conv(F.pad(x, (0, extra, 0, extra)))

    for shape in ((97, 97, 3), (98, 98, 3)):  # at 64 px the pad would be 0 for both: the real size is captured
        a = _same_as_the_exporter(SizeRead(), shape)
        assert a.layers[-1].output_shape == (48, 48, 4)


class ValueBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        h = self.conv(x)
        return h if h.mean() > -1 else -h  # a branch on a value


class Item(ValueBranch):
    def forward(self, x):
        return self.conv(x) * float(x.sum().item() + 1)


class InPlaceOnView(ValueBranch):
    def forward(self, x):
        h = self.conv(x)
        h[:, :2].relu_()
        return h


class Unknown(ValueBranch):
    def forward(self, x):
        return torch.roll(self.conv(x), 1, 2)


class Catches(ValueBranch):
    def forward(self, x):
        try:
            return torch.roll(self.conv(x), 1, 2)
        except Exception:  # noqa: BLE001 (a forward that swallows the capture's refusal)
            return self.conv(x)


@pytest.mark.parametrize("build", [ValueBranch, Item, InPlaceOnView, Unknown, Catches])
def test_what_route_0_cannot_prove_goes_to_the_exporter(build):
    m = build().eval()
    route, data = E.export_route(m, (16, 16, 3))
    assert route in (2, 3)

    def outcome(read):
        try:
            return read().to_dict()
        except RFError as err:  # the exporter's graph may be one rfcalc refuses (ScatterND): the same refusal
            return str(err)

    assert outcome(lambda: from_torch(m, (16, 16, 3), cache=False)) == outcome(
        lambda: from_onnx(data, input_shape=(16, 16, 3))
    )


def test_train_mode_is_put_back_after_route_0():
    m = Block().train()
    m.bn.eval()
    assert E.export_route(m, (40, 40, 3))[0] == 0
    assert m.training and m.c1.training and not m.bn.training
