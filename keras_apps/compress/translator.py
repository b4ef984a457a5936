"""Smaller translators: an export's encoder–decoder in bfloat16, float16, Keras int8 and int4 (`keras_apps.compress.
variants`), each copy exported with the same `translate` signature, so that `python -m tasks.translate translate
--export-dir <variant>` serves it, and measured alike: sacreBLEU and ROUGE on the test sentences as that signature
translates them (beam search, as served), and greedy decoding tokens/s with the key/value cache at batch 1 and 64.

GPTQ and AWQ are not offered: Keras calibrates them through a decoder-only structure (an embedding, then blocks
that each read only the previous block's output), and a translator's decoder blocks also read the encoder's.
"""

from keras_apps.compress.measure import DECODING_BATCH_SIZES, TRANSLATION_SCORES, decoding_field, language_model_table
from keras_apps.compress.variants import export_variants, plain_variant


def scores(model, endpoint, sources, references):
    """A variant's figures: BLEU and ROUGE of `endpoint(model)`'s translations of `sources` against their
    `references`, and its cached greedy decoding tokens/s at each of `DECODING_BATCH_SIZES`."""
    import tensorflow as tf

    from keras_apps.evaluate.translation import translation_scores
    from keras_apps.inference.translation import Translator, decoding_speed, translate_all

    serve = tf.function(*endpoint(model))
    scored = translation_scores(translate_all(serve, sources), references)
    speed = decoding_speed(Translator(model), batch_sizes=DECODING_BATCH_SIZES)
    return {**{field: scored[field] for _, field, _ in TRANSLATION_SCORES},
            **{decoding_field(row["batch_size"]): row["cached_tokens_per_second"] for row in speed["batches"]}}


def compress(export, directory, modes, *, title, sources, references, metadata):
    """Measures the translation export `export` (an `explain.attention.TranslationExport`: its path, tokenizers and
    beam size) and a copy in each of `modes`, each exported into `directory/<mode>/1` (`variants.export_variants`).

    Args:
        sources, references: the test sentences and, for each, all its reference translations.
        metadata: the export's `export.json` facts; each variant's adds its `quantization`.
    """
    from keras_apps.inference.serving import translation_endpoint

    def endpoint(model):
        return translation_endpoint(model, export.source_tokenizer, export.target_tokenizer, export.beam_size)

    def describe(row):
        speeds = ", ".join(f"{row[decoding_field(size)]:,.0f} at batch {size}" for size in DECODING_BATCH_SIZES)
        return f"BLEU {row['bleu']:.2f}, {row['size_bytes']:,} bytes, decoding tokens/s {speeds}"

    return export_variants(
        export.path, directory, modes, make=plain_variant, endpoints=lambda model: {"translate": endpoint(model)},
        score=lambda model: scores(model, endpoint, sources, references),
        table=lambda rows: language_model_table(title, rows, TRANSLATION_SCORES), describe=describe,
        export={"metadata": metadata, "track": [export.source_tokenizer.tokenizer, export.target_tokenizer.tokenizer],
                "files_to_copy": [export.path / name for name in
                                  ("source_vocabulary.txt", "target_vocabulary.txt")]})
