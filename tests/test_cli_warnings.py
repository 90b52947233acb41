"""The CLI's warnings: a run of misaligned merges is folded after the first ``FULL_MERGES``."""

from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from rfcalc import cli  # noqa: E402


def _misaligned_chain(tmp_path, merges: int) -> str:
    """``merges`` Adds, each joining a 2x2 average pool of stride 2 with a 3x3 one of stride 2, pad 1
    (same size, centres half a pixel apart), then one Sum of them all (aligned: every union starts at 0)."""
    nodes = [helper.make_node("AveragePool", ["x"], ["a0"], name="pool0", kernel_shape=[2, 2], strides=[2, 2])]
    for i in range(merges):
        nodes.append(
            helper.make_node(
                "AveragePool", ["x"], [f"p{i}"], name=f"side{i}", kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4
            )
        )
        nodes.append(helper.make_node("Add", ["a0", f"p{i}"], [f"m{i}"], name=f"merge{i}"))
    last = "out"
    nodes.append(helper.make_node("Sum", [f"m{i}" for i in range(merges)], [last], name="total"))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 16, 16])],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "chain.onnx"
    onnx.save(model, path)
    return str(path)


@pytest.mark.parametrize("merges", [1, 2, 3, 6, 12])
def test_misaligned_merges_fold_into_one_line(tmp_path, capsys, merges):
    assert cli.main([_misaligned_chain(tmp_path, merges)]) == 0
    lines = capsys.readouterr().err.splitlines()
    full = [ln for ln in lines if "joins misaligned paths" in ln]
    folded = [ln for ln in lines if "more merge layers" in ln]
    assert len(full) == min(merges, cli.FULL_MERGES)
    assert [f"'merge{i}'" in ln for i, ln in enumerate(full)] == [True] * len(full)
    if merges <= cli.FULL_MERGES:
        assert folded == []
    else:
        (line,) = folded
        assert line.startswith(f"rfcalc: warning: {merges - cli.FULL_MERGES} more merge layers")
        assert f"merge{merges - 1}" in line and f"merge{cli.FULL_MERGES}" in line
        assert ("..." in line) == (merges - cli.FULL_MERGES > 8)
    assert len(lines) == len(full) + len(folded)


def test_warnings_not_from_rfcalc_are_left_out():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(UserWarning("not ours"), stacklevel=1)
    assert cli.warning_lines(caught) == []
