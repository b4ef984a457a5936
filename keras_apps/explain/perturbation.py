"""LIME and SHAP, through the `lime` and `shap` libraries, over a model's predict function.

Both explain a black box by scoring perturbed copies of one input, so any export can be explained through the
function it serves, and their cost is counted in the examples scored. They explain probabilities (what the
export serves), where integrated gradients explains a logit through the network's gradients.

- Images: LIME fits a weighted linear model to the presence of superpixels (SLIC segments of the digit; a
  removed segment turns black, IG's baseline); every pixel gets its segment's weight. SHAP's partition
  explainer splits the image hierarchically into pixel blocks, masking to black, and gives per-pixel Owen
  values, which add up to the output's change from the all-black image (its additivity).
- Texts: the features are the whitespace-separated words; a removed word is dropped from the text. LIME fits
  per word position (`bow=False`); SHAP's partition explainer masks spans of words (its `Text` masker, split
  on whitespace). The gradient-based SHAP explainers need the model's graph, which a text export's string
  ops do not give them; the partition explainer needs only the predict function.
"""

import contextlib
import io
import time
from dataclasses import dataclass

import numpy as np

from keras_apps.errors import UserError

METHODS = ("ig", "lime", "shap")


@dataclass(frozen=True)
class Explanation:
    """One value per feature (pixel or word), what it was computed by, and what it cost."""

    values: np.ndarray
    method: str
    seconds: float
    model_calls: int  # examples the model scored

    @property
    def cost(self):
        return f"{self.method.upper()}, {self.seconds:.2f} s, {self.model_calls:,} model evaluations"


class CountedFunction:
    """`function` that counts the examples it is asked to score."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, batch):
        self.calls += len(batch)
        return self.function(batch)


def timed(method, explain, function):
    """Runs `explain(counted function)` (which returns the values) and wraps them with its cost."""
    counted = CountedFunction(function)
    start = time.perf_counter()
    values = explain(counted)
    return Explanation(np.asarray(values, np.float64), method, time.perf_counter() - start, counted.calls)


def superpixels(image, segments=48):
    """SLIC superpixels of a grayscale uint8 image `[height, width]`: an integer label per pixel."""
    from skimage.segmentation import slic

    return slic(image.astype("float64") / 255.0, n_segments=segments, compactness=0.1, channel_axis=None,
                start_label=0, enforce_connectivity=True)


def lime_image(probability, image, *, samples=1000, seed=0):
    """LIME weights of `probability` (uint8 images `[n, height, width]` → `[n]`) per pixel of `image`."""
    from lime.lime_image import LimeImageExplainer

    segments = superpixels(image)

    def explain(function):
        explainer = LimeImageExplainer(random_state=seed)
        with contextlib.redirect_stderr(io.StringIO()):  # its progress bar, which lime 0.2 cannot turn off
            result = explainer.explain_instance(
                np.repeat(image[..., None], 3, axis=-1).astype("float64"),  # LIME perturbs RGB images
                lambda batch: function(batch[..., 0].astype("uint8"))[:, None],
                labels=(0,), top_labels=None, hide_color=0, num_samples=samples, batch_size=samples,
                segmentation_fn=lambda _: segments, random_seed=seed,
            )
        weights = dict(result.local_exp[0])
        return np.vectorize(lambda segment: weights.get(segment, 0.0))(segments)

    return timed("lime", explain, probability)


def shap_image(probability, image, *, evaluations=1000):
    """SHAP partition values of `probability` per pixel of `image`, masking to black."""
    import shap

    def explain(function):
        masker = shap.maskers.Image(np.zeros((*image.shape, 1), "float64"))  # it wants a channel axis
        explainer = shap.PartitionExplainer(lambda batch: function(batch[..., 0].astype("uint8")), masker)
        return explainer(image[None, ..., None].astype("float64"), max_evals=evaluations,
                         batch_size=evaluations, silent=True).values[0, ..., 0]

    return timed("shap", explain, probability)


def split_words(text):
    """The features of a text: its whitespace-separated words."""
    return text.split()


def lime_text(probability, text, *, samples=1000, seed=0):
    """LIME weights of `probability` (a list of texts → `[n]`) per word of `text`."""
    from lime.lime_text import LimeTextExplainer

    words = split_words(text)

    def explain(function):
        explainer = LimeTextExplainer(split_expression=r"\s+", bow=False, mask_string="", random_state=seed)
        result = explainer.explain_instance(
            " ".join(words), lambda texts: np.asarray(function(list(texts)))[:, None],
            labels=(0,), num_features=len(words), num_samples=samples,
        )
        values = np.zeros(len(words))
        for index, weight in result.local_exp[0]:
            values[index] = weight
        return values

    return timed("lime", explain, probability)


def shap_text(probability, text, *, evaluations=1000):
    """SHAP partition values of `probability` per word of `text`, a removed word dropped."""
    import shap

    words = split_words(text)

    def explain(function):
        if len(words) == 1:  # the library's partition of the words needs two; one word's value is the whole change
            return np.asarray(function([text])) - np.asarray(function([""]))
        masker = shap.maskers.Text(r"\s+", mask_token=" ", collapse_mask_token=True)
        explainer = shap.PartitionExplainer(lambda texts: np.asarray(function([str(t) for t in texts])), masker)
        values = explainer([" ".join(words)], max_evals=evaluations, batch_size=evaluations, silent=True).values[0]
        if len(values) != len(words):
            raise UserError(f"SHAP split the text into {len(values)} parts, not its {len(words)} words (try --method "
                            "lime or ig)")
        return values

    return timed("shap", explain, probability)
