"""The op table of ``torch_capture``: each torch call it knows, as the ONNX nodes that compute the same.

``TABLE`` maps a call's name (``conv2d``, ``add_``, ``__getitem__``...) to a handler
``(g, args, kwargs, out)`` that writes the call's nodes through the capture's graph ``g``
(``torch_capture.Graph``). A handler raises ``Cannot`` for any argument it does not prove it
translates exactly (the capture then gives way to the exporter), and calls ``g.bound()`` where
the ONNX form holds only at the size the forward ran at (a Reshape to explicit sizes, an adaptive
pool to more than one cell, a split along a spatial axis): the small capture stops and the real
size is captured instead. Attributes are written as torch's TorchScript exporter writes them
(opset 17), so the ONNX reader gives the rows it gives for that export.

``SIZE_FREE`` are calls that read no tensor data and no size (``dim``, ``dtype``...); ``SIZE_READS``
read a size (``shape``, ``size``...): valid only at the real size; anything else not in ``TABLE``
(``item``, ``__bool__``, ``tolist``, an unknown op) cannot be captured.

>>> "conv2d" in TABLE and "item" not in TABLE and "shape" in SIZE_READS
True
"""

from __future__ import annotations


class Cannot(Exception):
    """The forward makes a call route 0 does not translate (the exporter takes over)."""


class Bound(Exception):
    """The forward reads a size or makes a call whose ONNX form holds one size only."""


SIZE_FREE = frozenset(
    {"dim", "ndim", "dtype", "device", "is_floating_point", "is_cuda", "requires_grad", "layout"}
    | {"is_contiguous", "get_device", "_assert", "is_complex", "is_sparse", "is_quantized", "grad_fn"}
)
SIZE_READS = frozenset({"shape", "size", "numel", "__len__", "nelement"})
INT64_MAX = 2**63 - 1


def bind(args, kwargs, names, defaults):
    """``args``/``kwargs`` by parameter name (``names`` in order; ``defaults`` for the optional ones)."""
    if len(args) > len(names):
        raise Cannot(f"{len(args)} positional arguments")
    got = dict(defaults)
    got.update(zip(names, args))
    for k, v in kwargs.items():
        if k not in names:
            raise Cannot(f"argument {k!r}")
        got[k] = v
    if len(got) < len(names):
        raise Cannot("a required argument is missing")
    return got


def _int(v) -> int:
    if type(v) is not int:
        raise Cannot(f"{v!r} is not a Python int")
    return v


def ints(v, n: int) -> list:
    """An int or a sequence of ``n`` ints (or of one) as a list of ``n`` ints."""
    if isinstance(v, (tuple, list)):
        vals = [_int(x) for x in v]
        if len(vals) == 1:
            return vals * n
        if len(vals) != n:
            raise Cannot(f"{v!r} has not {n} entries")
        return vals
    return [_int(v)] * n


def _axis(d, rank: int) -> int:
    d = _int(d)
    if not -rank <= d < rank:
        raise Cannot(f"axis {d} of a rank-{rank} tensor")
    return d % rank


def _tensor(g, t):
    if not g.is_tensor(t):
        raise Cannot(f"{type(t).__name__} where a tensor is read")
    return t


# ---------------------------------------------------------------------------- windows


def conv(nd):
    def run(g, args, kwargs, out):
        p = bind(args, kwargs, ("input", "weight", "bias", "stride", "padding", "dilation", "groups"), _CONV)
        x, w, b = _tensor(g, p["input"]), _tensor(g, p["weight"]), p["bias"]
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
        ins = [g.name(x), g.weight(w)] + ([] if b is None else [g.weight(_tensor(g, b))])
        attrs = {"dilations": d, "group": _int(p["groups"]), "kernel_shape": k, "pads": pads, "strides": s}
        g.emit("Conv", ins, out, g.sp(x), **attrs)

    return run


