"""Which explanation is faithful? Integrated gradients, LIME, SHAP and a random ordering, on the same test
inputs of each classifier, scored by deletion and insertion (`keras_apps.explain.faithfulness`).

Each model is trained as a user trains it (`python -m tasks.<task> ...`, shortened where its full recipe
takes long: the faithfulness of an explanation is about the model it explains, not about its last point of
accuracy), then its export is explained on a fixed sample of test inputs with each method's command-line
defaults (IG: 64 steps; LIME: 1,000 samples; SHAP: 1,000 evaluations). Features are removed most important
first in 20 equal steps: pixels turn black, words are dropped. The score is the export's probability of the
class it first predicted; each method ranks the features by their value toward that class.
"""

import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

from bench import results
from bench.runs import run_task
from keras_apps.explain.perturbation import METHODS

RUNS = {
    "mnist-convnet": ("mnist", ["--model", "convnet", "--epochs", "5"]),
    "mnist-resnet": ("mnist", ["--model", "resnet", "--epochs", "2"]),
    "imdb-nb-bow": ("imdb", ["--model", "nb-bow"]),
    "imdb-lstm": ("imdb", ["--model", "lstm", "--epochs", "1"]),
    "imdb-transformer": ("imdb", ["--model", "transformer", "--epochs", "1"]),
}
# A smoke test (`--train-examples` or `--epochs`): the training the limits ask for, and a few inputs.
SMOKE_TEST_EXAMPLES = 3
LIMITS = {"--train-examples": f"N training examples, {SMOKE_TEST_EXAMPLES} inputs explained",
          "--epochs": f"N epochs, {SMOKE_TEST_EXAMPLES} inputs explained"}
EXAMPLES = 100
PLOT = Path(__file__).with_name("explain_curves.png")
STEPS = 20


class Images:
    """MNIST test digits: pixels are the features; a removed pixel turns black."""

    def __init__(self, export, count):
        from keras_apps.data import mnist
        from keras_apps.explain.images import ImageExplainer

        self.explainer = ImageExplainer(export, "mnist")
        test = mnist.load().test
        self.inputs = test.images[np.random.default_rng(0).choice(len(test.images), count, replace=False)]

    def explain(self, image, method):
        explained = self.explainer.explain(image, method)
        return explained.predicted, explained.explanation, explained.explanation.values

    def render(self, image):
        return lambda kept: image[None] * kept.reshape(-1, *image.shape)

    def scorer(self, predicted):
        return lambda images: self.explainer.probabilities(images)[:, predicted]

    def features(self, image):
        return image.size


class Reviews:
    """IMDB test reviews: words are the features; a removed word is dropped from the text."""

    def __init__(self, export, count):
        from keras_apps.data import imdb
        from keras_apps.text_classification.exports import ReviewExplainer

        self.explainer = ReviewExplainer(export, "imdb")
        # Cleaned as `explain` cleans them, so that its words are the ones dropped here.
        self.inputs = [" ".join(imdb.clean(text).split()) for text in imdb.load().test.take(count).texts]

    def explain(self, review, method):
        explained = self.explainer.explain(review, method)
        predicted = int(explained.probability >= 0.5)
        # Values are toward positive; ranked toward the predicted class.
        return predicted, explained.explanation, explained.explanation.values * (1 if predicted else -1)

    def render(self, review):
        words = np.array(review.split(), dtype=object)
        return lambda kept: [" ".join(words[row]) for row in kept]

    def scorer(self, predicted):
        def score(texts):
            positive = self.explainer.probability(texts)
            return positive if predicted else 1 - positive

        return score

    def features(self, review):
        return len(review.split())


