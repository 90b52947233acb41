"""Benchmark the analytic core; prints markdown tables measured side by side in one run.

    nice -n 10 .venv/bin/python bench/bench_core.py [--runs 7] [--sizes 1000,5000,20000]

(a) Wall time of the CLI, ``rfcalc "c3,c3,p2"`` (and with ``--head seed``, which prints the
    notebook's 174,214), interleaved run by run with the Keras way of getting the same count: a
    fresh Python process that imports Keras, builds the notebook's model2 and calls
    ``model.summary()``. Every run is a new process, so each time includes start-up and imports.
(b) ``parse`` and ``analyze`` time for long chains (1,000 to 20,000 layers), CPU time per layer
    (flat when the fold is linear), and the tracemalloc peak of one ``analyze``.
(c) One 20,000-layer chain per rank, interleaved run by run: the same layers on a 1-D, 2-D and
    3-D input, a WaveNet-style causal dilated 1-D stack and a decoder chain (upsampling, phases),
    CPU time per layer and the ratio to 2-D. With ``--baseline DIR`` (another checkout, e.g. the
    tree before N-d support) the CLI and the 2-D chain also run from DIR, side by side.

Wall times on a shared machine swing with its load; CPU times (user + system, of the child
process or of this one) are steadier, so both are printed.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KERAS_MODEL2 = """
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras
from keras import layers
model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Conv2D(32, kernel_size=(3, 3), padding="same", activation="relu"),
    layers.Conv2D(32, kernel_size=(3, 3), padding="same", activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(),
    layers.Dense(20),
    layers.Dense(10, activation="softmax"),
])
model.summary()
"""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, expect: str | None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", COLUMNS="120")
    c0, t0 = _children_cpu(), time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    dt, dc = time.perf_counter() - t0, _children_cpu() - c0
    if out.returncode != 0 or (expect and expect not in out.stdout):
        raise SystemExit(f"{cmd[:2]} failed or did not print {expect!r}:\n{out.stdout[-800:]}\n{out.stderr[-800:]}")
    return dt, dc


CHAIN = """
import sys, time
sys.setrecursionlimit(10000)
from rfcalc import analyze
spec, shape = sys.argv[1], tuple(int(v) for v in sys.argv[2].split("x"))
analyze(spec + " ", shape)  # warm the caches of the formatters
c = time.process_time()
analyze(spec, shape)
print(f"{time.process_time() - c:.6f}")
"""

RANK_CASES = [  # (label, spec, input): 20,000 layers each
    ("1-D, 4096x3", "(c3-16,bn,c3-16,c1-16)*5000", "4096x3"),
    ("2-D, 32x32x3", "(c3-16,bn,c3-16,c1-16)*5000", "32x32x3"),
    ("3-D, 8x32x32x3", "(c3-16,bn,c3-16,c1-16)*5000", "8x32x32x3"),
    ("1-D WaveNet, (c2d1..512/causal)*2000", "(c2d1..512/causal)*2000", "16000x1"),
    ("1-D decoder, (c3,up2,p2)*6666,c3,c3", "(c3,up2,p2)*6666,c3,c3", "64x1"),
]


def _chain_cpu(root: Path, spec: str, shape: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", CHAIN, spec, shape], capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"chain {spec!r} on {shape} failed under {root}:\n{out.stderr[-800:]}")
    return float(out.stdout.strip().splitlines()[-1])


def bench_ranks(runs: int, baseline: Path | None):
    """CPU seconds of one analyze per case, each in a fresh process, interleaved run by run."""
    cases = [(label, ROOT, spec, shape) for label, spec, shape in RANK_CASES]
    if baseline is not None:
        label, spec, shape = RANK_CASES[1]
        cases.append((f"{label} (baseline tree)", baseline, spec, shape))
    times: dict[str, list[float]] = {c[0]: [] for c in cases}
    for _ in range(runs):
        for label, root, spec, shape in cases:
            times[label].append(_chain_cpu(root, spec, shape))
    return [(label, statistics.median(t)) for label, t in times.items()]


def bench_cli(runs: int, baseline: Path | None = None) -> list[tuple[str, float, float, float]]:
    rfcalc = str(Path(sys.executable).parent / "rfcalc")
    if not Path(rfcalc).exists():
        raise SystemExit(f"no console script at {rfcalc}; run: .venv/bin/pip install -e . --no-deps -q")
    cases = [
        ('rfcalc "c3,c3,p2"', [rfcalc, "c3,c3,p2"], "10,144"),
        ('rfcalc "c3,c3,p2" --head seed', [rfcalc, "c3,c3,p2", "--head", "seed"], "174,214"),
        ("python: import keras, build model2, summary()", [sys.executable, "-c", KERAS_MODEL2], "174,214"),
    ]
    if baseline is not None:  # the same command from both trees, as modules
        cases[2:2] = [
            (
                'python -m rfcalc.cli "c3,c3,p2" (this tree)',
                ["env", f"PYTHONPATH={ROOT}", sys.executable, "-m", "rfcalc.cli", "c3,c3,p2"],
                "10,144",
            ),
            (
                'python -m rfcalc.cli "c3,c3,p2" (baseline tree)',
                ["env", f"PYTHONPATH={baseline}", sys.executable, "-m", "rfcalc.cli", "c3,c3,p2"],
                "10,144",
            ),
        ]
    times: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
    for _ in range(runs):  # interleaved, so drift in machine load hits every row alike
        for name, cmd, expect in cases:
            times[name].append(run(cmd, expect))
    return [
        (name, statistics.median(w for w, _ in t), min(w for w, _ in t), statistics.median(c for _, c in t))
        for name, t in times.items()
    ]


def bench_scale(sizes: list[int], repeats: int = 3):
    from rfcalc import analyze, parse

    body = "c3-16,bn,dw3,c1-16"  # four layers, stride 1: the field grows linearly
    rows = []
    for n in sizes:
        spec = ",".join([body] * (n // 4))  # written out token by token (95,000 characters at 20,000)
        parse_t, fold_t, fold_cpu = [], [], []
        for i in range(repeats):
            text = spec + " " * (i + 1)  # a new string each time: parse() caches by spec
            t0 = time.perf_counter()
            layers = parse(text)
            t1, c1 = time.perf_counter(), time.process_time()
            a = analyze(layers, (32, 32, 3))
            t2, c2 = time.perf_counter(), time.process_time()
            parse_t.append(t1 - t0)
            fold_t.append(t2 - t1)
            fold_cpu.append(c2 - c1)
        assert len(a.layers) == n
        tracemalloc.start()
        analyze(layers, (32, 32, 3))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        p, f, c = statistics.median(parse_t), statistics.median(fold_t), statistics.median(fold_cpu)
        rows.append((n, p, f, c, c / n * 1e6, peak / 2**20, a.rf[0]))
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="runs per CLI row (median reported)")
    ap.add_argument("--sizes", default="1000,5000,20000", help="chain lengths for the scaling table")
    ap.add_argument("--skip-cli", action="store_true", help="only the scaling tables")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout to time side by side")
    args = ap.parse_args(argv)

    print(f"machine: {machine()}\n")
    if not args.skip_cli:
        rows = bench_cli(args.runs, args.baseline)
        base = rows[0][1]
        cpu_base = rows[0][3]
        print(f"(a) the notebook's parameter count, one fresh process per run, median of {args.runs}\n")
        print("| command | wall s (median) | wall s (best) | CPU s (median) | × rfcalc (wall) | × rfcalc (CPU) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, med, best, cpu in rows:
            print(f"| {name} | {med:.2f} | {best:.2f} | {cpu:.2f} | {med / base:.1f} | {cpu / cpu_base:.1f} |")
        print()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("(b) one long chain, c3-16,bn,dw3,c1-16,... written out (n layers) on 32x32x3, median of 3\n")
    print("| layers | parse ms | analyze ms (wall) | analyze ms (CPU) | CPU µs / layer | peak MiB (tracemalloc) | rf |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, p, f, c, per, peak, rf in bench_scale(sizes):
        print(f"| {n:,} | {p * 1e3:.1f} | {f * 1e3:.0f} | {c * 1e3:.0f} | {per:.1f} | {peak:.1f} | {rf:,} |")
    runs = max(3, args.runs // 2)
    print(f"\n(c) 20,000-layer chains by rank, one fresh process per run, interleaved, median of {runs}\n")
    print("| chain | analyze s (CPU) | µs / layer | × 2-D |")
    print("|---|---:|---:|---:|")
    rank_rows = bench_ranks(runs, args.baseline)
    two_d = rank_rows[1][1]
    for label, cpu in rank_rows:
        print(f"| {label} | {cpu:.2f} | {cpu / 20000 * 1e6:.0f} | {cpu / two_d:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
