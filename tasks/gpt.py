"""A GPT trained from scratch on a text file (Tiny Shakespeare by default), sampled from, and exported.

    python -m tasks.gpt                               # the default model: train, report, export
    python -m tasks.gpt --recipe nanogpt-cpu          # nanoGPT's published CPU recipe, for comparison
    python -m tasks.gpt --text-file book.txt --tokenizer byte
    python -m tasks.gpt generate "ROMEO:" --max-new-tokens 300

Training counts steps, not epochs: every `--eval-interval` steps the validation loss is measured on a
fixed sample of `--eval-batches` batches, and the best model so far is kept. After training, the best model
is scored on the whole validation split (the last tenth of the text); `metrics.json` reports that loss and
its perplexity. The export's `generate` signature takes a prompt and returns text.
"""

import argparse
import math
import sys
from dataclasses import dataclass, field

from keras_apps import cli, files
from keras_apps.errors import UserError
from keras_apps.export.model_card import CardText

TASK = "gpt"
DEFAULT_EXPORT_DIR = "saved_models/gpt"
COMMANDS = ("train", "generate")
VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class Recipe:
    """A model shape and the schedule that trains it (flags override each value)."""

    model: dict
    max_steps: int
    eval_interval: int
    eval_batches: int
    warmup_steps: int
    min_learning_rate: float
    training: dict = field(default_factory=dict)


RECIPES = {
    # nanoGPT's README recipe for a CPU ("baby GPT", 0.8M parameters): the speed and quality reference.
    "nanogpt-cpu": Recipe(
        model=dict(context_length=64, num_layers=4, num_heads=4, hidden_dim=128, dropout=0.0),
        max_steps=2000, eval_interval=250, eval_batches=20, warmup_steps=100, min_learning_rate=1e-4,
        training=dict(batch_size=12, learning_rate=1e-3, weight_decay=0.1, adam_beta_2=0.99,
                      gradient_clip_norm=1.0, steps_per_execution=10, jit_compile=True),
    ),
    # The default: the most accurate model found for about 15 minutes of a 2-core CPU (3.2M parameters), in
    # bfloat16 computation (float32 weights and logits), faster than float32 on CPUs (bench/NOTES.md).
    "default": Recipe(
        model=dict(context_length=128, num_layers=4, num_heads=4, hidden_dim=256, dropout=0.1),
        max_steps=2000, eval_interval=200, eval_batches=20, warmup_steps=100, min_learning_rate=1e-4,
        training=dict(batch_size=32, learning_rate=1e-3, weight_decay=0.1, adam_beta_2=0.99,
                      gradient_clip_norm=1.0, steps_per_execution=10, precision="mixed_bfloat16"),
    ),
}
DEFAULT_RECIPE = "default"
SAMPLE_PROMPTS = ("\n", "ROMEO:")
MODEL_CARD = CardText(
    description="A character-level (or byte-level) GPT: a prompt in, a continuation in the style of the "
    "training text out, sampled one token at a time.",
    data="Tiny Shakespeare (karpathy/char-rnn, 1,115,394 characters from Shakespeare's plays) unless "
    "--text-file named another text; the first 90 % trains, the last 10 % validates.",
    intended_use="Teaching and demonstrating how a decoder-only language model is trained, sampled and "
    "served; generating text in the manner of the training text, for fun.",
    limits="A few million parameters trained for minutes: it imitates spelling, layout and rhythm, not "
    "meaning, and invents words. It knows only its training text's characters (others become the unknown "
    "token) and nothing after it; nothing it writes is true, and it must not be used as a source of facts.",
)


def _chosen(args, recipe):
    """The recipe's values with the flags that were given laid over them."""
    model = dict(recipe.model)
    for name in ("context_length", "num_layers", "num_heads", "hidden_dim", "dropout", "tie_weights"):
        if getattr(args, name) is not None:
            model[name] = getattr(args, name)
    schedule = {name: getattr(args, name) if getattr(args, name) is not None else getattr(recipe, name)
                for name in ("max_steps", "eval_interval", "eval_batches", "warmup_steps", "min_learning_rate")}
    if schedule["max_steps"] % schedule["eval_interval"]:
        raise UserError(f"--max-steps {schedule['max_steps']} is not a multiple of --eval-interval "
                        f"{schedule['eval_interval']}")
    if schedule["warmup_steps"] >= schedule["max_steps"]:
        raise UserError(f"--warmup-steps {schedule['warmup_steps']} must be fewer than --max-steps "
                        f"{schedule['max_steps']}")
    training = dict(recipe.training)
    for name, flag in (("adam_beta_2", "beta2"), ("gradient_clip_norm", "gradient_clip")):
        if getattr(args, flag) is not None:
            training[name] = getattr(args, flag)
    return model, schedule, training


