"""TensorFlow's start-up noise is held back: a command's stderr starts with rfcalc's words, or is empty."""

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.tf, pytest.mark.slow]

NOISE = ("absl::InitializeLog", "oneDNN custom operations", "port.cc")


def _run(args, env=None):
    environ = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environ.update(env or {})
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=environ, timeout=300)


@pytest.mark.parametrize("env", [{}, {"TF_CPP_MIN_LOG_LEVEL": "3"}, {"TF_CPP_MIN_LOG_LEVEL": "0"}])
def test_a_tensorflow_command_prints_no_start_up_noise(env):
    result = _run(["-m", "rfcalc.cli", "probe", "c3,c3", "--input", "8x8x1"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("probe: c3*2") or result.stdout.lstrip().startswith("probe")
    assert not any(n in result.stderr for n in NOISE), result.stderr


def test_a_failing_tensorflow_command_says_only_its_error():
    result = _run(["-m", "rfcalc.cli", "keras:NoSuchModel"])
    assert result.returncode == 2
    assert result.stderr.startswith("rfcalc: error:") and len(result.stderr.splitlines()) == 1, result.stderr


def test_other_stderr_lines_written_during_the_import_are_kept():
    code = (
        "import os; from rfcalc import tfquiet\n"
        "with tfquiet.filtered_stderr():\n"
        "    os.write(2, b'oneDNN custom operations are on\\nreal problem\\n')\n"
        "os.write(2, b'after\\n')"
    )
    result = _run(["-c", code])
    assert result.stderr == "real problem\nafter\n"


def test_library_use_is_quiet_too():
    result = _run(["-c", "import rfcalc; rfcalc.to_keras('c3', input_shape=(8, 8, 1)); print('ok')"])
    assert result.stdout == "ok\n" and not any(n in result.stderr for n in NOISE), result.stderr


def test_rfcalc_train_dry_run_is_quiet():
    result = _run(["-m", "training.cli", "model1", "--dataset", "fashion_mnist", "--dry-run"])
    assert not any(n in result.stderr for n in NOISE), result.stderr
