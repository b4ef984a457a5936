"""Shared fixtures. The CPU is split into two logical devices before TensorFlow starts, so that
`MirroredStrategy` can be tested against one device in the same process."""

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from keras_apps.tensorflow_start import import_tensorflow  # noqa: E402

tf = import_tensorflow()  # as the commands load it: quietly, without the optional imports no test needs first

tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0],
    [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()],
)

REPOSITORY = Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items):
    """The end-to-end tests of `tests/tasks` first: they are the longest, and a long test left for the end of a
    run keeps the other test process (`make test` runs two) waiting."""
    items.sort(key=lambda item: not item.nodeid.startswith("tests/tasks/"))


@pytest.fixture(autouse=True)
def run_folders_released():
    """The run folders a test opened outside `cli.run` are let go when it ends, as a command's are."""
    from keras_apps.training.run_directory import release_held

    yield
    release_held()


def write_tiny_mnist(path, train=64, test=32, seed=0):
    """A valid `mnist.npz` in Keras's layout with random pixels: for tests of reading, not of learning."""
    generator = np.random.default_rng(seed)
    np.savez_compressed(
        path,
        x_train=generator.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        y_train=generator.integers(0, 10, train, dtype=np.uint8),
        x_test=generator.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        y_test=generator.integers(0, 10, test, dtype=np.uint8),
    )
    return path


@pytest.fixture
def tiny_mnist_file(tmp_path):
    return write_tiny_mnist(tmp_path / "mnist.npz")


def _real_data_holding(file_name):
    """`$KERAS_APPS_DATA`, holding the real `file_name`. The calling test is skipped only when the variable is
    unset: when it is set, a missing or unreadable file fails the test, so a run missing a dataset is not green."""
    directory = os.environ.get("KERAS_APPS_DATA")
    if not directory:
        pytest.skip(f"set KERAS_APPS_DATA to the folder holding the real {file_name}")
    try:
        with open(Path(directory) / file_name, "rb") as file:
            file.read(1)
    except OSError as exc:
        pytest.fail(f"KERAS_APPS_DATA={directory} has no readable {file_name} ({exc.strerror})", pytrace=False)
    return Path(directory)


@pytest.fixture
def real_data_dir():
    """The directory of the real datasets, holding `mnist.npz`."""
    return _real_data_holding("mnist.npz")


@pytest.fixture
def real_imdb_dir():
    """The directory of the real datasets, holding `aclImdb_v1.tar.gz`."""
    return _real_data_holding("aclImdb_v1.tar.gz")


@pytest.fixture
def real_shakespeare_dir():
    """The directory of the real datasets, holding `tinyshakespeare.txt`."""
    return _real_data_holding("tinyshakespeare.txt")


@pytest.fixture
def real_spa_eng_dir():
    """The directory of the real datasets, holding `spa-eng.zip`."""
    return _real_data_holding("spa-eng.zip")


@pytest.fixture
def real_fsdd_dir():
    """The directory of the real datasets, holding the Free Spoken Digit Dataset's release archive."""
    return _real_data_holding("free-spoken-digit-dataset-1.0.9.tar.gz")


# A tiny labeled corpus for fast tests of text pipelines and models (1 = positive).
TINY_REVIEWS = [
    ("A wonderful film, the acting is superb and the story moving.", 1),
    ("Terrible plot, awful acting. A waste of two hours.", 0),
    ("I loved every minute; a great and beautiful movie.", 1),
    ("Boring, predictable and badly written. Avoid it.", 0),
    ("One of the best films of the year, brilliant.", 1),
    ("The worst movie I have seen, dull and stupid.", 0),
    ("Great music, great cast, a joy to watch.", 1),
    ("Awful. The jokes fall flat and the ending is bad.", 0),
]


def write_imdb_archive(path, reviews):
    """An `aclImdb_v1.tar.gz` in the canonical layout holding `{relative path: text}`."""
    with tarfile.open(path, "w:gz") as archive:
        for name, text in reviews.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"aclImdb/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


TINY_IMDB_PER_CLASS = 24  # reviews of each class in each split of the tiny archive
TINY_IMDB_SIZES = {"train": 2 * TINY_IMDB_PER_CLASS, "test": 2 * TINY_IMDB_PER_CLASS, "unsup": 16}


def write_tiny_imdb(directory):
    """A small `aclImdb_v1.tar.gz` in `directory`, in the real layout and of `TINY_IMDB_SIZES`: varied sentences
    of each class, and a few unlabeled ones. (Reading it needs `keras_apps.data.imdb.SIZES` set to those sizes.)"""
    from keras_apps.data import imdb

    reviews = {}
    for split in ("train", "test"):
        for label, name in enumerate(imdb.CLASS_NAMES):
            sentences = [text for text, sentiment in TINY_REVIEWS if sentiment == label]
            for index in range(TINY_IMDB_PER_CLASS):
                text = f"{sentences[index % 4]} Review {index}.<br /><br />{sentences[(index + 1) % 4]}"
                reviews[f"{split}/{name}/{index}_{7 * label + 1}.txt"] = text
    for index in range(TINY_IMDB_SIZES["unsup"]):
        reviews[f"train/unsup/{index}_0.txt"] = TINY_REVIEWS[index % len(TINY_REVIEWS)][0]
    return write_imdb_archive(Path(directory) / "aclImdb_v1.tar.gz", reviews)


