"""A GPT trained from scratch on a text file (Tiny Shakespeare by default), sampled from, and exported.

    python -m tasks.gpt                               # the default model: train, report, export
    python -m tasks.gpt --recipe nanogpt-cpu          # nanoGPT's published CPU recipe, for comparison
    python -m tasks.gpt --text-file book.txt --tokenizer byte
    python -m tasks.gpt --text-file reviews.txt --tokenizer wordpiece   # subwords: a model that writes words
    python -m tasks.gpt --text-file new.txt --init-from saved_models/gpt --lora-rank 8   # fine-tune an export
    python -m tasks.gpt generate "ROMEO:" --max-new-tokens 300
    python -m tasks.gpt compress                      # the latest export in 16 bits, int8, int4, GPTQ, AWQ

Training counts steps, not epochs: every `--eval-interval` steps the validation loss is measured on a
fixed sample of `--eval-batches` batches, and the best model so far is kept. After training, the best model
is scored on the whole validation split (the last tenth of the text); `metrics.json` reports that loss and
its perplexity. The export's `generate` signature takes a prompt and returns text.
"""

import dataclasses
from pathlib import Path

from keras_apps import cli, settings
from keras_apps.compress.weight_formats import GPT_MODES
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText
from keras_apps.inference.generation_options import MAX_NEW_TOKENS, SAMPLERS, generate_inputs
from keras_apps.models.gpt import GPTConfig
from keras_apps.recipes import Recipe, StepSchedule
from keras_apps.text.tokenizer_kinds import TOKENIZERS, count_before_learning
from keras_apps.training.config import TrainingConfig

TASK = "gpt"
DEFAULT_EXPORT_DIR = "saved_models/gpt"
VALIDATION_FRACTION = 0.1

RECIPES = {
    # nanoGPT's README recipe for a CPU ("baby GPT", 0.8M parameters): the speed and quality reference.
    "nanogpt-cpu": Recipe(
        GPTConfig(context_length=64, num_layers=4, num_heads=4, hidden_dim=128, dropout=0.0),
        TrainingConfig(batch_size=12, learning_rate=1e-3, weight_decay=0.1, adam_beta_2=0.99, gradient_clip_norm=1.0,
                       steps_per_execution=10, jit_compile=True),
        StepSchedule(max_steps=2000, eval_interval=250, eval_batches=20, warmup_steps=100, min_learning_rate=1e-4),
    ),
    # The default: the most accurate model found for about 15 minutes of a 2-core CPU (3.2M parameters), in
    # bfloat16 computation (float32 weights and logits), faster than float32 on CPUs (bench/NOTES.md).
    "default": Recipe(
        GPTConfig(context_length=128, num_layers=4, num_heads=4, hidden_dim=256, dropout=0.1),
        TrainingConfig(batch_size=32, learning_rate=1e-3, weight_decay=0.1, adam_beta_2=0.99, gradient_clip_norm=1.0,
                       steps_per_execution=10, precision="mixed_bfloat16"),
        StepSchedule(max_steps=2000, eval_interval=200, eval_batches=20, warmup_steps=100, min_learning_rate=1e-4),
    ),
}
DEFAULT_RECIPE = "default"
SAMPLE_PROMPTS = ("\n", "ROMEO:")  # Tiny Shakespeare's; another text's come from its validation split
TOKENIZER_WORDS = {  # for a model's card: what its tokens are, and what text it can read
    "char": ("character-level", "only its training text's characters (others: the unknown token)"),
    "byte": ("byte-level", "any UTF-8 text, one byte at a time"),
    "wordpiece": ("subword-level (WordPiece)", "lowercase words in its text's word pieces (others: the unknown token)"),
}


def card_text(tokenizer_kind, text_file):
    """The card's words for a model of `tokenizer_kind` tokens that learned `text_file` (None: Tiny Shakespeare)."""
    tokens, reads = TOKENIZER_WORDS[tokenizer_kind]
    text = (f"{Path(text_file).name}, the text given with --text-file" if text_file else
            "Tiny Shakespeare (karpathy/char-rnn, 1,115,394 characters from Shakespeare's plays)")
    return CardText(
        description=f"A {tokens} GPT: a prompt in, a continuation in its training text's style out, token by token.",
        data=f"{text}; the first 90 % trains, the last 10 % validates.",
        intended_use="Teaching and demonstrating how a decoder-only language model is trained, sampled and "
        "served; generating text in the manner of the training text, for fun.",
        limits="A few million parameters trained for minutes: it imitates spelling, layout and rhythm, not "
        f"meaning. It reads {reads}, and knows nothing beyond its training text; nothing it writes is true, and "
        "it must not be used as a source of facts.",
    )


