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


# ---------------------------------------------------------------- torch's own counts and shapes as oracle


def _buffers_counted(m) -> int:
    """BatchNorm's running mean and variance: what rfcalc counts as non-trainable (not num_batches_tracked)."""
    return sum(b.numel() for n, b in m.named_buffers() if n.rsplit(".", 1)[-1] in ("running_mean", "running_var"))


def _zoo():
    tv = pytest.importorskip("torchvision").models
    cases = [
        ("tv:resnet18", lambda: tv.resnet18(), (64, 64, 3)),
        ("tv:mobilenet_v3_small", lambda: tv.mobilenet_v3_small(), (64, 64, 3)),
        ("tv:efficientnet_b0", lambda: tv.efficientnet_b0(), (64, 64, 3)),
        ("tv:mnasnet0_5", lambda: tv.mnasnet0_5(), (64, 64, 3)),
        ("tv:squeezenet1_1", lambda: tv.squeezenet1_1(), (64, 64, 3)),
    ]
    try:
        import timm
    except ImportError:
        return cases
    return cases + [
        (f"timm:{n}", lambda n=n: timm.create_model(n, pretrained=False), (64, 64, 3))
        for n in ("resnet26d", "mobilenetv3_small_100", "efficientnet_b0", "regnetx_002")
    ]


ZOO = [
    "tv:resnet18",
    "tv:mobilenet_v3_small",
    "tv:efficientnet_b0",
    "tv:mnasnet0_5",
    "tv:squeezenet1_1",
    "timm:resnet26d",
    "timm:mobilenetv3_small_100",
    "timm:efficientnet_b0",
    "timm:regnetx_002",
]


@pytest.mark.parametrize("name", ZOO)
def test_real_models_count_and_shape_as_torch_does(name):
    cases = {n: (b, s) for n, b, s in _zoo()}
    if name not in cases:
        pytest.skip(f"{name.split(':')[0]} is not installed")
    build, shape = cases[name]
    m = build()
    a = from_torch(m, shape)
    assert a.trainable_params == sum(p.numel() for p in m.parameters())
    assert a.non_trainable_params == _buffers_counted(m)
    with torch.no_grad():
        out = m.eval()(torch.zeros(1, shape[-1], *shape[:-1]))
    assert a.layers[-1].output_shape[-1] == out.shape[-1] and len(a.layers[-1].output_shape) == 1
    convs = {n: c for n, c in m.named_modules() if isinstance(c, nn.Conv2d)}
    rows = {r.name: r for r in a.layers}
    for path, conv in convs.items():  # rows are named by module path, each with its module's own weights
        assert rows[path].params == sum(p.numel() for p in conv.parameters()), path


def test_train_mode_is_read_in_eval_and_every_submodule_mode_restored():
    m = Doors()
    m.train()
    m.bn.eval()  # a frozen BatchNorm inside a training model stays frozen
    a = from_torch(m, (34, 34, 3))
    assert m.training and m.c1.training and not m.bn.training
    assert a.layers == from_torch(Doors().eval(), (34, 34, 3)).layers


def test_channels_last_input_shapes_and_a_float64_module():
    m = nn.Sequential(nn.Conv2d(5, 4, 3, stride=2), nn.Conv2d(4, 2, (3, 1))).double()
    a = from_torch(m, (21, 13, 5))  # (H, W, C): the module reads (1, 5, 21, 13)
    out = m(torch.zeros(1, 5, 21, 13, dtype=torch.float64))
    assert a.layers[-1].output_shape == (*out.shape[2:], out.shape[1]) == (8, 6, 2)
    assert a.rf == (7, 3) and from_torch(m, "21x13x5").rf == (7, 3)


def test_a_shared_module_counts_per_use_and_stores_its_weights_once_as_torch_does():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 3, padding=1)

        def forward(self, x):
            return self.conv(self.conv(x))

    m = Twice()
    a = from_torch(m, (8, 8, 3))
    # the rule of issue 16: counted per reading layer (two convs read it), the distinct tensors beside it
    assert a.stored_params == sum(p.numel() for p in m.parameters()) == 84 and a.rf == (5, 5)
    assert a.trainable_params == 2 * 84


