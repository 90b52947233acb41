"""Keras adapters: ``to_keras(spec)`` builds a model, ``from_keras(model)`` analyses one,
``analyze_source`` loads a saved model or a ``keras.applications`` network by name.

``from_keras`` walks the graph in Keras' own topological order (``Functional._operations``, the
order of ``model.layers`` and ``model.summary()``), one row per layer call; ``keras_layers`` maps
each call. Conventions at merges and for global pooling: docs/keras.md.

Keras and TensorFlow are imported inside the functions, never when this module loads.

>>> is_model_source("keras:ResNet50"), is_model_source("c3,c3,p2")
(True, False)
"""

from __future__ import annotations

import difflib
import math
import os
import re

from ..analysis import Analysis
from ..errors import RFError, ShapeError, UnsupportedLayerError
from ..layers import Identity
from ..propagate import Applied, input_field
from ..sources import PREFIX, is_model_source
from .graph import AlignmentWarning, Node, walk
from .keras_layers import ELEMENTWISE_OPS, elementwise_merge, map_layer, unsupported
from .keras_out import to_keras

__all__ = ["to_keras", "from_keras", "is_model_source", "load_model_source", "analyze_source", "AlignmentWarning"]


def _graph(model):
    """The Functional graph behind a model (a Sequential keeps one once it knows its input)."""
    graph = getattr(model, "_functional", None) if type(model).__name__ == "Sequential" else model
    if graph is None:
        raise ShapeError(
            f"Sequential model '{model.name}' has no input shape yet: pass input_shape=(H, W, C) "
            "or start it with keras.Input(shape=...)"
        )
    if not all(hasattr(graph, a) for a in ("_operations", "_nodes", "inputs", "outputs")):
        raise UnsupportedLayerError(
            f"model '{model.name}' ({type(model).__name__}) is a subclassed model without a "
            "layer graph; rebuild it with the Functional or Sequential API to analyse it"
        )
    return graph


def _nodes(graph, ins: list, outs: list | None, prefix: str) -> list:
    """The walk's nodes for one (possibly nested) Keras graph, in Keras' own order.

    Tensors are keyed by ``(prefix, id(KerasTensor))``: a nested model called twice gets two
    prefixes, so its inner tensors do not collide. ``ins``/``outs`` are the outer keys its graph
    inputs and outputs stand for (aliases, no rows).
    """
    import keras

    nodes = [Node(prefix + t.name, "", (k,), (prefix, id(t))) for t, k in zip(graph.inputs, ins)]
    for op in graph._operations:
        calls = [
            node for k, node in enumerate(op._inbound_nodes) if f"{id(op)}_ib-{k}" in graph._nodes and not node.is_input
        ]
        for j, call in enumerate(calls):
            name = prefix + op.name + (f"#{j}" if len(calls) > 1 else "")
            keys = tuple((prefix, id(t)) for t in call.input_tensors)
            if isinstance(op, keras.Model):  # nested model: its layers become rows named outer/inner
                inner_outs = [(prefix, id(t)) for t in call.outputs]
                nodes += _nodes(_graph(op), list(keys), inner_outs, name + "/")
                continue
            nodes.append(_node(op, call, name, keys, prefix))
    if outs is not None:
        nodes += [Node(prefix + t.name, "", ((prefix, id(t)),), k) for t, k in zip(graph.outputs, outs)]
    return nodes


def _node(op, call, name: str, keys: tuple, prefix: str) -> Node:
    import keras

    cls = type(op).__name__
    is_layer = isinstance(op, keras.layers.Layer)

    def read(fields):
        if not is_layer and cls not in ELEMENTWISE_OPS:
            raise unsupported(name, cls, "is a Keras operation (keras.ops / a tensor operator) rfcalc does not know")
        if len(call.outputs) != 1:
            raise unsupported(name, cls, f"has {len(call.outputs)} outputs")
        if not is_layer:
            merged = elementwise_merge(cls, fields) if len(fields) > 1 else Applied(fields[0])
            return Identity(cls), merged
        return map_layer(op, cls, fields)

    def weights():
        count = sum(math.prod(w.shape) for w in getattr(op, "trainable_weights", ()))
        return count, sum(math.prod(w.shape) for w in getattr(op, "non_trainable_weights", ()))

    out = call.outputs[0]
    return Node(
        name,
        cls,
        keys,
        (prefix, id(out)),
        read,
        frozenset({op.name}),
        weights,
        tuple(out.shape[1:]),
        frozen=not getattr(op, "trainable", True),
    )


