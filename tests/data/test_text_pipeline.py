import keras
import keras_hub
import numpy as np

from keras_apps.data.text_pipeline import masked_lm_dataset, text_dataset
from keras_apps.text.truncation import bert_frame, keep_random_window
from keras_apps.text.vocabulary import PAD_ID, build_tokenizer, learn_vocabulary
from tests.conftest import TINY_REVIEWS

TEXTS = [text for text, _ in TINY_REVIEWS]
LABELS = [label for _, label in TINY_REVIEWS]


def test_text_dataset_encodes_batches_and_keeps_labels_with_their_texts():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100), sequence_length=16)
    dataset = text_dataset(TEXTS, LABELS, tokenizer, batch_size=3)
    assert int(dataset.cardinality()) == 3
    assert not dataset.options().autotune.enabled  # no autotuning thread to wait for (keras_apps.data.autotune)
    batches = list(dataset.as_numpy_iterator())
    ids = np.concatenate([features for features, _ in batches])
    labels = np.concatenate([labels for _, labels in batches])
    assert ids.shape == (8, 16) and labels.dtype == np.float32
    np.testing.assert_array_equal(ids, np.asarray(tokenizer(TEXTS)))
    np.testing.assert_array_equal(labels, LABELS)


def test_shuffled_training_batches_are_whole_and_keep_text_label_pairs():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100), sequence_length=16)
    expected = {tuple(row): label for row, label in zip(np.asarray(tokenizer(TEXTS)), LABELS)}
    dataset = text_dataset(TEXTS, LABELS, tokenizer, batch_size=3, shuffle=True, seed=1, drop_remainder=True)
    assert int(dataset.cardinality()) == 2
    for ids, labels in dataset.as_numpy_iterator():
        assert ids.shape == (3, 16)
        assert [expected[tuple(row)] for row in ids] == list(labels)


def test_each_epoch_is_shuffled_anew_and_a_seed_repeats_the_epochs():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100), sequence_length=16)

    def epochs(seed):
        dataset = text_dataset(TEXTS, LABELS, tokenizer, batch_size=8, shuffle=True, seed=seed)
        return [ids.tolist() for ids, _ in dataset.repeat(2).as_numpy_iterator()]  # one iterator, as fit reads

    first, second = epochs(1)
    assert first != second and sorted(first) == sorted(second)  # shuffled after the cache, not frozen by it
    assert epochs(1) == [first, second] and epochs(2) != [first, second]


def _mask_generator(tokenizer):
    return keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(), mask_selection_rate=0.3, mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=6,
        unselectable_token_ids=[tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id],
    )


def test_masked_lm_batches_mask_only_real_tokens_and_change_every_epoch():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100))
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=24)
    keras.utils.set_random_seed(0)  # As the runner does, which also reads every epoch from one iterator.
    dataset = masked_lm_dataset(TEXTS, tokenizer, bert_frame(tokenizer, 24), _mask_generator(tokenizer), batch_size=8)
    original = preprocessor(TEXTS)
    (features, targets, weights), (second, _, _) = list(dataset.repeat(2).as_numpy_iterator())
    positions = features["mask_positions"]
    assert not dataset.options().autotune.enabled
    assert positions.shape == targets.shape == weights.shape == (8, 6)
    chosen = weights > 0
    rows = np.nonzero(chosen)[0]
    original_ids = np.asarray(original["token_ids"])
    np.testing.assert_array_equal(targets[chosen], original_ids[rows, positions[chosen]])
    assert (targets[chosen] != PAD_ID).all()
    assert (targets[chosen] != tokenizer.cls_token_id).all() and (targets[chosen] != tokenizer.sep_token_id).all()
    np.testing.assert_array_equal(features["padding_mask"], np.asarray(original["padding_mask"]))
    assert not np.array_equal(second["mask_positions"], positions)  # masks are drawn afresh each epoch


def test_masked_lm_features_never_show_the_model_the_tokens_it_must_predict():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100))
    always_mask = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(), mask_selection_rate=0.3, mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=6, mask_token_rate=1.0, random_token_rate=0.0,
        unselectable_token_ids=[tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id],
    )
    dataset = masked_lm_dataset(TEXTS, tokenizer, bert_frame(tokenizer, 24), always_mask, batch_size=8)
    features, targets, weights = next(dataset.as_numpy_iterator())
    rows, slots = np.nonzero(weights > 0)
    shown = features["token_ids"][rows, features["mask_positions"][rows, slots]]
    assert len(rows) > 8 and (shown == tokenizer.mask_token_id).all()
    assert (shown != targets[rows, slots]).all()


def _unmasked(features, targets, weights):
    """The token ids a masked-LM batch was made from: each masked position given back its target."""
    ids = features["token_ids"].copy()
    rows, slots = np.nonzero(weights > 0)
    ids[rows, features["mask_positions"][rows, slots]] = targets[rows, slots]
    return ids


def test_a_random_window_frame_reads_a_new_part_of_each_long_text_every_epoch():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100))
    long_texts = [" ".join(TEXTS[i:] + TEXTS[:i]) for i in range(4)]  # each ~60 tokens
    frame = bert_frame(tokenizer, 10)

    def frame_a_random_window(token_ids):
        return frame(keep_random_window(token_ids, 8))

    keras.utils.set_random_seed(0)
    dataset = masked_lm_dataset(long_texts, tokenizer, frame_a_random_window, _mask_generator(tokenizer), 4)
    epochs = [_unmasked(*batch) for batch in dataset.repeat(3).as_numpy_iterator()]
    for ids in epochs:
        for row, text in zip(ids, long_texts):
            whole = list(np.asarray(tokenizer(text)))
            window = list(row[1:9])
            assert row[0] == tokenizer.cls_token_id and row[9] == tokenizer.sep_token_id
            assert any(whole[start:start + 8] == window for start in range(len(whole) - 7))
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
