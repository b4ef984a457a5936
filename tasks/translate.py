"""English→Spanish (or Spanish→English) translation by an encoder–decoder Transformer: trained, scored, exported.

    python -m tasks.translate                              # train, score the whole test split, export
    python -m tasks.translate --direction es-en --export-dir saved_models/translate-es-en   # the other way
    python -m tasks.translate translate "Where is the station?" --file sentences.txt
    python -m tasks.translate attention "Where is the station?"      # where each output word looked, as a PNG
    python -m tasks.translate compress                     # the export in 16, 8 and 4 bits, scored

Pairs are split by linked group (no sentence in two splits, see `keras_apps.data.translation_pairs`); the
test split's sentences are translated by the very function the export serves, and scored with sacreBLEU and
ROUGE-1/2 against all their reference translations. The export takes raw sentences and returns translations.
"""

import dataclasses
import time

from keras_apps import cli, progress
from keras_apps.compress.weight_formats import TRANSLATOR_MODES
from keras_apps.data.translation_pairs import DIRECTIONS
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.models.translator import TranslatorConfig
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK = "translate"
DEFAULT_EXPORT_DIR = "saved_models/translate"
SPLIT_SEED = 0  # The split is part of the benchmark: fixed, whatever --seed a run uses.
TRANSLATE_BATCH = 256  # sentences per call when translating the test split
SAMPLES_IN_REPORT = 12
VOCABULARY_SIZE = 8000

RECIPES = {
    # Sized to finish within 45 minutes on a 2-core CPU, evaluation and export included (bench/NOTES.md).
    "default": Recipe(
        TranslatorConfig(max_length=48, num_layers=2, num_heads=4, hidden_dim=256, intermediate_dim=1024,
                         dropout=0.1),
        TrainingConfig(epochs=8, batch_size=128, learning_rate=1e-3, weight_decay=0.01, warmup_fraction=0.05,
                       min_lr_fraction=0.02, adam_beta_2=0.98, gradient_clip_norm=1.0,
                       monitor="val_token_loss"),  # the loss over the real tokens (`TokenMean`), not Keras's
    ),
}
DEFAULT_RECIPE = "default"
MODEL_CARD = CardText(
    description="An encoder–decoder Transformer that translates short everyday sentences; raw text in, "
    "translated text out, decoded by beam search inside the SavedModel.",
    data="Tatoeba's English–Spanish sentence pairs as packaged by ManyThings.org (spa-eng.zip, 118,964 pairs, "
    "CC BY 2.0 FR), split by linked group so that no sentence of the test split was seen in training; each "
    "test sentence translated is scored against all of its reference translations.",
    intended_use="Teaching and demonstrating sequence-to-sequence Transformers, their training, decoding and "
    "serving; rough translation of short, simple sentences like the training data.",
    limits="The training split is about 100,000 short sentences (median 6 words): rare words are unknown (they come "
    "out as [UNK] or are guessed), long or technical sentences degrade quickly, and anything past 48 tokens is "
    "cut. Tatoeba's sentences carry its contributors' biases (for instance, gender defaults). Not for any use "
    "where a wrong translation matters.",
)


def _vocabularies(run, train_pairs, size):
    """The source and target vocabularies of the run, learned once from the training pairs; and their files."""
    from keras_apps.text.translation_tokens import learn_vocabulary, load_vocabulary
    from keras_apps.text.vocabulary import save_vocabulary

    vocabularies = [
        run.learned_once(name, lambda side=side: learn_vocabulary([pair[side] for pair in train_pairs], size),
                         save_vocabulary, load_vocabulary)
        for side, name in enumerate(("source_vocabulary.txt", "target_vocabulary.txt"))
    ]
    return vocabularies, [run.directory.path / "source_vocabulary.txt", run.directory.path / "target_vocabulary.txt"]