def train(args):
    import keras
    import tensorflow as tf

    from keras_apps.data.text_corpus import learned_reviews, load_corpus, split_corpus, text_record
    from keras_apps.data.token_windows import check_length, evaluation_windows, random_windows
    from keras_apps.evaluate.language_model import prompts_from, whole_split_loss, write_report, write_samples
    from keras_apps.inference.serving import recorded_generation_endpoint
    from keras_apps.inference.text_generation import sampling_settings
    from keras_apps.lifecycle import Export, fingerprint, start_run
    from keras_apps.models.gpt import build_gpt
    from keras_apps.recipes import overlaid
    from keras_apps.text.characters import build_tokenizer, load_tokenizer, save_tokenizer, token_ids
    from keras_apps.training.flops import model_flops_utilization
    from keras_apps.training.init_from import from_export

    # What the export serves, recorded in it (its copies sample alike) and in the run (a resume cannot change it).
    sampling = sampling_settings(args.sampler, top_k=args.top_k, top_p=args.top_p)
    start = args.init_from and from_export(args.init_from, TASK, given_flags=settings.given_flags(GPTConfig, args),
                                           run_dir=args.run_dir)
    if start and args.tokenizer not in (None, start.metadata["tokenizer"]):
        raise UserError(f"--tokenizer {args.tokenizer}: the export at {start.path} reads with its own, "
                        f"{start.metadata['tokenizer']}")
    if args.lora_rank and not start:
        raise UserError("--lora-rank adapts a trained model: give the export to fine-tune with --init-from")
    recipe = overlaid(RECIPES[args.recipe], args)
    config, schedule = recipe.training, recipe.schedule
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    text = load_corpus(args.text_file, args.data_dir)
    train_text, validation_text = split_corpus(text, VALIDATION_FRACTION)
    tokenizer_kind = start.metadata["tokenizer"] if start else args.tokenizer or "char"
    model_settings = start.metadata["model"] if start else recipe.model.to_dict()
    for split, part in (("training", train_text), ("validation", validation_text)):  # before the folder opens
        check_length(count_before_learning(part, tokenizer_kind), model_settings["context_length"], split)
    started = {**(start.record() if start else {}), "lora_rank": args.lora_rank}  # a fine-tune's export names it
    run.open({"recipe": args.recipe, "text_file": args.text_file and str(Path(args.text_file).resolve()),
              "tokenizer": tokenizer_kind, "model": model_settings, **dataclasses.asdict(schedule),
              "data": fingerprint(text), **started, **sampling})
    # A resumed run keeps the vocabulary its checkpoints were trained with; a fine-tuned one, its export's.
    tokenizer = run.learned_once(
        "tokenizer.json", lambda: load_tokenizer(start.path / "tokenizer.json") if start else build_tokenizer(
            tokenizer_kind, train_text), save_tokenizer, load_tokenizer)
    train_ids, validation_ids = token_ids(tokenizer, train_text), token_ids(tokenizer, validation_text)
    gpt_config = GPTConfig(**{**model_settings, "vocabulary_size": tokenizer.vocabulary_size()})
    print(f"Text: {len(text):,} characters; {len(train_ids):,} training and {len(validation_ids):,} validation "
          f"tokens ({tokenizer_kind}, vocabulary {gpt_config.vocabulary_size}). An epoch below is "
          f"{schedule.eval_interval} steps of {config.batch_size} windows of {gpt_config.context_length} tokens.")

    context = gpt_config.context_length
    result = run.fit(
        start.build_model if start else lambda: build_gpt(gpt_config),
        random_windows(train_ids, context, config.batch_size, schedule.eval_interval, seed=config.seed),
        evaluation_windows(validation_ids, context, config.batch_size, max_batches=schedule.eval_batches),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), lora_rank=args.lora_rank,
    )
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    validation = whole_split_loss(result.model, validation_ids, context)
    before = start and whole_split_loss(start.build_model(), validation_ids, context)
    tokens_per_second = result.train_examples_per_second * context
    flops = gpt_config.training_flops_per_token(result.model.count_params(), result.trainable_params)
    efficiency = model_flops_utilization(flops, tokens_per_second, result.model.compute_dtype)

    # The function the export serves makes the report's samples too: what a user reads is what it serves.
    run.begin("sampling and decoding")
    learned = text_record(args.text_file, text)
    generate_text, signature = recorded_generation_endpoint(result.model, tokenizer, {**sampling, "text": learned})
    generate_text = tf.function(generate_text, input_signature=signature)
    prompts = SAMPLE_PROMPTS if args.text_file is None else prompts_from(validation_text)
    samples = write_samples(generate_text, run.directory.path / "samples.md", prompts, tokens=args.sample_tokens,
                            temperature=args.temperature, sampler=args.sampler, seed=config.seed)
    export = Export(
        {"generate": (generate_text, signature)}, track=[tokenizer], files=[run.directory.path / "tokenizer.json"],
        metadata={"recipe": args.recipe, "validation": validation, "model": gpt_config.to_dict(), **sampling,
                  "text": learned, "tokenizer": tokenizer_kind, "inputs": generate_inputs(learned_reviews(learned)),
                  "outputs": "completion: string [] (the new text); text: string [] (prompt + completion)",
                  **({"init_from": started} if start else {})},
    )
    return run.finish(
        result, args.recipe, export, card_text(tokenizer_kind, args.text_file),
        report=lambda metrics: write_report(run.directory, f"GPT, {args.recipe}", metrics, samples,
                                            (len(train_ids), len(validation_ids)), sampler=args.sampler,
                                            temperature=args.temperature),
        summary=lambda metrics: (
            f"{samples[1]}\n\n{args.recipe}: validation loss {validation['loss']:.4f} (perplexity "
            f"{validation['perplexity']:.2f}) on the whole validation split"
            + (f" (the export it started from: {before['loss']:.4f})" if start else "")
            + f" | {metrics['params']:,} parameters, "
            f"{metrics['steps']:,} steps ({metrics['trained_for']}, {tokens_per_second:,.0f} tokens/s, "
            f"MFU {efficiency['mfu']:.0%} of this machine's measured matmul FLOP/s)"),
        extra=efficiency,
        metrics_update={"validation": validation, "steps": result.epochs_completed * schedule.eval_interval,
                        "train_tokens_per_second": round(tokens_per_second, 1),
                        **({"validation_before_training": before} if start else {})},
    )


