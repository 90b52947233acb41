"""Route 0 of ``from_torch``: the forward recorded as it runs, written as ONNX by rfcalc itself.

``capture(module, shape)`` runs the module once under a ``TorchFunctionMode`` that sees every top-level
torch call of the forward (with global module hooks for the module path of each), translates each
call through ``torch_capture_ops.TABLE`` into the ONNX nodes torch's TorchScript exporter writes
for it, and returns the bytes of that ``ModelProto``: the ONNX reader reads it as it reads an export
(one reader of truth). The capture runs at ``torch_export.SMALL`` pixels per spatial axis (when every size asked
for is larger) and writes the input's sizes as asked: valid because it stops (``Bound``) at the first
call that reads a size (``x.shape``, ``size``, ``numel``, ``len``) or whose ONNX form holds at one
size only (a Reshape to explicit sizes, an adaptive pool to more than one cell, a split, slice or
Linear along a spatial axis, a tensor of the module broadcast along one); it is then run again at the
size asked for, and that graph holds that size only. A value read (``item``, ``bool``, ``tolist``),
an in-place op on a view or on a parameter, a tensor made inside the forward that is not a small
constant, or any call the table does not know raises ``Cannot``: ``torch_export`` then exports.

Parameters and buffers become initializers named by their state names (dims only for float ones past
``SMALL_DATA`` elements), each marked with torch's export kind (``PARAMETER`` / ``BUFFER``) so the
reader counts them as torch does (``onnx_params``); literals become ``Constant`` nodes (no parameters).

>>> len(capture(torch.nn.Conv2d(3, 4, 3), (80, 80, 3))) < 400  # doctest: +SKIP
True
"""

from __future__ import annotations

from .onnx_ints import FLOATS
from .onnx_params import KIND
from .torch_capture_ops import SIZE_FREE, SIZE_READS, TABLE, Bound, Cannot

SMALL_DATA = 4096  # elements: a float parameter or buffer up to this size keeps its values (a shape, a scale)
_DTYPES = {"float32": 1, "uint8": 2, "int8": 3, "int16": 5, "int32": 6, "int64": 7, "bool": 9}
_DTYPES.update({"float16": 10, "float64": 11, "bfloat16": 16})


def _dtype_name(dtype) -> str:
    """``torch.float32`` (or the string ``"float32"``) as numpy and ``_DTYPES`` name it: ``float32``."""
    return str(dtype).replace("torch.", "")


def _name_of(func) -> str:
    """A call's name: a property getter (``Tensor.shape.__get__``) by its descriptor's name."""
    owner = getattr(func, "__self__", None)
    if type(func).__name__ == "method-wrapper" and owner is not None:
        return getattr(owner, "__name__", "?")
    return getattr(func, "__name__", "?")


