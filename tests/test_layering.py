"""The import graph of rfcalc/ is a DAG that points down: entry points -> runs -> frameworks -> core.

Every import statement counts, those inside functions too (a lazy import that closes a circle is still a
circle). The graph is read from the source with ``ast``, so nothing is imported to check it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "rfcalc"
LAYERS = ("core", "frameworks", "runs", "entry")  # each may import its own layer and those before it
FEATURES = ("rfcalc.designer", "rfcalc.htmlreport")  # entry-point packages: neither imports the other


def modules() -> dict:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = modules()


def imports_of(name: str, path: Path) -> set:
    """The rfcalc modules that ``name`` imports anywhere in its source (``from . import x`` names module x)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports_of(name, path) for name, path in MODULES.items()}


def layer(name: str) -> str:
    parts = name.split(".")
    if name == "rfcalc.cli" or parts[-1] == "cli" or name.startswith(FEATURES):
        return "entry"
    if len(parts) > 2 and parts[1] in ("frameworks", "runs"):
        return parts[1]
    return "core"


def find_cycle(graph: dict):
    """One circle as a list of modules (first == last), or None; depth-first with colours."""
    state, stack = {}, []

    def visit(v):
        state[v] = "open"
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == "open":
                return stack[stack.index(w) :] + [w]
            if w not in state and (found := visit(w)):
                return found
        stack.pop()
        state[v] = "done"
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_the_graph_reads_the_known_edges():
    """The walk sees module-level, relative, parent-relative and function-level imports."""
    assert "rfcalc.frameworks.graph" in GRAPH["rfcalc.frameworks.keras"]  # from .graph import ...
    assert "rfcalc.argtypes" in GRAPH["rfcalc.designer.cli"]  # from .. import argtypes
    assert "rfcalc.runs.plots" in GRAPH["rfcalc.designer.plot"]  # inside a function
    assert "rfcalc.frameworks.onnx" in GRAPH["rfcalc.frameworks.dispatch"]  # inside a function


def test_no_import_circle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


def test_a_circle_is_found():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down(name):
    """entry points (cli, designer/, htmlreport/, */cli.py) -> runs/ -> frameworks/ -> the core."""
    rank = LAYERS.index(layer(name))
    up = sorted(m for m in GRAPH[name] if LAYERS.index(layer(m)) > rank)
    assert not up, f"{name} ({layer(name)}) imports {', '.join(f'{m} ({layer(m)})' for m in up)}"


@pytest.mark.parametrize("feature", FEATURES)
def test_features_do_not_import_each_other(feature):
    others = tuple(f for f in FEATURES if f != feature)
    bad = sorted(f"{n} -> {m}" for n in GRAPH if n.startswith(feature) for m in GRAPH[n] if m.startswith(others))
    assert not bad, bad
