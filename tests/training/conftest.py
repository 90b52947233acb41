"""Fixtures: a tiny CIFAR-10 in the official format (archive and extracted), and a tiny Fashion-MNIST as IDX.

The writers live in trainfix.py (a plain module, so tests can import them too).
"""

from __future__ import annotations

import importlib.util

import pytest

# The training package needs the [tf] extra's numpy (and matplotlib for figures); without them only
# the pure tests here are collected, so the pure tier still runs.
_missing = {m for m in ("numpy", "matplotlib") if importlib.util.find_spec(m) is None}
collect_ignore = (
    ["trainfix.py", "test_cifar.py", "test_idx_data.py", "test_report.py", "test_hostile.py", "test_pipeline_parity.py"]
    if "numpy" in _missing
    else ["test_report.py"]
    if "matplotlib" in _missing
    else []
)


@pytest.fixture(scope="session")
def cifar_dir(tmp_path_factory):
    """A folder holding a tiny cifar-10-python.tar.gz."""
    pytest.importorskip("numpy")
    from trainfix import cifar_members, write_tar

    d = tmp_path_factory.mktemp("cifar")
    write_tar(d / "cifar-10-python.tar.gz", cifar_members())
    return d


@pytest.fixture(scope="session")
def cifar_extracted(tmp_path_factory):
    """A folder holding an extracted cifar-10-batches-py/."""
    pytest.importorskip("numpy")
    from trainfix import cifar_members

    d = tmp_path_factory.mktemp("cifar_x")
    (d / "cifar-10-batches-py").mkdir()
    for name, data in cifar_members().items():
        (d / "cifar-10-batches-py" / name).write_bytes(data)
    return d


@pytest.fixture(scope="session")
def fmnist_dir(tmp_path_factory):
    pytest.importorskip("numpy")
    from trainfix import write_idx_set

    d = tmp_path_factory.mktemp("fmnist")
    write_idx_set(d)
    return d
