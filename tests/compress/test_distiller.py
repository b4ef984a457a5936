import keras
import numpy as np
import pytest

from keras_apps.compress.distiller import Distiller


def classifier(width, seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,))
    x = keras.layers.Dense(width, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(3)(x))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 6)).astype("float32")
    return x, np.argmax(x[:, :3], axis=1)  # The label is the largest of the first three features.


@pytest.fixture(scope="module")
def teacher(data):
    model = classifier(32, seed=1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(*data, epochs=20, batch_size=64, verbose=0)
    assert model.evaluate(*data, verbose=0, return_dict=True)["accuracy"] > 0.9
    return model


def test_the_distillation_loss_is_zero_when_the_student_matches_and_grows_with_the_gap():
    distiller = Distiller(classifier(4, 0), classifier(4, 1), temperature=2.0)
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], "float32")
    assert float(distiller.distillation_loss(logits, logits)) == pytest.approx(0.0, abs=1e-6)
    assert 0 < float(distiller.distillation_loss(logits, logits * 0.5)) < float(
        distiller.distillation_loss(logits, -logits))


def identity():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Identity()(inputs))


def test_the_loss_is_alpha_of_the_label_loss_and_the_rest_of_t_squared_times_the_kl():
    teacher_logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], "float32")
    student_logits = np.array([[1.0, 1.0, 0.0], [-1.0, 2.0, 0.5]], "float32")
    labels = np.array([0, 2])
    distiller = Distiller(identity(), identity(), temperature=2.0, alpha=0.25)  # the teacher passes x on
    distiller.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def softmax(logits):
        exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exponentials / exponentials.sum(axis=1, keepdims=True)

    teacher, student = softmax(teacher_logits / 2), softmax(student_logits / 2)
    kl = np.mean(np.sum(teacher * np.log(teacher / student), axis=1))
    assert float(distiller.distillation_loss(teacher_logits, student_logits)) == pytest.approx(4 * kl, rel=1e-5)
    label_loss = -np.mean(np.log(softmax(student_logits)[np.arange(2), labels]))
    loss = distiller.compute_loss(teacher_logits, labels, student_logits)
    assert float(loss) == pytest.approx(0.25 * label_loss + 0.75 * 4 * kl, rel=1e-5)


def dropping():
    inputs = keras.Input((3,))
    return keras.Model(inputs, keras.layers.Dropout(0.5)(inputs))


def test_the_student_trains_with_its_dropout_and_the_teacher_predicts_without_its_own():
    keras.utils.set_random_seed(0)
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0], [1.0, 2.0, 3.0], [-1.0, 0.0, 1.0]], "float32")
    distiller = Distiller(dropping(), dropping(), temperature=2.0, alpha=0.0)  # the distillation loss alone
    distiller.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    np.testing.assert_allclose(distiller(logits, training=False), logits)
    assert not np.allclose(distiller(logits, training=True), logits)
    # The student's logits equal the teacher's as it predicts: nothing to learn, whatever dropout would draw.
    for _ in range(3):
        assert float(distiller.compute_loss(logits, np.zeros(4, int), logits)) == pytest.approx(0.0, abs=1e-6)


def test_sample_weights_weigh_the_true_label_loss():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]], "float32")
    labels, weights = np.array([0, 0]), np.array([1.0, 0.0], "float32")
    label_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    distiller = Distiller(identity(), identity(), temperature=2.0, alpha=1.0)  # the true-label loss alone
    distiller.compile(loss=label_loss)
    weighted = float(distiller.compute_loss(logits, labels, logits, sample_weight=weights))
    assert weighted == pytest.approx(float(label_loss(labels, logits, sample_weight=weights)), rel=1e-5)
    assert weighted != pytest.approx(float(distiller.compute_loss(logits, labels, logits)), rel=1e-3)


@pytest.mark.parametrize("settings", [dict(temperature=0.0), dict(alpha=1.5), dict(alpha=-0.5)])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError):
        Distiller(classifier(4, 0), classifier(4, 1), **settings)


def test_the_student_learns_from_the_teacher_and_saves_alone(data, teacher, tmp_path):
    x, y = data
    frozen = [weight.numpy().copy() for weight in teacher.weights]
    student = classifier(8, seed=2)
    distiller = Distiller(student, teacher, temperature=3.0, alpha=0.0)  # The teacher's outputs only.
    assert {id(weight) for weight in distiller.trainable_weights} == {id(weight) for weight in student.weights}
    distiller.compile(optimizer=keras.optimizers.Adam(1e-2),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = distiller.fit(x, y, epochs=15, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert distiller.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] > 0.85
    for before, after in zip(frozen, teacher.weights):
        np.testing.assert_array_equal(before, after.numpy())

    student.save(tmp_path / "student.keras")
    reloaded = keras.saving.load_model(tmp_path / "student.keras")
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), distiller.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
