import numpy as np

from keras_apps.models.mlp import build_mlp


def test_parameter_count_follows_the_layer_sizes():
    assert build_mlp(hidden_units=(128,)).count_params() == 784 * 128 + 128 + 128 * 10 + 10
    assert build_mlp(hidden_units=()).count_params() == 784 * 10 + 10  # Logistic regression on pixels.


def test_takes_raw_uint8_images_and_names_its_layers():
    model = build_mlp(input_shape=(8, 8, 3), num_classes=4, hidden_units=(16, 8), dropout=0.2)
    images = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    logits = model.predict(images, verbose=0)
    assert logits.shape == (2, 4) and np.isfinite(logits).all()
    assert [layer.name for layer in model.layers] == [
        "images", "rescale", "flatten", "hidden1", "dropout1", "hidden2", "dropout2", "logits"
    ]
