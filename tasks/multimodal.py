"""Digits seen and heard: a model that fuses an MNIST image and an FSDD recording of the same digit, tested on
clean inputs, on degraded ones, and with one sense missing; exported as a SavedModel that takes both.

    python -m tasks.multimodal                         # gated fusion: train, test under every condition, export
    python -m tasks.multimodal --fusion late           # early, late or gated; image or audio for one sense alone
    python -m tasks.multimodal evaluate                # the latest export under every condition
    python -m tasks.multimodal predict --image seven.png --audio seven.wav    # either, or both

Each training recording is paired with MNIST training images of its digit and each test recording with test
images (`keras_apps.data.audio_visual`, AV-MNIST's pairing). Training meets degraded images (projected onto
the principal components that keep 25 % of the variance) and noisy audio (white noise at -5 dB SNR) half of
the time each, and the fusions meet examples with one sense hidden (modality dropout), so one model answers
clean, degraded and one-sense inputs. The test split is touched once, after training.
"""

import dataclasses
from dataclasses import dataclass

from keras_apps import cli, progress, settings
from keras_apps.data import audio_visual, mnist, spoken_digits
from keras_apps.export.model_card import CardText
from keras_apps.recipes import Recipe
from keras_apps.training.config import TrainingConfig

TASK = "multimodal"
DEFAULT_EXPORT_DIR = "saved_models/multimodal"
MODEL_CARD = CardText(
    description="A digit recognizer that sees and hears: a 28x28 MNIST-style image (uint8, all zeros for none) "
    "and an 8 kHz recording of the spoken digit (float32 samples, zero-padded, with lengths; length 0 for "
    "none) in; the probabilities of the digits 0-9 and which senses were used out. The model cuts the silence "
    "before and after the word off itself, in training as in serving (keras_apps.models.speech.WordAlone): give "
    "it the recording as made; a silent one counts as none.",
    data="AV-MNIST's pairing of the Free Spoken Digit Dataset v1.0.9 (2,500 recordings, 5 speakers) with MNIST: "
    "each recording with several images of its digit, training with training and test with test. Recordings "
    "0-4 of each speaker and digit are tested, 5-9 validate; MNIST's last 6,000 training images validate.",
    intended_use="Teaching multimodal fusion: how two unreliable senses together beat either alone, and how a "
    "model trained with modality dropout still answers when one sense is missing.",
    limits="The image and the recording of an example are paired at random by digit, not made together: the "
    "model never learned how a person's voice goes with their handwriting. Five speakers, MNIST-style digits "
    "only; inputs that are not digits still get a digit.",
)
FUSION_NAMES = ("image", "audio", "early", "late", "gated")


@dataclass(frozen=True)
class DigitFusion:
    """The fused model's settings (`keras_apps.models.build_digit_fusion`) and the degradations it trains on."""

    width: int = settings.setting(128, help="features per sense", type=settings.positive_int)
    modality_dropout: float = settings.setting(0.4, help="probability that training hides one sense of an example "
                                               "(fusions only)", type=settings.probability)
    images_per_recording: int = settings.setting(3, help="training images paired with each recording",
                                                 type=settings.positive_int)
    kept_variance: float = settings.setting(0.25, help="a degraded image keeps the principal components holding "
                                            "this fraction of the variance (models that see)", type=settings.fraction)
    snr_db: float = settings.setting(-5.0, help="signal-to-noise ratio of noisy audio, in dB (models that hear)",
                                     type=settings.finite_float)


# The senses each setting acts on (modality dropout hides one of two): a model without them has no use for it.
SETTING_SENSES = {"modality_dropout": {"image", "audio"}, "kept_variance": {"image"}, "snr_db": {"audio"}}
RECIPES = {"default": Recipe(DigitFusion(), TrainingConfig(epochs=12, batch_size=32, learning_rate=3e-3))}
CLASS_NAMES = [str(digit) for digit in range(10)]
VALIDATION_FRACTION = 0.1  # of MNIST's training images; the recordings' validation part is their indices 5-9
VALIDATION_INDICES = 5
TEST_IMAGES_PER_RECORDING = 4  # 1,000 test pairs, the same for every model
TEST_SEED = 0
# What the test measures: each condition's (image, audio) states (`keras_apps.data.audio_visual`).
CONDITIONS = {"clean": ("clean", "clean"), "degraded": ("degraded", "noisy"),
              "image alone": ("clean", "missing"), "audio alone": ("missing", "clean"),
              "degraded image alone": ("degraded", "missing"), "noisy audio alone": ("missing", "noisy")}


