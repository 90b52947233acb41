"""Benchmark ``rfcalc.from_torch`` against ``torchinfo.summary`` and torchscan on the same modules.

    nice -n 10 /work/venvs/torch/bin/python bench/bench_torch.py [--runs 7] [--models resnet18,resnet50,timm:efficientnet_b0]

In one process, per module (built once, weights=None / pretrained=False, train mode as built):
``from_torch(module, (H, W, 3), cache=False)`` (export to ONNX in memory + read, a first call), ``torchinfo.summary(module,
(1, 3, H, W), verbose=0)`` and ``torchscan.crawl_module(module, (3, H, W))`` (what
``torchscan.summary`` prints, without printing), ``from_torch`` asked again on the same module
(``cached``: the export reused, only the fingerprint and the ONNX read), and ``from_torch`` as it was
before route 0 (``before``: torch's TorchScript exporter, routes 1-3 of rfcalc/frameworks/torch_export.py),
each once to warm up, then ``runs`` interleaved rounds; medians of wall time (and the fastest run of each, the least
disturbed by other load). torchinfo and torchscan run the module forward at 224x224; ``from_torch`` records it at 64x64
(route 0, rfcalc/frameworks/torch_capture.py) where nothing in it reads a size, ``before`` traces it
at 64x64 with the spatial axes dynamic where it can. ``from_torch`` of a module whose graph rfcalc refuses
is timed to its refusal and marked.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODELS = ["resnet18", "resnet50", "timm:efficientnet_b0", "timm:convnext_tiny"]


def build(name: str):
    if name.startswith("timm:"):
        import timm

        return timm.create_model(name[5:], pretrained=False)
    import torchvision

    return getattr(torchvision.models, name)(weights=None)


def before(module, shape):
    """``from_torch`` as it was before route 0 (commit 249299e): the TorchScript exporter's routes 1-3
    (the small size-free trace where it holds, else the real size), then the ONNX read."""
    from rfcalc.frameworks import torch_export as E
    from rfcalc.frameworks.onnx import from_onnx

    return from_onnx(E.export(module, shape, capture=False), input_shape=shape)


def bench(name: str, runs: int, size: int) -> dict:
    import torchinfo
    import torchscan

    from rfcalc.errors import RFError
    from rfcalc.frameworks.torch import from_torch

    module = build(name)
    verdict = {}

    def ours():
        try:
            verdict["rows"] = len(from_torch(module, (size, size, 3), cache=False).layers)
        except RFError as err:
            verdict["refused"] = str(err)[:80]

    def old():
        try:
            before(module, (size, size, 3))
        except RFError:
            pass

    def again():  # the same module asked again: the export is reused while its fingerprint holds
        try:
            from_torch(module, (size, size, 3))
        except RFError:
            pass

    tools = {
        "from_torch": ours,
        "cached": again,
        "before": old,
        "torchinfo": lambda: torchinfo.summary(module, (1, 3, size, size), verbose=0),
        "torchscan": lambda: torchscan.crawl_module(module, (3, size, size)),
    }
    times: dict[str, list[float]] = {k: [] for k in tools}
    for fn in tools.values():  # warm: first-call costs (imports, TorchScript setup) once for each
        fn()
    for _ in range(runs):
        for key, fn in tools.items():
            t = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t)
    return {
        "name": name,
        **{k: statistics.median(v) for k, v in times.items()},
        **{f"{k}_min": min(v) for k, v in times.items()},
        **verdict,
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--models", default=",".join(MODELS))
    args = p.parse_args(argv)
    import torch

    print(
        f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, torch {torch.__version__}"
        f" ({torch.get_num_threads()} threads), input {args.size}x{args.size}x3, {args.runs} interleaved runs, "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    print(
        "| module | from_torch | again (cached) | before | torchinfo.summary | torchscan.crawl_module | from_torch / torchinfo "
        "| fastest runs: from_torch / before / torchinfo / torchscan | rows |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    for name in args.models.split(","):
        r = bench(name, args.runs, args.size)
        rows = r.get("rows") or f"refused: {r.get('refused')}"
        print(
            f"| {r['name']} | {r['from_torch']:.2f} s | {r['cached']:.3f} s | {r['before']:.2f} s | {r['torchinfo']:.2f} s | {r['torchscan']:.2f} s "
            f"| {r['from_torch'] / r['torchinfo']:.2f} | {r['from_torch_min']:.2f} / {r['before_min']:.2f} / "
            f"{r['torchinfo_min']:.2f} / {r['torchscan_min']:.2f} s | {rows} |",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
