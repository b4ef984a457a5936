"""English→Spanish (or Spanish→English) translation with an encoder–decoder Transformer: trained, scored,
exported.

    python -m tasks.translate                              # train, score the whole test split, export
    python -m tasks.translate --direction es-en            # the other way round
    python -m tasks.translate translate "Where is the station?" --file sentences.txt
    python -m tasks.translate attention "Where is the station?"      # where each output word looked, as a PNG

Pairs are split by linked group (no sentence in two splits, see `keras_apps.data.translation_pairs`); the
test split's sentences are translated by the very function the export serves, and scored with sacreBLEU and
ROUGE-1/2 against all their reference translations. The export takes raw sentences and returns translations.
"""

import sys
import time
from dataclasses import dataclass, field

from keras_apps import cli, files
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText

TASK = "translate"
DEFAULT_EXPORT_DIR = "saved_models/translate"
COMMANDS = ("train", "translate", "attention")
SPLIT_SEED = 0  # The split is part of the benchmark: fixed, whatever --seed a run uses.
TRANSLATE_BATCH = 256  # sentences per call when translating the test split
SAMPLES_IN_REPORT = 12


@dataclass(frozen=True)
class Recipe:
    """A model shape, its vocabulary sizes, and how to train it (flags override each value)."""

    model: dict
    vocabulary_size: int
    training: dict = field(default_factory=dict)


RECIPES = {
    # Sized to finish within 45 minutes on a 2-core CPU, evaluation and export included (bench/NOTES.md).
    "default": Recipe(
        model=dict(max_length=48, num_layers=2, num_heads=4, hidden_dim=256, intermediate_dim=1024, dropout=0.1),
        vocabulary_size=8000,
        training=dict(epochs=8, batch_size=128, learning_rate=1e-3, weight_decay=0.01, warmup_fraction=0.05,
                      min_lr_fraction=0.02, adam_beta_2=0.98, gradient_clip_norm=1.0),
    ),
}
DEFAULT_RECIPE = "default"
MODEL_CARD = CardText(
    description="An encoder–decoder Transformer that translates short everyday sentences; raw text in, "
    "translated text out, decoded by beam search inside the SavedModel.",
    data="Tatoeba's English–Spanish sentence pairs as packaged by ManyThings.org (spa-eng.zip, 118,964 pairs, "
    "CC BY 2.0 FR), split by linked group so that no sentence of the test split was seen in training; the "
    "test scores count every test sentence, against all of its reference translations.",
    intended_use="Teaching and demonstrating sequence-to-sequence Transformers, their training, decoding and "
    "serving; rough translation of short, simple sentences like the training data.",
    limits="Trained on about 100,000 short sentences (median 6 words): it does not know rare words (they come "
    "out as [UNK] or are guessed), long or technical sentences degrade quickly, and anything past 48 tokens is "
    "cut. Tatoeba's sentences carry its contributors' biases (for instance, gender defaults). Not for any use "
    "where a wrong translation matters.",
)


def _chosen(args, recipe):
    """The recipe's model values with the flags that were given laid over them."""
    model = dict(recipe.model)
    for name in ("max_length", "num_layers", "num_heads", "hidden_dim", "intermediate_dim", "dropout"):
        if getattr(args, name) is not None:
            model[name] = getattr(args, name)
    return model, args.vocabulary_size or recipe.vocabulary_size


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


def _encoded(pairs, source_tokenizer, target_tokenizer, *, keep_long):
    """Ragged source and `[START] … [END]` target ids; without `keep_long`, pairs that do not fit are dropped
    (with `keep_long`, they are cut to fit)."""
    import tensorflow as tf

    source_ids = source_tokenizer.token_ids(tf.constant([source for source, _ in pairs]))
    target_ids = target_tokenizer.token_ids(tf.constant([target for _, target in pairs]))
    if not keep_long:
        fits = ((source_ids.row_lengths() <= source_tokenizer.max_length)
                & (target_ids.row_lengths() < target_tokenizer.max_length))
        source_ids, target_ids = tf.ragged.boolean_mask(source_ids, fits), tf.ragged.boolean_mask(target_ids, fits)
    return source_tokenizer.as_source(source_ids), target_tokenizer.as_target(target_ids)


