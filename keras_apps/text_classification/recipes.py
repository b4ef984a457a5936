"""The typed recipes of the text classifiers and of BERT's pre-training (light to import: the task's flags use them)."""

from dataclasses import dataclass

FAMILIES = ("ngrams", "lstm", "transformer", "bert")


@dataclass(frozen=True)
class NGramSettings:
    """`NGramFeatures.learn`'s settings: how many unigrams and bigrams, weighted how."""

    max_tokens: int
    weighting: str


@dataclass(frozen=True)
class Recipe:
    """A model family, its builder's settings, and the training settings that suit it (flags override them)."""

    family: str
    architecture: dict  # the builder's keyword arguments
    training: dict  # `TrainingConfig` fields
    sequence_length: int = 512  # tokens read per review (not for n-grams)
    ngrams: NGramSettings | None = None
    teacher: str | None = None  # a model whose P(positive) on the unlabeled reviews the model also learns from

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r}; choose one of {', '.join(FAMILIES)}")
        if (self.family == "ngrams") != (self.ngrams is not None):
            raise ValueError("n-gram settings go with the ngrams family, and only with it")


@dataclass(frozen=True)
class Pretraining:
    """The masked-LM pre-training's own settings (`TrainingConfig` fields) and sequence length."""

    training: dict
    sequence_length: int
