"""``rfcalc probe``: the structural probe (default) or the effective receptive field (``--erf``).

    rfcalc probe SPEC|MODEL [--input HxWxC] [--layer NAME] [--json] [--plot FILE]
                 [--erf] [--samples N] [--seed N] [--image PNG] [--unit ROW,COL]

Without ``--erf`` every spatial layer's field is measured with gradients and compared with the
analysis; the exit status is 1 when they disagree. ``--plot`` writes the rf growth figure, or, with
``--image``, the field of ``--unit`` drawn on that image. With ``--erf`` the ERF of the centre unit
is measured on ``--samples`` random inputs (or on ``--image``) and ``--plot`` writes its heatmap.

>>> import argparse; p = argparse.ArgumentParser(); add_arguments(p)
>>> p.parse_args(["c3,c3", "--erf", "--samples", "8"]).samples
8
"""

from __future__ import annotations

import argparse
import json
import sys

from .. import argtypes, lang
from ..errors import RFError, ShapeError
from ..render import show


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``rfcalc probe`` arguments to ``parser``.

    >>> p = argparse.ArgumentParser(); add_arguments(p); p.parse_args(["c3", "--unit", "1,2"]).unit
    (1, 2)
    """
    parser.add_argument(
        "target",
        metavar="SPEC|MODEL",
        help='a layer spec such as "c3,c3,p2", a .keras/.h5/.onnx file, keras:Name, or a preset (model1, model2)',
    )
    argtypes.add_input(parser, "input shape, channels last (default: the image's size, the model's own, else 32x32x3)")
    parser.add_argument("--layer", metavar="NAME", help="the layer to report (default: the last spatial one)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="write a figure (.png, .svg or .pdf by the name): rf growth, the field on --image, or the ERF",
    )
    parser.add_argument(
        "--erf", action="store_true", help="effective receptive field with the model's weights (Luo et al. 2016)"
    )
    parser.add_argument(
        "--samples",
        metavar="N",
        type=argtypes.positive,
        default=None,
        help="random normal inputs averaged for --erf (default: 8 at a time until the standard errors are within 2%%, at most 32)",
    )
    parser.add_argument(
        "--seed",
        metavar="N",
        type=argtypes.seed,
        default=None,
        help="--erf: seed for the random inputs and a spec's fresh weights (0 to 4294967295; default 0)",
    )
    parser.add_argument(
        "--image",
        metavar="PNG",
        help="--erf: measure on this image; else with --plot: draw the field on it. "
        "cifar10:N takes test image N of CIFAR-10 from Keras's cache",
    )
    parser.add_argument(
        "--unit",
        metavar="ROW,COL",
        type=argtypes.pixel,
        default=None,
        help="output unit drawn with --image --plot (default: the centre one)",
    )
    parser.add_argument(
        "--wide",
        action="store_true",
        help="every column at full width (default: fit the terminal, COLUMNS, else 80 columns)",
    )
    lang.add_argument(parser)


def _input_for_image(args, img):
    """The input shape: --input, else the image's HxW with 3 channels (1 for a grey image)."""
    if args.input is not None:
        return tuple(args.input)
    c = 1 if img.ndim == 2 else 3
    return (img.shape[0], img.shape[1], c)