_CONV = {"bias": None, "stride": 1, "padding": 0, "dilation": 1, "groups": 1}
_CONVT = {"bias": None, "stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1}


def conv_transpose(nd):
    def run(g, args, kwargs, out):
        names = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups", "dilation")
        p = bind(args, kwargs, names, _CONVT)
        x, w, b = _tensor(g, p["input"]), _tensor(g, p["weight"]), p["bias"]
        if x.dim() != nd + 2 or w.dim() != nd + 2:
            raise Cannot("an unbatched transposed convolution")
        attrs = {
            "dilations": ints(p["dilation"], nd),
            "group": _int(p["groups"]),
            "kernel_shape": list(w.shape[2:]),
            "output_padding": ints(p["output_padding"], nd),
            "pads": ints(p["padding"], nd) * 2,
            "strides": ints(p["stride"], nd),
        }
        ins = [g.name(x), g.weight(w)] + ([] if b is None else [g.weight(_tensor(g, b))])
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
        x = _tensor(g, p["input"])
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
        x = _tensor(g, p["input"])
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
        x = _tensor(g, p["input"])
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
        size = [n[i] if v is None else _int(v) for i, v in enumerate(size)]
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
    x = _tensor(g, p["input"])
    parts = [p[k] for k in ("weight", "bias", "running_mean", "running_var")]
    if p["training"] or any(t is None for t in parts) or x.dim() < 2:
        raise Cannot("batch_norm in training mode, or without running statistics, scale or shift")
    momentum = 0.9 if p["momentum"] is None else 1.0 - float(p["momentum"])
    ins = [g.name(x)] + [g.weight(_tensor(g, t)) for t in parts]
    attrs = {"epsilon": float(p["eps"]), "momentum": momentum, "training_mode": 0}
    g.emit("BatchNormalization", ins, out, g.sp(x), **attrs)


def layer_norm(g, args, kwargs, out):
    names = ("input", "normalized_shape", "weight", "bias", "eps")
    p = bind(args, kwargs, names, {"weight": None, "bias": None, "eps": 1e-5})
    x, shape = _tensor(g, p["input"]), p["normalized_shape"]
    n = len(shape) if isinstance(shape, (tuple, list)) else 1
    if p["weight"] is None or not 1 <= n <= x.dim():
        raise Cannot("layer_norm without a scale")
    g.free_axes(x, range(x.dim() - n, x.dim()))
    ins = [g.name(x), g.weight(_tensor(g, p["weight"]))]
    if p["bias"] is not None:
        ins.append(g.weight(_tensor(g, p["bias"])))
    g.emit("LayerNormalization", ins, out, g.sp(x), axis=-n, epsilon=float(p["eps"]))


def group_norm(g, args, kwargs, out):
    p = bind(
        args, kwargs, ("input", "num_groups", "weight", "bias", "eps"), {"weight": None, "bias": None, "eps": 1e-5}
    )
    x = _tensor(g, p["input"])
    if p["weight"] is None or p["bias"] is None or x.dim() < 3:
        raise Cannot("group_norm without scale and shift")
    ins = [g.name(x), g.weight(_tensor(g, p["weight"])), g.weight(_tensor(g, p["bias"]))]
    g.emit("GroupNormalization", ins, out, g.sp(x), epsilon=float(p["eps"]), num_groups=_int(p["num_groups"]))


# ---------------------------------------------------------------------------- pointwise


def unary(op, **fixed):
    def run(g, args, kwargs, out):
        x = _tensor(g, args[0] if args else kwargs.get("input"))
        extra = {k: v for k, v in kwargs.items() if k not in ("input", "inplace")}
        if len(args) > 2 or extra or (len(args) == 2 and type(args[1]) is not bool):
            raise Cannot(f"{op} with settings")
        g.emit(op, [g.name(x)], out, g.sp(x), **fixed)

    return run


def leaky_relu(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "negative_slope", "inplace"), {"negative_slope": 0.01, "inplace": False})
    x = _tensor(g, p["input"])
    g.emit("LeakyRelu", [g.name(x)], out, g.sp(x), alpha=float(p["negative_slope"]))


def elu(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "alpha", "inplace"), {"alpha": 1.0, "inplace": False})
    x = _tensor(g, p["input"])
    g.emit("Elu", [g.name(x)], out, g.sp(x), alpha=float(p["alpha"]))


def gelu(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "approximate"), {"approximate": "none"})
    x = _tensor(g, p["input"])
    if p["approximate"] not in ("none", "tanh"):
        raise Cannot(f"gelu approximate={p['approximate']!r}")
    g.emit("Gelu", [g.name(x)], out, g.sp(x), approximate=p["approximate"])