def faithfulness(inputs, count):
    """The mean curves, AOPCs, cost and rank agreement of each method over `count` of `inputs`."""
    from keras_apps.explain.faithfulness import perturbation_curves, rank_agreement, ranking

    rng = np.random.default_rng(0)
    curves = {method: [] for method in (*METHODS, "random")}
    costs = {method: [] for method in METHODS}
    agreement = {f"{a}-{b}": [] for a, b in combinations(METHODS, 2)}
    for example in inputs.inputs[:count]:
        values = {}
        for method in METHODS:
            predicted, explanation, values[method] = inputs.explain(example, method)
            costs[method].append((explanation.seconds, explanation.model_calls))
        orders = {method: ranking(values[method], rng) for method in METHODS}
        orders["random"] = rng.permutation(inputs.features(example))
        for method, order in orders.items():
            curves[method].append(perturbation_curves(order, inputs.render(example), inputs.scorer(predicted),
                                                      steps=STEPS))
        for a, b in combinations(METHODS, 2):
            agreement[f"{a}-{b}"].append(rank_agreement(values[a], values[b]))
    return {
        "methods": {
            method: {
                "deletion_aopc": round(float(np.mean([c.deletion_aopc for c in found])), 4),
                "insertion_aopc": round(float(np.mean([c.insertion_aopc for c in found])), 4),
                "deletion_curve": np.round(np.mean([c.deletion for c in found], axis=0), 4).tolist(),
                "insertion_curve": np.round(np.mean([c.insertion for c in found], axis=0), 4).tolist(),
                **({"seconds": round(float(np.mean([s for s, _ in costs[method]])), 3),
                    "max_seconds": round(float(np.max([s for s, _ in costs[method]])), 3),
                    "model_calls": int(np.mean([calls for _, calls in costs[method]]))}
                   if method in costs else {}),
            }
            for method, found in curves.items()
        },
        "rank_agreement": {pair: round(float(np.nanmean(found)), 3) for pair, found in agreement.items()},
    }


def bench_model(name, limits):
    task, arguments = RUNS[name]
    count = SMOKE_TEST_EXAMPLES if limits else EXAMPLES
    with tempfile.TemporaryDirectory() as workdir:
        metrics, _ = run_task(task, arguments, workdir, limits)
        print(f"explaining {count} test inputs of {metrics['export']} by {', '.join(METHODS)} and at random",
              flush=True)
        start = time.perf_counter()
        inputs = (Images if task == "mnist" else Reviews)(metrics["export"], count)
        found = faithfulness(inputs, count)
    return {
        "command": " ".join([f"python -m tasks.{task}", *arguments]), "task": task, "model": metrics["model"],
        "model_test_accuracy": metrics["test"]["accuracy"], "examples": count,
        "explain_wall_seconds": round(time.perf_counter() - start, 1), **found, "machine": results.machine(),
    }


def plot_curves(rows, path=PLOT):
    """The mean deletion and insertion curves of each model's rows, one line per method, into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from keras_apps import files

    figure, axes = pyplot.subplots(len(rows), 2, figsize=(9, 2.6 * len(rows)), squeeze=False)
    fractions = np.linspace(0, 1, STEPS + 1)
    for (name, row), (deletion, insertion) in zip(rows.items(), axes):
        for method, found in row["methods"].items():
            style = dict(label=method, linestyle=":" if method == "random" else "-")
            deletion.plot(fractions, found["deletion_curve"], **style)
            insertion.plot(fractions, found["insertion_curve"], **style)
        deletion.set_title(f"{name}: deletion (lower is more faithful)", fontsize=9)
        insertion.set_title(f"{name}: insertion (higher is more faithful)", fontsize=9)
        for axis in (deletion, insertion):
            axis.set_xlabel("share of features removed / revealed", fontsize=8)
            axis.set_ylabel("P(predicted class)", fontsize=8)
            axis.set_ylim(0, 1.02)
    axes[0, 0].legend(fontsize=8)
    figure.tight_layout()
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=80)
    pyplot.close(figure)


def run(runs, repeats, limits, figures=True):
    """Yields `(name, row)` for each model in `runs` (`repeats` does not apply here), then with `figures` draws
    their curves as the README shows them."""
    rows = {}
    for name in runs:
        rows[name] = bench_model(name, limits)
        yield f"explain-{name}", rows[name]
    if figures:
        plot_curves(rows)
