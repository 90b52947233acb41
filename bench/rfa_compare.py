"""rfcalc against rfa-toolbox (Richter et al.) on torchvision classifiers, with torch gradients as the judge.

    PYTHONPATH=$PWD TORCH_VENV/bin/python bench/rfa_compare.py \
        --out docs/experiments/rfa-toolbox [resnet18 resnet50 vgg16 mobilenet_v2 efficientnet_b0 densenet121]
(TORCH_VENV: a venv with torch, torchvision and rfa-toolbox, e.g. `pip install torch torchvision` then
`pip install --no-deps --ignore-requires-python rfa-toolbox`; rfa-toolbox pins Python < 3.11 and numpy < 2.)

For each model (weights=None, eval mode): rfa-toolbox's input-resolution range (``input_resolution_range``,
as its README calls it) and its border layers (``obtain_border_layers``) at 32, 64 and 224 pixels; rfcalc's
``from_torch(...).productivity()`` at the same sizes; and two gradient measurements on a linearised copy
(ReLU-like activations and sigmoid gates made the identity, max pools made average pools of the same window,
every weight positive and normalised, BatchNorm an identity, float64), of the centre unit on an input larger
than the field:

* ``hi``: the field of the last feature layer (the union of all paths), which both tools give as the
  upper end of the range;
* ``lo``: the narrowest field read by the layer that reads the widest one (rfcalc's lower end): measured with
  every residual / dense branch's last BatchNorm (or conv) zeroed, so that gradients flow only through the
  narrowest path (shortcuts), which is what ``rf_min`` means.

rfa-toolbox 1.7.0 does ``from collections import Sequence``, which Python 3.10 removed; the three names are
put back into ``collections`` before it is imported (nothing in the installed package is changed).
Writes ``results.json`` and ``table.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import collections
import collections.abc
import copy
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

for _name in ("Sequence", "Iterable", "Mapping"):
    setattr(collections, _name, getattr(collections.abc, _name))

MODELS = ("resnet18", "resnet50", "vgg16", "mobilenet_v2", "efficientnet_b0", "densenet121")
SIZES = (32, 64, 224)
NARROW = 64  # the width of the probing input


def rfa_side(model):
    from rfa_toolbox import input_resolution_range
    from rfa_toolbox.encodings.pytorch.ingest_architecture import create_graph_from_model
    from rfa_toolbox.utils.graph_utils import obtain_border_layers

    began = time.perf_counter()
    graph = create_graph_from_model(model, input_res=(1, 3, 224, 224))
    lo, hi = input_resolution_range(graph, filter_all_inf_rf=False)
    out = {"range": [int(lo[0]), int(hi[0])], "nodes": len(graph.all_layers), "border": {}}
    for res in SIZES:
        border = obtain_border_layers(graph, res)
        first = border[0] if border else None
        fc_rule = []  # border nodes whose inputs all read fields no wider than res: rfa's "feature map <= kernel" rule
        for node in border:
            preds = [
                int(max(p.receptive_field_min))
                if hasattr(p.receptive_field_min, "__len__")
                else int(p.receptive_field_min)
                for p in node.predecessors
            ]
            if preds and max(preds) < res:
                fc_rule.append(node.name)
        out["border"][res] = {
            "first": first.name if first else None,
            "first_kind": first.layer_info.name if first else None,
            "count": len(border),
            "by_fc_rule": len(fc_rule),
            "fc_examples": fc_rule[:3],
        }
    out["seconds"] = round(time.perf_counter() - began, 1)
    return out


def rfcalc_side(name, model):
    """rfcalc on the whole model, or on its feature extractor where torch cannot export the whole at a size
    (VGG's adaptive pool to 7x7 at 32x32); the classifier's rows have no spatial field either way."""
    from rfcalc import RFError, from_torch

    out = {"border": {}, "features_only": []}
    began = time.perf_counter()
    for res in SIZES:
        try:
            a = from_torch(model, (res, res, 3))
        except RFError:
            a = from_torch(features(name, model), (res, res, 3))
            out["features_only"].append(res)
        p = a.productivity()
        r = p.ranges[0]
        prefix = "features." if res in out["features_only"] else ""
        b = p.border
        out["border"][res] = {
            "first": prefix + p.border_name if b is not None else None,
            "reads": list(p.reads[b]) if b is not None else None,
            "source": prefix + (_source(a, b) or "") if b is not None else None,
            "before": prefix + a.layers[b - 1].name if b else None,
            "before_reads": list(p.reads[b - 1]) if b else None,
            "before_source": prefix + (_source(a, b - 1) or "") if b else None,
            "count": len(p.unproductive_rows),
            "rows": len(a.layers),
        }
        out["range"] = [r.lo, r.hi]
        widest = max((i for i, f in enumerate(p.reads) if f is not None), key=lambda i: p.reads[i][0])
        out["widest_read"] = {"row": p.names[widest], "reads": p.reads[widest][0], "source": _source(a, widest)}
        out["last_rf"] = list(a.rf)
    out["seconds"] = round(time.perf_counter() - began, 1)
    return out


def _source(a, i):
    """The name of the row that row ``i`` reads (its narrowest input); through activations to the row
    before them (same field), since torchvision calls one ReLU module several times per block."""
    by = {r.name: r for r in a.layers}
    row = a.layers[i]
    if row.inputs:
        name = min((n for n in row.inputs if n in by), key=lambda n: by[n].rf_min[0], default=None)
    else:
        name = a.layers[i - 1].name if i else None
    while name in by and "relu" in by[name].kind.lower() and not by[name].inputs:
        j = a.layers.index(by[name])
        if j == 0:
            break
        name = a.layers[j - 1].name
    return name


def features(name, model):
    """The feature extractor (no classifier head) of a torchvision classifier."""
    import torch

    if name.startswith("resnet"):
        return torch.nn.Sequential(*list(model.children())[:-2])
    return model.features


def linearised(name, module, narrow: bool, keep: str | None = None):
    """A copy whose gradient support is the dependency set: identities, average pools, positive weights;
    ``narrow``: branch ends zeroed so that only the narrowest path carries gradient."""
    import torch
    from torch import nn

    m = copy.deepcopy(module).double().eval()
    for parent in m.modules():
        for child_name, child in list(parent.named_children()):
            if isinstance(
                child, (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish, nn.Sigmoid, nn.Hardsigmoid, nn.GELU, nn.Dropout)
            ):
                setattr(parent, child_name, nn.Identity())
            elif isinstance(child, nn.MaxPool2d):
                setattr(
                    parent,
                    child_name,
                    nn.AvgPool2d(
                        child.kernel_size,
                        child.stride,
                        child.padding,
                        ceil_mode=child.ceil_mode,
                        count_include_pad=True,
                    ),
                )
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.weight[0].numel()
                mod.weight.fill_(1.0 / fan_in)
                if mod.bias is not None:
                    mod.bias.zero_()
            elif isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.zero_(), mod.running_var.fill_(1.0), mod.weight.fill_(1.0), mod.bias.zero_()
                mod.eps = 0.0
        for mod in m.modules():
            if type(mod).__name__ == "SqueezeExcitation":  # gate = 1 + tiny·mean: global, but no blow-up
                mod.fc2.weight.fill_(1e-6 / mod.fc2.weight[0].numel())
                mod.fc2.bias.fill_(1.0)
        if narrow:
            for mod in m.modules():
                ends = []
                kind = type(mod).__name__
                if kind == "BasicBlock":
                    ends = [mod.bn2]
                elif kind == "Bottleneck":
                    ends = [mod.bn3]
                elif kind == "InvertedResidual" and mod.use_res_connect:
                    ends = [mod.conv[-1]]
                elif kind == "MBConv" and mod.use_res_connect:
                    ends = [mod.block[-1][1]]
                elif kind == "_DenseLayer":
                    ends = [mod.conv2]
                for e in ends:
                    if keep is not None and e is dict(m.named_modules()).get(keep):
                        continue  # the measured layer itself: its own output must keep its gradient
                    e.weight.zero_()
                    if getattr(e, "bias", None) is not None:
                        e.bias.zero_()
    return m


def measured_field(name, model, layer: str | None, size: int, narrow: bool):
    """The height of the input region the centre unit of ``layer``'s output (None: the last feature layer)
    depends on, on a ``size`` x 64 input (the support of the gradient)."""
    import torch

    key = None
    if layer is not None:
        layer = layer.split("/")[0]  # an ONNX op's row inside a module ('features.5.conv.0.2/Clip': its ReLU6)
        key = layer[len("features.") :] if not name.startswith("resnet") and layer.startswith("features.") else layer
        if name.startswith("resnet"):  # the Sequential of children renumbers: conv1 is 0, bn1 1, ...
            names = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
            head, _, rest = layer.partition(".")
            key = f"{names.index(head)}" + (f".{rest}" if rest else "") if head in names else layer
    m = linearised(name, features(name, model), narrow, keep=key)
    got = {}
    if key is not None:
        mods = dict(m.named_modules())
        if key not in mods:
            return None
        mods[key].register_forward_hook(lambda mod, inp, out: got.setdefault("calls", []).append(out))
    # tall and narrow: fields are per axis, and the height alone is measured (square kernels and strides);
    # a square input of the size DenseNet's field needs does not fit in memory (24 GB at 1,100 pixels)
    x = torch.ones(1, 3, size, NARROW, dtype=torch.float64, requires_grad=True)
    out = m(x)
    calls = got.get("calls", [out])
    if len(calls) != 1:
        return {"rf": None, "size": size, "clipped": False, "note": f"{layer} runs {len(calls)} times"}
    t = calls[0]
    h, w = t.shape[2] // 2, t.shape[3] // 2
    t[0, :, h, w].sum().backward()
    if not torch.isfinite(x.grad).all():
        return {"rf": None, "size": size, "clipped": False, "note": "gradient not finite"}
    support = (x.grad[0].abs().sum(0) > 0).nonzero()
    if len(support) == 0:
        return {"rf": [0, 0], "size": size, "clipped": False, "note": "no gradient"}
    rows = support[:, 0]
    clipped = bool(rows.min() == 0 or rows.max() == size - 1)
    return {"rf": [int(rows.max() - rows.min() + 1)], "size": [size, NARROW], "clipped": clipped}


def _probe_size(field: int) -> int:
    return -(-(field + 64) // 32) * 32


def one(name):
    import torch
    import torchvision

    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    warnings.filterwarnings("ignore")
    theirs = rfa_side(model)
    ours = rfcalc_side(name, model)
    began = time.perf_counter()
    hi = measured_field(name, model, None, _probe_size(max(ours["range"][1], theirs["range"][1])), narrow=False)
    src = ours["widest_read"]["source"]
    lo = (
        measured_field(name, model, src, _probe_size(max(ours["range"][1], theirs["range"][1])), narrow=True)
        if src
        else None
    )
    for res in SIZES:  # what the border row and the row before it read, measured on the narrowest path
        b = ours["border"][res]
        if b["first"]:
            size = _probe_size(b["reads"][0])
            b["measured_reads"] = measured_field(name, model, b["source"], size, narrow=True)
            b["measured_before_reads"] = (
                measured_field(name, model, b["before_source"], size, narrow=True) if b["before_source"] else None
            )
    return {
        "model": name,
        "rfa": theirs,
        "rfcalc": ours,
        "gradient": {"hi": hi, "lo": lo, "lo_layer": src, "seconds": round(time.perf_counter() - began, 1)},
    }


def table(results) -> str:
    lines = [
        "| model | range rfa-toolbox | range rfcalc | gradient: last field / narrowest widest read | "
        + " | ".join(f"border at {s}: rfa-toolbox (count) | rfcalc (count)" for s in SIZES)
        + " |",
        "|---" * (4 + 2 * len(SIZES)) + "|",
    ]
    for r in results:
        g = r["gradient"]
        grad = f"{g['hi']['rf'][0]}{' (clipped)' if g['hi']['clipped'] else ''} / " + (
            f"{g['lo']['rf'][0]}{' (clipped)' if g['lo']['clipped'] else ''}" if g["lo"] else "-"
        )
        cells = [r["model"], "{}-{}".format(*r["rfa"]["range"]), "{}-{}".format(*r["rfcalc"]["range"]), grad]
        for s in SIZES:
            a, b = r["rfa"]["border"][s], r["rfcalc"]["border"][s]
            fc = f", {a['by_fc_rule']} by its map<=kernel rule" if a["by_fc_rule"] else ""
            cells.append(f"`{a['first']}` ({a['count']}{fc})" if a["first"] else "none")
            if b["first"]:
                m, mb = b.get("measured_reads"), b.get("measured_before_reads")
                meas = (f"; gradient {m['rf'][0]}" if m and m.get("rf") else "") + (
                    f", row before reads {b['before_reads'][0]} (gradient {mb['rf'][0]})" if mb and mb.get("rf") else ""
                )
                cells.append(f"`{b['first']}` reads {b['reads'][0]}{meas} ({b['count']})")
            else:
                cells.append("none")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="*", default=list(MODELS))
    p.add_argument("--out", default="docs/experiments/rfa-toolbox")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, began = [], time.perf_counter()
    import rfa_toolbox
    import torch

    done = {}
    if (out / "partial.json").exists():  # an interrupted run: keep the models it finished
        done = {r["model"]: r for r in json.loads((out / "partial.json").read_text())}
    for name in args.models:
        t = time.perf_counter()
        results.append(done[name] if name in done else one(name))
        print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        (out / "partial.json").write_text(json.dumps(results, indent=1) + "\n")

    meta = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "rfa_toolbox": rfa_toolbox.__version__,
        "seconds": round(time.perf_counter() - began, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "results.json").write_text(json.dumps({"meta": meta, "models": results}, indent=1) + "\n")
    (out / "table.md").write_text(table(results) + f"\n{meta}\n")
    (out / "partial.json").unlink()
    print(table(results))


if __name__ == "__main__":
    main()