def silu(g, args, kwargs, out):  # x * sigmoid(x), as the exporter writes it (opset 17 has no Silu)
    p = bind(args, kwargs, ("input", "inplace"), {"inplace": False})
    x = _tensor(g, p["input"])
    gate = g.emit("Sigmoid", [g.name(x)], None, g.sp(x))
    g.emit("Mul", [g.name(x), gate], out, g.sp(x))


def hardtanh(lo=None, hi=None):
    def run(g, args, kwargs, out):
        if lo is None:
            p = bind(
                args,
                kwargs,
                ("input", "min_val", "max_val", "inplace"),
                {"min_val": -1.0, "max_val": 1.0, "inplace": False},
            )
            a, b = float(p["min_val"]), float(p["max_val"])
        else:
            p, (a, b) = bind(args, kwargs, ("input", "inplace"), {"inplace": False}), (lo, hi)
        x = _tensor(g, p["input"])
        ins = [g.name(x), g.const(a, x.dtype), g.const(b, x.dtype)]
        g.emit("Clip", ins, out, g.sp(x))

    return run


def softplus(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "beta", "threshold"), {"beta": 1.0, "threshold": 20.0})
    x = _tensor(g, p["input"])
    if p["beta"] != 1:
        raise Cannot("softplus with beta")
    g.emit("Softplus", [g.name(x)], out, g.sp(x))


def softmax(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "dim", "_stacklevel", "dtype"), {"_stacklevel": 3, "dtype": None})
    x = _tensor(g, p["input"])
    if p["dim"] is None or p["dtype"] is not None:
        raise Cannot("softmax without dim, or with dtype")
    g.emit("Softmax", [g.name(x)], out, g.sp(x), axis=_axis(p["dim"], x.dim()))


def binary(op, reverse=False):
    def run(g, args, kwargs, out):
        if (
            kwargs.keys() - {"alpha", "other"}
            or kwargs.get("alpha", 1) != 1
            or len(args) + len(kwargs) - ("alpha" in kwargs) != 2
        ):
            raise Cannot(f"{op} with settings")
        a, b = args[0], args[1] if len(args) > 1 else kwargs["other"]
        if reverse:
            a, b = b, a
        like = a if g.is_tensor(a) else b
        names = [g.operand(v, like) for v in (a, b)]
        g.emit(op, names, out, g.broadcast([a, b], out))

    return run


# ---------------------------------------------------------------------------- layout


def alias(g, args, kwargs, out):  # contiguous, clone, detach, dropout in eval, a cast to its own dtype
    x = _tensor(g, args[0] if args else kwargs.get("input"))
    if not g.is_tensor(out) or out.dtype != x.dtype or out.shape != x.shape:
        raise Cannot("a cast or a copy that changes the tensor")
    g.alias(out, x)


def dropout(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "p", "training", "inplace"), {"p": 0.5, "training": True, "inplace": False})
    if p["training"]:
        raise Cannot("dropout in training mode")
    alias(g, (p["input"],), {}, out)


def flatten(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1})
    x = _tensor(g, p["input"])
    if x.dim() == 0:
        raise Cannot("flatten of a scalar")
    s, e = _axis(p["start_dim"], x.dim()), _axis(p["end_dim"], x.dim())
    sp = g.sp(x)
    merged = None if sp is None else sp[:s] + (any(sp[s : e + 1]),) + sp[e + 1 :]
    if s == 1 and e == x.dim() - 1:
        g.emit("Flatten", [g.name(x)], out, merged, axis=1)
    elif e == x.dim() - 1 and s >= 1:  # keep the leading sizes (0), the rest in one (-1): any size
        g.emit("Reshape", [g.name(x), g.const([0] * s + [-1])], out, merged)
    else:
        reshape(g, (x, tuple(out.shape)), {}, out)


def reshape(g, args, kwargs, out):
    x = _tensor(g, args[0] if args else kwargs.get("input"))
    if g.dep(x):
        g.bound()
    sp = None if g.dep(x) else (False,) * out.dim()  # a module's own tensor reshaped: no size of the input's
    g.emit("Reshape", [g.name(x), g.const(list(out.shape))], out, sp)


def permute(g, args, kwargs, out):
    x = _tensor(g, args[0] if args else kwargs.get("input"))
    dims = args[1:] if len(args) > 1 else (kwargs.get("dims"),)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    perm = [_axis(d, x.dim()) for d in dims]
    if sorted(perm) != list(range(x.dim())):
        raise Cannot(f"permutation {perm}")
    sp = g.sp(x)
    g.emit("Transpose", [g.name(x)], out, None if sp is None else tuple(sp[i] for i in perm), perm=perm)


