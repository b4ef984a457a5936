"""The demo page over the real exports, measured from the outside: how long `python -m tasks.demo` takes until
the page answers, and the seconds from pressing a button to reading the answer in headless Chromium
(`keras_apps.demo.browser`), for real test inputs.

It serves the exports a user has (`saved_models/`, or `--exports`): the demo serves whatever was trained, so
this benchmark trains nothing, and says which exports it served. Every answer the page shows is checked
against the export's own answer for the same input, and the last page is saved as `bench/demo.png` (the
README's screenshot).
"""

import tempfile
import time
from pathlib import Path

import numpy as np

from bench import results

RUNS = ("demo",)
REVIEWS = 20
SMOKE_TEST_REVIEWS = 3
# `python -m bench`'s smoke-test flags: the demo trains nothing, so either only asks fewer questions.
LIMITS = dict.fromkeys(["--train-examples", "--epochs"],
                       f"{SMOKE_TEST_REVIEWS} reviews asked, not {REVIEWS} (N unused)")
DIGITS = 5
SENTENCES = ("Where is the station?", "I like coffee.", "My father bought a new car last week.")
PROMPTS = ("ROMEO:", "KING HENRY:")
SCREENSHOT = Path(__file__).with_name("demo.png")


def run(names, repeats, limits, exports="saved_models", figures=True):
    from keras_apps.demo import catalog
    from keras_apps.demo.browser import DemoPage, DemoServer
    from keras_apps.errors import UserError

    found = [entry for entry in catalog.find(exports) if entry.path is not None]
    served = {entry.tab.task: entry.path for entry in found}
    if "imdb" not in served:
        raise UserError(f"{exports} has no IMDB export to serve: run python -m tasks.imdb first")
    count = SMOKE_TEST_REVIEWS if limits else REVIEWS
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder, DemoServer(exports, timeout=600) as server:
        inputs = _inputs(served, count, Path(folder))
        start = time.perf_counter()
        with DemoPage(server.url, timeout_seconds=300) as page:
            page_seconds = time.perf_counter() - start
            timings = {task: [] for task in served}
            for task, (ask, questions, expected, same) in inputs.items():
                for question, answer in zip(questions, expected):
                    start = time.perf_counter()
                    shown = ask(page, question)
                    timings[task].append(time.perf_counter() - start)
                    if not same(shown, answer):
                        raise UserError(f"the page's {task} answer {shown!r} differs from the export's {answer!r}")
            if figures:  # the README's screenshot
                page.open_tab("imdb")
                page.screenshot(SCREENSHOT)
                print(f"screenshot: {SCREENSHOT}")
    yield "demo", {
        "command": "python -m tasks.demo",
        "exports": {entry.tab.task: _described(entry) for entry in found},
        "startup_seconds": server.seconds_to_ready, "page_seconds": page_seconds,
        "answer_seconds": {task: {"count": len(seconds), "median": float(np.median(seconds)),
                                  "max": float(np.max(seconds))} for task, seconds in timings.items()},
        "machine": results.machine(),
    }


def _described(served):
    """An export in a few words: its folder, its model (or recipe) and its recorded figures."""
    model = served.metadata.get("model")
    what = model if isinstance(model, str) else f"{served.metadata.get('recipe', '?')} recipe"
    return f"{served.path} ({what}; {served.figures})"


def _inputs(served, count, folder):
    """`{task: (ask the page, questions, the export's own answers, whether a shown answer is that answer)}`; the
    digit PNGs the page uploads are written into `folder`."""
    import tensorflow as tf

    from keras_apps.data import imdb, mnist
    from keras_apps.export.saved_model import image_probabilities, load_serving
    from keras_apps.text_classification.exports import scores

    reviews = imdb.load().test.take(count).texts
    inputs = {"imdb": (lambda page, review: page.score_review(review), reviews,
                       scores(load_serving(served["imdb"])[1], reviews),
                       lambda shown, expected: abs(float(shown) - float(expected)) < 1e-6)}
    if "mnist" in served:
        from PIL import Image

        images = mnist.load().test.images[:min(count, DIGITS)]
        paths = []
        for index, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{index}.png")
            paths.append(folder / f"{index}.png")
        classes = image_probabilities(load_serving(served["mnist"])[1], images).argmax(axis=1)
        inputs["mnist"] = (lambda page, path: page.classify_digit(path), paths, classes,
                           lambda shown, expected: shown.startswith(f"{expected}, probability"))
    if "translate" in served:
        translations = load_serving(served["translate"], signature="translate")[1](sentences=tf.constant(SENTENCES))
        inputs["translate"] = (lambda page, sentence: page.translate(sentence), SENTENCES,
                               [text.decode("utf-8") for text in translations["translations"].numpy()],
                               lambda shown, expected: shown == expected.strip())
    if "gpt" in served:
        generate = load_serving(served["gpt"], signature="generate")[1]
        texts = [generate(prompt=tf.constant(prompt), max_new_tokens=tf.constant(200), temperature=tf.constant(0.8),
                          seed=tf.constant(0))["text"].numpy().decode("utf-8", errors="replace") for prompt in PROMPTS]
        inputs["gpt"] = (lambda page, prompt: page.generate(prompt), PROMPTS, texts,
                         lambda shown, expected: shown == expected.strip())
    return inputs
