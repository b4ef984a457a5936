"""Where a BERT classifier's fine-tuning starts: a saved or published backbone, one pre-trained here on the
task's own text, or (the control that shows what pre-training buys) a new one."""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keras_apps import files
from keras_apps.errors import UserError

# What fine-tuning through LoRA trains whole beside the adapters, as new to fine-tuning: the classifier's head,
# and the position embedding, whose rows past the 128-token windows pre-training here reads are still random.
NEW_TO_FINE_TUNING = ("logit", "position_embedding")

@dataclass
class BertStart:
    """A backbone builder, the tokenizer it reads with, how many tokens it reads, and its pre-training figures."""

    build_backbone: Callable
    tokenizer: object
    sequence_length: int
    pretraining: dict


def recorded(source):
    """What a run records of its `BertSource` among the settings `run.open` compares: its flags and a digest of
    the backbone folder it names (vocabulary, weights). Every attempt reads that folder again, so a resumed run
    whose backbone was pre-trained again in place is refused, rather than pairing the new vocabulary with
    checkpoints trained on the old one. A keras-hub preset name has no folder to digest."""
    folder = source.handle is not None and Path(source.handle).is_dir()
    return {**dataclasses.asdict(source), "backbone_digest": files.digest(source.handle)[:16] if folder else None}


def from_backbone(handle, sequence_length, dropout):
    """A saved backbone folder or a keras-hub preset name; reads at most the backbone's own length."""
    from keras_apps.text_classification.backbones import load_backbone, pretraining_record

    print(f"Fine-tuning the backbone from {handle}")
    backbone, tokenizer = load_backbone(handle)
    return BertStart(lambda: load_backbone(handle, dropout=dropout)[0], tokenizer,
                     min(sequence_length, backbone.max_sequence_length),
                     {"pretrained": True, **pretraining_record(handle), "backbone": str(handle)})


def from_scratch(vocabulary, sequence_length, architecture):
    """A new backbone of `architecture` over `vocabulary`, not pre-trained."""
    from keras_apps.models.bert import build_bert_backbone
    from keras_apps.text.vocabulary import build_tokenizer

    def build_backbone(**overrides):
        return build_bert_backbone(len(vocabulary), sequence_length, **{**architecture, **overrides})

    return BertStart(build_backbone, build_tokenizer(vocabulary), sequence_length, {"pretrained": False})


def pretrain(start, pretraining, corpus, validation_texts, *, config, run_directory, strategy):
    """Pre-trains `start`'s backbone, without dropout, as a masked LM on `corpus`; returns what `save_backbone`
    takes: `(backbone, tokenizer, figures)`.

    Args:
        start: a `from_scratch` start, whose backbone and tokenizer pre-training trains.
        pretraining: a `recipes.Pretraining`; its settings replace those of `config` (the fine-tuning's).
        corpus, validation_texts: strings to learn from and to measure masked accuracy on.
        run_directory, strategy: as for the runner's `fit`.
    """
    from keras_apps.text_classification.pretraining import pretrain_masked_lm

    config = pretraining.training(config)
    if len(corpus) < config.batch_size:
        raise UserError(f"{len(corpus)} texts for pre-training are fewer than one batch of {config.batch_size}; "
                        f"lower --pretrain-batch-size")
    length = min(start.sequence_length, pretraining.sequence_length)
    print(f"Pre-training BERT (masked LM) on {len(corpus):,} texts of up to {length} tokens for "
          f"{config.epochs} epochs")
    result = pretrain_masked_lm(lambda: start.build_backbone(dropout=0.0), start.tokenizer, length, corpus,
                                validation_texts, config=config, run_directory=run_directory, strategy=strategy)
    figures = {"pretrained": True, "masked_accuracy": round(result.masked_accuracy, 4), "epochs": result.epochs,
               "train_seconds": round(result.train_seconds, 3), "train_examples": result.train_examples,
               "reviews": len(corpus), "sequence_length": length, "learning_rate": config.learning_rate,
               "jit_compile": config.jit_compile}
    print(f"Pre-training done: masked-token accuracy {result.masked_accuracy:.4f}")
    return result.backbone, start.tokenizer, figures


def start(source, classifier, pretraining, *, run, vocabulary, corpus, validation_texts):
    """The `BertStart` of a `BertSource`: the backbone it names, a new one, or one pre-trained once in `run`.

    Args:
        source: a `recipes.BertSource`.
        classifier: the `recipes.TextClassifier` of the bert family being fine-tuned.
        pretraining: a `recipes.Pretraining`, for the default source.
        run: the `keras_apps.lifecycle.Run` that pre-trains and keeps the backbone (`backbone/`).
        vocabulary: `vocabulary()` gives the run's WordPiece vocabulary (for a new backbone).
        corpus, validation_texts: what pre-training reads.
    """
    from keras_apps.text_classification.backbones import save_backbone
    from keras_apps.training.run_directory import RunDirectory

    dropout = classifier.architecture["dropout"]
    if source.handle is not None:
        return from_backbone(source.handle, classifier.sequence_length, dropout)
    new = from_scratch(vocabulary(), classifier.sequence_length, classifier.architecture)
    if source.from_scratch:
        return new
    with run.phases.during("pre-training"):
        saved = run.learned_once(
            "backbone",
            lambda: pretrain(new, pretraining, corpus, validation_texts, config=run.config, strategy=run.strategy,
                             run_directory=RunDirectory.create(run.task, run.directory.path / "pretraining")),
            lambda trained, path: save_backbone(*trained[:2], path, pretraining=trained[2]), Path)
    return from_backbone(saved, classifier.sequence_length, dropout)
