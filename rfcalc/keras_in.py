"""``from_keras(model)``: a built Keras model (Sequential or Functional) as an ``Analysis``.

Each Keras layer is mapped by an explicit allow-list to an rfcalc layer value and pushed
through ``propagate.apply_layer`` / ``merge_fields``, so the formulas live in one place.
The graph is walked in Keras' own topological order (``Functional._operations``, the order
``model.layers`` and ``model.summary()`` use), one row per call of a layer. Conventions at
merges and for global pooling are in docs/keras.md.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

from . import arithmetic as A
from .analysis import Analysis, make_row
from .errors import RFError, ShapeError, UnsupportedLayerError
from .layers import (
    BatchNorm, Conv, Crop, Dense, DepthwiseConv, Flatten, GlobalPool, Identity, Pool,
    SeparableConv, ZeroPad,
)
from .propagate import Applied, Field, apply_layer, input_field, merge_fields

MERGES = frozenset({"Add", "Multiply", "Average", "Subtract", "Maximum", "Minimum"})
PASS_THROUGH = frozenset({  # leave shape and field alone, no weights
    "Activation", "ReLU", "LeakyReLU", "Softmax", "ELU", "Dropout", "SpatialDropout2D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "Rescaling", "Identity",
})
SPATIAL_CLASSES = frozenset({
    "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "Cropping2D",
})
SUPPORTED = sorted(MERGES | PASS_THROUGH | SPATIAL_CLASSES | {
    "Concatenate", "PReLU", "BatchNormalization", "Flatten", "Reshape", "Dense", "Normalization",
    "InputLayer"})


def _pair(values) -> tuple[int, int]:
    return tuple(int(v) for v in values)


def _act(op) -> str:
    fn = getattr(op, "activation", None)
    return getattr(fn, "__name__", "linear") if fn is not None else "linear"


def _prod(values) -> int:
    n = 1
    for v in values:
        n *= int(v)
    return n


def unsupported(name: str, cls: str, why: str = "is not in rfcalc's list of Keras layers") -> UnsupportedLayerError:
    """The error for a layer rfcalc cannot analyse, with the identity escape hatch spelled out."""
    return UnsupportedLayerError(
        f"layer '{name}' ({cls}) {why}. If it leaves the shape and the receptive field unchanged, "
        f"treat it as identity: from_keras(model, identity=({name!r},)) in Python, "
        f"--identity {name} on the CLI")


def _conv(op, cls, field):
    k, s, d = _pair(op.kernel_size), _pair(op.strides), _pair(op.dilation_rate)
    common = dict(kernel=k, stride=s, dilation=d, padding=op.padding, activation=_act(op), use_bias=op.use_bias)
    if cls == "DepthwiseConv2D":
        return DepthwiseConv(depth_multiplier=int(op.depth_multiplier), **common), None
    if cls == "SeparableConv2D":
        return SeparableConv(filters=int(op.filters), depth_multiplier=int(op.depth_multiplier), **common), None
    layer = Conv(filters=int(op.filters), **common)
    groups = int(getattr(op, "groups", 1))
    if groups == 1:
        return layer, None
    c_in = field.shape[-1]
    if c_in % groups or layer.filters % groups:
        raise ShapeError(f"Conv2D '{op.name}': channels must divide by groups. "
                         f"Received: input channels={c_in}, filters={layer.filters}, groups={groups}")
    applied = apply_layer(layer, field)
    oh, ow, _ = applied.field.shape
    (kh, kw), per_group = k, c_in // groups  # each filter reads only its group's channels
    return layer, replace(applied, trainable=A.conv_params(kh, kw, per_group, layer.filters, layer.use_bias),
                          macs=A.conv_macs(oh, ow, kh, kw, per_group, layer.filters),
                          flags=applied.flags + (f"groups={groups}",))


def _batchnorm(op, field):
    axis = int(op.axis)
    if axis not in (-1, len(field.shape)):
        raise unsupported(op.name, "BatchNormalization", f"normalises axis {axis}, not the channel axis")
    c = field.shape[-1]
    trainable, frozen = A.batchnorm_params(c)
    if not (op.center and op.scale):
        trainable = c * (int(op.center) + int(op.scale))
    if getattr(op, "renorm", False):
        frozen += 3 * c  # moving_stddev, renorm_mean, renorm_stddev
    return BatchNorm(), Applied(field, trainable, frozen)


def _reshape(op, field):
    target = list(op.target_shape)
    if -1 in target:
        known = _prod(t for t in target if t != -1)
        target[target.index(-1)] = _prod(field.shape) // known
    target = tuple(int(t) for t in target)
    if target == field.shape:
        return Identity("Reshape"), Applied(field)
    if len(target) != 3:
        return Identity("Reshape"), Applied(Field(target, None, None, None, None))
    raise unsupported(op.name, "Reshape", f"turns {field.shape} into the image shape {target}, "
                      "which has no receptive field rfcalc can follow")


def _normalization(op, field):
    frozen = 0
    if getattr(op, "input_mean", None) is None:  # adapt() weights: mean, variance (kept axes) and a count
        full = (None,) + field.shape
        kept = [full[a if a >= 0 else a + len(full)] for a in op.axis]
        frozen = 2 * _prod(kept) + 1
    return Identity("Normalization"), Applied(field, 0, frozen)


def map_layer(op, cls: str, fields: list):
    """``(layer value, Applied)`` for one call of an allow-listed Keras layer on its input fields."""
    if cls in MERGES:
        return Identity(cls), merge_fields(fields)
    if cls == "Concatenate":
        axis = int(op.axis)  # Keras counts the batch axis, rfcalc's shapes do not
        if axis == 0:
            raise unsupported(op.name, cls, "concatenates along the batch axis")
        return Identity(cls), merge_fields(fields, axis - 1 if axis > 0 else axis)
    if len(fields) != 1:
        raise unsupported(op.name, cls, f"takes {len(fields)} inputs")
    (field,) = fields
    if cls in SPATIAL_CLASSES and getattr(op, "data_format", "channels_last") != "channels_last":
        raise unsupported(op.name, cls, "uses data_format='channels_first'; rfcalc reads channels_last models")
    if cls in PASS_THROUGH:
        return Identity(cls), Applied(field)
    if cls == "PReLU":
        shape = list(field.shape)
        for axis in op.shared_axes or ():
            shape[axis - 1] = 1
        return Identity(cls), Applied(field, _prod(shape))
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        layer, applied = _conv(op, cls, field)
    elif cls in ("MaxPooling2D", "AveragePooling2D"):
        layer = Pool("max" if cls.startswith("Max") else "avg", _pair(op.pool_size), _pair(op.strides), op.padding)
        applied = None
    elif cls in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        op_kind = "max" if "Max" in cls else "avg"
        if not getattr(op, "keepdims", False):
            layer, applied = GlobalPool(op_kind), None
        else:  # a 1x1 map: the same as a 'valid' pool whose window is the whole input
            h, w, _ = field.shape
            layer = Pool(op_kind, (h, w), (h, w), "valid")
            applied = apply_layer(layer, field)
            applied = replace(applied, flags=applied.flags + ("global",))
    elif cls == "ZeroPadding2D":
        layer, applied = ZeroPad(tuple(_pair(p) for p in op.padding)), None
    elif cls == "Cropping2D":
        layer, applied = Crop(tuple(_pair(p) for p in op.cropping)), None
    elif cls == "BatchNormalization":
        layer, applied = _batchnorm(op, field)
    elif cls == "Flatten":
        layer, applied = Flatten(), None
    elif cls == "Dense":
        if getattr(op, "lora_enabled", False):
            raise unsupported(op.name, cls, "has LoRA weights enabled")
        layer, applied = Dense(int(op.units), _act(op), bool(op.use_bias)), None
    elif cls == "Reshape":
        layer, applied = _reshape(op, field)
    elif cls == "Normalization":
        layer, applied = _normalization(op, field)
    else:
        raise unsupported(op.name, cls)
    return layer, applied if applied is not None else apply_layer(layer, field)


def _as_identity(op, cls: str, fields: list):
    """A layer the caller asked to treat as identity: field unchanged (merged if several), Keras' own weights."""
    applied = merge_fields(fields) if len(fields) > 1 else Applied(fields[0])
    trainable = sum(_prod(w.shape) for w in getattr(op, "trainable_weights", ()))
    frozen = sum(_prod(w.shape) for w in getattr(op, "non_trainable_weights", ()))
    return Identity(cls), replace(applied, trainable=trainable, non_trainable=frozen, flags=applied.flags + ("identity",))


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
        if op.name in self.identity or name in self.identity:
            self.used.add(op.name if op.name in self.identity else name)
            layer, applied = _as_identity(op, cls, fields)
        elif not isinstance(op, keras.layers.Layer):
            raise unsupported(name, cls, "is a Keras operation (keras.ops / a tensor operator), not a layer")
        else:
            try:
                layer, applied = map_layer(op, cls, fields)
            except UnsupportedLayerError:
                raise
            except RFError as err:
                raise type(err)(f"layer '{name}' ({cls}): {err}") from None
        if len(node.outputs) != 1:
            raise unsupported(name, cls, f"has {len(node.outputs)} outputs")
        if not op.trainable:  # Keras counts a frozen layer's weights as non-trainable
            applied = replace(applied, trainable=0, non_trainable=applied.params)
        self._check_shape(name, cls, applied.field.shape, node.outputs[0].shape[1:], "identity" in applied.flags)
        if "misaligned" in applied.flags:
            paths = ", ".join(f"{n} (jump {f.jump}, start {tuple(str(s) for s in f.start)})"
                              for n, f in zip(in_names, fields) if f.rf is not None)
            warnings.warn(f"merge layer '{name}' ({cls}) joins misaligned paths: {paths}; its jump and start "
                          "are those of the first path", AlignmentWarning, stacklevel=4)
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

    ``input_shape`` (H, W, C) fills in unknown input sizes; ``identity`` names layers to treat as
    identity (unknown to rfcalc but shape- and field-preserving).

    >>> from_keras(keras.applications.VGG16(weights=None)).rf  # doctest: +SKIP
    (212, 212)
    """
    import keras

    from .dsl import parse_shape

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
            raise ShapeError(f"model '{model.name}' takes inputs of shape {shapes}. Received: input_shape={input_shape}")
        shapes[0] = input_shape
    for shape in shapes:
        if len(shape) != 3 or None in shape:
            raise ShapeError(f"model '{model.name}' needs image inputs (H, W, C) of known size; pass "
                             f"input_shape=(H, W, C). Received: input shapes {shapes}")
    names = [t._keras_history.operation.name for t in graph.inputs]
    walk = _Walk(identity, shapes[0][:2])
    walk.last = names[0]
    walk.graph(graph, [input_field(s) for s in shapes], names, "")
    missing = [n for n in identity if n not in walk.used]
    if missing:
        raise RFError(f"identity names no layer of '{model.name}'. Received: {', '.join(missing)}")
    return Analysis(model.name, shapes[0], tuple(walk.rows))
