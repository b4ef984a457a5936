"""Integrated gradients on the pixels of an image classifier, and the heat map that shows them.

The path runs from a black image to the input in the model's own scaled pixels (the output of its
`rescale` layer, `keras_apps.models.image_input`), so attributions are per pixel of what the network reads.
"""

from dataclasses import dataclass

import keras
import numpy as np

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.explain.integrated_gradients import Attribution, integrated_gradients
from keras_apps.models import parts


@dataclass(frozen=True)
class ImageExplanation:
    """The attribution of the predicted class's logit to each pixel, and what was predicted."""

    attribution: Attribution
    predicted: int
    probability: float


def pixel_model(model):
    """The part of `model` after its input scaling: scaled float pixels in, logits out."""
    try:
        scaled = parts.pixel_input(model).output
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return keras.Model(scaled, model.output)


def explain_image(model, image, steps=64):
    """Integrated gradients of the predicted class's logit, from a black image to `image` (uint8)."""
    image = np.asarray(image)
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(model(image[None], training=False)))[0]
    predicted = int(probabilities.argmax())
    network = pixel_model(model)
    scaled = (image.astype("float32") / 255.0).reshape(network.input.shape[1:])
    attribution = integrated_gradients(lambda pixels: network(pixels, training=False)[:, predicted], scaled,
                                       steps=steps)
    return ImageExplanation(attribution, predicted, float(probabilities[predicted]))


def plot_explanation(image, explanation, path, title=""):
    """The image beside its attribution heat map (red raised the predicted class's score, blue lowered it)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    values = np.squeeze(explanation.attribution.values)
    limit = float(np.abs(values).max()) or 1.0
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(7, 3.4))
    left.imshow(np.squeeze(image), cmap="gray")
    left.set_title(title or "input")
    right.imshow(np.squeeze(image), cmap="gray", alpha=0.35)
    heat = right.imshow(values, cmap="bwr", vmin=-limit, vmax=limit, alpha=0.8)
    right.set_title(f"integrated gradients\nclass {explanation.predicted} ({explanation.probability:.3f})")
    for axis in (left, right):
        axis.axis("off")
    figure.colorbar(heat, ax=right, label="attribution to the logit")
    figure.tight_layout()
    with files.atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    pyplot.close(figure)
    return path
