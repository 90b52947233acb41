"""``to_keras(spec)``: the ``keras.Sequential`` model a spec describes (Keras imported inside).

Layers are named as ``analyze`` names them (``conv2d``, ``conv2d_1``, ``max_pooling2d``...),
so ``from_keras(to_keras(s))`` and ``analyze(s)`` line up row for row.
"""

from __future__ import annotations

from typing import cast

from ..analysis import analyze
from ..errors import RFError
from ..layers import (
    BatchNorm,
    Conv,
    ConvTranspose,
    Crop,
    Dense,
    DepthwiseConv,
    Flatten,
    GlobalPool,
    Identity,
    Pool,
    SeparableConv,
    Upsample,
    ZeroPad,
)

WINDOWS = (Conv, DepthwiseConv, SeparableConv, ConvTranspose)


def _act(name: str):
    return None if name == "linear" else name


def _side(pads):
    """Keras' ``padding``/``cropping`` argument: ``(a, b)`` for one axis, ``((a, b), ...)`` for more."""
    pads = tuple(tuple(p) for p in pads)
    return pads[0] if len(pads) == 1 else pads


def _keras_layer(layer, name: str):
    """One keras.layers object for one rfcalc layer value; the class follows the rank (``Conv1D``, ``UpSampling3D``)."""
    from keras import layers as L

    cls = getattr(L, layer.keras_class)
    if isinstance(layer, WINDOWS):
        kw = dict(
            kernel_size=layer.kernel,
            strides=layer.stride,
            padding=layer.padding,
            dilation_rate=layer.dilation,
            activation=_act(layer.activation),
            use_bias=layer.use_bias,
            name=name,
        )
        if isinstance(layer, (DepthwiseConv, SeparableConv)):
            kw["depth_multiplier"] = layer.depth_multiplier
        if isinstance(layer, ConvTranspose):
            kw["output_padding"] = layer.output_padding
        if isinstance(layer, DepthwiseConv):
            return cls(**kw)
        return cls(layer.filters, **kw)
    if isinstance(layer, Pool):
        return cls(pool_size=layer.kernel, strides=layer.stride, padding=layer.padding, name=name)
    if isinstance(layer, Upsample):
        if len(layer.size) == 1:
            return cls(size=layer.size[0], name=name)
        extra = {"interpolation": layer.interpolation} if len(layer.size) == 2 else {}
        return cls(size=layer.size, name=name, **extra)
    if isinstance(layer, ZeroPad):
        return cls(padding=_side(layer.pads), name=name)
    if isinstance(layer, Crop):
        return cls(cropping=_side(layer.crops), name=name)
    if isinstance(layer, Dense):
        return cls(layer.units, activation=_act(layer.activation), use_bias=layer.use_bias, name=name)
    if isinstance(layer, (BatchNorm, GlobalPool, Flatten, Identity)):
        return (L.Identity if isinstance(layer, Identity) else cls)(name=name)
    raise RFError(f"to_keras: no Keras layer for {layer!r}")


def _keras_constraints(layer, name: str, token: str) -> None:
    """Settings Keras itself refuses or has no layer for, named before anything is built."""
    from keras import layers as L

    def refuse(why):
        raise RFError(f"layer '{name}' ({token}): {why}")

    if not hasattr(L, layer.keras_class) and not isinstance(layer, Identity):
        refuse(f"Keras has no {layer.keras_class} layer")
    stride = getattr(layer, "stride", ())
    dilation = getattr(layer, "dilation", ())
    if isinstance(layer, WINDOWS) and max(stride) > 1 and max(dilation) > 1:
        refuse(
            f"Keras {layer.keras_class} does not allow strides > 1 together with dilation_rate > 1. "
            f"Received: strides={tuple(stride)}, dilation_rate={tuple(dilation)}"
        )
    padding = getattr(layer, "padding", "valid")
    if not isinstance(padding, str):
        refuse(
            f"Keras {layer.keras_class} pads 'same' or 'valid' only; put a zero-padding layer before a 'valid' "
            f"window instead. Received: padding={padding}"
        )
    if padding == "causal" and layer.keras_class != "Conv1D":
        refuse(f"Keras {layer.keras_class} has no causal padding (only Conv1D has)")
    if isinstance(layer, ZeroPad) and getattr(layer, "mode", "constant") != "constant":
        refuse(f"Keras {layer.keras_class} pads with zeros only. Received: mode={layer.mode!r}")
    if isinstance(layer, Upsample) and layer.interpolation != "nearest" and len(layer.size) != 2:
        refuse(
            f"Keras {layer.keras_class} repeats values (nearest) only. Received: interpolation={layer.interpolation!r}"
        )
    if (
        isinstance(layer, ConvTranspose)
        and layer.output_padding is not None
        and any(
            p >= s for p, s in zip(cast("tuple[int, ...]", layer.output_padding), cast("tuple[int, ...]", layer.stride))
        )
    ):  # bound
        refuse(
            f"Keras {layer.keras_class} needs output_padding < strides. Received: "
            f"output_padding={tuple(layer.output_padding)}, strides={tuple(layer.stride)}"
        )


def to_keras(spec, input_shape=(32, 32, 3), head=None, name=None):
    """Build the ``keras.Sequential`` model a spec describes; ``head='seed'`` adds the notebook's head.

    The rank comes from ``input_shape`` as in ``analyze``: ``(16000, 1)`` builds Conv1D layers.

    >>> to_keras("c3,p2", head="seed").count_params()  # doctest: +SKIP
    164966
    """
    analysis = analyze(spec, input_shape=input_shape, head=head)  # validates symbols and shapes first
    check_depthwise_strides([row.layer for row in analysis.layers])  # TensorFlow would build it but never run it
    import keras

    for row in analysis.layers:  # every refusal before any layer is built
        _keras_constraints(row.layer, row.name, row.token)
    built = [keras.Input(shape=analysis.input_shape)]
    for row in analysis.layers:
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
            raise RFError(
                f"layer {i + 1} ({format_layer(layer)}): TensorFlow's CPU kernels run depthwise and "
                f"separable convolutions only with equal strides on both axes; rfcalc analyses it, "
                f"but cannot build and run it. Received: strides={tuple(layer.stride)}"
            )