def conditions_for(fusion):
    """The conditions a model of `fusion` can answer: a model of one sense needs that sense."""
    from keras_apps.models.fusion import senses

    used = senses(fusion)
    return {name: states for name, states in CONDITIONS.items()
            if ("image" in used and states[0] != "missing") or ("audio" in used and states[1] != "missing")}


def load_splits(data_dir, per_recording, seed, kept_variance):
    """`(train, validation, test)` `Pairs` and the MNIST training images' `PrincipalComponents`."""
    from keras_apps.data.labeled_images import split_validation

    images = mnist.load(data_dir)
    recordings, test_recordings = spoken_digits.load(data_dir).official_split()
    train_images, validation_images = split_validation(images.train, VALIDATION_FRACTION)
    held_out = recordings.indices < spoken_digits.TEST_INDICES + VALIDATION_INDICES
    return (audio_visual.pair(recordings.select(~held_out), train_images, per_recording, seed),
            audio_visual.pair(recordings.select(held_out), validation_images, per_recording, seed + 1),
            audio_visual.pair(test_recordings, images.test, TEST_IMAGES_PER_RECORDING, TEST_SEED),
            audio_visual.PrincipalComponents.fit(images.train.images, kept_variance))


def condition_probabilities(probabilities_of, test, components, snr_db, conditions, batch_size=64):
    """`{condition: class probabilities [n, 10]}` of the test pairs, each condition's inputs made by the data
    pipeline with the same seed; `probabilities_of(inputs)` answers one batch."""
    import numpy as np

    print(f"Testing {len(test):,} pairs under {len(conditions)} conditions")
    done = progress.bar(len(test) * len(conditions), "pairs")
    answers = {}
    for name, (image, audio) in conditions.items():
        batches = audio_visual.pair_dataset(test, batch_size, components, snr_db, image=image, audio=audio,
                                            seed=TEST_SEED)
        answered = []
        for inputs, _ in batches:
            answered.append(np.asarray(probabilities_of(inputs)))
            done.add(len(answered[-1]))
        answers[name] = np.concatenate(answered)
    return answers


def condition_table(labels, answers):
    """`{condition: accuracy}` and what each sense decided in the fused answers (`SenseShares`), clean and
    degraded."""
    from keras_apps.explain.senses import sense_shares

    accuracy = {name: float((probabilities.argmax(1) == labels).mean()) for name, probabilities in answers.items()}
    shares = {}
    for name, (image_alone, audio_alone) in {"clean": ("image alone", "audio alone"),
                                             "degraded": ("degraded image alone", "noisy audio alone")}.items():
        if {name, image_alone, audio_alone} <= set(answers):
            shares[name] = sense_shares(answers[name], answers[image_alone], answers[audio_alone])
    return accuracy, shares


