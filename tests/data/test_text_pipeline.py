import keras
import keras_hub
import numpy as np

from keras_apps.data.text_pipeline import masked_lm_dataset, text_dataset
from keras_apps.text.vocabulary import PAD_ID, build_tokenizer, learn_vocabulary
from tests.conftest import TINY_REVIEWS

TEXTS = [text for text, _ in TINY_REVIEWS]
LABELS = [label for _, label in TINY_REVIEWS]


def test_text_dataset_encodes_batches_and_keeps_labels_with_their_texts():
    tokenizer = build_tokenizer(learn_vocabulary(TEXTS * 20, 100), sequence_length=16)
    dataset = text_dataset(TEXTS, LABELS, tokenizer, batch_size=3)
    assert int(dataset.cardinality()) == 3
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


def test_masked_lm_batches_mask_only_real_tokens_and_change_every_epoch():
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=learn_vocabulary(TEXTS * 20, 100), lowercase=True)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(tokenizer, sequence_length=24)
    generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(), mask_selection_rate=0.3, mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=6,
        unselectable_token_ids=[tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id],
    )
    keras.utils.set_random_seed(0)  # As the runner does, which also reads every epoch from one iterator.
    dataset = masked_lm_dataset(TEXTS, preprocessor, generator, batch_size=8)
    original = preprocessor(TEXTS)
    (features, targets, weights), (second, _, _) = list(dataset.repeat(2).as_numpy_iterator())
    positions = features["mask_positions"]
    assert positions.shape == targets.shape == weights.shape == (8, 6)
    chosen = weights > 0
    rows = np.nonzero(chosen)[0]
    original_ids = np.asarray(original["token_ids"])
    np.testing.assert_array_equal(targets[chosen], original_ids[rows, positions[chosen]])
    assert (targets[chosen] != PAD_ID).all()
    assert (targets[chosen] != tokenizer.cls_token_id).all() and (targets[chosen] != tokenizer.sep_token_id).all()
    np.testing.assert_array_equal(features["padding_mask"], np.asarray(original["padding_mask"]))
    assert not np.array_equal(second["mask_positions"], positions)  # masks are drawn afresh each epoch
