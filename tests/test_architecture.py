"""docs/architecture.md stays true: every path it names exists, and every package of rfcalc/ is on it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
TREE = DOC.split("```", 2)[1]  # the folder tree


def named_paths() -> set:
    """Paths in `backticks` with a slash or a file suffix, and every file of the tree block, with its folder."""
    found = {m for m in re.findall(r"`([\w./*]+)`", DOC) if "/" in m or re.search(r"\.(py|js|css|md|toml|yaml)$", m)}
    folder = ""
    for line in TREE.splitlines():
        first, _, rest = line.strip().partition(" ")
        if first.endswith("/") and not line.startswith(" "):
            folder = first
            found.add(first)
        names = re.findall(r"\b[\w]+\.(?:py|js|css)\b", line)
        found.update(n if "/" in n else folder + n for n in names if not line.startswith(("tests/", "training/")))
    return {p for p in found if "*" not in p and not p.startswith(("rfcalc.", "dsl."))}


def exists(path: str) -> bool:
    """From the repository root, from rfcalc/, or (a bare file name such as `cli.py`) anywhere in rfcalc/."""
    if (ROOT / path).exists() or (ROOT / "rfcalc" / path).exists():
        return True
    return "/" not in path and any((ROOT / "rfcalc").rglob(path))


def test_every_path_on_the_page_exists():
    paths = named_paths()
    assert len(paths) > 40  # the tree block was read
    missing = sorted(p for p in paths if not exists(p))
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_package_is_on_the_page():
    packages = sorted(str(p.parent.relative_to(ROOT)) + "/" for p in (ROOT / "rfcalc").rglob("__init__.py"))
    assert [p for p in packages if p not in DOC] == []
