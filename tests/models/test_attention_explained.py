"""The written-out Transformer computes what the library computes: each layer, given its library counterpart's
weights, gives the same outputs to float tolerance (attention, positions, encoder and decoder blocks with
padding, causal and cross-attention masks, and decoding with caches)."""

import dataclasses

import keras
import keras_hub
import numpy as np
import pytest
from keras import ops

from keras_apps.explain.attention import cross_attention
from keras_apps.inference import translation
from keras_apps.inference.text_generation import TextGenerator, build_sampler
from keras_apps.inference.translation import Translator
from keras_apps.models import attention_explained as explained
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.models.transformer import build_transformer_classifier
from keras_apps.models.translator import TranslatorConfig, build_translator

TOLERANCE = dict(rtol=1e-5, atol=1e-5)
rng = np.random.default_rng(0)
SOURCE = rng.normal(size=(2, 7, 16)).astype("float32")
TARGET = rng.normal(size=(2, 5, 16)).astype("float32")
SOURCE_PADDING = np.array([[True] * 7, [True] * 4 + [False] * 3])  # the second sentence has 4 tokens
TARGET_PADDING = np.array([[True] * 5, [True] * 3 + [False] * 2])


def close(actual, expected):
    np.testing.assert_allclose(ops.convert_to_numpy(actual), ops.convert_to_numpy(expected), **TOLERANCE)


def randomize(layer):
    """Weights far from their initial values (biases and norms included), so that every one of them counts."""
    layer.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in layer.get_weights()])


def carry_over(library_layer, written_layer):
    """The library layer's weights into the written-out one: same shapes, same order."""
    assert [w.shape for w in written_layer.weights] == [w.shape for w in library_layer.weights]
    written_layer.set_weights(library_layer.get_weights())


def test_scaled_dot_product_attention_is_the_softmax_of_the_scaled_scores():
    q, k, v = (rng.normal(size=(1, n, 1, 4)).astype("float32") for n in (2, 3, 3))
    output, weights = explained.scaled_dot_product_attention(q, k, v, mask=np.array([[[True, True, False]] * 2]))
    scores = q[0, :, 0] @ k[0, :, 0].T / 2  # √d_k = 2
    expected = np.exp(scores[:, :2]) / np.exp(scores[:, :2]).sum(axis=1, keepdims=True)
    close(weights[0, 0, :, :2], expected)
    close(weights[0, 0, :, 2], np.zeros(2))  # the masked key gets no weight
    close(output[0, :, 0], expected @ v[0, :2, 0])


def test_the_causal_mask_lets_a_position_read_itself_and_earlier_positions():
    np.testing.assert_array_equal(ops.convert_to_numpy(explained.causal_mask(3, 3)), np.tril(np.ones((3, 3), bool)))
    one_step = ops.convert_to_numpy(explained.causal_mask(1, 5, start=2))  # the third token, against a cache
    np.testing.assert_array_equal(one_step, [[True, True, True, False, False]])


@pytest.mark.parametrize("source", [TARGET, SOURCE], ids=["self-attention", "cross-attention"])
def test_multi_head_attention_equals_keras(source):
    library = keras.layers.MultiHeadAttention(num_heads=4, key_dim=4)
    library(TARGET, source)
    randomize(library)
    written = explained.MultiHeadAttention(num_heads=4)
    written(TARGET, source)
    carry_over(library, written)
    mask = np.broadcast_to(np.array([True] * (source.shape[1] - 2) + [False] * 2), (2, 5, source.shape[1]))
    expected, expected_weights = library(TARGET, source, attention_mask=mask, return_attention_scores=True)
    output, weights = written(TARGET, source, attention_mask=mask, return_weights=True)
    close(output, expected)
    close(weights, expected_weights)


def test_attention_dropout_drops_weights_while_training_only():
    attention = explained.MultiHeadAttention(num_heads=4, dropout=0.5)
    trained, inferred = (ops.convert_to_numpy(attention(TARGET, SOURCE, training=training, return_weights=True)[1])
                         for training in (True, False))
    assert (trained == 0).any() and not np.allclose(trained.sum(axis=-1), 1)  # kept weights scaled up by 2
    close(inferred.sum(axis=-1), np.ones(inferred.shape[:-1]))


