"""Where BERT's fine-tuning starts: how long a backbone reads, and how pre-training here builds the one it trains."""

from keras_apps.text.vocabulary import RESERVED_TOKENS
from keras_apps.text_classification import bert_start
from keras_apps.text_classification.backbones import save_backbone
from keras_apps.text_classification.pretraining import PretrainingResult
from keras_apps.text_classification.recipes import Pretraining
from keras_apps.training.config import TrainingConfig

VOCABULARY = [*RESERVED_TOKENS, "a", "great", "awful", "film"]
ARCHITECTURE = dict(num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16, dropout=0.1)


def test_pretraining_reads_its_own_length_without_dropout(monkeypatch):
    """A 32-token classifier pre-trained on 16-token windows, and without dropout (fine-tuning adds it back)."""
    from keras_apps.text_classification import pretraining

    lengths = []

    def pretrain_masked_lm(build_backbone, tokenizer, sequence_length, *args, **kwargs):
        lengths.append(sequence_length)
        return PretrainingResult(build_backbone(), masked_accuracy=0.5, epochs=1, train_seconds=1.0,
                                 train_examples=8)

    monkeypatch.setattr(pretraining, "pretrain_masked_lm", pretrain_masked_lm)
    start = bert_start.from_scratch(VOCABULARY, 32, ARCHITECTURE)
    backbone, _, figures = bert_start.pretrain(start, Pretraining(batch_size=2, sequence_length=16), ["a"] * 2, [],
                                               config=TrainingConfig(), run_directory=None, strategy=None)
    assert lengths == [16] and figures["sequence_length"] == 16
    assert backbone.get_config()["dropout"] == 0.0


def test_a_saved_backbone_reads_at_most_its_own_length(tmp_path):
    start = bert_start.from_scratch(VOCABULARY, 16, ARCHITECTURE)
    path = save_backbone(start.build_backbone(), start.tokenizer, tmp_path / "backbone")
    assert bert_start.from_backbone(path, 32, dropout=0.1).sequence_length == 16
    assert bert_start.from_backbone(path, 8, dropout=0.1).sequence_length == 8
