"""The model side of the gradient probes: load a target and build its support clone (the passes: ``probe_passes``).

The clone has positive constant kernels, zero biases, linear activations, average pooling instead
of max pooling (a max routes its gradient to one element) and identities for normalisation and
activation layers. Then the non-zero gradient of one output unit with respect to the input is
exactly the set of input pixels that unit reads. After every conv-like and pooling layer the
backward signal is binarised (``g != 0``) so that support stays exact at any depth: plain float32
gradients underflow past ~40 layers (centre and edge of the field differ by ~16^depth).
Method: docs/probes.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import RFError, ShapeError
from ..frameworks.keras_layers import PASS_THROUGH

# layers that do not move the field (the adapter's pass-through list, and those with per-channel
# weights); as identities they cannot zero a gradient
_IDENTITY = PASS_THROUGH | {
    "PReLU",
    "Normalization",
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "BatchNormalization",
    "ActivityRegularization",
}


def _keras():
    from .. import tfquiet

    tfquiet.install()  # TensorFlow's start-up noise held back
    try:
        import keras
        import tensorflow as tf
    except ImportError as err:  # pragma: no cover - depends on the install
        raise RFError(f"probes need TensorFlow and Keras: pip install 'rfcalc[tf]'. Received: {err}") from None
    return keras, tf


# ----------------------------------------------------------------------------- targets


def is_model(obj) -> bool:
    """True for a Keras model object (checked without importing Keras).

    >>> is_model("c3,c3")
    False
    """
    return hasattr(obj, "layers") and hasattr(obj, "inputs") and hasattr(obj, "get_layer")


def is_source(text) -> bool:
    """True when a string names a model (file or ``keras:Name``) rather than a layer spec.

    >>> is_source("c3,c3"), is_source("model.keras"), is_source("keras:VGG16")
    (False, True, True)
    """
    from ..frameworks.keras import is_model_source

    return isinstance(text, str) and is_model_source(text)


def _model_shape(model) -> tuple | None:
    """(L, C), (H, W, C) or (D, H, W, C) of a Keras model input, None for free sizes."""
    shape = tuple(model.inputs[0].shape)[1:]
    if len(shape) not in (2, 3, 4):
        raise ShapeError(
            f"probes need a model with inputs (L, C), (H, W, C) or (D, H, W, C). Received: input shape {shape}"
        )
    return shape


@dataclass(frozen=True)
class Target:
    """What is probed: a spec (built with ``to_keras``) or a Keras model, and its name for reports."""

    spec: object = None
    model: object = None
    head: object = None
    _sized: dict = field(default_factory=dict, repr=False, compare=False)
    _analyses: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        if self.model is not None:
            return self.model.name
        from ..dsl import format_spec

        return self.spec if isinstance(self.spec, str) else format_spec(self.spec)

    def analysis(self, shape):
        """The analysis of the target on input ``shape`` (``from_keras`` of the resized model), once per shape."""
        shape = tuple(shape)
        if shape not in self._analyses:
            if self.model is None:
                from ..analysis import analyze

                self._analyses[shape] = analyze(self.spec, shape, head=self.head)
            else:
                from ..frameworks.keras import from_keras

                self._analyses[shape] = from_keras(self.build(shape), input_shape=shape)
        return self._analyses[shape]

    def build(self, shape):
        """A Keras model on input ``shape``: the spec built, the model itself, or a same-named clone resized."""
        shape = tuple(shape)
        if self.model is None:
            from ..frameworks.keras import to_keras

            try:
                return to_keras(self.spec, shape, head=self.head)
            except RecursionError:
                raise RFError(
                    f"{self.label!r} is too deep for Keras to build (it recursed past Python's limit); "
                    "probe a shorter chain"
                ) from None
        if _fits(self.model, shape):
            return self.model
        if shape not in self._sized:
            self._sized[shape] = _resized(self.model, shape)
        return self._sized[shape]


def _fits(model, shape) -> bool:
    """True when ``model`` takes inputs of ``shape`` as it is (its sizes equal or free)."""
    return all(o is None or o == s for o, s in zip(_model_shape(model), shape))


def with_weights(model, shape):
    """``model`` on input ``shape`` with its own weights: itself when it fits, else a clone carrying them.

    An ERF is a property of the weights; a clone with fresh ones would measure another network.

    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])  # doctest: +SKIP
    >>> with_weights(model, (12, 12, 1)).inputs[0].shape  # doctest: +SKIP
    (None, 12, 12, 1)
    """
    shape = tuple(shape)
    if _fits(model, shape):
        return model
    keras, _ = _keras()
    try:
        clone = keras.models.clone_model(model, input_tensors=keras.Input(shape=shape))
        clone.set_weights(model.get_weights())
    except Exception:  # noqa: BLE001 - a graph that cannot take another size, or weights tied to its size
        raise ShapeError(
            f"model {model.name!r} takes inputs of {_model_shape(model)} and its weights do not fit "
            f"another size; leave input_shape out to use its own. Received: input_shape={shape}"
        ) from None
    return clone


def _one_wide(cfg: dict) -> dict:
    """A layer config with one filter/unit: same fields, a fraction of the weights."""
    for key in ("filters", "units", "depth_multiplier"):
        if key in cfg:
            cfg[key] = 1
    return cfg


def _narrow(layer):
    """A fresh copy of ``layer`` with one filter/unit."""
    return layer.__class__.from_config(_one_wide(layer.get_config()))


def _resized(model, shape):
    """A same-named clone of ``model`` on input ``shape`` (one filter per conv when the graph allows)."""
    keras, _ = _keras()
    last = None
    for fn in (_narrow, None):  # VGG16's Dense(4096) on a grown input would allocate 100M+ weights
        try:
            return keras.models.clone_model(model, input_tensors=keras.Input(shape=shape), clone_function=fn)
        except Exception as err:  # noqa: BLE001 - a graph that cannot take another size
            last = err
    raise ShapeError(
        f"model {model.name!r} cannot be rebuilt on input {shape}: "
        f"{str(last).splitlines()[0] if str(last) else type(last).__name__}"
    ) from None


def resolve_target(model_or_spec, input_shape=None, head=None) -> tuple[Target, tuple]:
    """The ``Target`` and the (H, W, C) to start from (the model's own size, else 32x32x3)."""
    from ..dsl import parse_shape

    if isinstance(input_shape, str):
        input_shape = parse_shape(input_shape)
    if is_source(model_or_spec):
        from ..frameworks.keras import load_model_source

        model_or_spec = load_model_source(model_or_spec, input_shape)
    if is_model(model_or_spec):
        own = _model_shape(model_or_spec)
        shape = tuple(input_shape) if input_shape is not None else tuple(32 if d is None else d for d in own)
        if len(shape) != len(own):
            raise ShapeError(f"the model takes inputs of rank {len(own) - 1} {own}. Received: input_shape={shape}")
        if own[-1] is not None and shape[-1] != own[-1]:
            raise ShapeError(f"the model takes {own[-1]} channels. Received: input_shape={shape}")
        return Target(model=model_or_spec), tuple(int(d) for d in shape)
    if not isinstance(model_or_spec, (str, tuple, list)):
        raise RFError(f"probe a spec string, layers, a Keras model or a model file. Received: {model_or_spec!r}")
    spec = model_or_spec if isinstance(model_or_spec, str) else tuple(model_or_spec)
    return Target(spec=spec, head=head), tuple(int(d) for d in (input_shape or (32, 32, 3)))


# ----------------------------------------------------------------------------- support model


def _support_fn():
    _, tf = _keras()

    @tf.custom_gradient
    def support(x):
        def grad(g):
            return tf.cast(tf.not_equal(g, 0), g.dtype)

        return tf.identity(x), grad

    return support


def _clone_layer(layer, shrink: bool, support):
    keras, _ = _keras()
    kind = type(layer).__name__
    cfg = layer.get_config()
    if cfg.get("data_format", "channels_last") != "channels_last":
        raise RFError(
            f"probes support channels_last only. Received: layer {layer.name!r} with data_format={cfg['data_format']!r}"
        )
    if kind[:-1] in (
        "MaxPooling1",
        "AveragePooling1",
        "MaxPooling2",
        "AveragePooling2",
        "MaxPooling3",
        "AveragePooling3",
    ):
        return _layer_classes()[0][kind[-2]](
            pool_size=cfg["pool_size"], strides=cfg["strides"], padding=cfg["padding"], name=cfg["name"]
        )
    if kind.startswith("GlobalMaxPooling"):
        cls = getattr(keras.layers, kind.replace("Max", "Average"))
        return cls(keepdims=cfg.get("keepdims", False), name=cfg["name"])
    if kind in _IDENTITY:
        return _layer_classes()[1](name=cfg["name"])
    if "activation" in cfg:
        cfg["activation"] = "linear"
    if shrink:
        _one_wide(cfg)
    new = layer.__class__.from_config(cfg)
    if hasattr(new, "activation") and "activation" in cfg:
        new.activation = support
    return new


_CLASSES = []


def _layer_classes():
    """({rank: average pooling with a binarised backward signal}, an identity that takes any call arguments)."""
    if not _CLASSES:
        keras, _ = _keras()
        support = _support_fn()

        def pooling(base):
            class SupportAveragePooling(base):
                def call(self, inputs):
                    return support(super().call(inputs))

            return SupportAveragePooling

        pools = {r: pooling(getattr(keras.layers, f"AveragePooling{r}D")) for r in "123"}

        class PassThrough(keras.layers.Layer):  # keras' Identity refuses the mask=/training= a node replays
            def call(self, inputs, *args, **kwargs):
                return inputs

        _CLASSES.extend((pools, PassThrough))
    return _CLASSES


def _fill_weights(model) -> None:
    import numpy as np

    for v in model.weights:
        name = v.name.rsplit("/", 1)[-1]
        shape = tuple(v.shape)
        if name.endswith("depthwise_kernel"):
            value = 1.0 / max(1, int(np.prod(shape[:-2])))
        elif name.endswith("kernel"):
            value = 1.0 / max(1, int(np.prod(shape[:-1])))
        elif name in ("bias", "beta", "moving_mean"):
            value = 0.0
        else:
            value = 1.0
        v.assign(np.full(shape, value, dtype=v.dtype))


def _source(tensor):
    """The tensor that a chain of the clone's pass-through layers copies unchanged (``tensor`` itself if none).

    The clone turns normalisation and activation layers into identities, so their outputs carry the
    same values as the tensor before them, and any unit's gradient is the same: one output (and one
    batch row per unit) serves them all. Stops before the model input and at any layer with more than
    one call or one input.
    """
    passthrough = _layer_classes()[1]
    while True:
        layer = getattr(getattr(tensor, "_keras_history", None), "operation", None)
        if not isinstance(layer, passthrough) or len(layer._inbound_nodes) != 1:
            return tensor
        inputs = layer._inbound_nodes[0].input_tensors
        if len(inputs) != 1 or tuple(inputs[0].shape) != tuple(tensor.shape):
            return tensor
        before = getattr(getattr(inputs[0], "_keras_history", None), "operation", None)
        if before is None or type(before).__name__ == "InputLayer":
            return tensor
        tensor = inputs[0]


def support_model(model, shape, names, shrink=True):
    """A multi-output clone of ``model`` on input ``shape`` whose gradients mark receptive fields.

    Returns ``(clone, kept, index)``: ``kept`` the layers of ``names`` with a spatial output of the
    input's rank, ``index[i]`` the clone output that carries ``kept[i]``'s values. Layers that the clone
    makes identities (BatchNorm, activations: ``_source``) share the output of the layer before them,
    so the clone has one output per distinct tensor. ``shrink`` gives every conv one filter (the field
    does not depend on widths); if the graph then no longer fits (an ``Add`` of different widths), the
    widths are kept.
    """
    keras, _ = _keras()
    support = _support_fn()
    last = None
    for attempt in (True, False) if shrink else (False,):
        try:
            inp = keras.Input(shape=tuple(shape))
            clone = keras.models.clone_model(
                model,
                input_tensors=inp,
                recursive=True,
                clone_function=lambda layer, attempt=attempt: _clone_layer(layer, attempt, support),
            )
            break
        except RFError:
            raise
        except Exception as err:  # noqa: BLE001 - Keras raises ValueError/TypeError/... for graphs it cannot rebuild
            last = err
    else:
        raise RFError(f"could not rebuild the model on input {tuple(shape)} for probing: {last}") from None
    _fill_weights(clone)
    outputs, kept, index, at = [], [], [], {}
    for name in names:
        try:
            out = clone.get_layer(name).output
        except (ValueError, AttributeError):
            continue
        if len(out.shape) == len(shape) + 1:
            out = _source(out)
            if id(out) not in at:
                at[id(out)] = len(outputs)
                outputs.append(out)
            kept.append(name)
            index.append(at[id(out)])
    if not outputs:
        raise RFError(f"no layer with a spatial output to probe among {list(names)}")
    return keras.Model(clone.inputs, outputs), tuple(kept), tuple(index)
