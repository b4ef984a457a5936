"""A teacher's verdicts on the unlabeled reviews: trained on the student's labeled reviews, it gives its
P(positive) for each unlabeled one, which the student then learns from (`soft_targets`)."""

import dataclasses
import functools
import json
from dataclasses import dataclass

import keras
import numpy as np

from keras_apps import files, progress
from keras_apps.errors import UserError


@dataclass
class Verdicts:
    """The teacher's P(positive) for each unlabeled text, and figures of how it was made."""

    probabilities: np.ndarray
    record: dict


def teach(recipe, model_name, splits, *, config, run_directory, strategy):
    """Trains the n-gram `recipe` on `splits.train` in `run_directory`; returns its `Verdicts` on `splits.unlabeled`.

    Args:
        recipe: a `keras_apps.recipes.Recipe` of an n-gram `TextClassifier` (fast and accurate: the teacher to
            have).
        model_name: the teacher's name, for the record.
        splits: `train`, `validation` (`LabeledTexts`) and `unlabeled` (strings).
        config: the student's `TrainingConfig`, whose seed and strategy the teacher shares.
        run_directory, strategy: as for the runner's `fit`.
    """
    from keras_apps.data.imdb import LabeledTexts
    from keras_apps.text_classification.classifier import batches, fit_classifier, logits, ngram_classifier
    from keras_apps.training.runner import fit

    # The teacher's own recipe, run where and as reproducibly as the student's.
    config = dataclasses.replace(recipe.training, seed=config.seed, deterministic=config.deterministic,
                                 strategy=config.strategy, batch_size=min(recipe.training.batch_size,
                                                                          len(splits.train)))
    print(f"Training the {model_name} teacher, whose verdicts on {len(splits.unlabeled):,} unlabeled reviews the "
          f"student learns from too")
    classifier = ngram_classifier(recipe.model, splits.train, run_directory.path)
    result = fit_classifier(functools.partial(fit, config=config, run_directory=run_directory, strategy=strategy),
                            classifier, splits.train, splits.validation, config)
    unlabeled = LabeledTexts(splits.unlabeled, np.zeros(len(splits.unlabeled), np.float32))
    probabilities = keras.ops.convert_to_numpy(
        keras.ops.sigmoid(logits(result.model, unlabeled, classifier.encoder, config.batch_size)))
    scores = result.model.evaluate(batches(splits.validation, classifier.encoder, config.batch_size),
                                   return_dict=True, verbose=progress.verbosity())
    record = {"model": model_name, "validation_accuracy": round(float(scores["accuracy"]), 4),
              "unlabeled_reviews": len(probabilities), "train_seconds": round(result.train_seconds, 3)}
    print(f"Teacher: validation accuracy {record['validation_accuracy']:.4f}")
    return Verdicts(probabilities, record)


def save_verdicts(verdicts, path):
    files.write_json(path, {**verdicts.record, "probabilities": [round(float(p), 6) for p in verdicts.probabilities]})


def load_verdicts(path):
    try:
        record = json.loads(path.read_text())
        return Verdicts(np.asarray(record.pop("probabilities"), np.float32), record)
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"cannot read the teacher's verdicts {path}: {exc}") from None


def learned_verdicts(run, recipe, model_name, splits):
    """The teacher's `Verdicts`, learned once in `run` (its training in `<run>/teacher/`) and read back on resume."""
    from keras_apps.training.run_directory import RunDirectory

    with run.phases.during("the teacher's training and verdicts"):
        return run.learned_once(
            "teacher/unlabeled_probabilities.json",
            lambda: teach(recipe, model_name, splits, config=run.config, strategy=run.strategy,
                          run_directory=RunDirectory.create(run.task, run.directory.path / "teacher")),
            save_verdicts, load_verdicts)
