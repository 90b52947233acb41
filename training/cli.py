"""``rfcalc-train``: train specs (or a built-in sweep) with the notebook's head; bad input -> one line, exit 2.

Everything cheap (spec parsing, shapes, finding the data files) is checked before TensorFlow loads.
"""

from __future__ import annotations

import argparse
import os
import sys

from rfcalc import __version__
from rfcalc.errors import RFError, error_lines

PROG = "rfcalc-train"


def build_parser() -> argparse.ArgumentParser:
    from .data import SHAPES
    from .models import OPTIMIZERS, PRECISIONS, PRESETS
    from .sweep import SWEEPS
    from .train import STRATEGIES

    p = argparse.ArgumentParser(prog=PROG, description="Train CNN specs with the B2-2 notebook's head "
                                "(Flatten, Dense(20), Dense(10, softmax)) and report accuracy against "
                                "parameters and receptive field. See docs/training.md.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("specs", nargs="*", metavar="SPEC",
                   help=f"layer specs such as 'c3,c3,p2', or presets: {', '.join(PRESETS)}")
    p.add_argument("--sweep", choices=sorted(SWEEPS), help="a built-in sweep (b2-2-1: depth, pooling, 5x5)")
    p.add_argument("--out", default="runs", help="output folder (default: runs)")
    p.add_argument("--dataset", default="cifar10", help=f"one of {', '.join(SHAPES)} (default: cifar10)")
    p.add_argument("--data-dir", help="folder with the dataset files (default: Keras's cache and system dirs)")
    p.add_argument("--download", action="store_true", help="download the dataset through Keras if not found")
    p.add_argument("--data-size", type=int, help="use only the first N training images (get_data_cifar)")
    p.add_argument("--epochs", type=int, default=10, help="default: 10")
    p.add_argument("--batch-size", type=int, default=128, help="default: 128")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="default: adam")
    p.add_argument("--lr", type=float, default=1e-3, help="learning rate (default: 0.001)")
    p.add_argument("--seed", type=int, default=0, help="random seed for weights and shuffling (default: 0)")
    p.add_argument("--validation-split", type=float, default=0.1,
                   help="last fraction of the training images held out, as Keras's (default: 0.1)")
    p.add_argument("--steps-per-execution", type=int, default=16,
                   help="batches per compiled call; fewer Python round trips (default: 16)")
    p.add_argument("--precision", choices=tuple(PRECISIONS), default="float32",
                   help="bf16: bfloat16 compute, float32 weights and output; much faster on CPUs with AMX "
                        "(default: float32, as the notebook)")
    p.add_argument("--strategy", choices=STRATEGIES, help="tf.distribute strategy (default: none)")
    p.add_argument("--report", action="store_true", help="only rewrite report.md and its figures from --out's results.json")
    p.add_argument("--dry-run", action="store_true", help="check specs and data, print what would run, train nothing")
    return p


def _configs(args):
    from rfcalc import analyze

    from .data import SHAPES, dataset_name
    from .models import resolve_spec
    from .sweep import SWEEPS
    from .train import RunConfig

    specs = list(args.specs)
    if args.sweep:
        specs += [s for s, _ in SWEEPS[args.sweep]]
    if not specs:
        raise RFError("give at least one SPEC or --sweep NAME")
    dataset = dataset_name(args.dataset)
    configs = []
    for raw in specs:
        spec = resolve_spec(raw)
        analyze(spec, input_shape=SHAPES[dataset], head="seed")  # shape errors now, not after TF loads
        configs.append(RunConfig(spec, dataset, args.epochs, args.batch_size, args.optimizer, args.lr, args.seed,
                                 args.data_size, args.validation_split, args.steps_per_execution, args.strategy,
                                 args.precision))
    return list({c.key: c for c in configs}.values())


def run(argv=None) -> int:
    """Parse ``argv``, check everything cheap, then train; returns the exit status."""
    args = build_parser().parse_args(argv)
    from .data import dataset_name, locate

    if args.report:
        from .report import write_report
        from .sweep import Sweep

        sweep = Sweep(args.out)
        if not sweep.runs:
            raise RFError(f"no finished runs in {sweep.results_path}")
        print(write_report(sweep.runs, sweep.out_dir))
        return 0

    configs = _configs(args)
    if not args.download:
        source = locate(args.dataset, args.data_dir)  # fail fast, before TensorFlow loads
    else:
        source = "found or downloaded at load time"
    from .sweep import Sweep

    sweep = Sweep(args.out)  # an unreadable results.json stops us here, before TensorFlow loads
    if args.dry_run:
        print(f"data: {dataset_name(args.dataset)} from {source}")
        for c in configs:
            print(f"{'skip' if sweep.done(c) else 'train'} {c.spec} -> {os.path.join(args.out, c.slug)}")
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rich.console import Console

    from .data import load_data
    from .progress import make_progress

    console = Console(stderr=True)
    data = load_data(args.dataset, args.data_dir, args.data_size, args.download)
    console.log(f"{data.name}: {len(data.x_train)} training and {len(data.x_test)} test images "
                f"{'x'.join(map(str, data.input_shape))} from {data.source}")
    try:
        with make_progress(console) as progress:
            sweep.run(configs, data, progress=progress, log=console.log)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted; {sweep.resume_note()}. Run the same command again to resume.\n")
        return 130
    console.log(f"results: {sweep.results_path}; report: {sweep.out_dir / 'report.md'}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``rfcalc-train`` console script."""
    __import__("rfcalc.tfquiet").tfquiet.install()  # TensorFlow's start-up lines are held back (rfcalc/tfquiet.py)
    try:
        code = run(argv)
    except RFError as err:
        sys.stderr.write(error_lines(PROG, err))
        code = 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted before training started; nothing written\n")
        code = 130
    return code


if __name__ == "__main__":
    sys.exit(main())
