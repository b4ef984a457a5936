import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from keras_apps.data.image_files import digit_from_picture, read_images, read_one_image
from keras_apps.errors import UserError


def _stroke(size=28):
    """A white vertical bar on black, MNIST's form."""
    digit = np.zeros((size, size), np.uint8)
    digit[size // 7:size - size // 7, size * 3 // 7:size * 4 // 7] = 200
    return digit


def test_reads_pictures_and_npy_into_one_batch(tmp_path):
    Image.fromarray(_stroke()).save(tmp_path / "a.png")
    Image.fromarray(np.repeat(_stroke()[..., None], 3, axis=2)).save(tmp_path / "rgb.png")
    np.save(tmp_path / "b.npy", np.ones((2, 28, 28), np.uint8))
    images, names = read_images([tmp_path / "a.png", tmp_path / "rgb.png", tmp_path / "b.npy"], (28, 28))
    assert images.shape == (4, 28, 28) and images.dtype == np.uint8
    assert (images[0] == _stroke()).all() and (images[1] == _stroke()).all()  # MNIST's form: kept as it is
    assert names[2].endswith("b.npy[0]")


def test_a_file_of_several_images_given_for_one_is_refused_not_answered_for_its_first(tmp_path):
    """`mnist explain five.npy` explained the first of five images, the others skipped without a word."""
    np.save(tmp_path / "five.npy", np.ones((5, 28, 28), np.uint8))
    with pytest.raises(UserError, match=r"five.npy holds 5 images; give one \(an explanation is for one image\)$"):
        read_one_image(tmp_path / "five.npy", (28, 28), "an explanation")
    np.save(tmp_path / "one.npy", _stroke()[np.newaxis])
    image, name = read_one_image(tmp_path / "one.npy", (28, 28), "an explanation")
    assert (image == _stroke()).all() and name.endswith("one.npy[0]")
    Image.fromarray(_stroke()).save(tmp_path / "a.png")
    image, name = read_one_image(tmp_path / "a.png", (28, 28), "an explanation")
    assert image.shape == (28, 28) and name.endswith("a.png")


def test_a_picture_of_several_frames_is_refused_not_read_as_its_first(tmp_path):
    """An animated GIF or a multi-page TIFF of three digits got one answer, its first frame's."""
    frames = [Image.fromarray(np.roll(_stroke(), shift, axis=1)) for shift in (-4, 0, 4)]
    frames[0].save(tmp_path / "three.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "three.tiff", save_all=True, append_images=frames[1:])
    for name in ("three.gif", "three.tiff"):
        with pytest.raises(UserError, match=f"{name} holds 3 pictures .*give each digit as a picture of its own"):
            read_images([tmp_path / name], (28, 28))
    frames[0].save(tmp_path / "one.gif")
    assert read_images([tmp_path / "one.gif"], (28, 28))[0].shape == (1, 28, 28)


def test_a_picture_dark_on_light_of_any_size_is_put_in_mnist_form(tmp_path):
    """A scan or a drawing saved from a paint program, black on white: the model reads it inverted, scaled and
    centred, as MNIST's digits were made, not as the negative it never saw."""
    Image.fromarray(255 - _stroke()).save(tmp_path / "paper.png")
    scan = 255 - np.asarray(Image.fromarray(_stroke(56)).resize((70, 56)))
    Image.fromarray(scan).save(tmp_path / "scan.png")
    drawing = np.zeros((90, 90, 4), np.uint8)  # a drawing app's transparent canvas, one opaque black stroke
    drawing[10:80, 40:50] = (0, 0, 0, 255)
    Image.fromarray(drawing).save(tmp_path / "drawing.png")
    images, _ = read_images([tmp_path / "paper.png", tmp_path / "scan.png", tmp_path / "drawing.png"], (28, 28))
    assert (images[0] == _stroke()).all()
    np.testing.assert_array_equal(images[1], digit_from_picture(scan))
    np.testing.assert_array_equal(images[2], digit_from_picture(drawing))
    for image in images:
        assert image[0].max() == 0 and image[:, 0].max() == 0 and image.max() >= 199  # white ink on black


def test_a_huge_picture_is_read_as_the_same_digit_its_work_done_at_a_bounded_size(tmp_path, monkeypatch):
    """A 9000x9000 PNG of 99 KB took 41 s and 2.8 GB, every step at full size; shrunk to `LONGEST_SIDE` first, it
    is the same digit, from a file (a JPEG decoded small) or drawn on the demo page."""
    from keras_apps.data import image_files

    worked_on, grey = [], image_files._grayscale

    def recorded(picture):  # the grey picture every later step works on
        result = grey(picture)
        worked_on.append(result.shape)
        return result

    monkeypatch.setattr(image_files, "_grayscale", recorded)
    paper = np.full((9000, 9000), 255, np.uint8)
    paper[1000:8000, 4000:5000] = 0  # a black bar on white: a 1
    Image.fromarray(paper).save(tmp_path / "huge.png")
    Image.fromarray(paper).save(tmp_path / "huge.jpg", quality=90)
    images, _ = read_images([tmp_path / "huge.png", tmp_path / "huge.jpg"], (28, 28))
    drawn = digit_from_picture(np.repeat(paper[::2, ::2, None], 3, axis=2))  # as the page hands it over: RGB
    assert len(worked_on) == 3 and all(max(shape) <= image_files.LONGEST_SIDE for shape in worked_on)
    small = digit_from_picture(np.asarray(Image.fromarray(paper).resize((900, 900))))
    for image in (*images, drawn):
        np.testing.assert_allclose(image, small, atol=40)


def test_a_large_16_bit_picture_keeps_its_range_as_it_is_shrunk(tmp_path):
    """Shrunk before its conversion to 8 bits, a 2000x2000 16-bit scan overshot its range (-9,026 to 71,766) and
    was refused for values it never held."""
    paper = np.full((2000, 2000), 65535, np.uint16)
    paper[300:1700, 900:1100] = 0
    Image.fromarray(paper.astype(np.int32)).save(tmp_path / "scan.tif")  # PIL's 32-bit integer mode, "I"
    images, _ = read_images([tmp_path / "scan.tif"], (28, 28))
    small = digit_from_picture(np.asarray(Image.fromarray((paper >> 8).astype(np.uint8)).resize((1000, 1000))))
    np.testing.assert_allclose(images[0], small, atol=40)


def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path):
    """A phone stores a portrait photo's pixels on their side with an EXIF orientation tag (6: turn them 90°
    clockwise to view); read as stored, the digit would lie on its side."""
    upright = 255 - _stroke(56)
    upright[8:16, 8:48] = 0  # a bar across the top: a "7", which lies on its side when the tag is ignored
    exif = Image.Exif()
    exif[0x0112] = 6  # ExifTags.Base.Orientation
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(tmp_path / "portrait.png", exif=exif)
    Image.fromarray(upright).save(tmp_path / "upright.png")
    images, _ = read_images([tmp_path / "portrait.png", tmp_path / "upright.png"], (28, 28))
    np.testing.assert_array_equal(images[0], images[1])


def test_16_bit_grey_keeps_its_levels_scaled_to_8_bits(tmp_path):
    """PIL's conversion to 8 bits would clip it: everything over 255 white, two levels in all."""
    digit = np.zeros((28, 28), np.uint8)
    digit[4:24, 12:16] = np.linspace(0, 255, 20, dtype=np.uint8)[:, None]
    Image.fromarray(digit.astype(np.uint16) * 257).save(tmp_path / "wide.png")  # 16-bit grey: mode I;16
    Image.fromarray(digit.astype(np.int32) * 256 + 255).save(tmp_path / "int.tif")  # 32-bit integer: mode I
    images, _ = read_images([tmp_path / "wide.png", tmp_path / "int.tif"], (28, 28))
    assert Image.open(tmp_path / "wide.png").mode == "I;16" and Image.open(tmp_path / "int.tif").mode == "I"
    assert (images == digit).all()


def test_integer_grey_beyond_16_bits_is_refused(tmp_path):
    Image.fromarray(np.full((28, 28), -1, np.int32)).save(tmp_path / "negative.tif")
    with pytest.raises(UserError, match="negative.tif holds I pixels from -1 to -1; expected 8- or 16-bit grey"):
        read_images([tmp_path / "negative.tif"], (28, 28))


def test_a_blank_picture_is_refused_naming_the_file(tmp_path):
    Image.fromarray(np.full((32, 30), 250, np.uint8)).save(tmp_path / "white.png")
    with pytest.raises(UserError, match=r"white\.png: the picture is blank"):
        read_images([tmp_path / "white.png"], (28, 28))


@pytest.mark.parametrize("array, problem", [(np.zeros((2, 28, 28), np.float32), "float32"),
                                            (np.zeros((2, 28, 27), np.uint8), "shape")])
def test_npy_of_wrong_dtype_or_shape_is_refused(tmp_path, array, problem):
    np.save(tmp_path / "x.npy", array)
    with pytest.raises(UserError, match=problem):
        read_images([tmp_path / "x.npy"], (28, 28))


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_images([tmp_path / "none.png"], (28, 28))
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(UserError, match="not a readable image"):
        read_images([tmp_path / "text.png"], (28, 28))


def test_empty_npy_is_refused_naming_the_file(tmp_path):
    np.save(tmp_path / "empty.npy", np.zeros((0, 28, 28), np.uint8))
    with pytest.raises(UserError, match=r"empty\.npy holds no images") as raised:
        read_images([tmp_path / "empty.npy"], (28, 28))
    assert "\n" not in str(raised.value)


def test_png_whose_header_claims_a_huge_size_is_refused(tmp_path):
    """PIL raises `DecompressionBombError` (not an `OSError`) on opening it, before reading any pixel."""
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "bomb.png")
    data = bytearray((tmp_path / "bomb.png").read_bytes())
    assert data[12:16] == b"IHDR"  # after the 8-byte signature and the chunk's length
    data[16:24] = struct.pack(">II", 30_000, 30_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # the chunk's CRC, over type and data
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"bomb\.png is not a readable image") as raised:
        read_images([tmp_path / "bomb.png"], (28, 28))
    assert "\n" not in str(raised.value)


