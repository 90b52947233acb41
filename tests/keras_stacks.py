"""Random Keras stacks of rank 1, 2 and 3 written with Keras' own classes (no rfcalc code).

A stack is a list of recipes ``(class name, kwargs)``; ``build`` applies them one by one on a
symbolic input, asks Keras for each layer's output shape (``compute_output_shape``) and drops a
layer that Keras refuses or that would shrink an axis to zero, so every drawn stack builds.
Used by test_keras_nd.py (shapes and count_params) and test_probes_nd.py (gradient probes).
"""

from __future__ import annotations

from hypothesis import strategies as st

RANK_SUFFIX = {1: "1D", 2: "2D", 3: "3D"}


def _tup(draw, rank, lo, hi):
    return tuple(draw(st.integers(lo, hi)) for _ in range(rank))


@st.composite
def recipe(draw, rank: int, kinds=None):
    """One layer of rank ``rank`` as ``(keras class name, kwargs)``."""
    r = RANK_SUFFIX[rank]
    choices = ["conv", "conv", "pool", "up", "tconv", "zp", "crop", "bn", "act"]
    if rank in (1, 2):
        choices += ["dw", "sep"]
    if rank == 2:
        choices += ["resize"]
    kind = draw(st.sampled_from(kinds or choices))
    k = _tup(draw, rank, 1, 4)
    if kind in ("conv", "dw", "sep"):
        paddings = ["valid", "same"] + (["causal"] if rank == 1 and kind == "conv" else [])
        padding = draw(st.sampled_from(paddings))
        stride, dilation = (1,) * rank, (1,) * rank
        if draw(st.booleans()):  # Keras refuses strides > 1 together with dilation > 1
            stride = _tup(draw, rank, 1, 3)
        else:
            dilation = _tup(draw, rank, 1, 3)
        kw = dict(kernel_size=k, strides=stride, padding=padding, dilation_rate=dilation, use_bias=draw(st.booleans()))
        if kind == "conv":
            return f"Conv{r}", dict(filters=draw(st.integers(1, 3)), **kw)
        if kind == "dw":
            return f"DepthwiseConv{r}", dict(depth_multiplier=draw(st.integers(1, 2)), **kw)
        return f"SeparableConv{r}", dict(
            filters=draw(st.integers(1, 3)), depth_multiplier=draw(st.integers(1, 2)), **kw
        )
    if kind == "tconv":
        stride = _tup(draw, rank, 1, 3)
        output_padding = None
        if draw(st.booleans()):
            output_padding = tuple(draw(st.integers(0, s - 1)) for s in stride)
        dilation = (1,) * rank
        if max(stride) == 1 and draw(st.booleans()):  # Keras takes a dilation with stride 1 only
            dilation = _tup(draw, rank, 1, 3)
        return f"Conv{r}Transpose", dict(
            filters=draw(st.integers(1, 3)),
            kernel_size=k,
            strides=stride,
            padding=draw(st.sampled_from(["valid", "same"])),
            dilation_rate=dilation,
            output_padding=output_padding,
            use_bias=draw(st.booleans()),
        )
    if kind == "pool":
        op = draw(st.sampled_from(["Max", "Average"]))
        strides = draw(st.one_of(st.none(), st.just(_tup(draw, rank, 1, 3))))
        return f"{op}Pooling{r}", dict(
            pool_size=_tup(draw, rank, 1, 3), strides=strides, padding=draw(st.sampled_from(["valid", "same"]))
        )
    if kind == "up":
        size = _tup(draw, rank, 1, 3)
        if rank == 1:
            return "UpSampling1D", dict(size=size[0])
        kw = dict(size=size)
        if rank == 2:
            kw["interpolation"] = draw(st.sampled_from(["nearest", "bilinear"]))
        return f"UpSampling{r}", kw
    if kind == "resize":  # integer factors, sized against the input in build()
        return "Resizing", dict(
            factors=_tup(draw, 2, 1, 3), interpolation=draw(st.sampled_from(["nearest", "bilinear"]))
        )
    if kind in ("zp", "crop"):
        pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(rank))
        if rank == 1:
            pads = pads[0]
        return (f"ZeroPadding{r}", dict(padding=pads)) if kind == "zp" else (f"Cropping{r}", dict(cropping=pads))
    if kind == "bn":
        return "BatchNormalization", {}
    return "ReLU", {}


HEADS = ("none", "gap", "gmp", "flat")


def head(name: str, rank: int) -> list:
    r = RANK_SUFFIX[rank]
    return {
        "none": [],
        "gap": [(f"GlobalAveragePooling{r}", {}), ("Dense", dict(units=2))],
        "gmp": [(f"GlobalMaxPooling{r}", {})],
        "flat": [("Flatten", {}), ("Dense", dict(units=3))],
    }[name]


