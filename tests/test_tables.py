"""Every table fits the width it is printed at, in one style and in the user's language (issue 18: 8, 14, 16).

The width rule (docs/dsl.md, "Widths"): COLUMNS when set; else the terminal that stdout or stderr
is; else 80. Past the width the tables abbreviate, fold and drop columns (a footer line names them)
and never cut a cell; ``--wide`` prints every column.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from rfcalc import analyze, compare, design, textable
from rfcalc.cli import main
from rfcalc.frameworks.dispatch import analyze_source
from rfcalc.lang import pick
from rfcalc.render import grid_of, plain

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "onnx")
WIDTHS = (60, 80, 100, 200)


def _width_of(text: str) -> int:
    return max(textable.cells(line) for line in text.splitlines())


def _first_column(text: str) -> str:
    """The layer column's cells joined, continuation lines included (names wrap, never cut)."""
    body = text.split(" ─")[1].split("\n\n")[0].splitlines()[1:]
    return "".join(line.strip().split("   ")[0] for line in body).replace(" ", "")


def _run(capsys, monkeypatch, *argv, columns=None, env=None):
    monkeypatch.delenv("COLUMNS", raising=False)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    if columns is not None:
        monkeypatch.setenv("COLUMNS", str(columns))
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- 8: the first table fits 80 columns


def test_the_first_command_fits_80_columns_and_names_what_it_left_out(capsys, monkeypatch):
    code, out, err = _run(capsys, monkeypatch, "c3,c3,p2")
    assert code == 0 and err == ""
    assert _width_of(out) <= 80
    assert "Not shown at 80 columns: Start (--wide shows every column)" in out
    assert "conv2d_1 (Conv2D)" in out and "32x32x32" in out and "9,437,184" in out  # shape abbreviated, MACs kept


def test_wide_prints_every_column_at_full_width(capsys, monkeypatch):
    code, out, _ = _run(capsys, monkeypatch, "c3,c3,p2", "--wide")
    assert code == 0 and _width_of(out) > 80
    for head in ("Output Shape", "Param #", "MACs", "RF", "Jump", "Start", "(None, 16, 16, 32)"):
        assert head in out
    assert "Not shown" not in out


def test_a_long_stack_s_truncation_line_fits_too(capsys, monkeypatch):
    code, out, _ = _run(capsys, monkeypatch, "c3*201", columns=80)
    assert code == 0 and _width_of(out) <= 80
    assert "more layers (--all or --json shows every one)" in " ".join(out.split())


def test_columns_is_honoured_in_a_pipe_and_80_is_the_default():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    run = lambda e: (
        subprocess.run(
            [sys.executable, "-m", "rfcalc.cli", "c3,c3,p2"],
            capture_output=True,
            text=True,
            env=e,
            stdin=subprocess.DEVNULL,
            timeout=120,
        ).stdout
    )
    assert _width_of(run(env)) <= 80  # not a terminal, nothing set: 80
    assert _width_of(run({**env, "COLUMNS": "200"})) > 80 and "Start" in run({**env, "COLUMNS": "200"})
    assert _width_of(run({**env, "COLUMNS": "60"})) <= 60


TOKENS = (
    "c3",
    "c5",
    "c7s2-64/valid",
    "p2",
    "p3s2",
    "a2",
    "c3d2",
    "dw3",
    "sep3-64",
    "bn",
    "c1-512",
    "c3s2x1",
    "zp1",
    "c3/valid",
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14),
    st.integers(40, 220),
    st.sampled_from(("en", "ja")),
    st.sampled_from((None, 1, 2)),
)
def test_no_line_is_longer_than_the_width(tokens, width, lang, depth):
    try:
        a = analyze(",".join(tokens), (96, 96, 3))
    except Exception:  # a stack the input cannot hold: nothing to draw
        return
    text = textable.text(a.__grid__(lang=lang, depth=depth), width)
    assert _width_of(text) <= width, text
    assert textable.text(a.__grid__(lang=lang), None).count("\n") >= len(a.layers)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ("resnet18", "resnet50", "densenet121", "unet"))
