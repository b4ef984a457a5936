import pytest

from tests.conftest import run_python


@pytest.mark.real_data
def test_a_shortened_benchmark_runs_every_configuration_and_records_nothing(real_data_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "mnist", "--train-examples", "1500", "--epochs", "1", "--repeats", "1",
                           "--results", str(results_file), env={"KERAS_APPS_DATA": str(real_data_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    for name in ("mnist-convnet:", "mnist-resnet:", "mnist-convnet-vs-plain-keras:"):
        assert name in completed.stdout
    assert "throughput_ratio_vs_plain_keras" in completed.stdout
    assert not results_file.exists()
