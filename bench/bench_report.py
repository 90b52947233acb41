"""Benchmark the HTML report: build time, file size, and in headless Chromium the time to open and to answer a click.

    TF_CPP_MIN_LOG_LEVEL=2 nice -n 10 .venv/bin/python bench/bench_report.py [--runs 5] [--models ResNet50,MobileNetV2]

Rows, side by side in one run: a 50-layer spec on 224x224x3, and keras.applications networks
(weights=None, read with from_keras). "open" is the page's own clock when its script has drawn
the first field (performance.now() since navigation start: parsing the HTML, the JSON, the first
render); "click" is choosing a layer in the table and clicking a unit of its output grid, from the
click until the field is drawn. Best and median of ``--runs`` page loads. Needs selenium and
Debian's chromium + chromium-driver; the Keras rows need TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CLICK = """
var name = arguments[0], c = document.getElementById('output-canvas'), t = performance.now();
document.querySelector('#layers tr[data-layer="' + name + '"]').click();
var r = c.getBoundingClientRect();
c.dispatchEvent(new MouseEvent('click', {clientX: Math.round(r.left + 10), clientY: Math.round(r.top + 10), bubbles: true}));
return performance.now() - t;
"""


def analyses(models):
    from rfcalc import analyze

    yield "c3*50 (spec)", analyze("c3*50", (224, 224, 3))
    if models:
        import keras

        from rfcalc import from_keras

        for name in models:
            yield name, from_keras(getattr(keras.applications, name)(weights=None, input_shape=(224, 224, 3)))


def measure(driver, path, first_layer, runs):
    from selenium.webdriver.support.ui import WebDriverWait

    opens, clicks = [], []
    for _ in range(runs):
        driver.get(path.as_uri())
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
        opens.append(float(driver.execute_script("return document.body.dataset.readyMs")))
        clicks.append(driver.execute_script(CLICK, first_layer))
    return opens, clicks


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--models", default="ResNet50,MobileNetV2", help="keras.applications names ('' for none)")
    args = p.parse_args()
    from test_browser import _why_no_browser, new_driver

    from rfcalc.htmlreport.page import report

    why = _why_no_browser()
    if why:
        sys.exit(f"bench_report: {why}")
    models = [m for m in args.models.split(",") if m]
    rows = []
    driver = new_driver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for label, a in analyses(models):
                t0 = time.perf_counter()
                html = report(a).html
                build = time.perf_counter() - t0
                path = Path(tmp) / "r.html"
                path.write_text(html, encoding="utf-8")
                first = next(r.name for r in a.layers if r.spatial)
                opens, clicks = measure(driver, path, first, args.runs)
                rows.append((label, len(a.layers), len(html.encode()), build, opens, clicks))
    finally:
        driver.quit()
    print("| model | layers | file KB | build s | open ms (best / median) | click ms (best / median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, n, size, build, opens, clicks in rows:
        print(
            f"| {label} | {n} | {size / 1024:.0f} | {build:.2f} | {min(opens):.0f} / {statistics.median(opens):.0f} "
            f"| {min(clicks):.1f} / {statistics.median(clicks):.1f} |"
        )


if __name__ == "__main__":
    main()
