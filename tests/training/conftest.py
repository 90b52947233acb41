"""Fixtures: a tiny CIFAR-10 in the official format (archive and extracted), and a tiny Fashion-MNIST as IDX.

The writers live in trainfix.py (a plain module, so tests can import them too).
"""

from __future__ import annotations

import pytest
from trainfix import cifar_members, write_idx_set, write_tar


@pytest.fixture(scope="session")
def cifar_dir(tmp_path_factory):
    """A folder holding a tiny cifar-10-python.tar.gz."""
    d = tmp_path_factory.mktemp("cifar")
    write_tar(d / "cifar-10-python.tar.gz", cifar_members())
    return d


@pytest.fixture(scope="session")
def cifar_extracted(tmp_path_factory):
    """A folder holding an extracted cifar-10-batches-py/."""
    d = tmp_path_factory.mktemp("cifar_x")
    (d / "cifar-10-batches-py").mkdir()
    for name, data in cifar_members().items():
        (d / "cifar-10-batches-py" / name).write_bytes(data)
    return d


@pytest.fixture(scope="session")
def fmnist_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fmnist")
    write_idx_set(d)
    return d
