"""A picture of a design's front: parameters against receptive field, each stack coloured by its depth.

matplotlib loads only here (``rfcalc design --plot FILE``), with the Agg backend so no display is needed.
"""

from __future__ import annotations


def plot_front(design, path: str) -> str:
    """Save the front of ``design`` (every row, not only the shown ones) to ``path`` (.png, .svg or .pdf);
    returns the path."""
    from ..errors import RFError
    from ..runs.plots import figure_path

    path = figure_path(path)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = design.rows
    fields = [min(r.analysis.rf) for r in rows]
    params = [r.params for r in rows]
    depths = [r.depth for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    points = ax.scatter(fields, params, c=depths, cmap="viridis", s=46, edgecolors="black", linewidths=0.4)
    fig.colorbar(points, ax=ax, label="depth (layers)")
    for r, x, y in zip(rows, fields, params):
        if r.wins:
            ax.annotate(
                f"{r.stack}  ({', '.join(r.wins)})", (x, y), textcoords="offset points", xytext=(6, 4), fontsize=7
            )
    target = design.goal.rf
    if target is not None:
        ax.axvline(min(target), color="grey", linestyle="--", linewidth=0.8, label=f"target {min(target)}")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlabel("receptive field (pixels, smaller axis)")
    ax.set_ylabel("parameters")
    ax.set_yscale("log" if max(params) > 20 * max(1, min(params)) else "linear")
    ax.set_title(design.title(), fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path, format=path.rsplit(".", 1)[1].lower())
    except (OSError, ValueError) as err:
        raise RFError(f"cannot write the figure to {path}: {err}") from None
    finally:
        plt.close(fig)
    return path
