"""Figures and the sweep report: learning curves (the notebook's ``plot_result``), accuracy against
parameters and against receptive field, a table and Spearman's rho, written as report.md."""

from __future__ import annotations

from pathlib import Path

from rfcalc.render import fmt_field, fmt_int

from .atomic import replacing
from .stats import spearman


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    with replacing(path, ".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)


def plot_result(history: dict, path, title: str | None = None) -> None:
    """The notebook's ``plot_result``: accuracy and loss, train vs validation, per epoch, saved as PNG."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    fig = plt.figure(figsize=(10, 3))
    for i, (metric, name) in enumerate((("accuracy", "Model accuracy"), ("loss", "Model loss"))):
        ax = fig.add_subplot(1, 2, i + 1)
        epochs = range(1, len(history.get(metric, [])) + 1)
        ax.plot(epochs, history.get(metric, []), marker=".")
        legend = ["Train"]
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], marker=".")
            legend.append("Validation")
        ax.set_title(name)
        ax.set_ylabel(metric.capitalize())
        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.legend(legend, loc="best")
    if title:
        fig.suptitle(title, y=1.02)
    _save(fig, path)


def _scatter(runs, x_of, xlabel: str, path, log: bool) -> float | None:
    """Test accuracy against ``x_of(run)``, titled with Spearman's rho, which it returns."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [x_of(r) for r in runs]
    ys = [r["test_accuracy"] for r in runs]
    ax.scatter(xs, ys)
    for x, y, r in zip(xs, ys, runs):
        ax.annotate(label(r), (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Test accuracy")
    rho = spearman(xs, ys)
    n = len(runs)
    caveat = f"n = {n}, too few to mean anything" if n < MIN_RHO_N else f"n = {n}"
    ax.set_title(f"Spearman rho = {rho:.2f} ({caveat})" if rho is not None else f"Spearman rho undefined (n = {n})")
    ax.grid(alpha=0.3)
    _save(fig, path)
    return rho


def _fmt(v, spec="{:,}"):
    return "-" if v is None else spec.format(v)


# With n < 5 runs not even a perfect ranking (|rho| = 1) is significant at 5 %: its exact two-sided
# permutation p-value is 2/n!, which is 0.083 for n = 4 and 0.017 for n = 5.
MIN_RHO_N = 5


def label(run: dict) -> str:
    """The spec as the user typed it (``model2``), or the canonical spec for records made before labels."""
    return run.get("label") or run["spec"]


def _rho(v) -> str:
    return "undefined (fewer than two runs, or a constant series)" if v is None else f"{v:+.3f}"


def plural(n: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``.

    >>> plural(1, "epoch"), plural(3, "run")
    ('1 epoch', '3 runs')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def rho_caveat(n: int) -> str:
    """What a Spearman rho over ``n`` runs can tell, in a few words.

    >>> rho_caveat(2)
    'n = 2 runs: too few for rho to mean anything (even |rho| = 1 needs n >= 5 to be significant at 5 %)'
    """
    if n < MIN_RHO_N:
        return (
            f"n = {plural(n, 'run')}: too few for rho to mean anything "
            f"(even |rho| = 1 needs n >= {MIN_RHO_N} to be significant at 5 %)"
        )
    return f"n = {plural(n, 'run')}"


GROUP_FIELDS = (
    "dataset",
    "epochs",
    "data_size",
    "seed",
    "precision",
    "optimizer",
    "lr",
    "batch_size",
    "validation_split",
)


def group_key(run: dict) -> tuple:
    """Runs are compared only like with like: every setting but the spec equal."""
    return tuple(run.get(f, "float32" if f == "precision" else None) for f in GROUP_FIELDS)


def _heading(key: tuple) -> str:
    g = dict(zip(GROUP_FIELDS, key))
    size = f"first {g['data_size']} training images" if g["data_size"] else "all training images"
    return (
        f"## {g['dataset']}, {plural(g['epochs'], 'epoch')}, {size}, seed {g['seed']}, {g['precision']}, "
        f"{g['optimizer']} lr {g['lr']}, batch {g['batch_size']}"
    )


def _spec_cell(run: dict) -> str:
    """The user's spelling, with the canonical spec beside it when they differ."""
    typed = label(run)
    return f"`{typed}`" if typed == run["spec"] else f"`{typed}` (`{run['spec']}`)"


def write_report(runs: list[dict], out_dir) -> Path:
    """Write report.md and the accuracy-vs-parameters / -receptive-field PNGs for ``runs``; return report.md."""
    out_dir = Path(out_dir)
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault(group_key(r), []).append(r)
    lines = [
        "# Sweep report",
        "",
        "Test accuracy after training each spec with the notebook's head (Flatten, Dense(20), "
        "Dense(10, softmax)). params and MACs (per image, forward) come from rfcalc.analyze and equal "
        "Keras's count_params(); RF is the receptive field of the last spatial layer (height x width).",
        "",
    ]
    for n, (key, group) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        group = sorted(group, key=lambda r: r["params"])
        suffix = "" if len(groups) == 1 else f"-{n + 1}"
        p_png, rf_png = f"accuracy_vs_params{suffix}.png", f"accuracy_vs_rf{suffix}.png"
        rho_params = _scatter(group, lambda r: r["params"], "Parameters (log scale)", out_dir / p_png, log=True)
        rho_rf = _scatter(group, lambda r: r["rf"][0], "Receptive field height (pixels)", out_dir / rf_png, log=False)
        rho_macs = spearman([r["macs"] for r in group], [r["test_accuracy"] for r in group])
        lines += [
            _heading(key),
            "",
            "| spec | params | MACs | RF | jump | test acc | test loss | train s | images/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in group:
            lines.append(
                f"| {_spec_cell(r)} | {fmt_int(r['params'])} | {fmt_int(r['macs'])} | {fmt_field(r['rf'])} | "
                f"{r['jump'][0]} | {r['test_accuracy']:.4f} | {r['test_loss']:.4f} | "
                f"{_fmt(r.get('train_seconds'), '{:.0f}')} | {_fmt(r.get('images_per_second'), '{:,.0f}')} |"
            )
        lines += [
            "",
            f"Spearman rank correlation ({rho_caveat(len(group))}):",
            "",
            f"- test accuracy vs parameters: {_rho(rho_params)}",
            f"- test accuracy vs receptive field (height): {_rho(rho_rf)}",
            f"- test accuracy vs MACs: {_rho(rho_macs)}",
            "",
            f"![accuracy vs parameters]({p_png}) ![accuracy vs receptive field]({rf_png})",
            "",
        ]
    lines += [
        "Learning curves (train vs validation accuracy and loss) are in each run's folder as curves.png; "
        "every number above is in results.json.",
        "",
    ]
    path = out_dir / "report.md"
    with replacing(path) as tmp:
        tmp.write_text("\n".join(lines))
    return path
