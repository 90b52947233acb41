"""rfcalc design: time, states and peak memory of typical and deep queries, and the search against brute force.

    nice -n 10 .venv/bin/python bench/bench_design.py [--runs 3] [--brute-depth 6]

Part (a): queries as a user types them (`rfcalc.design(...)`), median wall time of --runs, the
number of stacks the declared space holds, the states and labels the search kept, and the peak
Python memory (tracemalloc) of one run. Part (b): the same front found by analysing every stack
of the space one by one (what the oracle test does), side by side with the search.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
import tracemalloc

import rfcalc
from rfcalc.errors import RFError

QUERIES = [
    ("notebook: see the whole 32x32 image, depth <= 12", dict(cover=True, max_depth=12)),
    (
        "notebook: rf 32, output >= 4x4, filters 32,64,128, seed head, depth <= 12",
        dict(rf=32, min_output=4, filters=(32, 64, 128), head="seed", max_depth=12),
    ),
    (
        "c3,c5,c3d2,p2,a2,c3s2: rf 64, output >= 4x4, depth <= 12",
        dict(rf=64, layers="c3,c5,c3d2,p2,a2,c3s2", min_output=4, max_depth=12),
    ),
    ("like c3,c3,p2: rf 40, depth <= 12", dict(rf=40, like="c3,c3,p2", max_depth=12)),
    (
        "notebook: cover, output >= 8x8, filters 32,64,128, seed head, depth <= 20",
        dict(cover=True, min_output=8, filters=(32, 64, 128), head="seed", max_depth=20),
    ),
    (
        "c3,c5,c3d2,p2,a2,c3s2 on 224x224: rf 200, output >= 7x7, depth <= 20",
        dict(rf=200, input_shape=(224, 224, 3), layers="c3,c5,c3d2,p2,a2,c3s2", min_output=7, max_depth=20),
    ),
    (
        "1-D c2d*/causal on 16000x1: rf 1024 (WaveNet), depth <= 12",
        dict(rf=1024, input_shape=(16000, 1), layers="c2d*/causal", max_depth=12),
    ),
    (
        "1-D c2d*/causal on 16000x1: rf 16000 (one second at 16 kHz), depth <= 16",
        dict(rf=16000, input_shape=(16000, 1), layers="c2d*/causal", max_depth=16, seconds=600),
    ),
    (
        "9 layer kinds on 128x128: rf 128, output >= 2x2, depth <= 20",
        dict(
            rf=128, input_shape=(128, 128, 3), layers="c3,c5,c7,c3d2,c3d4,p2,a2,c3s2,c5s2", min_output=2, max_depth=20
        ),
    ),
]


def timed(kw: dict, runs: int):
    kw = dict(kw)
    rf = kw.pop("rf", None)
    walls, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = rfcalc.design(rf, top=None, **kw)
        walls.append(time.perf_counter() - t)
    peak = None
    if statistics.median(walls) < 5:  # tracemalloc slows Python several times: only on the quick queries
        tracemalloc.start()
        rfcalc.design(rf, top=None, **kw)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return statistics.median(walls), peak, result


def brute(vocab, shape, depth, target):
    """Every stack with a convolution, analysed one by one; the Pareto front of (params, MACs, depth)."""
    costs = {}
    for d in range(1, depth + 1):
        for combo in itertools.product(vocab, repeat=d):
            if not any(t.startswith("c") for t in combo):
                continue
            try:
                a = rfcalc.analyze(",".join(combo), input_shape=shape)
            except RFError:
                continue
            if min(a.rf) >= target:
                costs.setdefault((a.total_params, a.total_macs, d), combo)
    return {c for c in costs if not any(o != c and all(x <= y for x, y in zip(o, c)) for o in costs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--brute-depth", type=int, default=6)
    ap.add_argument("--only", default="", help="run the queries whose name contains this text")
    ap.add_argument("--skip-brute", action="store_true")
    args = ap.parse_args()

    print("(a) queries, median of", args.runs, "runs\n")
    print("| query | stacks in the space | states | labels | front | wall s | peak MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, kw in QUERIES:
        if args.only not in name:
            continue
        wall, peak, d = timed(kw, args.runs)
        print(
            f"| {name} | {d.stacks:,} | {d.states:,} | {d.labels:,} | {len(d.rows)} | {wall:.3f} | "
            f"{'-' if peak is None else f'{peak / 2**20:.1f}'} |",
            flush=True,
        )
    if args.skip_brute:
        return

    print("\n(b) the search against analysing every stack (c3,c5,p2 on 32x32x3, rf 24)\n")
    print("| depth | stacks | brute force s | search s | x faster | same front |")
    print("|---:|---:|---:|---:|---:|---|")
    for depth in range(4, args.brute_depth + 1):
        t = time.perf_counter()
        expected = brute(("c3", "c5", "p2"), (32, 32, 3), depth, 24)
        slow = time.perf_counter() - t
        t = time.perf_counter()
        d = rfcalc.design(24, max_depth=depth, top=None)
        fast = time.perf_counter() - t
        got = {(r.params, r.macs, r.depth) for r in d.rows}
        print(f"| {depth} | {d.stacks:,} | {slow:.2f} | {fast:.4f} | {slow / fast:,.0f} | {got == expected} |")


if __name__ == "__main__":
    main()
