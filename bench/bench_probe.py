"""Benchmark the structural probe on a deep conv stack; prints ratios measured side by side in one run.

    TF_CPP_MIN_LOG_LEVEL=2 nice -n 10 .venv/bin/python bench/bench_probe.py [--depth 50] [--input 32x32x3]

Rows: the probe as shipped (one batched gradient pass under tf.function), the same eagerly, and
one gradient pass per probed unit (the batch split into size-1 chunks), all on the same model.
The first call also pays for building the clone and tracing; "warm" is the best of the repeats.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def timed(fn, repeat):
    first, times, result = None, [], None
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t0
        if first is None:
            first = dt
        else:
            times.append(dt)
    return result, first, min(times) if times else first


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--input", default="32x32x3")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)

    import tensorflow as tf

    from rfcalc.runs import probe_model
    from rfcalc.runs.probes import probe

    spec = f"c3*{args.depth}"
    rows = []
    result, cold, warm = timed(lambda: probe(spec, input_shape=args.input), args.repeat)
    rows.append(("batched, tf.function", result.passes, cold, warm))
    ref = warm
    _, cold_e, warm_e = timed(lambda: probe(spec, input_shape=args.input, compiled=False), args.repeat)
    rows.append(("batched, eager", result.passes, cold_e, warm_e))
    saved = probe_model._MEMORY
    probe_model._MEMORY = 1  # chunks of one: a gradient pass per probed unit
    try:
        single, cold_s, warm_s = timed(lambda: probe(spec, input_shape=args.input), 1)
    finally:
        probe_model._MEMORY = saved
    rows.append(("one pass per unit, tf.function", single.passes, cold_s, warm_s))

    print(
        f"probe of {spec!r} on {args.input}: probed on {'x'.join(map(str, result.probe_shape))}, "
        f"{len(result.layers)} layers, rf {result.rf[0]}x{result.rf[1]}, agree={result.agree}"
    )
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU cores visible")
    print(f"{'variant':34} {'passes':>6} {'first call s':>13} {'warm s':>8} {'warm / shipped':>15}")
    for name, passes, c, w in rows:
        print(f"{name:34} {passes:>6} {c:>13.2f} {w:>8.2f} {w / ref:>15.2f}")
    return 0 if result.agree else 1


if __name__ == "__main__":
    sys.exit(main())