def test_small_buffers_keep_their_values():
    class Normalised(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.tensor([0.5, 0.4, 0.3]).view(1, 3, 1, 1))
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x - self.mean)

    a = from_torch(Normalised(), (8, 8, 3))
    assert a.rf == (3, 3) and a.layers[-1].output_shape == (6, 6, 4)


BAD_SHAPES = [(3,), (0, 8, 3), (8, 8, -3), (1, 2, 3, 4, 5), "abc", ("a", 8, 3), 2.5, None, (8.5, 8, 3)]


@pytest.mark.parametrize("shape", BAD_SHAPES, ids=[repr(s) for s in BAD_SHAPES])
def test_bad_input_shapes_are_one_line_errors(shape):
    with pytest.raises(RFError) as err:
        from_torch(nn.Conv2d(3, 4, 3), shape)
    assert "\n" not in str(err.value).split("\n^")[0] and "input" in str(err.value).lower()


def test_a_shape_the_module_rejects_is_one_line_naming_the_module():
    with pytest.raises(RFError) as err:
        from_torch(nn.Conv2d(3, 4, 3), (8, 8, 5))  # five channels into a 3-channel conv
    assert "Conv2d" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(RFError):
        from_torch(nn.Conv2d(3, 4, 9), (4, 4, 3))  # smaller than the kernel


@pytest.mark.parametrize("thing", [nn.Conv2d, torch.zeros(3), None, 3])
def test_things_that_are_not_modules_are_refused(thing):
    with pytest.raises(RFError, match="torch.nn.Module"):
        from_torch(thing, (8, 8, 3))


# ---------------------------------------------------------------- the export cache


def test_a_second_call_reuses_the_export_and_reads_the_same():
    from rfcalc.frameworks import torch as rt

    m = Doors()
    first = from_torch(m, (34, 34, 3))
    calls = []
    real = rt.export
    rt.export = lambda *a: calls.append(a) or real(*a)
    try:
        again = from_torch(m, (34, 34, 3))
        assert again.layers == first.layers and calls == []
        from_torch(m, (34, 34, 3), cache=False)
        from_torch(m, (36, 36, 3))  # another shape: another export
        assert len(calls) == 2
    finally:
        rt.export = real


CHANGES = [  # (what, change to a built Doors, the row whose field or count must follow)
    ("attribute", lambda m: setattr(m.c3, "dilation", (3, 3)) or setattr(m.c3, "padding", (3, 3)), "c3"),
    ("submodule", lambda m: setattr(m, "c3", nn.Conv2d(16, 16, 5, padding=2)), "c3"),
    ("parameter", lambda m: setattr(m.skip, "weight", nn.Parameter(torch.zeros(16, 16, 1, 1))), "skip"),
]


@pytest.mark.parametrize("what, change, row", CHANGES, ids=[c[0] for c in CHANGES])
def test_a_changed_module_is_exported_afresh(what, change, row):
    m = Doors()
    from_torch(m, (34, 34, 3))
    change(m)
    fresh = Doors()
    change(fresh)
    got, want = from_torch(m, (34, 34, 3)).row(row), from_torch(fresh, (34, 34, 3), cache=False).row(row)
    assert (got.rf, got.params, got.output_shape) == (want.rf, want.params, want.output_shape)


def test_an_in_place_edit_of_a_small_buffer_is_seen():
    class Offset(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("size", torch.tensor([1, 8, 6, 6]))
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            return self.conv(x).reshape(*[int(v) for v in self.size])

    m = Offset()
    from_torch(m, (8, 8, 3))
    from rfcalc.frameworks.torch import fingerprint

    before = fingerprint(m)
    m.size.add_(0)  # in place: the version counter moves
    assert fingerprint(m) != before
