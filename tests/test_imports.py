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
    code = ("import io, contextlib, rfcalc.cli\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            "    rfcalc.cli.main(['c3,c3,p2', '--json']); rfcalc.cli.main(['compare', 'c7', 'c3*3'])")
    assert loaded_after(code) == []
