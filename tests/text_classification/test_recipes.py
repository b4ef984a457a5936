"""`check_choices`: a pre-training flag is refused where nothing is pre-trained, rather than ignored."""

import pytest

from keras_apps.errors import UserError
from keras_apps.text_classification.recipes import BertSource, TextClassifier, check_choices

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
