"""The zoo (tests/fixtures/zoo): real architectures from torchvision, timm, segmentation_models_pytorch
and ultralytics, exported by torch's two ONNX doors (weights stripped), each read by rfcalc and judged
against torch's own truth recorded beside it (NAME.json: gradient-measured fields, output shapes,
parameter counts). No torch needed; make_zoo.py made the files, verdict.py judges one reading.

``EXPECTED`` is the one table of what each model x door gives today. A pair missing from it must
agree. The test fails when a pair that should agree does not, when a pair expected to be refused
now reads (update the table: it reads now, and must agree), on every WRONG answer (a field, shape
or count that differs from the truth: never allowed, never listed) and on every crash (anything but
an RFError escaping rfcalc). The third door, ``rfcalc.from_torch``, is the torch-tier test below.
"""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest

ZOO = pathlib.Path(__file__).parent / "fixtures" / "zoo"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"zoo_{name}", ZOO / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


verdict = _load("verdict")
RECORDS = verdict.records()

# model -> {door: expected status}; a door not named must agree. Statuses: see verdict.py.
# Regenerate the picture with tests/fixtures/zoo/table.py (docs/zoo.md).
EXPECTED: dict[str, dict[str, str]] = {
    "fpn_resnet18": {"dynamo": "refused"},
    "pspnet_resnet18": {"legacy": "export failed", "torch": "refused"},
    "yolov8n": {"dynamo": "refused"},
}

ALLOWED = {"agrees", "refused", "export failed", "no truth"}


def expected(name, door):
    want = EXPECTED.get(name, {}).get(door, "agrees")
    assert want in ALLOWED, f"EXPECTED[{name!r}][{door!r}] = {want!r}: only {sorted(ALLOWED)} may be expected"
    return want


def test_the_zoo_is_there():
    assert len(RECORDS) >= 40
    assert set(EXPECTED) <= set(RECORDS), set(EXPECTED) - set(RECORDS)
    size = sum(p.stat().st_size for p in ZOO.glob("*.onnx"))
    assert size < 25e6, f"the zoo's files take {size:,} bytes"


# Pairs where rfcalc disagrees with torch today: open defects (docs/zoo.md), never accepted as right. Each
# is reported as an expected failure while it stays wrong, and fails the test the moment it changes.
KNOWN_WRONG = {
    ("fpn_resnet18", "legacy"): "align_corners decoder: the truth was measured on a 1,024 strip, the file is read at "
    "64 (fields differ with the size); and the joined levels' jump prints as 0",
}


@pytest.mark.parametrize("door", ["dynamo", "legacy"])
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_zoo_door(name, door):
    got = verdict.judge(RECORDS[name], door)
    if (name, door) in KNOWN_WRONG:
        assert got.status == "wrong", f"{name} {door} is now {got.status}: take it out of KNOWN_WRONG"
        pytest.xfail(f"known wrong ({KNOWN_WRONG[name, door]}): {got.detail}")
    assert got.status not in ("wrong", "crash"), f"{name} {door}: {got.status}: {got.detail}"
    assert got.status == expected(name, door), (
        f"{name} {door}: {got.status} ({got.detail}); table says {expected(name, door)}: update EXPECTED"
    )


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(RECORDS))
def test_zoo_from_torch(name):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    make_zoo = _load("make_zoo")
    import torch

    torch.manual_seed(0)
    module = make_zoo.RECIPES[name].build().eval()
    got = verdict.judge(RECORDS[name], "torch", module)
    if (name, "torch") in KNOWN_WRONG or name == "fpn_resnet18":  # the same reader as the legacy file
        assert got.status == "wrong", f"{name} from_torch is now {got.status}: take it out of KNOWN_WRONG"
        pytest.xfail(f"known wrong: {got.detail}")
    assert got.status not in ("wrong", "crash"), f"{name} from_torch: {got.status}: {got.detail}"
    assert got.status == expected(name, "torch"), (
        f"{name} from_torch: {got.status} ({got.detail}); table says {expected(name, 'torch')}: update EXPECTED"
    )