class Graph:
    """The ONNX graph written while the forward runs: SSA value names per tensor version."""

    def __init__(self, module, x, small: bool):
        import torch

        self.torch, self.small = torch, small
        self.nodes: list = []
        self.inits: dict = {}  # name -> TensorProto
        self.names: dict = {}  # id(tensor) -> its current value name
        self.keep: list = [x]  # every tensor seen: no id is reused while the capture runs
        self.deps: set = set()  # value names that depend on the input
        self.sps: dict = {}  # value name -> per axis: does its size follow the input's spatial size
        self.viewed: set = set()  # ids of tensors that share storage with another
        self.full: dict = {}  # node name -> how many nodes have it (the exporter's _1, _2 suffixes)
        self.stack: list = [(None, "")]  # (module, path) of the calls under way
        self.children: dict = {}  # (id(parent), id(module)) -> the module's path under that parent
        self.calls: dict = {}  # path -> calls so far
        self.paths: dict = {}
        for path, m in module.named_modules(remove_duplicate=False):
            self.paths.setdefault(id(m), path)
        self.state: dict = {}
        self.kinds: dict = {}
        for path, t in module.named_parameters(remove_duplicate=False):
            self.state.setdefault(id(t), (path, t, "PARAMETER"))
        for path, t in module.named_buffers(remove_duplicate=False):
            self.state.setdefault(id(t), (path, t, "BUFFER"))
        self.n = 0
        self.names[id(x)] = "input"
        self.deps.add("input")
        self.sps["input"] = (False, False) + (True,) * (x.dim() - 2)
        self.error: BaseException | None = None

    # ---- what handlers call
    def is_tensor(self, t) -> bool:
        return isinstance(t, self.torch.Tensor)

    def name(self, t) -> str:
        """The value name of a tensor: the input, a call's output, a parameter or buffer, a small constant."""
        if not self.is_tensor(t):
            raise Cannot(f"{type(t).__name__} where a tensor is read")
        known = self.names.get(id(t))
        if known is not None:
            return known
        self.keep.append(t)
        entry = self.state.get(id(t))
        if entry is not None:
            return self._init(t, *entry)
        if t.requires_grad or t.numel() > SMALL_DATA or type(t) is not self.torch.Tensor:
            raise Cannot("a tensor made outside the forward's calls that is not a small constant")
        name = self._constant(t)
        self.names[id(t)] = name
        self.sps[name] = (False,) * t.dim()
        return name

    def weight(self, t) -> str:
        """A layer's weight: a parameter, buffer or constant, or computed from them, never from the input."""
        name = self.name(t)
        if name in self.deps:
            raise Cannot("a layer weight computed from the input")
        return name

    def dep(self, t) -> bool:
        return self.name(t) in self.deps

    def sp(self, t):
        return self.sps.get(self.name(t))

    def bound(self) -> None:
        if self.small:
            raise Bound()

    def free_axes(self, t, axes) -> None:
        """At the small size, ``axes`` of ``t`` must not follow the input's size."""
        if self.small:
            sp = self.sp(t)
            if sp is None or any(sp[a] for a in axes):
                raise Bound()

    def broadcast(self, operands, out, axis=None):
        """The spatial flags of an elementwise op's (or a Concat's) output; at the small size, an operand
        whose size is fixed on an axis that follows the input's size (other than 1) holds one size."""
        rank = out.dim()
        flags = [False] * rank
        seen = []
        for v in operands:
            if not self.is_tensor(v):
                continue
            sp = self.sp(v)
            if sp is None:
                if self.small:
                    raise Bound()
                return None
            seen.append((v, sp))
            for i, f in enumerate(sp):
                flags[rank - len(sp) + i] |= f
        if self.small:
            for v, sp in seen:
                off = rank - len(sp)
                for i, f in enumerate(sp):
                    if flags[off + i] and not f and v.shape[i] != 1 and off + i != axis:
                        raise Bound()
        return tuple(flags)

    def operand(self, v, like) -> str:
        if self.is_tensor(v):
            return self.name(v)
        if type(v) not in (int, float) or not self.is_tensor(like) or not like.is_floating_point():
            raise Cannot(f"operand {v!r}")
        return self.const(float(v), like.dtype)

    def const(self, value, dtype="int64") -> str:
        """A ``Constant`` node of a list or scalar (a literal: never a parameter)."""
        import numpy as np

        arr = np.asarray(value, dtype=_dtype_name(dtype))
        return self._constant_array(arr)

    def alias(self, out, x) -> None:
        if not self.is_tensor(out):
            raise Cannot("an alias that is not a tensor")
        self.keep.append(out)
        name = self.name(x)
        if out is not x:
            if out._base is not None or out.data_ptr() == x.data_ptr():
                self.viewed.update((id(out), id(x)))
            self.names[id(out)] = name

    def emit(self, op, inputs, out, sp, **attrs):
        """One node; ``out``: the tensor (or list of tensors) it computes, or None for an inner value.
        Returns the first output's name."""
        from onnx import helper

        outs = out if isinstance(out, list) else [out]
        names = []
        dep = any(i in self.deps for i in inputs)
        for t in outs:
            self.n += 1
            name = f"v{self.n}"
            if t is not None:
                if not self.is_tensor(t):
                    raise Cannot(f"{op} gives {type(t).__name__}")
                self.keep.append(t)
                if id(t) in self.names:  # the same tensor with a new value: in place
                    entry = self.state.get(id(t))
                    if entry is not None or t._base is not None or id(t) in self.viewed:
                        raise Cannot("an in-place op on a view, a parameter or a buffer")
                elif t._base is not None:
                    self.viewed.update((id(t), id(t._base)))
                self.names[id(t)] = name
            if dep:
                self.deps.add(name)
            self.sps[name] = sp
            names.append(name)
        self.nodes.append(helper.make_node(op, inputs, names, name=self._node_name(op), **attrs))
        return names[0]

    # ---- scopes (global module hooks)
    def enter(self, module, args) -> None:
        """A module's call: its path as the exporter scopes it (the parent's path and the name the parent
        holds it by; a path called again gets ``_1``, ``_2``... as the exporter's scopes do)."""
        parent, scope = self.stack[-1]
        key = (id(parent), id(module))
        own = self.children.get(key)
        if own is None:
            held = [k for k, m in getattr(parent, "_modules", {}).items() if m is module] if parent is not None else []
            own = (f"{scope}.{held[0]}" if scope else held[0]) if held else self.paths.get(id(module), False)
            self.children[key] = own
        if own is False:  # a module made inside the forward: its calls are scoped under its caller
            self.stack.append((module, scope))
            return
        k = self.calls.get(own, 0)
        self.calls[own] = k + 1
        self.stack.append((module, f"{own}_{k}" if k and own else own))

    def leave(self, module, args, out) -> None:
        if len(self.stack) > 1:
            self.stack.pop()

    # ---- internals
    def _node_name(self, op: str) -> str:
        scope = self.stack[-1][1]
        if "/" in scope:
            raise Cannot(f"a module path with '/': {scope!r}")
        base = f"/{scope}/{op}" if scope else f"/{op}"
        k = self.full.get(base, 0)
        self.full[base] = k + 1
        return f"{base}_{k}" if k else base

    def _constant(self, t) -> str:
        dtype = _dtype_name(t.dtype)
        if dtype not in _DTYPES or dtype == "bfloat16":
            raise Cannot(f"a constant of dtype {dtype}")
        return self._constant_array(t.detach().cpu().numpy())

    def _constant_array(self, arr) -> str:
        from onnx import helper, numpy_helper

        self.n += 1
        name = f"c{self.n}"
        value = numpy_helper.from_array(arr, name)
        self.nodes.append(helper.make_node("Constant", [], [name], name=self._node_name("Constant"), value=value))
        self.sps[name] = (False,) * arr.ndim
        return name

    def _init(self, t, path: str, tensor, kind: str) -> str:
        from onnx import TensorProto, numpy_helper

        dtype = _dtype_name(t.dtype)
        code = _DTYPES.get(dtype)
        if code is None or path in self.inits:
            raise Cannot(f"the state tensor {path!r} of dtype {dtype}")
        if code in FLOATS and t.numel() > SMALL_DATA:
            init = TensorProto(name=path, data_type=code, dims=list(t.shape))
        elif code == 16:
            raise Cannot(f"a small bfloat16 state tensor {path!r}")
        else:
            init = numpy_helper.from_array(t.detach().cpu().numpy(), path)
        self.inits[path] = init
        self.kinds[path] = kind
        self.names[id(t)] = path
        self.sps[path] = (False,) * t.dim()
        return path

    def model(self, x, dims, outputs, label: str) -> bytes:
        from onnx import ValueInfoProto, helper

        elem = _DTYPES[_dtype_name(x.dtype)]
        ins = [helper.make_tensor_value_info("input", elem, [1, *dims[1:]])]
        outs, seen = [], set()
        for t in outputs:
            name = self.name(t)
            if name not in self.deps or name in seen or name == "input":
                raise Cannot("an output that is not computed from the input, or given twice")
            seen.add(name)
            outs.append(helper.make_tensor_value_info(name, _DTYPES.get(_dtype_name(t.dtype), 1), None))
        info = []
        for name, kind in self.kinds.items():
            v = ValueInfoProto(name=name)
            entry = v.metadata_props.add()
            entry.key, entry.value = KIND, kind
            info.append(v)
        graph = helper.make_graph(self.nodes, label, ins, outs, list(self.inits.values()), value_info=info)
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
        return proto.SerializeToString()


