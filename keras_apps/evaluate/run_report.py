"""The report of a classifier's training run: what was trained on what, how it learned, how it does on the
test set class by class, where it is most confidently wrong, and what the export serves."""

import json
from pathlib import Path

from keras_apps.evaluate.plots import plot_confusion_matrix, plot_reliability
from keras_apps.evaluate.report import Code, Image, Table, Text, write_report


def _figure(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,.4f}" if isinstance(value, float) else f"{value:,}"


def write_classifier_report(run_directory, *, title, metrics, evaluation, mistakes):
    """Writes `report.md` and `report.html` (and the evaluation's PNGs) into the run directory.

    Args:
        metrics: the run's `metrics.json` dictionary (with its `evaluation`, from `evaluate_classifier`).
        mistakes: report blocks showing the most confident mistakes (images or texts, by task).
    """
    path = run_directory.path
    config = json.loads(run_directory.config.read_text())
    names = evaluation["class_names"]
    per_class = evaluation["per_class"]
    export = metrics.get("export")
    signature = json.loads((Path(export) / "export.json").read_text()) if export else {}
    sections = [
        ("Configuration", [
            Table(["setting", "value"], [(key, _figure(value)) for key, value in sorted(config.items())]),
        ]),
        ("Data", [Table(["split", "examples"], [
            ("train", _figure(config.get("train_examples", "–"))),
            ("validation", _figure(config.get("validation_examples", "–"))),
            ("test", _figure(sum(per_class["support"]))),
        ])]),
        ("Training", [
            *([Image(run_directory.curves, "loss and accuracy per epoch, train and validation")]
              if run_directory.curves.exists() else []),
            Table(["figure", "value"], [
                ("parameters", _figure(metrics["params"])),
                ("epochs", _figure(metrics["epochs"])),
                ("training time (s)", f"{metrics['train_seconds']:,.1f}"),
                ("training examples per second", f"{metrics['train_examples_per_second']:,.0f}"),
                ("peak memory (MiB)", f"{metrics['peak_memory_mb']:,.0f}"),
                ("strategy", f"{metrics['strategy']} ({metrics['replicas']} replicas)"),
            ]),
        ]),
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
        ("Most confident mistakes", mistakes),
        ("Export", [
            Text(f"SavedModel at {export}" if export else "No export."),
            *([Table(["serving_default", "tensors"], [("inputs", signature.get("inputs", "–")),
                                                      ("outputs", signature.get("outputs", "–"))]),
               Code(f"saved_model_cli show --dir {export} --all")] if export else []),
        ]),
    ]
    return write_report(path, title, sections)
