"""The batched gradient passes of the structural probe: support masks of chosen output units.

``support_model`` (``probe_model``) builds the clone; here one ``tf.function`` is traced once per
probe and called once per chunk of batch rows, each row carrying one (output, unit). The cost is
in the rows, not the passes: measured on ResNet50 at 551x551 (144 rows), 16 passes of 9 rows took
3.97 s CPU and one pass of all 144 rows 4.57 s with 4x the memory.
Method and pass counts: docs/probes.md.
"""

from __future__ import annotations

from ..errors import RFError
from ..tfquiet import quiet_retracing
from .probe_limits import check_bytes, sample_bytes
from .probe_model import _keras

_MEMORY = 256 * 2**20  # bytes of activations per gradient pass before the batch is split


def gradient_support(model, shape, picks, compiled=True):
    """Support masks (bool, one spatial map per pick) of the gradient of ``picks`` = [(output, unit)].

    ``unit`` is a tuple with one index per spatial axis. Returns ``(masks, passes)``: every pick is
    one batch row of one gradient pass; the batch is split into equal chunks only when the
    activations would pass ``_MEMORY``. Every pass has the same batch size and the same argument
    shapes (one gathered unit per row and output, weighted 1 where the row probes that output and 0
    elsewhere), so the ``tf.function`` is traced once. The backward signal into an output is then
    exactly that of a one-hot mask on the unit, summed over channels.

    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(1, 3, name="c")])  # doctest: +SKIP
    >>> clone, kept, index = support_model(model, (8, 8, 1), ("c",))  # doctest: +SKIP
    >>> masks, passes = gradient_support(clone, (8, 8, 1), [(0, (2, 2))])  # doctest: +SKIP
    >>> bbox(masks[0]), passes  # doctest: +SKIP
    (((2, 4), (2, 4)), 1)
    """
    import numpy as np

    _, tf = _keras()
    out_shapes = [tuple(o.shape[1:]) for o in model.outputs]
    per_sample = sample_bytes(shape, out_shapes)
    check_bytes(per_sample, f"probing on {'x'.join(map(str, shape))}")  # before anything is allocated
    chunk = max(1, min(len(picks), _MEMORY // per_sample))
    rank = len(shape) - 1

    def step(x, index, weight):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outs = model(x, training=False)
            if not isinstance(outs, (list, tuple)):
                outs = [outs]
            loss = tf.add_n(
                [tf.reduce_sum(tf.reduce_sum(tf.gather_nd(o, i), axis=-1) * w) for o, i, w in zip(outs, index, weight)]
            )
        return tf.reduce_any(tf.not_equal(tape.gradient(loss, x), 0), axis=-1)

    fn = tf.function(step, reduce_retracing=True) if compiled else step
    x = tf.ones((chunk,) + tuple(shape), dtype=tf.float32)
    result, passes = [], 0
    for lo in range(0, len(picks), chunk):
        part = picks[lo : lo + chunk]
        index = np.zeros((len(out_shapes), chunk, rank + 1), dtype=np.int32)
        index[:, :, 0] = np.arange(chunk)
        weight = np.zeros((len(out_shapes), chunk), dtype=np.float32)
        for b, (k, unit) in enumerate(part):
            index[k, b, 1:] = unit
            weight[k, b] = 1.0
        try:
            with quiet_retracing(tf):  # each probe traces its own model
                masks = fn(x, [tf.constant(i) for i in index], [tf.constant(w) for w in weight])
        except tf.errors.ResourceExhaustedError:
            raise RFError(
                f"TensorFlow ran out of memory probing on {'x'.join(map(str, shape))}; try a smaller --input"
            ) from None
        except (tf.errors.InvalidArgumentError, ValueError) as err:  # e.g. a dilated Conv3DTranspose's gradient
            cause = next((ln.strip() for ln in str(err).splitlines() if "Error:" in ln), str(err).strip())
            raise RFError(
                f"TensorFlow could not take the gradient of this model on {'x'.join(map(str, shape))}, so the "
                f"probe cannot check it (the analysis does not need TensorFlow to run it): {cause[:300]}"
            ) from None
        result.extend(masks.numpy()[: len(part)])
        passes += 1
    return result, passes


def bbox(mask) -> tuple | None:
    """Per axis ``(first, last)`` index of the true entries of a mask of any rank, or None when empty.

    >>> import numpy as np
    >>> m = np.zeros((5, 5), bool); m[1, 2] = m[3, 3] = True
    >>> bbox(m)
    ((1, 3), (2, 3))
    """
    import numpy as np

    mask = np.asarray(mask)
    if not mask.any():
        return None
    out = []
    for axis in range(mask.ndim):
        hits = np.flatnonzero(mask.any(axis=tuple(a for a in range(mask.ndim) if a != axis)))
        out.append((int(hits[0]), int(hits[-1])))
    return tuple(out)
