"""Masked-language-model pre-training of a BERT backbone on unlabeled text (BERT's first stage).

15 % of the tokens of each review are selected (keras-hub's `MaskedLMMaskGenerator`: 80 % of them become
`[MASK]`, 10 % a random token, 10 % stay), drawn afresh every epoch, and the model learns to predict the
originals. What it learns about the reviews' language is what fine-tuning starts from.
"""

from dataclasses import dataclass

import keras
import keras_hub

from keras_apps.data.text_pipeline import masked_lm_dataset
from keras_apps.models import build_masked_lm
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
    build_backbone, preprocessor, texts, validation_texts, *, config, run_directory, strategy
):
    """Trains `build_backbone()` with a masked-LM head on `texts`; returns the backbone and its figures.

    Args:
        build_backbone: a no-argument callable returning a new BERT backbone (called in the strategy scope).
        preprocessor: maps a batch of strings to the backbone's inputs (a `BertTextClassifierPreprocessor`).
        texts, validation_texts: strings to learn from, and held-out strings to measure masked accuracy on.
        config, run_directory, strategy: as for `keras_apps.training.runner.fit`.
    """
    tokenizer = preprocessor.tokenizer
    sequence_length = preprocessor.sequence_length
    mask_generator = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size(),
        mask_selection_rate=MASK_RATE,
        mask_token_id=tokenizer.mask_token_id,
        mask_selection_length=round(MASK_RATE * sequence_length),
        unselectable_token_ids=[tokenizer.pad_token_id, tokenizer.cls_token_id, tokenizer.sep_token_id],
    )
    train = masked_lm_dataset(
        texts, preprocessor, mask_generator, config.batch_size, shuffle=True, seed=config.seed, drop_remainder=True
    )
    validation = masked_lm_dataset(validation_texts, preprocessor, mask_generator, config.batch_size)
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
    scores = result.model.evaluate(validation, return_dict=True, verbose=0)
    return PretrainingResult(
        backbone=backbones[-1],
        masked_accuracy=float(scores["masked_accuracy"]),
        epochs=result.epochs_completed,
        train_seconds=result.train_seconds,
        train_examples=result.train_examples,
    )
