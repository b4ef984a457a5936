"""Where the translator looked: the cross-attention of its last decoder block, as weights and as a heat map.

Each row is a step of the decoder, labelled with the target token it wrote; each column a source token; a row
is how that step's attention was spread over the source sentence, averaged over the heads. keras-hub's
`TransformerDecoder` does not return attention weights, so the last block's two attention sub-layers are
called here directly (its layer norms and attention layers, as its `call` does), with Keras
`MultiHeadAttention`'s own `return_attention_scores` for the cross-attention; the written-out block
(`--blocks explained`) returns them itself.
"""

import json
import textwrap
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.inference.translation import Translator, build_sampler
from keras_apps.models import attention_explained
from keras_apps.text.normalize import sanitize
from keras_apps.text.translation_tokens import END_ID, PAD_ID


def cross_attention(model, source_ids, target_ids):
    """Cross-attention weights `[heads, target length, source length]` of the last decoder block of a
    `build_translator` model for one sentence: 1-D `source_ids`, and the decoder's input `target_ids`
    (`[START]` then the translation; row i is the step that wrote token i + 1)."""
    translator = Translator(model)
    source_ids = ops.convert_to_tensor(np.asarray(source_ids, np.int32)[None])
    target_ids = ops.convert_to_tensor(np.asarray(target_ids, np.int32)[None])
    encoded, source_mask = translator.encode(source_ids)
    *earlier, last = translator.decoders
    x = translator.target_embedding(target_ids)
    for decoder in earlier:
        x = decoder(x, encoded, encoder_padding_mask=source_mask)
    if isinstance(last, attention_explained.TransformerDecoder):  # `--blocks explained`: it gives its weights
        return ops.convert_to_numpy(last.cross_attention_weights(x, encoded, source_mask))[0]
    if not last.normalize_first:
        raise ValueError("cross_attention follows the pre-norm blocks build_translator makes")
    length = ops.shape(target_ids)[1]
    causal = ops.tril(ops.ones((1, length, length), dtype="bool"))
    query = last._self_attention_layer_norm(x)
    x = x + last._self_attention_layer(query=query, value=query, attention_mask=causal)
    query = last._cross_attention_layer_norm(x)
    _, scores = keras.layers.MultiHeadAttention.call(
        last._cross_attention_layer, query=query, value=encoded, attention_mask=source_mask[:, None, :],
        return_attention_scores=True,
    )
    return ops.convert_to_numpy(scores)[0]


def plot_cross_attention(weights, source_tokens, written_tokens, path, title=""):
    """A heat map of the head-averaged `weights` as a PNG: one row per step, labelled with the token it wrote
    (`written_tokens`), one column per source token."""
    from keras_apps.evaluate.plots import pyplot_for_files, save

    pyplot = pyplot_for_files()
    average = np.asarray(weights).mean(axis=0)[: len(written_tokens), : len(source_tokens)]
    figure, axis = pyplot.subplots(figsize=(1.2 + 0.55 * len(source_tokens), 1.2 + 0.4 * len(written_tokens)))
    image = axis.imshow(average, cmap="viridis", vmin=0, vmax=max(float(average.max()), 1e-6), aspect="auto")
    axis.set_xticks(range(len(source_tokens)), source_tokens, rotation=60, ha="right")
    axis.set_yticks(range(len(written_tokens)), written_tokens)
    axis.set_xlabel("source token")
    axis.set_ylabel("target token written")
    if title:
        axis.set_title(textwrap.fill(title, width=max(30, 6 * len(source_tokens))), fontsize=9)
    figure.colorbar(image, ax=axis, fraction=0.04, pad=0.02)
    return save(figure, path)


@dataclass(frozen=True)
class TranslationAttention:
    """A sentence, its translation, and the cross-attention that wrote it, token by token."""

    sentence: str
    translation: str
    source_tokens: list  # those the model read: a sentence's first `max_length`
    written_tokens: list
    weights: np.ndarray  # [heads, written tokens, source tokens]
    sentence_tokens: int  # the whole sentence's

    @property
    def title(self):
        """"sentence → translation", saying how much of a long sentence the model read."""
        read = len(self.source_tokens)
        cut = f" (the model read its first {read} of {self.sentence_tokens} tokens)"
        return f"{self.sentence}{cut if self.sentence_tokens > read else ''} → {self.translation}"


def explain_translation(model, source_tokenizer, target_tokenizer, sentence, beam_size=1):
    """Translates `sentence` as the export does (cleaned as its graph cleans it: `sanitize`) and returns where each
    step of the decoder looked; a sentence of no tokens (blank once cleaned) is refused."""
    token_ids = source_tokenizer.token_ids(sanitize(tf.constant([sentence])))
    if token_ids.row_lengths()[0] == 0:
        raise UserError(f"{sentence!r} has no words the model reads: nothing to translate")
    source_ids = source_tokenizer.as_source(token_ids).to_tensor()
    target_ids = Translator(model).translate(source_ids, build_sampler(beam_size)).numpy()[0]
    written = [int(token) for token in target_ids[1:]]
    written = written[: written.index(END_ID) + 1] if END_ID in written else written
    weights = cross_attention(model, source_ids.numpy()[0], target_ids[: len(written)])
    source = [int(token) for token in source_ids.numpy()[0]]
    return TranslationAttention(
        sentence=sentence, translation=target_tokenizer.decode(target_ids[None]).numpy()[0].decode("utf-8"),
        source_tokens=[source_tokenizer.tokenizer.id_to_token(token) for token in source if token != PAD_ID],
        written_tokens=[target_tokenizer.tokenizer.id_to_token(token) for token in written],
        weights=weights, sentence_tokens=int(token_ids.row_lengths()[0]),
    )


def draw_translation_attention(model, source_tokenizer, target_tokenizer, sentence, beam_size, path):
    """Translates `sentence` and draws where the decoder looked into the PNG `path`; returns the explanation.
    `path` is checked first, so that a folder or an unwritable place is refused before the work, not after."""
    files.check_writable_file(path)
    explained = explain_translation(model, source_tokenizer, target_tokenizer, sentence, beam_size)
    plot_cross_attention(explained.weights, explained.source_tokens, explained.written_tokens, path,
                         title=explained.title)
    return explained


@dataclass(frozen=True)
class TranslationExport:
    """What drawing a translation export's attention (or compressing it) needs: the Keras model it carries, its
    two tokenizers, the beam size its `translate` signature decodes with, and its `export.json` facts."""

    path: object
    model: keras.Model
    source_tokenizer: object
    target_tokenizer: object
    beam_size: int
    metadata: dict

    @classmethod
    def load(cls, export_dir, task):
        """The export at `export_dir` (a version, or a folder of versions whose latest is used) of `task`."""
        from keras_apps.export.saved_model import load_keras_model
        from keras_apps.text.translation_tokens import SentenceTokenizer, load_vocabulary

        path, model = load_keras_model(export_dir, task)
        metadata = json.loads((path / "export.json").read_text())
        source, target = (SentenceTokenizer(load_vocabulary(path / f"{side}_vocabulary.txt"), metadata["max_length"])
                          for side in ("source", "target"))
        return cls(path, model, source, target, metadata["beam_size"], metadata)

    def draw(self, sentence, path):
        """Translates `sentence` and draws where the decoder looked into the PNG `path`; returns the explanation."""
        return draw_translation_attention(self.model, self.source_tokenizer, self.target_tokenizer, sentence,
                                          self.beam_size, path)
