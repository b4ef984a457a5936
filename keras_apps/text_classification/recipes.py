"""The typed settings of a text classifier and of BERT's pre-training; their flagged fields are flags
(`keras_apps.settings`). Light to import: a task's command line reads them."""

import dataclasses
from dataclasses import dataclass

from keras_apps.errors import UserError
from keras_apps.recipes import transformer_blocks
from keras_apps.settings import SettingError, flag_name, path, positive_int, setting

FAMILIES = ("ngrams", "lstm", "transformer", "bert")
NO_TEACHER = "none"


@dataclass(frozen=True)
class NGramSettings:
    """`NGramFeatures.learn`'s settings: how many unigrams and bigrams, weighted how."""

    max_tokens: int
    weighting: str


@dataclass(frozen=True)
class TextClassifier:
    """A model family, its builder's settings, how much of a review it reads, and what else it learns from."""

    family: str = "ngrams"
    architecture: dict = dataclasses.field(default_factory=dict)  # the builder's keyword arguments
    sequence_length: int = setting(512, help="tokens read per review (not for n-gram models)", type=positive_int)
    ngrams: NGramSettings | None = None
    teacher: str = setting(NO_TEACHER, help="lstm, transformer and bert: also learn from this n-gram model's "
                           "P(positive) on the unlabeled reviews, the teacher trained first on the same labeled "
                           f"reviews; {NO_TEACHER}: from the labels alone", choices=("bow", "nb-bow", NO_TEACHER))
    blocks: str = transformer_blocks()

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; choose one of {', '.join(FAMILIES)}")
        if (self.family == "ngrams") != (self.ngrams is not None):
            raise ValueError("n-gram settings go with the ngrams family, and only with it")
        if self.family == "ngrams" and self.teacher != NO_TEACHER:
            raise SettingError(TextClassifier, "teacher", "applies to --model lstm, transformer and bert only")
        if self.family != "transformer" and self.blocks != "keras-hub":
            raise SettingError(TextClassifier, "blocks", "applies to --model transformer only")

    @property
    def learns_from_a_teacher(self):
        return self.teacher != NO_TEACHER


@dataclass(frozen=True)
class Pretraining:
    """BERT's masked-LM pre-training: its own epochs, batch, learning rate and (shorter) sequences."""

    epochs: int = setting(8, help="masked-LM epochs over the unlabeled and training reviews", type=positive_int,
                          flag="--pretrain-epochs")
    batch_size: int = setting(64, help="masked-LM batch size", type=positive_int, flag="--pretrain-batch-size")
    learning_rate: float = 2e-3
    weight_decay: float = 0.01
    sequence_length: int = 128
    jit_compile: bool = setting(True, help="compile pre-training's step with XLA", flag="--jit-compile")

    def training(self, config):
        """The fine-tuning's `TrainingConfig` `config` with pre-training's own settings."""
        return dataclasses.replace(config, epochs=self.epochs, batch_size=self.batch_size,
                                   learning_rate=self.learning_rate, weight_decay=self.weight_decay,
                                   jit_compile=self.jit_compile)


@dataclass(frozen=True)
class BertSource:
    """Where a BERT classifier's backbone comes from: pre-trained here (the default), an earlier run's saved
    backbone, a published keras-hub preset, or nowhere (`from_scratch`: the control without pre-training); and
    whether fine-tuning trains all of it or LoRA adapters beside its frozen weights (`lora_rank`)."""

    pretrained_backbone: str | None = setting(None, help="fine-tune a backbone an earlier run pre-trained (its "
                                              "run folder's backbone/) instead of pre-training again",
                                              type=path, metavar="PATH")
    preset: str | None = setting(None, help="fine-tune a keras-hub preset such as bert_tiny_en_uncased (needs the "
                                 "network to download it)", metavar="NAME")
    from_scratch: bool = setting(False, help="no pre-training: the control that shows what pre-training buys")
    lora_rank: int | None = setting(None, help="fine-tune rank-R LoRA adapters beside the frozen backbone (and "
                                    "the whole head) instead of every weight; merged into the export",
                                    type=positive_int, metavar="R")

    def __post_init__(self):
        if self.preset and self.pretrained_backbone:
            raise SettingError(BertSource, "preset", "and --pretrained-backbone: give one, not both")
        if self.lora_rank and self.from_scratch:
            raise SettingError(BertSource, "lora_rank", "adapts pre-trained weights; --from-scratch has none")

    @property
    def handle(self):
        """The saved backbone or preset to fine-tune, or None."""
        return self.preset or self.pretrained_backbone

    @property
    def is_default(self):
        return self.handle is None and not self.from_scratch


def pretrains_here(model, source):
    """Whether a run of `model` pre-trains its BERT backbone itself (on the unlabeled and training reviews)."""
    return model.family == "bert" and source.is_default


def check_choices(name, model, source, unlabeled_examples, pretraining_flags):
    """Refuses, in one line, a flag that `--model name` (settings `model`, backbone `source`) would ignore;
    `pretraining_flags` are the `Pretraining` flags given (`settings.given_flags`)."""
    if model.family != "bert" and source != BertSource():
        raise UserError("--preset, --pretrained-backbone, --from-scratch and --lora-rank apply to --model bert only")
    # --jit-compile is the training's flag too: it is never ignored.
    ignored = [flag for flag in pretraining_flags if flag != flag_name(Pretraining, "jit_compile")]
    if ignored and not pretrains_here(model, source):
        raise UserError(f"{ignored[0]}: this run pre-trains nothing (--model bert does, without --pretrained-backbone, "
                        "--preset or --from-scratch)")
    if unlabeled_examples is not None and not (pretrains_here(model, source) or model.learns_from_a_teacher):
        raise UserError(f"--unlabeled-examples: --model {name} reads no unlabeled reviews (a teacher's students and "
                        "BERT pre-trained here do)")
    if model.learns_from_a_teacher and unlabeled_examples == 0:
        raise UserError("--unlabeled-examples 0 leaves the teacher nothing to label; add --teacher none")


def wordpiece_vocabulary_size(model, source, given, default):
    """The size of the WordPiece vocabulary the run learns (`given`, else `default`), or None where it learns none:
    an n-gram model, and BERT fine-tuning a saved backbone or a preset, which brings its own. A `--vocabulary-size`
    such a run would ignore is refused in one line rather than recorded as if it had been used."""
    if model.family == "ngrams" or source.handle is not None:
        if given is not None:
            raise UserError("--vocabulary-size: " + ("an n-gram model learns no WordPiece vocabulary"
                                                     if model.family == "ngrams" else
                                                     "the backbone brings its own vocabulary (--pretrained-backbone, "
                                                     "--preset)"))
        return None
    return default if given is None else given

