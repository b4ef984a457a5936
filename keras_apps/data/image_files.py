"""Images a user brings to `predict`: PNG files or a NumPy `.npy` array, as uint8 batches."""

from pathlib import Path

import numpy as np

from keras_apps.errors import UserError


def read_png(path, image_shape):
    """One grayscale PNG of exactly `image_shape` (height, width) as a uint8 array; colour is converted.

    The size is checked from the header, before any pixel is decoded; a header claiming a size too large to
    decode safely (PIL's `DecompressionBombError`, not an `OSError`) is refused like any unreadable file.
    """
    from PIL import Image, UnidentifiedImageError

    height, width = image_shape
    try:
        with Image.open(path) as image:
            if image.size != (width, height):
                raise UserError(f"{path} is {image.width}x{image.height} pixels; the model takes {width}x{height}")
            return np.asarray(image.convert("L"), dtype=np.uint8)
    except FileNotFoundError:
        raise UserError(f"image file {path} does not exist") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable image ({exc})") from None


def read_npy(path, image_shape):
    """A `.npy` array of uint8 images, `[n, height, width]` (n at least 1) or a single `[height, width]` image."""
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f"array file {path} does not exist") from None
    except (OSError, ValueError, EOFError) as exc:
        raise UserError(f"{path} is not a readable .npy array ({exc})") from None
    if array.shape == tuple(image_shape):
        array = array[np.newaxis]
    if array.ndim != len(image_shape) + 1 or array.shape[1:] != tuple(image_shape):
        expected = ", ".join(map(str, image_shape))
        raise UserError(f"{path} holds an array of shape {list(array.shape)}; expected [n, {expected}]")
    if not len(array):
        raise UserError(f"{path} holds no images (an array of shape {list(array.shape)})")
    if array.dtype != np.uint8:
        raise UserError(f"{path} holds {array.dtype} values; expected uint8 pixels (0-255)")
    return array


def read_images(paths, image_shape):
    """Reads PNG files and `.npy` arrays into one uint8 batch; returns `(images, names)` with a name per image."""
    batches, names = [], []
    for path in map(Path, paths):
        if path.suffix.lower() == ".npy":
            array = read_npy(path, image_shape)
            names += [f"{path}[{index}]" for index in range(len(array))]
        else:
            array = read_png(path, image_shape)[np.newaxis]
            names.append(str(path))
        batches.append(array)
    if not batches:
        raise UserError("no images given")
    return np.concatenate(batches), names
