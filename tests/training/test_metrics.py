import sys
from types import SimpleNamespace

import pytest
import tensorflow as tf

from keras_apps.training.metrics import peak_memory_mb, run_metrics, trained_for
from tests.training.helpers import tiny_model


def metrics_of(model, strategy=None, step_seconds=0.0123456789):
    fit_result = SimpleNamespace(model=model, epochs_completed=2, initial_epoch=0, train_seconds=1.0,
                                 train_examples=512, train_examples_per_second=512.0,
                                 train_step_seconds=step_seconds, trainable_params=1234)
    return run_metrics(task="tiny", model_name="convnet", fit_result=fit_result, test_metrics=None,
                       export_path=None, strategy=strategy or tf.distribute.get_strategy())


def test_metrics_carry_the_steady_step_time_or_null():
    assert metrics_of(tiny_model())["train_step_seconds"] == 0.012346
    assert metrics_of(tiny_model(), step_seconds=None)["train_step_seconds"] is None


def test_metrics_carry_what_training_changed_beside_the_model_s_size():
    metrics = metrics_of(tiny_model())
    assert metrics["trainable_params"] == 1234 and metrics["params"] == tiny_model().count_params()


def test_metrics_say_whether_the_step_was_compiled_with_xla():
    model = tiny_model()
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    assert metrics_of(model)["jit_compile"] is True
    model.compile(optimizer="adam", loss="mse", jit_compile=False)
    assert metrics_of(model)["jit_compile"] is False


def test_metrics_name_the_strategy_and_its_replicas():
    metrics = metrics_of(tiny_model(), strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    assert metrics["strategy"] == "MirroredStrategy" and metrics["replicas"] == 2


def test_the_time_of_a_resumed_run_is_said_to_cover_only_the_epochs_after_the_resume():
    assert trained_for(3, 0, 12.4) == "3 epochs in 12 s" and trained_for(1, 0, 2.0) == "1 epoch in 2 s"
    assert trained_for(3, 1, 12.4) == "3 epochs, the last 2 in 12 s after a resume"
    assert trained_for(3, 3, 0.0) == ("3 epochs, trained before the command was interrupted and resumed (their time "
                                      "is not kept)")
    assert metrics_of(tiny_model())["trained_for"] == "2 epochs in 1 s"



def test_metrics_carry_the_run_s_figures_as_they_were_measured(tmp_path):
    fit_result = SimpleNamespace(model=tiny_model(), epochs_completed=5, initial_epoch=2, train_seconds=12.3456,
                                 train_examples=300, train_examples_per_second=77.7, train_step_seconds=None,
                                 trainable_params=10)
    evaluation, extra = {"macro_f1": 0.5}, {"note": "x"}
    metrics = run_metrics(task="tiny", model_name="convnet", fit_result=fit_result, test_metrics={"accuracy": 1},
                          export_path=tmp_path / "export", strategy=tf.distribute.get_strategy(),
                          extra=extra, evaluation=evaluation)
    assert metrics["epochs"] == 5 and metrics["resumed_from_epoch"] == 2
    assert metrics["train_seconds"] == pytest.approx(12.3456, abs=1e-3) and metrics["train_examples"] == 300
    assert metrics["train_examples_per_second"] == pytest.approx(77.7)
    assert metrics["test"] == {"accuracy": 1.0} and isinstance(metrics["test"]["accuracy"], float)
    assert metrics["export"] == str(tmp_path / "export")
    assert metrics["evaluation"] == evaluation and metrics["extra"] == extra


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_peak_memory_is_in_mebibytes():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
    peak_mb = int(status["VmHWM"].split()[0]) / 1024  # the kernel's figure, in kB
    assert peak_mb / 2 < peak_memory_mb() < peak_mb * 2
