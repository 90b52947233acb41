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
    "pspnet_resnet18": {"legacy": "export failed"},  # torch's TorchScript exporter refuses its adaptive pool
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
KNOWN_WRONG: dict[tuple[str, str], str] = {}  # none today: every pair that reads agrees


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
    if (name, "torch") in KNOWN_WRONG:
        assert got.status == "wrong", f"{name} from_torch is now {got.status}: take it out of KNOWN_WRONG"
        pytest.xfail(f"known wrong: {got.detail}")
    assert got.status not in ("wrong", "crash"), f"{name} from_torch: {got.status}: {got.detail}"
    assert got.status == expected(name, "torch"), (
        f"{name} from_torch: {got.status} ({got.detail}); table says {expected(name, 'torch')}: update EXPECTED"
    )


def _row(fields, jump, start=0):
    """A stand-in for an rfcalc row on one axis: ``fields`` per unit (unclipped)."""
    from types import SimpleNamespace

    widths = [hi - lo + 1 for lo, hi in fields]
    return SimpleNamespace(
        output_shape=(len(fields), 1),
        rf=(max(widths),),
        rf_min=(min(widths),),
        jump=(jump,),
        start=(start,),
        field_of=lambda u: (fields[u[0]],),
    )


def _truth(fields, n, uniform, jump=None, start=None):
    units = [[max(lo, 0), min(hi, n - 1)] for lo, hi in fields]
    inner = [u for u, (lo, hi) in enumerate(units) if lo > 0 and hi < n - 1]
    widths = [units[u][1] - units[u][0] + 1 for u in inner]
    offs = [
        verdict.Fraction(sum(units[u]), 2) - verdict.Fraction(2 * u + 1, 2) * n / len(units) + verdict.Fraction(1, 2)
        for u in inner
    ]
    return {
        "per_unit": True,
        "n": n,
        "units": units,
        "interior": [inner[0], inner[-1]],
        "rf": max(widths),
        "rf_min": min(widths),
        "offsets": [str(min(offs)), str(max(offs))],
        "uniform": uniform,
        "jump": jump,
        "start": start,
    }


# 8 units on 8 pixels, fields 3 wide, the middle ones shifted one pixel: no common jump
NONUNIFORM = [(-1, 1), (0, 2), (1, 3), (3, 5), (4, 6), (4, 6), (5, 7), (6, 8)]
UNIFORM = [(u - 1, u + 1) for u in range(8)]


@pytest.mark.parametrize(
    "fields,truth,jump,ok",
    [
        (NONUNIFORM, _truth(NONUNIFORM, 8, False), 0, True),  # jump 0: "no common jump", as the truth's units
        (NONUNIFORM, _truth(NONUNIFORM, 8, False), 1, False),  # a common jump the truth's units do not have
        (UNIFORM, _truth(UNIFORM, 8, True, "1", "0"), 0, False),  # "no common jump" on a uniform axis: wrong
        (UNIFORM, _truth(UNIFORM, 8, True, "1", "0"), 1, True),
        (UNIFORM, _truth(NONUNIFORM, 8, False), 0, False),  # one unit reads other pixels than the gradient's
    ],
)
def test_a_per_unit_axis_is_judged_unit_by_unit(fields, truth, jump, ok):
    bad = verdict._check_units(_row(fields, jump), 0, 1, truth, "row")
    assert (not bad) == ok, bad