def _flat(out, into: list) -> list:
    if isinstance(out, (tuple, list)):
        for v in out:
            _flat(v, into)
    elif isinstance(out, dict):
        for v in out.values():
            _flat(v, into)
    elif hasattr(out, "dim") and hasattr(out, "data_ptr"):
        into.append(out)
    else:
        raise Cannot(f"the forward returns {type(out).__name__}")
    return into


def _record(module, x, small: bool, dims) -> bytes:
    import torch
    from torch.nn.modules import module as torch_module
    from torch.overrides import TorchFunctionMode

    g = Graph(module, x, small)

    class Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if g.error is not None:
                raise g.error
            name = _name_of(func)
            try:
                if name in SIZE_FREE:
                    if name == "_assert" and isinstance(args[0] if args else None, torch.Tensor):
                        raise Cannot("an assert on a tensor's value")
                    return func(*args, **kwargs)
                if name in SIZE_READS:
                    g.bound()
                    return func(*args, **kwargs)
                handler = TABLE.get(name)
                if handler is None or "out" in kwargs:
                    raise Cannot(f"the call {name!r}")
                out = func(*args, **kwargs)
                handler(g, args, kwargs, out)
                return out
            except (Cannot, Bound) as err:
                g.error = err
                raise

    pre = torch_module.register_module_forward_pre_hook(g.enter)
    post = torch_module.register_module_forward_hook(g.leave)
    try:
        with Mode():
            out = module(x)
    finally:
        pre.remove()
        post.remove()
    if g.error is not None:  # the forward caught it: the capture is still void
        raise g.error
    return g.model(x, dims, _flat(out, []), type(module).__name__)


def capture(module, x_real, small_x=None) -> bytes:
    """The ONNX bytes of ``module``'s forward on ``x_real`` (N, C, spatial...), from a capture at
    ``small_x`` where it holds no size, else at ``x_real``; raises ``Cannot`` where the capture cannot
    prove its translation (the caller exports instead). The caller sets eval mode and no_grad."""
    if small_x is not None:
        try:
            return _record(module, small_x, True, x_real.shape)
        except Bound:
            pass
        except Cannot:
            raise
        except Exception:  # noqa: S110 (the small size failed in torch itself: the real size decides)
            pass
    try:
        return _record(module, x_real, False, x_real.shape)
    except (Cannot, Bound):
        raise
    except Exception as err:
        raise Cannot(f"the forward raised {type(err).__name__}") from None


__all__ = ["capture", "Cannot", "SMALL_DATA"]
