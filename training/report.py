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
    if log:
        ax.set_xscale("log")
    ax.scatter(xs, ys)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Test accuracy")
    rho = spearman(xs, ys)
    n = len(runs)
    caveat = f"n = {n}, too few to mean anything" if n < MIN_RHO_N else f"n = {n}"
    ax.set_title(f"Spearman rho = {rho:.2f} ({caveat})" if rho is not None else f"Spearman rho undefined (n = {n})")
    ax.grid(alpha=0.3)
    place_labels(ax, xs, ys, [label(r) for r in runs])
    _save(fig, path)
    return rho


# Where a label may go, in points from its marker: near first, around the clock, then further out.
_OFFSETS = [
    (round(r * dx), round(r * dy))
    for r in (4, 10, 18, 28, 40)
    for dx, dy in ((1, 0.6), (1, -1.4), (-1, 0.6), (-1, -1.4), (0, 1), (0, -2), (1.3, -0.4), (-1.3, -0.4))
]


def place_labels(ax, xs, ys, texts) -> str:
    """Name each point by a label that overlaps no other label, no marker and stays in the axes (a thin line
    leads back to a marker it moved away from); where some label finds no such place, the points are
    numbered and the names go in a legend beside the plot. Returns ``"labels"`` or ``"legend"``."""
    if _try_place(ax, xs, ys, texts, 7):
        return "labels"
    numbers = [str(n + 1) for n in range(len(texts))]
    if not _try_place(ax, xs, ys, numbers, 6):  # numbers too crowded to place: stacked beside each marker
        for n, (x, y) in enumerate(zip(xs, ys)):
            ax.annotate(
                numbers[n], (x, y), fontsize=6, xytext=(4 + 7 * (n % 4), 4 + 8 * (n // 4)), textcoords="offset points"
            )
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="none", marker=f"${n}$", color="black", label=t) for n, t in zip(numbers, texts)]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return "legend"


def _try_place(ax, xs, ys, texts, size) -> bool:
    """Greedy placement of ``texts`` at ``_OFFSETS`` (matplotlib's own text boxes); False, leaving none, if one fails."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    r = 4 * fig.dpi / 72  # the default marker's radius, in pixels
    blocked = [
        Bbox.from_extents(mx - r, my - r, mx + r, my + r)
        for mx, my in (ax.transData.transform((x, y)) for x, y in zip(xs, ys))
    ]
    placed = []
    for i in sorted(range(len(texts)), key=lambda i: (-ys[i], xs[i])):
        for dx, dy in _OFFSETS:
            far = abs(dx) + abs(dy) > 8
            ann = ax.annotate(
                texts[i],
                (xs[i], ys[i]),
                fontsize=size,
                xytext=(dx, dy),
                textcoords="offset points",
                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                va="center",
                arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5", shrinkA=0, shrinkB=3) if far else None,
            )
            box = ann.get_window_extent(renderer).padded(1)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(b) for b in blocked):
                blocked.append(box)
                placed.append(ann)
                break
            ann.remove()
        else:
            for ann in placed:
                ann.remove()
            return False
    return True


def _fmt(v, spec="{:,}"):
    return "-" if v is None else spec.format(v)


# With n < 5 runs not even a perfect ranking (|rho| = 1) is significant at 5 %: its exact two-sided
# permutation p-value is 2/n!, which is 0.083 for n = 4 and 0.017 for n = 5.
MIN_RHO_N = 5


def label(run: dict) -> str:
    """The spec as the user typed it (``model2``), or the canonical spec for records made before labels."""
    return run.get("label") or run["spec"]


WORDS = {  # report.md in English and Japanese (rfcalc-train --lang); figures' axis labels stay English
    "en": dict(
        title="# Sweep report",
        intro=(
            "Test accuracy after training each spec with the notebook's head (Flatten, Dense(20), "
            "Dense(10, softmax)). params and MACs (per image, forward) come from rfcalc.analyze and equal "
            "Keras's count_params(); RF is the receptive field of the last spatial layer (height x width)."
        ),
        first="first {n} training images",
        all="all training images",
        heading="## {dataset}, {epochs}, {size}, seed {seed}, {precision}, {optimizer} lr {lr}, batch {batch}",
        table="| spec | params | MACs | RF | jump | test acc | test loss | train s | images/s |",
        spearman="Spearman rank correlation ({caveat}):",
        vs_params="- test accuracy vs parameters: {rho}",
        vs_rf="- test accuracy vs receptive field (height): {rho}",
        vs_macs="- test accuracy vs MACs: {rho}",
        undefined="undefined (fewer than two runs, or a constant series)",
        few="n = {runs}: too few for rho to mean anything (even |rho| = 1 needs n >= {min} to be significant at 5 %)",
        n="n = {runs}",
        curves=(
            "Learning curves (train vs validation accuracy and loss) are in each run's folder as curves.png; "
            "every number above is in results.json."
        ),
    ),
    "ja": dict(
        title="# スイープのレポート",
        intro=(
            "ノートブックのヘッド（Flatten、Dense(20)、Dense(10, softmax)）をつけて各スペックを学習した後のテスト精度です。"
            "パラメータ数と MACs（画像1枚あたり、順伝播）は rfcalc.analyze によるもので、Keras の count_params() と"
            "一致します。RF は最後の空間層の受容野（高さ x 幅）です。"
        ),
        first="訓練画像の先頭 {n} 枚",
        all="訓練画像すべて",
        heading="## {dataset}、{epochs}、{size}、シード {seed}、{precision}、{optimizer} 学習率 {lr}、バッチ {batch}",
        table="| スペック | パラメータ数 | MACs | RF | ジャンプ | テスト精度 | テスト損失 | 学習 s | 画像/s |",
        spearman="スピアマンの順位相関（{caveat}）：",
        vs_params="- テスト精度とパラメータ数：{rho}",
        vs_rf="- テスト精度と受容野（高さ）：{rho}",
        vs_macs="- テスト精度と MACs：{rho}",
        undefined="定義されない（実行が2回未満、または値が一定）",
        few="n = {runs}：少なすぎて rho に意味はありません（|rho| = 1 でも 5 % で有意になるには n >= {min} が必要）",
        n="n = {runs}",
        curves="学習曲線（訓練と検証の精度と損失）は各実行のフォルダの curves.png にあります。上の数字はすべて results.json にあります。",
    ),
}


def _rho(v, lang: str = "en") -> str:
    return WORDS[lang]["undefined"] if v is None else f"{v:+.3f}"


def plural(n: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``.

    >>> plural(1, "epoch"), plural(3, "run")
    ('1 epoch', '3 runs')
    """
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def rho_caveat(n: int, lang: str = "en") -> str:
    """What a Spearman rho over ``n`` runs can tell, in a few words.

    >>> rho_caveat(2)
    'n = 2 runs: too few for rho to mean anything (even |rho| = 1 needs n >= 5 to be significant at 5 %)'
    """
    runs = plural(n, "run") if lang == "en" else f"{n} 回"
    return WORDS[lang]["few" if n < MIN_RHO_N else "n"].format(runs=runs, min=MIN_RHO_N)


