"""One size guard for everything that runs a network (probes, ERFs, ``to_keras``), checked before allocating.

Without it a huge input or a deep chain ends in TensorFlow's ``ResourceExhaustedError``, numpy's
``MemoryError`` or Keras's ``RecursionError`` (a 1,200-layer chain); with it, one line saying which
limit and what to change. The limits are generous for real networks (ResNet152 on 224x224 is far
inside them) and pure arithmetic on the analysis: nothing is built to check them.

>>> from rfcalc import analyze
>>> check_analysis(analyze("c3*4", (64, 64, 3)))
>>> check_analysis(analyze("c1*700", (8, 8, 1)))
Traceback (most recent call last):
rfcalc.errors.RFError: a chain of 700 layers is deeper than the probes build (at most 600; Keras recurses once per layer)
"""

from __future__ import annotations

from math import prod

from ..errors import RFError
from ..frameworks.keras_out import check_depthwise_strides  # noqa: F401 (one rule for to_keras and probes)

MAX_CHAIN = 600  # layers of a spec that are built and run (Keras recurses per layer)
MAX_ACTIVATION_BYTES = 2 * 2**30  # float32 activations (and their gradients) of one sample
MAX_INPUT_BYTES = 2 * 2**30  # float32 inputs of an ERF (samples x H x W x C)
_GRAD_FACTOR = 3  # forward activation, its gradient, and a working copy


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"


def sample_bytes(input_shape, output_shapes) -> int:
    """Bytes of float32 activations and gradients one sample needs: input plus every layer's output, x3.

    >>> sample_bytes((8, 8, 1), [(8, 8, 2)])
    2304
    """
    return 4 * _GRAD_FACTOR * (prod(input_shape) + sum(prod(s) for s in output_shapes))


def check_bytes(need: int, what: str) -> None:
    """Raise ``RFError`` when one sample needs more than ``MAX_ACTIVATION_BYTES``."""
    if need > MAX_ACTIVATION_BYTES:
        raise RFError(
            f"{what} needs {_gib(need)} of activations per sample; rfcalc runs at most "
            f"{_gib(MAX_ACTIVATION_BYTES)} (a smaller --input, or a layer nearer the input, fits)"
        )


def check_analysis(analysis, chain: bool = True) -> None:
    """Depth (for a spec's chain) and activation size of a network about to be built and run."""
    n = len(analysis.layers)
    if chain and n > MAX_CHAIN:
        raise RFError(
            f"a chain of {n:,} layers is deeper than the probes build (at most {MAX_CHAIN}; "
            f"Keras recurses once per layer)"
        )
    check_bytes(
        sample_bytes(analysis.input_shape, [r.output_shape for r in analysis.layers]),
        f"{analysis.spec[:40]!r} on {'x'.join(map(str, analysis.input_shape))}",
    )


def check_inputs(samples: int, shape) -> None:
    """Raise ``RFError`` when ``samples`` float32 inputs of ``shape`` would pass ``MAX_INPUT_BYTES``."""
    need = 4 * samples * prod(shape)
    if need > MAX_INPUT_BYTES:
        raise RFError(
            f"{samples:,} inputs of {'x'.join(map(str, shape))} need {_gib(need)}; rfcalc allocates "
            f"at most {_gib(MAX_INPUT_BYTES)} (fewer --samples or a smaller --input)"
        )


def check_model(model, shape) -> None:
    """The activation size of a Keras model on input ``shape``, from its layers' output shapes (free sizes
    taken as ``shape``'s)."""
    outs = []
    for layer in model.layers:
        try:
            s = tuple(layer.output.shape)[1:]
        except (AttributeError, ValueError):
            continue
        if all(isinstance(d, int) for d in s):
            outs.append(s)
    check_bytes(sample_bytes(shape, outs), f"model {model.name!r} on {'x'.join(map(str, shape))}")
