"""The plain analysis path must start without TensorFlow, Keras, sympy or matplotlib."""

import subprocess
import sys

HEAVY = ("tensorflow", "keras", "sympy", "matplotlib", "numpy", "onnx", "onnxruntime", "torch")


def loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return proc.stdout.split()


def test_import_rfcalc_loads_nothing_heavy():
    assert loaded_after("import rfcalc") == []


def test_plain_cli_path_loads_nothing_heavy():
    code = "import io, contextlib, rfcalc.cli\nwith contextlib.redirect_stdout(io.StringIO()): rfcalc.cli.main(['c3,c3,p2'])"
    assert loaded_after(code) == []


def test_json_and_compare_paths_load_nothing_heavy():
    code = (
        "import io, contextlib, rfcalc.cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
        "    rfcalc.cli.main(['c3,c3,p2', '--json']); rfcalc.cli.main(['compare', 'c7', 'c3*3'])"
    )
    assert loaded_after(code) == []


PUBLIC_FUNCTIONS = (
    "analyze",
    "design",
    "report",
    "explain",
    "compare",
    "closed_forms",
    "from_keras",
    "to_keras",
    "from_onnx",
    "from_torch",
    "probe",
    "erf",
)


def test_import_rfcalc_loads_only_the_plain_analysis():
    """No explain, compare, design, report, framework or runner module loads with ``import rfcalc``."""
    code = "import sys, rfcalc\nprint(' '.join(sorted(m for m in sys.modules if m.startswith('rfcalc'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(out.split()) <= {
        "rfcalc",
        "rfcalc._version",
        "rfcalc.analysis",
        "rfcalc.arithmetic",
        "rfcalc.ascii_input",
        "rfcalc.checks",
        "rfcalc.dsl",
        "rfcalc.errors",
        "rfcalc.layers",
        "rfcalc.phases",
        "rfcalc.propagate",
        "rfcalc.symbols",
    }


def test_public_functions_stay_functions_after_every_submodule_is_imported():
    """Importing a submodule binds its name on the parent package: no module may be named like a function."""
    code = f"""
import importlib, inspect, pathlib, rfcalc
root = pathlib.Path(rfcalc.__file__).parent
for path in sorted(root.rglob("*.py")):
    parts = path.relative_to(root.parent).with_suffix("").parts
    importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
print(" ".join(n for n in {PUBLIC_FUNCTIONS!r} if not inspect.isfunction(getattr(rfcalc, n))))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == []
