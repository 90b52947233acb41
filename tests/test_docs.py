"""Every code block of README.md and docs/*.md runs (issue 18.23): the rules are in tests/docrunner.py.

pytest tests/test_docs.py                    # -m "not tf" leaves out the <!-- doc-test: tf --> blocks
python tests/test_docs.py --update           # re-sync the outputs after a change (or RFCALC_UPDATE_DOCS=1)
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import docrunner  # noqa: E402
from docrunner import ALL, DOCS, Block, blocks_of, run_block  # noqa: E402


def _marks(b: Block):
    return [pytest.mark.tf] if b.mark == "tf" else [pytest.mark.torch] if b.mark == "torch" else []


@pytest.mark.parametrize("block", [pytest.param(b, id=b.where, marks=_marks(b)) for b in ALL])
def test_doc_block(block, tmp_path):
    run_block(block, tmp_path)


def test_skips_are_few_and_give_reasons():
    skips = [b for b in ALL if b.mark == "skip"]
    assert all(b.reason.strip() for b in skips)
    assert len(skips) <= 8, [b.where for b in skips]


def test_runner_sees_every_file():
    assert {p.name for p in DOCS} >= {"README.md", "probes.md", "frameworks.md", "report.md"}
    assert len(ALL) > 30


STALE = """# t

```
$ COLUMNS=80 rfcalc "c3,c3"
Model: something else
```

```python
>>> rfcalc.analyze("c3,c3").rf
(4, 4)
```
"""


def test_stale_blocks_fail_with_file_line_and_diff_then_update_rewrites_them(tmp_path, monkeypatch):
    md = tmp_path / "stale.md"
    md.write_text(STALE, encoding="utf-8")
    console, doc = blocks_of(md)
    with pytest.raises(AssertionError, match=r"stale.md:4: \$ COLUMNS=80") as e:
        run_block(console, tmp_path)
    assert "-Model: something else" in str(e.value) and '+Model: "c3*2"' in str(e.value)
    with pytest.raises(AssertionError, match=r"stale.md:9: >>> rfcalc.analyze") as e:
        run_block(doc, tmp_path)
    assert "+(5, 5)" in str(e.value)
    monkeypatch.setattr(docrunner, "UPDATE", True)
    for b in blocks_of(md):
        run_block(b, tmp_path)
    text = md.read_text(encoding="utf-8")
    assert "something else" not in text and "(5, 5)" in text and 'Model: "c3*2"' in text
    monkeypatch.setattr(docrunner, "UPDATE", False)
    for b in blocks_of(md):  # now they pass, and the rest of the file is as it was
        run_block(b, tmp_path)
    assert text.startswith("# t\n\n```\n$ COLUMNS=80") and text.endswith("```\n")


def test_text_blocks_may_not_hide_commands(tmp_path):
    md = tmp_path / "hidden.md"
    md.write_text("```\nrfcalc c3\n```\n\n```text\nrfcalc SPEC [--wide]\n```\n", encoding="utf-8")
    hidden, synopsis = blocks_of(md)
    with pytest.raises(AssertionError, match="hidden.md:2: a text block holds commands"):
        run_block(hidden, tmp_path)
    run_block(synopsis, tmp_path)


if __name__ == "__main__":  # python tests/test_docs.py [--update] [FILE...]
    sys.exit(docrunner.main(sys.argv[1:]))
