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

from .torch_capture_args import INT64_MAX, SIZE_FREE, SIZE_READS, Bound, Cannot, as_int, axis_of, bind, tensor_of
from .torch_capture_layers import (
    adaptive,
    avg_pool,
    batch_norm,
    conv,
    conv_transpose,
    group_norm,
    interpolate,
    layer_norm,
    linear,
    matmul,
    max_pool,
    pad,
    pixel_shuffle,
)


def unary(op, **fixed):
    def run(g, args, kwargs, out):
        x = tensor_of(g, args[0] if args else kwargs.get("input"))
        extra = {k: v for k, v in kwargs.items() if k not in ("input", "inplace")}
        if len(args) > 2 or extra or (len(args) == 2 and type(args[1]) is not bool):
            raise Cannot(f"{op} with settings")
        g.emit(op, [g.name(x)], out, g.sp(x), **fixed)

    return run


def leaky_relu(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "negative_slope", "inplace"), {"negative_slope": 0.01, "inplace": False})
    x = tensor_of(g, p["input"])
    g.emit("LeakyRelu", [g.name(x)], out, g.sp(x), alpha=float(p["negative_slope"]))


def elu(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "alpha", "inplace"), {"alpha": 1.0, "inplace": False})
    x = tensor_of(g, p["input"])
    g.emit("Elu", [g.name(x)], out, g.sp(x), alpha=float(p["alpha"]))


def gelu(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "approximate"), {"approximate": "none"})
    x = tensor_of(g, p["input"])
    if p["approximate"] not in ("none", "tanh"):
        raise Cannot(f"gelu approximate={p['approximate']!r}")
    g.emit("Gelu", [g.name(x)], out, g.sp(x), approximate=p["approximate"])


def silu(g, args, kwargs, out):  # x * sigmoid(x), as the exporter writes it (opset 17 has no Silu)
    p = bind(args, kwargs, ("input", "inplace"), {"inplace": False})
    x = tensor_of(g, p["input"])
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
        x = tensor_of(g, p["input"])
        ins = [g.name(x), g.const(a, x.dtype), g.const(b, x.dtype)]
        g.emit("Clip", ins, out, g.sp(x))

    return run


def softplus(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "beta", "threshold"), {"beta": 1.0, "threshold": 20.0})
    x = tensor_of(g, p["input"])
    if p["beta"] != 1:
        raise Cannot("softplus with beta")
    g.emit("Softplus", [g.name(x)], out, g.sp(x))


def softmax(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "dim", "_stacklevel", "dtype"), {"_stacklevel": 3, "dtype": None})
    x = tensor_of(g, p["input"])
    if p["dim"] is None or p["dtype"] is not None:
        raise Cannot("softmax without dim, or with dtype")
    g.emit("Softmax", [g.name(x)], out, g.sp(x), axis=axis_of(p["dim"], x.dim()))


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
    x = tensor_of(g, args[0] if args else kwargs.get("input"))
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
    x = tensor_of(g, p["input"])
    if x.dim() == 0:
        raise Cannot("flatten of a scalar")
    s, e = axis_of(p["start_dim"], x.dim()), axis_of(p["end_dim"], x.dim())
    sp = g.sp(x)
    merged = None if sp is None else sp[:s] + (any(sp[s : e + 1]),) + sp[e + 1 :]
    if s == 1 and e == x.dim() - 1:
        g.emit("Flatten", [g.name(x)], out, merged, axis=1)
    elif e == x.dim() - 1 and s >= 1:  # keep the leading sizes (0), the rest in one (-1): any size
        g.emit("Reshape", [g.name(x), g.const([0] * s + [-1])], out, merged)
    else:
        reshape(g, (x, tuple(out.shape)), {}, out)


def reshape(g, args, kwargs, out):
    x = tensor_of(g, args[0] if args else kwargs.get("input"))
    if g.dep(x):
        g.bound()
    sp = None if g.dep(x) else (False,) * out.dim()  # a module's own tensor reshaped: no size of the input's
    g.emit("Reshape", [g.name(x), g.const(list(out.shape))], out, sp)


def permute(g, args, kwargs, out):
    x = tensor_of(g, args[0] if args else kwargs.get("input"))
    dims = args[1:] if len(args) > 1 else (kwargs.get("dims"),)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    perm = [axis_of(d, x.dim()) for d in dims]
    if sorted(perm) != list(range(x.dim())):
        raise Cannot(f"permutation {perm}")
    sp = g.sp(x)
    g.emit("Transpose", [g.name(x)], out, None if sp is None else tuple(sp[i] for i in perm), perm=perm)


def transpose(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "dim0", "dim1"), {})
    x = tensor_of(g, p["input"])
    perm = list(range(x.dim()))
    a, b = axis_of(p["dim0"], x.dim()), axis_of(p["dim1"], x.dim())
    perm[a], perm[b] = perm[b], perm[a]
    permute(g, (x, perm), {}, out)


def reduce(op):
    def run(g, args, kwargs, out):
        p = bind(args, kwargs, ("input", "dim", "keepdim", "dtype"), {"dim": None, "keepdim": False, "dtype": None})
        x = tensor_of(g, p["input"])
        if p["dtype"] is not None or not x.is_floating_point():
            raise Cannot(f"{op} with a dtype")
        dims = p["dim"]
        dims = list(range(x.dim())) if dims is None else dims if isinstance(dims, (tuple, list)) else [dims]
        axes = sorted({axis_of(d, x.dim()) for d in dims})
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
        g.broadcast(ts, out, axis=axis_of(p["dim"], out.dim())),
        axis=axis_of(p["dim"], out.dim()),
    )


def split(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "split_size_or_sections", "dim"), {"dim": 0})
    _split(g, p["input"], p["dim"], out)


def chunk(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "chunks", "dim"), {"dim": 0})
    _split(g, p["input"], p["dim"], out)


def _split(g, x, dim, out):
    x = tensor_of(g, x)
    axis = axis_of(dim, x.dim())
    g.free_axes(x, (axis,))
    if not isinstance(out, (tuple, list)) or not out:
        raise Cannot("a split into no pieces")
    sizes = [t.shape[axis] for t in out]
    g.emit("Split", [g.name(x), g.const(sizes)], list(out), g.sp(x), axis=axis)


def unsqueeze(g, args, kwargs, out):
    p = bind(args, kwargs, ("input", "dim"), {})
    x = tensor_of(g, p["input"])
    axis = axis_of(p["dim"], x.dim() + 1)
    sp = g.sp(x)
    g.emit("Unsqueeze", [g.name(x), g.const([axis])], out, None if sp is None else sp[:axis] + (False,) + sp[axis:])


def getitem(g, args, kwargs, out):
    x, idx = tensor_of(g, args[0]), args[1]
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
        start, stop, step = s.start, s.stop, 1 if s.step is None else as_int(s.step)
        if step < 1:
            raise Cannot("a slice with a step below 1")
        starts.append(0 if start is None else as_int(start))
        ends.append(INT64_MAX if stop is None else as_int(stop))
        axes.append(axis)
        steps.append(step)
    if not axes:
        g.alias(out, x)
        return
    g.free_axes(x, axes)
    ins = [g.name(x), g.const(starts), g.const(ends), g.const(axes), g.const(steps)]
    g.emit("Slice", ins, out, g.sp(x))


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