def test_onnx_model_tables_fit(name, width):
    a = analyze_source(os.path.join(FIXTURES, f"{name}.onnx"))
    text = textable.text(a.__grid__(), width)
    assert _width_of(text) <= width
    first = _first_column(text)
    for row in a.layers[:40]:
        assert row.name in first  # names wrap, never cut


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_and_design_tables_fit(width):
    for g in (
        compare(["c7", "c3*3", "c3,c3,p2,c5s2-128"]).__grid__(),
        design(rf=16).__grid__(),
        compare(["c7", "c3*3"]).__grid__(lang="ja"),
        design(rf=16).__grid__(lang="ja"),
    ):
        assert _width_of(textable.text(g, width)) <= width


def _fake_probe(n=3):
    from rfcalc.runs.probes import ProbeResult

    layers = tuple(
        SimpleNamespace(
            name=f"a_rather_long_layer_name_{i}",
            kind="MaxPooling2D",
            unit=(7, 7),
            rf=(3 + 2 * i, 3 + 2 * i),
            rf_min=None,
            analytic_rf=(3 + 2 * i, 3 + 2 * i),
            analytic_rf_min=None,
            jump=(1, 1),
            analytic_jump=(1, 1),
            start=(0, 0),
            analytic_start=(0, 0),
            agree=True,
            clipped=False,
        )
        for i in range(n)
    )
    return ProbeResult("c3,c3,p2", (32, 32, 3), (32, 32, 3), layers, layers[-1].name, 1, 0.5)


@pytest.mark.parametrize("width", WIDTHS)
def test_probe_tables_fit(width):
    from rfcalc.runs.cli import probe_table

    for lang in ("en", "ja"):
        assert _width_of(plain(probe_table(_fake_probe(), lang), width)) <= width


@pytest.mark.tf
@pytest.mark.parametrize("width", WIDTHS)
def test_keras_resnet50_table_fits(capsys, monkeypatch, width):
    code, out, _ = _run(capsys, monkeypatch, "keras:ResNet50", "--input", "224x224x3", columns=width)
    assert code == 0 and _width_of(out) <= width and "conv5_block3_out(Activation)" in _first_column(out)


# ---------------------------------------------------------------- 14: one renderer, one style


def test_probe_table_is_drawn_like_the_analysis_table():
    from rfcalc.runs.cli import probe_table

    probe = plain(probe_table(_fake_probe()), 200).splitlines()
    layers = plain(analyze("c3,c3,p2").__grid__(), 200).splitlines()
    assert isinstance(probe_table(_fake_probe()), textable.Grid)
    assert probe[2].startswith("  Layer (type)") and layers[2].startswith("  Layer (type)")
    assert set(probe[3].strip()) == {"─"} == set(layers[3].strip())  # the same rule, no box drawing
    assert not any(ch in "\n".join(probe) for ch in "┏┃━┡│└[")  # no heavy box, no markup


def test_compare_and_design_are_drawn_by_the_same_renderer():
    for obj in (compare(["c7", "c3*3"]), design(rf=16)):
        g = grid_of(obj)
        assert isinstance(g, textable.Grid)
        lines = textable.text(g, 200).splitlines()
        header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["Spec"])  # after the title lines
        assert set(lines[header + 1].strip()) == {"─"}


# ---------------------------------------------------------------- 16: --lang everywhere, the locale's default


@pytest.mark.parametrize("value", ("ja", "JA", "jp", "ja_JP", "ja_JP.UTF-8", "Japanese"))
def test_lang_accepts_the_ways_people_write_japanese(value):
    assert pick(value) == "ja"


@pytest.mark.parametrize(
    "env,want",
    [
        ({"LANG": "ja_JP.UTF-8"}, "ja"),
        ({"LC_ALL": "ja_JP"}, "ja"),
        ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),
        ({"LANG": "fr_FR"}, "en"),
        ({}, "en"),
        ({"LC_MESSAGES": "ja_JP.eucJP"}, "ja"),
    ],
)
def test_without_lang_the_locale_decides(env, want):
    assert pick(None, env) == want