def test_residual_dropout_changes_a_block_output_while_training_only():
    block = explained.TransformerEncoder(intermediate_dim=32, num_heads=4, dropout=0.5)
    block(SOURCE)
    block.self_attention.attention_dropout.rate = 0.0  # only the residual dropout left to change anything
    close(block(SOURCE, training=False), block(SOURCE))
    assert not np.allclose(ops.convert_to_numpy(block(SOURCE, training=True)), ops.convert_to_numpy(block(SOURCE)))


def test_a_query_with_every_key_masked_stays_finite_in_float16():
    """float16 cannot hold -1e9: as -inf, the scores of a query with nothing to read would soften to NaN."""
    q, k, v = (rng.normal(size=(1, n, 1, 4)).astype("float16") for n in (2, 3, 3))
    mask = np.array([[[True, True, False], [False, False, False]]])  # the second query may read no key
    output, weights = explained.scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.isfinite(ops.convert_to_numpy(output)).all() and np.isfinite(ops.convert_to_numpy(weights)).all()


@pytest.mark.parametrize("start_index", [0, 3])
def test_sinusoidal_positions_equal_keras_hub(start_index):
    inputs = np.zeros((2, 6, 10), "float32")
    close(explained.SinusoidalPositionEncoding()(inputs, start_index=start_index),
          keras_hub.layers.SinePositionEncoding()(inputs, start_index=start_index))
    encoding = ops.convert_to_numpy(explained.SinusoidalPositionEncoding()(inputs))[0]
    assert encoding[3, 0] == pytest.approx(np.sin(3)) and encoding[3, 1] == pytest.approx(np.cos(3))  # i = 0


def test_learned_positions_equal_keras_hub():
    library = keras_hub.layers.PositionEmbedding(sequence_length=9)
    library(TARGET)
    randomize(library)
    written = explained.LearnedPositionEmbedding(sequence_length=9)
    written(TARGET)
    carry_over(library, written)
    for start in (0, 4):
        close(written(TARGET, start_index=start), library(TARGET, start_index=start))


def block_pair(kind, normalize_first, **call):
    """A keras-hub block with random weights and the written-out block carrying them, both built by `call`."""
    settings = dict(intermediate_dim=32, num_heads=4, activation="gelu", normalize_first=normalize_first)
    library = getattr(keras_hub.layers, kind)(**settings)
    written = getattr(explained, kind)(**settings)
    library(**call)
    written(**call)
    randomize(library)
    carry_over(library, written)
    return library, written


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_an_encoder_block_with_padding_equals_keras_hub(normalize_first):
    library, written = block_pair("TransformerEncoder", normalize_first, inputs=SOURCE)
    close(written(SOURCE, padding_mask=SOURCE_PADDING), library(SOURCE, padding_mask=SOURCE_PADDING))
    changed = SOURCE.copy()
    changed[1, 4:] += 5.0  # what stands in the padding changes nothing for the real tokens
    close(written(changed, padding_mask=SOURCE_PADDING)[1, :4], written(SOURCE, padding_mask=SOURCE_PADDING)[1, :4])


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_a_causal_decoder_block_equals_keras_hub(normalize_first):
    library, written = block_pair("TransformerDecoder", normalize_first, decoder_sequence=TARGET)
    close(written(TARGET), library(TARGET))
    close(written(TARGET, decoder_padding_mask=TARGET_PADDING), library(TARGET, decoder_padding_mask=TARGET_PADDING))
    later = TARGET.copy()
    later[:, 3:] += 5.0  # what comes later changes nothing before it
    close(written(later)[:, :3], written(TARGET)[:, :3])


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_a_decoder_block_with_cross_attention_and_padding_equals_keras_hub(normalize_first):
    library, written = block_pair("TransformerDecoder", normalize_first, decoder_sequence=TARGET,
                                  encoder_sequence=SOURCE)
    masks = dict(decoder_padding_mask=TARGET_PADDING, encoder_padding_mask=SOURCE_PADDING)
    close(written(TARGET, SOURCE, **masks), library(TARGET, SOURCE, **masks))


