"""The report's receptive-field growth chart: inline SVG, rf per spatial layer, the input size as a line.

Each point carries ``data-layer`` so the page can choose that layer when it is clicked; the page
moves the ``#growth-cursor`` line to the chosen layer.

>>> from rfcalc import analyze
>>> svg = growth_svg(analyze("c3,c3,p2"), "input size")
>>> svg.startswith("<svg") and svg.count("<circle") == 3
True
"""

from __future__ import annotations

from html import escape

W, H, LEFT, RIGHT, TOP, BOTTOM = 640, 220, 48, 12, 12, 30


def growth_svg(
    analysis,
    input_label: str,
    depth_label: str = "depth",
    rf_label: str = "rf",
    band: str = "productive input sizes",
    border: str = "border layer",
) -> str:
    """An SVG chart of rf (rows, and columns where they differ; rf_min where paths differ) over the spatial
    layers, the productive input sizes of the first axis as a band and the border layer as a dashed line.

    >>> import dataclasses
    >>> from rfcalc import analyze
    >>> a = analyze("c3,c5")
    >>> b = dataclasses.replace(a, layers=(a.layers[0], dataclasses.replace(a.layers[1], rf_min=(3, 3))))
    >>> 'class="rfline rfmin"' in growth_svg(b, "input"), 'rfmin' in growth_svg(a, "input")
    (True, False)
    """
    rows = [r for r in analysis.layers if r.spatial]
    if not rows:
        return ""
    rank = len(rows[0].rf)
    sizes = list(analysis.input_shape[:rank])
    p = analysis.productivity()
    first = p.ranges[0]
    top = max(max(max(r.rf) for r in rows), max(sizes), first.hi or 0) * 1.05
    n = len(rows)

    def x(i):
        return LEFT + (W - LEFT - RIGHT) * (i / max(n - 1, 1))

    def y(v):
        return TOP + (H - TOP - BOTTOM) * (1 - v / top)

    parts = [
        f'<svg id="growth" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="{escape(rf_label)}">',
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" class="axis"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" class="axis"/>',
    ]
    if first.exists:
        label = f"{band} {first.lo}" + (f"-{first.hi}" if first.hi != first.lo else "")
        parts.append(
            f'<rect x="{LEFT}" y="{y(first.hi):.1f}" width="{W - LEFT - RIGHT}" '
            f'height="{max(y(first.lo) - y(first.hi), 1):.1f}" class="band"><title>{escape(label)}</title>'
            f'</rect><text x="{LEFT + 4}" y="{y(first.hi) - 3:.1f}" class="tick">{escape(label)}</text>'
        )
    if p.border is not None:
        i = [r.name for r in rows].index(p.border_name)
        parts.append(
            f'<line x1="{x(i):.1f}" y1="{TOP}" x2="{x(i):.1f}" y2="{H - BOTTOM}" class="borderline">'
            f"<title>{escape(border)}: {escape(p.border_name)}</title></line>"
        )
    for v in (0, round(top / 2), int(top)):
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" class="tick ytick" text-anchor="end">{v}</text>')
    every = max(1, -(-n // 16))  # numbered depth ticks, at most ~16
    for i in sorted(set(range(0, n, every)) | {n - 1}):
        parts.append(
            f'<text x="{x(i):.1f}" y="{H - BOTTOM + 12}" class="tick xtick" text-anchor="middle">{i + 1}</text>'
        )
    for size in dict.fromkeys(sizes):
        parts.append(
            f'<line x1="{LEFT}" y1="{y(size):.1f}" x2="{W - RIGHT}" y2="{y(size):.1f}" class="inputline"/>'
            f'<text x="{W - RIGHT}" y="{y(size) - 3:.1f}" class="tick" text-anchor="end">'
            f"{escape(input_label)} {size}</text>"
        )
    for axis in range(rank if any(len(set(r.rf)) > 1 for r in rows) else 1):
        pts = " ".join(f"{x(i):.1f},{y(r.rf[axis]):.1f}" for i, r in enumerate(rows))
        parts.append(f'<polyline points="{pts}" class="rfline rf{axis}"/>')
    if any(r.rf_min != r.rf for r in rows):  # branchy models: the narrowest path too
        pts = " ".join(f"{x(i):.1f},{y(r.rf_min[0]):.1f}" for i, r in enumerate(rows))
        parts.append(f'<polyline points="{pts}" class="rfline rfmin"><title>rf_min</title></polyline>')
    parts.append(
        f'<line id="growth-cursor" x1="{x(0):.1f}" y1="{TOP}" x2="{x(0):.1f}" y2="{H - BOTTOM}" class="cursor"/>'
    )
    for i, r in enumerate(rows):
        rf = "x".join(str(v) for v in r.rf)
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(r.rf[0]):.1f}" r="3.5" data-layer="{escape(r.name)}" '
            f'data-x="{x(i):.1f}"><title>{escape(r.name)}: {rf}</title></circle>'
        )
    parts.append(
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 2}" class="tick" text-anchor="middle">'
        f"{escape(depth_label)} (1..{n})</text></svg>"
    )
    return "".join(parts)
