"""ERF of the notebook's model1/model2 (and the 3-conv exercise model) before and after training.

There is no CIFAR-10 on this machine, so the models are trained on real Fashion-MNIST (28x28x1),
read from the Debian package's IDX files (apt-get install dataset-fashion-mnist):

    TF_CPP_MIN_LOG_LEVEL=2 nice -n 10 .venv/bin/python bench/erf_fashion.py [--train 12000] [--epochs 2]

Each model is the notebook's (Conv2D 32 3x3 'same' ReLU ... MaxPooling2D 2, Flatten, Dense 20,
Dense 10 softmax), Adam 1e-3, batch 128, validation_split 0.1, seed 0. The ERF of the centre unit
of the last conv layer and of the pooling layer is measured on 64 random normal inputs and on 256
test images, before and after training. Prints one markdown table (docs/probes.md quotes it).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = "/usr/share/datasets/fashion-mnist"
MODELS = [("model1", "c3,p2"), ("model2", "c3,c3,p2"), ("model3", "c3,c3,c3,p2")]


def idx(path):
    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(root, n_train):
    x = idx(os.path.join(root, "train-images-idx3-ubyte.gz"))[:n_train, :, :, None].astype("float32") / 255.0
    y = idx(os.path.join(root, "train-labels-idx1-ubyte.gz"))[:n_train].astype("int64")
    xt = idx(os.path.join(root, "t10k-images-idx3-ubyte.gz"))[:, :, :, None].astype("float32") / 255.0
    yt = idx(os.path.join(root, "t10k-labels-idx1-ubyte.gz")).astype("int64")
    return x, y, xt, yt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=ROOT)
    ap.add_argument("--train", type=int, default=12000)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--plots", default=None, help="folder for the ERF heatmaps (PNG) of the pooling layers")
    args = ap.parse_args(argv)

    import keras

    from rfcalc.frameworks.keras import to_keras
    from rfcalc.runs.plots import plot_erf
    from rfcalc.runs.probes import erf

    x, y, xt, yt = load(args.root, args.train)
    print(f"Fashion-MNIST: {len(x)} training images, {len(xt)} test images, {x.shape[1:]}")
    lines = [
        "| model | layer | rf | weights | inputs | 50% | 90% | 99% | sigma (px) | test acc |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, spec in MODELS:
        keras.utils.set_random_seed(0)
        model = to_keras(spec, (28, 28, 1), head="seed", name=name)
        model.compile(
            loss="sparse_categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"]
        )
        convs = [layer.name for layer in model.layers if layer.name.startswith("conv2d")]
        probes = [convs[-1], "max_pooling2d"]
        acc0 = model.evaluate(xt, yt, verbose=0)[1]
        stages = [("fresh (Glorot, seed 0)", acc0)]
        results = {}
        for stage in ("before", "after"):
            if stage == "after":
                t0 = time.perf_counter()
                model.fit(x, y, batch_size=128, epochs=args.epochs, validation_split=0.1, verbose=0)
                acc = model.evaluate(xt, yt, verbose=0)[1]
                stages.append((f"trained {args.epochs} epochs ({time.perf_counter() - t0:.0f} s)", acc))
            for layer in probes:
                for label, kw in (("64 random normal", dict(samples=64)), ("256 test images", dict(images=xt[:256]))):
                    r = erf(model, layer=layer, seed=0, **kw)
                    results[(stage, layer, label)] = r
        for (stage, layer, label), r in results.items():
            weights, acc = stages[0] if stage == "before" else stages[1]
            lines.append(
                f"| {name} `{spec}` | {layer} | {r.rf[0]} | {weights} | {label} | {r.sides[0.5]} | "
                f"{r.sides[0.9]} | {r.sides[0.99]} | {r.sigma[0]:.2f} x {r.sigma[1]:.2f} | {acc:.3f} |"
            )
            if args.plots and layer == "max_pooling2d" and label.startswith("256"):
                os.makedirs(args.plots, exist_ok=True)
                plot_erf(r, os.path.join(args.plots, f"erf_{name}_{stage}.png"))
        print(f"{name}: test accuracy {stages[0][1]:.3f} -> {stages[1][1]:.3f}", flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