def train(args):
    import keras
    import tensorflow as tf

    from keras_apps.data.text_corpus import load_corpus, split_corpus
    from keras_apps.data.token_windows import evaluation_windows, random_windows
    from keras_apps.inference.serving import text_generation_endpoint
    from keras_apps.inference.text_generation import build_sampler
    from keras_apps.lifecycle import Export, fingerprint, start_run
    from keras_apps.models.gpt import GPTConfig, build_gpt
    from keras_apps.text.characters import build_tokenizer, load_tokenizer, save_tokenizer

    recipe = RECIPES[args.recipe]
    model_values, schedule, training_values = _chosen(args, recipe)
    epochs = schedule["max_steps"] // schedule["eval_interval"]
    learning_rate = args.learning_rate or training_values["learning_rate"]
    training_values.update(
        epochs=epochs,
        warmup_fraction=schedule["warmup_steps"] / schedule["max_steps"],
        min_lr_fraction=min(schedule["min_learning_rate"] / learning_rate, 1.0),
    )
    config = cli.training_config(args, **training_values)
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    text = load_corpus(args.text_file, args.data_dir)
    train_text, validation_text = split_corpus(text, VALIDATION_FRACTION)
    run.open({"recipe": args.recipe, "text_file": args.text_file, "tokenizer": args.tokenizer,
              "model": model_values, **schedule, "data": fingerprint(text)})
    # A resumed run keeps the vocabulary its checkpoints were trained with.
    tokenizer = run.learned_once("tokenizer.json", lambda: build_tokenizer(args.tokenizer, train_text),
                                 save_tokenizer, load_tokenizer)
    train_ids = tokenizer.tokenize(train_text).numpy()
    validation_ids = tokenizer.tokenize(validation_text).numpy()
    try:
        gpt_config = GPTConfig(vocabulary_size=tokenizer.vocabulary_size(), **model_values)
    except ValueError as exc:
        raise UserError(str(exc).replace("_", "-")) from None
    print(f"Text: {len(text):,} characters; {len(train_ids):,} training and {len(validation_ids):,} validation "
          f"tokens ({args.tokenizer}, vocabulary {gpt_config.vocabulary_size}). An epoch below is "
          f"{schedule['eval_interval']} steps of {config.batch_size} windows of {gpt_config.context_length} tokens.")

    context = gpt_config.context_length
    result = run.fit(
        lambda: build_gpt(gpt_config),
        random_windows(train_ids, context, config.batch_size, schedule["eval_interval"], seed=config.seed),
        evaluation_windows(validation_ids, context, config.batch_size, max_batches=schedule["eval_batches"]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    if not result.is_chief:  # a cluster's other workers leave evaluation, export and report to the chief
        return 0
    model = result.model
    validation_loss = model.evaluate(evaluation_windows(validation_ids, context, 64), verbose=0)
    validation = {"loss": validation_loss, "perplexity": math.exp(validation_loss)}

    tokens_per_second = result.train_examples_per_second * context
    efficiency = _efficiency(gpt_config, model, tokens_per_second)
    # The function the export serves makes the report's samples too: what a user reads is what it serves.
    sampler = build_sampler(args.sampler, gpt_config.vocabulary_size, top_k=args.top_k, top_p=args.top_p)
    generate_text, signature = text_generation_endpoint(model, tokenizer, sampler)
    generate_text = tf.function(generate_text, input_signature=signature)
    samples = _write_samples(generate_text, run.directory.path / "samples.md", args, config.seed)

    export = Export(
        {"generate": (generate_text, signature)}, track=[tokenizer], files=[run.directory.path / "tokenizer.json"],
        metadata={"recipe": args.recipe, "validation": validation, "model": gpt_config.to_dict(),
                  "tokenizer": args.tokenizer, "sampler": args.sampler,
                  "inputs": "prompt: string []; max_new_tokens: int32 []; temperature: float32 []; seed: int32 []",
                  "outputs": "completion: string [] (the new text); text: string [] (prompt + completion)"},
    )
    return run.finish(
        result, args.recipe, export, MODEL_CARD,
        report=lambda metrics: _write_report(run.directory, args, metrics, samples,
                                             (len(train_ids), len(validation_ids))),
        summary=lambda metrics: (
            f"{samples[1]}\n\n{args.recipe}: validation loss {validation['loss']:.4f} (perplexity "
            f"{validation['perplexity']:.2f}) on the whole validation split | {metrics['params']:,} parameters, "
            f"{schedule['max_steps']:,} steps in {metrics['train_seconds']:.0f} s ({tokens_per_second:,.0f} "
            f"tokens/s, MFU {efficiency['mfu']:.0%} of this machine's measured matmul FLOP/s)"),
        extra=efficiency,
        metrics_update={"validation": validation, "steps": result.epochs_completed * schedule["eval_interval"],
                        "train_tokens_per_second": round(tokens_per_second, 1)},
    )


def _efficiency(gpt_config, model, tokens_per_second):
    """nanoGPT's figures: training FLOPs per token, model FLOP/s, and their share of the machine's peak."""
    from keras_apps.training.flops import matmul_flops_per_second

    flops_per_token = gpt_config.training_flops_per_token(model.count_params())
    model_flops = flops_per_token * tokens_per_second
    peak_flops = matmul_flops_per_second(model.compute_dtype)
    return {"flops_per_token": flops_per_token, "model_flops_per_second": model_flops,
            "matmul_flops_per_second": peak_flops, "mfu": model_flops / peak_flops}


def _write_report(run_directory, args, metrics, samples, token_counts):
    """`report.html` and `report.md`: the data, the validation loss, the samples, training and the export."""
    from keras_apps.evaluate.report import Code, Table, Text
    from keras_apps.evaluate.run_report import write_run_report

    validation = metrics["validation"]
    sections = [
        ("Data", [Table(["split", "tokens"], [("train", f"{token_counts[0]:,}"),
                                              ("validation", f"{token_counts[1]:,}")])]),
        ("Evaluation on the whole validation split", [
            Text(f"Loss {validation['loss']:.4f} (nats per token), perplexity {validation['perplexity']:.3f}, "
                 f"after {metrics['steps']:,} steps; the best checkpoint by the periodic validation check."),
        ]),
        (f"Samples ({args.sampler}, temperature {args.temperature})", [Code(sample) for sample in samples]),
    ]
    throughput = ("training tokens per second", f"{metrics['train_tokens_per_second']:,.0f} "
                                                f"(MFU {metrics['extra']['mfu']:.0%})")
    write_run_report(run_directory, f"GPT, {args.recipe}", metrics, sections, throughput)


def _write_samples(generate_text, path, args, seed):
    """Continues each of `SAMPLE_PROMPTS` and writes them to `path` as Markdown; returns the texts."""
    import tensorflow as tf

    samples = [
        generate_text(tf.constant(prompt), tf.constant(args.sample_tokens), tf.constant(args.temperature),
                      tf.constant(seed))["text"].numpy().decode("utf-8")
        for prompt in SAMPLE_PROMPTS
    ]
    files.write_text(
        path,
        f"# Samples ({args.sampler}, temperature {args.temperature}, {args.sample_tokens} tokens each)\n\n"
        + "\n\n".join(f"```text\n{sample}\n```" for sample in samples) + "\n",
    )
    return samples


def generate(args):
    import tensorflow as tf

    from keras_apps.export.saved_model import load_serving
    from keras_apps.inference.text_generation import MAX_NEW_TOKENS

    if args.max_new_tokens > MAX_NEW_TOKENS:
        raise UserError(f"--max-new-tokens is at most {MAX_NEW_TOKENS:,} per call, got {args.max_new_tokens:,}")
    _, generate_text = load_serving(args.export_dir, signature="generate", task=TASK)
    output = generate_text(
        prompt=tf.constant(args.prompt), max_new_tokens=tf.constant(args.max_new_tokens),
        temperature=tf.constant(args.temperature), seed=tf.constant(args.seed),
    )
    print(output["text"].numpy().decode("utf-8"))
    return 0


def _add_sampling_arguments(parser):
    parser.add_argument("--temperature", type=cli.positive_float, default=0.8,
                        help="below 1: safer, more repetitive text; above 1: wilder (default: 0.8)")


def build_parser():
    from keras_apps.inference.text_generation import MAX_NEW_TOKENS, SAMPLERS
    from keras_apps.text.characters import TOKENIZERS

    parser, commands = cli.task_parser(
        TASK, "A GPT language model: train (the default command) or generate text from an export.", COMMANDS
    )

    train_parser = commands.add_parser(
        "train", help="train on a text file, report, export (default)",
        description="Train a GPT from scratch on a text file, score it on the file's last tenth, export it.",
    )
    train_parser.add_argument("--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE,
                              help=f"model size and schedule; flags below override parts (default: {DEFAULT_RECIPE})")
    cli.add_data_arguments(train_parser)
    train_parser.add_argument("--text-file", help="a UTF-8 text file to learn (default: Tiny Shakespeare, "
                              "tinyshakespeare.txt in the data directory)")
    train_parser.add_argument("--tokenizer", choices=TOKENIZERS, default="char",
                              help="char: the characters of the training text; byte: UTF-8 bytes (default: char)")

    model_group = train_parser.add_argument_group("model (default: per recipe)")
    model_group.add_argument("--context-length", type=cli.positive_int, help="tokens the model reads (block size)")
    model_group.add_argument("--num-layers", type=cli.positive_int, help="Transformer blocks")
    model_group.add_argument("--num-heads", type=cli.positive_int, help="attention heads per block")
    model_group.add_argument("--hidden-dim", type=cli.positive_int, help="width (a multiple of --num-heads)")
    model_group.add_argument("--dropout", type=cli.probability, help="dropout while training")
    model_group.add_argument("--tie-weights", action=argparse.BooleanOptionalAction,
                             help="share the token embedding with the output layer (default: on)")

    schedule_group = train_parser.add_argument_group("schedule (default: per recipe)")
    schedule_group.add_argument("--max-steps", type=cli.positive_int, help="training steps in all")
    schedule_group.add_argument("--eval-interval", type=cli.positive_int,
                                help="steps between validation losses (and best-checkpoint checks)")
    schedule_group.add_argument("--eval-batches", type=cli.positive_int,
                                help="validation batches per interval (a fixed sample)")
    schedule_group.add_argument("--warmup-steps", type=cli.non_negative_int, help="linear warm-up steps")
    schedule_group.add_argument("--min-learning-rate", type=cli.non_negative_float,
                                help="where the cosine decay ends")
    schedule_group.add_argument("--beta2", type=cli.probability, help="AdamW's beta 2")
    schedule_group.add_argument("--gradient-clip", type=cli.non_negative_float,
                                help="clip the global gradient norm to this (0: off)")
    cli.add_training_arguments(train_parser, TASK, by_steps=True)

    sampling_group = train_parser.add_argument_group("samples and export")
    sampling_group.add_argument("--sampler", choices=SAMPLERS, default="top_k",
                                help="keras-hub sampler for the report's samples and the export (default: top_k)")
    sampling_group.add_argument("--top-k", type=cli.positive_int, default=40, help="for top_k (default: 40)")
    sampling_group.add_argument("--top-p", type=cli.fraction, default=0.9, help="for top_p (default: 0.9)")
    sampling_group.add_argument("--sample-tokens", type=cli.non_negative_int, default=500,
                                help="tokens per sample in the run's samples.md (default: 500)")
    _add_sampling_arguments(sampling_group)
    cli.add_export_argument(train_parser, DEFAULT_EXPORT_DIR, loading=False)
    train_parser.set_defaults(handler=train)

    generate_parser = commands.add_parser(
        "generate", help="continue a prompt with an export",
        description="Continue a prompt with an exported GPT (an empty prompt starts a new speech; a prompt "
        "longer than the model's context keeps its end).",
    )
    generate_parser.add_argument("prompt", nargs="?", default="", type=cli.text, help="text to continue (default: empty)")
    generate_parser.add_argument("--max-new-tokens", type=cli.non_negative_int, default=300,
                                 help=f"tokens to add, at most {MAX_NEW_TOKENS:,} (default: 300)")
    _add_sampling_arguments(generate_parser)
    generate_parser.add_argument("--seed", type=cli.int32_seed, default=0, help="sampling seed: the same seed, the same text "
                                 "(default: 0)")
    cli.add_export_argument(generate_parser, DEFAULT_EXPORT_DIR, loading=True)
    generate_parser.set_defaults(handler=generate)
    return parser


def main(argv=None):
    args = cli.parse_command_line(build_parser(), argv, COMMANDS)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(cli.run(main))
