import keras
import numpy as np
import pytest

from keras_apps.explain.integrated_gradients import integrated_gradients


def test_a_linear_function_gets_weight_times_input_exactly():
    weights = np.array([2.0, -1.0, 0.5], "float32")
    attribution = integrated_gradients(lambda x: keras.ops.sum(x * weights, axis=-1), [1.0, 3.0, -2.0], steps=4)
    np.testing.assert_allclose(attribution.values, [2.0, -3.0, -1.0], rtol=1e-6)
    assert attribution.output == pytest.approx(-2.0) and attribution.completeness_gap < 1e-5


def test_completeness_holds_for_a_small_network():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(1)])
    inputs, baseline = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    attribution = integrated_gradients(lambda x: model(x)[:, 0], inputs, baseline, steps=128)
    change = attribution.output - attribution.baseline_output
    assert abs(change) > 0.05 and attribution.completeness_gap < 0.01 * abs(change) + 1e-4
    assert integrated_gradients(lambda x: model(x)[:, 0], inputs, baseline, steps=2).completeness_gap >= \
        attribution.completeness_gap


def test_a_toy_image_model_attributes_to_the_pixels_it_reads():
    mask = np.zeros((6, 6), "float32")
    mask[1:3, 1:3] = 1.0  # The model's output is the brightness of this corner patch, nothing else.
    image = np.random.default_rng(1).uniform(0.2, 1.0, (6, 6)).astype("float32")
    attribution = integrated_gradients(lambda x: keras.ops.sum(x * mask, axis=(1, 2)) ** 2, image)
    assert np.all(attribution.values[mask == 0] == 0) and np.all(attribution.values[mask == 1] > 0)
    assert attribution.completeness_gap < 1e-3
