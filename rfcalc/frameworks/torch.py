"""PyTorch in: ``from_torch(module, input_shape)`` turns the module into ONNX in memory and reads that.

Routes (``torch_export``): rfcalc's own capture first (``torch_capture``: the forward recorded
under a ``TorchFunctionMode`` and written as the ONNX nodes torch's exporter writes, at 64 px
where nothing in the forward depends on the size, else at the size asked for); where it cannot
prove a call, the TorchScript exporter (``dynamo=False``: at a small size with the spatial axes
dynamic where the trace holds no size, else at the size asked for), then torch.export. Rows are
named by module path (``layer1.0.conv1``); BatchNorm stays its own node, as the module has it.
PyTorch's semantics come through the ONNX attributes: explicit symmetric padding,
``padding="same"``, ``ceil_mode`` and ``groups``. torch is imported only inside ``from_torch``; the
module runs once on zeros, in eval mode, without autograd.

No weight data is written: parameters and buffers become initializers with their dims (the
data of small ones kept), so the ONNX reader counts them as it counts any file's initializers.
One reader of truth: the ONNX one.
"""

from __future__ import annotations

import operator

from ..errors import RFError, ShapeError
from .torch_export import SMALL_DATA, export, weights  # noqa: F401 (SMALL_DATA, weights: this module's names)


def _shape(input_shape):
    from ..dsl import parse_shape

    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    try:
        shape = tuple(operator.index(v) for v in input_shape)
    except TypeError:
        shape = None
    if shape is None or not 2 <= len(shape) <= 4 or min(shape) < 1:
        raise ShapeError(
            f"from_torch takes input_shape=(L, C), (H, W, C) or (D, H, W, C): positive integers, "
            f"channels last. Received: input_shape={input_shape!r}"
        )
    return shape


_EXPORTS: dict = {}  # id(module) -> (weakref to it, {(shape, fingerprint): ONNX bytes})
_PLAIN = (int, float, str, bool, complex, type(None))
_OWN = frozenset({"_parameters", "_buffers", "_modules", "training"})


def _atom(value, depth=0):
    """A value as the fingerprint holds it: plain values and tensors' identity, version and shape; else its id."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (tuple, list)) and depth < 2 and len(value) <= 64:
        return (type(value).__name__,) + tuple(_atom(v, depth + 1) for v in value)
    if hasattr(value, "_version") and hasattr(value, "data_ptr"):  # a tensor: edited in place bumps _version
        return ("tensor", id(value), value.data_ptr(), value._version, tuple(value.shape), str(value.dtype))
    if isinstance(value, dict) and depth < 2:  # hooks: {handle id: function}
        return ("dict",) + tuple((k, _atom(v, depth + 1)) for k, v in value.items())
    return (type(value).__qualname__, id(value))


def fingerprint(module) -> tuple:
    """What the export of ``module`` depends on that rfcalc can see: every submodule's class, its
    ``forward``, its attributes (plain values by value, others by identity), hooks, and every
    parameter and buffer (identity, data pointer, in-place version, shape). Any change: a new export.

    >>> fingerprint(torch.nn.Conv2d(3, 4, 3)) == fingerprint(torch.nn.Conv2d(3, 4, 3))  # doctest: +SKIP
    False
    """
    from torch.nn.modules import module as torch_module

    parts: list[tuple] = [
        tuple(
            id(h)
            for h in (*torch_module._global_forward_hooks.values(), *torch_module._global_forward_pre_hooks.values())
        )
    ]
    for name, m in module.named_modules(remove_duplicate=False):
        attrs = tuple((k, _atom(v)) for k, v in vars(m).items() if k not in _OWN)
        tensors = tuple((k, _atom(t)) for k, t in (*m._parameters.items(), *m._buffers.items()))
        parts.append((name, type(m), id(getattr(type(m), "forward", None)), attrs, tensors))
    return tuple(parts)


def cached_export(module, shape) -> bytes:
    """``export(module, shape)``, reused while the module's ``fingerprint`` is unchanged."""
    import weakref

    key = (shape, fingerprint(module))
    ref, known = _EXPORTS.get(id(module), (None, None))
    if ref is None or ref() is not module:
        known = {}
        k = id(module)

        def forget(_ref: object, k: int = k) -> None:
            _EXPORTS.pop(k, None)

        _EXPORTS[k] = (weakref.ref(module, forget), known)
    if key not in known:
        known.clear()  # one export per module: the last one asked for
        known[key] = export(module, shape)
    return known[key]


def from_torch(module, input_shape, identity=(), cache=True):
    """Analyse a ``torch.nn.Module`` on one input ``(H, W, C)`` (or ``(L, C)``, ``(D, H, W, C)``: channels
    last, as everywhere in rfcalc).

    ``cache``: reuse the export of an earlier call on the same module object and shape, while
    nothing rfcalc can see in it changed (``fingerprint``); ``cache=False`` exports afresh (a module
    whose ``forward`` reads state outside itself, a global flag, needs that after the flag changes).

    >>> import torchvision  # doctest: +SKIP
    >>> from_torch(torchvision.models.resnet18(), (224, 224, 3)).row("layer1.0.conv1").rf  # doctest: +SKIP
    (19, 19)
    """
    try:
        import onnx  # noqa: F401 (the exporter needs it)
        import torch
    except ImportError as err:
        raise RFError(f"from_torch needs torch and onnx: see docs/frameworks.md. Received: {err}") from None
    from .onnx import from_onnx

    if not isinstance(module, torch.nn.Module):
        raise RFError(f"from_torch needs a torch.nn.Module. Received: {type(module).__name__}")
    shape = _shape(input_shape)
    data = cached_export(module, shape) if cache else export(module, shape)
    return from_onnx(data, input_shape=shape, identity=identity)
