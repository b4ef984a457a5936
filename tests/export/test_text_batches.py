"""The reward and translation exports, reloaded, take a batch of texts and nothing else: their signatures say
`string [batch]`, and a reloaded signature does not check shapes, so the graph refuses a scalar (answered as a
batch of one) and a matrix (answered flattened) itself."""

import pytest
import tensorflow as tf

from keras_apps.export.saved_model import export_model
from keras_apps.inference.serving import reward_endpoint
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.preference.models import build_reward_model
from keras_apps.text.wordpieces import WordPieceText
from tests.export.test_translation_export import exported  # noqa: F401 - the tiny translation export

NOT_A_BATCH = [tf.constant("a film"), tf.constant([["a film"], ["worse"]])]


@pytest.fixture(scope="module")
def score(tmp_path_factory):
    tokenizer = WordPieceText.from_text("a wonderful film with wonderful actors, worse than bad. " * 20, size=150)
    config = GPTConfig(tokenizer.vocabulary_size(), context_length=8, num_layers=1, num_heads=2, hidden_dim=16)
    reward_model = build_reward_model(build_gpt(config))
    score, signature = reward_endpoint(reward_model, tokenizer, 8)
    path = export_model(reward_model, tmp_path_factory.mktemp("reward"),
                        {"score": (tf.function(score, input_signature=signature), signature)}, track=[tokenizer])
    return tf.saved_model.load(str(path)).signatures["score"]


@pytest.fixture(scope="module")
def translate(exported):  # noqa: F811
    return tf.saved_model.load(str(exported[0])).signatures["translate"]


@pytest.mark.parametrize("texts", NOT_A_BATCH)
def test_the_reloaded_reward_export_takes_only_a_batch(score, texts):
    assert score(texts=tf.constant(["a film", "worse"]))["reward"].shape == (2,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="is not compatible with expected shape \\[\\?\\]"):
        score(texts=texts)


@pytest.mark.parametrize("sentences", NOT_A_BATCH)
def test_the_reloaded_translation_export_takes_only_a_batch(translate, sentences):
    assert translate(sentences=tf.constant(["Tom is tall."]))["translations"].shape == (1,)
    with pytest.raises(tf.errors.InvalidArgumentError, match="is not compatible with expected shape \\[\\?\\]"):
        translate(sentences=sentences)
