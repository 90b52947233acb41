"""PyTorch in: ``from_torch(module, input_shape)`` exports the module to ONNX in memory and reads that.

Route: ``torch.onnx.export(..., dynamo=False, do_constant_folding=False)``, the TorchScript
tracer. It handles torchvision's models, writes each node's module scope into its name (rows are
named by module path: ``layer1.0.conv1``) and, with constant folding off, keeps BatchNorm as its
own node, as the module has it. PyTorch's semantics come through the ONNX attributes: explicit
symmetric padding, ``padding="same"``, ``ceil_mode`` and ``groups``. torch is imported only
inside ``from_torch``; the export runs the module once on zeros, in eval mode, without autograd.

The export is kept cheap: ``export_params=False`` writes no weight data (no 45 MB copied, written
and parsed for a ResNet-18); the parameters and buffers it turns into graph inputs become
initializers again with their dims (``weights``), the data of small ones kept, so the ONNX reader
counts them as it counts any file's initializers. One reader of truth: the ONNX one.
"""

from __future__ import annotations

import io
import operator
import warnings

from ..errors import RFError, ShapeError

SMALL_DATA = 4096  # elements: a parameter or buffer up to this size keeps its values (a shape, a scale)


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


def weights(proto, module) -> None:
    """Turn the graph inputs after the image (parameters and buffers, ``export_params=False``) into
    initializers with their dims; the values of small ones (up to ``SMALL_DATA`` elements) kept.

    >>> weights(onnx.load_from_string(export_bytes), module)  # doctest: +SKIP
    """
    from onnx import numpy_helper

    state = dict(module.named_parameters(remove_duplicate=False))
    state.update(module.named_buffers(remove_duplicate=False))
    graph = proto.graph
    for value in graph.input[1:]:
        tensor = value.type.tensor_type
        dims = [d.dim_value for d in tensor.shape.dim]
        if any(not d.HasField("dim_value") for d in tensor.shape.dim):
            raise RFError(f"torch.onnx.export left the weight input {value.name!r} without a fixed shape")
        own = state.get(value.name)
        if own is not None and own.numel() <= SMALL_DATA and list(own.shape) == dims:
            init = numpy_helper.from_array(own.detach().cpu().numpy(), value.name)
        else:
            init = graph.initializer.add()
            init.name, init.data_type = value.name, tensor.elem_type
            init.dims.extend(dims)
            continue
        graph.initializer.append(init)
    del graph.input[1:]


def _modes(module):
    return [(m, m.training) for m in module.modules()]


def export(module, shape) -> bytes:
    """The ONNX bytes of ``module`` traced on zeros of ``shape`` (channels last), weights as dims only.

    >>> len(export(torch.nn.Conv2d(3, 4, 3), (8, 8, 3))) < 1000  # doctest: +SKIP
    True
    """
    import onnx
    import torch

    c = shape[-1]
    first = next((p for p in module.parameters() if p.is_floating_point()), None)
    x = torch.zeros(
        1,
        c,
        *shape[:-1],
        device=first.device if first is not None else "cpu",
        dtype=first.dtype if first is not None else torch.float32,
    )
    buf, modes, warn = io.BytesIO(), _modes(module), torch._C._jit_get_tracer_state_warn()
    module.eval()
    torch._C._jit_set_tracer_state_warn(False)  # the tracer's warnings walk the Python stack: a quarter of its time
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                module,
                (x,),
                buf,
                dynamo=False,
                opset_version=17,
                export_params=False,
                do_constant_folding=False,
                training=torch.onnx.TrainingMode.EVAL,
                input_names=["input"],
                output_names=["output"],
                verbose=False,
            )
    except Exception as err:  # a module the tracer cannot follow, or a size it rejects
        text = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        raise RFError(f"torch.onnx.export could not trace {type(module).__name__} on {shape}: {text}") from None
    finally:
        torch._C._jit_set_tracer_state_warn(warn)
        for m, training in modes:  # each submodule's own mode back (a frozen BatchNorm stays in eval)
            m.training = training
    proto = onnx.load_from_string(buf.getvalue())
    weights(proto, module)
    proto.graph.name = type(module).__name__
    return proto.SerializeToString()


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
    return from_onnx(cached_export(module, shape) if cache else export(module, shape), identity=identity)
