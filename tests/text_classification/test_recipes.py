"""`check_choices`: a pre-training flag is refused where nothing is pre-trained, rather than ignored; pre-training's
own settings."""

import pytest

from keras_apps.errors import UserError
from keras_apps.text_classification.recipes import BertSource, Pretraining, TextClassifier, check_choices
from keras_apps.training.config import TrainingConfig

BERT = TextClassifier("bert", sequence_length=24)


@pytest.mark.parametrize("model, source", [
    (TextClassifier("transformer"), BertSource()),
    (BERT, BertSource(pretrained_backbone="runs/x/backbone")),
    (BERT, BertSource(preset="bert_tiny_en_uncased")),
    (BERT, BertSource(from_scratch=True)),
])
def test_a_pretraining_flag_is_refused_where_nothing_is_pretrained(model, source):
    with pytest.raises(UserError, match="^--pretrain-batch-size: this run pre-trains nothing"):
        check_choices(model.family, model, source, None, ["--pretrain-batch-size", "--jit-compile"])
    check_choices(model.family, model, source, None, ["--jit-compile"])  # the training's flag too


def test_pretraining_flags_are_taken_where_bert_pretrains_here():
    check_choices("bert", BERT, BertSource(), None, ["--pretrain-epochs", "--pretrain-batch-size", "--jit-compile"])


def test_pretraining_runs_at_its_own_learning_rate_not_the_fine_tuning_s():
    fine_tuning = TrainingConfig(epochs=3, batch_size=16, learning_rate=1e-4, weight_decay=0.0)
    pretraining = Pretraining().training(fine_tuning)
    assert (pretraining.epochs, pretraining.batch_size, pretraining.learning_rate, pretraining.weight_decay,
            pretraining.jit_compile) == (8, 64, 2e-3, 0.01, True)
    assert pretraining.lr_schedule == fine_tuning.lr_schedule  # the rest is the fine-tuning's
