"""PyTorch in: ``from_torch(module, input_shape)`` exports the module to ONNX in memory and reads that.

Route: ``torch.onnx.export(..., dynamo=False, do_constant_folding=False)``, the TorchScript
tracer. It handles torchvision's models, writes each node's module scope into its name (rows are
named by module path: ``layer1.0.conv1``) and, with constant folding off, keeps BatchNorm as its
own node, as the module has it. PyTorch's semantics come through the ONNX attributes: explicit
symmetric padding, ``padding="same"``, ``ceil_mode`` and ``groups``. torch is imported only
inside ``from_torch``; the export runs the module once on zeros, in eval mode.
"""

from __future__ import annotations

import io
import warnings

from ..errors import RFError, ShapeError


def from_torch(module, input_shape, identity=()):
    """Analyse a ``torch.nn.Module`` on one input ``(H, W, C)`` (or ``(L, C)``, ``(D, H, W, C)``: channels
    last, as everywhere in rfcalc).

    >>> import torchvision  # doctest: +SKIP
    >>> from_torch(torchvision.models.resnet18(), (224, 224, 3)).row("layer1.0.conv1").rf  # doctest: +SKIP
    (19, 19)
    """
    try:
        import onnx
        import torch
    except ImportError as err:
        raise RFError(f"from_torch needs torch and onnx: see docs/frameworks.md. Received: {err}") from None
    from ..dsl import parse_shape
    from .onnx import from_onnx

    if not isinstance(module, torch.nn.Module):
        raise RFError(f"from_torch needs a torch.nn.Module. Received: {type(module).__name__}")
    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    shape = tuple(int(v) for v in input_shape)
    if not 2 <= len(shape) <= 4:
        raise ShapeError(
            f"from_torch takes input_shape=(L, C), (H, W, C) or (D, H, W, C). Received: input_shape={input_shape}"
        )
    c = shape[-1]
    buf, was_training = io.BytesIO(), module.training
    module.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                module,
                (torch.zeros(1, c, *shape[:-1]),),
                buf,
                dynamo=False,
                opset_version=17,
                do_constant_folding=False,
                input_names=["input"],
                output_names=["output"],
            )
    except Exception as err:  # a module the tracer cannot follow, or a size it rejects
        text = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
        raise RFError(f"torch.onnx.export could not trace {type(module).__name__} on {shape}: {text}") from None
    finally:
        module.train(was_training)
    proto = onnx.load_from_string(buf.getvalue())
    proto.graph.name = type(module).__name__
    return from_onnx(proto, identity=identity)
