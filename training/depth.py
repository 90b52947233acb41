"""The depth section of report.md: accuracy (mean ± standard error over seeds) and parameters against the
number of conv layers, with rfcalc's border layer marked (Richter et al. 2021; docs/productivity.md), and a
plain verdict on whether accuracy stops improving at the border, from least-squares slopes either side."""

from __future__ import annotations

from pathlib import Path

from .stats import mean_se, slope_se

SETTINGS = (
    "dataset",
    "resize",
    "epochs",
    "data_size",
    "precision",
    "optimizer",
    "lr",
    "batch_size",
    "validation_split",
)


def _judge(spec: str, shape) -> dict:
    from rfcalc import analyze

    a = analyze(spec, input_shape=tuple(shape), head="seed")
    p = a.productivity()
    convs = sum(1 for r in a.layers if r.kind.startswith("Conv"))
    return {"convs": convs, "unproductive": len(p.unproductive_rows), "border": p.border_name, "params": a.total_params}


def _shape(run) -> tuple:
    """The run's input shape (records made before ``input_shape`` was written: from the dataset)."""
    if run.get("input_shape"):
        return tuple(run["input_shape"])
    from .data import input_shape

    return input_shape(run["dataset"], run.get("resize"))


def families(runs) -> dict:
    """Runs with every setting but spec and seed equal, for groups in which two specs or more have two
    seeds or more each."""
    groups: dict = {}
    for r in runs:
        groups.setdefault(tuple(r.get(f) for f in SETTINGS), []).append(r)
    out = {}
    for key, group in groups.items():
        seeds: dict = {}
        for r in group:
            seeds.setdefault(r["spec"], set()).add(r.get("seed"))
        if sum(len(s) >= 2 for s in seeds.values()) >= 2:  # two depths at least, each with two seeds or more
            out[key] = group
    return out


def summarise(group) -> list[dict]:
    """One point per spec: conv layers, params, unproductive layers, seeds, accuracy mean and SE."""
    by_spec: dict = {}
    for r in group:
        by_spec.setdefault(r["spec"], []).append(r)
    points = []
    for spec, rs in by_spec.items():
        j = _judge(spec, _shape(rs[0]))
        acc = [r["test_accuracy"] for r in rs]
        m, se = mean_se(acc)
        points.append({"spec": spec, **j, "seeds": len(rs), "mean": m, "se": se, "accuracies": acc})
    return sorted(points, key=lambda p: (p["convs"], p["params"]))


def verdict(points) -> tuple[str, dict]:
    """Slopes of per-run accuracy on conv layers before and from the border, and what they say."""
    before = [(p["convs"], a) for p in points if not p["unproductive"] for a in p["accuracies"]]
    after = [(p["convs"], a) for p in points if p["unproductive"] for a in p["accuracies"]]
    s_before = slope_se(*zip(*before)) if len(before) > 2 else None
    s_after = slope_se(*zip(*after)) if len(after) > 2 else None
    stats = {"slope_before": s_before, "slope_after": s_after}
    if len(before) > 1 and len(after) > 1:  # every run before the border against every run from it (Welch)
        (mb, eb), (ma, ea) = mean_se([a for _, a in before]), mean_se([a for _, a in after])
        stats["pooled"] = (mb, ma, ma - mb, (eb**2 + ea**2) ** 0.5)
    if not after:
        return "no spec here has an unproductive layer: the border lies past the depths trained", stats
    if not before:
        return "every spec here already has an unproductive layer: nothing to compare", stats

    def trend(s):
        if s is None or s[1] is None:
            return "undefined"
        b, e = s
        return "rising" if b - 2 * e > 0 else "falling" if b + 2 * e < 0 else "flat"

    tb, ta = trend(s_before), trend(s_after)
    last = max((p for p in points if not p["unproductive"]), key=lambda p: p["convs"])
    best_after = max((p for p in points if p["unproductive"]), key=lambda p: p["mean"])
    diff = best_after["mean"] - last["mean"]
    err = ((best_after["se"] or 0) ** 2 + (last["se"] or 0) ** 2) ** 0.5
    stats.update(last_productive=last["spec"], best_unproductive=best_after["spec"], gain=diff, gain_se=err)
    if tb == "rising" and ta != "rising":
        say = "yes: accuracy rises with depth before the border and stops rising from it"
    elif ta == "rising":
        say = "no: accuracy still rises past the border"
    elif tb == "flat" and ta == "flat":
        say = (
            "not decided: accuracy shows no trend with depth on either side of the border (slopes within "
            "two standard errors of zero), so this run cannot tell whether the border is where it stops"
        )
    else:
        say = f"not decided: accuracy is {tb} before the border and {ta} from it"
    return say, stats


