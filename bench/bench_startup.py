"""Fresh-process start-up of ``rfcalc "c3,c3,p2"`` and ``import rfcalc``: this tree against another, interleaved.

    git worktree add --detach /tmp/before bd6edaa      # e.g. the tree before issue 15's moves
    .venv/bin/python bench/bench_startup.py --baseline /tmp/before [--runs 20]

Both trees are byte-compiled first (``python -m compileall``) and run with PYTHONDONTWRITEBYTECODE unset,
so each run reads bytecode, as an installed package does. Each run is a new ``python -m rfcalc.cli`` (or
``python -c "import rfcalc"``) process with PYTHONPATH set to one tree; the trees alternate run by run, so
drift in the machine's load hits both alike. Prints medians of wall time and of the child's CPU time
(user + system), and checks that both trees print byte-identical output.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = "c3,c3,p2"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(tree: Path, args: list[str]) -> tuple[float, float, bytes]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    cpu0, t0 = _children_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, *args], env=env, capture_output=True, check=True, cwd=tree).stdout
    return time.perf_counter() - t0, _children_cpu() - cpu0, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", type=Path, required=True, help="the other checkout (e.g. the commit before)")
    ap.add_argument("--runs", type=int, default=20, help="runs per tree and command (medians reported)")
    args = ap.parse_args(argv)
    trees = {"this tree": ROOT, "baseline": args.baseline.resolve()}
    for tree in trees.values():
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "rfcalc")], check=True)
    commands = {f'rfcalc "{SPEC}"': ["-m", "rfcalc.cli", SPEC], "import rfcalc": ["-c", "import rfcalc"]}
    outputs = {name: run(tree, commands[f'rfcalc "{SPEC}"'])[2] for name, tree in trees.items()}
    same = len(set(outputs.values())) == 1
    for cmd in commands.values():  # one warm-up run of each, not counted
        for tree in trees.values():
            run(tree, cmd)
    times = {(c, t): [] for c in commands for t in trees}
    for _ in range(args.runs):
        for c, cmd in commands.items():
            for t, tree in trees.items():
                wall, cpu, _ = run(tree, cmd)
                times[c, t].append((wall, cpu))
    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f}, {args.runs} interleaved runs each, bytecode compiled; baseline: {trees['baseline']}"
    )
    print(f'output of rfcalc "{SPEC}" byte-identical in both trees: {same}')
    print("\n| command | tree | wall s (median) | CPU s (median) | CPU vs baseline |")
    print("|---|---|---:|---:|---:|")
    for c in commands:
        base_cpu = statistics.median(cpu for _, cpu in times[c, "baseline"])
        for t in trees:
            wall = statistics.median(w for w, _ in times[c, t])
            cpu = statistics.median(u for _, u in times[c, t])
            print(f"| `{c}` | {t} | {wall:.3f} | {cpu:.3f} | {cpu / base_cpu:.2f} |")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
