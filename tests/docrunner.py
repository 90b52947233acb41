"""The docs runner: every code block of README.md and docs/*.md runs, so the docs cannot drift (issue 18.23).

tests/test_docs.py runs each block as a test; this module finds and runs them.

What runs, by the block's info string and its first line:

- ```python blocks with ``>>>``: doctests (each block its own namespace, ``rfcalc`` imported).
- blocks whose lines start with ``$ `` (any info string): console sessions; each ``$ [VAR=value ...]
  rfcalc ...`` is run through ``rfcalc.cli.main`` in-process (``rfcalc-train`` through
  ``training.cli.main``) in a temporary folder, with ``COLUMNS`` unset unless the line sets it, and
  what it prints (stdout, then stderr) must equal the lines under it, after normalising what must
  vary: timings (``in 0.02 s``) and the temporary folder.
- ```bash blocks without ``$``: one command a line (``# comments`` allowed); each must exit 0.
- other blocks (diagrams, formulas, usage synopses, output shown for reading) are text; a text block
  must not hide a command (a line starting ``rfcalc `` or ``python ``): tag it ```bash.

An HTML comment on the line before the fence says more: ``<!-- doc-test: tf -->`` (needs TensorFlow:
the tf tier), ``<!-- doc-test: torch -->``, ``<!-- doc-test: skip (reason) -->`` (cannot run here;
the reason is required).

A failing block names its file and line and shows a unified diff of expected against got.
Re-sync the outputs after a change of output in one command:

    python tests/test_docs.py --update          # or: RFCALC_UPDATE_DOCS=1 pytest tests/test_docs.py

rewrites the expected output of every failing console block and doctest example in place (and
nothing else); review the result with ``git diff``.
"""

from __future__ import annotations

import contextlib
import difflib
import doctest
import io
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UPDATE = os.environ.get("RFCALC_UPDATE_DOCS", "") not in ("", "0")

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
MARK = re.compile(r"^\s*<!--\s*doc-test:\s*(tf|torch|skip)\s*(?:\((.+)\))?\s*-->\s*$")
ENV = re.compile(r"^[A-Z_][A-Z0-9_]*=")
TIMING = re.compile(r"\bin \d+(?:\.\d+)? (s|ms)\b")
RUNNABLE = {"python", "py", "pycon", "bash", "sh", "shell", "console"}