TINY_FSDD = {"speakers": ("ann", "bob"), "recordings": 12}  # `spoken_digits.EXPECTED` of the tiny archive


def wav_bytes(samples, rate=8000, channels=1):
    """A 16-bit PCM WAV file holding `samples` (integers) on each of `channels`."""
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(np.repeat(np.asarray(samples, "<i2"), channels).tobytes())
    return buffer.getvalue()


def tiny_fsdd_members(**replace):
    """The members of a tiny FSDD release (`TINY_FSDD`): recording n of digit d by a speaker is a tone of
    300 + 200 d Hz, d * 100 + n + 1,200 samples long; `replace` overrides or adds members."""
    members = {}
    for digit in range(10):
        for speaker in TINY_FSDD["speakers"]:
            for index in range(TINY_FSDD["recordings"]):
                time = np.arange(digit * 100 + index + 1200) / 8000
                members[f"recordings/{digit}_{speaker}_{index}.wav"] = wav_bytes(
                    np.round(8000 * np.sin(2 * np.pi * (300 + 200 * digit) * time)))
    members["README.md"] = b"FSDD"
    return {**members, **replace}


def another_tone_at(indices):
    """Members replacing each speaker's recordings `indices` of every digit by one other tone (1,234 Hz), their
    names and so labels kept: the data a run learned changed under it (for `tiny_fsdd_members(**...)`)."""
    other_tone = wav_bytes(np.round(3000 * np.sin(2 * np.pi * 1234 * np.arange(1300) / 8000)))
    return {f"recordings/{digit}_{speaker}_{index}.wav": other_tone for digit in range(10)
            for speaker in TINY_FSDD["speakers"] for index in indices}


def write_fsdd_archive(directory, members):
    """`free-spoken-digit-dataset-1.0.9.tar.gz` in `directory`, holding `members` under the release's folder."""
    with tarfile.open(Path(directory) / "free-spoken-digit-dataset-1.0.9.tar.gz", "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(f"free-spoken-digit-dataset-1.0.9/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def stop_at(module, name, monkeypatch):
    """`module.name` replaced by a stub that records its arguments and stops the command there, in one line: what
    a command passes on to its slow steps, seen without taking them."""
    from keras_apps.errors import UserError

    called = {}

    def stub(*args, **kwargs):
        called.update(args=args, kwargs=kwargs)
        raise UserError("stopped here by the test")

    monkeypatch.setattr(module, name, stub)
    return called


def run_cli(main, argv, capsys):
    """Runs a task's `main` as its command line does, in this process; returns (exit status, stdout, stderr)."""
    from keras_apps import cli

    try:
        status = cli.run(main, argv)
    except SystemExit as exit:  # argparse exits on --help and on bad arguments
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_python(*args, cwd=None, env=None, timeout=600):
    """Runs `python *args` in a fresh process from the repository root; returns the CompletedProcess."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd or REPOSITORY, env=full_env, capture_output=True, text=True,
        timeout=timeout,
    )


# English–Spanish pairs for fast tests of the translation pipeline, tokenizers and models.
TINY_PAIRS = [
    ("Go.", "Ve."), ("Hi.", "Hola."), ("Run!", "¡Corre!"), ("Who?", "¿Quién?"), ("Wow!", "¡Órale!"),
    ("I'm fine.", "Estoy bien."), ("I'm fine.", "Me encuentro bien."), ("I am well.", "Estoy bien."),
    ("Where is the station?", "¿Dónde está la estación?"), ("The cat is black.", "El gato es negro."),
    ("I like coffee.", "Me gusta el café."), ("She is my sister.", "Ella es mi hermana."),
    ("We are here.", "Estamos aquí."), ("Tom is tall.", "Tom es alto."), ("Good morning.", "Buenos días."),
    ("Thank you very much.", "Muchas gracias."), ("Is it true?", "¿Es verdad?"), ("Yes, it is.", "Sí, lo es."),
]


def sharpen_translator(model, end_bias=0.5, seed=0):
    """Gives an untrained `build_translator` model larger weights than its initializer's, for sharper, more
    varied distributions to decode from, and a bias toward `[END]`, so that some (not all) hypotheses end early."""
    from keras_apps.text.translation_tokens import END_ID

    generator = np.random.default_rng(seed)
    model.set_weights([generator.normal(0, 0.1, w.shape).astype(np.float32) if w.ndim > 1 else w
                       for w in model.get_weights()])
    bias = model.get_layer("logits").bias
    bias.assign(np.where(np.arange(bias.shape[0]) == END_ID, end_bias, 0.0).astype(np.float32))
    return model


def write_spa_eng_zip(path, pairs, member="spa-eng/spa.txt"):
    """A `spa-eng.zip` in the canonical layout holding `pairs` as `English<TAB>Spanish` lines."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, "".join(f"{english}\t{spanish}\n" for english, spanish in pairs))
    return path
