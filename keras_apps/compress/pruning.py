"""Magnitude pruning for Keras 3: a polynomial sparsity schedule, applied during fine-tuning by a callback.

TF-MOT's `prune_low_magnitude` wraps layers and rejects Keras 3 models (tensorflow/model-optimization#1119).
Here nothing wraps the model: a callback keeps a 0/1 mask per weight matrix and, after every training step,
multiplies each matrix by its mask, so the next step's forward pass sees the pruned network. Every
`frequency` steps the masks are recomputed to zero the smallest-magnitude weights of each matrix, up to the
schedule's sparsity at that step (Zhu & Gupta, 2017: s_t = s_f + (s_i - s_f) (1 - progress)^3).

The model stays a plain Keras model throughout; `strip_pruning` drops what only training needed (the
optimizer and its moment estimates, which pruned weights still carry) and leaves a model whose zeros
survive saving and conversion. Zeros take the same room in a dense file until it is compressed: report the
gzip'd size (`keras_apps.compress.measure.file_sizes`).
"""

from dataclasses import dataclass

import keras
import numpy as np

from keras_apps.errors import UserError


@dataclass(frozen=True)
class PolynomialSparsity:
    """The target sparsity at each step: `initial` at `begin_step`, rising to `final` at `end_step`."""

    final: float
    end_step: int
    begin_step: int = 0
    initial: float = 0.0
    power: float = 3.0
    frequency: int = 100

    def __post_init__(self):
        for name in ("initial", "final"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise UserError(f"sparsity must be in [0, 1), got {name} {value}")
        if self.initial > self.final:
            raise UserError(f"the initial sparsity {self.initial} exceeds the final {self.final}")
        if self.end_step <= self.begin_step:
            raise UserError(f"pruning must end after it begins (steps {self.begin_step} to {self.end_step})")
        if self.frequency < 1:
            raise UserError(f"the pruning frequency must be at least 1 step, got {self.frequency}")

    def __call__(self, step):
        """The sparsity to prune to after training step `step` (counted from 1)."""
        progress = min(max((step - self.begin_step) / (self.end_step - self.begin_step), 0.0), 1.0)
        return self.final + (self.initial - self.final) * (1 - progress) ** self.power

    def updates_at(self, step):
        """Whether the masks are recomputed after step `step`: every `frequency` steps, and at the end."""
        return self.begin_step <= step <= self.end_step and (
            (step - self.begin_step) % self.frequency == 0 or step == self.end_step
        )


def prunable_weights(model):
    """The kernels of the model's dense and convolution layers: the weight matrices pruning thins out.

    Biases, normalization parameters and embeddings stay dense, as in TF-MOT's defaults.
    """
    prunable = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
                keras.layers.EinsumDense)
    return [layer.kernel for layer in _layers(model) if isinstance(layer, prunable)]


def _layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def magnitude_mask(weights, sparsity):
    """A 0/1 mask that zeroes the `sparsity` share of `weights` with the smallest magnitude."""
    magnitudes = np.abs(weights).ravel()
    pruned = round(sparsity * magnitudes.size)
    mask = np.ones(magnitudes.size, weights.dtype)
    if pruned:
        mask[np.argpartition(magnitudes, pruned - 1)[:pruned]] = 0
    return mask.reshape(weights.shape)


class MagnitudePruning(keras.callbacks.Callback):
    """Prunes the model's kernels to `schedule`'s sparsity while it trains.

    Train with `steps_per_execution=1`: the masks are re-applied after each call into the compiled step,
    so with several steps per call the pruned weights would regrow inside it.
    """

    def __init__(self, schedule, weights=None):
        super().__init__()
        self.schedule = schedule
        self._weights = weights
        self.masks = None
        self.step = 0

    def on_train_begin(self, logs=None):
        if self._weights is None:
            self._weights = prunable_weights(self.model)
        if not self._weights:
            raise UserError(f"{self.model.name} has no dense or convolution kernels to prune")
        if self.masks is None:
            self.masks = [np.ones(variable.shape, variable.dtype) for variable in self._weights]

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.schedule.updates_at(self.step):
            sparsity = self.schedule(self.step)
            self.masks = [magnitude_mask(variable.numpy(), sparsity) for variable in self._weights]
        self._apply()

    def on_train_end(self, logs=None):
        self._apply()

    def _apply(self):
        for variable, mask in zip(self._weights, self.masks):
            variable.assign(variable.numpy() * mask)


def strip_pruning(model):
    """A plain copy of `model` with its (pruned) weights and no optimizer state, ready to save or convert."""
    stripped = type(model).from_config(model.get_config())
    stripped.set_weights(model.get_weights())
    return stripped


def sparsity_by_layer(model):
    """`{kernel path: share of exact zeros}` for each prunable kernel of `model`."""
    return {variable.path: float(np.mean(variable.numpy() == 0)) for variable in prunable_weights(model)}