def _as_batch(img, shape):
    import numpy as np

    x = np.asarray(img, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.shape[2] != shape[2]:
        if shape[2] == 1:
            x = x.mean(axis=2, keepdims=True)
        elif x.shape[2] == 1:
            x = np.repeat(x, shape[2], axis=2)
        else:
            raise ShapeError(f"the image has {x.shape[2]} channels, the input {shape[2]}. Received: --input {shape}")
    return x[None]


def _fmt(pair, sep="x"):
    """Both axes always (``3x3``, ``1.5,2``); ``-`` for no value, on an axis or for the pair."""
    from ..render import fmt_num

    if pair is None:
        return "-"
    return sep.join("-" if v is None else fmt_num(v) for v in pair)


def probe_table(result, lang: str = "en"):
    """A ``textable.Grid`` of a ProbeResult: measured vs analytic per layer (drawn as every rfcalc table)."""
    from ..tablewords import translate
    from ..textable import Column, Grid

    rows = []
    for p in result.layers:
        mark = "yes" if p.agree else ("clipped" if p.clipped else "NO")
        least = lambda lo, hi: "" if lo is None or hi is None or tuple(lo) == tuple(hi) else f" (min {_fmt(lo)})"
        rows.append(
            (
                f"{p.name} ({p.kind})",
                _fmt(p.unit, ","),
                _fmt(p.rf) + least(p.rf_min, p.rf),
                _fmt(p.analytic_rf) + least(p.analytic_rf_min, p.analytic_rf),
                f"{_fmt(p.jump)} / {_fmt(p.analytic_jump)}",
                f"{_fmt(p.start, ',')} / {_fmt(p.analytic_start, ',')}",
                mark,
            )
        )
    grown = (
        ""
        if result.probe_shape == result.input_shape
        else (
            f" (the field needs more than the {_fmt(result.input_shape[:-1])} input; analytic values at the probing size)"
        )
    )
    caption = (
        f"probed on {_fmt(result.probe_shape)}{grown}; {result.passes} {result.runs}, "
        f"{result.seconds:.2f} s; " + ("all layers agree" if result.agree else "DISAGREEMENT")
    )
    columns = tuple(
        Column(h, "left" if h.startswith("Layer") else "right")
        for h in ("Layer (type)", "Unit", "RF measured", "RF analytic", "Jump m / a", "Start m / a", "Agree")
    )
    grid = Grid(f"probe: {result.target}", columns, tuple(rows), (caption,))
    return translate(
        grid, lang, (("drop", "Start m / a"), ("drop", "Unit"), ("drop", "Jump m / a"), ("wrap", "Layer (type)"))
    )


def erf_table(result, lang: str = "en"):
    """A ``textable.Grid`` of an ErfResult: squares holding 50/90/99% of the gradient, ratio to the rf, sigma."""
    from ..tablewords import translate
    from ..textable import Column, Grid

    rank = len(result.sigma)
    box, axes = {1: ("segment", "sample"), 2: ("square", "row, col"), 3: ("cube", "depth, row, col")}[rank]
    ja = lang == "ja"
    if ja:
        box = {"segment": "区間", "square": "正方形", "cube": "立方体"}[box]
        axes = {"sample": "サンプル", "row, col": "行, 列", "depth, row, col": "奥行き, 行, 列"}[axes]
    rows = []
    for frac, side in sorted(result.sides.items()):
        ratio = result.ratio[frac]
        se = result.sides_se.get(frac)
        what = (
            f"|勾配| の {round(frac * 100)}% が入る{box}" if ja else f"{box} holding {round(frac * 100)}% of |gradient|"
        )
        rows.append(
            (
                what,
                "x".join([str(side)] * rank) + ("" if se is None else f" ± {se:.2f}"),
                "-" if ratio is None else f"{ratio:.2f}",
            )
        )
    for frac, area in sorted(result.area_ratio.items()):  # RepLKNet's high-contribution area ratio
        what = (
            f"面積比 {round(frac * 100)}%（RepLKNet、{box} {result.area_sides[frac]}）"
            if ja
            else f"area ratio {round(frac * 100)}% (RepLKNet; {box} {result.area_sides[frac]})"
        )
        rows.append((what, f"{area:.4f} ± {result.area_ratio_se.get(frac, 0.0):.4f}", ""))
    rows.append(("理論上の受容野" if ja else "theoretical rf", _fmt(result.rf), "1.00" if result.rf else "-"))
    rows.append(
        (
            "ガウスの σ（モーメント）" if ja else "Gaussian sigma (moments)",
            ", ".join(f"{v:.2f}" for v in result.sigma),
            "",
        )
    )
    rows.append(
        ((f"重心（{axes}）" if ja else f"centroid ({axes})"), ", ".join(f"{v:.2f}" for v in result.centroid), "")
    )
    source = result.source + (f"; {result.stopping}" if result.stopping else "")
    rows.append(("入力" if ja else "inputs", source, ""))
    columns = (Column("Quantity", wrap=True), Column("Value", "right"), Column("/ theoretical rf", "right"))
    title = f"effective receptive field: {result.target}, {result.layer}, unit {_fmt(result.unit, ',')}"
    return translate(Grid(title, columns, tuple(rows)), lang, (("drop", "/ theoretical rf"), ("wrap", "Quantity")))


def _refuse_idle_options(args) -> None:
    """Options that would do nothing in this combination are errors, not silently ignored."""
    if args.unit is not None and not (args.image and args.plot and not args.erf):
        raise RFError(
            "--unit picks the output unit drawn on --image with --plot (not with --erf); "
            "add --image PNG --plot FILE, or drop --unit"
        )
    if not args.erf:
        for flag, value in (("--samples", args.samples), ("--seed", args.seed)):
            if value is not None:
                raise RFError(
                    f"{flag} sets up the ERF's random inputs; add --erf, or drop {flag} "
                    "(the structural probe uses fixed weights and inputs)"
                )
        if args.image and not args.plot:
            raise RFError("--image without --erf is only drawn on, with --plot FILE; add --plot or --erf")
    elif args.image and args.samples is not None:
        raise RFError("--erf measures on --image or on --samples random inputs, not both; drop one")


def _wrote(path: str) -> None:
    sys.stderr.write(f"rfcalc: wrote {path}\n")  # stderr: stdout may be JSON


def run(args) -> int:
    """Run ``rfcalc probe`` for parsed ``args``; 0 on success, 1 when the probe disagrees with the analysis.

    >>> p = argparse.ArgumentParser(); add_arguments(p)
    >>> run(p.parse_args(["c3-2", "--input", "8x8x1", "--json"]))  # doctest: +SKIP
    0
    """
    if args.plot:
        from .plots import figure_path

        figure_path(args.plot)  # a bad name fails now, not after the probe
    _refuse_idle_options(args)
    language = lang.pick(args.lang)
    if args.json and args.wide:
        raise RFError("--wide shapes the printed table; --json prints no table: drop --wide")
    from ..sources import check_source

    check_source(args.target)  # a JPEG, a .pt, a folder: say so, rather than parse it as a spec
    from ..presets import lookup

    spec, head = lookup(args.target) or (args.target, None)  # model1, model2: the notebook's models
    if args.erf:
        head = None  # the ERF is of a spatial layer; the notebook's dense head does not change it
    img = None
    if args.image:
        from .plots import read_image

        img = read_image(args.image)
    shape = _input_for_image(args, img) if img is not None else args.input
    if args.erf:
        from .effective_rf import erf

        images = _as_batch(img, shape) if img is not None else None
        result = erf(
            spec, input_shape=shape, layer=args.layer, samples=args.samples, images=images, seed=args.seed or 0
        )
        if args.plot:
            from .plots import plot_erf

            _wrote(plot_erf(result, args.plot))
        if args.json:
            sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
        else:
            show(erf_table(result, language), wide=args.wide)
        return 0
    from .probes import probe

    result = probe(spec, input_shape=shape, layer=args.layer, head=head)
    if args.plot:
        if img is not None:
            from .plots import plot_rf_on_image

            _wrote(plot_rf_on_image(result.analysis, img, unit=args.unit, path=args.plot, layer=args.layer))
        else:
            from .plots import plot_rf_growth

            _wrote(plot_rf_growth(result.analysis, args.plot))
    if args.json:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    else:
        show(probe_table(result, language), wide=args.wide)
    return 0 if result.agree else 1