def test_a_drawing_becomes_a_centred_white_on_black_digit():
    paper = np.full((280, 200, 4), 255, np.uint8)  # an opaque white canvas, as the demo page sends it
    paper[40:240, 20:60, :3] = 0  # a thick black stroke, off-centre to the left
    digit = digit_from_picture(paper)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, columns = np.nonzero(digit > 50)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)  # the stroke's height fills MNIST's 20-pixel box
    centre = np.average(np.indices(digit.shape), axis=(1, 2), weights=digit.astype(float))
    np.testing.assert_allclose(centre, [14, 14], atol=1.0)
    assert digit[0].max() == 0 and digit[:, -1].max() == 0  # black paper


def test_a_photo_s_grey_paper_becomes_mnist_s_black_background():
    """Photographed, white paper comes out grey (here 190), the ink not black (40): inverted, the paper would stay
    a grey square around the digit, and the ink's bounding box would be the whole picture."""
    photo = np.full((120, 100), 190, np.uint8)
    photo[20:100, 45:55] = 40  # a stroke 80 pixels tall
    digit = digit_from_picture(photo)
    assert digit[0].max() == 0 and digit[:, 0].max() == 0 and digit[:, -1].max() == 0 and digit.max() == 255
    rows, _ = np.nonzero(digit > 50)
    assert rows.max() - rows.min() + 1 in (19, 20, 21)  # the stroke fills MNIST's 20-pixel box


