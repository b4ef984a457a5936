"""Images a user brings to `predict`: picture files (PNG and what else PIL reads) or NumPy `.npy` arrays, as uint8
batches; a picture of a digit in any size and colours (a file, a drawing on the demo page) is put in MNIST's own
form first."""

from pathlib import Path

import numpy as np

from keras_apps.errors import UserError

# A digit is read at 20 pixels (`digit_from_picture`'s box): a picture is shrunk to this many pixels on its long side
# first, which keeps a digit drawn over a tenth of a phone's photo at 100 and bounds the time and memory of the
# rest (a 9000x9000 picture took 41 s and 2.8 GB read at full size).
LONGEST_SIDE = 1024


def read_picture(path, image_shape):
    """A picture file of one digit as a uint8 image of `image_shape` in MNIST's form (`digit_from_picture`): MNIST's
    own white-on-black digits keep their pixels; a scan or a drawing of any size, dark ink on light paper, is
    inverted, scaled and centred as MNIST's digits were, so the model reads what it was trained on.

    A phone's photo is turned upright first: its camera stores the pixels as the sensor saw them and says in the
    EXIF orientation tag how to turn them for viewing, as every viewer does. A JPEG larger than `LONGEST_SIDE` is
    decoded at a fraction of its size; any picture is shrunk in 8 bits (`digit_from_picture`; a 16-bit one's
    resampling overshoots its range). A header claiming a size too large to decode safely (PIL's
    `DecompressionBombError`, not an `OSError`) is refused like any unreadable file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if getattr(image, "n_frames", 1) > 1:  # only the first would be read, and answered for all of them
                raise UserError(f"{path} holds {image.n_frames} pictures (an animation or a multi-page file); give "
                                f"each digit as a picture of its own, or as a .npy batch")
            image.draft(image.mode, (LONGEST_SIDE, LONGEST_SIDE))  # a JPEG decodes at a fraction of its size
            picture = _picture_array(path, ImageOps.exif_transpose(image))
    except FileNotFoundError:
        raise UserError(f"image file {path} does not exist") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise UserError(f"{path} is not a readable image ({exc})") from None
    try:
        return digit_from_picture(picture, image_shape)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None


def _shrunk(image):
    """`image` at most `LONGEST_SIDE` pixels on its long side, its proportions kept."""
    from PIL import Image

    image.thumbnail((LONGEST_SIDE, LONGEST_SIDE), Image.Resampling.LANCZOS)
    return image


def _picture_array(path, image):
    """uint8 grey, or RGBA where the file has transparency (`digit_from_picture` lays it on white paper)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        return np.asarray(image.convert("RGBA"), dtype=np.uint8)
    return _eight_bit_grey(path, image)


def _eight_bit_grey(path, image):
    """`image` as uint8 grey. PIL's own conversion clips 16-bit grey (modes "I;16…", or "I" as older PIL and
    some formats decode it) at 255, leaving two levels; its top 8 bits are the 8-bit image instead."""
    if not image.mode.startswith("I"):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    grey = np.asarray(image).astype(np.int64)
    if grey.min() < 0 or grey.max() > 0xFFFF:
        raise UserError(f"{path} holds {image.mode} pixels from {grey.min():,} to {grey.max():,}; expected 8- or "
                        "16-bit grey")
    return (grey >> 8).astype(np.uint8)


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
    """Reads picture files (`read_picture`) and `.npy` arrays of images already in the model's form into one uint8
    batch; returns `(images, names)` with a name per image."""
    batches, names = [], []
    for path in map(Path, paths):
        if path.suffix.lower() == ".npy":
            array = read_npy(path, image_shape)
            names += [f"{path}[{index}]" for index in range(len(array))]
        else:
            array = read_picture(path, image_shape)[np.newaxis]
            names.append(str(path))
        batches.append(array)
    if not batches:
        raise UserError("no images given")
    return np.concatenate(batches), names