@dataclass(frozen=True)
class Block:
    path: Path
    index: int  # the n-th fenced block of its file
    line: int  # 1-based line of the block's first content line
    info: str
    lines: tuple[str, ...]
    mark: str  # "", "tf", "torch" or "skip"
    reason: str

    @property
    def where(self) -> str:
        return f"{_rel(self.path)}:{self.line}"

    @property
    def kind(self) -> str:
        if any(s.startswith("$ ") for s in self.lines):
            return "console"
        if self.info in ("python", "py", "pycon") and any(s.lstrip().startswith(">>>") for s in self.lines):
            return "doctest"
        if self.info in ("python", "py"):
            return "python"
        if self.info in ("bash", "sh", "shell", "console"):
            return "commands"
        return "text"


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, in order."""
    out: list[Block] = []
    text = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(text):
        m = FENCE.match(text[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).lower()
        prev = next((text[j] for j in range(i - 1, -1, -1) if text[j].strip()), "")
        mk = MARK.match(prev)
        j = i + 1
        while j < len(text) and not text[j].strip().startswith(fence[:3]):
            j += 1
        body = tuple(s[len(indent) :] if s.startswith(indent) else s.lstrip() for s in text[i + 1 : j])
        out.append(
            Block(path, len(out), i + 2, info, body, mk.group(1) if mk else "", (mk.group(2) or "") if mk else "")
        )
        i = j + 1
    return out


ALL = [b for p in DOCS for b in blocks_of(p)]


# ---- running one command in-process ---------------------------------------------------------------


def _entry(prog: str):
    if prog == "rfcalc":
        from rfcalc.cli import main

        return main
    if prog == "rfcalc-train":
        from training.cli import main

        return main
    raise AssertionError(
        f"the docs runner runs rfcalc and rfcalc-train commands, not {prog!r}: "
        "tag the block <!-- doc-test: skip (reason) --> or change it"
    )


def run_command(line: str, cwd: Path) -> tuple[int, str]:
    """Run one ``[VAR=v ...] rfcalc ARGS`` line in-process in ``cwd``: (exit status, stdout + stderr)."""
    words = shlex.split(line, comments=True)
    env = {}
    while words and ENV.match(words[0]):
        k, v = words.pop(0).split("=", 1)
        env[k] = v
    assert words, f"no command in {line!r}"
    main = _entry(words[0])
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (*env, "COLUMNS")}
    here = os.getcwd()
    try:
        os.environ.pop("COLUMNS", None)
        os.environ.update(env)
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(words[1:])
            except SystemExit as e:  # argparse
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    finally:
        os.chdir(here)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return int(code or 0), out.getvalue() + err.getvalue()


def clean(text: str, cwd: Path | None = None) -> list[str]:
    """Lines without trailing spaces or trailing blank lines, the temporary folder written as ``.``."""
    if cwd is not None:
        text = text.replace(str(cwd) + os.sep, "").replace(str(cwd), ".")
    lines = [s.rstrip() for s in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def normalise(text: str, cwd: Path | None = None) -> list[str]:
    """``clean``, and timings (``in 0.02 s``) made neutral: what is compared."""
    return [TIMING.sub(r"in <t> \1", s) for s in clean(text, cwd)]


def console_steps(block: Block) -> list[tuple[int, str, list[str]]]:
    """(offset of the ``$`` line in the block, command, expected output lines) for each command."""
    steps: list[tuple[int, str, list[str]]] = []
    for k, s in enumerate(block.lines):
        if s.startswith("$ "):
            steps.append((k, s[2:], []))
        elif steps:
            steps[-1][2].append(s)
        elif s.strip():
            raise AssertionError(f"{block.where}: output before the first '$ ' line")
    return steps


def check_console(block: Block, cwd: Path) -> list[tuple[int, int, list[str]]]:
    """Run a console block: the failures as (offset, length of the old output, new output lines)."""
    fixes, report = [], []
    for k, cmd, want in console_steps(block):
        _, got = run_command(cmd, cwd)
        got_lines = normalise(got, cwd)
        if normalise("\n".join(want)) != got_lines:
            diff = difflib.unified_diff(
                normalise("\n".join(want)), got_lines, "expected (the docs)", "got", lineterm=""
            )
            report.append(f"{_rel(block.path)}:{block.line + k}: $ {cmd}\n" + "\n".join(diff))
            fixes.append((k + 1, len(want), clean(got, cwd) + ([""] if want and not want[-1].strip() else [])))
    if report and not UPDATE:
        raise AssertionError("\n\n".join(report) + "\n\n(re-sync: python tests/test_docs.py --update)")
    return fixes


def check_commands(block: Block, cwd: Path) -> None:
    """Each command line of a bash block exits 0."""
    for k, s in enumerate(block.lines):
        cmd = s.split(" #")[0].strip() if not s.lstrip().startswith("#") else ""
        if cmd:
            code, got = run_command(cmd, cwd)
            assert code == 0, f"{_rel(block.path)}:{block.line + k}: `{cmd}` exited {code}:\n{got}"


# ---- doctests -------------------------------------------------------------------------------------


class _Collect(doctest.DocTestRunner):
    def __init__(self):
        super().__init__(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
        self.failed_examples: list[tuple[doctest.Example, str]] = []

    def report_failure(self, out, test, example, got):
        self.failed_examples.append((example, got))

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.failed_examples.append((example, "".join(doctest.traceback.format_exception_only(*exc_info[:2]))))


def check_doctest(block: Block) -> list[tuple[int, int, list[str]]]:
    import rfcalc

    text = "\n".join(block.lines) + "\n"
    test = doctest.DocTestParser().get_doctest(text, {"rfcalc": rfcalc}, block.where, str(block.path), 0)
    runner = _Collect()
    runner.run(test, out=lambda s: None, clear_globs=True)
    fixes, report = [], []
    for ex, got in runner.failed_examples:
        n_src = ex.source.count("\n")
        want = ex.want.rstrip("\n").split("\n") if ex.want else []
        indent = " " * ex.indent
        fixes.append((ex.lineno + n_src, len(want), [indent + s for s in got.rstrip("\n").split("\n")]))
        diff = difflib.unified_diff(want, got.rstrip("\n").split("\n"), "expected (the docs)", "got", lineterm="")
        report.append(f"{_rel(block.path)}:{block.line + ex.lineno}: >>> {ex.source.strip()}\n" + "\n".join(diff))
    if report and not UPDATE:
        raise AssertionError("\n\n".join(report) + "\n\n(re-sync: python tests/test_docs.py --update)")
    return fixes


# ---- rewriting outputs in place -------------------------------------------------------------------


def apply_fixes(block: Block, fixes: list[tuple[int, int, list[str]]]) -> None:
    """Replace output lines of the block (found again by its index: earlier fixes may move lines)."""
    if not fixes:
        return
    now = blocks_of(block.path)[block.index]
    assert now.lines == block.lines, f"{block.where} changed while updating"
    text = block.path.read_text(encoding="utf-8").split("\n")
    indent = FENCE.match(text[now.line - 2]).group(1)
    for off, n_old, new in sorted(fixes, reverse=True):
        at = now.line - 1 + off
        text[at : at + n_old] = [indent + s if s else s for s in new]
    block.path.write_text("\n".join(text), encoding="utf-8")
    print(f"updated {block.where}")


def furnish(cwd: Path) -> None:
    """The files the docs' examples name, in the folder they run in: resnet18.onnx (the stripped
    torchvision export of tests/fixtures) and a 32x32 cat.png."""
    import struct
    import zlib

    (cwd / "resnet18.onnx").write_bytes((ROOT / "tests/fixtures/onnx/resnet18.onnx").read_bytes())
    rows = b"".join(b"\0" + b"".join(bytes((x * 8, y * 8, 128)) for x in range(32)) for y in range(32))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    (cwd / "cat.png").write_bytes(png)


def run_block(block: Block, cwd: Path) -> None:
    """Run one block as its kind says, in ``cwd``; in update mode rewrite its outputs."""
    if block.mark == "skip":
        assert block.reason.strip(), f"{block.where}: doc-test: skip needs a reason in parentheses"
        pytest.skip(f"{block.where}: {block.reason}")
    if block.mark == "tf":
        pytest.importorskip("tensorflow")
    if block.mark == "torch":
        pytest.importorskip("torch")
    kind = block.kind
    furnish(cwd)
    here = os.getcwd()
    os.chdir(cwd)
    try:
        _run_kind(block, kind, cwd)
    finally:
        os.chdir(here)


def _run_kind(block: Block, kind: str, cwd: Path) -> None:
    if kind == "console":
        apply_fixes(block, check_console(block, cwd))
    elif kind == "doctest":
        apply_fixes(block, check_doctest(block))
    elif kind == "python":
        import rfcalc

        try:
            exec(compile("\n".join(block.lines), block.where, "exec"), {"rfcalc": rfcalc, "__name__": "__docs__"})
        except Exception as e:  # noqa: BLE001 - any error of a docs example is a failure naming its block
            raise AssertionError(f"{block.where}: {type(e).__name__}: {e}") from e
    elif kind == "commands":
        check_commands(block, cwd)
    elif not block.info:  # ```text says: not a command (a usage synopsis); untagged blocks are checked
        hidden = [s for s in block.lines if re.match(r"(rfcalc|rfcalc-train|python) ", s.lstrip())]
        assert not hidden, (
            f"{block.where}: a text block holds commands ({hidden[0]!r}): tag it ```bash so "
            "it runs, or mark it <!-- doc-test: skip (reason) -->"
        )


def main(argv: list[str]) -> int:
    """``python tests/test_docs.py [--update] [FILE[:LINE]...]``: run (and re-sync) the blocks, outside pytest."""
    import tempfile

    global UPDATE
    args = list(argv)
    if "--update" in args:
        args.remove("--update")
        UPDATE = True
    picked = [b for b in ALL if not args or any(b.where.startswith(a) for a in args)]
    bad = 0
    for b in picked:
        with tempfile.TemporaryDirectory() as d:
            try:
                run_block(b, Path(d))
            except pytest.skip.Exception as e:
                print(f"skipped {e}")
            except AssertionError as e:
                bad += 1
                print(f"FAILED {b.where}\n{e}\n")
    print(f"{len(picked)} blocks, {bad} failed")
    return 1 if bad else 0
