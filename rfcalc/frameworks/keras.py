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
import re
import os
import warnings
from dataclasses import replace

from ..analysis import Analysis, make_row
from ..errors import RFError, ShapeError, UnsupportedLayerError
from .keras_layers import ELEMENTWISE_OPS, as_identity, elementwise_merge, map_layer, unsupported
from .keras_out import to_keras
from ..layers import Identity
from ..propagate import Applied, input_field
from ..sources import MODEL_SUFFIXES, PREFIX, is_model_source

__all__ = ["to_keras", "from_keras", "is_model_source", "load_model_source", "analyze_source", "AlignmentWarning"]


class AlignmentWarning(UserWarning):
    """Branches merged with different jumps or centres: the merged field is an approximation."""


def _graph(model):
    """The Functional graph behind a model (a Sequential keeps one once it knows its input)."""
    graph = getattr(model, "_functional", None) if type(model).__name__ == "Sequential" else model
    if graph is None:
        raise ShapeError(f"Sequential model '{model.name}' has no input shape yet: pass input_shape=(H, W, C) "
                         "or start it with keras.Input(shape=...)")
    if not all(hasattr(graph, a) for a in ("_operations", "_nodes", "inputs", "outputs")):
        raise UnsupportedLayerError(f"model '{model.name}' ({type(model).__name__}) is a subclassed model without a "
                                    "layer graph; rebuild it with the Functional or Sequential API to analyse it")
    return graph