def generate(args):
    import tensorflow as tf

    from keras_apps.export.saved_model import load_serving
    from keras_apps.inference.text_generation import note_unknown_prompt_tokens

    if args.max_new_tokens > MAX_NEW_TOKENS:
        raise UserError(f"--max-new-tokens is at most {MAX_NEW_TOKENS:,} per call, got {args.max_new_tokens:,}")
    version_path, generate_text = load_serving(args.export_dir, signature="generate", task=TASK)
    note_unknown_prompt_tokens(version_path, args.prompt)
    output = generate_text(
        prompt=tf.constant(args.prompt), max_new_tokens=tf.constant(args.max_new_tokens),
        temperature=tf.constant(args.temperature), seed=tf.constant(args.seed),
    )
    print(output["text"].numpy().decode("utf-8"))
    return 0


def compress(args):
    from keras_apps.compress import language_model, reports
    from keras_apps.data.text_corpus import check_trained_on, learned_text, split_corpus
    from keras_apps.data.token_windows import evaluation_windows
    from keras_apps.export.saved_model import export_metadata, resolve_task_export
    from keras_apps.inference.serving import recorded_generation_endpoint
    from keras_apps.inference.text_generation import decoding_tokens_per_second
    from keras_apps.text.characters import load_tokenizer, token_ids

    export_path = resolve_task_export(args.export_dir, TASK)
    reports.check_compressible(export_path)  # before any text loads
    recorded = export_metadata(export_path)
    tokenizer = load_tokenizer(export_path / "tokenizer.json")
    text_file, text = learned_text(recorded, args.text_file, args.data_dir)
    check_trained_on(recorded, text_file, text, export_path)
    training_text, validation_text = split_corpus(text, VALIDATION_FRACTION)
    windows = evaluation_windows(token_ids(tokenizer, validation_text), recorded["model"]["context_length"], 64)
    directory = reports.output_folder(TASK, args.run_dir, export_path)
    print(f"Compressing {export_path} into {directory} ({', '.join(args.modes)})")
    metadata = {key: value for key, value in recorded.items() if key not in ("version", "run", "test")}
    language_model.compress(
        export_path, directory, args.modes, title=f"GPT, {len(validation_text):,} validation characters",
        tokenizer=tokenizer, validation_windows=windows, calibration_text=training_text,
        calibration_windows=args.calibration_windows, metadata=metadata,
        decoding_tokens_per_second=lambda model, batch_size: decoding_tokens_per_second(
            model, args.decoding_tokens, repeats=5, batch_size=batch_size),
        endpoint=lambda model: recorded_generation_endpoint(model, tokenizer, recorded),
    )
    print(f"report: {directory / 'compression.md'}")
    return 0


