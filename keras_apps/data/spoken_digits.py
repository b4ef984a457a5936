"""The Free Spoken Digit Dataset (FSDD, release v1.0.9, which tensorflow-datasets builds as `spoken_digit`):
2,500 recordings of the digits 0-9, mono 8 kHz 16-bit WAV, by 5 speakers, 50 of each digit each.

Read from `free-spoken-digit-dataset-1.0.9.tar.gz`, extracted once into the cache (`keras_apps.data.archives`);
each `recordings/{digit}_{speaker}_{index}.wav` is decoded by TensorFlow (`tf.audio.decode_wav`) into float32
samples in [-1, 1]. The official split puts indices 0-4 of every speaker and digit in test (250 recordings)
and 5-49 in train (2,250); holding one speaker's 500 recordings out checks that a model hears digits, not voices.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_apps.data.archives import cached_extraction
from keras_apps.data.autotune import without_autotune
from keras_apps.data.locate import RemoteFile, locate
from keras_apps.errors import UserError
from keras_apps.models.speech_frames import FRAME_SECONDS, SILENT_DBFS, frame_length

# The sha256 of the download, as tensorflow-datasets records it (checked by `locate` on download only); the copy in
# the shared data is a re-pack of the same files.
FSDD_FILE = RemoteFile(
    name="free-spoken-digit-dataset-1.0.9.tar.gz",
    origin="https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/v1.0.9.tar.gz",
    sha256="8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0",
)
SAMPLE_RATE = 8000
# What release v1.0.9 holds: every speaker says every digit this many times, indices 0 to RECORDINGS - 1.
EXPECTED = {"speakers": ("george", "jackson", "nicolas", "theo", "yweweler"), "recordings": 50}
TEST_INDICES = 5  # the official split: indices 0-4 are the test set
MIN_SAMPLES = frame_length(SAMPLE_RATE)  # one analysis frame of the model's front end (FSDD's shortest: 1,148)
MAX_SECONDS = 10  # a spoken digit lasts about a second (FSDD's longest: 2.3 s); longer is not one digit
# A user's recording, the silence before and after the word included: checked before it is resampled, which takes
# time and memory in proportion to its length (a minute at 8 kHz: 480,000 samples).
MAX_RECORDED_SECONDS = 60
# A float WAV runs from -1 to 1; a recording's overs stay near it, samples beyond twice it are in another scale.
FLOAT_OVER_SCALE = 2
_NAME = re.compile(r"(\d)_([a-z]+)_(\d+)\.wav")


@dataclass(frozen=True)
class Recordings:
    """Waveforms (float32 arrays of their own lengths) with their digit, speaker and index."""

    waveforms: list
    labels: np.ndarray  # int32 digits
    speakers: np.ndarray  # str
    indices: np.ndarray  # int32: the recording's number for its speaker and digit

    def __len__(self):
        return len(self.labels)

    def select(self, mask):
        return Recordings([wave for wave, keep in zip(self.waveforms, mask) if keep], self.labels[mask],
                          self.speakers[mask], self.indices[mask])

    def official_split(self):
        """`(train, test)`: indices 5-49 and 0-4 of every speaker and digit (the dataset's own split)."""
        test = self.indices < TEST_INDICES
        return self.select(~test), self.select(test)

    def leave_out(self, speaker):
        """`(the other speakers' recordings, this speaker's)`."""
        if speaker not in set(self.speakers):
            raise UserError(f"no speaker {speaker!r}; the speakers are {', '.join(sorted(set(self.speakers)))}")
        held_out = self.speakers == speaker
        return self.select(~held_out), self.select(held_out)


def read_wav(path):
    """The samples of one of the dataset's files, a mono 8 kHz WAV file of one spoken digit, as float32 in [-1, 1];
    a one-line error for anything else (another rate, stereo, shorter than `MIN_SAMPLES`, longer than
    `MAX_SECONDS`, not a WAV file): a file of the release that is not, was changed."""
    import tensorflow as tf

    try:
        audio, rate = tf.audio.decode_wav(tf.io.read_file(str(path)))
    except (tf.errors.OpError, ValueError) as exc:
        message = getattr(exc, "message", str(exc)).splitlines()[0]
        message = re.sub(r"\{\{.*?\}\}\s*|\s*\[Op:.*$", "", message)  # TensorFlow's node and op names
        raise UserError(f"{path} is not a readable WAV file ({message})") from None
    if int(rate) != SAMPLE_RATE or audio.shape[1] != 1:
        raise UserError(f"{path} is {audio.shape[1]}-channel audio at {int(rate)} Hz; expected mono {SAMPLE_RATE} Hz")
    return _one_digit_long(path, audio.numpy()[:, 0])


def read_recording(path, shown=None):
    """A user's recording of one spoken digit (what `predict` and the demo hear) as float32 mono samples at
    `SAMPLE_RATE`, in FSDD's form: any WAV file, PCM or float, its loudest channel resampled (`wav_samples`),
    and the silence before and after the digit cut off (`without_silence`), where the dataset's own files must be
    mono 8 kHz already (`read_wav`); the same checks of its length. Errors name it as `shown` (default: its path)."""
    shown = shown or path
    return _one_digit_long(shown, without_silence(wav_samples(path, SAMPLE_RATE, shown), shown))


def without_silence(samples, shown):
    """`samples` with the silence before and after the word cut off as the models cut what they hear
    (`keras_apps.models.speech.word_alone`, which says how), so that the commands measure the word's length; a
    recording with no sound is refused, naming it as `shown`. One shorter than an analysis frame is returned as it
    is, for `_one_digit_long` to refuse."""
    if len(samples) < MIN_SAMPLES:
        return samples
    from keras_apps.models.speech import word_alone

    word, lengths, loudest = word_alone(samples[np.newaxis], [len(samples)], SAMPLE_RATE)
    loudest = float(loudest[0])
    if loudest < SILENT_DBFS:
        raise UserError(f"{shown} is silent: its loudest {FRAME_SECONDS * 1000:.0f} ms are at {loudest:.0f} dBFS "
                        f"(below {SILENT_DBFS}); record closer to the microphone or with its level higher")
    return word.numpy()[0, :int(lengths[0])]


def _one_digit_long(path, samples):
    """`samples`, checked to last at least `MIN_SAMPLES` and at most `MAX_SECONDS`."""
    if len(samples) < MIN_SAMPLES:  # the model hears nothing of a recording without one whole frame
        raise UserError(f"{path} holds {len(samples):,} samples ({len(samples) / SAMPLE_RATE * 1000:.1f} ms); a "
                        f"recording needs at least {MIN_SAMPLES} ({FRAME_SECONDS * 1000:.0f} ms, one analysis frame)")
    if len(samples) > MAX_SECONDS * SAMPLE_RATE:
        raise UserError(f"{path} lasts {len(samples) / SAMPLE_RATE:,.1f} s; a recording of one spoken digit lasts "
                        f"at most {MAX_SECONDS} s")
    return samples


def wav_samples(path, rate, shown=None):
    """The samples of a WAV file (PCM of 8 to 32 bits, or the 32- or 64-bit float Audacity writes by default; any
    rate, any channels) as float32 mono in [-1, 1] at `rate` Hz: its loudest channel, resampled by scipy's polyphase
    filter. A one-line error for a file that is not one, is not whole, or lasts more than `MAX_RECORDED_SECONDS`
    (refused before its samples are converted or resampled), naming it as `shown` (default: its path).

    The loudest channel, not the channels' mean: a mono microphone on the first input of a two-channel interface
    records silence on the second, and the mean of the two is the voice 6 dB quieter, its quietest sounds then cut
    off as silence (`without_silence`); channels out of phase cancel in a mean."""
    import warnings
    from math import gcd

    from scipy.io import wavfile
    from scipy.signal import resample_poly

    shown = shown or path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # chunks it skips; a cut-off file is checked below
            source_rate, samples = wavfile.read(path)
    except FileNotFoundError:
        raise UserError(f"{shown} does not exist") from None
    except (ValueError, EOFError, OSError) as exc:
        raise UserError(f"{shown} is not a readable WAV file ({exc})") from None
    except Exception:  # scipy's reader trips on some damaged headers (a size or channel count of 0) without a message
        raise UserError(f"{shown} is not a readable WAV file (its header is damaged)") from None
    cut_short = _data_cut_short(path)
    if cut_short:
        raise UserError(f"{shown} is cut short: its header promises {cut_short[0]:,} bytes of samples and the file "
                        f"holds {cut_short[1]:,} (a recording not saved to its end?)")
    if not len(samples):  # a recorder stopped before it wrote the samples' size leaves 0 there
        raise UserError(f"{shown} holds no samples (its header gives them 0 bytes)")
    if source_rate <= 0:
        raise UserError(f"{shown} is not a readable WAV file (its header gives a sample rate of {source_rate} Hz)")
    if len(samples) > MAX_RECORDED_SECONDS * source_rate:
        raise UserError(f"{shown} lasts {len(samples) / source_rate:,.1f} s; a recording of one spoken digit lasts at "
                        f"most {MAX_SECONDS} s, {MAX_RECORDED_SECONDS} s with the silence before and after it")
    if samples.dtype == np.uint8:  # 8-bit PCM is unsigned, centred on 128
        scaled = (samples.astype(np.float64) - 128) / 128
    elif samples.dtype.kind == "i":  # 16- and 32-bit PCM, and 24-bit as scipy reads it: in an int32's top bits
        scaled = samples / float(2 ** (8 * samples.dtype.itemsize - 1))
    else:
        scaled = samples.astype(np.float64)
    if not np.isfinite(scaled).all():
        raise UserError(f"{shown} holds samples that are not numbers (NaN or infinite)")
    if samples.dtype.kind == "f" and np.abs(scaled).max() > FLOAT_OVER_SCALE:
        raise UserError(f"{shown} holds float samples up to {np.abs(scaled).max():,.1f}, where a float WAV's run from "
                        "-1 to 1 (written from integer samples without scaling them?)")
    channels = scaled if scaled.ndim == 2 else scaled[:, np.newaxis]
    mono = channels[:, np.argmax(channels.var(axis=0))]
    if source_rate != rate:
        common = gcd(source_rate, rate)
        mono = resample_poly(mono, rate // common, source_rate // common)
    return np.clip(mono, -1, 1).astype(np.float32)


def _data_cut_short(path):
    """`(bytes promised, bytes held)` where a WAV file's data chunk runs past the file's end (its writing was cut
    off: scipy reads the samples there are, with a warning it also gives for harmless oddities), else None. A data
    size of 0xFFFFFFFF is a streaming writer's "unknown"; RF64 files give their sizes elsewhere."""
    with open(path, "rb") as file:
        order = {b"RIFF": "little", b"RIFX": "big"}.get(file.read(12)[:4])
        while order and len(chunk := file.read(8)) == 8:
            size = int.from_bytes(chunk[4:], order)
            if chunk[:4] == b"data":
                held = os.fstat(file.fileno()).st_size - file.tell()
                return (size, held) if size != 0xFFFFFFFF and held < size else None
            file.seek(size + size % 2, os.SEEK_CUR)
    return None


def read_recordings(folder, expected=None):
    """Every `{digit}_{speaker}_{index}.wav` of `folder`, checked to be exactly `expected` (default `EXPECTED`):
    each speaker saying each digit with indices 0 to `recordings` - 1, once."""
    expected = expected or EXPECTED
    folder = Path(folder)
    found = {}
    for path in sorted(folder.glob("*.wav")):
        match = _NAME.fullmatch(path.name)
        if match is None:
            raise UserError(f"{path} is not named <digit>_<speaker>_<index>.wav; is {folder} the FSDD recordings?")
        found[int(match[1]), match[2], int(match[3])] = path
    wanted = {(digit, speaker, index) for digit in range(10) for speaker in expected["speakers"]
              for index in range(expected["recordings"])}
    if set(found) != wanted:
        missing, extra = sorted(wanted - set(found)), sorted(set(found) - wanted)
        example = "_".join(map(str, (missing or extra)[0])) + ".wav"
        raise UserError(f"{folder} is not the FSDD v1.0.9 recordings: {len(found):,} files, {len(missing):,} missing "
                        f"and {len(extra):,} unexpected (e.g. {example}); delete {folder.parent.parent} so that "
                        f"it is extracted again; if this comes back, {FSDD_FILE.name} itself is not the v1.0.9 "
                        "release: fetch it again")
    keys = sorted(found)
    return Recordings([read_wav(found[key]) for key in keys], np.array([key[0] for key in keys], np.int32),
                      np.array([key[1] for key in keys]), np.array([key[2] for key in keys], np.int32))


def recordings_folder(data_dir=None):
    """The `recordings/` folder of the release, extracting the archive into the cache the first time."""
    archive = locate(FSDD_FILE, data_dir)
    name = archive.name.removesuffix(".tar.gz")
    folder = cached_extraction(archive, name) / name / "recordings"
    if not folder.is_dir():
        raise UserError(f"{archive} does not hold {name}/recordings/; is it the FSDD v1.0.9 release archive?")
    return folder


def load(data_dir=None):
    """All 2,500 recordings, validated (see `read_recordings`)."""
    return read_recordings(recordings_folder(data_dir))


def waveform_dataset(recordings, batch_size, *, shuffle=False, seed=0, rooms=False):
    """A `tf.data` pipeline of `({"audio": float32 [batch, longest], "lengths": int32 [batch]}, digit)` batches,
    each batch padded with zeros to its longest recording; `lengths` says where each recording ends. With
    `rooms`, each recording as a microphone in a room records it (`in_a_room`), drawn anew each epoch (each
    iteration draws new seeds; random ops seeded once would draw the same rooms every epoch)."""
    import tensorflow as tf

    waveforms = tf.RaggedTensor.from_row_lengths(np.concatenate(recordings.waveforms).astype(np.float32),
                                                 [len(wave) for wave in recordings.waveforms])
    dataset = tf.data.Dataset.from_tensor_slices((waveforms, recordings.labels))
    if shuffle:
        dataset = dataset.shuffle(len(recordings), seed=seed, reshuffle_each_iteration=True)
    if rooms:
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        dataset = tf.data.Dataset.zip(dataset, seeds).map(lambda example, pair: (in_a_room(example[0], pair),
                                                                                 example[1]))
    dataset = dataset.map(lambda wave, label: ({"audio": wave, "lengths": tf.shape(wave)[0]}, label))
    return without_autotune(dataset.padded_batch(batch_size).prefetch(tf.data.AUTOTUNE))


def in_a_room(wave, seed, quietest_dbfs=-80.0, loudest_dbfs=-45.0, most_seconds=1.0):
    """`wave` with a room's noise under it and up to `most_seconds` of the room before and after it, as a
    microphone records a word: white noise at a level drawn between `quietest_dbfs` and `loudest_dbfs`, all drawn
    from `seed` (two integers)."""
    import tensorflow as tf

    lengths_seed, level_seed, noise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    most = int(most_seconds * SAMPLE_RATE)
    before, after = tf.unstack(tf.random.stateless_uniform([2], lengths_seed, 0, most + 1, dtype=tf.int32))
    recorded = tf.concat([tf.zeros([before]), wave, tf.zeros([after])], axis=0)
    level = tf.random.stateless_uniform([], level_seed, quietest_dbfs, loudest_dbfs)
    return recorded + tf.random.stateless_normal(tf.shape(recorded), noise_seed, stddev=10 ** (level / 20))
