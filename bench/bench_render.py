"""Benchmark printing a long layer table: rfcalc's linear text writer against rich's own layout.

    nice -n 10 .venv/bin/python bench/bench_render.py [--sizes 1000,10000,100000] [--rich-max 10000]

For ``c1*N`` (what ``rfcalc "c1*N" --all`` prints) it times, in one process and side by side:
``analyze`` (not part of rendering), building the rich ``Table``, and turning it into plain text
with ``render.plain`` (the linear writer in ``rfcalc.textable``) and with rich's ``Console``
(the way used before, skipped past ``--rich-max`` rows: it grows faster than linearly).
CPU seconds (``time.process_time``), best of ``--runs``.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def best(fn, runs):
    times = []
    for _ in range(runs):
        t = time.process_time()
        out = fn()
        times.append(time.process_time() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--rich-max", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    from rich.console import Console

    from rfcalc import analyze
    from rfcalc.render import plain, table

    print("| rows | analyze s | build Table s | plain text (rfcalc) s | rich Console s | rich / rfcalc |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (int(s) for s in args.sizes.split(",")):
        t_an, a = best(lambda n=n: analyze(f"c1*{n}"), 1)
        t_tab, tab = best(lambda a=a: table(a, max_rows=None), args.runs)
        t_txt, _ = best(lambda tab=tab: plain(tab, 120), args.runs)
        if n <= args.rich_max:

            def via_rich(tab=tab):
                out = io.StringIO()
                Console(file=out, width=120, color_system=None, soft_wrap=False).print(tab)
                return out.getvalue()

            t_rich, _ = best(via_rich, 1)
            rich_cell, ratio = f"{t_rich:.2f}", f"{t_rich / max(t_txt + t_tab, 1e-9):.0f}x"
        else:
            rich_cell, ratio = "(skipped)", "-"
        print(f"| {n:,} | {t_an:.2f} | {t_tab:.2f} | {t_txt:.2f} | {rich_cell} | {ratio} |")


if __name__ == "__main__":
    main()
