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

from .render import fmt_pair


def _hw(sizes) -> str:
    return "×".join(str(v) for v in sizes)


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
        return [
            (
                prefix(run[0].name)
                if len({prefix(r.name) for r in run}) == 1
                else f"{prefix(run[0].name)}..{prefix(run[-1].name)}",
                run,
            )
            for run in merged
        ]
    return [(None, run) for run in _runs(rows, lambda r: r.jump)]


def stage_lines(T, a, lines: list, staged: int = 12) -> dict:
    """For a network of more than ``staged`` spatial layers: a summary with one line per stage appended
    to ``lines`` (``T``: explain's words in one language), and the heading of each stage keyed by the
    number of its first layer; ``{}`` for shorter ones.

    >>> from rfcalc import analyze
    >>> from rfcalc.explanation_words import LANGS
    >>> stage_lines(LANGS["en"], analyze("c3,c3"), [])
    {}
    """
    spatial = []
    for r in a.layers:
        if not r.spatial:
            break
        spatial.append(r)
    groups = stages(spatial)
    if len(spatial) <= staged or len(groups) < 2:
        return {}
    number = {r.name: i for i, r in enumerate(a.layers, start=1)}
    before = {r.name: (a.layers[i - 1] if i else None) for i, r in enumerate(a.layers)}
    one = (1,) * a.rank
    lines += ["", T["summary"].format(n=len(spatial), k=len(groups), rf=_hw(a.rf), j=fmt_pair(a.jump, "×"))]
    heads = {}
    for i, (name, rows) in enumerate(groups, start=1):
        first, last = rows[0], rows[-1]
        prev = before[first.name]
        r0, j0 = (prev.rf, prev.jump) if prev is not None and prev.spatial else (one, one)
        words = dict(
            name=name or T["jump_stage"].format(j=fmt_pair(last.jump, "×")),
            a=number[first.name],
            b=number[last.name],
            r0=_hw(r0),
            r1=_hw(last.rf),
            j0=fmt_pair(j0, "×"),
            j1=fmt_pair(last.jump, "×"),
        )
        holes = T["with_holes"] if any("holes" in r.flags for r in rows) else ""
        lines.append(T["stage_item"].format(holes=holes, **words))
        jumps = T["jump_stays" if words["j0"] == words["j1"] else "jump_grows"].format(**words)
        heads[number[first.name]] = T["stage_head"].format(i=i, jumps=jumps, **words)
    return heads