def transpose(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "dim0", "dim1"), {})
    x = _tensor(g, p["input"])
    perm = list(range(x.dim()))
    a, b = _axis(p["dim0"], x.dim()), _axis(p["dim1"], x.dim())
    perm[a], perm[b] = perm[b], perm[a]
    permute(g, (x, perm), {}, out)


def reduce(op):
    def run(g, args, kwargs, out):
        p = bind(args, kwargs, ("input", "dim", "keepdim", "dtype"), {"dim": None, "keepdim": False, "dtype": None})
        x = _tensor(g, p["input"])
        if p["dtype"] is not None or not x.is_floating_point():
            raise Cannot(f"{op} with a dtype")
        dims = p["dim"]
        dims = list(range(x.dim())) if dims is None else dims if isinstance(dims, (tuple, list)) else [dims]
        axes = sorted({_axis(d, x.dim()) for d in dims})
        keep = int(bool(p["keepdim"]))
        sp = g.sp(x)
        if sp is not None:
            sp = tuple(False if i in axes else v for i, v in enumerate(sp) if keep or i not in axes)
        if op == "ReduceSum":  # opset 13: axes are an input
            g.emit(op, [g.name(x), g.const(axes)], out, sp, keepdims=keep)
        else:
            g.emit(op, [g.name(x)], out, sp, axes=axes, keepdims=keep)

    return run


def cat(g, args, kwargs, out):
    p = bind(args, kwargs, ("tensors", "dim"), {"dim": 0})
    ts = list(p["tensors"])
    if not ts or not all(g.is_tensor(t) and t.dim() == out.dim() for t in ts):
        raise Cannot("cat of tensors of other ranks")
    g.emit(
        "Concat",
        [g.name(t) for t in ts],
        out,
        g.broadcast(ts, out, axis=_axis(p["dim"], out.dim())),
        axis=_axis(p["dim"], out.dim()),
    )


def split(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "split_size_or_sections", "dim"), {"dim": 0})
    _split(g, p["input"], p["dim"], out)


def chunk(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "chunks", "dim"), {"dim": 0})
    _split(g, p["input"], p["dim"], out)


def _split(g, x, dim, out):
    x = _tensor(g, x)
    axis = _axis(dim, x.dim())
    g.free_axes(x, (axis,))
    if not isinstance(out, (tuple, list)) or not out:
        raise Cannot("a split into no pieces")
    sizes = [t.shape[axis] for t in out]
    g.emit("Split", [g.name(x), g.const(sizes)], list(out), g.sp(x), axis=axis)


def unsqueeze(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "dim"), {})
    x = _tensor(g, p["input"])
    axis = _axis(p["dim"], x.dim() + 1)
    sp = g.sp(x)
    g.emit("Unsqueeze", [g.name(x), g.const([axis])], out, None if sp is None else sp[:axis] + (False,) + sp[axis:])


def getitem(g, args, kwargs, out):
    x, idx = _tensor(g, args[0]), args[1]
    idx = idx if isinstance(idx, tuple) else (idx,)
    if sum(i is Ellipsis for i in idx) > 1:
        raise Cannot("two ellipses")
    if Ellipsis in idx:
        at = idx.index(Ellipsis)
        idx = idx[:at] + (slice(None),) * (x.dim() - len(idx) + 1) + idx[at + 1 :]
    if len(idx) > x.dim() or not all(type(i) is slice for i in idx):
        raise Cannot("an index that is not plain slices")
    starts, ends, axes, steps = [], [], [], []
    for axis, s in enumerate(idx):
        if s == slice(None):
            continue
        start, stop, step = s.start, s.stop, 1 if s.step is None else _int(s.step)
        if step < 1:
            raise Cannot("a slice with a step below 1")
        starts.append(0 if start is None else _int(start))
        ends.append(INT64_MAX if stop is None else _int(stop))
        axes.append(axis)
        steps.append(step)
    if not axes:
        g.alias(out, x)
        return
    g.free_axes(x, axes)
    ins = [g.name(x), g.const(starts), g.const(ends), g.const(axes), g.const(steps)]
    g.emit("Slice", ins, out, g.sp(x))


