"""How raw text becomes a classifier's inputs. The same function runs in training and inside the export."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from keras_apps import files


@dataclass
class TextEncoder:
    """`encode(strings)` → the model's inputs, with what an export must carry for it to run there."""

    encode: Callable
    track: list = field(default_factory=list)  # objects the SavedModel saves with the serving graph
    files: list[Path] = field(default_factory=list)  # files copied beside the export


def ngram_encoder(features, directory):
    """`NGramFeatures` as an encoder; its n-grams are listed in `directory/ngrams.txt`, line i for feature i,
    which is how `explain` names the features."""
    ngrams = Path(directory) / "ngrams.txt"
    files.write_text(ngrams, "\n".join(features.vectorizer.get_vocabulary()) + "\n")
    return TextEncoder(features, track=[features.vectorizer], files=[ngrams])


def head_length(sequence_length):
    """Of a review cut to `sequence_length` tokens, how many come from its start (the rest from its end)."""
    return sequence_length // 4


def wordpiece_encoder(tokenizer, vocabulary_path, sequence_length):
    """WordPiece ids of a review's head (a quarter) and tail, padded to `sequence_length`."""
    from keras_apps.text.truncation import head_and_tail_encoder

    encode = head_and_tail_encoder(tokenizer, sequence_length, head=head_length(sequence_length))
    return TextEncoder(encode, track=[tokenizer], files=[Path(vocabulary_path)])


def bert_encoder(tokenizer, sequence_length):
    """BERT's inputs: `[CLS]` head and tail `[SEP]`, padded to `sequence_length` (the vocabulary is in the
    tokenizer, which the export saves)."""
    from keras_apps.text.truncation import bert_head_and_tail_encoder

    return TextEncoder(bert_head_and_tail_encoder(tokenizer, sequence_length, head=head_length(sequence_length)),
                       track=[tokenizer])
