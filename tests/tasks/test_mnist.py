import json
import time

import numpy as np
import pytest
from PIL import Image

from bench import runs as bench_runs
from keras_apps.data import locate
from keras_apps.errors import UserError
from keras_apps.explain.images import ImageExplainer
from tasks import mnist as task
from tests.conftest import run_cli, run_python, stop_at
from tests.evaluate.html_check import check_page


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


@pytest.fixture
def offline(monkeypatch):
    def no_network(remote, directory):
        raise OSError("no network")

    monkeypatch.setattr(locate, "_download", no_network)


@pytest.mark.parametrize("command", [[], ["train"], ["evaluate"], ["predict"], ["compress"], ["explain"]])
def test_every_command_has_help(command, capsys):
    status, out, _ = run_task([*command, "--help"], capsys)
    assert status == 0 and "usage: python -m tasks.mnist" in out


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    (["--batch-size", "-3"], "argument --batch-size: must be at least 1, got -3"),
    (["--model", "vgg"], "argument --model: invalid choice"),
    (["--validation-fraction", "1.5"], "must be strictly between 0 and 1"),
    (["compress", "--sparsity", "1"], "argument --sparsity: must be in [0, 1), got 1.0"),
    (["compress", "--techniques", "prune", "zip"], "argument --techniques: invalid choice: 'zip'"),
])
def test_bad_arguments_exit_2_with_the_reason(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err


def test_missing_data_is_one_line_naming_file_directory_and_flag(tmp_path, offline, capsys, monkeypatch):
    monkeypatch.delenv("KERAS_APPS_DATA", raising=False)
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.startswith("error: mnist.npz not found") and str(tmp_path) in err and "--data-dir" in err


def test_corrupt_data_is_one_line_and_creates_no_run(tmp_path, capsys):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 truncated")
    status, _, err = run_task(["--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and err.startswith("error:") and "corrupt or truncated" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_predict_and_evaluate_without_an_export(tmp_path, capsys):
    Image.fromarray(np.eye(28, dtype=np.uint8) * 255).save(tmp_path / "digit.png")
    status, _, err = run_task(["predict", str(tmp_path / "digit.png"), "--export-dir", str(tmp_path / "none")], capsys)
    assert status == 2 and "does not exist" in err
    status, _, err = run_task(["evaluate", "--export-dir", str(tmp_path / "none")], capsys)
    assert status == 2 and "does not exist" in err


def test_compress_refuses_a_missing_or_foreign_export(tmp_path, capsys):
    status, _, err = run_task(["compress", "--export-dir", str(tmp_path / "none")], capsys)
    assert status == 2 and "does not exist" in err and err.count("\n") == 1
    foreign = tmp_path / "imdb" / "1"
    foreign.mkdir(parents=True)
    (foreign / "saved_model.pb").write_bytes(b"")
    (foreign / "export.json").write_text(json.dumps({"task": "imdb", "version": 1}))
    status, _, err = run_task(["compress", "--export-dir", str(tmp_path / "imdb")], capsys)
    assert status == 2 and "is an export of the 'imdb' task, not of 'mnist'" in err and err.count("\n") == 1
    assert not (tmp_path / "runs").exists()


def test_predict_refuses_a_blank_picture_naming_it(tmp_path, capsys):
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "black.png")
    status, _, err = run_task(["predict", str(tmp_path / "black.png")], capsys)
    assert status == 2 and "black.png: the picture is blank" in err


@pytest.mark.real_data
def test_end_to_end_on_a_slice_of_the_real_data(real_data_dir, tmp_path, capsys):
    exports = tmp_path / "saved_models" / "mnist"
    common = ["--model", "convnet", "--train-examples", "6000", "--export-dir", str(exports)]
    start = time.perf_counter()
    trained = run_python("-m", "tasks.mnist", *common, "--epochs", "5", "--run-dir", str(tmp_path / "run1"),
                         env={"KERAS_APPS_DATA": str(real_data_dir)})
    command_seconds = time.perf_counter() - start
    assert trained.returncode == 0, trained.stderr[-3000:]
    metrics = json.loads((tmp_path / "run1" / "metrics.json").read_text())
    # Where the time went: phases that add up to the whole command, as its caller timed it.
    phases, total = metrics["time"]["phases"], metrics["time"]["total_seconds"]
    assert {"start-up and imports", "data preparation", "tracing and compilation", "training steps",
            "validation and checkpoints during training", "evaluation", "export", "report"} <= set(phases)
    assert sum(phases.values()) == pytest.approx(total, abs=0.1)
    assert total == pytest.approx(command_seconds, rel=0.05)
    assert metrics["machine"]["matmul_gflops"] > 0 and metrics["machine"]["cores"] > 0
    assert metrics["task"] == "mnist" and metrics["model"] == "convnet" and metrics["epochs"] == 5
    assert metrics["params"] == 34_826 and metrics["train_examples"] == 5 * (5400 // 128) * 128
    # A linear model reaches about 0.92 on MNIST; this run measured 0.963 (bench/NOTES.md).
    assert metrics["test"]["accuracy"] > 0.95
    assert metrics["export"] == str(exports / "1")
    for key in ("train_seconds", "train_examples_per_second", "peak_memory_mb"):
        assert metrics[key] > 0
    assert bench_runs.row("python -m tasks.mnist", metrics)["test_accuracy"] == metrics["test"]["accuracy"]

    # The run's report shows the curves, the evaluation and the most confident mistakes; the export has a card.
    text, images = check_page((tmp_path / "run1" / "report.html").read_text())
    assert "Evaluation on the test set" in text and "Most confident mistakes" in text and len(images) == 4
    assert "Where the time went" in text and "training steps" in text
    evaluation = metrics["evaluation"]
    assert evaluation["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-4)
    assert np.array(evaluation["confusion_matrix"]).sum() == 10_000
    assert 0 <= evaluation["expected_calibration_error"] < 0.1
    assert f"| accuracy | {metrics['test']['accuracy']:.4f} |" in (exports / "1" / "MODEL_CARD.md").read_text()

    # A fresh process evaluates the export on the whole test set and finds the run's own figure.
    evaluated = run_python("-m", "tasks.mnist", "evaluate", "--export-dir", str(exports),
                           env={"KERAS_APPS_DATA": str(real_data_dir)})
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert f"test accuracy {metrics['test']['accuracy']:.4f}" in evaluated.stdout

    test_images = np.load(real_data_dir / "mnist.npz")["x_test"][:3]
    np.save(tmp_path / "three.npy", test_images)
    Image.fromarray(test_images[0]).save(tmp_path / "seven.png")
    Image.fromarray(255 - test_images[0]).resize((84, 84)).save(tmp_path / "seven-on-paper.png")  # a scan's form
    # The export's other commands in this process, to spare a start-up each: the evaluation above was the fresh one.
    status, predicted, err = run_task(["predict", str(tmp_path / "seven.png"), str(tmp_path / "seven-on-paper.png"),
                                       str(tmp_path / "three.npy"), "--export-dir", str(exports)], capsys)
    assert status == 0, err
    lines = predicted.strip().splitlines()
    assert len(lines) == 5  # the first test digit is a 7, as a picture in MNIST's form and as a scan of it
    assert lines[0].split(": ")[1].startswith("7 ") and lines[1].split(": ")[1].startswith("7 ")

    status, explained, err = run_task(["explain", str(tmp_path / "seven.png"), "--export-dir", str(exports),
                                       "--method", "lime", "--samples", "500", "--output",
                                       str(tmp_path / "seven-heat.png")], capsys)
    assert status == 0, err
    assert "seven.png: 7 (" in explained and "LIME, " in explained and "500 model evaluations" in explained
    assert f"\nmodel: {exports / '1'}\n" in explained  # the version explained, as imdb explain names it
    assert Image.open(tmp_path / "seven-heat.png").format == "PNG"
    explainer = ImageExplainer(exports, "mnist")  # the other methods
    gradients, shapley = (explainer.explain(test_images[0], method, samples=500) for method in ("ig", "shap"))
    assert gradients.predicted == shapley.predicted == 7 and "rise from a black image (gap " in gradients.note
    assert not gradients.explanation.values[test_images[0] == 0].any()  # black pixels lie on its whole path
    black = explainer.probabilities(np.zeros((1, 28, 28), np.uint8))[0, 7]
    assert shapley.explanation.values.sum() == pytest.approx(shapley.probability - black, abs=1e-4)
    with pytest.raises(UserError, match="blank"):
        explainer.explain(np.zeros((28, 28), np.uint8))

    # Compressed, every variant is measured on the test images; int8 keeps the float model's accuracy.
    status, compressed, err = run_task(
        ["compress", "--export-dir", str(exports), "--run-dir", str(tmp_path / "compress"), "--data-dir",
         str(real_data_dir), "--train-examples", "1024", "--prune-epochs", "1", "--distill-seeds", "1",
         "--student-epochs", "1"], capsys)
    assert status == 0, err
    rows = {row["variant"]: row for row in json.loads((tmp_path / "compress" / "compression.json").read_text())}
    assert len(rows) == 10 and rows["keras-float32"]["test_accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    assert abs(rows["litert-int8"]["test_accuracy"] - rows["litert-float32"]["test_accuracy"]) < 0.01
    assert rows["litert-int8"]["size_bytes"] < 0.35 * rows["litert-float32"]["size_bytes"]
    assert "LiteRT int8: " in compressed and (tmp_path / "compress" / "compression.md").is_file()

    # A second run adds version 2 and leaves version 1 as it was.
    version_one = sorted(path.name for path in (exports / "1").rglob("*"))
    status, _, err = run_task([*common, "--epochs", "1", "--run-dir", str(tmp_path / "run2"), "--data-dir",
                               str(real_data_dir)], capsys)
    assert status == 0, err
    assert sorted(path.name for path in exports.iterdir()) == ["1", "2"]
    assert sorted(path.name for path in (exports / "1").rglob("*")) == version_one


@pytest.fixture
def quadrants(tmp_path, monkeypatch):
    """An mnist.npz of quadrant images (learnable in a few steps) in `tmp_path`; returns its test split."""
    from keras_apps.data import mnist
    from tests.training.helpers import tiny_split

    train, test = tiny_split(640), tiny_split(96, seed=1)
    np.savez_compressed(tmp_path / "mnist.npz", x_train=train.images, y_train=train.labels.astype(np.uint8),
                        x_test=test.images, y_test=test.labels.astype(np.uint8))
    monkeypatch.setattr(mnist, "SIZES", {"train": 640, "test": 96})
    return test


def test_resuming_a_run_folder_with_another_model_is_refused_and_changes_nothing(tmp_path, quadrants, capsys):
    common = ["--epochs", "1", "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run"),
              "--export-dir", str(tmp_path / "exports")]
    status, _, _ = run_task(["--model", "convnet", *common], capsys)
    assert status == 0
    (tmp_path / "run" / "metrics.json").unlink()  # as if killed before its last file
    recorded = (tmp_path / "run" / "config.json").read_text()
    status, _, err = run_task(["--model", "resnet", *common], capsys)
    assert status == 2 and "model 'convnet' (now 'resnet')" in err and err.count("\n") == 1
    assert (tmp_path / "run" / "config.json").read_text() == recorded
    status, out, _ = run_task(["--model", "convnet", *common], capsys)  # the same command finishes the run
    assert status == 0 and "Training ended in an earlier attempt" in out
    assert sorted(path.name for path in (tmp_path / "exports").iterdir()) == ["1"]


def test_resuming_a_run_folder_with_other_validation_images_is_refused_and_changes_nothing(tmp_path, quadrants,
                                                                                            capsys):
    common = ["--epochs", "1", "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run"),
              "--export-dir", str(tmp_path / "exports")]
    status, _, err = run_task(common, capsys)
    assert status == 0, err
    (tmp_path / "run" / "metrics.json").unlink()  # as if killed before its last file
    recorded = (tmp_path / "run" / "config.json").read_text()
    with np.load(tmp_path / "mnist.npz") as stored:
        arrays = dict(stored)
    arrays["x_train"][-64:] = 255 - arrays["x_train"][-64:]  # the validation tail only, its labels as they were
    np.savez_compressed(tmp_path / "mnist.npz", **arrays)
    status, _, err = run_task(common, capsys)  # its best epoch would be chosen across two validation sets
    assert status == 2 and "started with other settings: data" in err and err.count("\n") == 1, err
    assert (tmp_path / "run" / "config.json").read_text() == recorded
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_train_evaluate_and_predict_on_a_written_tiny_dataset(tmp_path, quadrants, capsys):
    """The success path without the real data."""
    test = quadrants
    exports = tmp_path / "exports"
    status, out, err = run_task(["--model", "convnet", "--epochs", "4", "--batch-size", "32", "--no-augment",
                                 "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run"),
                                 "--export-dir", str(exports)], capsys)
    assert status == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9 and metrics["export"] == str(exports / "1")  # chance: 0.25
    status, out, _ = run_task(["evaluate", "--data-dir", str(tmp_path), "--export-dir", str(exports)], capsys)
    assert status == 0 and f"test accuracy {metrics['test']['accuracy']:.4f}" in out
    for refused, message in [(["--test-examples", "97"], "--test-examples 97: there are only 96 images in MNIST's "
                              "test split"),
                             (["--train-examples", "577"], "--train-examples 577: there are only 576 images in the "
                              "training split the export learned from")]:  # 640 less the validation tenth
        status, _, err = run_task(["compress", *refused, "--data-dir", str(tmp_path), "--export-dir", str(exports),
                                   "--run-dir", str(tmp_path / "refused")], capsys)
        assert status == 2 and message in err and err.count("\n") == 1 and not (tmp_path / "refused").exists()
    np.save(tmp_path / "two.npy", test.images[:2])
    status, out, _ = run_task(["predict", str(tmp_path / "two.npy"), "--export-dir", str(exports)], capsys)
    predicted = [int(line.split(": ")[1].split()[0]) for line in out.strip().splitlines()]
    assert status == 0 and predicted == test.labels[:2].tolist()


def test_compress_refuses_pruning_or_distilling_without_a_full_batch_before_any_work(tmp_path, quadrants, capsys):
    import tensorflow as tf

    from keras_apps.export.saved_model import export_model
    from keras_apps.inference.serving import classifier_endpoint
    from keras_apps.models.convnet import build_convnet

    model = build_convnet(filters=(2,), dropout=0.0)
    images = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")
    exports = tmp_path / "exports"
    export_model(model, exports, {"serving_default": classifier_endpoint(model, images)}, metadata={"task": "mnist"})
    for techniques, what in [(["quantize", "prune"], "pruning"), (["distill"], "distillation")]:
        status, _, err = run_task(["compress", "--techniques", *techniques, "--train-examples", "127",
                                   "--data-dir", str(tmp_path), "--export-dir", str(exports),
                                   "--run-dir", str(tmp_path / "refused")], capsys)
        assert status == 2 and err.count("\n") == 1 and not (tmp_path / "refused").exists()
        assert f"--train-examples 127 gives no full batch of 128 for {what}; give at least 128" in err


@pytest.mark.parametrize("augment", [True, False])
def test_train_passes_its_flags_to_the_training_data(augment, tmp_path, quadrants, capsys, monkeypatch):
    """--train-examples, --validation-fraction, --seed, --batch-size and --no-augment shape the training batches."""
    from keras_apps.data import image_pipeline

    called = stop_at(image_pipeline, "image_dataset", monkeypatch)
    status, out, err = run_task(["--model", "convnet", "--train-examples", "200", "--validation-fraction", "0.25",
                                 "--seed", "7", "--batch-size", "16", *([] if augment else ["--no-augment"]),
                                 "--data-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")], capsys)
    assert status == 2 and "stopped here by the test" in err
    assert "MNIST: 150 train, 50 validation, 96 test images" in out
    (train_split, batch_size), kwargs = called["args"], called["kwargs"]
    assert len(train_split) == 150 and batch_size == 16 and kwargs["shuffle"] and kwargs["seed"] == 7
    assert (kwargs["augment"] is not None) == augment


def test_compress_measures_test_images_and_trains_on_training_ones(tmp_path, quadrants, capsys, monkeypatch):
    """--test-examples of the test split measure every variant; --representative-examples and --train-examples
    come from the training split the export learned from (never its validation or test images); --seed reaches
    pruning."""
    import tensorflow as tf

    from keras_apps.compress import suite
    from keras_apps.export.saved_model import export_model
    from keras_apps.inference.serving import classifier_endpoint
    from keras_apps.models.convnet import build_convnet

    model = build_convnet(filters=(2,), dropout=0.0)
    images = tf.TensorSpec([None, 28, 28], tf.uint8, name="images")
    exports = tmp_path / "exports"
    export_model(model, exports, {"serving_default": classifier_endpoint(model, images)}, metadata={"task": "mnist"})
    quantized = {}
    monkeypatch.setattr(suite, "quantize", lambda subject, *args, **kwargs: quantized.update(subject=subject))
    pruned = stop_at(suite, "prune", monkeypatch)
    status, _, err = run_task(["compress", "--techniques", "quantize", "prune", "--test-examples", "40",
                               "--train-examples", "256", "--representative-examples", "6", "--seed", "3",
                               "--data-dir", str(tmp_path), "--export-dir", str(exports),
                               "--run-dir", str(tmp_path / "compress")], capsys)
    assert status == 2 and "stopped here by the test" in err
    with np.load(tmp_path / "mnist.npz") as stored:
        train_images, train_labels = stored["x_train"][:576], stored["y_train"][:576]  # less the validation tenth
        test_images = stored["x_test"]
    subject = quantized["subject"]
    batches = list(subject.test_batches())
    assert sum(len(labels) for _, labels in batches) == 40
    np.testing.assert_array_equal(np.concatenate([inputs["images"] for inputs, _ in batches]), test_images[:40])
    assert len(subject.representative) == 6
    assert all((train_images == example["images"][0]).all(axis=(1, 2)).any() for example in subject.representative)
    dataset = pruned["args"][1]
    assert sum(len(labels) for _, labels in dataset) == 256 and pruned["kwargs"]["seed"] == 3
    seen = np.concatenate([labels.numpy() for _, labels in dataset])  # augmented images, their labels as they were
    np.testing.assert_array_equal(np.bincount(seen, minlength=4), np.bincount(train_labels[:256], minlength=4))


def test_evaluate_scores_the_test_images(tmp_path, quadrants, capsys, monkeypatch):
    """The export is evaluated on the test split, never on the images it was trained on."""
    import tensorflow as tf

    from keras_apps.export import saved_model

    scored = []

    class Serve:  # an image export's signature, answering 0 for every image
        structured_input_signature = ((), {"images": tf.TensorSpec([None, 28, 28], tf.uint8, name="images")})

        def __call__(self, images):
            scored.append(np.asarray(images))
            return {"probabilities": tf.one_hot(tf.zeros(len(images), tf.int32), 10)}

    monkeypatch.setattr(saved_model, "load_serving", lambda *args, **kwargs: (tmp_path, Serve()))
    status, out, err = run_task(["evaluate", "--data-dir", str(tmp_path)], capsys)
    assert status == 0, err
    np.testing.assert_array_equal(np.concatenate(scored), quadrants.images)
    assert f"test accuracy {np.mean(quadrants.labels == 0):.4f}, " in out and out.endswith(" on 96 images\n")


def test_predict_prints_the_most_probable_digit_even_when_unsure(tmp_path, capsys, monkeypatch):
    import tensorflow as tf

    from keras_apps.export import saved_model

    unsure = np.array([0.05, 0.1, 0.4, 0.3, 0.15, 0, 0, 0, 0, 0], np.float32)  # a 2, not with certainty

    class Serve:  # an image export's signature
        structured_input_signature = ((), {"images": tf.TensorSpec([None, 28, 28], tf.uint8, name="images")})

        def __call__(self, images):
            return {"probabilities": tf.constant(np.tile(unsure, (len(images), 1)))}

    monkeypatch.setattr(saved_model, "load_serving", lambda *args, **kwargs: (tmp_path, Serve()))
    np.save(tmp_path / "two.npy", np.stack([np.eye(28, dtype=np.uint8) * 255] * 2))
    status, out, err = run_task(["predict", str(tmp_path / "two.npy")], capsys)
    assert status == 0, err
    assert [line.split(": ", 1)[1] for line in out.splitlines()] == ["2 (0.400)", "2 (0.400)"]
