"""The ONNX that ``from_torch`` reads: ``export(module, shape)`` tries four routes, the first that works.

0. **rfcalc's capture** (``torch_capture``): the forward recorded under a ``TorchFunctionMode`` and
   written as ONNX by rfcalc, at ``SMALL`` px unless the forward reads a size, else at the size
   asked for; any call it cannot prove (``torch_capture.Cannot``) goes on to route 1.
1. **Small and size-free** (every spatial size above ``SMALL``): the TorchScript tracer (``dynamo=False``)
   runs the module on zeros of ``SMALL`` pixels per spatial axis with those axes marked dynamic, so
   the graph computes every size from the input's shape (``Shape -> Gather -> ...``) and the ONNX
   reader evaluates it at the size asked for. The forward's convolutions then cost almost nothing.
   A trace that could hold the small size is not used: any ``TracerWarning`` (a traced size turned
   into a Python number, a Python branch on one) or any error sends the export to route 2, and so
   does an op the exporter writes only for a fixed size (an adaptive pool to a size above 1).
2. **At the size asked for**, the same tracer with fixed sizes (what ``from_torch`` always did).
3. **torch.export** (``dynamo=True``, ``optimize=False`` so BatchNorm stays a node, as the module
   has it) at the size asked for, when route 2 raised (smp's PSPNet: an adaptive pool whose output
   size is not a factor of its input's). When both raise, one ``RFError`` names both causes.

No weight data is written: the legacy routes use ``export_params=False``, and ``weights`` turns the
parameters and buffers the exporter made graph inputs into initializers with their dims; route 3
drops the data of float initializers past ``SMALL_DATA`` elements. Small tensors keep their values
(a shape, a scale). torch's ONNX shape inference is handed only those small weights (it copied
every weight it was given into the small models it infers node by node: 1.3 s of a VGG-11's
export; the bytes it writes are the same). The export runs in eval mode without autograd; each
submodule's own mode is put back after.
"""

from __future__ import annotations

import ast
import io
import re
import warnings

from ..errors import RFError
from . import torch_capture
from .onnx_ints import FLOATS  # ONNX FLOAT, FLOAT16, DOUBLE, BFLOAT16
from .onnx_params import KIND  # torch's export kind, on the value_info of a module's tensor
from .torch_capture import SMALL_DATA

SMALL = 64  # pixels per spatial axis of the size-free capture and trace (routes 0 and 1)


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


def _zeros(module, c: int, spatial):
    import torch

    first = next((p for p in module.parameters() if p.is_floating_point()), None)
    return torch.zeros(
        1,
        c,
        *spatial,
        device=first.device if first is not None else "cpu",
        dtype=first.dtype if first is not None else torch.float32,
    )


def _first_line(err: BaseException) -> str:
    """The first line of the innermost cause (torch.export wraps the module's own error in a banner)."""
    while err.__cause__ is not None:
        err = err.__cause__
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).strip()
    return (text.splitlines() or [type(err).__name__])[0][:300]


def _scoped_names(graph) -> None:
    """Name torch.export's nodes as the TorchScript exporter does (``/layer1/layer1.0/conv1/Conv``),
    from their module scopes (``pkg.torch.onnx.name_scopes``), so rows are named by module path."""
    scopes = []
    for node in graph.node:
        meta = {m.key: m.value for m in node.metadata_props}
        try:
            path = ast.literal_eval(meta["pkg.torch.onnx.name_scopes"])
        except (KeyError, ValueError, SyntaxError):
            return  # not every node has its scope: the exporter's own names stay
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            return
        scopes.append([p for p in path[:-1] if p])
    for node, path in zip(graph.node, scopes):
        node.name = "/" + "/".join([*path, node.op_type])


def _silent(*args) -> None:
    """Stands in for torch's ONNX log while rfcalc exports."""


def _shapes_without_big_weights(infer):
    """torch's ONNX shape inference, handed only the weights of up to ``SMALL_DATA`` elements: it copies
    every weight it is handed into the small models it infers node by node (1.3 s of a VGG-11's
    export, its 530 MB of weights); a big weight cannot be a shape, and its dims are in the graph."""

    def run(graph, params, opset):
        return infer(graph, {k: v for k, v in params.items() if v.numel() <= SMALL_DATA}, opset)

    return run


def legacy(module, x, dynamic: bool) -> bytes:
    """The TorchScript exporter's ONNX of ``module`` on ``x`` (N, C, spatial...), weights as dims;
    ``dynamic``: the spatial axes are symbolic and a ``TracerWarning`` raises."""
    import onnx
    import torch

    buf, warn, log = io.BytesIO(), torch._C._jit_get_tracer_state_warn(), torch._C._jit_onnx_log
    spatial = {i: f"s{i}" for i in range(2, x.dim())}
    # without warnings the tracer is faster (they walk the Python stack); the size-free trace needs them
    torch._C._jit_set_tracer_state_warn(dynamic)
    # torch 2.14's exporter always turns its log on (setup_onnx_logging tests the function, not its
    # value) and prints the whole TorchScript graph on any failure: a refused shortcut says nothing
    torch._C._jit_onnx_log = _silent
    infer = torch._C._jit_pass_onnx_graph_shape_type_inference
    torch._C._jit_pass_onnx_graph_shape_type_inference = _shapes_without_big_weights(infer)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            if dynamic:
                warnings.simplefilter("error", torch.jit.TracerWarning)
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
                dynamic_axes={"input": spatial} if dynamic else None,
                verbose=False,
            )
    finally:
        torch._C._jit_set_tracer_state_warn(warn)
        torch._C._jit_onnx_log = log
        torch._C._jit_pass_onnx_graph_shape_type_inference = infer
    proto = onnx.load_from_string(buf.getvalue())
    weights(proto, module)
    proto.graph.name = type(module).__name__
    return proto.SerializeToString()


