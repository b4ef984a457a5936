from keras_apps.export.model_card import CardText, model_card

METRICS = {
    "task": "mnist", "model": "resnet", "params": 176090, "epochs": 15, "train_seconds": 745.4,
    "trained_for": "15 epochs in 745 s",
    "strategy": "OneDeviceStrategy", "replicas": 1, "test": {"accuracy": 0.9958, "loss": 0.0134},
    "evaluation": {"macro_f1": 0.99577, "expected_calibration_error": 0.00213},
}


def test_the_card_carries_the_runs_figures_and_the_tasks_words():
    signature = {"inputs": "images: uint8 [batch, 28, 28]", "outputs": "p"}
    text = CardText(description="Digits.", data="MNIST.", intended_use="Teaching.", limits="Only digits.")
    card = model_card(METRICS, signature, text)
    assert card.startswith("# Model card: mnist / resnet\n\nDigits.")
    for expected in ("Parameters: 176,090", "15 epochs in 745 s", "Inputs: images: uint8 [batch, 28, 28]",
                     "| accuracy | 0.9958 |", "| loss | 0.0134 |", "| macro F1 | 0.9958 |",
                     "| expected calibration error | 0.0021 |", "## Intended use\n\nTeaching.",
                     "## Limits\n\nOnly digits."):
        assert expected in card


def test_a_fine_tunes_card_names_the_export_it_went_on_from():
    text = CardText(description="A GPT.", data="Sonnets.", intended_use="Fun.", limits="Invents words.")
    metrics = {**METRICS, "task": "gpt", "model": "default"}
    started = {"init_from": "saved_models/gpt/3", "init_from_weights": "0123abcd", "lora_rank": None}
    card = model_card(metrics, {"init_from": started}, text)
    assert card.startswith("# Model card: gpt / default, fine-tuned\n")
    assert "- Fine-tuned from: saved_models/gpt/3 (weights 0123abcd)\n" in card
    assert "LoRA" in model_card(metrics, {"init_from": {**started, "lora_rank": 8}}, text)
    assert "fine-tuned" not in model_card(metrics, {}, text)


def test_the_card_says_which_slice_and_split_of_the_data_the_run_used():
    """The task's words describe the whole dataset; a run on a slice of it, or on another split, says so."""
    text = CardText(description="Digits.", data="FSDD: 2,500 recordings, official split.", intended_use="Teaching.",
                    limits="Five speakers.")
    metrics = {**METRICS, "evaluation": {**METRICS["evaluation"], "confusion_matrix": [[240, 10], [3, 247]]}}
    settings = {"split": "theo", "room_noise": False, "train_examples": 1800, "validation_examples": 200,
                "unlabeled_examples": 0, "learning_rate": 0.001}
    card = model_card(metrics, {}, text, settings)
    assert ("## This run's data\n\n- split: theo\n- room noise added in training: no\n- training examples: 1,800\n"
            "- validation examples: 200\n- the metrics below count 500 test examples\n") in card
    assert "learning" not in card and "unlabeled" not in card
    assert "This run's data" not in model_card(METRICS, {}, text)


def test_a_ppo_policys_card_shows_the_figures_of_its_last_rollouts():
    """PPO holds out no set: its card's metrics table was empty."""
    text = CardText(description="A policy.", data="Reviews.", intended_use="Teaching.", limits="Wanders.")
    metrics = {key: value for key, value in METRICS.items() if key not in ("test", "evaluation")}
    card = model_card({**metrics, "last_iteration": {"score": 1.5041, "kl": 10.61}}, {}, text)
    assert "## Metrics on the last iteration's own rollouts\n\n| metric | value |\n| --- | --- |\n| kl | 10.6100 |\n" \
           "| score | 1.5041 |\n" in card


def test_a_model_measured_under_several_conditions_shows_each_and_which_the_metrics_are():
    """The multimodal card showed the clean condition's accuracy alone, unnamed, the model's purpose left out."""
    text = CardText(description="Digits seen and heard.", data="MNIST, FSDD.", intended_use="Teaching.", limits="x")
    card = model_card(METRICS, {"conditions": {"clean": 0.9912, "degraded": 0.9687, "audio alone": 0.9514}}, text)
    assert ("## Test accuracy under each condition (the metrics above: clean)\n\n| condition | accuracy |\n"
            "| --- | --- |\n| clean | 0.9912 |\n| degraded | 0.9687 |\n| audio alone | 0.9514 |\n") in card


def test_a_run_measured_on_both_splits_shows_its_test_figures_under_the_test_set():
    """The evaluation (macro F1, calibration) is the test split's: it belongs under the test set's heading."""
    text = CardText(description="Digits.", data="MNIST.", intended_use="Teaching.", limits="Only digits.")
    card = model_card({**METRICS, "validation": {"accuracy": 0.9871, "loss": 0.0456}}, {}, text)
    assert "## Metrics on the test set\n\n| metric | value |\n| --- | --- |\n| accuracy | 0.9958 |\n" in card
    assert "0.9871" not in card and "validation set" not in card


def test_a_run_that_recorded_one_fact_of_its_data_says_it():
    """A run measured on a slice of the test set says so, even when that is all it records."""
    text = CardText(description="Digits.", data="MNIST: 10,000 test images.", intended_use="Teaching.", limits="x")
    card = model_card(METRICS, {}, text, {"test_examples": 500})
    assert "## This run's data\n\n- test examples: 500\n" in card
