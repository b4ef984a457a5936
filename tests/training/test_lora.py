import keras
import numpy as np
import pytest

from keras_apps.errors import UserError
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.training import lora

CONFIG = GPTConfig(vocabulary_size=30, context_length=12, num_layers=2, num_heads=2, hidden_dim=32, dropout=0.0)
TOKENS = np.random.default_rng(0).integers(0, 30, (8, 12))


def adapter_size(adapters):
    return sum(np.size(a) + np.size(b) for _, a, b in map(lora.adapted, adapters))


def adapted_and_trained(rank=4, train=()):
    """A tiny GPT, its weights before, and the same model adapted at `rank` and trained for a few steps."""
    keras.utils.set_random_seed(0)
    model = build_gpt(CONFIG)
    before = {weight.path: np.array(weight) for weight in model.weights}
    reference = np.asarray(model(TOKENS))
    lora.enable(model, rank, train=train)
    trainable = sum(np.size(weight) for weight in model.trainable_weights)
    np.testing.assert_allclose(np.asarray(model(TOKENS)), reference, atol=1e-6)  # B starts at zero
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(TOKENS[:, :-1], TOKENS[:, 1:], epochs=3, verbose=0)
    return model, before, reference, trainable


def test_only_the_adapters_train_and_the_model_moves():
    model, before, reference, trainable = adapted_and_trained()
    adapters = [layer for layer in model._flatten_layers() if isinstance(layer, lora.KINDS) and layer.lora_enabled]
    # Per block: query, key, value, attention output, two feed-forward layers; and the token embedding.
    assert len(adapters) == 2 * 6 + 1
    assert trainable == adapter_size(adapters)
    assert trainable < 0.2 * sum(weight.size for weight in before.values())
    for weight in model.weights:
        if weight.path in before:  # every weight the model had is frozen
            np.testing.assert_array_equal(np.array(weight), before[weight.path], err_msg=weight.path)
    assert np.abs(np.asarray(model(TOKENS)) - reference).max() > 1e-3


def test_merged_weights_give_the_adapted_model_s_outputs_as_a_plain_model():
    model, before, _, _ = adapted_and_trained()
    plain = lora.merged(model)
    np.testing.assert_allclose(np.asarray(plain(TOKENS)), np.asarray(model(TOKENS)), atol=1e-4)
    assert sorted(weight.path for weight in plain.weights) == sorted(before)  # no adapter left
    assert not any(getattr(layer, "lora_enabled", False) for layer in plain._flatten_layers())


def test_a_layer_named_to_train_trains_whole():
    model, before, _, trainable = adapted_and_trained(train=("final_norm",))
    norm = model.get_layer("final_norm")
    assert not np.array_equal(np.array(norm.gamma), before[norm.gamma.path])
    adapters = [layer for layer in model._flatten_layers() if isinstance(layer, lora.KINDS) and layer.lora_enabled]
    assert trainable == adapter_size(adapters) + 2 * 32


def test_a_name_reaches_the_layers_inside_others_and_a_name_no_layer_has_is_refused():
    model, before, _, trainable = adapted_and_trained(train=("feedforward_layer_norm",))
    norms = [layer for layer in model._flatten_layers() if layer.name == "feedforward_layer_norm"]
    assert len(norms) == 2  # one in each decoder block, both trained
    for norm in norms:
        assert not np.array_equal(np.array(norm.gamma), before[norm.gamma.path])
    adapters = [layer for layer in model._flatten_layers() if isinstance(layer, lora.KINDS) and layer.lora_enabled]
    assert trainable == adapter_size(adapters) + 4 * 32
    with pytest.raises(ValueError, match="has no layer named pooler"):
        lora.enable(build_gpt(CONFIG), 2, train=("final_norm", "pooler"))


@pytest.mark.parametrize("rank", [0, -2, 1.5, True])
def test_a_rank_below_one_or_not_whole_is_one_line(rank):
    with pytest.raises(UserError, match=f"a LoRA rank is a whole number of at least 1, not {rank!r}"):
        lora.enable(build_gpt(CONFIG), rank)


def test_a_rank_above_the_full_rank_of_every_weight_it_adapts_is_refused_before_any_adapter_is_made():
    # Width 32: no weight of this GPT has a full rank above 32 (its feed-forward kernels are 32 x 128).
    model = build_gpt(CONFIG)
    with pytest.raises(UserError, match=r"--lora-rank 33 is above the full rank of every weight it adapts \(at most "
                                        r"32, "):
        lora.enable(model, 33)
    assert not any(getattr(layer, "lora_enabled", False) for layer in model._flatten_layers())
    assert len(lora.enable(build_gpt(CONFIG), 32).trainable_weights) > 0  # full rank, above some weights' (16)
    with pytest.raises(UserError, match="--lora-rank 100000 is above"):  # would take gigabytes of adapters
        lora.enable(build_gpt(CONFIG), 100_000)
