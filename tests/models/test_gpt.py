"""`build_gpt`: shapes, causal masking, GPT-2's pre-norm GELU blocks, weight tying, and the FLOPs estimate."""

import keras
import numpy as np
import pytest

from keras_apps.models import parts
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.recipes import TRANSFORMER_BLOCKS

TINY = GPTConfig(vocabulary_size=11, context_length=12, num_layers=2, num_heads=2, hidden_dim=8, dropout=0.0)


def test_logits_for_every_position_and_named_layers():
    model = build_gpt(TINY)
    logits = model(np.ones((3, 12), dtype=np.int32))
    assert logits.shape == (3, 12, 11)
    names = {layer.name for layer in model.layers}
    assert {"token_embedding", "position_embedding", "decoder_0", "decoder_1", "final_norm"} <= names


def test_a_later_token_never_changes_an_earlier_position():
    model = build_gpt(TINY)
    tokens = np.random.default_rng(0).integers(0, 11, (1, 12)).astype(np.int32)
    changed = tokens.copy()
    changed[0, 7:] = (changed[0, 7:] + 1) % 11
    before, after = np.asarray(model(tokens)), np.asarray(model(changed))
    np.testing.assert_allclose(before[0, :7], after[0, :7], rtol=1e-5, atol=1e-6)
    assert not np.allclose(before[0, 7:], after[0, 7:])


@pytest.mark.parametrize("blocks", TRANSFORMER_BLOCKS)
def test_blocks_are_pre_norm_with_gelu_as_in_gpt2(blocks):
    model = build_gpt(GPTConfig(**{**TINY.to_dict(), "blocks": blocks}))
    for index in range(TINY.num_layers):
        block = model.get_layer(parts.decoder_block(index))
        assert block.normalize_first and block.activation is keras.activations.gelu


def test_untied_weights_add_an_output_projection():
    tied, untied = build_gpt(TINY), build_gpt(GPTConfig(**{**TINY.to_dict(), "tie_weights": False}))
    assert untied.count_params() - tied.count_params() == 11 * 8


def test_the_flops_estimate_is_nanogpts():
    # 6 per parameter per token, plus 12 × layers × width × context for attention.
    assert TINY.training_flops_per_token(1000) == 6 * 1000 + 12 * 2 * 8 * 12
    # Frozen weights (LoRA's) need no gradient of their own: 4 per parameter, 6 per trained one.
    assert TINY.training_flops_per_token(1000, trainable_params=100) == 4 * 1000 + 2 * 100 + 12 * 2 * 8 * 12


@pytest.mark.parametrize("change, message", [
    ({"hidden_dim": 10, "num_heads": 4}, "not a multiple"),
    ({"context_length": 1}, "at least 2"),
])
def test_impossible_shapes_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**{**TINY.to_dict(), **change})


def test_the_same_token_reads_differently_at_each_position():
    """The learned positions are added: without them, causal attention over one repeated token would give every
    position the same logits."""
    logits = np.asarray(build_gpt(TINY)(np.full((1, 12), 3, np.int32)))
    assert not np.allclose(logits[0, 0], logits[0, 5], atol=1e-6)


@pytest.mark.parametrize("blocks", TRANSFORMER_BLOCKS)
def test_every_setting_reaches_the_layers(blocks):
    config = GPTConfig(**{**TINY.to_dict(), "blocks": blocks, "num_heads": 4, "intermediate_dim": 20, "dropout": 0.3})
    model = build_gpt(config)
    assert model.get_layer("embedding_dropout").rate == config.dropout
    for index in range(config.num_layers):
        block = model.get_layer(parts.decoder_block(index)).get_config()
        assert (block["num_heads"], block["intermediate_dim"], block["dropout"]) == (
            config.num_heads, config.intermediate_dim, config.dropout)


def test_dropout_acts_while_training_only():
    model = build_gpt(GPTConfig(**{**TINY.to_dict(), "dropout": 0.5}))
    tokens = np.random.default_rng(3).integers(0, 11, (2, 12)).astype(np.int32)
    np.testing.assert_allclose(np.asarray(model(tokens)), np.asarray(model(tokens)))
    assert not np.allclose(np.asarray(model(tokens, training=True)), np.asarray(model(tokens)))


def test_the_outputs_are_logits_not_probabilities():
    """Losses and sampling take logits (`from_logits=True`): unnormalized scores, some of them negative."""
    logits = np.asarray(build_gpt(TINY)(np.random.default_rng(4).integers(0, 11, (2, 12)).astype(np.int32)))
    assert (logits < 0).any() and not np.allclose(logits.sum(axis=-1), 1.0)