def train(args):
    import keras
    import tensorflow as tf

    from keras_apps.data import translation_pairs
    from keras_apps.data.sentence_batches import sentence_batches
    from keras_apps.evaluate.run_report import write_translation_report
    from keras_apps.evaluate.translation import translation_scores
    from keras_apps.explain.attention import draw_translation_attention
    from keras_apps.inference.serving import translation_endpoint
    from keras_apps.inference.translation import Translator, decoding_speed, speedups_in_words, translate_all
    from keras_apps.lifecycle import Export, fingerprint, start_run
    from keras_apps.models.translator import build_translator
    from keras_apps.recipes import overlaid
    from keras_apps.text.translation_tokens import SentenceTokenizer, encode_pairs
    from keras_apps.training.token_metrics import TokenMean

    recipe = overlaid(RECIPES[args.recipe], args)
    config = recipe.training
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir,
                    export_kind={"direction": args.direction})

    splits = translation_pairs.split_pairs(translation_pairs.load_pairs(args.data_dir), seed=SPLIT_SEED)
    train_pairs, validation_pairs, test_pairs = translation_pairs.run_pairs(splits, args.direction, args.train_pairs)
    if not (train_pairs and validation_pairs and test_pairs):
        raise UserError(f"the pairs split into {len(train_pairs)} training, {len(validation_pairs)} validation and "
                        f"{len(test_pairs)} test pairs: each split needs at least one")
    test_sources, test_references = translation_pairs.scored_sentences(test_pairs, args.test_sentences)
    run.open({"recipe": args.recipe, "direction": args.direction, "beam_size": args.beam_size,
              "vocabulary_size": args.vocabulary_size, "model": recipe.model.to_dict(), "train_pairs": len(train_pairs),
              "validation_pairs": len(validation_pairs), "test_examples": len(test_pairs),
              "test_sentences": len(test_sources), "data": fingerprint(train_pairs, validation_pairs, test_pairs)})

    (source_vocabulary, target_vocabulary), vocabulary_paths = _vocabularies(run, train_pairs, args.vocabulary_size)
    translator_config = dataclasses.replace(recipe.model, source_vocabulary_size=len(source_vocabulary),
                                            target_vocabulary_size=len(target_vocabulary))
    source_tokenizer = SentenceTokenizer(source_vocabulary, translator_config.max_length)
    target_tokenizer = SentenceTokenizer(target_vocabulary, translator_config.max_length)
    train_ids = encode_pairs(train_pairs, source_tokenizer, target_tokenizer, keep_long=False)
    validation_ids = encode_pairs(validation_pairs, source_tokenizer, target_tokenizer, keep_long=False)
    test_ids = encode_pairs(test_pairs, source_tokenizer, target_tokenizer, keep_long=True)
    train_count, validation_count = int(train_ids[0].nrows()), int(validation_ids[0].nrows())
    if train_count < config.batch_size or not validation_count:
        raise UserError(f"{train_count} training and {validation_count} validation pairs fit the model: training "
                        f"needs a batch of {config.batch_size} and validation at least one")
    print(f"Pairs ({args.direction}): {train_count:,} train (of {len(train_pairs):,}; longer than "
          f"{translator_config.max_length} tokens left out), {validation_count:,} validation, "
          f"{len(test_pairs):,} test ({len(test_sources):,} distinct test sentences scored). Vocabularies: "
          f"{len(source_vocabulary):,} source and {len(target_vocabulary):,} target WordPiece tokens.")

    result = run.fit(
        lambda: build_translator(translator_config),
        sentence_batches(*train_ids, config.batch_size, shuffle=True, seed=config.seed),
        sentence_batches(*validation_ids, config.batch_size),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight"),
        weighted_metrics=[TokenMean("accuracy", name="masked_accuracy"), TokenMean("cross_entropy", "token_loss")],
    )
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    model = result.model
    forced = model.evaluate(sentence_batches(*test_ids, config.batch_size), verbose=progress.verbosity(),
                            return_dict=True)  # teacher-forced, averaged over the real tokens

    # The function the export serves translates the test split: what is scored is what is served.
    run.begin("sampling and decoding")
    serve, signature = translation_endpoint(model, source_tokenizer, target_tokenizer, args.beam_size)
    serve = tf.function(serve, input_signature=signature)
    start = time.perf_counter()
    translations = translate_all(serve, test_sources, TRANSLATE_BATCH)
    translate_seconds = time.perf_counter() - start
    scores = translation_scores(translations, test_references)
    speed = decoding_speed(Translator(model))

    export = Export(
        {"translate": (serve, signature)}, track=[source_tokenizer.tokenizer, target_tokenizer.tokenizer],
        files=vocabulary_paths,
        metadata={"recipe": args.recipe, "direction": args.direction, "beam_size": args.beam_size,
                  "max_length": translator_config.max_length, "model": translator_config.to_dict(),
                  "inputs": "sentences: string [batch]", "outputs": "translations: string [batch]",
                  "test_split": fingerprint(test_pairs)},  # what `compress` checks it scores on
    )
    test = {"bleu": scores["bleu"], "rouge1_f1": scores["rouge1_f1"], "rouge2_f1": scores["rouge2_f1"],
            "masked_accuracy": forced["masked_accuracy"], "loss": forced["token_loss"]}
    extra = {"bleu_signature": scores["bleu_signature"], "beam_size": args.beam_size, "direction": args.direction,
             "test_sentences": len(test_sources), "test_translate_seconds": round(translate_seconds, 1),
             "test_sentences_per_second": round(len(test_sources) / translate_seconds, 1), "decoding": speed}

    def report(metrics):
        # The test sentences run from short to long (the file's order): sample evenly across them.
        step = max(len(test_sources) // SAMPLES_IN_REPORT, 1)
        samples = list(zip(test_sources, test_references, translations))[::step][:SAMPLES_IN_REPORT]
        example = next((source for source in test_sources if len(source.split()) >= 6), test_sources[0])
        path = run.directory.path / "cross_attention.png"
        explained = draw_translation_attention(model, source_tokenizer, target_tokenizer, example, args.beam_size,
                                               path)
        caption = (f"cross-attention of the last decoder block, averaged over heads: {example!r} → "
                   f"{explained.translation!r}")
        write_translation_report(run.directory, title=f"Translation {args.direction}, {args.recipe}",
                                 metrics=metrics, samples=samples, attention_map=(path, caption),
                                 whole_split=args.test_sentences is None)

    return run.finish(
        result, args.recipe, export, MODEL_CARD, report=report,
        summary=lambda metrics: (
            f"{args.direction} (beam {args.beam_size}): BLEU {scores['bleu']:.1f}, ROUGE-1 F1 "
            f"{scores['rouge1_f1']:.3f}, ROUGE-2 F1 {scores['rouge2_f1']:.3f} on {len(test_sources):,} test sentences, "
            f"masked token accuracy {test['masked_accuracy']:.4f} on all {len(test_pairs):,} test pairs | "
            f"{metrics['params']:,} parameters, {metrics['trained_for']}; cached decoding {speedups_in_words(speed)}"),
        test_metrics=test, extra=extra,
    )


def translate(args):
    import tensorflow as tf

    from keras_apps.export.saved_model import load_serving
    from keras_apps.inference.translation import note_cut_sentences

    sentences = cli.given_texts(args.sentences, args.file, "sentences to translate", keep_blank_lines=True)
    version_path, serve = load_serving(args.export_dir, signature="translate", task=TASK)
    for start in range(0, len(sentences), TRANSLATE_BATCH):
        batch = tf.constant(sentences[start : start + TRANSLATE_BATCH])
        for translation in serve(sentences=batch)["translations"].numpy():
            print(translation.decode("utf-8"))
    note_cut_sentences(version_path, sentences)
    return 0


def attention(args):
    from keras_apps.explain.attention import TranslationExport
    from keras_apps.inference.translation import note_cut_sentences

    if not args.sentence.strip():
        raise UserError("give a sentence to translate")
    cli.check_output(args.output, ".png")  # before the export loads, not after
    export = TranslationExport.load(args.export_dir, TASK)
    explained = export.draw(args.sentence, args.output)
    print(f"{explained.translation}\nattention map: {args.output}")
    note_cut_sentences(export.path, [args.sentence])
    return 0


def compress(args):
    from keras_apps.compress import reports, translator as compression
    from keras_apps.data import translation_pairs
    from keras_apps.explain.attention import TranslationExport

    export = TranslationExport.load(args.export_dir, TASK)
    reports.check_compressible(export.path)  # before any data loads
    oriented = translation_pairs.held_out_test(args.data_dir, export.metadata, export.path, SPLIT_SEED)
    sources, references = translation_pairs.scored_sentences(oriented, args.test_sentences)
    directory = reports.output_folder(TASK, args.run_dir, export.path)
    print(f"Compressing {export.path} into {directory} ({', '.join(args.modes)})")
    compression.compress(
        export, directory, args.modes, sources=sources, references=references,
        title=f"Translation {export.metadata['direction']}, {len(sources):,} test sentences, beam {export.beam_size}",
        metadata={key: value for key, value in export.metadata.items() if key not in ("version", "run", "test")})
    print(f"report: {directory / 'compression.md'}")
    return 0


def _train_arguments(parser):
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                        help=f"model size and schedule; flags below override parts (default: {DEFAULT_RECIPE})")
    parser.add_argument("--direction", choices=DIRECTIONS, default="en-es",
                        help="source and target language (default: en-es)")
    parser.add_argument("--beam-size", type=cli.positive_int, default=4,
                        help="beams when scoring and in the export; 1 is greedy decoding (default: 4)")
    cli.add_data_arguments(parser)
    parser.add_argument("--train-pairs", type=cli.positive_int, metavar="N",
                        help="use only the first N training pairs, and validation pairs in proportion, for a quick try")
    parser.add_argument("--test-sentences", type=cli.positive_int, metavar="N",
                        help="score only the first N test sentences, for a quick try (default: all)")
    parser.add_argument("--vocabulary-size", type=cli.positive_int, default=VOCABULARY_SIZE,
                        help=f"most WordPiece tokens per language; the learner may keep fewer "
                        f"(default: {VOCABULARY_SIZE:,})")
    cli.add_training_arguments(parser, TASK, RECIPES)
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)


