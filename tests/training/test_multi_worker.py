"""Multi-worker training through Keras `fit`: the model that avoids Keras 3's two faults, and real clusters of two
processes on 127.0.0.1 training the MNIST convnet, losing a worker and resuming."""

import json
import time

import keras
import numpy as np
import pytest

from keras_apps.training.local_cluster import LocalCluster
from keras_apps.training.multi_worker import MultiWorkerModel
from keras_apps.training.run_directory import RunDirectory
from keras_apps.training.strategy import select_strategy
from tests.conftest import REPOSITORY, run_python
from tests.training.helpers import tiny_datasets, tiny_model

LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def _losses(wrap):
    keras.utils.set_random_seed(0)
    with select_strategy("mirrored").scope():
        model = tiny_model()
        if wrap:
            model = MultiWorkerModel(model.input, model.output, name=model.name)
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=LOSS, metrics=["accuracy"])
    train, validation = tiny_datasets(32)
    history = model.fit(train, validation_data=validation, epochs=3, shuffle=False, verbose=0)
    return model, history.history


def test_the_multi_worker_model_trains_exactly_as_the_functional_model_it_wraps():
    plain_model, plain = _losses(wrap=False)
    wrapped_model, wrapped = _losses(wrap=True)
    assert set(wrapped) == set(plain)
    for name in plain:
        np.testing.assert_allclose(wrapped[name], plain[name], rtol=1e-5)
    assert np.shape(wrapped["loss"][0]) == ()  # the logs are scalars again after the cross-replica mean
    for mine, theirs in zip(wrapped_model.get_weights(), plain_model.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def _mnist_command(run_dir, export_dir, examples, epochs):
    return ["-m", "tasks.mnist", "--model", "convnet", "--strategy", "multi_worker", "--train-examples", examples,
            "--epochs", epochs, "--batch-size", "64", "--run-dir", run_dir, "--export-dir", export_dir]


def _weights(path):
    return keras.saving.load_model(path, compile=False).get_weights()


def test_two_workers_train_the_mnist_convnet_alike_and_only_the_chief_writes(tmp_path, real_data_dir):
    run, exports = tmp_path / "run", tmp_path / "exports"
    with LocalCluster(2, tmp_path, env={**QUIET, "KERAS_APPS_DATA": str(real_data_dir)}, cwd=REPOSITORY) as cluster:
        cluster.start(*_mnist_command(run, exports, 640, 2))
        assert cluster.wait(timeout=300) == [0, 0], cluster.log(0)[-3000:] + cluster.log(1)[-3000:]
    worker = RunDirectory(run / "workers" / "worker-1")
    for chief_weights, worker_weights in zip(_weights(run / "best.keras"), _weights(worker.best_model)):
        np.testing.assert_array_equal(chief_weights, worker_weights)
    assert RunDirectory(run).read_history() == worker.read_history()
    assert [path.name for path in exports.iterdir()] == ["1"]  # one export, the chief's
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["strategy"] == "MultiWorkerMirroredStrategy" and metrics["replicas"] == 2
    assert (run / "tensorboard").is_dir() and (run / "report.html").exists()
    assert not any(worker.path.glob("metrics.json")) and not worker.tensorboard.exists()
    assert "(worker-0 of 2 workers): 2 replica(s), global batch 64, 32 per replica" in cluster.log(0)


def test_a_killed_worker_restarted_with_the_cluster_resumes_from_the_backup(tmp_path, real_data_dir):
    run, exports = tmp_path / "run", tmp_path / "exports"
    command = _mnist_command(run, exports, 3200, 6)
    with LocalCluster(2, tmp_path, env={**QUIET, "KERAS_APPS_DATA": str(real_data_dir)}, cwd=REPOSITORY) as cluster:
        cluster.start(*command)
        deadline = time.monotonic() + 240
        while len(RunDirectory(run).read_history()) < 2:  # killed in the third epoch or later, never the last
            assert time.monotonic() < deadline and cluster.processes[0].poll() is None, cluster.log(0)[-3000:]
            time.sleep(0.2)
        cluster.kill(1)
        assert cluster.wait(0, timeout=120) == [2]  # the chief notices at its next collective and stops cleanly
        last_line = cluster.log(0).strip().splitlines()[-1]
        assert last_line.startswith("error: worker-0: lost contact with the cluster") and "--run-dir" in last_line
        # Killed after an epoch's last collective and before its backup, worker 1 would be an epoch behind the
        # chief: make it so (unless it is), from the previous epoch's backup that Keras keeps. The cluster must
        # still resume as one.
        backup = RunDirectory(run / "workers" / "worker-1").backup
        for name in ["latest.weights.h5", "training_metadata.json"]:
            if (backup / f"{name}.bkp").exists():
                (backup / f"{name}.bkp").replace(backup / name)

        cluster.start(*command)
        assert cluster.wait(timeout=300) == [0, 0], cluster.log(0)[-3000:] + cluster.log(1)[-3000:]
        assert "Resuming the interrupted run" in cluster.log(0)
    assert [row["epoch"] for row in RunDirectory(run).read_history()] == [0, 1, 2, 3, 4, 5]
    assert [path.name for path in exports.iterdir()] == ["1"]
    for chief_weights, worker_weights in zip(_weights(run / "best.keras"),
                                             _weights(run / "workers" / "worker-1" / "best.keras")):
        np.testing.assert_array_equal(chief_weights, worker_weights)


@pytest.mark.parametrize("strategy, tf_config, message", [
    ("multi_worker", "{not json", "error: TF_CONFIG is not valid JSON"),
    ("tpu", None, "error: --strategy tpu: no TPU found"),
])
def test_impossible_strategies_fail_in_one_line_from_the_command_line(tmp_path, strategy, tf_config, message):
    env = {"TF_CONFIG": tf_config} if tf_config else {}
    completed = run_python("-m", "tasks.mnist", "--strategy", strategy, "--run-dir", str(tmp_path / "run"),
                           env=env, timeout=120)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in completed.stderr