def _add_temperature(parser):
    parser.add_argument("--temperature", type=cli.positive_float32, default=0.8,
                        help="below 1: safer, more repetitive text; above 1: wilder (default: 0.8)")


def _train_arguments(parser):
    parser.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                        help=f"model size and schedule; flags below override parts (default: {DEFAULT_RECIPE})")
    cli.add_data_arguments(parser)
    parser.add_argument("--text-file", type=cli.path, help="a UTF-8 text file to learn (default: Tiny Shakespeare, "
                        "tinyshakespeare.txt in the data directory)")
    parser.add_argument("--tokenizer", choices=TOKENIZERS,
                        help="char: the characters of the training text; byte: UTF-8 bytes; wordpiece: lowercase "
                        "subwords learned from the training text (default: char; with --init-from, the export's)")
    cli.add_training_arguments(parser, TASK, RECIPES)
    tuning = parser.add_argument_group("fine-tuning")
    tuning.add_argument("--init-from", type=cli.path, metavar="EXPORT", help="start from this GPT export (a version, "
                        "or a folder whose latest is used) instead of new weights: its shape and tokenizer are kept")
    cli.add_lora_argument(tuning)
    samples = parser.add_argument_group("samples and export")
    samples.add_argument("--sampler", choices=SAMPLERS, default="top_k",
                         help="keras-hub sampler for the report's samples and the export (default: top_k)")
    samples.add_argument("--top-k", type=cli.positive_int, help="for --sampler top_k (default: 40)")
    samples.add_argument("--top-p", type=cli.fraction, help="for --sampler top_p (default: 0.9)")
    samples.add_argument("--sample-tokens", type=cli.non_negative_int, default=500,
                         help="tokens per sample in the run's samples.md (default: 500)")
    _add_temperature(samples)
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)


def _generate_arguments(parser):
    parser.add_argument("prompt", nargs="?", default="", type=cli.text, help="text to continue (default: empty)")
    parser.add_argument("--max-new-tokens", type=cli.non_negative_int, default=300,
                        help=f"tokens to add, at most {MAX_NEW_TOKENS:,} (default: 300)")
    _add_temperature(parser)
    parser.add_argument("--seed", type=cli.int32_seed, default=0,
                        help="sampling seed: the same seed, the same text (default: 0)")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)


def _compress_arguments(parser):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(parser)
    parser.add_argument("--text-file", type=cli.path, help="the text the export was trained on, whose last tenth "
                        "scores each variant (default: Tiny Shakespeare, or the RLHF stages' reviews for theirs)")
    cli.add_modes_argument(parser, GPT_MODES)
    parser.add_argument("--decoding-tokens", type=cli.positive_int, default=1000,
                        help="new tokens of each timed greedy generation of a Keras copy, median of 5 (a LiteRT "
                        "file decodes 32, each a pass over the whole window) (default: 1000)")
    parser.add_argument("--calibration-windows", type=cli.positive_int, default=128, metavar="N",
                        help="context-long windows of training text that GPTQ, AWQ and LiteRT int8 calibrate on "
                        "(default: 128)")
    cli.add_compression_run_dir_argument(parser, TASK)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "train on a text file, report, export (default)",
                         "Train a GPT from scratch on a text file, score it on the file's last tenth, export it."),
    "generate": cli.Command(generate, _generate_arguments, "continue a prompt with an export",
                            "Continue a prompt with an exported GPT (an empty prompt starts a new speech; a prompt "
                            "longer than the model's context keeps its end)."),
    "compress": cli.Command(compress, _compress_arguments, "an export's weights in 16, 8 and 4 bits, measured",
                            "Cast an exported GPT to bfloat16 or float16 and quantize its weights (Keras int8 and int4;"
                            " 4 bits by GPTQ and AWQ, calibrated on the training text), export each copy with the same "
                            "generate signature, and measure size, whole-split validation loss and decoding speed "
                            "beside float32's."),
}


def main(argv=None):
    return cli.main(TASK, "A GPT: train (the default), generate text from an export, or compress one.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
