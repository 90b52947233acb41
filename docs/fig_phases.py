"""Draw docs/img/phases_decoder.png: the exact field of every output unit after upsampling.

    .venv/bin/python docs/fig_phases.py

For the small decoder of docs/arithmetic.md (``c3,p2,c3,p2,up2,c3,up2,c3`` on a 32-sample 1-D
input) each output unit's field is a bar from its first to its last input sample, coloured by
the unit's phase (u mod 4); the dashed lines are what the affine formula start + u·jump ± (rf−1)/2
would claim. The fields come from ``Row.field_of``, the numbers the tests check unit by unit
against the brute-force oracle.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rfcalc import analyze

    a = analyze("c3,p2,c3,p2,up2,c3,up2,c3", input_shape="32x1")
    last = a.layers[-1]
    period = last.axes[0].period
    units = range(12)
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    colours = plt.get_cmap("tab10")
    for u in units:
        ((lo, hi),) = last.field_of((u,))
        ax.plot(
            [lo - 0.5, hi + 0.5],
            [u, u],
            lw=7,
            solid_capstyle="butt",
            color=colours(u % period),
            label=f"phase {u % period}" if u < period else None,
        )
        ax.text(hi + 0.9, u, f"{hi - lo + 1}", va="center", fontsize=8)
        centre, half = a.start[0] + u * a.jump[0], (a.rf[0] - 1) / 2
        ax.plot(
            [centre - half - 0.5, centre + half + 0.5],
            [u + 0.32, u + 0.32],
            ls="--",
            lw=1,
            color="0.45",
            label="affine start + u·jump ± (rf−1)/2" if u == 0 else None,
        )
    ax.axvspan(-9, -0.5, color="0.92", zorder=0)
    ax.text(-8.6, 11.5, "padding", fontsize=8, color="0.4")
    ax.set_xlim(-9, 27)
    ax.invert_yaxis()
    ax.set_xlabel("input sample")
    ax.set_ylabel("output unit u")
    ax.set_title(
        f"c3,p2,c3,p2,up2,c3,up2,c3: fields of {a.rf_min[0]} to {a.rf[0]} samples, repeating every {period} units",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    out = ROOT / "docs" / "img" / "phases_decoder.png"
    fig.savefig(out)
    print(out)


if __name__ == "__main__":
    main()
