import json

import pytest
import tensorflow as tf

from keras_apps.errors import UserError
from keras_apps.training.strategy import describe, select_strategy


def test_cpu_and_auto_without_gpus_use_the_default_strategy_on_one_device():
    for name in ("cpu", "auto"):
        strategy = select_strategy(name)
        assert strategy is tf.distribute.get_strategy() and strategy.num_replicas_in_sync == 1
        assert describe(strategy, 32).startswith("one device (CPU): 1 replica(s), global batch 32")


def test_cpu_beside_one_gpu_is_the_cpu_and_auto_is_that_gpu_undistributed(monkeypatch):
    """With one GPU, `cpu` must still train on the CPU, and `auto` must not pay MirroredStrategy's per-step cost."""
    list_devices = tf.config.list_physical_devices
    one_gpu = [tf.config.PhysicalDevice(name="/physical_device:GPU:0", device_type="GPU")]
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda device_type=None: one_gpu if device_type == "GPU" else list_devices(device_type))
    on_cpu = select_strategy("cpu")
    assert isinstance(on_cpu, tf.distribute.OneDeviceStrategy) and on_cpu.extended.worker_devices == (
        "/job:localhost/replica:0/task:0/device:CPU:0",)
    assert select_strategy("auto") is tf.distribute.get_strategy()


def test_mirrored_uses_two_logical_cpus():
    strategy = select_strategy("mirrored")
    assert isinstance(strategy, tf.distribute.MirroredStrategy) and strategy.num_replicas_in_sync == 2
    assert "2 replica(s), global batch 64, 32 per replica" in describe(strategy, 64)


def test_gpu_and_tpu_fail_in_one_line_when_absent():
    with pytest.raises(UserError, match="no GPU"):
        select_strategy("gpu")
    with pytest.raises(UserError, match="no TPU found") as error:
        select_strategy("tpu")
    assert "\n" not in str(error.value)


def test_unknown_strategy():
    with pytest.raises(UserError, match="unknown strategy"):
        select_strategy("quantum")


@pytest.mark.parametrize("tf_config, message", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'TF_CONFIG has no "cluster"'),
    ('{"cluster": {"ps": ["127.0.0.1:1"]}, "task": {"type": "ps", "index": 0}}', 'names a "ps" job'),
    ('{"cluster": {"worker": "127.0.0.1:1"}, "task": {"type": "worker", "index": 0}}', "must be a list"),
    ('{"cluster": {"worker": ["127.0.0.1"]}, "task": {"type": "worker", "index": 0}}', "is not \"host:port\""),
    ('{"cluster": {"worker": [":2222"]}, "task": {"type": "worker", "index": 0}}', "':2222', which is not"),
    # A port too large for an address: the name service raised OverflowError (a traceback) beyond a C long.
    ('{"cluster": {"worker": ["localhost:123456789012345678901"]}, "task": {"type": "worker", "index": 0}}',
     r"which is not \"host:port\" \(a port is 0 to 65535\)"),
    ('{"cluster": {"worker": ["localhost:65536"]}, "task": {"type": "worker", "index": 0}}', "a port is 0 to"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "chief", "index": 0}}', "must name this worker"),
    ('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 2}}',
     "from 0 to 1"),
    ('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": -1}}',
     "from 0 to 1 for job \"worker\", got -1"),
    ('{"cluster": {"chief": ["127.0.0.1:1", "127.0.0.1:2"], "worker": ["127.0.0.1:3"]}, '
     '"task": {"type": "chief", "index": 0}}', 'TF_CONFIG\'s "chief" job has 2 addresses'),
])
def test_multi_worker_with_a_broken_tf_config_fails_in_one_line(monkeypatch, tf_config, message):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    with pytest.raises(UserError, match=message) as error:
        select_strategy("multi_worker")
    assert "\n" not in str(error.value)


def test_a_cluster_host_that_does_not_resolve_is_named_before_the_wait_for_it(monkeypatch, capsys):
    """A misspelled host made the workers wait for ever, without a word."""
    from keras_apps.training.strategy import _cluster_resolver

    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["localhost:2222", "wroker-1.invalid:2222",
                                                                       "[::1]:2222"]},
                                                "task": {"type": "worker", "index": 0}}))
    _cluster_resolver()
    out = capsys.readouterr().out
    assert out.startswith("note: TF_CONFIG's \"worker\" job has 'wroker-1.invalid:2222', whose host does not resolve")
    assert len(out.splitlines()) == 1


def test_multi_worker_without_a_cluster_says_how_to_describe_one(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_PROCID", raising=False)
    with pytest.raises(UserError, match="needs TF_CONFIG"):
        select_strategy("multi_worker")


@pytest.mark.parametrize("name", ["auto", "cpu", "mirrored"])
def test_a_cluster_in_tf_config_is_not_trained_by_each_worker_alone(monkeypatch, name):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, '
                       '"task": {"type": "worker", "index": 1}}')
    with pytest.raises(UserError, match=f"a cluster of 2 workers, but --strategy is {name}: give --strategy "
                       "multi_worker") as error:
        select_strategy(name)
    assert "\n" not in str(error.value)
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}')
    assert select_strategy(name).num_replicas_in_sync == (2 if name == "mirrored" else 1)  # one worker: this one


