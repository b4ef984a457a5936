"""Length-grouped batches: padded to a multiple of 8, labels shifted by one, weights only on real tokens."""

import numpy as np
import tensorflow as tf

from keras_apps.data.sentence_batches import sentence_batches
from keras_apps.text.translation_tokens import END_ID, START_ID


def _pairs(count, seed=0):
    lengths = np.random.default_rng(seed).integers(1, 30, size=(count, 2))
    sources = tf.ragged.constant([[5 + i % 7] * n for i, (n, _) in enumerate(lengths)], dtype=tf.int32)
    targets = tf.ragged.constant([[START_ID] + [6] * m + [END_ID] for _, m in lengths], dtype=tf.int32)
    return sources, targets, lengths


def test_batches_are_padded_to_multiples_of_eight_with_shifted_labels_and_masks():
    sources, targets, lengths = _pairs(100)
    dataset = sentence_batches(sources, targets, 16, pool_batches=3)
    assert not dataset.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    batches = list(dataset)
    assert int(dataset.cardinality()) == len(batches) == 3 + 3 + 1  # pools of 48, 48 and 4 pairs
    assert sum(len(labels) for _, labels, _ in batches) == 100  # evaluation keeps every pair
    real_source_tokens = real_target_tokens = 0
    for inputs, labels, weights in batches:
        width = inputs["source_ids"].shape[1]
        assert width % 8 == 0 and inputs["target_ids"].shape[1] == labels.shape[1] == width
        assert np.all(inputs["target_ids"].numpy()[:, 0] == START_ID)
        real = inputs["target_ids"].numpy() != 0
        np.testing.assert_array_equal(weights.numpy(), labels.numpy() != 0)
        np.testing.assert_array_equal(real.sum(axis=1), weights.numpy().sum(axis=1))  # one label per input
        real_source_tokens += int(np.count_nonzero(inputs["source_ids"]))
        real_target_tokens += int(weights.numpy().sum())
    assert real_source_tokens == lengths[:, 0].sum() and real_target_tokens == (lengths[:, 1] + 1).sum()


def test_training_batches_group_similar_lengths_and_have_a_known_count():
    sources, targets, _ = _pairs(1000)
    dataset = sentence_batches(sources, targets, 10, shuffle=True, seed=0, pool_batches=20)
    assert int(dataset.cardinality()) == 100
    batches = list(dataset)
    assert len(batches) == 100
    # The share of each row that is padding on its longer side (lengths drawn at random in 1-29).
    padding = np.mean([
        1 - np.maximum(np.count_nonzero(inputs["source_ids"], axis=1), np.count_nonzero(labels, axis=1)).mean()
        / labels.shape[1] for inputs, labels, _ in batches
    ])
    assert padding < 0.2  # batches of random lengths would waste about 40 %
    first_epoch = [inputs["source_ids"].numpy().tolist() for inputs, _, _ in batches[:3]]
    assert first_epoch != [inputs["source_ids"].numpy().tolist() for inputs, _, _ in list(dataset)[:3]]


def _epoch(dataset):
    """Each batch's rows as a sorted tuple (its composition), in the order the batches come."""
    return [tuple(sorted(map(tuple, inputs["source_ids"].numpy().tolist()))) for inputs, _, _ in dataset]


def test_each_epoch_regroups_the_pairs_and_reorders_the_batches_and_a_seed_repeats_both():
    sources, targets, _ = _pairs(1000)
    dataset = sentence_batches(sources, targets, 10, shuffle=True, seed=0, pool_batches=100)  # one pool of all
    first, second = _epoch(dataset), _epoch(dataset)
    assert set(first) != set(second)  # ties in length fall to different batches: the pairs were reshuffled
    widths = [max(map(len, batch)) for batch in first]
    assert widths != sorted(widths)  # the length-sorted batches were shuffled
    assert _epoch(sentence_batches(sources, targets, 10, shuffle=True, seed=0, pool_batches=100)) == first
    assert _epoch(sentence_batches(sources, targets, 10, shuffle=True, seed=1, pool_batches=100)) != first


def test_training_drops_each_pools_incomplete_batch_and_yields_the_count_it_announced():
    sources, targets, _ = _pairs(105)
    dataset = sentence_batches(sources, targets, 10, shuffle=True, seed=0, pool_batches=20)
    batches = list(dataset)
    assert int(dataset.cardinality()) == len(batches) == 10
    assert all(len(labels) == 10 for _, labels, _ in batches)
