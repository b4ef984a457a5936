"""Integrated gradients (Sundararajan et al., 2017): how much each input feature moved the output.

Along the straight path from a baseline (a black image, a zero embedding: "no information") to the input,
the gradient of the explained output is averaged and multiplied by the input's distance from the baseline.
The attributions then sum to the output's change from baseline to input (completeness), up to the error of
the path integral's numerical estimate, which `completeness_gap` reports: more steps, a smaller gap.
"""

from dataclasses import dataclass

import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class Attribution:
    """Per-feature attributions (the input's shape), and the outputs at the input and at the baseline."""

    values: np.ndarray
    output: float
    baseline_output: float

    @property
    def completeness_gap(self):
        """|sum of attributions - (output - baseline output)|: zero for the exact integral."""
        return abs(float(self.values.sum()) - (self.output - self.baseline_output))


def integrated_gradients(function, inputs, baseline=None, steps=64):
    """Attributions of `function`'s output at `inputs` (one example, no batch axis).

    Args:
        function: maps a float batch `[n, *inputs.shape]` to one explained output per example, `[n]`
            (a class's logit, say).
        baseline: the reference input (default: zeros).
        steps: trapezoids along the path; the gradients of `steps + 1` points are computed in one batch.
    """
    inputs = tf.convert_to_tensor(inputs, tf.float32)
    baseline = tf.zeros_like(inputs) if baseline is None else tf.convert_to_tensor(baseline, tf.float32)
    alphas = tf.reshape(tf.linspace(0.0, 1.0, steps + 1), [-1] + [1] * inputs.shape.rank)
    path = baseline[None] + alphas * (inputs - baseline)[None]
    with tf.GradientTape() as tape:
        tape.watch(path)
        outputs = function(path)
    gradients = tape.gradient(outputs, path)
    average = tf.reduce_mean((gradients[:-1] + gradients[1:]) / 2, axis=0)
    return Attribution(
        values=((inputs - baseline) * average).numpy(),
        output=float(outputs[-1]),
        baseline_output=float(outputs[0]),
    )