def train(args):
    import keras

    from keras_apps.errors import UserError
    from keras_apps.evaluate.classification import accuracy_and_log_loss, evaluate_classifier
    from keras_apps.evaluate.run_report import named_mistakes, senses_section, write_classifier_report
    from keras_apps.inference.serving import RECORDED_AUDIO, audio_visual_endpoint
    from keras_apps.lifecycle import Export, fingerprint, require_data, start_run
    from keras_apps.models.fusion import build_digit_fusion, outputs, senses
    from keras_apps.recipes import overlaid

    used = set(senses(args.fusion))
    unused = [settings.flag_name(DigitFusion, name) for name, acted_on in SETTING_SENSES.items() if acted_on - used]
    given = [flag for flag in settings.given_flags(DigitFusion, args) if flag in unused]
    if given:  # recorded in the run and the export, they would claim an effect they have not
        raise UserError(f"--fusion {args.fusion}: a model of the {args.fusion} alone has no use for "
                        f"{', '.join(given)}; leave {'it' if len(given) == 1 else 'them'} out")
    recipe = overlaid(RECIPES["default"], args)
    config, model_settings = recipe.training, recipe.model
    heard = " and ".join(senses(args.fusion))  # one sense's model refuses examples without it: a folder of its own
    run = start_run(TASK, config, run_dir=args.run_dir, export_dir=args.export_dir, export_kind={"senses": heard})

    train_pairs, validation_pairs, test_pairs, components = load_splits(
        args.data_dir, model_settings.images_per_recording, config.seed, model_settings.kept_variance)
    require_data(len(train_pairs), len(validation_pairs), config.batch_size, "pairs")
    print(f"Audio-visual digits: {len(train_pairs)} train, {len(validation_pairs)} validation, {len(test_pairs)} "
          f"test pairs; degraded images keep {components.components.shape[1]} principal components")
    run.open({"fusion": args.fusion, "model": dataclasses.asdict(model_settings), "train_examples": len(train_pairs),
              "validation_examples": len(validation_pairs),
              "data": fingerprint(train_pairs.images, train_pairs.waveforms, train_pairs.labels,
                                  validation_pairs.images, validation_pairs.waveforms, validation_pairs.labels)})

    def pipeline(pairs, shuffle):  # each output of the model is scored against the digit
        dataset = audio_visual.pair_dataset(pairs, config.batch_size, components, model_settings.snr_db,
                                            mixed=True, shuffle=shuffle, seed=config.seed)
        return dataset.map(lambda inputs, digit: (inputs, {name: digit for name in outputs(args.fusion)}))

    result = run.fit(
        lambda: build_digit_fusion(args.fusion, width=model_settings.width,
                                   modality_dropout=model_settings.modality_dropout, seed=config.seed),
        pipeline(train_pairs, True), pipeline(validation_pairs, False),
        loss={name: keras.losses.SparseCategoricalCrossentropy(from_logits=True) for name in outputs(args.fusion)},
        metrics={"digit": ["accuracy"]},
    )
    if not result.is_chief:
        return 0
    conditions = conditions_for(args.fusion)
    answers = condition_probabilities(lambda inputs: keras.ops.softmax(result.model(inputs, training=False)["digit"]),
                                      test_pairs, components, model_settings.snr_db, conditions)
    accuracy, shares = condition_table(test_pairs.labels, answers)
    reported = next(iter(answers))  # clean, or the one sense's clean condition
    evaluation = evaluate_classifier(test_pairs.labels, answers[reported], CLASS_NAMES)
    test_metrics = dict(zip(("accuracy", "loss"), accuracy_and_log_loss(test_pairs.labels, answers[reported])))
    degradations = {"kept_variance": model_settings.kept_variance,
                    "principal_components": int(components.components.shape[1]), "snr_db": model_settings.snr_db}
    serve, signature = audio_visual_endpoint(result.model, senses(args.fusion))
    export = Export({"serving_default": (serve, signature)},
                    metadata={"fusion": args.fusion, "senses": heard, "degradations": degradations,
                              "conditions": accuracy, "sampling_rate": spoken_digits.SAMPLE_RATE,
                              "inputs": f"image: uint8 [batch, 28, 28] (zeros: none); {RECORDED_AUDIO}; "
                              "lengths: int32 [batch] (0 or a silent recording: none)",
                              "outputs": "probabilities: float32 [batch, 10]; class: int32 [batch]; "
                              "used_image, used_audio: bool [batch]"})
    names = [f"digit {label}, test pair {index}" for index, label in enumerate(test_pairs.labels)]
    return run.finish(
        result, args.fusion, export, MODEL_CARD,
        report=lambda metrics: write_classifier_report(
            run.directory, title=f"Audio-visual digits, {args.fusion}", metrics=metrics, evaluation=evaluation,
            mistakes=named_mistakes(names, test_pairs.labels, answers[reported], CLASS_NAMES),
            sections=[senses_section(accuracy, shares, degradations, test_pairs.labels)]),
        summary=lambda metrics: (
            f"{args.fusion}: test accuracy " + ", ".join(f"{name} {value:.4f}" for name, value in accuracy.items())
            + f" | {metrics['params']:,} parameters, {metrics['trained_for']}"),
        test_metrics=test_metrics, evaluation=evaluation,
        extra={"conditions": accuracy, "degradations": degradations,
               "sense_shares": {name: explained.summary() for name, explained in shares.items()}},
    )


