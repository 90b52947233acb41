"""from_torch: PyTorch modules read through an in-memory ONNX export. Tier ``torch``: skipped
when torch is not importable (docs/frameworks.md says how to install it and run these)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from torch import nn  # noqa: E402

from rfcalc.errors import RFError  # noqa: E402
from rfcalc.frameworks.torch import from_torch  # noqa: E402

pytestmark = pytest.mark.torch


class Doors(nn.Module):
    """The network of tests/test_onnx_doors.py, in PyTorch."""

    def __init__(self):
        super().__init__()
        self.c1, self.r1, self.p1 = nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)
        self.c2, self.bn, self.r2 = nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        self.c3, self.skip = nn.Conv2d(16, 16, 3, dilation=2, padding=2), nn.Conv2d(16, 16, 1)
        self.gap, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(16, 10)

    def forward(self, x):
        h = self.r2(self.bn(self.c2(self.p1(self.r1(self.c1(x))))))
        return self.fc(torch.flatten(self.gap(self.c3(h) + self.skip(h)), 1))


def test_torch_door_equals_onnx_door():
    from test_onnx_doors import SHARED, fields, onnx_door

    t, o = from_torch(Doors(), (34, 34, 3)), onnx_door()
    assert fields(t, [n for n in SHARED if n != "add"]) == fields(o, [n for n in SHARED if n != "add"])
    assert (t.rf, t.jump, t.start, t.total_params) == (o.rf, o.jump, o.start, o.total_params)
    assert t.trainable_params == sum(p.numel() for p in Doors().parameters())


CASES = [  # (id, module, input (channels last), expected rf, jump of the last spatial row)
    ("padding_same", lambda: nn.Conv2d(3, 4, 5, padding="same"), (16, 16, 3), (5, 5), (1, 1)),
    (
        "ceil_mode",
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(3, 2, ceil_mode=True)),
        (17, 17, 3),
        (5, 5),
        (2, 2),
    ),
    ("groups", lambda: nn.Conv2d(4, 8, 3, groups=2, padding=1), (8, 8, 4), (3, 3), (1, 1)),
    (
        "conv1d",
        lambda: nn.Sequential(nn.Conv1d(2, 4, 5, stride=2, padding=2), nn.Conv1d(4, 4, 3, dilation=2)),
        (64, 2),
        (13,),
        (2,),
    ),
    ("conv3d", lambda: nn.Conv3d(1, 2, 3, padding=1), (8, 8, 8, 1), (3, 3, 3), (1, 1, 1)),
    ("transposed", lambda: nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1), (8, 8, 3), None, None),
    (
        "upsample_bilinear",
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.Upsample(scale_factor=2, mode="bilinear")),
        (8, 8, 3),
        None,
        None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_pytorch_semantics(case):
    _, build, shape, rf, jump = case
    m = build()
    a = from_torch(m, shape)
    out = m(torch.zeros(1, shape[-1], *shape[:-1]))
    last = [r for r in a.layers if r.spatial][-1]
    assert last.output_shape == (*out.shape[2:], out.shape[1])
    if rf is not None:
        assert last.rf == rf and last.jump == jump
    assert a.trainable_params == sum(p.numel() for p in m.parameters())


def test_torchvision_resnet18_module_paths():
    torchvision = pytest.importorskip("torchvision")
    a = from_torch(torchvision.models.resnet18(), (224, 224, 3))
    assert a.row("layer1.0.conv1").rf == (19, 19) and a.row("layer4.1.conv2").rf == (435, 435)


def test_not_a_module_is_refused():
    with pytest.raises(RFError, match="torch.nn.Module"):
        from_torch("c3,c3", (8, 8, 3))
