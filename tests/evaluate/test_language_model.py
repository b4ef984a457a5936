import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_apps.evaluate import language_model
from keras_apps.evaluate.language_model import prompts_from, whole_split_loss, write_report, write_samples
from keras_apps.evaluate.report import Table, Text


def test_the_prompts_of_a_text_are_a_new_line_and_the_opening_of_a_whole_line_of_it():
    cut_mid_line = "the middle of a review.\nI saw this film twice and loved it.\nAnother review.\n"
    assert prompts_from(cut_mid_line) == ("\n", "I saw this")
    assert prompts_from("one line only, no break") == ("\n", "one line only,")
    assert prompts_from(" \n\n") == ("\n",)


def test_the_whole_split_loss_is_the_mean_cross_entropy_of_every_token_from_logits():
    vocabulary, context = 7, 4
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(vocabulary, vocabulary)])
    token_ids = np.random.default_rng(0).integers(0, vocabulary, 100 * context + 3)  # 100 windows: two batches of 64
    scores = whole_split_loss(model, token_ids, context)
    logits = model.get_weights()[0].astype(np.float64)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    count = (len(token_ids) - 1) // context * context
    expected = -np.mean(log_probabilities[token_ids[:count], token_ids[1:count + 1]])
    assert scores["loss"] == pytest.approx(expected, rel=1e-5)
    assert scores["perplexity"] == pytest.approx(math.exp(scores["loss"]))


def test_samples_continue_every_prompt_with_the_settings_asked_for(tmp_path):
    calls = []

    def generate_text(prompt, tokens, temperature, seed):
        calls.append((prompt.numpy().decode(), int(tokens), float(temperature), int(seed)))
        return {"text": tf.constant(prompt.numpy() + b" and more")}

    samples = write_samples(generate_text, tmp_path / "samples.md", ("\n", "Once"), tokens=5, temperature=0.7,
                            sampler="top-k", seed=3)
    assert samples == ["\n and more", "Once and more"]
    assert calls == [("\n", 5, pytest.approx(0.7), 3), ("Once", 5, pytest.approx(0.7), 3)]
    text = (tmp_path / "samples.md").read_text()
    assert "Once and more" in text and "temperature 0.7" in text and "top-k" in text


def test_the_report_shows_the_validation_figures_and_the_starting_model_s(monkeypatch):
    captured = {}
    monkeypatch.setattr(language_model, "write_run_report",
                        lambda directory, title, metrics, sections, throughput: captured.update(sections=sections))
    metrics = {"validation": {"loss": 1.5, "perplexity": math.exp(1.5)}, "steps": 10,
               "validation_before_training": {"loss": 2.5, "perplexity": math.exp(2.5)},
               "train_tokens_per_second": 100.0, "extra": {"mfu": 0.1}}
    write_report(None, "title", metrics, ["a sample"], (1000, 200), sampler="top-k", temperature=0.8)
    sections = dict(captured["sections"])
    assert sections["Data"] == [Table(["split", "tokens"], [("train", "1,000"), ("validation", "200")])]
    evaluation = " ".join(block.text for block in sections["Evaluation on the whole validation split"])
    assert f"{math.exp(1.5):.3f}" in evaluation and f"{math.exp(2.5):.3f}" in evaluation
    assert "1.5000" in evaluation and "2.5000" in evaluation
    assert isinstance(sections["Evaluation on the whole validation split"][0], Text)