def _translate_arguments(parser):
    parser.add_argument("sentences", nargs="*", type=cli.text_or_file, help="sentences to translate")
    parser.add_argument("--file", type=cli.path, action="append", default=[],
                        help="a UTF-8 text file, one sentence per line; a blank line gets a blank one (repeatable)")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)


def _attention_arguments(parser):
    parser.add_argument("sentence", type=cli.text, help="the sentence to translate")
    parser.add_argument("--output", type=cli.path, default="cross_attention.png",
                        help="the PNG to write (default: cross_attention.png)")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)


def _compress_arguments(parser):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(parser)
    cli.add_modes_argument(parser, TRANSLATOR_MODES)
    parser.add_argument("--test-sentences", type=cli.positive_int, metavar="N",
                        help="score only the first N test sentences, for a quick try (default: all)")
    cli.add_compression_run_dir_argument(parser, TASK)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "train, score the whole test split, export (default)",
                         "Train a translator on Tatoeba's English–Spanish pairs, score it on the test split with "
                         "sacreBLEU and ROUGE, export it as a SavedModel that translates raw sentences."),
    "translate": cli.Command(translate, _translate_arguments, "translate sentences with an export",
                             "Translate sentences with an exported translator (the direction it was trained for)."),
    "attention": cli.Command(attention, _attention_arguments,
                             "draw where the decoder looked while translating a sentence",
                             "Translate a sentence with an export and write the cross-attention of its last "
                             "decoder block (averaged over heads) as a heat map: one row per output token, one "
                             "column per input token."),
    "compress": cli.Command(compress, _compress_arguments, "an export's weights in 16, 8 and 4 bits, scored",
                            "Cast an exported translator to bfloat16 or float16 and quantize its weights (Keras int8 "
                            "and int4), export each copy with the same translate signature, and measure size, BLEU and "
                            "ROUGE on the test split and cached decoding speed at batch 1 and 64 beside float32's."),
}


def main(argv=None):
    return cli.main(TASK, "Sentence translation with an encoder–decoder Transformer: train (the default command), "
                    "translate with an export, or compress an export.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
