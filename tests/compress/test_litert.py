import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.compress import litert
from keras_apps.errors import UserError
from keras_apps.export.saved_model import write_saved_model
from keras_apps.inference.serving import classifier_endpoint
from keras_apps.models.convnet import build_convnet

IMAGES = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")
# How far each variant's probabilities may stray from the float model's.
TOLERANCE = {"float32": 1e-5, "dynamic-range": 0.03, "float16": 0.01, "int8": 0.06}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = build_convnet(filters=(4, 8), dropout=0.0)
    path = tmp_path_factory.mktemp("saved_model") / "model"
    write_saved_model(model, path, {"serving_default": classifier_endpoint(model, IMAGES)})
    images = np.random.default_rng(0).integers(0, 256, (40, 28, 28), dtype=np.uint8)
    return model, path, images


@pytest.mark.parametrize("variant", litert.VARIANTS)
def test_each_variant_converts_loads_and_predicts_like_the_float_model(variant, exported, capfd, monkeypatch):
    model, path, images = exported
    representative = [{"images": images[index:index + 1]} for index in range(20)]
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")  # as every command sets it: LiteRT's notes are not shown
    content = litert.convert(path, variant, representative=representative if variant == "int8" else None)
    outputs = litert.LiteRTModel(content)(images=images)
    err = capfd.readouterr().err
    assert "fully_quantize" not in err and "INFO: " not in err
    expected = tf.nn.softmax(model(images)).numpy()
    np.testing.assert_allclose(outputs["probabilities"], expected, atol=TOLERANCE[variant])
    assert outputs["class"].shape == (40,) and outputs["class"].dtype == np.int32


def test_smaller_variants_are_smaller(exported):
    _, path, images = exported
    sizes = {variant: len(litert.convert(path, variant, representative=[{"images": images[:1]}]))
             for variant in litert.VARIANTS}
    assert sizes["int8"] < sizes["float16"] < sizes["float32"]
    assert sizes["dynamic-range"] < sizes["float16"]


def test_int8_without_a_representative_dataset_is_a_clear_error(exported):
    _, path, _ = exported
    with pytest.raises(UserError, match="needs a representative dataset"):
        litert.convert(path, "int8")
    with pytest.raises(UserError, match="it is empty"):
        litert.convert(path, "int8", representative=[])


def test_a_missing_saved_model_or_signature_is_one_line(exported, tmp_path):
    _, path, _ = exported
    with pytest.raises(UserError, match="conversion of .* failed") as error:
        litert.convert(tmp_path / "nothing", "float32")
    assert "\n" not in str(error.value)
    with pytest.raises(UserError):
        litert.convert(path, "float32", signature="generate")


def test_a_corrupt_file_and_a_missing_input_are_clear_errors(exported):
    _, path, _ = exported
    with pytest.raises(UserError, match="cannot load the LiteRT model"):
        litert.LiteRTModel(b"not a flatbuffer at all" * 4)
    model = litert.LiteRTModel(litert.convert(path, "float32"))
    with pytest.raises(UserError, match="needs the input 'images'"):
        model(pixels=np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(UserError, match="no 'score' signature"):
        litert.LiteRTModel(litert.convert(path, "float32"), signature="score")