class _Walk:
    """One forward pass over a (possibly nested) Keras graph, keyed by KerasTensor identity."""

    def __init__(self, identity, input_hw):
        self.identity, self.used = set(identity), set()
        self.input_hw = input_hw
        self.rows: list = []
        self.fields: dict = {}
        self.names: dict = {}
        self.last = None

    def graph(self, graph, fields, names, prefix: str):
        for t, f, n in zip(graph.inputs, fields, names):
            self.fields[id(t)], self.names[id(t)] = f, n
        todo = []
        for op in graph._operations:
            calls = [node for k, node in enumerate(op._inbound_nodes)
                     if f"{id(op)}_ib-{k}" in graph._nodes and not node.is_input]
            for j, node in enumerate(calls):
                todo.append((op, node, prefix + op.name + (f"#{j}" if len(calls) > 1 else "")))
        while todo:  # Keras' order is topological; a second pass only happens for shared layers
            rest = []
            for item in todo:
                if self._ready(item[1]):
                    self.node(*item)
                else:
                    rest.append(item)
            if len(rest) == len(todo):
                raise RFError(f"the graph of '{graph.name}' is disconnected at layer '{rest[0][2]}'")
            todo = rest
        return [self.fields[id(t)] for t in graph.outputs], [self.names[id(t)] for t in graph.outputs]

    def _ready(self, node) -> bool:
        return all(id(t) in self.fields for t in node.input_tensors)

    def node(self, op, node, name: str):
        import keras

        ins = list(node.input_tensors)
        fields = [self.fields[id(t)] for t in ins]
        in_names = [self.names[id(t)] for t in ins]
        if isinstance(op, keras.Model):  # nested model: its layers become rows named outer/inner
            outs, out_names = self.graph(_graph(op), fields, in_names, name + "/")
            for t, f, n in zip(node.outputs, outs, out_names):
                self.fields[id(t)], self.names[id(t)] = f, n
            return
        cls = type(op).__name__
        chosen = self.identity & {op.name, name, cls}  # a layer name, or a class name for all its layers
        self.used.update(chosen)
        if not chosen and not isinstance(op, keras.layers.Layer) and cls not in ELEMENTWISE_OPS:
            raise unsupported(name, cls, "is a Keras operation (keras.ops / a tensor operator) rfcalc does not know")
        try:
            if chosen:
                layer, applied = as_identity(op, cls, fields)
            elif not isinstance(op, keras.layers.Layer):
                merged = elementwise_merge(cls, fields) if len(fields) > 1 else Applied(fields[0])
                layer, applied = Identity(cls), merged
            else:
                layer, applied = map_layer(op, cls, fields)
        except UnsupportedLayerError:
            raise
        except RFError as err:
            raise type(err)(f"layer '{name}' ({cls}): {err}") from None
        if len(node.outputs) != 1:
            raise unsupported(name, cls, f"has {len(node.outputs)} outputs")
        if not getattr(op, "trainable", True):  # Keras counts a frozen layer's weights as non-trainable
            applied = replace(applied, trainable=0, non_trainable=applied.params)
        self._check_shape(name, cls, applied.field.shape, node.outputs[0].shape[1:], "identity" in applied.flags)
        if "misaligned" in applied.flags:
            paths = ", ".join(f"{n} (jump {f.jump}, start {tuple(str(s) for s in f.start)})"
                              for n, f in zip(in_names, fields) if f.rf is not None)
            warnings.warn(f"merge layer '{name}' ({cls}) joins misaligned paths: {paths}; its field is "
                          "the union of theirs (rf and start of the bounding box), its jump the first path's", AlignmentWarning, stacklevel=4)
        inputs = tuple(in_names) if len(ins) > 1 or in_names[0] != self.last else ()
        row = make_row(len(self.rows), name, layer, fields[0], applied, self.input_hw, inputs)
        self.rows.append(replace(row, kind=cls))
        self.fields[id(node.outputs[0])], self.names[id(node.outputs[0])] = applied.field, name
        self.last = name

    @staticmethod
    def _check_shape(name, cls, ours, theirs, as_identity):
        theirs = tuple(theirs)
        if len(ours) == len(theirs) and all(t is None or t == o for o, t in zip(ours, theirs)):
            return
        if as_identity:
            raise ShapeError(f"layer '{name}' ({cls}) changes the shape to {theirs}, so it cannot be treated "
                             f"as identity. Received: input shape {ours}")
        raise ShapeError(f"layer '{name}' ({cls}): rfcalc computes the output shape {ours} but Keras has {theirs}; "
                         "rfcalc does not understand this layer's settings")


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
        if len(shapes) != 1 or len(input_shape) != len(shapes[0]) or any(
                k is not None and k != v for k, v in zip(shapes[0], input_shape)):
            raise ShapeError(f"model '{model.name}' takes inputs of shape {shapes}. "
                             f"Received: input_shape={input_shape}")
        shapes[0] = input_shape
    for shape in shapes:
        if len(shape) not in (2, 3, 4) or None in shape:
            raise ShapeError(f"model '{model.name}' needs inputs of known size with channels last: (L, C), (H, W, C) "
                             f"or (D, H, W, C); pass input_shape=. Received: input shapes {shapes}")
    names = [t._keras_history.operation.name for t in graph.inputs]
    walk = _Walk(identity, shapes[0][:-1])
    walk.last = names[0]
    walk.graph(graph, [input_field(s) for s in shapes], names, "")
    missing = [n for n in identity if n not in walk.used]
    if missing:
        raise RFError(f"identity names no layer of '{model.name}'. Received: {', '.join(missing)}")
    return Analysis(model.name, shapes[0], tuple(walk.rows))


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
        return (f"cannot load the Keras model {path!r}: {where}, which Keras does not know here: import the "
                f"module that defines it (registered with @keras.saving.register_keras_serializable) before loading")
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
        close = (difflib.get_close_matches(name.lower(), list(by_lower), n=4, cutoff=0.5)
                 or difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.0))
        hint = f"; the closest: {', '.join(by_lower[c] for c in close)} ({len(names)} in all: dir(keras.applications))"
        raise RFError(f"keras.applications has no network {name!r}{hint}")
    kwargs = {"weights": None, "include_top": True}  # the published network, classifier included
    if input_shape is not None:
        kwargs["input_shape"] = tuple(int(v) for v in input_shape)
    try:
        return getattr(keras.applications, real)(**kwargs)
    except Exception as err:
        raise ShapeError(f"keras.applications.{real} refused input_shape={kwargs.get('input_shape')}: "
                         f"{_first_line(err)}") from None


def load_model_source(source: str, input_shape=None):
    """The Keras model a source names: a .keras/.h5 file, or ``keras:Name`` built on ``input_shape`` (no weights).

    >>> load_model_source("missing.keras")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    rfcalc.errors.RFError: no Keras model file at 'missing.keras'
    """
    source = source.strip()
    if source.startswith(PREFIX):
        return _build_application(source[len(PREFIX):].strip(), input_shape)
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