@pytest.mark.parametrize("task, message", [({"type": "worker"}, "got None"), ({"type": "worker", "index": "0"},
                                                                               "got '0'")])
def test_a_task_without_a_whole_number_index_fails_in_one_line(monkeypatch, task, message):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}, "task": task}))
    with pytest.raises(UserError, match=f"task index must be a whole number from 0 to 0 for job \"worker\", {message}"):
        select_strategy("multi_worker")


def test_a_cluster_host_too_long_to_be_a_name_is_noted_too(monkeypatch, capsys):
    from keras_apps.training.strategy import _cluster_resolver

    host = "a" * 64 + ".example"  # a label over 63 characters: the name service refuses it with a UnicodeError
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["localhost:2222", f"{host}:2222"]},
                                                "task": {"type": "worker", "index": 0}}))
    _cluster_resolver()
    assert capsys.readouterr().out.startswith(f"note: TF_CONFIG's \"worker\" job has '{host}:2222', whose host")


@pytest.mark.parametrize("tf_config", ["[]", '"text"', '{"cluster": {"worker": 5}}', '{"cluster": ["a:1", "b:2"]}'])
def test_a_tf_config_that_is_no_cluster_is_left_to_multi_worker(monkeypatch, tf_config):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert select_strategy("cpu") is tf.distribute.get_strategy()


def test_auto_trains_on_the_tpu_that_tpu_name_names_and_else_says_why_not(monkeypatch, capsys):
    from keras_apps.training import strategy as strategy_module

    monkeypatch.setenv("TPU_NAME", "my-tpu")
    tpu = object()
    monkeypatch.setattr(strategy_module, "_tpu_strategy", lambda: tpu)
    assert select_strategy("auto") is tpu

    def no_tpu():
        raise UserError("--strategy tpu: no TPU found (my-tpu unknown); run on a Cloud TPU VM or set TPU_NAME")

    monkeypatch.setattr(strategy_module, "_tpu_strategy", no_tpu)
    assert select_strategy("auto") is tf.distribute.get_strategy()
    assert capsys.readouterr().out.startswith("note: --strategy tpu: no TPU found (my-tpu unknown)")


class _ClusterStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """A multi-worker strategy's view of its cluster, without starting one (which only a fresh process can)."""

    num_replicas_in_sync = 3
    extended = type("Extended", (), {"worker_devices": ("/job:worker/replica:0/task:0/device:CPU:0",)})()

    def __init__(self, jobs, task_type, task_id):
        self._resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(jobs), task_type=task_type, task_id=task_id)

    @property
    def cluster_resolver(self):
        return self._resolver


@pytest.mark.parametrize("jobs, task_type, task_id, chief", [
    ({"chief": ["a:1"], "worker": ["b:1", "c:1"]}, "chief", 0, True),
    ({"chief": ["a:1"], "worker": ["b:1", "c:1"]}, "worker", 0, False),  # the chief writes, not worker 0
    ({"worker": ["b:1", "c:1", "d:1"]}, "worker", 0, True),  # no chief: worker 0 writes
    ({"worker": ["b:1", "c:1", "d:1"]}, "worker", 2, False),
])
def test_only_the_chief_or_else_worker_0_writes(jobs, task_type, task_id, chief):
    from keras_apps.training.strategy import strategy_name, worker_role

    strategy = _ClusterStrategy(jobs, task_type, task_id)
    assert worker_role(strategy) == (chief, f"{task_type}-{task_id}")
    assert strategy_name(strategy) == "MultiWorkerMirroredStrategy"
    assert f"({task_type}-{task_id} of 3 workers): 3 replica(s)" in describe(strategy, 96)


def test_a_strategy_is_recorded_by_its_public_class_name():
    from keras_apps.training.strategy import strategy_name, worker_role

    assert strategy_name(select_strategy("cpu")) == "DefaultDistributionStrategy"
    assert worker_role(select_strategy("cpu")) == (True, "chief")


def test_a_tpu_error_of_several_lines_is_named_by_its_first(monkeypatch):
    def unreachable(tpu):
        raise ValueError(f"could not reach {tpu!r}\n  details the user needs not see\n")

    monkeypatch.setenv("TPU_NAME", "my-tpu")
    monkeypatch.setattr(tf.distribute.cluster_resolver, "TPUClusterResolver", unreachable)
    with pytest.raises(UserError, match=r"no TPU found \(could not reach 'my-tpu'\); run on") as error:
        select_strategy("tpu")
    assert "\n" not in str(error.value)
