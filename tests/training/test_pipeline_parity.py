"""The tf.data pipeline holds out and shuffles as the notebook's ``model.fit(X, y, validation_split=0.1)``
does, checked against Keras's own code: the same validation images, every training image once per
epoch in a fresh order, the last partial batch kept."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = [pytest.mark.tf]

SPLITS = [(200, 0.1), (50000, 0.1), (60000, 0.1), (1001, 0.25), (97, 1 / 3), (20000, 0.1), (7, 0.5)]


@pytest.mark.parametrize("n,split", SPLITS)
def test_the_held_out_images_are_keras_validation_split(n, split):
    pytest.importorskip("tensorflow")
    from keras.src.trainers.data_adapters.array_slicing import train_validation_split

    from training.data import Data
    from training.pipeline import Pipelines

    x = np.arange(n, dtype=np.uint8).repeat(4).reshape(n, 2, 2, 1)
    y = (np.arange(n) % 10).astype(np.uint8)
    (kx, _), (vx, _) = train_validation_split((x, y), validation_split=split)
    pipes = Pipelines(Data("mnist", x, y, x[:3], y[:3], "t"), batch_size=16, validation_split=split)
    assert (pipes.n_train, pipes.n_val) == (len(kx), len(vx))
    val = np.concatenate([b.numpy() for b, _ in pipes.val]) if pipes.n_val else np.zeros((0, 2, 2, 1))
    np.testing.assert_array_equal(np.rint(val * 255).astype(np.uint8), vx)  # the same images, in order


def test_each_epoch_is_a_fresh_permutation_of_every_training_image_with_the_partial_batch_kept():
    pytest.importorskip("tensorflow")
    from training.data import Data
    from training.pipeline import Pipelines

    n = 203
    x = np.zeros((n, 1, 1, 1), np.uint8)
    y = np.arange(n).astype(np.uint8)  # n < 256: each label names its image
    pipes = Pipelines(Data("mnist", x, y, x[:2], y[:2], "t"), batch_size=20, validation_split=0.1)
    orders = []
    for epoch in range(3):
        pipes.epoch.assign(epoch)
        batches = [b.numpy() for _, b in pipes.train]
        assert [len(b) for b in batches] == [20] * 9 + [2]  # 182 = 9 x 20 + 2, as Keras batches it
        order = np.concatenate(batches)
        assert sorted(order.tolist()) == list(range(182))
        orders.append(order.tolist())
    assert orders[0] != orders[1] != orders[2]
    pipes.epoch.assign(1)  # the same epoch gives the same order: resumes see the same batches
    assert np.concatenate([b.numpy() for _, b in pipes.train]).tolist() == orders[1]
