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

from .. import argtypes
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
    parser.add_argument(
        "--input",
        metavar="HxWxC",
        type=argtypes.shape,
        default=None,
        help="input shape (default: the image's size, the model's own, else 32x32x3)",
    )
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


def probe_table(result):
    """A rich Table of a ProbeResult: measured vs analytic per layer."""
    from rich.table import Table

    t = Table(title=f"probe: {result.target}", title_justify="left", header_style="bold")
    for col in ("Layer (type)", "Unit", "RF measured", "RF analytic", "Jump m / a", "Start m / a", "Agree"):
        t.add_column(col, justify="left" if col.startswith("Layer") else "right", overflow="fold")  # never cut
    for p in result.layers:
        mark = "[green]yes[/]" if p.agree else ("[yellow]clipped[/]" if p.clipped else "[red]NO[/]")
        least = lambda lo, hi: "" if lo is None or hi is None or tuple(lo) == tuple(hi) else f" (min {_fmt(lo)})"
        t.add_row(
            f"{p.name} ({p.kind})",
            _fmt(p.unit, ","),
            _fmt(p.rf) + least(p.rf_min, p.rf),
            _fmt(p.analytic_rf) + least(p.analytic_rf_min, p.analytic_rf),
            f"{_fmt(p.jump)} / {_fmt(p.analytic_jump)}",
            f"{_fmt(p.start, ',')} / {_fmt(p.analytic_start, ',')}",
            mark,
        )
    grown = (
        ""
        if result.probe_shape == result.input_shape
        else (
            f" (the field needs more than the {_fmt(result.input_shape[:-1])} input; analytic values at the probing size)"
        )
    )
    t.caption = (
        f"probed on {_fmt(result.probe_shape)}{grown}; {result.passes} {result.runs}, "
        f"{result.seconds:.2f} s; " + ("all layers agree" if result.agree else "DISAGREEMENT")
    )
    t.caption_justify = "left"
    return t


def erf_table(result):
    """A rich Table of an ErfResult: squares holding 50/90/99% of the gradient, ratio to the rf, sigma."""
    from rich.table import Table

    t = Table(
        title=f"effective receptive field: {result.target}, {result.layer}, unit {_fmt(result.unit, ',')}",
        title_justify="left",
        header_style="bold",
    )
    t.add_column("Quantity", overflow="fold")
    t.add_column("Value", justify="right", overflow="fold")
    t.add_column("/ theoretical rf", justify="right")
    rank = len(result.sigma)
    box, axes = {1: ("segment", "sample"), 2: ("square", "row, col"), 3: ("cube", "depth, row, col")}[rank]
    for frac, side in sorted(result.sides.items()):
        ratio = result.ratio[frac]
        se = result.sides_se.get(frac)
        t.add_row(
            f"{box} holding {round(frac * 100)}% of |gradient|",
            "x".join([str(side)] * rank) + ("" if se is None else f" ± {se:.2f}"),
            "-" if ratio is None else f"{ratio:.2f}",
        )
    for frac, area in sorted(result.area_ratio.items()):  # RepLKNet's high-contribution area ratio
        t.add_row(
            f"area ratio {round(frac * 100)}% (RepLKNet; {box} {result.area_sides[frac]})",
            f"{area:.4f} ± {result.area_ratio_se.get(frac, 0.0):.4f}",
            "",
        )
    t.add_row("theoretical rf", _fmt(result.rf), "1.00" if result.rf else "-")
    t.add_row("Gaussian sigma (moments)", ", ".join(f"{v:.2f}" for v in result.sigma), "")
    t.add_row(f"centroid ({axes})", ", ".join(f"{v:.2f}" for v in result.centroid), "")
    t.add_row("inputs", result.source + (f"; {result.stopping}" if result.stopping else ""), "")
    return t


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
            show(erf_table(result))
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
        show(probe_table(result))
    return 0 if result.agree else 1
