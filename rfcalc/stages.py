"""Group the rows of a long network into stages, for explanations that read as paragraphs.

A stage is a run of consecutive rows sharing a name prefix (Keras' ``conv2_block1_1_conv`` ->
``conv2``, torch's ``layer1.0.conv1`` -> ``layer1``; single rows in a row, such as a stem's conv, bn,
relu and pool, are one stage), or, when names do not group (specs: ``conv2d``, ``conv2d_1``...), a run
of rows with the same jump.

>>> from rfcalc import analyze
>>> [(name, len(rows)) for name, rows in stages(analyze("c3,c3,p2,c3,c3,p2").layers)]
[(None, 2), (None, 3), (None, 1)]
"""

from __future__ import annotations

import re


def prefix(name: str) -> str:
    """The first piece of a layer name: ``conv2`` of ``conv2_block1_1_conv``, ``layer1`` of ``layer1.0.conv1``.

    >>> prefix("conv2_block1_1_conv"), prefix("layer1.0.conv1"), prefix("model/conv")
    ('conv2', 'layer1', 'model')
    """
    return re.split(r"[._/]", name, maxsplit=1)[0] or name


def _runs(rows, key) -> list[list]:
    out: list[list] = []
    for r in rows:
        if out and key(out[-1][-1]) == key(r):
            out[-1].append(r)
        else:
            out.append([r])
    return out


def stages(rows) -> list[tuple[str | None, list]]:
    """``(name, rows)`` per stage: ``name`` the shared prefix, or None for stages told apart by the jump."""
    rows = list(rows)
    runs = _runs(rows, lambda r: prefix(r.name))
    merged: list[list] = []
    singles = False  # the last stage is made of single rows
    for run in runs:  # neighbouring single rows (a stem: conv1, bn1, relu, maxpool) make one stage
        if len(run) == 1 and singles:
            merged[-1].extend(run)
        else:
            merged.append(list(run))
            singles = len(run) == 1
    if 2 <= len(merged) <= max(2, len(rows) // 3):
        return [(prefix(run[0].name) if len({prefix(r.name) for r in run}) == 1 else
                 f"{prefix(run[0].name)}..{prefix(run[-1].name)}", run) for run in merged]
    return [(None, run) for run in _runs(rows, lambda r: r.jump)]
