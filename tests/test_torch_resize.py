"""F.interpolate through from_torch against torch's own gradients: every output unit's input pixels.

Tier ``torch``. The network (conv, interpolate, conv) is linear; the Jacobian of the output with
respect to the input gives, per output unit, the pixels it reads. rfcalc's exact field of that
unit must be it, for every unit whose field lies inside the input (at the border, padding and
the interpolation's edge clamping meet: rfcalc keeps those positions outside the input).
"""

from __future__ import annotations

import itertools

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from rfcalc.frameworks.torch import from_torch  # noqa: E402

pytestmark = pytest.mark.torch


class Decoder(nn.Module):
    def __init__(self, **interp):
        super().__init__()
        self.interp = interp
        self.c1 = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
        self.c2 = nn.Conv2d(1, 1, 3, bias=False)
        for c in (self.c1, self.c2):
            nn.init.uniform_(c.weight, 0.5, 1.5)

    def forward(self, x):
        return self.c2(F.interpolate(self.c1(x), **self.interp))


INTERP = [
    dict(scale_factor=2.0, mode="bilinear", align_corners=True),
    dict(size=(13, 11), mode="bilinear", align_corners=True),
    dict(size=(13, 11), mode="bilinear", align_corners=False),
    dict(scale_factor=2.5, mode="nearest"),
    dict(size=(17, 9), mode="nearest"),
    dict(scale_factor=3.0, mode="bicubic", align_corners=False),
    dict(size=(14, 12), mode="bicubic", align_corners=True),
    dict(scale_factor=1.5, mode="bilinear"),
]


@pytest.mark.parametrize("interp", INTERP, ids=[str(i) for i in INTERP])
def test_interpolate_fields_equal_torch_gradients(interp):
    n = 12
    model = Decoder(**interp).double().eval()
    x = torch.zeros(1, 1, n, n, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(model, x)[0, 0, :, :, 0, 0]  # (out h, out w, in h, in w)
    row = from_torch(Decoder(**interp).eval(), (n, n, 1)).layers[-1]
    assert row.output_shape[:2] == tuple(jac.shape[:2])
    inside = 0
    for u in itertools.product(*(range(s) for s in jac.shape[:2])):
        if any(lo < 0 or hi >= n for lo, hi in row.field_of(u)):
            continue
        inside += 1
        truth = {tuple(p) for p in torch.nonzero(jac[u].abs() > 1e-12).tolist()}
        per_axis = []
        for a, v in zip(row.axes, u):
            lo, hi = a.at(v)
            cover = a.phase_cover(v % a.period)
            pixels = range(lo, hi + 1) if cover is None else [lo + b for b in range(hi - lo + 1) if cover >> b & 1]
            per_axis.append(set(pixels))
        ours = set(itertools.product(*per_axis))
        if "ties" in row.flags and ours != truth:
            continue
        assert ours == truth, (u, row.field_of(u))
    assert inside >= 4
