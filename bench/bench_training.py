"""Training throughput: rfcalc-train's input path against the notebook's plain ``model.fit``, side by side.

Same model (the notebook's model2 by default), same data, same seed. Variants run interleaved
(A, B, C, A, B, C, ...) because this machine's speed drifts by up to 2x over minutes; each trial
builds a fresh model and trains ``--epochs`` epochs; the first epoch (tracing) is not timed.
Reported: median images/s, achieved GFLOP/s (2 x MACs per image forward, x3 for training),
its share of the CPU's practical peak, and the median test accuracy (the speed must not cost it).

    python bench/bench_training.py --dataset fashion_mnist --data-size 20000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
__import__("rfcalc.tfquiet").tfquiet.install()  # no absl/oneDNN start-up lines in the output

# "notebook": model.fit on float32 numpy arrays with validation_split, as in the notebook;
# "tfdata": training/pipeline.py; "+spe": steps_per_execution=--spe; "+bf16": --precision bf16.
# rfcalc-train's defaults are "tfdata+spe"; with --precision bf16, "tfdata+spe+bf16".
VARIANTS = ("notebook", "tfdata", "tfdata+spe", "tfdata+spe+bf16")


def matmul_peak(n=2048, repeats=10, dtype="float32") -> float:
    """This CPU's practical peak: the best GFLOP/s of an n x n float32 matmul in TensorFlow."""
    import tensorflow as tf

    a = tf.random.uniform((n, n), dtype=dtype)
    b = tf.random.uniform((n, n), dtype=dtype)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def trial(variant, spec, data, epochs, batch_size, seed, spe):
    """Train one fresh model; returns (training seconds per timed epoch, images per epoch, test accuracy)."""
    import keras
    import numpy as np

    from rfcalc import analyze
    from training.checkpoint import epoch_clock
    from training.models import build_model
    from training.pipeline import Pipelines, split_at

    keras.utils.set_random_seed(seed)
    expected = analyze(spec, input_shape=data.input_shape, head="seed").total_params
    seconds = []  # training-phase seconds per epoch (validation excluded)

    def timed(epoch, logs, train_seconds, wall_seconds):
        seconds.append(train_seconds)

    base, *mods = variant.split("+")
    precision = "bf16" if "bf16" in mods else "float32"
    if base == "notebook":
        # get_data_cifar's float32 /255 arrays, model_setup, and model.fit(..., validation_split=0.1)
        x = data.x_train.astype(np.float32) / 255.0
        x_test = data.x_test.astype(np.float32) / 255.0
        model = build_model(spec, data.input_shape, expected_params=expected, precision=precision)
        model.fit(
            x,
            data.y_train,
            batch_size=batch_size,
            epochs=epochs,
            validation_split=0.1,
            verbose=0,
            callbacks=[epoch_clock(timed)],
        )
        _, acc = model.evaluate(x_test, data.y_test, verbose=0)
        n = split_at(len(x), 0.1)
    else:
        pipes = Pipelines(data, batch_size, 0.1, seed)
        model = build_model(
            spec,
            data.input_shape,
            steps_per_execution=spe if "spe" in mods else 1,
            expected_params=expected,
            precision=precision,
        )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(
                pipes.train,
                validation_data=pipes.val,
                epochs=epochs,
                shuffle=False,
                verbose=0,
                callbacks=[epoch_clock(timed, pipes)],
            )
        _, acc = model.evaluate(pipes.test, verbose=0)
        n = pipes.n_train
    return seconds[1:], n, float(acc)


def _parity(variants, accs) -> None:
    """Test accuracy per seed (round r uses seed r, the same initial weights in every variant), and each
    variant's difference from the first, paired by seed: mean and the range over seeds."""
    first = variants[0]
    print("\ntest accuracy by seed: " + "; ".join(f"{v} " + " ".join(f"{a:.4f}" for a in accs[v]) for v in variants))
    for v in variants[1:]:
        diffs = [a - b for a, b in zip(accs[v], accs[first])]
        sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        print(
            f"{v} - {first}: mean {statistics.mean(diffs):+.4f}, sd {sd:.4f}, "
            f"range {min(diffs):+.4f}..{max(diffs):+.4f} over {len(diffs)} seeds"
        )


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spec", default="c3,c3,p2", help="default: the notebook's model2")
    p.add_argument("--dataset", default="fashion_mnist")
    p.add_argument("--data-dir")
    p.add_argument("--data-size", type=int, default=20000)
    p.add_argument("--epochs", type=int, default=3, help="per trial; the first is not timed (default 3)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--spe", type=int, default=16, help="steps_per_execution of the last variant")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument(
        "--peak-gflops",
        type=float,
        default=None,
        help="practical float32 peak of this CPU in GFLOP/s (default: measured with a matmul); "
        "bf16 variants are compared with a bfloat16 matmul's peak",
    )
    args = p.parse_args(argv)

    from rfcalc import analyze
    from training.data import load_data

    data = load_data(args.dataset, args.data_dir, args.data_size)
    macs = analyze(args.spec, input_shape=data.input_shape, head="seed").total_macs
    variants = args.variants.split(",")
    speeds = {v: [] for v in variants}
    accs = {v: [] for v in variants}
    from training.cpu import AMX_FLAGS, cpu_flags

    flags = cpu_flags() or frozenset()
    print(
        f"{args.spec} on {data.name} ({len(data.x_train)} images, batch {args.batch_size}), "
        f"{macs:,} MACs/image, {os.cpu_count()} CPUs; {args.rounds} interleaved rounds"
    )
    print(
        f"CPU flags: {', '.join(f for f in (*AMX_FLAGS, 'avx512_bf16', 'avx512f') if f in flags) or 'none of'} "
        f"(AMX: {'yes' if all(f in flags for f in AMX_FLAGS) else 'no, so bf16 will not be faster'})"
    )
    for r in range(args.rounds):
        for v in variants:
            seconds, n, acc = trial(v, args.spec, data, args.epochs, args.batch_size, seed=r, spe=args.spe)
            speeds[v] += [n / s for s in seconds]
            accs[v].append(acc)
            print(
                f"  round {r + 1} {v:>11}: {' '.join(f'{n / s:8.0f}' for s in seconds)} images/s, test acc {acc:.4f}",
                flush=True,
            )
    _parity(variants, accs)
    peak = args.peak_gflops or matmul_peak()
    peak16 = matmul_peak(dtype="bfloat16")
    print(
        f"\npractical peak: float32 {peak:.0f} GFLOP/s ({'given' if args.peak_gflops else 'measured'}), "
        f"bfloat16 {peak16:.0f} GFLOP/s (2048x2048 matmul in TensorFlow, best of 10)"
    )
    base = statistics.median(speeds[variants[0]])
    print(f"\n| variant | images/s (median) | vs {variants[0]} | GFLOP/s (train) | share of peak | test acc (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for v in variants:
        ips = statistics.median(speeds[v])
        gflops = 6 * macs * ips / 1e9
        print(
            f"| {v} | {ips:,.0f} | {ips / base:.2f}x | {gflops:.1f} | {gflops / (peak16 if 'bf16' in v else peak):.0%} | "
            f"{statistics.median(accs[v]):.4f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