@pytest.mark.parametrize(
    "argv,words",
    [
        (["c3,c3,p2", "--lang", "ja"], ("層（型）", "パラメータ総数：10,144", "受容野：入力 32x32x3 に対して 6x6")),
        (["c3,c3,p2", "--lang", "JA", "--wide"], ("出力の形", "学習するパラメータ")),
        (
            ["compare", "c7", "c3*3", "--lang", "ja_JP.UTF-8"],
            ("ネットワークの内部として比較", "チャンネルの組ごとのカーネルの重み", "スペック"),
        ),
        (["design", "--rf", "16", "--lang", "jp"], ("の最も安い積み方", "スペック", "厳密：")),
        (["explain", "c3,c3", "--lang", "ja_JP"], ("答え：",)),
    ],
)
def test_every_command_speaks_japanese(capsys, monkeypatch, argv, words):
    code, out, _ = _run(capsys, monkeypatch, *argv)
    assert code == 0
    for w in words:
        assert w in out


def test_the_locale_is_the_default_language(capsys, monkeypatch):
    code, out, _ = _run(capsys, monkeypatch, "c3,c3", env={"LANG": "ja_JP.UTF-8"})
    assert code == 0 and "パラメータ総数" in out
    code, out, _ = _run(capsys, monkeypatch, "c3,c3", "--lang", "en", env={"LANG": "ja_JP.UTF-8"})
    assert "Total params" in out


def test_an_unknown_language_is_one_line(capsys, monkeypatch):
    code, out, err = _run(capsys, monkeypatch, "c3", "--lang", "fr")
    assert code == 2 and out == "" and "--lang takes en or ja" in err and err.count("\n") == 1


def test_the_probe_table_speaks_japanese():
    from rfcalc.runs.cli import probe_table

    text = plain(probe_table(_fake_probe(), "ja"), 200)
    assert "一致" in text and "プローブ：c3,c3,p2" in text and "すべての層が一致" in text


def test_the_library_reads_the_same_language_names():
    from rfcalc import explain

    assert explain("c3,c3", lang="JA").lang == "ja" and explain("c3,c3", lang="ja_JP.UTF-8").text.endswith(
        "計算されます。"
    )


def test_report_takes_the_same_lang_values(tmp_path, capsys, monkeypatch):
    out = tmp_path / "r.html"
    code, _, err = _run(capsys, monkeypatch, "report", "c3,c3", "-o", str(out), "--lang", "ja_JP.UTF-8")
    assert code == 0 and '"lang": "ja"' in out.read_text(encoding="utf-8").replace('"lang":"ja"', '"lang": "ja"')
    code, _, err = _run(capsys, monkeypatch, "report", "c3,c3", "-o", str(tmp_path / "s.html"), "--lang", "xx")
    assert code == 2 and "--lang takes en or ja" in err


@pytest.mark.parametrize("width", WIDTHS)
def test_erf_tables_fit(width):
    from rfcalc.runs.cli import erf_table

    erf = SimpleNamespace(
        target="c3,c3",
        layer="conv2d_1",
        unit=(7, 7),
        sigma=(1.14, 1.29),
        centroid=(6.81, 7.0),
        sides={0.5: 3, 0.9: 5, 0.99: 5},
        ratio={0.5: 0.6, 0.9: 1.0, 0.99: 1.0},
        rf=(5, 5),
        source="32 random normal inputs",
        sides_se={0.5: 0.0, 0.9: 0.12, 0.99: 0.3},
        area_ratio={0.2: 0.0039, 0.3: 0.0039, 0.5: 0.0088, 0.99: 0.0244},
        area_sides={0.2: 1, 0.3: 1, 0.5: 3, 0.99: 5},
        area_ratio_se={0.2: 0.0, 0.3: 0.0, 0.5: 0.0004, 0.99: 0.001},
        stopping="stopped at 8 samples: every standard error within 2 %",
    )
    for lang in ("en", "ja"):
        text = plain(erf_table(erf, lang), width)
        assert _width_of(text) <= width and ("勾配" in text) == (lang == "ja")