def read_one_image(path, image_shape, answer):
    """`(image, name)` of the one image in the picture or `.npy` file `path` (`read_images`); a file of several is
    refused in one line, not answered for its first alone (`answer`: what a command gives for one image)."""
    images, names = read_images([path], image_shape)
    if len(images) != 1:
        raise UserError(f"{path} holds {len(images)} images; give one ({answer} is for one image)")
    return images[0], names[0]


def digit_from_picture(picture, image_shape=(28, 28), box=20):
    """A picture of one digit as MNIST's digits were made (LeCun et al.): white ink on black, the ink's bounding
    box scaled to fit `box` pixels and placed with its centre of mass at the centre of `image_shape`.

    `picture` is uint8 `[height, width]` grayscale, or `[height, width, 3 or 4]` colour (transparent pixels count
    as white paper), shrunk first to `LONGEST_SIDE` pixels on its long side. Dark ink on light paper is inverted,
    judged by the border's pixels. A picture already of `image_shape` is only inverted where needed, not rescaled:
    it is taken to be in MNIST's form. Any other has its paper's level (the border's median: a photo's paper is
    grey) taken off and its ink stretched to white, so that MNIST's black background, not the paper, surrounds the
    digit.
    """
    from PIL import Image

    gray = _grayscale(np.asarray(picture))
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 127:
        gray, border = 255 - gray, 255 - border
    paper = float(np.median(border))
    if gray.max() - paper < 64:
        raise UserError("the picture is blank: no ink stands out from its paper")
    if gray.shape == tuple(image_shape):
        return gray
    gray = np.clip((gray - paper) * 255 / (gray.max() - paper), 0, 255).round().astype(np.uint8)
    rows, columns = np.nonzero(gray > gray.max() * 0.1)
    ink = gray[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    scale = box / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    digit = np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.LANCZOS), np.float32)
    height, width = image_shape
    centre_row, centre_column = (np.average(np.indices(digit.shape)[axis], weights=digit + 1e-6) for axis in (0, 1))
    canvas = np.zeros((3 * height, 3 * width), np.float32)  # room for any shift; cropped to the middle below
    top, left = round(1.5 * height - centre_row), round(1.5 * width - centre_column)
    canvas[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return np.clip(canvas[height:2 * height, width:2 * width], 0, 255).round().astype(np.uint8)


def _grayscale(picture):
    """uint8 `[height, width]` from a grayscale, RGB or RGBA picture, at most `LONGEST_SIDE` on its long side.

    A colour picture is made grey at full size, as `read_picture` makes a colour file grey before shrinking it: PIL's
    own luma (ITU-R 601-2; a plain mean of the channels read a warm-lit or coloured paper otherwise), transparency
    composited onto white; so a picture reads as the same digit from a file and from the demo page (shrunk in colour
    first, its grey levels differ by one, enough to move a digit a column). Each step at full size makes one 8-bit
    plane, no wider copy of the picture."""
    from PIL import Image

    if picture.dtype != np.uint8 or picture.ndim not in (2, 3) or picture.ndim == 3 and picture.shape[2] not in (3, 4):
        raise UserError(f"expected a uint8 picture [height, width] or [height, width, 3 or 4], got {picture.dtype} "
                        f"{list(picture.shape)}")
    if min(picture.shape[:2]) < 8:
        raise UserError(f"the picture is {picture.shape[1]}x{picture.shape[0]} pixels: too small to hold a digit")
    if picture.ndim == 3:
        colour = Image.fromarray(picture)
        grey = colour.convert("L")  # an RGBA picture's luma of its colour, its alpha left aside
        if picture.shape[2] == 4:
            paper = Image.new("L", colour.size, 255)
            paper.paste(grey, mask=colour.getchannel("A"))
            grey = paper
        picture = np.asarray(grey)
    if max(picture.shape) > LONGEST_SIDE:
        picture = np.asarray(_shrunk(Image.fromarray(picture)))
    return picture
