import keras
import numpy as np
import pytest

from keras_apps.models.fusion import build_digit_fusion
from keras_apps.models.fusion import FUSIONS, GatedUnit, ModalityDropout, Presence, ProductOfExperts, outputs

SMALL = dict(width=8, image_filters=(4,), audio_filters=(4,), num_mel_bins=8)


def inputs(image_missing=(), audio_missing=(), batch=4, seed=0):
    """A batch of random images and recordings (1,000-3,000 samples); the rows named have that sense missing."""
    generator = np.random.default_rng(seed)
    image = generator.integers(1, 256, (batch, 28, 28)).astype(np.uint8)
    lengths = generator.integers(1000, 3000, batch).astype(np.int32)
    audio = generator.normal(0, 0.3, (batch, 3000)).astype(np.float32)
    image[list(image_missing)] = 0
    lengths[list(audio_missing)] = 0
    audio[np.arange(3000) >= lengths[:, None]] = 0
    return {"image": image, "audio": audio, "lengths": lengths}


def perturb(model, encoder):
    """Scrambles the projection weights of one sense's encoder."""
    layer = model.get_layer(encoder).get_layer("project")
    kernel, bias = layer.get_weights()
    layer.set_weights([np.random.default_rng(1).normal(size=kernel.shape).astype(np.float32), bias + 1])


@pytest.mark.parametrize("fusion", FUSIONS)
def test_a_missing_sense_has_no_say_in_the_answer(fusion):
    model = build_digit_fusion(fusion, **SMALL)
    batch = inputs(image_missing=[1], audio_missing=[2])
    before = np.asarray(model(batch, training=False)["digit"])
    assert before.shape == (4, 10)
    perturb(model, "image_encoder")
    after_image = np.asarray(model(batch, training=False)["digit"])
    np.testing.assert_allclose(after_image[1], before[1], atol=1e-5)  # no image: the image's weights do not matter
    assert not np.allclose(after_image[[0, 2, 3]], before[[0, 2, 3]], atol=1e-3)
    perturb(model, "audio_encoder")
    after_audio = np.asarray(model(batch, training=False)["digit"])
    np.testing.assert_allclose(after_audio[2], after_image[2], atol=1e-5)
    assert not np.allclose(after_audio[[0, 1, 3]], after_image[[0, 1, 3]], atol=1e-3)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_a_fusion_also_outputs_each_sense_s_own_guess(fusion):
    model = build_digit_fusion(fusion, **SMALL)
    batch, other_audio = inputs(), inputs(seed=1)
    other_audio["image"] = batch["image"]
    first, second = model(batch, training=False), model(other_audio, training=False)
    assert set(first) == set(outputs(fusion)) == {"digit", "image_digit", "audio_digit"}
    np.testing.assert_allclose(second["image_digit"], first["image_digit"], atol=1e-6)  # the image's guess...
    assert not np.allclose(second["audio_digit"], first["audio_digit"], atol=1e-3)  # ...hears nothing
    assert outputs("image") == ("digit",)


@pytest.mark.parametrize("sense, other", [("image", "audio"), ("audio", "image")])
def test_one_sense_alone_ignores_the_other(sense, other):
    model = build_digit_fusion(sense, **SMALL)
    assert [layer.name for layer in model.layers if layer.name.endswith("_encoder")] == [f"{sense}_encoder"]
    batch, changed = inputs(), inputs(seed=1)
    changed[sense] = batch[sense]
    if sense == "audio":
        changed["lengths"] = batch["lengths"]
    np.testing.assert_allclose(model(changed, training=False)["digit"], model(batch, training=False)["digit"],
                               atol=1e-5)


def test_presence_is_ink_and_samples():
    image = np.zeros((3, 28, 28), np.uint8)
    image[0, 5, 5] = 1
    present = Presence()(image, np.array([0, 7, 0], np.int32))
    np.testing.assert_array_equal(present, [[1, 0], [0, 1], [0, 0]])


def test_modality_dropout_hides_one_sense_of_pairs_in_training_only():
    present = np.tile(np.array([[1, 1], [1, 0], [0, 1]], np.float32), (2000, 1))
    layer = ModalityDropout(0.4, seed=0)
    np.testing.assert_array_equal(layer(present), present)
    hidden = np.asarray(layer(present, training=True))
    assert (hidden.sum(axis=1) >= 1).all()  # never both
    np.testing.assert_array_equal(hidden[1::3], present[1::3])  # a lone sense is never hidden
    pairs = hidden[0::3]
    assert 0.37 < (pairs.sum(axis=1) == 1).mean() < 0.43
    assert 0.45 < pairs[pairs.sum(axis=1) == 1][:, 0].mean() < 0.55  # either sense equally often


def test_the_gate_gives_a_lone_sense_the_whole_say_and_experts_multiply():
    generator = np.random.default_rng(0)
    h_image, h_audio = generator.normal(size=(3, 6)).astype(np.float32), generator.normal(size=(3, 6)).astype(
        np.float32)
    present = np.array([[1, 1], [1, 0], [0, 1]], np.float32)
    unit = GatedUnit(5)
    fused = np.asarray(unit(h_image, h_audio, present))
    np.testing.assert_allclose(fused[1], unit.image_view(h_image)[1], atol=1e-6)
    np.testing.assert_allclose(fused[2], unit.audio_view(h_audio)[2], atol=1e-6)
    assert np.all(np.minimum(np.abs(fused[0] - unit.image_view(h_image)[0]),
                             np.abs(fused[0] - unit.audio_view(h_audio)[0])) > 0)  # a mixture of the two views
    logits = ProductOfExperts()(h_image[:, :5], h_audio[:, :5], present)
    log_image, log_audio = keras.ops.log_softmax(h_image[:, :5]), keras.ops.log_softmax(h_audio[:, :5])
    np.testing.assert_allclose(logits, [log_image[0] + log_audio[0], log_image[1], log_audio[2]], atol=1e-5)


def test_a_saved_fusion_reloads_with_the_same_outputs(tmp_path):
    model = build_digit_fusion("gated", seed=3, **SMALL)
    batch = inputs(image_missing=[0], audio_missing=[3])
    model.save(tmp_path / "fusion.keras")
    reloaded = keras.saving.load_model(tmp_path / "fusion.keras")
    for name, logits in model(batch, training=False).items():
        np.testing.assert_allclose(reloaded(batch, training=False)[name], logits, atol=1e-5)


def test_an_unknown_fusion_is_refused():
    with pytest.raises(ValueError, match="fusion must be one of"):
        build_digit_fusion("average")


def test_early_fusion_reads_which_senses_are_present_beside_their_features():
    """A missing sense's features are 0, as a present one's may be: the flags tell the two apart."""
    model = build_digit_fusion("early", **SMALL)
    assert model.get_layer("fuse").kernel.shape == (2 * SMALL["width"] + 2, SMALL["width"])


def test_a_seeded_fusion_hides_the_same_senses_each_time_it_is_built():
    present = np.ones((64, 2), np.float32)
    hidden = [np.asarray(build_digit_fusion("early", seed=3, **SMALL).get_layer("modality_dropout")(
        present, training=True)) for _ in range(2)]
    np.testing.assert_array_equal(hidden[0], hidden[1])
    assert 0 < (hidden[0].sum(axis=1) == 1).sum() < 64
