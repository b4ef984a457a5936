import keras
import numpy as np
import pytest

from keras_apps.compress.pruning import (
    MagnitudePruning, PolynomialSparsity, magnitude_mask, prunable_weights, sparsity_by_layer, strip_pruning,
)
from keras_apps.errors import UserError


def test_the_schedule_rises_polynomially_from_initial_to_final():
    schedule = PolynomialSparsity(final=0.8, end_step=100, begin_step=10, frequency=30)
    assert schedule(0) == schedule(10) == 0.0
    assert schedule(100) == schedule(500) == pytest.approx(0.8)
    assert schedule(55) == pytest.approx(0.8 * (1 - 0.5**3))
    values = [schedule(step) for step in range(0, 120)]
    assert values == sorted(values)
    assert [step for step in range(200) if schedule.updates_at(step)] == [10, 40, 70, 100]


@pytest.mark.parametrize("settings", [
    dict(final=1.0, end_step=10), dict(final=-0.1, end_step=10), dict(final=0.5, initial=0.6, end_step=10),
    dict(final=0.5, end_step=5, begin_step=5), dict(final=0.5, end_step=10, frequency=0),
])
def test_impossible_schedules_are_clear_errors(settings):
    with pytest.raises(UserError):
        PolynomialSparsity(**settings)


def test_the_mask_zeroes_exactly_the_smallest_weights():
    weights = np.array([[0.5, -0.1], [0.05, -2.0], [0.3, 0.0]], np.float32)
    mask = magnitude_mask(weights, 0.5)
    assert mask.sum() == 3 and mask.tolist() == [[1, 0], [0, 1], [1, 0]]
    assert magnitude_mask(weights, 0.0).all()


def test_the_mask_rounds_the_share_to_the_nearest_count_of_weights():
    assert magnitude_mask(np.array([1.0, 2.0, 3.0]), 0.3).tolist() == [0, 1, 1]  # 0.9 of a weight: one
    assert magnitude_mask(np.array([1.0, 2.0, 3.0]), 0.1).all()  # 0.3 of a weight: none


def small_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(16, activation="relu", name="hidden")(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x))


def test_training_reaches_the_scheduled_sparsity_and_stripping_keeps_the_zeros(tmp_path):
    model = small_model()
    assert [weight.path for weight in prunable_weights(model)] == ["conv/kernel", "hidden/kernel", "logits/kernel"]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 256)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    pruning = MagnitudePruning(PolynomialSparsity(final=0.75, end_step=24, frequency=8))
    model.fit(x, y, batch_size=32, epochs=4, callbacks=[pruning], verbose=0)  # 32 steps, 8 at full sparsity
    for sparsity in sparsity_by_layer(model).values():
        assert sparsity == pytest.approx(0.75, abs=0.01)

    stripped = strip_pruning(model)
    assert stripped is not model and getattr(stripped, "optimizer", None) is None
    np.testing.assert_allclose(stripped.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)
    stripped.save(tmp_path / "pruned.keras")
    reloaded = keras.saving.load_model(tmp_path / "pruned.keras")
    assert sparsity_by_layer(reloaded) == sparsity_by_layer(model)


def test_a_model_without_kernels_cannot_be_pruned():
    model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization()])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(UserError, match="no dense or convolution kernels"):
        model.fit(np.ones((8, 4)), np.ones((8, 4)), verbose=0,
                  callbacks=[MagnitudePruning(PolynomialSparsity(final=0.5, end_step=2))])


def test_the_kernels_of_a_model_nested_in_another_are_pruned_too():
    inner, outer = keras.layers.Dense(3), keras.layers.Dense(2)
    model = keras.Sequential([keras.Input((4,)), keras.Sequential([keras.Input((4,)), inner]), outer])
    assert [weight.path for weight in prunable_weights(model)] == [inner.kernel.path, outer.kernel.path]
