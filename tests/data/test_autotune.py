"""tf.data pipelines without the autotuning thread whose iterators can end up to a minute late."""

import tensorflow as tf

from keras_apps.data.autotune import without_autotune
from keras_apps.training.runner import shard_by_data


def test_a_pipeline_keeps_its_elements_and_loses_only_autotuning():
    dataset = tf.data.Dataset.range(10).map(lambda x: 2 * x, num_parallel_calls=tf.data.AUTOTUNE).batch(4)
    assert dataset.options().autotune.enabled is None  # tf.data's default: on
    tuned = without_autotune(dataset)
    assert tuned.options().autotune.enabled is False
    assert [batch.tolist() for batch in tuned.as_numpy_iterator()] == [[0, 2, 4, 6], [8, 10, 12, 14], [16, 18]]


def test_every_dataset_fit_reads_is_sharded_by_data_without_autotuning():
    options = shard_by_data(tf.data.Dataset.range(3)).options()
    assert options.autotune.enabled is False
    assert options.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
