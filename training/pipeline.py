"""tf.data input pipelines: uint8 arrays in memory, a fresh permutation per epoch, /255 per batch.

Keras's ``validation_split`` semantics: the last fraction of the training arrays, taken before any
shuffling (``floor(n * (1 - split))`` images trained on, as Keras's ``train_validation_split``).
Shuffling is the notebook's ``model.fit(shuffle=True)`` scheme: a full permutation of the training
images each epoch, batched in order, the last partial batch kept. Only the generator differs: the
permutation for epoch ``e`` is drawn from the stateless seed ``(seed, e)``, so a run resumed at epoch
``e`` sees the same batches as one that was never interrupted (Keras's draws depend on how many
random ops ran before). The accuracy difference that leaves is seed noise (docs/baselines.md). Autotune is off
(its thread stalled epoch starts here for seconds); prefetch depth is fixed.
"""

from __future__ import annotations

import math

PREFETCH = 2


def split_at(n: int, validation_split: float) -> int:
    """Where Keras's ``validation_split`` cuts ``n`` samples.

    >>> split_at(50000, 0.1), split_at(200, 0.1)
    (45000, 180)
    """
    return int(math.floor(n * (1.0 - validation_split)))


def _options():
    import tensorflow as tf

    opts = tf.data.Options()
    opts.autotune.enabled = False
    opts.deterministic = True
    opts.experimental_optimization.map_parallelization = False
    return opts


def _gather(x, y):
    import tensorflow as tf

    def fn(idx):
        # the same float32 division as the notebook's X.astype(np.float32) / 255.0
        return tf.cast(tf.gather(x, idx), tf.float32) / 255.0, tf.gather(y, idx)

    return fn


class Pipelines:
    """Train, validation and test datasets; ``epoch`` is a variable the trainer sets at each epoch start."""

    def __init__(self, data, batch_size=128, validation_split=0.1, seed=0, initial_epoch=0):
        import tensorflow as tf

        cut = split_at(len(data.x_train), validation_split)
        if cut < 1:
            from .errors import DataError

            raise DataError(
                f"--data-size {len(data.x_train)} leaves no training images after validation split {validation_split}"
            )
        self.batch_size = batch_size
        self.n_train, self.n_val, self.n_test = cut, len(data.x_train) - cut, len(data.x_test)
        self.epoch = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False, name="data_epoch")
        x_tr, y_tr = tf.constant(data.x_train[:cut]), tf.constant(data.y_train[:cut].astype("int64"))
        seed_t = tf.constant(int(seed or 0), tf.int64)
        epoch, n = self.epoch, cut

        def permutation(_):
            noise = tf.random.stateless_uniform([n], seed=tf.stack([seed_t, epoch.read_value()]))
            return tf.data.Dataset.from_tensor_slices(tf.argsort(noise)).batch(batch_size)

        self.train = (
            tf.data.Dataset.from_tensors(0)
            .flat_map(permutation)
            .map(_gather(x_tr, y_tr))
            .prefetch(PREFETCH)
            .with_options(_options())
        )
        self.val = self._ordered(data.x_train[cut:], data.y_train[cut:]) if self.n_val else None
        self.test = self._ordered(data.x_test, data.y_test)

    def _ordered(self, x, y):
        import tensorflow as tf

        gather = _gather(tf.constant(x), tf.constant(y.astype("int64")))
        return (
            tf.data.Dataset.range(len(x)).batch(self.batch_size).map(gather).prefetch(PREFETCH).with_options(_options())
        )

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)
