"""Masked-language-model pre-training of a BERT backbone on unlabeled text (BERT's first stage).

Each epoch reads one window of `sequence_length` tokens of each text, at a place drawn afresh, so that the
epochs cover the whole of a long review rather than its beginning again and again. 15 % of the window's
tokens are selected (keras-hub's `MaskedLMMaskGenerator`: 80 % of them become `[MASK]`, 10 % a random token,
10 % stay), also drawn afresh every epoch, and the model learns to predict the originals. What it learns
about the reviews' language is what fine-tuning starts from.
"""

from dataclasses import dataclass

import keras
import keras_hub

from keras_apps import progress
from keras_apps.data.text_pipeline import masked_lm_dataset
from keras_apps.models.bert import build_masked_lm
from keras_apps.text.truncation import bert_frame, keep_random_window
from keras_apps.training.runner import fit

MASK_RATE = 0.15


@dataclass
class PretrainingResult:
    backbone: keras.Model
    masked_accuracy: float
    epochs: int
    train_seconds: float
    train_examples: int


def pretrain_masked_lm(
    build_backbone, tokenizer, sequence_length, texts, validation_texts, *, config, run_directory, strategy
):
    """Trains `build_backbone()` with a masked-LM head on `texts`; returns the backbone and its figures.

    Args:
        build_backbone: a no-argument callable returning a new BERT backbone (called in the strategy scope).
        tokenizer: a `keras_hub.models.BertTokenizer` (it knows the special tokens).
        sequence_length: tokens per example, `[CLS]` and `[SEP]` included.
        texts: strings to learn from, a random window of each per epoch.
        validation_texts: held-out strings to measure masked accuracy on, from their first tokens, so that
            every evaluation reads the same windows.
        config, run_directory, strategy: as for `keras_apps.training.runner.fit`.
    """
    mask_generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=MASK_RATE,
        mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=round(MASK_RATE * sequence_length),
        unselectable_token_ids=[tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id],
    )
    frame = bert_frame(tokenizer, sequence_length)

    def frame_a_random_window(token_ids):
        return frame(keep_random_window(token_ids, sequence_length - 2))

    train = masked_lm_dataset(
        texts, tokenizer, frame_a_random_window, mask_generator, config.batch_size,
        shuffle=True, seed=config.seed, drop_remainder=True,
    )
    validation = masked_lm_dataset(validation_texts, tokenizer, frame, mask_generator, config.batch_size)
    backbones = []

    def build_model():
        backbones.append(build_backbone())
        return build_masked_lm(backbones[-1], mask_generator.mask_selection_length)

    result = fit(
        build_model,
        train,
        validation,
        config=config,
        run_directory=run_directory,
        strategy=strategy,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="masked_accuracy")],
    )
    scores = result.model.evaluate(validation, return_dict=True, verbose=progress.verbosity())
    return PretrainingResult(
        backbone=backbones[-1],
        masked_accuracy=float(scores["masked_accuracy"]),
        epochs=result.epochs_completed,
        train_seconds=result.train_seconds,
        train_examples=result.train_examples,
    )
