"""Benchmark ``from_onnx`` on the torchvision fixtures; prints a markdown table from one run.

    nice -n 10 .venv/bin/python bench/bench_onnx.py [--runs 9] [--models resnet50,densenet121]

Per network, side by side in one process: reading the file's structure (``read_model``, rfcalc's
own protobuf reader) and the whole ``from_onnx(path)`` (read + walk), ``runs`` interleaved
repetitions, medians of wall time.
Then, in fresh processes: ``rfcalc MODEL.onnx --json`` (import, load and analyse: what a user
waits for) against ``python -c "import onnx"`` alone. The reference point the issue names is
google-research/receptive_field on ResNet-50's TF graph, about 60 ms on this machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FIXTURES = ROOT / "tests" / "fixtures" / "onnx"
MODELS = ["resnet18", "resnet50", "vgg16", "mobilenet_v3_small", "efficientnet_b0", "densenet121"]


def _fresh(args) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, env=env)
    return time.perf_counter() - t


def bench(name: str, runs: int) -> dict:
    from rfcalc.frameworks.onnx import from_onnx, read_model

    path = FIXTURES / f"{name}.onnx"
    proto = read_model(path)
    analysis = from_onnx(path)  # warm
    load, walk = [], []
    for _ in range(runs):
        t = time.perf_counter()
        read_model(path)
        load.append(time.perf_counter() - t)
        t = time.perf_counter()
        from_onnx(path)
        walk.append(time.perf_counter() - t)
    cli, bare = [], []
    for _ in range(max(3, runs // 3)):
        cli.append(_fresh(["-m", "rfcalc.cli", str(path), "--json"]))
        bare.append(_fresh(["-c", "import onnx"]))
    return {
        "name": name,
        "nodes": len(proto.graph.node),
        "rows": len(analysis.layers),
        "load": statistics.median(load),
        "analyse": statistics.median(walk),
        "cli": statistics.median(cli),
        "import_onnx": statistics.median(bare),
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args(argv)
    print(
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        "| network | nodes | rows | read_model | from_onnx(path) | fresh `rfcalc M.onnx --json` | fresh `import onnx` |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.models.split(","):
        r = bench(name, args.runs)
        print(
            f"| {r['name']} | {r['nodes']} | {r['rows']} | {r['load'] * 1e3:.1f} ms | {r['analyse'] * 1e3:.1f} ms "
            f"| {r['cli']:.2f} s | {r['import_onnx']:.2f} s |"
        )


if __name__ == "__main__":
    main()
