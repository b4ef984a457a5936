"""Run reports: the sections every training run shares (configuration, training, export), and the whole
report of a classifier's run (how it does on the test set class by class, and where it is most confidently
wrong) and of a translator's. Other tasks add their own evaluation sections (`write_run_report`)."""

import json
import shlex
from pathlib import Path

from keras_apps.evaluate.plots import plot_confusion_matrix, plot_reliability
from keras_apps.evaluate.report import Code, Image, Table, Text, write_report


def _figure(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"


def configuration_section(run_directory):
    """The settings as the run recorded them: a float as written (a learning rate of 3e-05 is no 0.0000)."""
    config = json.loads(run_directory.config.read_text())
    rows = [(key, repr(value) if isinstance(value, float) else _figure(value)) for key, value in sorted(config.items())]
    return ("Configuration", [Table(["setting", "value"], rows)])


def training_section(run_directory, metrics, throughput):
    """The curves and the cost of training; `throughput` is a `(label, value)` row (examples or tokens/s)."""
    return ("Training", [
        *([Image(run_directory.curves, "loss and metrics per epoch, train and validation")]
          if run_directory.curves.exists() else []),
        Table(["figure", "value"], [
            ("parameters", _figure(metrics["params"])),
            ("epochs", _figure(metrics["epochs"])),
            ("training time (s)", f"{metrics['train_seconds']:,.1f}"),
            throughput,
            ("peak memory (MiB)", f"{metrics['peak_memory_mb']:,.0f}"),
            ("strategy", f"{metrics['strategy']} ({metrics['replicas']} replicas)"),
        ]),
    ])


def time_section(time):
    """Where the command's time went until the report was written (`keras_apps.timing`)."""
    total = time["total_seconds"]
    rows = [(phase, f"{seconds:,.1f}", f"{seconds / total:.0%}" if total else "–")
            for phase, seconds in time["phases"].items()]
    return ("Where the time went", [
        Text(f"{total:,.1f} s from the command's start until this report was written; metrics.json holds the "
             f"whole command's, the report included."),
        Table(["phase", "seconds", "share"], rows),
    ])


def export_section(export):
    if not export:
        return ("Export", [Text("No export.")])
    signature = json.loads((Path(export) / "export.json").read_text())
    return ("Export", [
        Text(f"SavedModel at {export}, with MODEL_CARD.md beside it."),
        Table(["signature", "tensors"], [("inputs", signature.get("inputs", "–")),
                                         ("outputs", signature.get("outputs", "–"))]),
        Code(f"saved_model_cli show --dir {shlex.quote(str(export))} --all"),
    ])


def write_run_report(run_directory, title, metrics, sections, throughput):
    """`report.md` and `report.html`: configuration, `sections` (the task's data and evaluation), training,
    export."""
    return write_report(run_directory.path, title, [
        configuration_section(run_directory), *sections, training_section(run_directory, metrics, throughput),
        time_section(metrics["time"]), export_section(metrics.get("export")),
    ])


def image_mistakes(images, labels, probabilities, path, count=12):
    """A grid (PNG at `path`) of the test images a classifier is most confidently wrong about, as report blocks."""
    from keras_apps.evaluate.classification import most_confident_mistakes
    from keras_apps.evaluate.plots import plot_image_grid

    worst = most_confident_mistakes(labels, probabilities, count=count)
    captions = [f"true {labels[i]}, said {probabilities[i].argmax()} ({probabilities[i].max():.2f})" for i in worst]
    grid = plot_image_grid(images[worst], captions, path, columns=6)
    return [Image(grid, f"the {len(worst)} test images the model is most confidently wrong about")]


def text_mistakes(texts, labels, probabilities, class_names, count=10, shown=400):
    """A table of the texts a binary classifier (P(class 1) per text) is most confidently wrong about."""
    from keras_apps.evaluate.classification import most_confident_mistakes

    rows = []
    for index in most_confident_mistakes(labels, probabilities, count=count):
        text = " ".join(texts[index].split())
        confidence = max(probabilities[index], 1 - probabilities[index])
        rows.append((class_names[labels[index]], f"{confidence:.3f}",
                     text if len(text) <= shown else text[:shown - 3] + "..."))
    return [Table(["true", "confidence in the wrong class", f"text (first {shown} characters)"], rows)]


def named_mistakes(names, labels, probabilities, class_names, count=12):
    """A table of the inputs (by name, such as a recording's file) a classifier is most confidently wrong about."""
    from keras_apps.evaluate.classification import most_confident_mistakes

    rows = [(names[index], class_names[labels[index]], class_names[int(probabilities[index].argmax())],
             f"{probabilities[index].max():.3f}")
            for index in most_confident_mistakes(labels, probabilities, count=count)]
    return [Table(["input", "true", "predicted", "confidence"], rows)]


def _sample(count, total):
    """`count` indices of `total` test inputs, drawn at random, the same in every run; `count` is at most
    `total`, as `--explain-examples` was checked before the run began (`settings.count_within`)."""
    import numpy as np

    return np.random.default_rng(0).choice(total, count, replace=False)


def image_explanations(export, task, images, directory, count):
    """`count` test images, each beside its integrated gradients, LIME and SHAP heat maps (PNGs in
    `directory`), as report blocks."""
    from keras_apps.explain.images import ImageExplainer, plot_explanations
    from keras_apps.explain.perturbation import METHODS

    if not count:
        return []
    explainer = ImageExplainer(export, task)
    blocks = []
    for index in _sample(count, len(images)):
        explained = [explainer.explain(images[index], method) for method in METHODS]
        path = plot_explanations(images[index], explained, Path(directory) / f"explained-{index}.png",
                                 title=f"test image {index}")
        blocks.append(Image(path, f"test image {index}: the pixels behind the prediction, by each method"))
    return blocks


def text_explanations(export, task, texts, count, top=6):
    """`count` test texts, each with the words integrated gradients, LIME and SHAP found pushed the export's
    verdict most toward each class (at most `top` a class, only those that pushed toward it), as report blocks."""
    import numpy as np

    from keras_apps.explain.perturbation import METHODS
    from keras_apps.text_classification.exports import ReviewExplainer

    if not count:
        return []
    explainer = ReviewExplainer(export, task)
    blocks = []
    for index in _sample(count, len(texts)):
        rows = []
        for method in METHODS:
            explained = explainer.explain(texts[index], method)
            values = explained.explanation.values
            order = np.argsort(values, kind="stable")
            toward = [[explained.words[word] for word in words if sign * values[word] > 0][:top] or ["none"]
                      for sign, words in ((1, order[::-1]), (-1, order))]
            rows.append((explained.explanation.cost, *(" ".join(words) for words in toward)))
        blocks += [Text(f"Test review {index}: {explained.verdict}."),
                   Table(["method and cost", f"the {top} words most toward positive", "most toward negative"], rows)]
    return blocks


def senses_section(accuracy, shares, degradations, labels):
    """A report section for a model that sees and hears: its test accuracy under each condition (`accuracy`),
    what each sense decided (`shares`: `keras_apps.explain.senses.SenseShares` by condition), and a few test
    pairs of each kind (`labels`: their true digits)."""
    from keras_apps.explain.senses import DECISIONS

    blocks = [Text(f"Degraded images keep {degradations['principal_components']} principal components "
                   f"({degradations['kept_variance']:.0%} of the training images' variance); noisy audio has "
                   f"white noise at {degradations['snr_db']:g} dB SNR. A missing sense is a blank image or "
                   "audio of length 0."),
              Table(["condition", "accuracy"], [(name, f"{value:.4f}") for name, value in accuracy.items()])]
    if not shares:
        return "Test accuracy by condition", blocks
    summaries = {name: explained.summary() for name, explained in shares.items()}
    blocks += [Text("What each sense decided: the probability of the answer lost when the sense is removed (its "
                    "share), and who decided the answer (the sense whose removal changes it)."),
               Table(["test inputs", "image's share", "audio's share", *(f"decided by {name}" for name in DECISIONS)],
                     [(name, f"{summary['image_share']:.3f}", f"{summary['audio_share']:.3f}",
                       *(f"{summary['decided_by'][decision]:.1%}" for decision in DECISIONS))
                      for name, summary in summaries.items()])]
    for name, explained in shares.items():
        blocks += [Text(f"Test pairs of each kind, {name}:"),
                   Table(["test pair", "true digit", "answer", "image's share", "audio's share", "decided by"],
                         [(f"{index}", f"{labels[index]}", f"{explained.answer[index]}",
                           f"{explained.image_share[index]:+.3f}", f"{explained.audio_share[index]:+.3f}",
                           DECISIONS[explained.decided_by[index]]) for index in explained.examples()])]
    return "Test accuracy by condition, and what each sense decided", blocks


def write_classifier_report(run_directory, *, title, metrics, evaluation, mistakes, explanations=(), sections=()):
    """The report of a classifier's run, with the evaluation's PNGs written beside it.

    Args:
        metrics: the run's `metrics.json` dictionary.
        evaluation: `evaluate_classifier`'s result on the test split.
        mistakes: report blocks showing the most confident mistakes (images or texts, by task).
        explanations: report blocks explaining a few test inputs by each method (`--explain-examples`).
        sections: further `(title, blocks)` sections, after the evaluation.
    """
    path = run_directory.path
    config = json.loads(run_directory.config.read_text())
    names = evaluation["class_names"]
    per_class = evaluation["per_class"]
    sections = [
        ("Data", [Table(["split", "examples"], [
            ("train", _figure(config.get("train_examples", "–"))),
            ("validation", _figure(config.get("validation_examples", "–"))),
            ("test", _figure(sum(per_class["support"]))),
        ])]),
        ("Evaluation on the test set", [
            Text(f"Accuracy {evaluation['accuracy']:.4f}, macro F1 {evaluation['macro_f1']:.4f}, expected "
                 f"calibration error {evaluation['expected_calibration_error']:.4f} "
                 f"({len(evaluation['reliability']['count'])} confidence bins)."),
            Table(["class", "precision", "recall", "F1", "examples"], [
                (name, f"{per_class['precision'][i]:.4f}", f"{per_class['recall'][i]:.4f}",
                 f"{per_class['f1'][i]:.4f}", f"{per_class['support'][i]:,}")
                for i, name in enumerate(names)
            ]),
            Image(plot_confusion_matrix(evaluation["confusion_matrix"], names, path / "confusion_matrix.png"),
                  "confusion matrix: true classes in rows, predictions in columns"),
            Image(plot_reliability(evaluation["reliability"], evaluation["expected_calibration_error"],
                                   path / "reliability.png"),
                  "reliability: accuracy against confidence; bars on the diagonal are perfectly calibrated"),
        ]),
        *sections,
        ("Most confident mistakes", mistakes),
        *([("Explanations by integrated gradients, LIME and SHAP", list(explanations))] if explanations else []),
    ]
    throughput = ("training examples per second", f"{metrics['train_examples_per_second']:,.0f}")
    return write_run_report(run_directory, title, metrics, sections, throughput)


def write_translation_report(run_directory, *, title, metrics, samples, attention_map, whole_split):
    """A translator's run report: scores on the test split, sample translations beside their references, a
    cross-attention map (`(path, caption)`), the decoding speed, training and the export."""
    test, extra = metrics["test"], metrics["extra"]
    decoding = extra["decoding"]
    scope = "the whole split" if whole_split else "a quick try: not the whole split"
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
    return write_run_report(run_directory, title, metrics, sections, throughput)
