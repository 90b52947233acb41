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
EXAMPLES = """examples:
  rfcalc-train model1 model2 --epochs 10            the notebook's two models on CIFAR-10
  rfcalc-train --sweep b2-2-1 --out runs/b2-2-1     depth, pooling and kernel size compared
  rfcalc-train "c3,c3,p2" --dataset fashion_mnist   offline, with Debian's dataset-fashion-mnist
  rfcalc-train --report --out runs/b2-2-1           rewrite report.md from results.json
"""


def build_parser() -> argparse.ArgumentParser:
    from .data import SHAPES
    from .models import OPTIMIZERS, PRECISIONS, PRESETS
    from .sweep import SWEEPS
    from .train import MAX_SEED, STRATEGIES

    p = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train CNN specs with the B2-2 notebook's head (Flatten, Dense(20), Dense(10, softmax))\n"
        "and report accuracy against parameters and receptive field. See docs/training.md.",
        epilog=EXAMPLES,
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "specs", nargs="*", metavar="SPEC", help=f"layer specs such as 'c3,c3,p2', or presets: {', '.join(PRESETS)}"
    )
    p.add_argument(
        "--sweep",
        choices=sorted(SWEEPS),
        metavar="NAME",
        help=f"a built-in sweep: {', '.join(sorted(SWEEPS))} (depth, pooling, 5x5)",
    )
    p.add_argument("--out", default="runs", metavar="DIR", help="output folder (default: runs)")
    p.add_argument(
        "--dataset", default="cifar10", metavar="NAME", help=f"one of {', '.join(SHAPES)} (default: cifar10)"
    )
    p.add_argument(
        "--data-dir", metavar="DIR", help="folder with the dataset files (default: Keras's cache and system dirs)"
    )
    p.add_argument("--download", action="store_true", help="download the dataset through Keras if not found")
    p.add_argument("--data-size", type=int, metavar="N", help="use only the first N training images (get_data_cifar)")
    p.add_argument("--epochs", type=int, default=10, metavar="N", help="default: 10")
    p.add_argument("--batch-size", type=int, default=128, metavar="N", help="default: 128")
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default="adam",
        metavar="NAME",
        help=f"{' or '.join(OPTIMIZERS)} (default: adam)",
    )
    p.add_argument("--lr", type=float, default=1e-3, metavar="RATE", help="learning rate (default: 0.001)")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help=f"random seed for weights and shuffling, 0..{MAX_SEED} (default: 0)",
    )
    p.add_argument(
        "--validation-split",
        type=float,
        default=0.1,
        metavar="FRACTION",
        help="last fraction of the training images held out, as Keras's (default: 0.1)",
    )
    p.add_argument(
        "--steps-per-execution",
        type=int,
        default=16,
        metavar="N",
        help="batches per compiled call; fewer Python round trips (default: 16)",
    )
    p.add_argument(
        "--precision",
        choices=tuple(PRECISIONS),
        default="float32",
        metavar="NAME",
        help="float32 (default, as the notebook) or bf16: bfloat16 compute, float32 weights; "
        "faster only on CPUs with AMX",
    )
    p.add_argument(
        "--strategy",
        choices=STRATEGIES,
        metavar="NAME",
        help=f"tf.distribute strategy: {', '.join(STRATEGIES)} (default: none)",
    )
    p.add_argument(
        "--report", action="store_true", help="only rewrite report.md and its figures from --out's results.json"
    )
    p.add_argument("--dry-run", action="store_true", help="check specs and data, print what would run, train nothing")
    return p


def _configs(args):
    from rfcalc import analyze

    from .data import SHAPES, dataset_name
    from .memory import check_memory
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
        config = RunConfig(
            spec,
            dataset,
            args.epochs,
            args.batch_size,
            args.optimizer,
            args.lr,
            args.seed,
            args.data_size,
            args.validation_split,
            args.steps_per_execution,
            args.strategy,
            args.precision,
            typed=raw.strip(),
        )
        analysis = analyze(spec, input_shape=SHAPES[dataset], head="seed")  # shape errors now, not after TF loads
        check_memory(config.label, analysis, args.batch_size, args.optimizer, dataset, args.data_size)
        configs.append(config)
    unique = {}
    for c in configs:
        unique.setdefault(c.key, c)  # the first spelling of a spec names it
    return list(unique.values())


def run(argv=None) -> int:
    """Parse ``argv``, check everything cheap, then train; returns the exit status."""
    args = build_parser().parse_args(argv)
    from .data import dataset_name, locate

    if args.report:
        from .atomic import locked
        from .report import write_report
        from .sweep import Sweep, check_out_dir

        sweep = Sweep(args.out)  # refuses a results.json with anything but run records, before writing
        if not sweep.runs:
            raise RFError(f"no finished runs in {sweep.results_path}")
        check_out_dir(args.out, create=True)
        with locked(sweep.lock_path):  # another process may be recording a run right now
            print(write_report(sweep.refresh(), sweep.out_dir))
        return 0

    configs = _configs(args)
    if not args.download:
        source = locate(args.dataset, args.data_dir)  # fail fast, before TensorFlow loads
    else:
        source = "found or downloaded at load time"
    from .sweep import Sweep, check_out_dir

    sweep = Sweep(args.out)  # an unreadable results.json stops us here, before TensorFlow loads
    if args.dry_run:
        print(f"data: {dataset_name(args.dataset)} from {source}")
        for c in configs:
            print(f"{'skip' if sweep.done(c) else 'train'} {c.label} -> {os.path.join(args.out, c.slug)}")
        return 0
    check_out_dir(args.out, create=True)  # a read-only --out stops us before training, not after it
    if any(c.precision == "bf16" for c in configs):
        from .cpu import bf16_warning

        note = bf16_warning()
        if note:
            sys.stderr.write(f"{PROG}: warning: {note}\n")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rich.console import Console

    from .data import load_data
    from .progress import make_logger, make_progress

    console = Console(stderr=True)
    log = make_logger(console)
    data = load_data(args.dataset, args.data_dir, args.data_size, args.download)
    log(
        f"{data.name}: {len(data.x_train)} training and {len(data.x_test)} test images "
        f"{'x'.join(map(str, data.input_shape))} from {data.source}"
    )
    try:
        with make_progress(console) as progress:
            sweep.run(configs, data, progress=progress, log=log)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted; {sweep.resume_note()}. Run the same command again to resume.\n")
        return 130
    log(f"results: {sweep.results_path}; report: {sweep.out_dir / 'report.md'}")
    if sweep.diverged:
        raise RFError(
            f"{len(sweep.diverged)} run(s) diverged and were not recorded: {', '.join(sweep.diverged)}; "
            f"try a smaller --lr"
        )
    return 0


def main(argv=None) -> int:
    """Entry point of the ``rfcalc-train`` console script."""
    __import__("rfcalc.tfquiet").tfquiet.install()  # TensorFlow's start-up lines are held back (rfcalc/tfquiet.py)
    try:
        code = run(argv)
    except RFError as err:
        sys.stderr.write(error_lines(PROG, err))
        code = 2
    except OSError as err:  # a disk that fills up or a folder made read-only while we run
        where = f"{err.filename}: " if err.filename else ""
        sys.stderr.write(f"{PROG}: error: {where}{err.strerror or type(err).__name__}\n")
        code = 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted before training started; nothing written\n")
        code = 130
    return code


if __name__ == "__main__":
    sys.exit(main())