def test_decoding_with_caches_equals_keras_hub_step_by_step():
    library, written = block_pair("TransformerDecoder", True, decoder_sequence=TARGET, encoder_sequence=SOURCE)
    shape = (2, 2, 5, 4, 4)  # [b, keys and values, length, heads, d_k]
    caches = {layer: (np.zeros(shape, "float32"), np.zeros((2, 2, 7, 4, 4), "float32")) for layer in (0, 1)}
    for index in range(5):
        outputs = []
        for number, layer in enumerate((library, written)):
            self_cache, cross_cache = caches[number]
            output, self_cache, cross_cache = layer(
                TARGET[:, index:index + 1], SOURCE, encoder_padding_mask=SOURCE_PADDING,
                self_attention_cache=self_cache, self_attention_cache_update_index=index,
                cross_attention_cache=cross_cache, cross_attention_cache_update_index=0 if index == 0 else None)
            caches[number] = (self_cache, cross_cache)
            outputs.append(output)
        close(outputs[1], outputs[0])
        close(caches[1][0], caches[0][0])
    # And a token at a time gives what the whole sequence gives at once.
    close(ops.concatenate([written(TARGET[:, :i + 1], SOURCE, encoder_padding_mask=SOURCE_PADDING)[:, i:i + 1]
                           for i in range(5)], axis=1),
          written(TARGET, SOURCE, encoder_padding_mask=SOURCE_PADDING))


def test_the_cross_attention_weights_are_those_the_block_uses():
    _, written = block_pair("TransformerDecoder", True, decoder_sequence=TARGET, encoder_sequence=SOURCE)
    weights = ops.convert_to_numpy(written.cross_attention_weights(TARGET, SOURCE, SOURCE_PADDING))
    assert weights.shape == (2, 4, 5, 7)
    np.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-5)
    np.testing.assert_allclose(weights[1, :, :, 4:], 0, atol=1e-7)  # never on the second sentence's padding


@pytest.mark.parametrize("normalize_first", [False, True], ids=["post-norm", "pre-norm"])
def test_the_cross_attention_weights_are_those_the_block_computes_with(normalize_first, monkeypatch):
    """The map drawn is of the queries the block's cross-attention reads: normalized first in a pre-norm block."""
    _, written = block_pair("TransformerDecoder", normalize_first, decoder_sequence=TARGET, encoder_sequence=SOURCE)
    used, attention = [], explained.scaled_dot_product_attention

    def recording(*args, **kwargs):
        output, weights = attention(*args, **kwargs)
        used.append(weights)
        return output, weights

    monkeypatch.setattr(explained, "scaled_dot_product_attention", recording)
    written(TARGET, SOURCE, encoder_padding_mask=SOURCE_PADDING)
    _, cross_attention = used  # the self-attention's weights, then the cross-attention's
    close(written.cross_attention_weights(TARGET, SOURCE, SOURCE_PADDING), cross_attention)


def test_a_model_of_written_out_blocks_saves_and_reloads(tmp_path):
    inputs = keras.Input((None, 16))
    x = inputs + explained.SinusoidalPositionEncoding()(inputs)
    x = explained.TransformerEncoder(intermediate_dim=32, num_heads=4, dropout=0.1)(x)
    outputs = explained.TransformerDecoder(intermediate_dim=32, num_heads=4, normalize_first=True)(x)
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    close(reloaded(SOURCE), model(SOURCE))


def explained_twin(build, config):
    """A model of written-out blocks carrying the keras-hub model's weights (same layers, same order)."""
    library = build(config)
    library.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in library.get_weights()])
    written = build(dataclasses.replace(config, blocks="explained"))
    carry_over(library, written)
    return library, written


def test_a_gpt_of_written_out_blocks_is_the_keras_hub_gpt_and_decodes_with_its_cache():
    config = GPTConfig(vocabulary_size=20, context_length=8, num_layers=2, num_heads=2, hidden_dim=16, dropout=0.0)
    library, written = explained_twin(build_gpt, config)
    tokens = np.array([[1, 5, 7, 2, 9, 3]], "int32")
    close(written(tokens), library(tokens))
    sampler = build_sampler("greedy", 20)
    cached = TextGenerator(written, sampler).generate([1, 5], 10).numpy()
    np.testing.assert_array_equal(cached, TextGenerator(written, sampler).generate([1, 5], 10, use_cache=False))
    np.testing.assert_array_equal(cached, TextGenerator(library, sampler).generate([1, 5], 10))


def test_a_translator_of_written_out_blocks_is_the_keras_hub_translator_and_translates_alike():
    config = TranslatorConfig(source_vocabulary_size=40, target_vocabulary_size=30, max_length=10, num_layers=2,
                              num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)
    library, written = explained_twin(build_translator, config)
    inputs = {"source_ids": np.array([[5, 6, 7, 0]], "int32"), "target_ids": np.array([[2, 8, 9, 0]], "int32")}
    close(written(inputs), library(inputs))
    greedy = translation.build_sampler(1)
    expected = Translator(library).translate(inputs["source_ids"], greedy)
    np.testing.assert_array_equal(Translator(written).translate(inputs["source_ids"], greedy), expected)
    np.testing.assert_array_equal(Translator(written).translate(inputs["source_ids"], greedy, use_cache=False),
                                  expected)
    close(cross_attention(written, [5, 6, 7, 0], [2, 8, 9]), cross_attention(library, [5, 6, 7, 0], [2, 8, 9]))


