"""Route 0's handlers for the layers with windows or weights: convolutions (also transposed),
pools (also adaptive), BatchNorm / LayerNorm / GroupNorm, Linear and MatMul, Pad, interpolate and
PixelShuffle, each written as the ONNX nodes torch's TorchScript exporter writes (opset 17).

>>> callable(conv(2)) and callable(max_pool(2))
True
"""

from __future__ import annotations

from .torch_capture_args import Cannot, as_int, bind, ints, tensor_of


def conv(nd):
    def run(g, args, kwargs, out):
        p = bind(args, kwargs, ("input", "weight", "bias", "stride", "padding", "dilation", "groups"), _CONV)
        x, w, b = tensor_of(g, p["input"]), tensor_of(g, p["weight"]), p["bias"]
        if x.dim() != nd + 2 or w.dim() != nd + 2:
            raise Cannot("an unbatched convolution")
        k, s, d = list(w.shape[2:]), ints(p["stride"], nd), ints(p["dilation"], nd)
        pad = p["padding"]
        if pad == "valid":
            pads = [0] * (2 * nd)
        elif pad == "same":  # torch: the total d*(k-1), the odd pixel at the end
            total = [di * (ki - 1) for di, ki in zip(d, k)]
            pads = [t // 2 for t in total] + [t - t // 2 for t in total]
        elif isinstance(pad, str):
            raise Cannot(f"padding={pad!r}")
        else:
            pads = ints(pad, nd) * 2
        ins = [g.name(x), g.weight(w)] + ([] if b is None else [g.weight(tensor_of(g, b))])
        attrs = {"dilations": d, "group": as_int(p["groups"]), "kernel_shape": k, "pads": pads, "strides": s}
        g.emit("Conv", ins, out, g.sp(x), **attrs)

    return run


_CONV = {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}
_CONVT = {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1}


def conv_transpose(nd):
    def run(g, args, kwargs, out):
        names = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")
        p = bind(args, kwargs, names, _CONVT)
        x, w, b = tensor_of(g, p["input"]), tensor_of(g, p["weight"]), p["bias"]
        if x.dim() != nd + 2 or w.dim() != nd + 2:
            raise Cannot("an unbatched transposed convolution")
        attrs = {
            "dilations": ints(p["dilation"], nd),
            "group": as_int(p["groups"]),
            "kernel_shape": list(w.shape[2:]),
            "output_padding": ints(p["output_padding"], nd),
            "pads": ints(p["padding"], nd) * 2,
            "strides": ints(p["stride"], nd),
        }
        ins = [g.name(x), g.weight(w)] + ([] if b is None else [g.weight(tensor_of(g, b))])
        g.emit("ConvTranspose", ins, out, g.sp(x), **attrs)

    return run


def _window(p, nd):
    k = ints(p["kernel_size"], nd)
    s = p["stride"]
    s = k if s is None or (isinstance(s, (tuple, list)) and not s) else ints(s, nd)
    return k, s, ints(p["padding"], nd) * 2


def max_pool(nd):
    names = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
    defaults = {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False}

    def run(g, args, kwargs, out):
        p = bind(args, kwargs, names, defaults)
        x = tensor_of(g, p["input"])
        if p["return_indices"] or x.dim() != nd + 2:
            raise Cannot("max pooling with indices, or unbatched")
        k, s, pads = _window(p, nd)
        attrs = {"ceil_mode": int(bool(p["ceil_mode"])), "dilations": ints(p["dilation"], nd)}
        g.emit("MaxPool", [g.name(x)], out, g.sp(x), kernel_shape=k, pads=pads, strides=s, **attrs)

    return run


def avg_pool(nd):
    names = ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
    defaults = {"stride": None, "padding": 0, "ceil_mode": False, "count_include_pad": True, "divisor_override": None}

    def run(g, args, kwargs, out):
        p = bind(args, kwargs, names[: 6 if nd == 1 else 7], defaults)
        x = tensor_of(g, p["input"])
        if p.get("divisor_override") is not None or x.dim() != nd + 2:
            raise Cannot("divisor_override, or unbatched")
        k, s, pads = _window(p, nd)
        attrs = {"ceil_mode": int(bool(p["ceil_mode"])), "count_include_pad": int(bool(p["count_include_pad"]))}
        g.emit("AveragePool", [g.name(x)], out, g.sp(x), kernel_shape=k, pads=pads, strides=s, **attrs)

    return run


def adaptive(nd, kind):
    def run(g, args, kwargs, out):
        names = ("input", "output_size") + (("return_indices",) if kind == "Max" else ())
        p = bind(args, kwargs, names, {"return_indices": False})
        x = tensor_of(g, p["input"])
        if p.get("return_indices") or x.dim() != nd + 2:
            raise Cannot("adaptive pooling with indices, or unbatched")
        size = p["output_size"]
        size = list(size) if isinstance(size, (tuple, list)) else [size] * nd
        if len(size) != nd:
            raise Cannot(f"output_size {p['output_size']!r}")
        if all(v == 1 and type(v) is int for v in size):
            sp = g.sp(x)
            g.emit(f"Global{kind}Pool", [g.name(x)], out, None if sp is None else sp[:2] + (False,) * nd)
            return
        g.bound()  # the window depends on the input's size: at the real size, even windows only
        n = list(x.shape[2:])
        size = [n[i] if v is None else as_int(v) for i, v in enumerate(size)]
        if any(v < 1 or a % v for a, v in zip(n, size)):
            raise Cannot(f"an adaptive pool from {n} to {size}")
        k = [a // v for a, v in zip(n, size)]
        attrs = {"kernel_shape": k, "pads": [0] * (2 * nd), "strides": k}
        if kind == "Max":
            attrs.update(ceil_mode=0, dilations=[1] * nd)
        else:
            attrs.update(ceil_mode=0, count_include_pad=0)
        g.emit(f"{'Max' if kind == 'Max' else 'Average'}Pool", [g.name(x)], out, g.sp(x), **attrs)

    return run


# ---------------------------------------------------------------------------- norms


def batch_norm(g, args, kwargs, out):
    names = ("input", "running_mean", "running_var", "weight", "bias", "training", "momentum", "eps")
    p = bind(args, kwargs, names, {"weight": None, "bias": None, "training": False, "momentum": 0.1, "eps": 1e-5})
    x = tensor_of(g, p["input"])
    parts = [p[k] for k in ("weight", "bias", "running_mean", "running_var")]
    if p["training"] or any(t is None for t in parts) or x.dim() < 2:
        raise Cannot("batch_norm in training mode, or without running statistics, scale or shift")
    momentum = 0.9 if p["momentum"] is None else 1.0 - float(p["momentum"])
    ins = [g.name(x)] + [g.weight(tensor_of(g, t)) for t in parts]
    attrs = {"epsilon": float(p["eps"]), "momentum": momentum, "training_mode": 0}
    g.emit("BatchNormalization", ins, out, g.sp(x), **attrs)


def layer_norm(g, args, kwargs, out):
    names = ("input", "normalized_shape", "weight", "bias", "eps")
    p = bind(args, kwargs, names, {"weight": None, "bias": None, "eps": 1e-5})
    x, shape = tensor_of(g, p["input"]), p["normalized_shape"]
    n = len(shape) if isinstance(shape, (tuple, list)) else 1
    if p["weight"] is None or not 1 <= n <= x.dim():
        raise Cannot("layer_norm without a scale")
    g.free_axes(x, range(x.dim() - n, x.dim()))
    ins = [g.name(x), g.weight(tensor_of(g, p["weight"]))]
    if p["bias"] is not None:
        ins.append(g.weight(tensor_of(g, p["bias"])))
    g.emit("LayerNormalization", ins, out, g.sp(x), axis=-n, epsilon=float(p["eps"]))


def group_norm(g, args, kwargs, out):
    p = bind(
        args, kwargs, ("input", "num_groups", "weight", "bias", "eps"), {"weight": None, "bias": None, "eps": 1e-5}
    )
    x = tensor_of(g, p["input"])
    if p["weight"] is None or p["bias"] is None or x.dim() < 3:
        raise Cannot("group_norm without scale and shift")
    ins = [g.name(x), g.weight(tensor_of(g, p["weight"])), g.weight(tensor_of(g, p["bias"]))]
    g.emit("GroupNormalization", ins, out, g.sp(x), epsilon=float(p["eps"]), num_groups=as_int(p["num_groups"]))


# ---------------------------------------------------------------------------- weights, padding, resampling


def linear(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "weight", "bias"), {"bias": None})
    x, w, b = tensor_of(g, p["input"]), tensor_of(g, p["weight"]), p["bias"]
    if w.dim() != 2 or x.dim() < 1:
        raise Cannot("linear with a weight that is not 2-D")
    g.free_axes(x, (x.dim() - 1,))
    sp = g.sp(x)
    if x.dim() == 2 and b is not None:
        ins = [g.name(x), g.weight(w), g.weight(tensor_of(g, b))]
        g.emit("Gemm", ins, out, sp, alpha=1.0, beta=1.0, transB=1)
        return
    wt = g.emit("Transpose", [g.weight(w)], None, None, perm=[1, 0])
    if b is None:
        g.emit("MatMul", [g.name(x), wt], out, sp)
    else:
        y = g.emit("MatMul", [g.name(x), wt], None, sp)
        g.emit("Add", [y, g.weight(tensor_of(g, b))], out, sp)


def matmul(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "other"), {})
    a, b = tensor_of(g, p["input"]), tensor_of(g, p["other"])
    if g.dep(a) or g.dep(b):
        g.bound()
    g.emit("MatMul", [g.name(a), g.name(b)], out, None)