GROUP_FIELDS = (
    "dataset",
    "resize",
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


def _heading(key: tuple, lang: str = "en") -> str:
    g = dict(zip(GROUP_FIELDS, key))
    W = WORDS[lang]
    size = W["first"].format(n=g["data_size"]) if g["data_size"] else W["all"]
    epochs = plural(g["epochs"], "epoch") if lang == "en" else f"{g['epochs']} エポック"
    at = f" {g['resize']}x{g['resize']}" if g.get("resize") else ""
    return W["heading"].format(
        dataset=g["dataset"] + at,
        epochs=epochs,
        size=size,
        seed=g["seed"],
        precision=g["precision"],
        optimizer=g["optimizer"],
        lr=g["lr"],
        batch=g["batch_size"],
    )


def _spec_cell(run: dict) -> str:
    """The user's spelling, with the canonical spec beside it when they differ."""
    typed = label(run)
    return f"`{typed}`" if typed == run["spec"] else f"`{typed}` (`{run['spec']}`)"


def write_report(runs: list[dict], out_dir, lang: str = "en") -> Path:
    """Write report.md (in ``lang``, en or ja) and the accuracy-vs-parameters / -receptive-field PNGs for
    ``runs``; return report.md."""
    W = WORDS[lang]
    out_dir = Path(out_dir)
    groups: dict[tuple, list[dict]] = {}
    for r in runs:
        groups.setdefault(group_key(r), []).append(r)
    lines = [W["title"], "", W["intro"], ""]
    for n, (key, group) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        group = sorted(group, key=lambda r: r["params"])
        suffix = "" if len(groups) == 1 else f"-{n + 1}"
        p_png, rf_png = f"accuracy_vs_params{suffix}.png", f"accuracy_vs_rf{suffix}.png"
        rho_params = _scatter(group, lambda r: r["params"], "Parameters (log scale)", out_dir / p_png, log=True)
        rho_rf = _scatter(group, lambda r: r["rf"][0], "Receptive field height (pixels)", out_dir / rf_png, log=False)
        rho_macs = spearman([r["macs"] for r in group], [r["test_accuracy"] for r in group])
        lines += [_heading(key, lang), "", W["table"], "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in group:
            lines.append(
                f"| {_spec_cell(r)} | {fmt_int(r['params'])} | {fmt_int(r['macs'])} | {fmt_field(r['rf'])} | "
                f"{r['jump'][0]} | {r['test_accuracy']:.4f} | {r['test_loss']:.4f} | "
                f"{_fmt(r.get('train_seconds'), '{:.0f}')} | {_fmt(r.get('images_per_second'), '{:,.0f}')} |"
            )
        lines += [
            "",
            W["spearman"].format(caveat=rho_caveat(len(group), lang)),
            "",
            W["vs_params"].format(rho=_rho(rho_params, lang)),
            W["vs_rf"].format(rho=_rho(rho_rf, lang)),
            W["vs_macs"].format(rho=_rho(rho_macs, lang)),
            "",
            f"![accuracy vs parameters]({p_png}) ![accuracy vs receptive field]({rf_png})",
            "",
        ]
    from .depth import depth_lines

    lines += depth_lines(runs, out_dir)
    lines += [W["curves"], ""]
    path = out_dir / "report.md"
    with replacing(path) as tmp:
        tmp.write_text("\n".join(lines))
    return path
