"""Keras 3 `fit` on a `MultiWorkerMirroredStrategy` cluster: the two upstream faults, and a model that avoids them.

Keras 3's TensorFlow trainer fails on a multi-worker cluster with `ValueError: Attempt to convert a value
(PerReplica:{…})` (keras-team/keras#20585, tensorflow/tensorflow#72388). It fails in two places of
`keras/src/backend/tensorflow/trainer.py`, both reductions across replicas that only work for one worker:

1. `_maybe_symbolic_build` builds the optimizer and metrics from the first distributed batch, which it first
   reduces with `strategy.reduce("MEAN", batch, axis=None)`. `MirroredStrategy` reduces a nest of values leaf by
   leaf; the collective reduction of the multi-worker strategy converts its argument to one tensor, and an
   `(inputs, targets)` pair of `PerReplica` values is not one. Building only needs the batch's structure,
   shapes and dtypes, so `MultiWorkerModel` builds from this worker's first replica's share of the batch.
2. `reduce_per_replica` reduces what each step returns with `strategy.reduce("MEAN", value, axis=0)` on a
   multi-worker cluster, which fails for the scalar logs ("Invalid reduction dimension 0"). The logs are metric
   results, which are the same on every replica (Keras metric variables sum their updates across replicas), so
   `MultiWorkerModel`'s steps return each one with a leading axis of one: the mean along that axis over all
   replicas is the value itself, and `fit` sees the same scalars as on one worker.

The training step itself (gradients all-reduced across workers, every replica's variables updated alike) is
`tf.distribute`'s own and is not touched.
"""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_apps")
class MultiWorkerModel(keras.Model):
    """A functional model whose `fit` and `evaluate` work on a multi-worker cluster.

    Wrap a built functional model around the same layers, in the strategy's scope:
    `MultiWorkerModel(model.input, model.output, name=model.name)`.
    """

    def train_step(self, data):
        return _with_leading_axis(super().train_step(data))

    def test_step(self, data):
        return _with_leading_axis(super().test_step(data))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        if iterator is not None and data_batch is None:
            for _, _, batches in iterator:
                data_batch = keras.tree.map_structure(self._first_replica_share, next(batches))
                break
        super()._maybe_symbolic_build(data_batch=data_batch)

    def _first_replica_share(self, value):
        if isinstance(value, tf.distribute.DistributedValues):
            return self.distribute_strategy.experimental_local_results(value)[0]
        return value


def _with_leading_axis(logs):
    return keras.tree.map_structure(lambda value: tf.expand_dims(value, 0), logs)