def test_transparent_paper_counts_as_white_and_an_mnist_sized_picture_keeps_its_pixels():
    drawing = np.zeros((100, 100, 4), np.uint8)  # transparent, with one opaque black bar
    drawing[20:80, 45:55] = (0, 0, 0, 255)
    assert digit_from_picture(drawing).max() == 255
    mnist_like = np.zeros((28, 28), np.uint8)
    mnist_like[4:24, 10:14] = 200
    np.testing.assert_array_equal(digit_from_picture(mnist_like), mnist_like)
    np.testing.assert_array_equal(digit_from_picture(255 - mnist_like), mnist_like)  # black on white: inverted


def test_a_colour_picture_reads_the_same_from_a_file_as_drawn_on_the_demo_page(tmp_path):
    """The page hands its picture over as RGBA, a file is converted by PIL: a black 7 on green paper (PIL's luma
    150) was blank to the page, whose plain mean of the channels (110) took the paper for dark and the ink for it."""
    picture = np.zeros((120, 100, 3), np.uint8)
    picture[...] = (60, 210, 60)  # green paper
    picture[20:30, 20:80] = picture[30:100, 60:70] = (10, 10, 10)  # a 7
    Image.fromarray(picture).save(tmp_path / "seven.png")
    from_file, _ = read_images([tmp_path / "seven.png"], (28, 28))
    opaque = np.concatenate([picture, np.full((120, 100, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(digit_from_picture(opaque), from_file[0])
    np.testing.assert_array_equal(digit_from_picture(picture), from_file[0])


def test_a_large_colour_picture_reads_the_same_from_a_file_as_uploaded_to_the_demo_page(tmp_path, monkeypatch):
    """A file is made grey at full size, then shrunk; the page's RGBA upload was shrunk in colour, then made grey:
    grey levels one apart, and the digit a column over (P 0.736 against 0.696)."""
    from keras_apps.data import image_files

    monkeypatch.setattr(image_files, "LONGEST_SIDE", 64)
    noise = np.random.default_rng(0).integers(-40, 40, (300, 240, 3))
    picture = np.clip(np.array((200, 170, 120)) + noise, 0, 255).astype(np.uint8)  # a photo's uneven paper
    picture[40:260, 100:140] = picture[40:70, 60:190] = (30, 40, 90)  # a 7 in blue ink
    Image.fromarray(picture).save(tmp_path / "seven.png")
    from_file, _ = read_images([tmp_path / "seven.png"], (28, 28))
    uploaded = np.concatenate([picture, np.full((300, 240, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_array_equal(digit_from_picture(uploaded), from_file[0])


@pytest.mark.parametrize("picture, message", [
    (np.full((280, 280, 4), 255, np.uint8), "the picture is blank"),
    (np.zeros((280, 280), np.float32), "expected a uint8 picture"),
    (np.zeros((4, 4), np.uint8), "too small to hold a digit"),
])
def test_pictures_without_a_digit_are_refused(picture, message):
    with pytest.raises(UserError, match=message):
        digit_from_picture(picture)


def test_a_digit_s_faint_anti_aliased_edge_is_inside_its_bounding_box():
    """Ink is what stands above a tenth of the brightest pixel: with its faint edge (a quarter as bright) this
    stroke's box is 20 pixels tall, MNIST's box, so it is placed as it is; without it, it would be enlarged."""
    picture = np.zeros((64, 64), np.uint8)
    picture[20:40, 26:38] = 64  # an edge 2 pixels wide...
    picture[22:38, 28:36] = 255  # ...around the stroke's core
    digit = digit_from_picture(picture)
    rows, columns = np.nonzero(digit)
    box = digit[rows.min():rows.max() + 1, columns.min():columns.max() + 1]
    np.testing.assert_array_equal(box, picture[20:40, 26:38])