def make(keras, cls: str, kwargs: dict, shape: tuple):
    """The Keras layer a recipe names (Resizing sized by its integer factors against ``shape``)."""
    kwargs = dict(kwargs)
    if cls == "Resizing":
        a, b = kwargs.pop("factors")
        kwargs.update(height=shape[0] * a, width=shape[1] * b)
    return getattr(keras.layers, cls)(**kwargs)


def build(keras, recipes, shape, name="stack"):
    """A Functional model of the recipes Keras accepts on ``shape``; None if none is left."""
    x = inp = keras.Input(shape=tuple(shape))
    kept = 0
    for cls, kwargs in recipes:
        current = tuple(x.shape[1:])
        try:
            layer = make(keras, cls, kwargs, current)
            out = layer.compute_output_shape((None,) + current)
        except Exception:  # noqa: BLE001 - Keras refuses these settings on this input
            continue
        if any(d is not None and d < 1 for d in out[1:]):
            continue
        x = layer(x)
        kept += 1
    if not kept:
        return None
    return keras.Model(inp, x, name=name)


@st.composite
def stack(draw, rank: int, min_size=2, max_size=10, kinds=None, heads=HEADS):
    """(recipes, input shape) of one random stack of rank ``rank`` with a head."""
    side = {1: (8, 40), 2: (6, 20), 3: (4, 9)}[rank]
    shape = _tup(draw, rank, *side) + (draw(st.integers(1, 3)),)
    body = draw(st.lists(recipe(rank, kinds), min_size=min_size, max_size=max_size))
    return body + head(draw(st.sampled_from(heads)), rank), shape


@st.composite
def encoder_decoder(draw, rank: int, resize=True):
    """Downsampling convs and pools, then upsampling and transposed convs (with convs between)."""
    side = {1: (16, 48), 2: (10, 24), 3: (6, 10)}[rank]
    shape = _tup(draw, rank, *side) + (draw(st.integers(1, 2)),)
    down = draw(st.lists(recipe(rank, ["conv", "pool"]), min_size=1, max_size=4))
    up_kinds = ["up", "tconv", "conv"] + (["resize"] if rank == 2 and resize else [])
    up = draw(st.lists(recipe(rank, up_kinds), min_size=1, max_size=5))
    return down + up, shape


def unet(keras, shape=(572, 572, 1), widths=(64, 128, 256, 512), classes=2):
    """Ronneberger et al. (2015) of any rank: two valid 3-wide convs per level, 2-pools, 2-wide stride-2
    up-convs, cropped skips concatenated; 572x572x1 in, 388x388x2 out (docs/keras.md)."""
    rank = len(shape) - 1
    L = keras.layers
    conv, pool = getattr(L, f"Conv{rank}D"), getattr(L, f"MaxPooling{rank}D")
    up, crop = getattr(L, f"Conv{rank}DTranspose"), getattr(L, f"Cropping{rank}D")

    def twice(x, f):
        return conv(f, 3, activation="relu")(conv(f, 3, activation="relu")(x))

    x = inp = keras.Input(shape)
    skips = []
    for f in widths:
        x = twice(x, f)
        skips.append(x)
        x = pool(2)(x)
    x = twice(x, 2 * widths[-1])
    for f, skip in zip(reversed(widths), reversed(skips)):
        x = up(f, 2, strides=2)(x)
        c = (skip.shape[1] - x.shape[1]) // 2
        x = twice(L.Concatenate()([crop((c, c) if rank == 1 else c)(skip), x]), f)
    return keras.Model(inp, conv(classes, 1)(x), name="unet")


def wavenet(keras, length=16000, stacks=3, layers=10, res=32, skip=64, classes=256):
    """A WaveNet (van den Oord et al. 2016): a causal input conv, then ``stacks`` x ``layers`` gated
    dilated causal convs (dilations 1..2^(layers-1)) with residual and skip connections (docs/keras.md)."""
    L = keras.layers
    x = inp = keras.Input((length, 1))
    x = L.Conv1D(res, 2, padding="causal", name="causal_in")(x)
    skips = []
    for s in range(stacks):
        for i in range(layers):
            d = 2**i
            f = L.Conv1D(res, 2, dilation_rate=d, padding="causal", activation="tanh", name=f"filter_{s}_{d}")(x)
            g = L.Conv1D(res, 2, dilation_rate=d, padding="causal", activation="sigmoid", name=f"gate_{s}_{d}")(x)
            z = L.Multiply(name=f"gated_{s}_{d}")([f, g])
            skips.append(L.Conv1D(skip, 1, name=f"skip_{s}_{d}")(z))
            x = L.Add(name=f"residual_{s}_{d}")([x, L.Conv1D(res, 1, name=f"res_{s}_{d}")(z)])
    y = L.ReLU(name="relu")(L.Add(name="skips")(skips))
    y = L.Conv1D(skip, 1, activation="relu", name="post")(y)
    return keras.Model(inp, L.Conv1D(classes, 1, activation="softmax", name="logits")(y), name="wavenet")