def test_a_review_classifier_of_written_out_blocks_is_the_keras_hub_classifier():
    def build(blocks):
        return build_transformer_classifier(50, 12, embedding_dim=16, num_heads=2, intermediate_dim=32,
                                            num_layers=2, blocks=blocks)

    library, written = build("keras-hub"), build("explained")
    randomize(library)
    carry_over(library, written)
    reviews = np.array([[3, 9, 4, 7, 0, 0], [5, 1, 8, 2, 6, 11]], "int32")
    close(written(reviews), library(reviews))


@pytest.mark.parametrize("blocks, encoder, decoder", [
    ("keras-hub", keras_hub.layers.TransformerEncoder, keras_hub.layers.TransformerDecoder),
    ("explained", explained.TransformerEncoder, explained.TransformerDecoder),
])
def test_each_choice_of_blocks_gives_its_own(blocks, encoder, decoder):
    assert type(explained.encoder_block(blocks, intermediate_dim=8, num_heads=2)) is encoder
    assert type(explained.decoder_block(blocks, intermediate_dim=8, num_heads=2)) is decoder


def test_unknown_blocks_are_refused():
    with pytest.raises(ValueError, match="unknown blocks 'torch'; choose one of keras-hub, explained"):
        explained.encoder_block("torch", intermediate_dim=8, num_heads=2)


@pytest.mark.parametrize("blocks", ["keras-hub", "explained"])
@pytest.mark.parametrize("builder, config", [
    (build_gpt, GPTConfig(vocabulary_size=40, context_length=8, num_layers=2, num_heads=2, hidden_dim=16)),
    (build_translator, TranslatorConfig(source_vocabulary_size=40, target_vocabulary_size=30, max_length=10,
                                        num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32)),
], ids=["gpt", "translator"])
def test_no_two_weights_of_a_new_model_start_alike(builder, config, blocks):
    """One initializer object drawn for several weights gives them the same numbers (a Keras 3 initializer
    without a seed fixes one): query, key and value would start as one projection, every block as the same
    block, and the position table as the first rows of the token table."""
    model = builder(dataclasses.replace(config, blocks=blocks))
    drawn = [(w.path, ops.convert_to_numpy(w).ravel()) for w in model.weights]
    drawn = [(path, values) for path, values in drawn if values.std() > 0]  # not the zeros and ones
    for i, (path, values) in enumerate(drawn):
        for other_path, other in drawn[i + 1:]:
            size = min(values.size, other.size)
            assert not np.allclose(values[:size], other[:size]), f"{path} starts as {other_path} does"


@pytest.mark.parametrize("build", [
    lambda blocks: build_translator(TranslatorConfig(source_vocabulary_size=300, target_vocabulary_size=300,
                                                     max_length=10, num_layers=1, num_heads=4, hidden_dim=64,
                                                     intermediate_dim=128, blocks=blocks)),
    lambda blocks: build_transformer_classifier(300, 12, embedding_dim=64, num_heads=4, intermediate_dim=128,
                                                num_layers=1, blocks=blocks),
], ids=["translator", "classifier"])
def test_every_weight_starts_with_the_spread_of_its_library_twin(build):
    """Equal computations are not enough to train alike: they must start alike too. A Glorot kernel of the
    written-out attention once started six times narrower than Keras's (its fans counted over the wrong axes),
    and the translator reached half the BLEU."""
    library, written = build("keras-hub"), build("explained")
    for library_weight, written_weight in zip(library.weights, written.weights):
        expected, actual = (float(np.std(ops.convert_to_numpy(w))) for w in (library_weight, written_weight))
        # The spread measured from n draws is itself off by about 1 / sqrt(2n) (9 % for the 64 of a logit kernel),
        # each way: the tolerance allows three times that beside the 15 % of a real difference.
        tolerance = 0.15 + 3 / np.sqrt(2 * np.size(written_weight))
        assert actual == pytest.approx(expected, rel=tolerance, abs=1e-6), f"{written_weight.path} starts at std " \
            f"{actual:.4f}, {library_weight.path} at {expected:.4f}"
