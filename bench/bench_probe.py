"""Benchmark the structural probe on a deep conv stack; prints ratios measured side by side in one run.

    TF_CPP_MIN_LOG_LEVEL=2 nice -n 10 .venv/bin/python bench/bench_probe.py [--depth 50] [--input 32x32x3]

Rows: the probe as shipped (one batched gradient pass under tf.function), the same eagerly, and
one gradient pass per probed unit (the batch split into size-1 chunks), all on the same model.
The first call also pays for building the clone and tracing; "warm" is the best of the repeats.

    nice -n 10 .venv/bin/python bench/bench_probe.py --floor [--before /tmp/erf-before] [--repeat 1] [--no-erf] [--report]

``--floor``: fresh processes, interleaved, medians of wall and CPU time (user + system of the
child, less sensitive to the load of a shared machine): ``rfcalc probe keras:ResNet50`` and
``rfcalc probe keras:ResNet50 --erf`` (left out with ``--no-erf``) of this tree (and of
``--before``, another checkout), each beside its floor: import TensorFlow, build
``ResNet50(weights=None)``, one batched forward and backward pass at 224x224 of 8 images (the
probe) or of as many images as the ERF drew. The probe's rows also give its gradient passes.
``--report`` adds ``rfcalc report keras:ResNet50 --erf`` (the ERF of up to 8 layers), beside its own
floor: the import and the build, then one batched pass per ERF layer, through the model up to that
layer, of as many images as the report drew for it (read back from the page).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
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


FLOOR = """
import sys, numpy as np, tensorflow as tf
m = tf.keras.applications.ResNet50(weights=None)
x = tf.constant(np.random.default_rng(0).standard_normal((int(sys.argv[1]), 224, 224, 3)).astype("float32"))
with tf.GradientTape() as t:
    t.watch(x)
    y = tf.reduce_sum(m(x, training=False))
t.gradient(y, x).numpy()
"""
FLOOR_LAYERS = """
import json, sys, numpy as np, tensorflow as tf
m = tf.keras.applications.ResNet50(weights=None)
rng = np.random.default_rng(0)
for name, n in json.loads(sys.argv[1]):  # the report's ERF layers and the samples it drew for each: one pass each
    sub = tf.keras.Model(m.inputs, m.get_layer(name).output)
    x = tf.constant(rng.standard_normal((n, 224, 224, 3)).astype("float32"))
    with tf.GradientTape() as t:
        t.watch(x)
        y = tf.reduce_sum(sub(x, training=False))
    t.gradient(y, x).numpy()
"""


def _child(cmd, cwd=None, env=None):
    """Wall and CPU seconds (user + system) of one fresh process, and its stdout."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, out


def floor(args) -> int:
    import json
    import statistics

    here = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    trees = [("this tree", here)] + ([("before", os.path.abspath(args.before))] if args.before else [])
    py = sys.executable
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")

    def rfcalc(tree, *extra):
        cmd = [py, "-m", "rfcalc.cli", "probe", "keras:ResNet50", *extra]
        return _child(cmd, cwd=tree, env=dict(env, PYTHONPATH=tree))  # -m puts the cwd first on sys.path

    times: dict = {}
    drawn, passes, layers = {}, {}, {}
    for _ in range(args.repeat):  # interleaved: every variant once per round
        for label, tree in trees:
            wall, cpu, out = rfcalc(tree, "--json")
            passes.setdefault(label, []).append(json.loads(out)["passes"])
            times.setdefault(("probe", label), []).append((wall, cpu))
            if args.no_erf:
                continue
            wall, cpu, out = rfcalc(tree, "--erf", "--json")
            drawn.setdefault(label, []).append(json.loads(out)["samples"])
            times.setdefault(("probe --erf", label), []).append((wall, cpu))
            if args.report:  # the page with its ERF: the same draws (same seed), plus the analysis and the HTML
                page = os.path.join(tempfile.mkdtemp(), "r.html")
                cmd = [py, "-m", "rfcalc.cli", "report", "keras:ResNet50", "--erf", "-o", page]
                wall, cpu, _ = _child(cmd, cwd=tree, env=dict(env, PYTHONPATH=tree))
                times.setdefault(("report --erf", label), []).append((wall, cpu))
                with open(page, encoding="utf-8") as f:
                    layers[label] = re.findall(r'"layer":"([^"]+)","unit":\[[^]]*\],"samples":(\d+)', f.read())
        for n in sorted({8, *(d[-1] for d in drawn.values())}):
            times.setdefault(("floor", f"{n} images"), []).append(_child([py, "-c", FLOOR, str(n)], env=env)[:2])
        for label, found in layers.items():  # the report's floor: one pass per ERF layer, of the samples it drew
            todo = json.dumps([(name, int(n)) for name, n in found])
            times.setdefault(("floor", f"report, {label}"), []).append(
                _child([py, "-c", FLOOR_LAYERS, todo], env=env)[:2]
            )
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    print(
        f"{os.cpu_count()} CPU cores visible, load average {os.getloadavg()[0]:.1f} at the end; medians of {args.repeat}"
    )
    print(f"{'command':34} {'wall s':>8} {'CPU s':>8} {'floor':>10} {'wall/floor':>10} {'CPU/floor':>10}")
    for (what, label), (w, c) in med.items():
        if what == "floor":
            print(f"{'floor, ' + label:34} {w:>8.1f} {c:>8.1f}")
            continue
        if what == "report --erf":
            fw, fc = med[("floor", f"report, {label}")]
            each = "+".join(n for _, n in layers[label])
            name = f"{what} ({label}, samples {each})"
            print(f"{name:34} {w:>8.1f} {c:>8.1f} {'its passes':>10} {w / fw:>10.2f} {c / fc:>10.2f}")
            continue
        n = 8 if what == "probe" else int(statistics.median_low(drawn[label]))
        fw, fc = med[("floor", f"{n} images")]
        each = "/".join(map(str, (passes if what == "probe" else drawn)[label]))
        name = f"{what} ({label}, {'passes' if what == 'probe' else 'samples'} {each})"
        print(f"{name:34} {w:>8.1f} {c:>8.1f} {n:>3} images {w / fw:>10.2f} {c / fc:>10.2f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--input", default="32x32x3")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--floor", action="store_true", help="ResNet50: rfcalc probe [--erf] against the floor, fresh processes"
    )
    ap.add_argument("--before", help="with --floor: another checkout to time beside this one")
    ap.add_argument("--no-erf", action="store_true", help="with --floor: time the structural probe only")
    ap.add_argument("--report", action="store_true", help="with --floor: also `rfcalc report keras:ResNet50 --erf`")
    args = ap.parse_args(argv)
    if args.floor:
        return floor(args)

    import tensorflow as tf

    from rfcalc.runs import probe_passes
    from rfcalc.runs.probes import probe

    spec = f"c3*{args.depth}"
    rows = []
    result, cold, warm = timed(lambda: probe(spec, input_shape=args.input), args.repeat)
    rows.append(("batched, tf.function", result.passes, cold, warm))
    ref = warm
    _, cold_e, warm_e = timed(lambda: probe(spec, input_shape=args.input, compiled=False), args.repeat)
    rows.append(("batched, eager", result.passes, cold_e, warm_e))
    saved = probe_passes._MEMORY
    probe_passes._MEMORY = 1  # chunks of one: a gradient pass per probed unit
    try:
        single, cold_s, warm_s = timed(lambda: probe(spec, input_shape=args.input), 1)
    finally:
        probe_passes._MEMORY = saved
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