def linear(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "weight", "bias"), {"bias": None})
    x, w, b = _tensor(g, p["input"]), _tensor(g, p["weight"]), p["bias"]
    if w.dim() != 2 or x.dim() < 1:
        raise Cannot("linear with a weight that is not 2-D")
    g.free_axes(x, (x.dim() - 1,))
    sp = g.sp(x)
    if x.dim() == 2 and b is not None:
        ins = [g.name(x), g.weight(w), g.weight(_tensor(g, b))]
        g.emit("Gemm", ins, out, sp, alpha=1.0, beta=1.0, transB=1)
        return
    wt = g.emit("Transpose", [g.weight(w)], None, None, perm=[1, 0])
    if b is None:
        g.emit("MatMul", [g.name(x), wt], out, sp)
    else:
        y = g.emit("MatMul", [g.name(x), wt], None, sp)
        g.emit("Add", [y, g.weight(_tensor(g, b))], out, sp)


def matmul(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "other"), {})
    a, b = _tensor(g, p["input"]), _tensor(g, p["other"])
    if g.dep(a) or g.dep(b):
        g.bound()
    g.emit("MatMul", [g.name(a), g.name(b)], out, None)


def pad(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "pad", "mode", "value"), {"mode": "constant", "value": None})
    x, amounts = _tensor(g, p["input"]), [_int(v) for v in p["pad"]]
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
    x, mode = _tensor(g, p["input"]), p["mode"]
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
    x = _tensor(g, p["input"])
    if x.dim() != 4:
        raise Cannot("pixel_shuffle of a tensor that is not 4-D")
    g.emit("DepthToSpace", [g.name(x)], out, g.sp(x), blocksize=_int(p["upscale_factor"]), mode="CRD")


def _table() -> dict:
    t: dict = {}
    for nd in (1, 2, 3):
        t[f"conv{nd}d"] = conv(nd)
        t[f"conv_transpose{nd}d"] = conv_transpose(nd)
        t[f"max_pool{nd}d"] = max_pool(nd)
        t[f"avg_pool{nd}d"] = avg_pool(nd)
        t[f"adaptive_avg_pool{nd}d"] = adaptive(nd, "Average")
        t[f"adaptive_max_pool{nd}d"] = adaptive(nd, "Max")
    t.update(batch_norm=batch_norm, layer_norm=layer_norm, group_norm=group_norm)
    for name, op in (("relu", "Relu"), ("sigmoid", "Sigmoid"), ("tanh", "Tanh"), ("hardswish", "HardSwish")):
        t[name] = t[name + "_"] = unary(op)
    t["hardsigmoid"] = unary("HardSigmoid", alpha=1.0 / 6, beta=0.5)
    t["mish"] = unary("Mish")
    t.update(leaky_relu=leaky_relu, leaky_relu_=leaky_relu, elu=elu, gelu=gelu, silu=silu, softplus=softplus)
    t.update(hardtanh=hardtanh(), hardtanh_=hardtanh(), relu6=hardtanh(0.0, 6.0), softmax=softmax)
    for name, op in (("add", "Add"), ("sub", "Sub"), ("mul", "Mul"), ("div", "Div")):
        t[name] = t[name + "_"] = t[f"__{name}__"] = t[f"__i{name}__"] = binary(op)
    t["__truediv__"] = t["__itruediv__"] = binary("Div")
    t["__radd__"], t["__rmul__"] = binary("Add", True), binary("Mul", True)
    t["__rsub__"], t["rsub"], t["__rtruediv__"] = binary("Sub", True), binary("Sub", True), binary("Div", True)
    for name in ("contiguous", "clone", "detach", "type_as", "to", "float"):
        t[name] = alias
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
        t[name] = dropout
    t.update(flatten=flatten, reshape=reshape, view=reshape, reshape_as=reshape, view_as=reshape)
    t.update(
        permute=permute, transpose=transpose, swapaxes=transpose, mean=reduce("ReduceMean"), sum=reduce("ReduceSum")
    )
    t.update(cat=cat, concat=cat, concatenate=cat, split=split, chunk=chunk, unsqueeze=unsqueeze, __getitem__=getitem)
    t.update(linear=linear, matmul=matmul, pad=pad, interpolate=interpolate, pixel_shuffle=pixel_shuffle)
    return t


TABLE = _table()

__all__ = ["TABLE", "SIZE_FREE", "SIZE_READS", "Cannot", "Bound"]
