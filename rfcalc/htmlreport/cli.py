"""``rfcalc report SPEC|MODEL [-o report.html]``: the arguments and the run of the report command.

>>> import argparse
>>> p = argparse.ArgumentParser(); add_arguments(p)
>>> p.parse_args(["c3,c3", "--lang", "ja"]).output
'report.html'
"""

from __future__ import annotations

import importlib.util
import sys

from ..errors import RFError


def add_arguments(p) -> None:
    from .. import argtypes

    p.add_argument("spec", help='a layer spec such as "c3,c3,p2", a .keras/.h5 file, or keras:ResNet50')
    p.add_argument("-o", "--output", metavar="PATH", default="report.html", help="where to write the page")
    p.add_argument(
        "--input",
        metavar="HxWxC",
        type=argtypes.shape,
        default=None,
        help="input shape (default 32x32x3; for a model, its own input)",
    )
    p.add_argument(
        "--head", metavar="seed|SPEC", type=argtypes.nonempty, default=None, help="append a head (see rfcalc --help)"
    )
    p.add_argument(
        "--set",
        metavar="NAME=N",
        type=argtypes.binding,
        action="append",
        default=[],
        help="bind a symbol of the spec (repeatable)",
    )
    p.add_argument(
        "--identity",
        metavar="NAME",
        action="append",
        default=[],
        help="(models) treat this unknown layer as identity (repeatable)",
    )
    p.add_argument(
        "--image",
        metavar="PATH|cifar10:N|fashion_mnist:N",
        help="draw the fields on this image (resized to the input); default a neutral grid",
    )
    p.add_argument(
        "--erf",
        action="store_true",
        help="add the effective receptive field of the last spatial layer's centre unit (TensorFlow; an .onnx model: onnxruntime)",
    )
    p.add_argument("--lang", choices=("en", "ja"), default="en", help="language of the page (ja: 日本語)")
    p.add_argument("--force", action="store_true", help="overwrite PATH even if it is not an rfcalc report")


def run(args, analyze_args) -> int:
    """Build and write the report; ``analyze_args`` is the CLI's own spec-or-model analysis of ``args``."""
    from .page import check_target, report, write

    out = args.output
    check_target(out, args.force)  # before any work: an unwritable -o fails at once
    from ..sources import is_onnx_source

    if args.erf and not is_onnx_source(args.spec) and not _installed("tensorflow"):  # ONNX: onnxruntime
        raise RFError("--erf needs TensorFlow, which is not installed: pip install 'rfcalc[tf]'")
    analysis = analyze_args(args)
    erf = False
    if args.erf:  # probe what was asked for: the model source, or the spec's layers with head and bindings
        from ..sources import is_model_source

        erf = args.spec
        if not is_model_source(erf):
            from ..analysis import resolve

            erf = resolve(erf, args.head, dict(args.set) or None)
    page = report(analysis, image=args.image, lang=args.lang, erf=erf)
    for note in page.notes:
        sys.stderr.write(f"rfcalc: note: {note}\n")
    write(out, page.html, force=args.force)
    sys.stderr.write(f"rfcalc: wrote {out} ({len(page.html.encode()):,} bytes)\n")
    return 0


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module blocked with sys.modules[name] = None
        return False