def from_keras(model, input_shape=None, identity=()):
    """Analyse a built Keras model: one row per layer call, params and shapes as Keras counts them.

    ``input_shape`` ((L, C), (H, W, C) or (D, H, W, C)) fills in unknown input sizes; ``identity`` names layers to treat as
    identity (unknown to rfcalc but shape- and field-preserving).

    >>> from_keras(keras.applications.VGG16(weights=None)).rf  # doctest: +SKIP
    (212, 212)
    """
    import keras

    from ..dsl import parse_shape

    if not isinstance(model, keras.Model):
        raise RFError(f"from_keras needs a keras.Model. Received: {type(model).__name__}")
    identity = (identity,) if isinstance(identity, str) else tuple(identity)
    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    if input_shape is not None:
        input_shape = tuple(int(v) for v in input_shape)
    if type(model).__name__ == "Sequential" and getattr(model, "_functional", None) is None and input_shape:
        try:
            model.build((None,) + input_shape)
        except Exception as err:  # Keras' own message, as one line
            raise ShapeError(f"Keras could not build '{model.name}' on {input_shape}: {err}".split("\n")[0]) from None
    graph = _graph(model)
    shapes = [tuple(t.shape[1:]) for t in graph.inputs]
    if input_shape is not None:
        if (
            len(shapes) != 1
            or len(input_shape) != len(shapes[0])
            or any(k is not None and k != v for k, v in zip(shapes[0], input_shape))
        ):
            raise ShapeError(
                f"model '{model.name}' takes inputs of shape {shapes}. Received: input_shape={input_shape}"
            )
        shapes[0] = input_shape
    for shape in shapes:
        if len(shape) not in (2, 3, 4) or None in shape:
            raise ShapeError(
                f"model '{model.name}' needs inputs of known size with channels last: (L, C), (H, W, C) "
                f"or (D, H, W, C); pass input_shape=. Received: input shapes {shapes}"
            )
    names = [t._keras_history.operation.name for t in graph.inputs]
    inputs = {("", id(t)): (input_field(s), n) for t, s, n in zip(graph.inputs, shapes, names)}
    keys = list(inputs)
    nodes = _nodes(graph, keys, None, "")[len(keys) :]  # the top graph's inputs need no aliases
    walked = walk(nodes, inputs, shapes[0][:-1], identity, "Keras")
    missing = [n for n in identity if n not in walked.used]
    if missing:
        raise RFError(f"identity names no layer of '{model.name}'. Received: {', '.join(missing)}")
    return Analysis(model.name, shapes[0], tuple(walked.rows))


