"""``rfcalc design``: arguments over ``rfcalc.design``; bad input is one message and exit status 2.

    rfcalc design --rf 32 [--input 32x32x3] [--layers "c3,c5,c3d2,p2,a2,c3s2"] [--max-params 100k]
                  [--max-macs 50M] [--max-depth 12] [--min-output 4x4] [--filters 32|32,64,128]
                  [--head seed] [--minimize params|macs|depth] [--top 10] [--json] [--plot FILE]
                  [--symbolic] [--like SPEC] [--cover]

>>> budget("100k"), budget("50M"), budget("1.5M"), budget("2,000")
(100000, 50000000, 1500000, 2000)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from fractions import Fraction

from .. import argtypes

_SCALE = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9}
_BUDGET = re.compile(r"(\d[\d,_]*(?:\.\d+)?)\s*([kmg]?)", re.IGNORECASE)

EPILOG = """\
examples:
  rfcalc design --cover                          the cheapest c3/c5/p2 stacks that see the whole 32x32 image
  rfcalc design --rf 64 --min-output 4x4 --filters 32,64,128 --head seed
  rfcalc design --like "c3,c3,p2" --rf 10        same kinds and order; counts, dilations, strides vary
  rfcalc design --rf 32 --layers c3 --symbolic   closed forms: (R-1)/2 3x3 convs
"""


def budget(text: str) -> int:
    """A count such as ``100k``, ``50M``, ``1.5G`` or ``100,000``."""
    m = _BUDGET.fullmatch(text.strip())
    value = Fraction(m.group(1).replace(",", "").replace("_", "")) * _SCALE[m.group(2).lower()] if m else None
    if value is None or value.denominator != 1 or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive count such as 100k, 50M or 2000. Received: {text!r}")
    return int(value)


def filters(text: str) -> tuple:
    """One width for every conv (``32``) or one per stage (``32,64,128``)."""
    parts = text.replace(" ", "").split(",")
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"write filters as 32 or 32,64,128. Received: {text!r}")
    return tuple(int(p) for p in parts)


def _ints(text: str) -> tuple:
    parts = text.replace(" ", "").split(",")
    if not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(
            f"write positive integers separated by commas, as in 1,2,4. Received: {text!r}"
        )
    return tuple(int(p) for p in parts)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rfcalc design",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="The cheapest stacks that reach a receptive field: the exact Pareto front of params, "
        "MACs and depth over a layer vocabulary (docs/design.md).",
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--rf", metavar="N|HxW", help="the least field per axis, as in 32 or 32x16")
    target.add_argument("--cover", action="store_true", help="every output unit sees the whole input")
    p.add_argument("--input", metavar="HxWxC", type=argtypes.shape, default=None, help="input shape (default 32x32x3)")
    space = p.add_mutually_exclusive_group()
    space.add_argument("--layers", metavar="VOCAB", help="layers to choose from (default c3,c5,p2); d* = free dilation")
    space.add_argument(
        "--like", metavar="SPEC", help="keep this stack's kinds and order; vary counts, dilations, strides"
    )
    p.add_argument("--max-params", metavar="N", type=budget, help="parameter budget, as in 100k")
    p.add_argument("--max-macs", metavar="N", type=budget, help="MAC budget per input, as in 50M")
    p.add_argument("--max-depth", metavar="N", type=argtypes.positive, default=12, help="most layers (default 12)")
    p.add_argument("--min-output", metavar="N|HxW", help="smallest output size the stack may end with")
    p.add_argument(
        "--filters",
        metavar="F|F1,F2,..",
        type=filters,
        help="conv width: one for all, or one per stage (each stride > 1 starts the next)",
    )
    p.add_argument(
        "--head",
        metavar="seed|SPEC",
        type=argtypes.nonempty,
        help="append a head (seed = the notebook's flat,fc20,fc10)",
    )
    p.add_argument("--minimize", choices=("params", "macs", "depth"), default="params", help="sort the front by")
    p.add_argument("--top", metavar="N", type=argtypes.positive, default=10, help="rows to show (default 10)")
    p.add_argument("--allow-holes", action="store_true", help="accept fields with holes (dilation gridding)")
    p.add_argument("--dilations", metavar="1,2,4,8", type=_ints, default=None, help="(--like) dilations to try")
    p.add_argument("--strides", metavar="1,2", type=_ints, default=None, help="(--like) strides to try")
    p.add_argument("--max-states", metavar="N", type=budget, default=None, help="stop past this many states")
    p.add_argument("--timeout", metavar="S", type=argtypes.positive, default=None, help="stop after S seconds")
    p.add_argument("--json", action="store_true", help="the front as Analysis.to_dict() summaries plus search stats")
    p.add_argument("--plot", metavar="FILE", help="plot the front: params against field, coloured by depth")
    p.add_argument("--symbolic", action="store_true", help="closed forms for the vocabulary's families (sympy)")
    return p


def request(args) -> dict:
    """The keyword arguments of ``rfcalc.design`` that the command line asks for."""
    from .api import MAX_STATES, SECONDS
    from .space import DILATIONS, STRIDES

    return dict(
        rf=args.rf,
        cover=args.cover,
        input_shape=args.input or (32, 32, 3),
        layers=args.layers,
        like=args.like,
        max_params=args.max_params,
        max_macs=args.max_macs,
        max_depth=args.max_depth,
        min_output=args.min_output,
        filters=args.filters,
        head=args.head,
        minimize=args.minimize,
        top=args.top,
        allow_holes=args.allow_holes,
        dilations=args.dilations or DILATIONS,
        strides=args.strides or STRIDES,
        max_states=args.max_states or MAX_STATES,
        seconds=float(args.timeout or SECONDS),
    )


def main(argv) -> int:
    """Run ``rfcalc design`` with ``argv``; errors propagate as ``RFError`` for ``rfcalc.cli`` to print."""
    from ..errors import RFError
    from ..render import show
    from .api import design

    args = parser().parse_args(argv)
    if (args.dilations or args.strides) and not args.like:
        raise RFError(
            "--dilations and --strides shape the --like search; with --layers write them in the tokens (c3d2, c3s2)"
        )
    if args.plot is not None:
        from ..runs.plots import figure_path

        figure_path(args.plot)  # a bad name fails now, not after the search
    result = design(**request(args))
    forms = None
    if args.symbolic:
        from .symbolic import families

        forms = families(result)
    if args.json:
        data = result.to_dict()
        if forms is not None:
            data["symbolic"] = forms.to_dict()
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        show(result)
        if forms is not None:
            show(forms)
    if args.plot is not None:
        from .plot import plot_front

        written = plot_front(result, args.plot)
        (sys.stderr if args.json else sys.stdout).write(f"plot: {written}\n")  # stdout stays pure JSON
    return 0
