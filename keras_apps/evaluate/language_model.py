"""A language model's run report and samples: what it wrote, its whole-split validation loss, its training."""

import math

import keras
import tensorflow as tf

from keras_apps import files, progress
from keras_apps.data.token_windows import evaluation_windows
from keras_apps.evaluate.report import Code, Table, Text, fenced
from keras_apps.evaluate.run_report import write_run_report


def whole_split_loss(model, token_ids, context):
    """The model's loss (nats per token) and perplexity on every window of `token_ids`."""
    if not model.compiled:  # the export a run started from, scored on the same windows
        model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    loss = model.evaluate(evaluation_windows(token_ids, context, 64), verbose=progress.verbosity())
    return {"loss": loss, "perplexity": math.exp(loss)}


def prompts_from(validation_text):
    """The report's prompts for a text of the user's: a new line, and the first words of the validation split's
    first whole line, an opening in the text's own style (a review's, for the RLHF task's model of reviews)."""
    lines = [line for line in validation_text.split("\n")[1:] if line.strip()]  # the first may start mid-line
    words = (lines[0] if lines else validation_text).split()[:3]
    return ("\n", " ".join(words)) if words else ("\n",)


def write_samples(generate_text, path, prompts, *, tokens, temperature, sampler, seed):
    """Continues each prompt by `generate_text` (the export's function), writes them to `path` as Markdown and
    returns the texts: what a user reads is what the export serves."""
    samples = [
        generate_text(tf.constant(prompt), tf.constant(tokens), tf.constant(temperature),
                      tf.constant(seed))["text"].numpy().decode("utf-8")
        for prompt in prompts
    ]
    files.write_text(
        path,
        f"# Samples ({sampler}, temperature {temperature}, {tokens} tokens each)\n\n"
        + "\n\n".join(fenced(sample, "text") for sample in samples) + "\n",
    )
    return samples


def write_report(run_directory, title, metrics, samples, token_counts, *, sampler, temperature):
    """`report.html` and `report.md`: the data, the validation loss (and the starting model's, for a model
    fine-tuned from an export), the samples, training and the export."""
    validation = metrics["validation"]
    before = metrics.get("validation_before_training")
    evaluation = [Text(f"Loss {validation['loss']:.4f} (nats per token), perplexity {validation['perplexity']:.3f}, "
                       f"after {metrics['steps']:,} steps; the best checkpoint by the periodic validation check.")]
    if before is not None:
        evaluation.append(Text(f"The model it started from: loss {before['loss']:.4f}, perplexity "
                               f"{before['perplexity']:.3f}."))
    sections = [
        ("Data", [Table(["split", "tokens"], [("train", f"{token_counts[0]:,}"),
                                              ("validation", f"{token_counts[1]:,}")])]),
        ("Evaluation on the whole validation split", evaluation),
        (f"Samples ({sampler}, temperature {temperature})", [Code(sample) for sample in samples]),
    ]
    throughput = ("training tokens per second", f"{metrics['train_tokens_per_second']:,.0f} "
                                                f"(MFU {metrics['extra']['mfu']:.0%})")
    write_run_report(run_directory, title, metrics, sections, throughput)