def _plot(points, path, title):
    from .report import _pyplot, _save

    plt = _pyplot()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.6))
    for pts, colour, label in (
        ([p for p in points if not p["unproductive"]], "tab:blue", "no unproductive layer"),
        ([p for p in points if p["unproductive"]], "tab:red", "has unproductive layers"),
    ):
        if pts:
            ax.errorbar(
                [p["convs"] for p in pts],
                [p["mean"] for p in pts],
                yerr=[p["se"] or 0 for p in pts],
                fmt="o",
                color=colour,
                capsize=3,
                label=label,
            )
            bx.plot([p["convs"] for p in pts], [p["params"] for p in pts], "o", color=colour)
    first = min((p["convs"] for p in points if p["unproductive"]), default=None)
    for a in (ax, bx):
        if first is not None:
            a.axvline(first - 0.5, color="tab:red", linestyle="--", linewidth=1)
        a.set_xlabel("conv layers")
        a.grid(alpha=0.3)
    if first is not None:
        ax.text(first - 0.45, ax.get_ylim()[0], " border layer", color="tab:red", fontsize=8, va="bottom")
    ax.set_ylabel("test accuracy (mean ± SE over seeds)")
    bx.set_ylabel("parameters")
    ax.legend(fontsize=7, loc="best")
    fig.suptitle(title)
    _save(fig, path)


def depth_lines(runs, out_dir) -> list[str]:
    """The report.md lines (and PNGs) of every family of seeded runs in ``runs``."""
    out_dir = Path(out_dir)
    lines = []
    for n, (key, group) in enumerate(sorted(families(runs).items(), key=lambda kv: str(kv[0]))):
        g = dict(zip(SETTINGS, key))
        points = summarise(group)
        shape = _shape(group[0])
        size = "x".join(map(str, shape[:-1]))
        png = f"depth-{g['dataset']}-{size}-{n + 1}.png"
        title = f"{g['dataset']} at {size}, {g['epochs']} epochs, {g['data_size'] or 'all'} training images"
        _plot(points, out_dir / png, title)
        say, stats = verdict(points)
        lines += [
            f"## Depth against the border layer: {title}",
            "",
            "Mean test accuracy over seeds ± its standard error (SD/sqrt(n)). 'unproductive' counts the "
            f"layers that read a field wider than the {size} input (rfcalc's productivity(), "
            "docs/productivity.md); the border layer is the first of them.",
            "",
            "| spec | conv layers | params | unproductive layers | border layer | seeds | test accuracy |",
            "|---|---:|---:|---:|---|---:|---:|",
        ]
        for p in points:
            se = f" ± {p['se']:.4f}" if p["se"] is not None else ""
            lines.append(
                f"| `{p['spec']}` | {p['convs']} | {p['params']:,} | {p['unproductive']} | "
                f"{p['border'] or '-'} | {p['seeds']} | {p['mean']:.4f}{se} |"
            )

        def fmt(s):
            return "undefined" if s is None else f"{s[0]:+.4f}" + (f" ± {s[1]:.4f}" if s[1] is not None else "")

        lines += [
            "",
            f"Least-squares slope of accuracy per added conv layer (every run a point): before the border "
            f"{fmt(stats['slope_before'])}, from the border on {fmt(stats['slope_after'])}.",
        ]
        if "gain" in stats:
            lines.append(
                f"Best spec with unproductive layers (`{stats['best_unproductive']}`) minus the deepest "
                f"without (`{stats['last_productive']}`): {stats['gain']:+.4f} ± {stats['gain_se']:.4f}."
            )
        if "pooled" in stats:
            mb, ma, d, e = stats["pooled"]
            lines.append(
                f"Every run before the border against every run from it: {mb:.4f} and {ma:.4f}, "
                f"difference {d:+.4f} ± {e:.4f} (Welch standard error; the depths differ too)."
            )
        lines += [
            f"Does accuracy stop improving at the border? {say}.",
            "",
            f"![accuracy and parameters against depth]({png})",
            "",
        ]
    return lines