def evaluate(args):
    from keras_apps.export.saved_model import export_metadata, load_serving

    version_path, serve = load_serving(args.export_dir, task=TASK)
    recorded = export_metadata(version_path)
    degradations = recorded["degradations"]
    _, _, test, components = load_splits(args.data_dir, 1, 0, degradations["kept_variance"])
    answers = condition_probabilities(lambda inputs: serve(**inputs)["probabilities"], test, components,
                                      degradations["snr_db"], conditions_for(recorded["fusion"]))
    accuracy, _ = condition_table(test.labels, answers)
    print(f"{version_path} ({recorded['fusion']}): test accuracy on {len(test)} pairs, "
          + ", ".join(f"{name} {value:.4f}" for name, value in accuracy.items()))
    return 0


def predict(args):
    import numpy as np

    from keras_apps.data.image_files import read_one_image
    from keras_apps.errors import UserError
    from keras_apps.export.saved_model import export_metadata, load_serving

    if args.image is None and args.audio is None:
        raise UserError("give an image (--image), a recording (--audio), or both")
    image = (read_one_image(args.image, mnist.IMAGE_SHAPE, "a prediction")[0] if args.image
             else np.zeros(mnist.IMAGE_SHAPE, np.uint8))
    wave = spoken_digits.read_recording(args.audio) if args.audio else np.zeros(0, np.float32)
    blank = f"{args.image} is blank: a blank image counts as no image"  # as the model's own presence check has it
    if not image.any() and not len(wave):
        raise UserError(f"{blank}; give one with ink, or --audio")
    version_path, serve = load_serving(args.export_dir, task=TASK)
    senses = export_metadata(version_path)["fusion"]
    if (not image.any() and senses == "image") or (args.audio is None and senses == "audio"):
        raise UserError(f"{version_path} is a model of the {senses} alone: give --{senses}"
                        + (f" ({blank})" if args.image and senses == "image" else ""))

    def answer(shown, heard):
        outputs = serve(image=shown[np.newaxis], audio=heard[np.newaxis], lengths=np.array([len(heard)], np.int32))
        used = [sense for sense in ("image", "audio") if bool(outputs[f"used_{sense}"][0])]
        probabilities = outputs["probabilities"].numpy()[0]
        return f"{probabilities.argmax()} ({probabilities.max():.3f}) from the {' and the '.join(used)}"

    print(answer(image, wave))
    if image.any() and args.audio and senses not in ("image", "audio"):
        print(f"  the image alone: {answer(image, wave[:0])}; the audio alone: {answer(np.zeros_like(image), wave)}")
    return 0


def _train_arguments(parser):
    cli.add_data_arguments(parser)
    parser.add_argument("--fusion", choices=FUSION_NAMES, default="gated",
                        help="how the senses are fused: early (features), late (predictions) or gated (a gated "
                        "multimodal unit); image or audio trains one sense alone (default: gated)")
    cli.add_training_arguments(parser, TASK, RECIPES["default"])
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=False)


def _evaluate_arguments(parser):
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)
    cli.add_data_arguments(parser)


def _predict_arguments(parser):
    parser.add_argument("--image", type=cli.path,
                        help="a picture of one digit (PNG, any size; put in MNIST's form) or a .npy array of one")
    parser.add_argument("--audio", type=cli.path,
                        help="a WAV file of one spoken digit (PCM or float; resampled to 8 kHz mono, silence cut off)")
    cli.add_export_argument(parser, DEFAULT_EXPORT_DIR, loading=True)


COMMANDS = {
    "train": cli.Command(train, _train_arguments, "train, test under every condition, export (default)",
                         "Train a model on digits seen and heard (AV-MNIST's pairing of FSDD with MNIST), test it "
                         "once on clean, degraded and one-sense inputs, and export it."),
    "evaluate": cli.Command(evaluate, _evaluate_arguments, "evaluate an export under every condition",
                            "Evaluate an exported model on the 1,000 test pairs: clean, degraded, one sense alone."),
    "predict": cli.Command(predict, _predict_arguments, "recognize a digit from an image, a recording or both",
                           "Recognize the digit shown by a PNG image and/or spoken in a WAV file; with both, also "
                           "the answer of each alone."),
}


def main(argv=None):
    return cli.main(TASK, "Digits seen and heard: train (the default command), evaluate or predict.", COMMANDS, argv)


if __name__ == "__main__":
    cli.exit_process(cli.run(main))