def _first_line(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _check_container(path: str) -> None:
    """Name a damaged file before Keras does (its messages for these cases mislead: 'File not found')."""
    import zipfile

    damaged = "it is corrupt, truncated or not a Keras model"
    if path.lower().endswith(".keras") and not zipfile.is_zipfile(path):
        raise RFError(f"{path!r} is not a .keras archive (a zip file): {damaged}")
    if path.lower().endswith((".h5", ".hdf5")):
        with open(path, "rb") as fh:  # the signature sits at 0, or after a user block of 512·2^k bytes
            offsets = (0, 512, 1024, 2048, 4096)
            if not any((fh.seek(o), fh.read(8))[1] == HDF5_SIGNATURE for o in offsets):
                raise RFError(f"{path!r} is not an HDF5 file: {damaged}")


def _load_file(path: str):
    if not os.path.isfile(path):
        raise RFError(f"no Keras model file at {path!r}")
    _check_container(path)
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # a corrupt or truncated archive surfaces as many different errors
        raise RFError(_load_error(path, err)) from None


_OBJECT = re.compile(r"'class_name': '([^']+)', 'config': \{'name': '([^']+)'")


def _load_error(path: str, err: Exception) -> str:
    """One line for a failed ``load_model``: Keras' deserialisation errors (thousands of characters, configs
    nested in configs) become the failing layer's name and class and the root cause.

    >>> _load_error("m.keras", TypeError("<class 'X'> could not be deserialized properly. config={}. "
    ...     "Exception encountered: Could not locate class 'Twice'. Make sure ... Full object config: "
    ...     "{'module': None, 'class_name': 'Twice', 'config': {'name': 'twice_me'}}"))
    "cannot load the Keras model 'm.keras': layer 'twice_me' is of class 'Twice', which Keras does not know here: import the module that defines it (registered with @keras.saving.register_keras_serializable) before loading"
    """
    text = str(err)
    if "could not be deserialized properly" not in text and "Exception encountered:" not in text:
        return f"cannot load the Keras model {path!r}: {type(err).__name__}: {_first_line(err)}"
    pieces = text.split("Exception encountered:")
    cause = pieces[-1].strip()
    found = _OBJECT.search(cause)
    if found is None and len(pieces) > 1:
        own = pieces[-2].rpartition("config=")[2]
        found = _OBJECT.search(own)
    cls, name = found.groups() if found else (None, None)
    missing = re.match(r"Could not locate class '([^']+)'", cause)
    if missing:
        cls = missing.group(1)
        where = f"layer '{name}' is of class '{cls}'" if name else f"class '{cls}'"
        return (
            f"cannot load the Keras model {path!r}: {where}, which Keras does not know here: import the "
            f"module that defines it (registered with @keras.saving.register_keras_serializable) before loading"
        )
    where = f"layer '{name}' ({cls})" if name else "a layer"
    reason = cause.split(". Full object config")[0].splitlines()[0][:200] if cause else type(err).__name__
    return f"cannot load the Keras model {path!r}: {where} could not be rebuilt from its config: {reason}"


def application_names() -> list[str]:
    """Names of the networks in ``keras.applications`` (ResNet50, MobileNetV2, ...)."""
    import keras

    return sorted(n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n)))


def _build_application(name: str, input_shape):
    import keras

    names = application_names()
    by_lower = {n.lower(): n for n in names}
    real = by_lower.get(name.lower())
    if real is None:
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=4, cutoff=0.5) or difflib.get_close_matches(
            name.lower(), list(by_lower), n=3, cutoff=0.0
        )
        hint = f"; the closest: {', '.join(by_lower[c] for c in close)} ({len(names)} in all: dir(keras.applications))"
        raise RFError(f"keras.applications has no network {name!r}{hint}")
    kwargs: dict[str, object] = {"weights": None, "include_top": True}  # the published network, classifier included
    if input_shape is not None:
        kwargs["input_shape"] = tuple(int(v) for v in input_shape)
    try:
        return getattr(keras.applications, real)(**kwargs)
    except Exception as err:
        raise ShapeError(
            f"keras.applications.{real} refused input_shape={kwargs.get('input_shape')}: {_first_line(err)}"
        ) from None


def load_model_source(source: str, input_shape=None):
    """The Keras model a source names: a .keras/.h5 file, or ``keras:Name`` built on ``input_shape`` (no weights).

    >>> load_model_source("missing.keras")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    rfcalc.errors.RFError: no Keras model file at 'missing.keras'
    """
    source = source.strip()
    if source.startswith(PREFIX):
        return _build_application(source[len(PREFIX) :].strip(), input_shape)
    return _load_file(source)


def analyze_source(source: str, input_shape=None, identity=()):
    """Analyse a saved model (.keras/.h5 path) or ``keras:Name`` (a keras.applications network, no weights).

    >>> analyze_source("keras:VGG16").rf  # doctest: +SKIP
    (212, 212)
    """
    from ..dsl import parse_shape

    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    model = load_model_source(source, input_shape)
    if source.strip().startswith(PREFIX):
        shape = tuple(model.inputs[0].shape[1:])
        if None in shape:  # e.g. MobileNetV3 leaves its size open: analyse at the usual 224x224
            return from_keras(model, input_shape=(224, 224, shape[-1]), identity=identity)
        return from_keras(model, identity=identity)
    return from_keras(model, input_shape=input_shape, identity=identity)
