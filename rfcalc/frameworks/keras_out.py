"""``to_keras(spec)``: the ``keras.Sequential`` model a spec describes (Keras imported inside).

Layers are named as ``analyze`` names them (``conv2d``, ``conv2d_1``, ``max_pooling2d``...),
so ``from_keras(to_keras(s))`` and ``analyze(s)`` line up row for row.
"""

from __future__ import annotations

from ..analysis import analyze
from ..errors import RFError
from ..layers import (
    BatchNorm, Conv, Crop, Dense, DepthwiseConv, Flatten, GlobalPool, Identity, Pool,
    SeparableConv, ZeroPad,
)


def _act(name: str):
    return None if name == "linear" else name


def _keras_layer(layer, name: str):
    """One keras.layers object for one rfcalc layer value."""
    from keras import layers as L

    if isinstance(layer, Conv):
        return L.Conv2D(layer.filters, kernel_size=layer.kernel, strides=layer.stride, padding=layer.padding,
                        dilation_rate=layer.dilation, activation=_act(layer.activation),
                        use_bias=layer.use_bias, name=name)
    if isinstance(layer, DepthwiseConv):
        return L.DepthwiseConv2D(kernel_size=layer.kernel, strides=layer.stride, padding=layer.padding,
                                 depth_multiplier=layer.depth_multiplier, dilation_rate=layer.dilation,
                                 activation=_act(layer.activation), use_bias=layer.use_bias, name=name)
    if isinstance(layer, SeparableConv):
        return L.SeparableConv2D(layer.filters, kernel_size=layer.kernel, strides=layer.stride,
                                 padding=layer.padding, dilation_rate=layer.dilation,
                                 depth_multiplier=layer.depth_multiplier, activation=_act(layer.activation),
                                 use_bias=layer.use_bias, name=name)
    if isinstance(layer, Pool):
        cls = L.MaxPooling2D if layer.op == "max" else L.AveragePooling2D
        return cls(pool_size=layer.kernel, strides=layer.stride, padding=layer.padding, name=name)
    if isinstance(layer, BatchNorm):
        return L.BatchNormalization(name=name)
    if isinstance(layer, GlobalPool):
        cls = L.GlobalMaxPooling2D if layer.op == "max" else L.GlobalAveragePooling2D
        return cls(name=name)
    if isinstance(layer, Flatten):
        return L.Flatten(name=name)
    if isinstance(layer, Dense):
        return L.Dense(layer.units, activation=_act(layer.activation), use_bias=layer.use_bias, name=name)
    if isinstance(layer, ZeroPad):
        return L.ZeroPadding2D(padding=tuple(tuple(p) for p in layer.pads), name=name)
    if isinstance(layer, Crop):
        return L.Cropping2D(cropping=tuple(tuple(p) for p in layer.crops), name=name)
    if isinstance(layer, Identity):
        return L.Identity(name=name)
    raise RFError(f"to_keras: no Keras layer for {layer!r}")


def _keras_constraints(layer, name: str, token: str) -> None:
    """Settings Keras itself refuses, named before Keras raises its own less specific error."""
    stride = getattr(layer, "stride", (1, 1))
    dilation = getattr(layer, "dilation", (1, 1))
    if max(stride) > 1 and max(dilation) > 1 and not isinstance(layer, Pool):
        raise RFError(f"layer '{name}' ({token}): Keras {layer.keras_class} does not allow strides > 1 "
                      f"together with dilation_rate > 1. Received: strides={tuple(stride)}, "
                      f"dilation_rate={tuple(dilation)}")


def to_keras(spec, input_shape=(32, 32, 3), head=None, name=None):
    """Build the ``keras.Sequential`` model a spec describes; ``head='seed'`` adds the notebook's head.

    >>> to_keras("c3,p2", head="seed").count_params()  # doctest: +SKIP
    164966
    """
    analysis = analyze(spec, input_shape=input_shape, head=head)  # validates symbols and shapes first
    check_depthwise_strides([row.layer for row in analysis.layers])  # TensorFlow would build it but never run it
    import keras

    built = [keras.Input(shape=analysis.input_shape)]
    for row in analysis.layers:
        _keras_constraints(row.layer, row.name, row.token)
        try:
            built.append(_keras_layer(row.layer, row.name))
        except (ValueError, TypeError) as err:
            raise RFError(f"layer '{row.name}' ({row.token}): Keras refused it: {err}") from None
    try:
        return keras.Sequential(built, name=name)
    except (ValueError, TypeError) as err:
        raise RFError(f"Keras could not build the model for {analysis.spec!r}: {err}") from None


def check_depthwise_strides(layers) -> None:
    """TensorFlow's CPU kernels refuse depthwise convolutions with unequal strides (``dw3s2x1``); say so first.

    >>> from rfcalc import parse
    >>> check_depthwise_strides(parse("dw3s2,sep3"))
    >>> check_depthwise_strides(parse("c3,dw3s2x1"))
    Traceback (most recent call last):
    rfcalc.errors.RFError: layer 2 (dw3s2x1): TensorFlow's CPU kernels run depthwise and separable convolutions only with equal strides on both axes; rfcalc analyses it, but cannot build and run it. Received: strides=(2, 1)
    """
    from ..dsl import format_layer
    for i, layer in enumerate(layers):
        if isinstance(layer, (DepthwiseConv, SeparableConv)) and len(set(layer.stride)) > 1:
            raise RFError(f"layer {i + 1} ({format_layer(layer)}): TensorFlow's CPU kernels run depthwise and "
                          f"separable convolutions only with equal strides on both axes; rfcalc analyses it, "
                          f"but cannot build and run it. Received: strides={tuple(layer.stride)}")
