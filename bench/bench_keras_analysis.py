"""Benchmark ``from_keras`` on keras.applications networks; prints a markdown table from one run.

    nice -n 10 .venv/bin/python bench/bench_keras_analysis.py [--runs 7] [--models InceptionV3,ResNet50]

For each network (weights=None, 299x299 for InceptionV3, 224x224 otherwise) it times, side by side
in one process: building the model once (for scale), then ``runs`` interleaved repetitions of
``from_keras(model)`` and of Keras' own ``model.summary()`` (printed into a discarded buffer), the
closest thing Keras has to the same table. Medians of CPU time (this process, user + system) and
of wall time are printed, with the ratio summary / from_keras.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SIZES = {"InceptionV3": 299, "InceptionResNetV2": 299, "Xception": 299}
IDENTITY = {"InceptionResNetV2": ("CustomScaleLayer",)}


def _timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def bench(name: str, runs: int) -> dict:
    import keras

    from rfcalc.frameworks.keras import from_keras

    side = SIZES.get(name, 224)
    model, build_cpu, build_wall = _timed(
        lambda: getattr(keras.applications, name)(weights=None, input_shape=(side, side, 3))
    )
    ours, theirs = [], []
    sink = io.StringIO()
    for _ in range(runs):  # interleaved, so that load swings hit both alike
        analysis, cpu, wall = _timed(lambda: from_keras(model, identity=IDENTITY.get(name, ())))
        ours.append((cpu, wall))
        _, cpu, wall = _timed(lambda: model.summary(print_fn=lambda *a, **k: sink.write(str(a[0]) if a else "")))
        theirs.append((cpu, wall))
    assert analysis.total_params == model.count_params()
    med = lambda xs, i: statistics.median(x[i] for x in xs)  # noqa: E731
    return {
        "name": name,
        "input": f"{side}x{side}x3",
        "rows": len(analysis.layers),
        "params": analysis.total_params,
        "rf": analysis.rf[0],
        "build_s": build_wall,
        "build_cpu_s": build_cpu,
        "ours_cpu_ms": 1000 * med(ours, 0),
        "ours_wall_ms": 1000 * med(ours, 1),
        "summary_cpu_ms": 1000 * med(theirs, 0),
        "summary_wall_ms": 1000 * med(theirs, 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--models", default="InceptionV3,ResNet50,MobileNetV2")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import keras

    print(f"# from_keras on keras.applications ({args.runs} runs, medians)\n")
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, Keras {keras.__version__}\n"
    )
    print(
        "| network | input | rows | params | build (s) | from_keras CPU (ms) | wall (ms) "
        "| model.summary() CPU (ms) | wall (ms) | summary / from_keras (CPU) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        r = bench(name.strip(), args.runs)
        ratio = r["summary_cpu_ms"] / r["ours_cpu_ms"] if r["ours_cpu_ms"] else float("nan")
        print(
            f"| {r['name']} | {r['input']} | {r['rows']} | {r['params']:,} | {r['build_s']:.2f} "
            f"| {r['ours_cpu_ms']:.1f} | {r['ours_wall_ms']:.1f} | {r['summary_cpu_ms']:.1f} "
            f"| {r['summary_wall_ms']:.1f} | {ratio:.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
