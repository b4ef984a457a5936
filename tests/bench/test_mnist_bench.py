"""The MNIST benchmark's harness, with the task's runs replaced by figures, and its plain-Keras yardstick run
for real on a slice of MNIST. The task's real runs are tested in tests/tasks/test_mnist.py, which also feeds a
real `metrics.json` to the benchmark's row."""

import json
from pathlib import Path

import pytest

from bench import mnist, plain_keras
from keras_apps import cli
from tests.conftest import run_python


def run_metrics(examples_per_second, train_seconds):
    return {"model": "convnet", "params": 34_826, "epochs": 5, "test": {"accuracy": 0.99},
            "train_seconds": train_seconds, "train_examples": 1000, "train_examples_per_second": examples_per_second,
            "peak_memory_mb": 800.0}


def test_a_model_s_row_is_its_default_recipe(monkeypatch):
    calls = []
    monkeypatch.setattr(mnist, "run_task", lambda *call: calls.append(call) or (run_metrics(100.0, 10.0), 20.0))
    assert mnist.bench_model("resnet", [])["command"] == "python -m tasks.mnist"
    assert mnist.bench_model("convnet", ["--epochs", "1"])["command"] == "python -m tasks.mnist --model convnet"
    assert [(task, arguments, limits) for task, arguments, _, limits in calls] == [
        ("mnist", [], []), ("mnist", ["--model", "convnet"], ["--epochs", "1"])]


def test_the_side_by_side_ratio_is_of_the_medians_of_alternating_repeats(monkeypatch):
    """Ours trains 1,000 examples in 10, 11 and 30 s; plain Keras in 8, 20 and 9 s: medians 11 s and 9 s."""
    ours = iter([run_metrics(120.0, 10.0), run_metrics(110.0, 11.0), run_metrics(40.0, 30.0)])
    plain = iter([run_metrics(130.0, 8.0), run_metrics(60.0, 20.0), run_metrics(125.0, 9.0)])
    order = []

    def run_task(task, arguments, workdir, limits):
        order.append("ours")
        assert "--no-augment" in arguments and ["--lr-schedule", "constant"] == arguments[3:5]
        return next(ours), 0.0

    def python(arguments):
        order.append("plain")
        assert arguments[:2] == ["-m", "bench.plain_keras"]
        Path(arguments[arguments.index("--output") + 1]).write_text(json.dumps(next(plain)))

    monkeypatch.setattr(mnist, "run_task", run_task)
    monkeypatch.setattr(mnist, "python", python)
    row = mnist.bench_side_by_side([], repeats=3)
    assert order == ["ours", "plain"] * 3
    assert row["throughput_ratio_vs_plain_keras"] == pytest.approx((1000 / 11) / (1000 / 9))
    assert row["step_throughput_ratio_vs_plain_keras"] == pytest.approx(110.0 / 125.0)
    assert row["train_seconds"] == 11.0 and row["repeats"] == 3 and row["plain_keras_test_accuracy"] == 0.99


@pytest.mark.real_data
def test_the_plain_keras_yardstick_trains_and_reports_on_a_slice_of_mnist(real_data_dir, tmp_path):
    output = tmp_path / "plain_keras.json"
    completed = run_python("-m", "bench.plain_keras", "--epochs", "1", "--batch-size", "128", "--learning-rate",
                           "1e-3", "--train-examples", "1500", "--output", str(output),
                           env={"KERAS_APPS_DATA": str(real_data_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    figures = json.loads(output.read_text())
    assert figures["train_examples"] == 1350 // 128 * 128 and figures["train_examples_per_second"] > 0
    # Chance is 0.1; ten steps of this run measured 0.56 on the whole test set.
    assert 0.3 < figures["test"]["accuracy"] <= 1 and figures["peak_memory_mb"] > 0


def test_the_yardstick_refuses_more_training_images_than_mnist_has_in_one_line(real_data_dir, monkeypatch, capsys,
                                                                               tmp_path):
    monkeypatch.setenv("KERAS_APPS_DATA", str(real_data_dir))
    status = cli.run(plain_keras.main, ["--epochs", "1", "--batch-size", "128", "--learning-rate", "1e-3",
                                        "--train-examples", "60001", "--output", str(tmp_path / "figures.json")])
    error = capsys.readouterr().err
    assert status == 2 and error == "error: --train-examples 60,001: there are only 60,000 images in MNIST's " \
                                    "training split\n"
    assert not (tmp_path / "figures.json").exists()


@pytest.mark.parametrize("train_examples, output, refusal", [
    ("100", "figures.json", "error: 90 training images are fewer than one batch of 128\n"),
    ("1500", ".", "error: --output {tmp_path} is a folder; name a file to write\n"),
])
def test_the_yardstick_refuses_what_would_train_no_step_or_write_nowhere_before_training(
        real_data_dir, monkeypatch, capsys, tmp_path, train_examples, output, refusal):
    """90 images (a tenth held out) trained no step and reported an untrained model's accuracy as the
    yardstick's; an --output folder was refused only once training had finished."""
    import keras

    monkeypatch.setenv("KERAS_APPS_DATA", str(real_data_dir))
    monkeypatch.setattr(keras.Model, "fit", lambda *args, **kwargs: pytest.fail("it trained"), raising=False)
    status = cli.run(plain_keras.main, ["--epochs", "1", "--batch-size", "128", "--learning-rate", "1e-3",
                                        "--train-examples", train_examples, "--output", str(tmp_path / output)])
    assert status == 2 and capsys.readouterr().err == refusal.format(tmp_path=tmp_path / output)
