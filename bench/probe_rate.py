"""The rate behind rfcalc.runs.probe_limits.MACS_PER_SECOND: TensorFlow gradient passes, timed.

    PYTHONPATH=. python bench/probe_rate.py

Prints, for a few stacks, the multiply-adds of 32 ERF gradient rows (3 x MACs x 32) over the measured
seconds, and the estimate's ratio to the measurement (above 1: the estimate errs long, as it should).
Measured 2026-12-07 on the project's 2-core machine at load 15: 5.5 to 13 GMAC/s; the limit uses 4.
"""

import time

from rfcalc import analyze
from rfcalc.runs.effective_rf import erf
from rfcalc.runs.probe_limits import MACS_PER_SECOND, run_cost

erf("c3", input_shape=(8, 8, 1), samples=1)  # TensorFlow's start-up is not a run's cost
for spec, shape in [("c3-64*6", (64, 64, 64)), ("c5-32*4", (96, 96, 16)), ("c3,p2,c3-64,p2,c3-128", (128, 128, 3))]:
    work, estimate, _ = run_cost(analyze(spec, shape), 32)
    t0 = time.perf_counter()
    erf(spec, input_shape=shape, samples=32)
    seconds = time.perf_counter() - t0
    print(
        f"{spec:24} {'x'.join(map(str, shape)):10} {work / seconds / 1e9:6.1f} GMAC/s measured, "
        f"estimate {estimate:6.1f} s vs {seconds:6.1f} s ({estimate / seconds:.1f}x, rate {MACS_PER_SECOND / 1e9:g})"
    )
