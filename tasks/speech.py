"""Spoken digits: a classifier that hears the raw waveform, trained on the Free Spoken Digit Dataset, tested once,
exported as a SavedModel that takes audio as recorded.

    python -m tasks.speech                                # train on the official split, test, export
    python -m tasks.speech --hold-out-speaker theo        # train on four speakers, test on the fifth's recordings
    python -m tasks.speech evaluate                       # the latest export on the recordings it never heard
    python -m tasks.speech predict one.wav two.wav        # WAV files, resampled to 8 kHz mono, silence cut off

The log-mel spectrogram is part of the model (`keras_apps.models.speech`), so the export's signature takes
`audio: float32 [batch, samples]` (8 kHz, zero-padded) and `lengths: int32 [batch]`. Validation recordings are
carved from the training ones (the five lowest indices of each speaker and digit); the test split is touched
once, after training.
"""

import dataclasses
from dataclasses import dataclass

from keras_apps import cli, progress, settings
from keras_apps.data import spoken_digits
from keras_apps.export.model_card import CardText
from keras_apps.models.speech_frames import frame_length, frequency_bins
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK = "speech"
DEFAULT_EXPORT_DIR = "saved_models/speech"
MODEL_CARD = CardText(
    description="A spoken-digit recognizer: a mono 8 kHz recording of one English digit (float32 samples in "
    "[-1, 1], zero-padded in a batch, with its length) in, the probabilities of the digits 0-9 out. The model "
    "cuts the silence before and after the word off and computes the log-mel spectrogram itself, in training as "
    "in serving (keras_apps.models.speech): give it the recording as made; a silent one is refused.",
    data="The Free Spoken Digit Dataset v1.0.9 (Jackson et al.): 2,500 recordings, 5 speakers each saying each "
    "digit 50 times, trimmed of silence. The official split (the default): recordings 0-4 of each speaker and "
    "digit are the test set, 5-49 the training set (its 5-9 held out for validation).",
    intended_use="Teaching speech recognition on raw audio; recognizing single digits spoken clearly, one per "
    "recording, by speakers like the dataset's.",
    limits="Five speakers, all adult, mostly male, recorded in quiet rooms: other voices, accents, noise, "
    "microphones or sampling rates may fare much worse (the leave-one-speaker-out accuracy is the honest "
    "estimate for a new voice); a model trained without --room-noise hears a room louder than -60 dBFS around "
    "the word badly. Anything that is not a digit still gets a digit.",
)


@dataclass(frozen=True)
class SpeechClassifier:
    """The spoken-digit model's settings (`keras_apps.models.build_speech_classifier`)."""

    num_mel_bins: int = settings.setting(64, help="mel bands of the spectrogram", type=settings.positive_int)
    dropout: float = settings.setting(0.3, help="dropout before the output layer", type=settings.probability)
    filters: tuple = (32, 64, 64)  # one convolution block each, each halving the bands

    def __post_init__(self):  # more bands than the spectrum has bins are empty filters; far more crash TensorFlow
        fewest, most = 2 ** len(self.filters), frequency_bins(spoken_digits.SAMPLE_RATE)
        if not fewest <= self.num_mel_bins <= most:
            raise settings.SettingError(SpeechClassifier, "num_mel_bins", f"must be from {fewest} (halved by each of "
                                        f"{len(self.filters)} blocks) to {most} (the frequency bins of a "
                                        f"{frame_length(spoken_digits.SAMPLE_RATE)}-sample frame), got "
                                        f"{self.num_mel_bins}")


RECIPES = {"default": Recipe(SpeechClassifier(), TrainingConfig(epochs=30, batch_size=32, learning_rate=3e-3))}
CLASS_NAMES = [str(digit) for digit in range(10)]
VALIDATION_INDICES = 5  # of each speaker and digit, the lowest indices of the training recordings