def dynamo(module, x) -> bytes:
    """torch.export's ONNX of ``module`` on ``x``: BatchNorm kept, float data past ``SMALL_DATA`` dropped."""
    import torch

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (x,), dynamo=True, optimize=False, verbose=False)
        _fold(program.model)
    proto = program.model_proto
    for t in proto.graph.initializer:
        n = 1
        for d in t.dims:
            n *= d
        if t.data_type in FLOATS and n > SMALL_DATA:
            for f in ("raw_data", "float_data", "double_data", "int32_data", "external_data"):
                t.ClearField(f)
            t.data_location = 0
    _drop_zero_biases(proto.graph)
    _scoped_names(proto.graph)
    proto.graph.name = type(module).__name__
    return proto.SerializeToString()


def _drop_zero_biases(graph) -> None:
    """Take off the Conv / ConvTranspose / Gemm bias inputs that torch.export makes for a layer with
    ``bias=False`` (an all-zero tensor with no export kind: no module parameter behind it), as torch's
    full optimiser does (``RemoveOptionalBiasFromConv``): the layer computes the same, and its
    parameters are the module's. A bias that is a module parameter (zero or not) carries its kind."""
    from onnx import numpy_helper

    kinds = {v.name for v in graph.value_info if any(m.key == KIND for m in v.metadata_props)}
    inits = {t.name: t for t in graph.initializer}
    dropped = set()
    for node in graph.node:
        if node.op_type not in ("Conv", "ConvTranspose", "Gemm") or len(node.input) < 3:
            continue
        name = node.input[2]
        t = inits.get(name)
        if t is None or name in kinds or t.data_type not in FLOATS or not (t.raw_data or t.float_data):
            continue
        if not numpy_helper.to_array(t).any():
            del node.input[2]
            dropped.add(name)
    used = {i for n in graph.node for i in n.input}
    keep = [t for t in graph.initializer if t.name not in dropped or t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)


def _fold(model) -> None:
    """onnxscript's constant folding, without the rest of torch's optimiser (it fuses BatchNorm into the
    convs: the parameter count would no longer be the module's): the side graphs torch.export writes
    (a zero bias expanded to a shape, ``CastLike`` of a weight) become plain tensors."""
    try:
        from onnxscript import optimizer
    except ImportError:  # the exporter itself needs onnxscript: not reached
        return
    optimizer.fold_constants(model)
    optimizer.remove_unused_nodes(model)


def export(module, shape, capture: bool = True) -> bytes:
    """The ONNX bytes ``from_torch`` reads for ``module`` on ``shape`` (channels last): route 0, 1, 2 or 3
    (``capture=False``: the exporter's routes 1 to 3 only).

    >>> len(export(torch.nn.Conv2d(3, 4, 3), (8, 8, 3))) < 1000  # doctest: +SKIP
    True
    """
    return export_route(module, shape, capture)[1]


def export_route(module, shape, capture: bool = True) -> tuple[int, bytes]:
    """``export``'s bytes with the route that wrote them (0: rfcalc's capture; 1, 2, 3: the exporter's).

    >>> export_route(torch.nn.Conv2d(3, 4, 3), (80, 80, 3))[0]  # doctest: +SKIP
    0
    """
    import torch

    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        x = _zeros(module, shape[-1], shape[:-1])
        tiny = _zeros(module, shape[-1], [SMALL] * (len(shape) - 1)) if all(n > SMALL for n in shape[:-1]) else None
        if capture:
            try:
                with torch.no_grad():
                    return 0, torch_capture.capture(module, x, tiny)
            except torch_capture.Cannot:
                pass
        if tiny is not None:
            try:
                return 1, legacy(module, tiny, dynamic=True)
            except Exception:  # noqa: S110 (any failure of the shortcut: the trace at the real size decides)
                pass
        try:
            return 2, legacy(module, x, dynamic=False)
        except RFError:
            raise
        except Exception as err:  # a module the tracer cannot follow, or a size it rejects
            first = _first_line(err)
        try:
            return 3, dynamo(module, x)
        except Exception as err:
            second = _first_line(err)
        raise RFError(
            f"torch.onnx.export could not export {type(module).__name__} on {shape}: the TorchScript "
            f"exporter (dynamo=False) said: {first}; torch.export (dynamo=True) said: {second}"
        ) from None
    finally:
        for m, training in modes:  # each submodule's own mode back (a frozen BatchNorm stays in eval)
            m.training = training