def pad(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "pad", "mode", "value"), {"mode": "constant", "value": None})
    x, amounts = tensor_of(g, p["input"]), [as_int(v) for v in p["pad"]]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}.get(p["mode"])
    if mode is None or len(amounts) % 2 or len(amounts) // 2 > x.dim() or min(amounts, default=0) < 0:
        raise Cannot(f"pad mode {p['mode']!r} or amounts {amounts}")
    n = x.dim()
    begins, ends = [0] * n, [0] * n
    for i in range(len(amounts) // 2):  # torch's pad lists the last axis first
        begins[n - 1 - i], ends[n - 1 - i] = amounts[2 * i], amounts[2 * i + 1]
    ins = [g.name(x), g.const(begins + ends)]
    if mode == "constant" and p["value"] not in (None, 0, 0.0):
        ins.append(g.const(float(p["value"]), x.dtype))
    g.emit("Pad", ins, out, g.sp(x), mode=mode)


def interpolate(g, args, kwargs, out):
    names = ("input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias")
    defaults = {"size": None, "scale_factor": None, "mode": "nearest", "align_corners": None}
    p = bind(args, kwargs, names, {**defaults, "recompute_scale_factor": None, "antialias": False})
    x, mode = tensor_of(g, p["input"]), p["mode"]
    nd = x.dim() - 2
    ops = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear", "bicubic": "cubic"}
    if mode not in ops or p["antialias"] or (mode == "nearest" and p["align_corners"]) or nd < 1:
        raise Cannot(f"interpolate mode={mode!r} (align_corners, antialias)")
    corners = bool(p["align_corners"])
    how = "align_corners" if corners else "asymmetric" if mode == "nearest" else "half_pixel"
    attrs = {"coordinate_transformation_mode": how, "cubic_coeff_a": -0.75, "mode": ops[mode], "nearest_mode": "floor"}
    scale = p["scale_factor"]
    if scale is not None and not p["recompute_scale_factor"]:
        scales = [float(v) for v in (scale if isinstance(scale, (tuple, list)) else [scale] * nd)]
        if len(scales) != nd or any(float(_f32(v)) != v or v <= 0 for v in scales):
            raise Cannot(f"scale_factor {scale!r} (not exact in float32)")
        ins = [g.name(x), "", g.const([1.0, 1.0] + scales, "float32")]
    else:  # sizes: torch's scale is then in/out, as ONNX's from sizes
        g.bound()
        ins = [g.name(x), "", "", g.const(list(out.shape))]
    g.emit("Resize", ins, out, g.sp(x), **attrs)


def _f32(v):
    import struct

    return struct.unpack("f", struct.pack("f", v))[0]


def pixel_shuffle(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "upscale_factor"), {})
    x = tensor_of(g, p["input"])
    if x.dim() != 4:
        raise Cannot("pixel_shuffle of a tensor that is not 4-D")
    g.emit("DepthToSpace", [g.name(x)], out, g.sp(x), blocksize=as_int(p["upscale_factor"]), mode="CRD")
