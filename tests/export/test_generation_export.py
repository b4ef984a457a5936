"""A GPT export: its `generate` signature, reloaded in a fresh process, writes what the in-memory model
writes for the same seed, and every awkward request gets an answer."""

import numpy as np
import pytest
import tensorflow as tf

from keras_apps.export.saved_model import export_model, load_serving
from keras_apps.inference.generation_options import MAX_NEW_TOKENS
from keras_apps.data.imdb import REVIEW_CORPUS
from keras_apps.inference.serving import recorded_generation_endpoint, text_generation_endpoint
from keras_apps.inference.text_generation import build_sampler
from keras_apps.models import parts
from keras_apps.models.gpt import GPTConfig, build_gpt
from keras_apps.text.characters import build_tokenizer
from tests.conftest import run_python

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n"


def tiny_generate(logit_scale=1.0):
    """A tiny GPT with random weights, its tokenizer, and its `generate` as a `tf.function` with its signature;
    `logit_scale` scales the final layer norm's weights, and so the logits, down."""
    tokenizer = build_tokenizer("char", TEXT)
    config = GPTConfig(tokenizer.vocabulary_size(), context_length=16, num_layers=1, num_heads=2, hidden_dim=8)
    model = build_gpt(config)
    generator = np.random.default_rng(0)
    model.set_weights([generator.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    final_norm = model.get_layer(parts.FINAL_NORM)
    final_norm.set_weights([weight * logit_scale for weight in final_norm.get_weights()])
    function, signature = text_generation_endpoint(model, tokenizer, build_sampler("top_k", config.vocabulary_size))
    return model, tokenizer, tf.function(function, input_signature=signature), signature


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model, tokenizer, generate, signature = tiny_generate()
    path = export_model(model, tmp_path_factory.mktemp("export"), {"generate": (generate, signature)},
                        track=[tokenizer])
    return path, generate


def call(generate, prompt, max_new_tokens=30, temperature=1.0, seed=0):
    output = generate(tf.constant(prompt), tf.constant(max_new_tokens), tf.constant(temperature), tf.constant(seed))
    return output["text"].numpy().decode("utf-8"), output["completion"].numpy().decode("utf-8")


def test_a_fresh_process_writes_the_same_text_for_the_same_seed(exported):
    path, generate = exported
    completed = run_python("tests/export/reload_generate.py", str(path), "Speak", "40", "0.9", "7")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout == call(generate, "Speak", 40, 0.9, 7)[0]
    assert completed.stdout != call(generate, "Speak", 40, 0.9, 8)[0]


def test_the_export_is_also_the_default_signature(exported):
    path, _ = exported
    _, serve = load_serving(path)
    assert set(serve.structured_input_signature[1]) == {"prompt", "max_new_tokens", "temperature", "seed"}


def test_awkward_requests_are_answered(exported):
    _, generate = exported
    text, completion = call(generate, "Speak")
    assert text == "Speak" + completion and len(completion) == 30
    assert call(generate, "", 5)[0] == call(generate, "", 5)[1] and len(call(generate, "", 5)[0]) == 5
    assert call(generate, "Hello ünïcode 😀", 4)[0].startswith("Hello ünïcode 😀")  # unseen characters
    assert call(generate, "speak " * 50, 3)[1] == call(generate, "speak " * 50, 3)[1]  # longer than the context
    assert call(generate, "Speak", 0) == ("Speak", "")
    assert len(call(generate, "Speak", -5)[1]) == 0
    assert len(call(generate, "x", MAX_NEW_TOKENS + 50, 1.0)[1]) == MAX_NEW_TOKENS
    assert len(call(generate, "x", 3, temperature=1e-30)[1]) == 3  # a tiny temperature, taken as 1e-3


def test_a_tiny_temperature_writes_the_most_likely_text_whatever_the_seed(exported):
    _, generate = exported
    tiny = {call(generate, "Speak", 20, temperature, seed)[1] for temperature in (1e-30, 1e-3) for seed in (0, 1, 2)}
    assert len(tiny) == 1
    assert len({call(generate, "Speak", 20, 1.0, seed)[1] for seed in (0, 1, 2)}) == 3


def test_a_temperature_below_the_floor_samples_as_the_floor_does():
    """Logits about 0.01 apart: at the floor, 1e-3, the likeliest token nearly always wins; at 1e-2 often not."""
    _, _, generate, _ = tiny_generate(logit_scale=0.01)
    completions = {temperature: [call(generate, "Speak", 20, temperature, seed)[1] for seed in (0, 1, 2)]
                   for temperature in (1e-30, 1e-3, 1e-2)}
    assert completions[1e-30] == completions[1e-3] != completions[1e-2]


@pytest.mark.parametrize("seed", [0, 1])
def test_an_empty_prompt_is_a_new_line(exported, seed):
    _, generate = exported
    assert call(generate, "", 20, 1.0, seed)[1] == call(generate, "\n", 20, 1.0, seed)[1]
    assert call(generate, "", 20, 1.0, seed)[1] != call(generate, " ", 20, 1.0, seed)[1]


def test_invalid_utf8_in_a_prompt_is_replaced_not_dropped(exported):
    _, generate = exported
    assert call(generate, b"ab\xffc", 3)[0].startswith("ab\ufffdc")


@pytest.fixture(scope="module")
def reloaded(exported):
    return tf.saved_model.load(str(exported[0])).signatures["generate"]


REQUEST = {"prompt": "Speak", "max_new_tokens": 5, "temperature": 1.0, "seed": 0}


@pytest.mark.parametrize("temperature, message", [
    (float("nan"), "temperature must be a finite number"), (float("inf"), "temperature must be a finite number"),
    (0.0, "temperature must be positive"), (-1.0, "temperature must be positive"),
])
def test_the_reloaded_export_refuses_a_temperature_not_positive_and_finite(reloaded, temperature, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        reloaded(**{name: tf.constant(value) for name, value in {**REQUEST, "temperature": temperature}.items()})


@pytest.mark.parametrize("name", list(REQUEST))
def test_the_reloaded_export_refuses_a_batch_where_it_takes_a_scalar(reloaded, name):
    request = {**{key: tf.constant(value) for key, value in REQUEST.items()}, name: tf.constant([REQUEST[name]] * 2)}
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"\[2\] is not compatible with expected shape \[\]"):
        reloaded(**request)


def test_a_gpt_of_the_review_corpus_is_served_as_the_rlhf_stages_sample_it():
    """The RLHF stages' GPTs learned cleaned reviews, one a line, and the stages sample a review's opening after a
    line break, up to the review's end: served, a prompt was read mid-line, a review pasted from a page's source
    as unknown tokens, and a completion ran on into other reviews. The text returned keeps the prompt."""
    model, tokenizer, plain, _ = tiny_generate()
    function, signature = recorded_generation_endpoint(model, tokenizer, {"sampler": "top_k", "text": {
        "file": REVIEW_CORPUS, "fingerprint": "0", "reviews": True}})
    reviews = tf.function(function, input_signature=signature)
    pasted, cleaned = " Speak,<br /><br />hear\n&quot;me&quot;&#39;", 'Speak, hear "me"\''
    for seed in range(3):
        text, completion = call(reviews, pasted, seed=seed)
        assert (text, completion) == (pasted + completion, call(plain, "\n" + cleaned, seed=seed)[1].split("\n")[0])
    assert any(call(plain, "\n" + cleaned, seed=seed)[1].count("\n") for seed in range(3))  # the cut was tried


def test_a_short_prompt_to_a_gpt_of_the_review_corpus_is_read_after_a_line_break():
    """A prompt shorter than the context is read as a review's opening: after a line break, as the corpus starts
    each review, not as a line's middle."""
    model, tokenizer, plain, _ = tiny_generate()
    function, signature = recorded_generation_endpoint(model, tokenizer, {"sampler": "top_k", "text": {
        "file": REVIEW_CORPUS, "fingerprint": "0", "reviews": True}})
    reviews = tf.function(function, input_signature=signature)
    served = [call(reviews, "Speak", seed=seed)[1] for seed in range(3)]
    assert served == [call(plain, "\nSpeak", seed=seed)[1].split("\n")[0] for seed in range(3)]
    assert served != [call(plain, "Speak", seed=seed)[1].split("\n")[0] for seed in range(3)]  # the break matters
