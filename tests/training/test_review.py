"""Bugs found in review, each pinned by a test."""

from __future__ import annotations

import sys


def test_out_that_is_a_file_is_one_line_and_exit_2_before_tensorflow(fmnist_dir, tmp_path, capsys):
    from training.cli import main

    out = tmp_path / "runs"
    out.write_text("not a folder")
    tf_loaded = "tensorflow" in sys.modules
    rc = main(
        ["c3-8,p2", "--dataset", "fashion_mnist", "--data-dir", str(fmnist_dir), "--out", str(out), "--epochs", "1"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "is a file, not a folder" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert tf_loaded or "tensorflow" not in sys.modules
    assert out.read_text() == "not a folder"
