"""`MODEL_CARD.md` in each export: what the model is, what it was trained and tested on, how well it does,
what it is for and where it fails (Mitchell et al., 2019), generated from the run's `metrics.json` and written
into the export before it is published (`keras_apps.lifecycle`)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CardText:
    """The parts of a card that a task states in words: the figures come from the metrics."""

    description: str
    data: str
    intended_use: str
    limits: str


# What a run's recorded settings (`config.json`) say of the data it trained and was measured on, as the card names
# it: the task's words describe the whole dataset, a run may take a slice of it or another split.
RUN_FACTS = {
    "split": "split", "room_noise": "room noise added in training", "train_examples": "training examples",
    "train_pairs": "training pairs", "validation_examples": "validation examples",
    "validation_pairs": "validation pairs", "unlabeled_examples": "unlabeled examples",
    "test_examples": "test examples", "test_sentences": "test sentences translated (BLEU, ROUGE)",
}


def _shown(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _run_facts(settings, metrics):
    """The lines of "This run's data": the recorded facts (a count of none, such as no unlabeled reviews, left out),
    and how many test examples the metrics count."""
    facts = [f"- {label}: {_shown(settings[key])}" for key, label in RUN_FACTS.items()
             if settings.get(key) is not None and not (type(settings[key]) is int and settings[key] == 0)]
    matrix = (metrics.get("evaluation") or {}).get("confusion_matrix")
    if matrix:
        facts.append(f"- the metrics below count {sum(map(sum, matrix)):,} test examples")
    return facts


# Where a run's card figures come from, the first its metrics hold: a language model has no test split, and PPO no
# held-out set (its figures are those of its last rollouts).
MEASURED_ON = {"test": "the test set", "validation": "the validation set",
               "last_iteration": "the last iteration's own rollouts"}


def model_card(metrics, signature, text, settings=None):
    """The card's Markdown for a run's `metrics`, the export's `signature` (`export.json`), the `text`, and the
    run's recorded `settings` (`config.json`), which say how much of the data, and which split, it used."""
    started = signature.get("init_from")  # a fine-tune names the export it went on from: its card is not the base's
    lines = [
        f"# Model card: {metrics['task']} / {metrics['model']}" + (", fine-tuned" if started else ""), "",
        text.description, "",
        "## Model", "",
        *([f"- Fine-tuned from: {started['init_from']} (weights {started['init_from_weights']})"
           + (f" through rank-{started['lora_rank']} LoRA adapters, merged" if started.get("lora_rank") else "")]
          if started else []),
        f"- Parameters: {metrics['params']:,}",
        f"- Trained for {metrics['trained_for']} ({metrics['strategy']}, {metrics['replicas']} replica(s))",
        f"- Inputs: {signature.get('inputs', '–')}",
        f"- Outputs: {signature.get('outputs', '–')}", "",
        "## Data", "", text.data, "",
    ]
    facts = _run_facts(settings or {}, metrics)
    if facts:
        lines += ["## This run's data", "", *facts, ""]
    measured = next((key for key in MEASURED_ON if key in metrics), "validation")
    lines += [
        f"## Metrics on {MEASURED_ON[measured]}", "",
        "| metric | value |", "| --- | --- |",
        *(f"| {name} | {value:.4f} |" for name, value in sorted(metrics.get(measured, {}).items())),
    ]
    evaluation = metrics.get("evaluation")
    if evaluation:
        lines += [f"| macro F1 | {evaluation['macro_f1']:.4f} |",
                  f"| expected calibration error | {evaluation['expected_calibration_error']:.4f} |"]
    conditions = signature.get("conditions")  # a model measured under several conditions (multimodal's senses)
    if conditions:
        lines += ["", f"## Test accuracy under each condition (the metrics above: {next(iter(conditions))})", "",
                  "| condition | accuracy |", "| --- | --- |",
                  *(f"| {name} | {value:.4f} |" for name, value in conditions.items())]
    lines += ["", "## Intended use", "", text.intended_use, "", "## Limits", "", text.limits, ""]
    return "\n".join(lines)

