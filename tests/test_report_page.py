"""The HTML report without a browser: its field tables against a brute-force oracle and explain --at,
the page self-contained, the CLI's bad input one line and exit 2, notebooks' HTML."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rfcalc import analyze, compare, explain, format_spec
from rfcalc.cli import main
from rfcalc.htmlreport.data import axis_table, hole_runs, unit_field
from rfcalc.htmlreport.page import MARKER, report
from rfcalc.layers import ConvTranspose, Crop, Upsample, ZeroPad
from rfcalc.render import HEADERS, _cells

sys.path.insert(0, str(Path(__file__).parent))
from oracle import axis_unit_deps  # noqa: E402

SPECS = [
    "c3,c3,p2",
    "(c3,p2)*3",
    "c3d2,c3s2,c5/valid",
    "c7s2,p3s2,c3",
    "c3s3,c3d3",
    "zp2,c5/valid,crop1,p2s1",
    "c3x1,p3x2s2x1",
    "c3,p2,c3,p2,up2,c3,up2,c3",
    "c3s2,t3s2",
    "c3,up2/bilinear,up3/bilinear,c3",
    "c3s2/pad0:1,p3s2/pad1",
]


def axis_ops(layers, axis):
    """Per-axis oracle descriptions read off the layer values."""
    ops = []
    for layer in layers:
        pad = getattr(layer, "padding", None)
        pad = pad[axis] if isinstance(pad, tuple) else pad
        if isinstance(layer, ConvTranspose):
            out_pad = None if layer.output_padding is None else layer.output_padding[axis]
            ops.append(("tconv", layer.kernel[axis], layer.stride[axis], layer.dilation[axis], pad, out_pad))
        elif isinstance(layer, Upsample):
            ops.append(("up", layer.size[axis], layer.interpolation))
        elif hasattr(layer, "kernel"):
            ops.append(("win", layer.kernel[axis], layer.stride[axis], layer.dilation[axis], pad))
        elif isinstance(layer, ZeroPad):
            ops.append(("pad", *layer.pads[axis]))
        elif isinstance(layer, Crop):
            ops.append(("crop", *layer.crops[axis]))
        else:
            ops.append(("id",))
    return ops


def page_data(html: str) -> dict:
    blob = re.search(r'<script type="application/json" id="rfdata">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


def table_field(ax, i):
    """What report.js does with a phase table: an index and an add, nothing else."""
    p, k = i % ax["P"], i // ax["P"]
    return ax["lo"][p] + k * ax["step"], ax["hi"][p] + k * ax["step"]


@pytest.mark.parametrize("spec", SPECS)
def test_every_unit_of_every_layer_matches_the_brute_force_oracle(spec):
    a = analyze(spec, (20, 17, 3))
    layers = [r.layer for r in a.layers]
    data = page_data(report(a).html)
    for k, (row, d) in enumerate(zip(a.layers, data["layers"])):
        for axis in range(2):
            ops = axis_ops(layers[: k + 1], axis)
            n = a.input_shape[axis]
            for i in range(row.output_shape[axis]):
                deps = axis_unit_deps(ops, n, i)
                assert table_field(d["axes"][axis], i) == (min(deps), max(deps)), (row.name, axis, i)


@pytest.mark.parametrize("spec", ["c3d2", "c3d2,c3s2,c5/valid", "c3s3,c3", "c1s2,c3"])
def test_holes_are_the_oracle_s_unread_pixels(spec):
    a = analyze(spec, (24, 24, 3))
    layers = [r.layer for r in a.layers]
    for k, row in enumerate(a.layers):
        runs = hole_runs(row)
        for axis in range(2):
            for unit in (0, 1, 2):
                deps = axis_unit_deps(axis_ops(layers[: k + 1], axis), 24, unit)
                lo = min(deps)
                missing = sorted(set(range(lo, max(deps) + 1)) - deps)
                phase = runs[axis][unit % len(runs[axis])] if runs else []
                got = [lo + b for run in phase for b in range(run[0], run[1] + 1)]
                assert got == missing, (spec, row.name, axis, unit)


@pytest.mark.parametrize("spec", ["c3,c3,p2", "(c3,p2)*3", "c3d2,c3s2,c5/valid"])
def test_fields_equal_explain_at_for_corners_and_centre(spec):
    a = analyze(spec)
    for k, row in enumerate(a.layers):
        prefix = analyze(format_spec([r.layer for r in a.layers[: k + 1]]))
        oh, ow = row.output_shape[:2]
        for unit in {(0, 0), (0, ow - 1), (oh - 1, 0), (oh - 1, ow - 1), ((oh - 1) // 2, (ow - 1) // 2)}:
            e = explain(prefix, at=unit)
            assert unit_field(row, unit) == (e.rows, e.cols)
            assert tuple(table_field(axis_table(row, x), unit[x]) for x in range(2)) == (e.rows, e.cols)


def test_table_cells_are_the_cli_s():
    a = analyze("c3,c3,p2", head="seed")
    data = page_data(report(a).html)
    assert data["headers"] == list(HEADERS)
    assert [d["cells"] for d in data["layers"]] == [_cells(r) for r in a.layers]
    assert [d["spatial"] for d in data["layers"]] == [True, True, True, False, False, False]


def test_page_is_self_contained_and_marked():
    html = report("c3,c3,p2", image=[[0.0, 1.0], [1.0, 0.0]]).html
    assert MARKER in html[:1000]
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    without_svg_ns = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", without_svg_ns, re.I)
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(?!data:)', html)
    assert 'src="data:image/png;base64,' in html


def test_japanese_page_has_japanese_words():
    html = report("c3,c3", lang="ja").html
    data = page_data(html)
    assert data["headers"][0] == "層（型）" and data["T"]["rows"] == "行"
    assert "受容野" in data["footer"][-1]
    assert "Receptive field" not in html


def test_fifty_layers_are_a_few_hundred_kb():
    html = report("(c3,c3,p2)*2,c3*44", input_shape=(224, 224, 3)).html
    assert len(html.encode()) < 400_000


def test_notebook_objects_render_html():
    r = report("c3,c3")
    assert r._repr_html_().startswith("<iframe srcdoc=") and "&lt;script" in r._repr_html_()
    assert "<table>" in compare(["c7", "c3*3"])._repr_html_() and "27" in compare(["c7", "c3*3"])._repr_html_()
    assert explain("c3,c3")._repr_html_().startswith("<pre")
    assert "<table>" in analyze("c3")._repr_html_()  # the Analysis stays the static table


def test_explain_and_compare_stay_callable_after_their_modules_are_imported():
    code = (
        "import rfcalc, rfcalc.explanation, rfcalc.comparison, rfcalc.htmlreport.page; "
        "print(callable(rfcalc.explain), callable(rfcalc.compare), callable(rfcalc.report), "
        "rfcalc.explain('c3,c3').text.endswith('region of the input image.'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True"] * 4


# ---------------------------------------------------------------- the CLI


def test_cli_writes_a_report(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "c3,c3,p2", "-o", str(out), "--lang", "ja"]) == 0
    assert MARKER in out.read_text()
    assert "wrote" in capsys.readouterr().err
    assert main(["report", "c3", "-o", str(out)]) == 0  # a report may replace a report
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left behind


def _fails(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert needle in err, err


def test_a_file_that_is_not_a_report_is_kept_without_force(tmp_path, capsys):
    notes = tmp_path / "notes.html"
    notes.write_text("<html>my notes</html>")
    _fails(capsys, ["report", "c3", "-o", str(notes)], "not an rfcalc report")
    assert notes.read_text() == "<html>my notes</html>"
    assert main(["report", "c3", "-o", str(notes), "--force"]) == 0
    assert MARKER in notes.read_text()


@pytest.mark.parametrize(
    "target, needle",
    [
        ("missing-dir/r.html", "no such directory"),
        (".", "is a directory"),
    ],
)
def test_unwritable_output_is_one_line(tmp_path, capsys, target, needle):
    _fails(capsys, ["report", "c3", "-o", str(tmp_path / target)], needle)


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes anywhere")
def test_read_only_folder_is_one_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    _fails(capsys, ["report", "c3", "-o", str(ro / "r.html")], "not writable")


def test_an_image_that_is_not_an_image_is_one_line(tmp_path, capsys):
    bad = tmp_path / "cat.png"
    bad.write_text("this is text, not a PNG")
    _fails(capsys, ["report", "c3", "-o", str(tmp_path / "r.html"), "--image", str(bad)], "cat.png")
    _fails(
        capsys, ["report", "c3", "-o", str(tmp_path / "r.html"), "--image", str(tmp_path / "nope.png")], "no image file"
    )
    assert not (tmp_path / "r.html").exists()


def test_a_large_image_is_downscaled_and_said_so(tmp_path, capsys):
    np = pytest.importorskip("numpy")
    pytest.importorskip("matplotlib")
    from matplotlib import image as mpimg

    big = tmp_path / "big.png"
    mpimg.imsave(big, np.random.default_rng(0).random((2500, 3000, 3)))
    assert main(["report", "c3", "-o", str(tmp_path / "r.html"), "--image", str(big)]) == 0
    err = capsys.readouterr().err
    assert "resized to the 32x32 input" in err
    assert len((tmp_path / "r.html").read_bytes()) < 200_000


def test_erf_without_tensorflow_is_one_line(tmp_path):
    code = (
        "import sys; sys.modules['tensorflow'] = None; from rfcalc.cli import main; "
        f"sys.exit(main(['report', 'c3', '--erf', '-o', {str(tmp_path / 'r.html')!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "rfcalc: error: --erf needs TensorFlow, which is not installed: pip install 'rfcalc[tf]'"
    ]


@pytest.mark.tf
@pytest.mark.slow
def test_erf_heatmap_is_embedded(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "c3,c3,c3", "--input", "16x16x1", "--erf", "-o", str(out)]) == 0
    html = out.read_text()
    data = page_data(html)
    assert [(e["layer"], e["unit"]) for e in data["erf"]] == [
        ("conv2d", [7, 7]),
        ("conv2d_1", [7, 7]),
        ("conv2d_2", [7, 7]),
    ]
    assert [e["sides"]["99%"] for e in data["erf"]] == [3, 5, 7]  # a fresh conv's ERF fills its field
    assert html.count('<img id="erf-image-') == 3 and "data:image/png;base64," in html


def test_dataset_images_come_from_the_local_cache(tmp_path, monkeypatch, capsys):
    np = pytest.importorskip("numpy")
    pytest.importorskip("matplotlib")
    import gzip
    import pickle
    import struct

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    cifar = tmp_path / "keras" / "datasets" / "cifar-10-batches-py"
    cifar.mkdir(parents=True)
    x = np.zeros((3, 3072), np.uint8)
    x[2, :1024] = 255  # image 2: a red plane
    (cifar / "test_batch").write_bytes(pickle.dumps({b"data": x, b"labels": [0, 1, 2]}, protocol=4))
    fashion = tmp_path / "keras" / "datasets" / "fashion-mnist"
    fashion.mkdir()
    imgs = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8)
    (fashion / "t10k-images-idx3-ubyte.gz").write_bytes(
        gzip.compress(struct.pack(">IIII", 2051, 2, 28, 28) + imgs.tobytes())
    )
    out = tmp_path / "r.html"
    assert main(["report", "c3", "-o", str(out), "--image", "cifar10:2"]) == 0
    assert 'alt="cifar10:2"' in out.read_text()
    assert main(["report", "c3", "--input", "28x28x1", "-o", str(out), "--image", "fashion_mnist:1"]) == 0
    assert 'alt="fashion_mnist:1"' in out.read_text() and "resized" not in capsys.readouterr().err
    _fails(capsys, ["report", "c3", "-o", str(out), "--image", "cifar10:9"], "test images 0..2")
    _fails(capsys, ["report", "c3", "-o", str(out), "--image", "fashion_mnist:x"], "fashion_mnist:INDEX")


def test_misaligned_merges_and_rf_min_are_marked():
    import dataclasses

    from rfcalc.htmlreport.page import build_html

    a = analyze("c3,c5")
    rows = (a.layers[0], dataclasses.replace(a.layers[1], flags=("misaligned",), rf_min=(3, 3)))
    html = build_html(dataclasses.replace(a, layers=rows))
    assert '<tr data-layer="conv2d_1" data-index="1" class="spatial warn">' in html
    data = page_data(html)
    assert data["layers"][1]["rf_min"] == [3, 3] and data["layers"][1]["rf"] == [7, 7]
    assert "Smallest field over all paths: 3x3" in data["footer"]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["report", "c3,(p2"], "c3,(p2"),  # a bad spec: the caret line's spec
        (["report", "c3", "--input", "16x1", "--image", "cifar10:0"], "2-D input"),
    ],
)
def test_bad_report_input_is_one_line(tmp_path, capsys, argv, needle):
    code = main(argv + ["-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and needle in err, err
    assert not (tmp_path / "r.html").exists()


def test_an_oversized_image_file_is_refused(tmp_path, capsys):
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.truncate(65 << 20)  # sparse: no disk used
    _fails(capsys, ["report", "c3", "-o", str(tmp_path / "r.html"), "--image", str(huge)], "at most")


def test_hostile_layer_names_cannot_break_out_of_the_page():
    import dataclasses

    from rfcalc.htmlreport.page import build_html

    a = analyze("c3,c3")
    evil = "</script><script>alert(1)</script><!--"
    html = build_html(dataclasses.replace(a, layers=(dataclasses.replace(a.layers[0], name=evil), a.layers[1])))
    assert evil not in html and html.count("<script") == 2
    assert page_data(html)["layers"][0]["name"] == evil