def train(args):
    import keras

    from keras_apps.evaluate.classification import evaluate_logits
    from keras_apps.evaluate.run_report import named_mistakes, write_classifier_report
    from keras_apps.inference.serving import RECORDED_AUDIO, audio_classifier_endpoint
    from keras_apps.lifecycle import Export, fingerprint, require_data, start_run
    from keras_apps.models.speech import build_speech_classifier
    from keras_apps.recipes import overlaid

    recipe = overlaid(RECIPES["default"], args)
    config = recipe.training
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir)

    recordings = spoken_digits.load(args.data_dir)
    training, test = (recordings.official_split() if args.hold_out_speaker is None
                      else recordings.leave_out(args.hold_out_speaker))
    held_out = training.indices < training.indices.min() + VALIDATION_INDICES
    train_split, validation_split = training.select(~held_out), training.select(held_out)
    require_data(len(train_split), len(validation_split), config.batch_size, "recordings")
    tested = f"speaker {args.hold_out_speaker}" if args.hold_out_speaker else "the official test split"
    print(f"FSDD: {len(train_split)} train, {len(validation_split)} validation, {len(test)} test recordings "
          f"({tested})")
    run.open({"split": args.hold_out_speaker or "official", "room_noise": args.room_noise,
              "model": dataclasses.asdict(recipe.model),
              "train_examples": len(train_split), "validation_examples": len(validation_split),
              "data": fingerprint(train_split.waveforms, train_split.labels, validation_split.waveforms,
                                  validation_split.labels)})

    result = run.fit(
        lambda: build_speech_classifier(num_mel_bins=recipe.model.num_mel_bins, filters=recipe.model.filters,
                                        dropout=recipe.model.dropout),
        spoken_digits.waveform_dataset(train_split, config.batch_size, shuffle=True, seed=config.seed,
                                       rooms=args.room_noise),
        spoken_digits.waveform_dataset(validation_split, config.batch_size),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
    )
    if not result.is_chief:
        return 0
    logits = result.model.predict(spoken_digits.waveform_dataset(test, config.batch_size),
                                  verbose=progress.verbosity())
    probabilities, evaluation, test_metrics = evaluate_logits(test.labels, logits, CLASS_NAMES)
    names = [f"{digit}_{speaker}_{index}.wav" for digit, speaker, index in zip(test.labels, test.speakers,
                                                                                test.indices)]
    serve, signature = audio_classifier_endpoint(result.model)
    export = Export({"serving_default": (serve, signature)},
                    metadata={"split": args.hold_out_speaker or "official", "room_noise": args.room_noise,
                              "sampling_rate": spoken_digits.SAMPLE_RATE,
                              "inputs": f"{RECORDED_AUDIO}; lengths: int32 [batch]",
                              "outputs": "probabilities: float32 [batch, 10]; class: int32 [batch]"})
    return run.finish(
        result, "speech", export, MODEL_CARD,
        report=lambda metrics: write_classifier_report(
            run.directory, title=f"Spoken digits, tested on {tested}", metrics=metrics, evaluation=evaluation,
            mistakes=named_mistakes(names, test.labels, probabilities, CLASS_NAMES)),
        summary=lambda metrics: (
            f"speech: test accuracy {test_metrics['accuracy']:.4f} on {tested}, loss {test_metrics['loss']:.4f} | "
            f"{metrics['params']:,} parameters, {metrics['trained_for']}"),
        test_metrics=test_metrics, evaluation=evaluation,
    )


def recording_probabilities(serve, waveforms, batch_size=64):
    """Class probabilities of an export's signature for `waveforms` (float32 arrays), `batch_size` at a time."""
    import numpy as np

    rows = []
    for start in range(0, len(waveforms), batch_size):
        batch = waveforms[start:start + batch_size]
        audio = np.zeros((len(batch), max(len(wave) for wave in batch)), np.float32)
        for row, wave in enumerate(batch):
            audio[row, : len(wave)] = wave
        lengths = np.array([len(wave) for wave in batch], np.int32)
        rows.append(serve(audio=audio, lengths=lengths)["probabilities"].numpy())
    return np.concatenate(rows)


def evaluate(args):
    from keras_apps.evaluate.classification import accuracy_and_log_loss
    from keras_apps.export.saved_model import export_metadata, load_serving

    version_path, serve = load_serving(args.export_dir, task=TASK)
    # An export is scored on the recordings it never heard: a speaker's export trained on the others' test split.
    speaker = export_metadata(version_path).get("split", "official")
    recordings = spoken_digits.load(args.data_dir)
    _, test = recordings.official_split() if speaker == "official" else recordings.leave_out(speaker)
    accuracy, loss = accuracy_and_log_loss(test.labels, recording_probabilities(serve, test.waveforms))
    tested = "the official split" if speaker == "official" else f"speaker {speaker}, held out in training"
    print(f"{version_path}: test accuracy {accuracy:.4f}, loss {loss:.4f} on {len(test)} recordings ({tested})")
    return 0


def predict(args):
    from keras_apps.export.saved_model import load_serving

    waveforms = [spoken_digits.read_recording(path) for path in args.files]
    _, serve = load_serving(args.export_dir, task=TASK)
    for path, row in zip(args.files, recording_probabilities(serve, waveforms)):
        print(f"{path}: {row.argmax()} ({row.max():.3f})")
    return 0


def _train_arguments(parser):
    cli.add_data_arguments(parser)
    parser.add_argument("--hold-out-speaker", choices=spoken_digits.EXPECTED["speakers"],
                        help="train on the other speakers and test on this one's 500 recordings, instead of the "
                        "official split")
    parser.add_argument("--room-noise", action="store_true",
                        help="train on each recording as a microphone in a room records it, with up to 1 s of the "
                        "room before and after the word and its noise under it (-80 to -45 dBFS): it then hears "
                        "rooms as loud as -50 dBFS, for a little of its accuracy on the dataset's quiet recordings "
                        "and 3 to 4 times the training time (bench/NOTES.md)")
    cli.add_training_arguments(parser, TASK, RECIPES["default"])
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)


def _evaluate_arguments(parser):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(parser)


def _predict_arguments(parser):
    parser.add_argument("files", type=cli.path, nargs="+", help="WAV files (PCM or float), one spoken digit each")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "train, test, export (default)",
                         "Train a spoken-digit model on FSDD (the official split, or all speakers but one), test "
                         "it once, and export it."),
    "evaluate": cli.Command(evaluate, _evaluate_arguments, "evaluate an export on the recordings it never heard",
                            "Evaluate an exported model on the 250 recordings of FSDD's official test split, or, "
                            "for a model trained with --hold-out-speaker, on that speaker's 500 recordings."),
    "predict": cli.Command(predict, _predict_arguments, "recognize the digit in WAV files with an export",
                           "Recognize the spoken digit of each WAV file (PCM or float, any rate, mono or stereo: "
                           "resampled to the model's 8 kHz mono), the silence before and after the word cut off "
                           "as the dataset's was."),
}


def main(argv=None):
    return cli.main(TASK, "Spoken digits from raw audio: train (the default command), evaluate or predict.",
                    COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