def train(args):
    import keras
    import tensorflow as tf

    from keras_apps.data import translation_pairs
    from keras_apps.data.sentence_batches import sentence_batches
    from keras_apps.evaluate.translation import translation_scores
    from keras_apps.inference.serving import translation_endpoint
    from keras_apps.inference.translation import Translator, decoding_speed
    from keras_apps.lifecycle import Export, fingerprint, start_run
    from keras_apps.models.translator import TranslatorConfig, build_translator
    from keras_apps.text.translation_tokens import SentenceTokenizer

    recipe = RECIPES[args.recipe]
    model_values, vocabulary_size = _chosen(args, recipe)
    config = cli.training_config(args, **recipe.training)
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    splits = translation_pairs.split_pairs(translation_pairs.load_pairs(args.data_dir), seed=SPLIT_SEED)
    train_pairs = translation_pairs.oriented(splits.train, args.direction)[: args.train_pairs]
    validation_pairs = translation_pairs.oriented(splits.validation, args.direction)
    test_pairs = translation_pairs.oriented(splits.test, args.direction)
    if not (train_pairs and validation_pairs and test_pairs):
        raise UserError(f"the pairs split into {len(train_pairs)} training, {len(validation_pairs)} validation and "
                        f"{len(test_pairs)} test pairs: each split needs at least one")
    test_sources, test_references = translation_pairs.references_by_source(test_pairs)
    test_sources, test_references = test_sources[: args.test_sentences], test_references[: args.test_sentences]
    run.open({"recipe": args.recipe, "direction": args.direction, "beam_size": args.beam_size,
              "vocabulary_size": vocabulary_size, "model": model_values, "train_pairs": len(train_pairs),
              "validation_pairs": len(validation_pairs), "test_examples": len(test_pairs),
              "test_sentences": len(test_sources), "data": fingerprint(train_pairs, validation_pairs, test_pairs)})

    (source_vocabulary, target_vocabulary), vocabulary_paths = _vocabularies(run, train_pairs, vocabulary_size)
    try:
        translator_config = TranslatorConfig(
            source_vocabulary_size=len(source_vocabulary), target_vocabulary_size=len(target_vocabulary),
            **model_values,
        )
    except ValueError as exc:
        raise UserError(str(exc).replace("_", "-")) from None
    source_tokenizer = SentenceTokenizer(source_vocabulary, translator_config.max_length)
    target_tokenizer = SentenceTokenizer(target_vocabulary, translator_config.max_length)
    train_ids = _encoded(train_pairs, source_tokenizer, target_tokenizer, keep_long=False)
    validation_ids = _encoded(validation_pairs, source_tokenizer, target_tokenizer, keep_long=False)
    test_ids = _encoded(test_pairs, source_tokenizer, target_tokenizer, keep_long=True)
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
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="masked_accuracy")],
    )
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    model = result.model
    test_loss, test_accuracy = model.evaluate(sentence_batches(*test_ids, config.batch_size), verbose=0)

    # The function the export serves translates the test split: what is scored is what is served.
    serve, signature = translation_endpoint(model, source_tokenizer, target_tokenizer, args.beam_size)
    serve = tf.function(serve, input_signature=signature)
    start = time.perf_counter()
    translations = _translate_all(serve, test_sources)
    translate_seconds = time.perf_counter() - start
    scores = translation_scores(translations, test_references)
    speed = decoding_speed(Translator(model))

    export = Export(
        {"translate": (serve, signature)}, track=[source_tokenizer.tokenizer, target_tokenizer.tokenizer],
        files=vocabulary_paths,
        metadata={"recipe": args.recipe, "direction": args.direction, "beam_size": args.beam_size,
                  "max_length": translator_config.max_length, "model": translator_config.to_dict(),
                  "inputs": "sentences: string [batch]", "outputs": "translations: string [batch]"},
    )
    test = {"bleu": scores["bleu"], "rouge1_f1": scores["rouge1_f1"], "rouge2_f1": scores["rouge2_f1"],
            "masked_accuracy": test_accuracy, "loss": test_loss}
    extra = {"bleu_signature": scores["bleu_signature"], "beam_size": args.beam_size, "direction": args.direction,
             "test_sentences": len(test_sources), "test_translate_seconds": round(translate_seconds, 1),
             "test_sentences_per_second": round(len(test_sources) / translate_seconds, 1), "decoding": speed}

    def report(metrics):
        # The test sentences run from short to long (the file's order): sample evenly across them.
        step = max(len(test_sources) // SAMPLES_IN_REPORT, 1)
        samples = list(zip(test_sources, test_references, translations))[::step][:SAMPLES_IN_REPORT]
        example = next((source for source in test_sources if len(source.split()) >= 6), test_sources[0])
        attention_map = _plot_attention(model, source_tokenizer, target_tokenizer, example, args.beam_size,
                                        run.directory.path / "cross_attention.png")
        _write_report(run.directory, args, metrics, samples, attention_map)

    return run.finish(
        result, args.recipe, export, MODEL_CARD, report=report,
        summary=lambda metrics: (
            f"{args.direction} (beam {args.beam_size}): BLEU {scores['bleu']:.1f}, ROUGE-1 F1 "
            f"{scores['rouge1_f1']:.3f}, ROUGE-2 F1 {scores['rouge2_f1']:.3f}, masked token accuracy "
            f"{test_accuracy:.4f} on {len(test_sources):,} test sentences | {metrics['params']:,} parameters, "
            f"{metrics['epochs']} epochs in {metrics['train_seconds']:.0f} s; cached decoding "
            + ", ".join(f"{row['speedup']:.1f}x" for row in speed["batches"]) + " the tokens per second of "
            + "uncached at batch " + " and ".join(str(row["batch_size"]) for row in speed["batches"])),
        test_metrics=test, extra=extra,
    )


def _translate_all(serve, sentences):
    """The translations of `sentences`, in their order, `TRANSLATE_BATCH` at a time.

    Batches are made of sentences of similar lengths: a batch decodes until its longest translation ends,
    so mixing lengths would keep short sentences waiting (and padding them).
    """
    import tensorflow as tf

    order = sorted(range(len(sentences)), key=lambda index: len(sentences[index]))
    translations = [""] * len(sentences)
    for start in range(0, len(order), TRANSLATE_BATCH):
        indices = order[start : start + TRANSLATE_BATCH]
        batch = serve(tf.constant([sentences[index] for index in indices]))["translations"].numpy()
        for index, text in zip(indices, batch):
            translations[index] = text.decode("utf-8")
    return translations


def _plot_attention(model, source_tokenizer, target_tokenizer, sentence, beam_size, path):
    """Translates `sentence` and writes the decoder's cross-attention as a heat map; returns `(path, caption)`."""
    from keras_apps.explain.attention import explain_translation, plot_cross_attention

    explained = explain_translation(model, source_tokenizer, target_tokenizer, sentence, beam_size)
    plot_cross_attention(explained.weights, explained.source_tokens, explained.written_tokens, path,
                         title=f"{sentence} → {explained.translation}")
    return path, (f"cross-attention of the last decoder block, averaged over heads: {sentence!r} → "
                  f"{explained.translation!r}")


def _write_report(run_directory, args, metrics, samples, attention_map):
    """`report.html` and `report.md`: scores, sample translations, attention, decoding speed, training, export."""
    from keras_apps.evaluate.report import Image, Table, Text
    from keras_apps.evaluate.run_report import write_run_report

    test, extra = metrics["test"], metrics["extra"]
    decoding = extra["decoding"]
    scope = "the whole split" if args.test_sentences is None else "a quick try: not the whole split"
    sections = [
        ("Evaluation on the test split", [
            Text(f"{extra['test_sentences']:,} distinct test sentences ({scope}), each translated by the export's "
                 f"function (beam {extra['beam_size']}) and scored against all of its reference translations."),
            Table(["metric", "value"], [
                ("BLEU (sacreBLEU)", f"{test['bleu']:.2f}"), ("ROUGE-1 F1", f"{test['rouge1_f1']:.4f}"),
                ("ROUGE-2 F1", f"{test['rouge2_f1']:.4f}"), ("masked token accuracy", f"{test['masked_accuracy']:.4f}"),
                ("BLEU signature", extra["bleu_signature"]),
                ("translation time", f"{extra['test_translate_seconds']:,.0f} s "
                                     f"({extra['test_sentences_per_second']:,.0f} sentences/s)"),
            ]),
        ]),
        ("Sample translations (evenly spaced through the test split, short to long)", [
            Table(["source", "reference(s)", "translation"],
                  [(source, " | ".join(references), translation) for source, references, translation in samples]),
        ]),
        ("Where the decoder looked", [Image(*attention_map)]),
        ("Decoding speed", [
            Text(f"Greedy decoding of {decoding['tokens']} tokens per sentence, median of {decoding['repeats']} "
                 f"runs: with the key/value cache each step feeds one token; without it, each step reruns the "
                 f"decoder over the whole target buffer."),
            Table(["batch", "cached tokens/s", "uncached tokens/s", "speed-up"], [
                (f"{row['batch_size']}", f"{row['cached_tokens_per_second']:,.0f}",
                 f"{row['uncached_tokens_per_second']:,.0f}", f"{row['speedup']:.1f}x")
                for row in decoding["batches"]
            ]),
        ]),
    ]
    throughput = ("training pairs per second", f"{metrics['train_examples_per_second']:,.0f}")
    write_run_report(run_directory, f"Translation {args.direction}, {args.recipe}", metrics, sections, throughput)


def translate(args):
    import tensorflow as tf

    from keras_apps.export.saved_model import load_serving

    sentences = list(args.sentences) + [line for path in args.file for line in files.read_lines(path)]
    if not sentences:
        raise UserError("give sentences to translate as arguments or with --file")
    _, serve = load_serving(args.export_dir, signature="translate", task=TASK)
    for start in range(0, len(sentences), TRANSLATE_BATCH):
        batch = tf.constant(sentences[start : start + TRANSLATE_BATCH])
        for translation in serve(sentences=batch)["translations"].numpy():
            print(translation.decode("utf-8"))
    return 0


def _load_export(export_dir):
    """The model of a translation export, its source and target tokenizers, and its `export.json`."""
    import json

    import keras

    from keras_apps.export.saved_model import resolve_task_export
    from keras_apps.text.translation_tokens import SentenceTokenizer, load_vocabulary

    path = resolve_task_export(export_dir, TASK)
    metadata = json.loads((path / "export.json").read_text())
    model = keras.saving.load_model(path / "model.keras", compile=False)
    tokenizers = [SentenceTokenizer(load_vocabulary(path / f"{side}_vocabulary.txt"), metadata["max_length"])
                  for side in ("source", "target")]
    return model, *tokenizers, metadata


def attention(args):
    from keras_apps.explain.attention import explain_translation, plot_cross_attention

    if not args.sentence.strip():
        raise UserError("give a sentence to translate")
    model, source_tokenizer, target_tokenizer, metadata = _load_export(args.export_dir)
    explained = explain_translation(model, source_tokenizer, target_tokenizer, args.sentence, metadata["beam_size"])
    plot_cross_attention(explained.weights, explained.source_tokens, explained.written_tokens, args.output,
                         title=f"{args.sentence} → {explained.translation}")
    print(f"{explained.translation}\nattention map: {args.output}")
    return 0


def build_parser():
    from keras_apps.data.translation_pairs import DIRECTIONS

    parser, commands = cli.task_parser(
        TASK, "Sentence translation with an encoder–decoder Transformer: train (the default command) or "
        "translate with an export.", COMMANDS,
    )
    train_parser = commands.add_parser(
        "train", help="train, score the whole test split, export (default)",
        description="Train a translator on Tatoeba's English–Spanish pairs, score it on the test split with "
        "sacreBLEU and ROUGE, export it as a SavedModel that translates raw sentences.",
    )
    train_parser.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                              help=f"model size and schedule; flags below override parts (default: {DEFAULT_RECIPE})")
    train_parser.add_argument("--direction", choices=DIRECTIONS, default="en-es",
                              help="source and target language (default: en-es)")
    train_parser.add_argument("--beam-size", type=cli.positive_int, default=4,
                              help="beams when scoring and in the export; 1 is greedy decoding (default: 4)")
    cli.add_data_arguments(train_parser)
    train_parser.add_argument("--train-pairs", type=cli.positive_int, metavar="N",
                              help="use only the first N training pairs, for a quick try")
    train_parser.add_argument("--test-sentences", type=cli.positive_int, metavar="N",
                              help="score only the first N test sentences, for a quick try (default: all)")

    model_group = train_parser.add_argument_group("model (default: per recipe)")
    model_group.add_argument("--vocabulary-size", type=cli.positive_int,
                             help="most WordPiece tokens per language (the learner may keep fewer)")
    model_group.add_argument("--max-length", type=cli.positive_int, help="tokens each side reads; longer is cut")
    model_group.add_argument("--num-layers", type=cli.positive_int, help="encoder blocks, and as many decoder blocks")
    model_group.add_argument("--num-heads", type=cli.positive_int, help="attention heads per block")
    model_group.add_argument("--hidden-dim", type=cli.positive_int, help="width (a multiple of --num-heads)")
    model_group.add_argument("--intermediate-dim", type=cli.positive_int, help="feed-forward width")
    model_group.add_argument("--dropout", type=cli.probability, help="dropout while training")
    cli.add_training_arguments(train_parser, TASK)
    cli.add_export_argument(train_parser, DEFAULT_EXPORT_DIR, loading=False)
    train_parser.set_defaults(handler=train)

    translate_parser = commands.add_parser(
        "translate", help="translate sentences with an export",
        description="Translate sentences with an exported translator (the direction it was trained for).",
    )
    translate_parser.add_argument("sentences", nargs="*", type=cli.text, help="sentences to translate")
    translate_parser.add_argument("--file", action="append", default=[],
                                  help="a UTF-8 text file, one sentence per line (repeatable)")
    cli.add_export_argument(translate_parser, DEFAULT_EXPORT_DIR, loading=True)
    translate_parser.set_defaults(handler=translate)

    attention_parser = commands.add_parser(
        "attention", help="draw where the decoder looked while translating a sentence",
        description="Translate a sentence with an export and write the cross-attention of its last decoder "
        "block (averaged over heads) as a heat map: one row per output token, one column per input token.",
    )
    attention_parser.add_argument("sentence", type=cli.text, help="the sentence to translate")
    attention_parser.add_argument("--output", default="cross_attention.png",
                                  help="the PNG to write (default: cross_attention.png)")
    cli.add_export_argument(attention_parser, DEFAULT_EXPORT_DIR, loading=True)
    attention_parser.set_defaults(handler=attention)
    return parser


def main(argv=None):
    args = cli.parse_command_line(build_parser(), argv, COMMANDS)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(cli.run(main))
