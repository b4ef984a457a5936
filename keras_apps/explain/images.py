"""An image classifier's export explained pixel by pixel (integrated gradients, LIME, SHAP), and the heat map.

Integrated gradients' path runs from a black image to the input in the model's own scaled pixels (the output of its
`rescale` layer, `keras_apps.models.image_input`), so attributions are per pixel of what the network reads.
"""

import time
from dataclasses import dataclass

import keras
import numpy as np

from keras_apps.errors import UserError
from keras_apps.explain import perturbation
from keras_apps.explain.integrated_gradients import integrated_gradients
from keras_apps.explain.perturbation import Explanation
from keras_apps.models import parts


@dataclass(frozen=True)
class ImageExplanation:
    """A value per pixel toward the predicted class, by one method, and what was predicted."""

    explanation: Explanation
    predicted: int
    probability: float
    note: str = ""  # integrated gradients: how close its attributions come to adding up


def pixel_model(model):
    """The part of `model` after its input scaling: scaled float pixels in, logits out."""
    try:
        scaled = parts.pixel_input(model).output
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return keras.Model(scaled, model.output)


class ImageExplainer:
    """An image classifier's export, explained by integrated gradients, LIME or SHAP.

    LIME and SHAP score perturbed images through the export's serving signature; integrated gradients needs
    the gradients of the Keras model the export carries.
    """

    def __init__(self, export_path, task):
        from keras_apps.export.saved_model import load_serving

        self.export_path, self.serve = load_serving(export_path, task=task)
        self.task = task
        self._network = None

    def probabilities(self, images):
        """Class probabilities of uint8 images `[n, height, width]`."""
        from keras_apps.export.saved_model import image_probabilities

        return image_probabilities(self.serve, np.asarray(images, np.uint8))

    def explain(self, image, method="ig", *, steps=64, samples=1000, seed=0):
        """`image` (uint8 `[height, width]`) explained by `method` toward the class the export predicts."""
        image = np.asarray(image, np.uint8)
        if not image.any():
            raise UserError("the image is blank (all black): there is no digit to explain")
        probabilities = self.probabilities(image[None])[0]
        predicted = int(probabilities.argmax())
        note = ""
        if method == "ig":
            explanation, attribution = self._integrated_gradients(image, predicted, steps)
            note = (f"attributions sum to {attribution.values.sum():.3f} of the logit's "
                    f"{attribution.output - attribution.baseline_output:.3f} rise from a black image "
                    f"(gap {attribution.completeness_gap:.3f}, {steps} steps)")
        else:
            score = lambda batch: self.probabilities(batch)[:, predicted]  # noqa: E731
            explanation = (perturbation.lime_image(score, image, samples=samples, seed=seed) if method == "lime"
                           else perturbation.shap_image(score, image, evaluations=samples))
        return ImageExplanation(explanation, predicted, float(probabilities[predicted]), note)

    def _integrated_gradients(self, image, predicted, steps):
        if self._network is None:
            from keras_apps.export.saved_model import load_keras_model

            self._network = pixel_model(load_keras_model(self.export_path, self.task)[1])
        start = time.perf_counter()
        scaled = (image.astype("float32") / 255.0).reshape(self._network.input.shape[1:])
        attribution = integrated_gradients(
            lambda pixels: self._network(pixels, training=False)[:, predicted], scaled, steps=steps)
        seconds = time.perf_counter() - start
        values = np.asarray(attribution.values).reshape(image.shape)
        return Explanation(values, "ig", seconds, steps + 1), attribution


METHOD_NAMES = {"ig": "integrated gradients", "lime": "LIME", "shap": "SHAP"}
UNITS = {"ig": "attribution to the logit", "lime": "weight on P(class)", "shap": "share of P(class)"}


def plot_explanations(image, explanations, path, title=""):
    """The image beside one heat map per explanation (red raised the predicted class's score, blue lowered it),
    each titled with its method, the prediction and the explanation's cost."""
    from keras_apps.evaluate.plots import pyplot_for_files, save

    pyplot = pyplot_for_files()
    figure, axes = pyplot.subplots(1, 1 + len(explanations), figsize=(3.2 + 3.6 * len(explanations), 3.6),
                                   squeeze=False)
    axes[0, 0].imshow(np.squeeze(image), cmap="gray")
    axes[0, 0].set_title(title or "input")
    for axis, explained in zip(axes[0, 1:], explanations):
        method = explained.explanation.method
        values = np.squeeze(explained.explanation.values)
        limit = float(np.abs(values).max()) or 1.0
        axis.imshow(np.squeeze(image), cmap="gray", alpha=0.35)
        heat = axis.imshow(values, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.8)
        axis.set_title(f"{METHOD_NAMES[method]}: class {explained.predicted} ({explained.probability:.3f})\n"
                       f"{explained.explanation.seconds:.2f} s, {explained.explanation.model_calls:,} model "
                       "evaluations", fontsize=9)
        figure.colorbar(heat, ax=axis, label=UNITS[method], fraction=0.046, pad=0.04)
    for axis in axes[0]:
        axis.axis("off")
    return save(figure, path)
