"""The GPT benchmark's harness, with the task's runs replaced by figures: what it runs, and how it turns
the runs into a row. The task's real runs are tested in tests/tasks/test_gpt.py, which also feeds a real
`metrics.json` to `gpt_row`."""

import json
import math
import statistics
from pathlib import Path

import pytest

from bench import gpt, results
from keras_apps.models.gpt import GPTConfig, build_gpt


def gpt_metrics(loss, steps=20):
    return {"model": "nanogpt-cpu", "params": 800_000, "steps": steps,
            "validation": {"loss": loss, "perplexity": math.exp(loss)}, "train_seconds": 90.0,
            "train_tokens_per_second": 17_000.0, "extra": {"mfu": 0.01}, "peak_memory_mb": 900.0,
            "time": {"total_seconds": 100.0, "phases": {"start-up and imports": 10.0, "training steps": 90.0}}}


@pytest.fixture
def seeded_runs(monkeypatch):
    """Each run's loss is 1.9 plus a hundredth per seed, its wall time 100 s plus a second per seed."""
    calls = []

    def run_task(task, arguments, workdir, limits):
        calls.append((task, arguments, limits))
        seed = int(arguments[arguments.index("--seed") + 1])
        return gpt_metrics(1.9 + seed / 100), 100.0 + seed

    monkeypatch.setattr(gpt, "run_task", run_task)
    return calls


def test_nanogpt_s_recipe_runs_once_per_seed_and_reports_their_mean_and_spread(seeded_runs):
    row = gpt.bench_nanogpt_cpu([], seeds=4)
    seeds = range(4)
    assert seeded_runs == [("gpt", ["--recipe", "nanogpt-cpu", "--seed", str(seed)], []) for seed in seeds]
    losses = [1.9 + seed / 100 for seed in seeds]
    assert row["validation_loss_seeds"] == [round(loss, 4) for loss in losses]
    assert row["validation_loss"] == pytest.approx(statistics.fmean(losses))
    assert row["validation_perplexity"] == pytest.approx(math.exp(statistics.fmean(losses)))
    assert row["validation_loss_stdev"] == pytest.approx(statistics.stdev(losses))
    assert row["wall_seconds"] == statistics.fmean(100.0 + seed for seed in seeds)
    assert row["wall_seconds_max"] == 100.0 + seeds[-1]
    assert row["time"]["phases"]["training steps"] == 90.0  # where the first seed's command spent its time
    assert row["command"] == "python -m tasks.gpt --recipe nanogpt-cpu" and "nanogpt_wall_seconds" not in row


def test_a_single_seed_row_renders_its_loss_without_a_spread(seeded_runs):
    """`--repeats 1` once recorded a row whose table raised, and every later benchmark's README update with it."""
    row = gpt.bench_nanogpt_cpu([], seeds=1)
    assert row["validation_loss_seeds"] == [1.9] and row["validation_loss_stdev"] is None
    assert "| 20 | 1.9000 | 90 | 100 |" in results.table({"gpt-nanogpt-cpu": row})


def test_with_a_nanogpt_checkout_nanogpt_runs_after_each_of_ours_on_the_same_seed(seeded_runs, monkeypatch):
    def nanogpt_train(checkout, text_file, seed, workdir, smoke_test):
        seeded_runs.append(("nanogpt", seed, smoke_test))
        return {"wall_seconds": 140.0 + seed, "validation_loss": 1.9 + seed / 100 + 0.01}

    monkeypatch.setattr(gpt.nanogpt, "train", nanogpt_train)
    monkeypatch.setattr(gpt, "_tiny_shakespeare", lambda workdir: Path(workdir) / "input.txt")
    row = gpt.bench_nanogpt_cpu([], seeds=2, nanogpt_checkout="nanoGPT")
    assert [call[0] for call in seeded_runs] == ["gpt", "nanogpt", "gpt", "nanogpt"]
    assert [call[1] for call in seeded_runs if call[0] == "nanogpt"] == [0, 1]
    assert row["nanogpt_validation_loss_seeds"] == [1.91, 1.92] and row["nanogpt_wall_seconds_seeds"] == [140, 141]
    assert row["nanogpt_validation_loss"] == pytest.approx(1.915)
    assert row["wall_ratio_vs_nanogpt"] == round(100.5 / 140.5, 2)


def test_a_smoke_run_of_nanogpt_s_recipe_runs_short(seeded_runs):
    row = gpt.bench_nanogpt_cpu(["--epochs", "1"], seeds=2)
    assert [arguments[-1] for _, arguments, _ in seeded_runs] == ["0", "1"]
    assert all(limits == gpt.SMOKE_TEST for _, _, limits in seeded_runs)
    assert row["validation_loss_seeds"] == [1.9, 1.91]


def test_a_folder_that_is_not_a_nanogpt_checkout_is_refused_in_one_line_before_any_run(tmp_path, seeded_runs):
    from bench import __main__ as bench_main
    from keras_apps.errors import UserError

    with pytest.raises(UserError, match="is not a checkout of karpathy/nanoGPT \\(no train.py, model.py"):
        bench_main.main(["gpt", "--runs", "nanogpt-cpu", "--nanogpt", str(tmp_path), "--no-readme",
                         "--results", str(tmp_path / "results.json")])
    assert seeded_runs == []
    with pytest.raises(SystemExit):
        bench_main.parse_arguments(["imdb", "--nanogpt", str(tmp_path)])


def test_the_default_run_times_cached_and_uncached_sampling_from_its_export(monkeypatch):
    config = GPTConfig(vocabulary_size=20, context_length=16, num_layers=1, num_heads=2, hidden_dim=16, dropout=0.0)

    def run_task(task, arguments, workdir, limits):
        assert (task, arguments, limits) == ("gpt", [], gpt.SMOKE_TEST)
        export = Path(workdir) / "export" / "1"
        export.mkdir(parents=True)
        build_gpt(config).save(export / "model.keras")
        (export / "export.json").write_text(json.dumps({"model": config.to_dict()}))
        return gpt_metrics(2.5), 60.0

    monkeypatch.setattr(gpt, "run_task", run_task)
    row = gpt.bench_default(["--epochs", "1"])
    assert row["sampling_new_tokens"] == gpt.SMOKE_SAMPLING_TOKENS and row["sampling_context_length"] == 16
    assert row["sampling_tokens_per_second_cached"] > 0 and row["sampling_tokens_per_second_uncached"] > 0
    assert row["sampling_cache_speedup"] == pytest.approx(  # rounded to 2 decimals: 0.005 off at most
        row["sampling_tokens_per_second_cached"] / row["sampling_tokens_per_second_uncached"], rel=0.02, abs=0.0051)
    assert row["validation_loss"] == 2.5 and row["wall_seconds"] == 60.0 and row["command"] == "python -m tasks.gpt"


def test_the_row_of_uneven_seeds_is_their_mean_and_its_slowest_is_the_slowest(monkeypatch):
    """Seeds whose losses, times and nanoGPT's times are not evenly spaced: a median, the last seed's or the first
    seed's figure would each differ from the mean."""
    ours = {0: (1.9, 100.0, 80.0), 1: (1.9, 130.0, 95.0), 2: (2.2, 110.0, 86.0)}  # loss, wall, training seconds

    def run_task(task, arguments, workdir, limits):
        loss, wall, train = ours[int(arguments[arguments.index("--seed") + 1])]
        return {**gpt_metrics(loss), "train_seconds": train}, wall

    def nanogpt_train(checkout, text_file, seed, workdir, smoke_test):
        return {"wall_seconds": (140.0, 200.0, 150.0)[seed], "validation_loss": 2.0}

    monkeypatch.setattr(gpt, "run_task", run_task)
    monkeypatch.setattr(gpt.nanogpt, "train", nanogpt_train)
    monkeypatch.setattr(gpt, "_tiny_shakespeare", lambda workdir: Path(workdir) / "input.txt")
    row = gpt.bench_nanogpt_cpu([], seeds=3, nanogpt_checkout="nanoGPT")
    assert row["validation_loss"] == pytest.approx(2.0)
    assert row["train_seconds"] == pytest.approx(87.0)
    assert row["wall_seconds"] == pytest.approx(113.3) and row["wall_seconds_max"] == 130.0
    assert row["nanogpt_wall_seconds"] == pytest.approx(163.3)


def test_a_smoke_run_beside_nanogpt_runs_nanogpt_short_too(seeded_runs, monkeypatch):
    given = []
    monkeypatch.setattr(gpt.nanogpt, "train", lambda checkout, text_file, seed, workdir, smoke_test: given.append(
        smoke_test) or {"wall_seconds": 10.0, "validation_loss": 2.0})
    monkeypatch.setattr(gpt, "_tiny_shakespeare", lambda workdir: Path(workdir) / "input.txt")
    gpt.bench_nanogpt_cpu(["--epochs", "1"], seeds=1, nanogpt_checkout="nanoGPT")
    gpt.bench_nanogpt_cpu([], seeds=1, nanogpt_checkout="nanoGPT")
    assert given == [True, False]


def test_the_recorded_default_run_is_the_full_task_and_the_full_sampling_measurement(monkeypatch):
    """Only a smoke test shortens the run and the sampling: the recorded row is the task's own default."""
    def run_task(task, arguments, workdir, limits):
        assert (task, arguments, limits) == ("gpt", [], [])
        (Path(workdir) / "export" / "1").mkdir(parents=True)
        (Path(workdir) / "export" / "1" / "export.json").write_text(json.dumps({"model": {"context_length": 256}}))
        return gpt_metrics(1.5, steps=5000), 700.0

    sampled = []

    def sampling(model_path, new_tokens, repeats):
        sampled.append((new_tokens, repeats))
        return {True: 800.0, False: 100.0}

    monkeypatch.setattr(gpt, "run_task", run_task)
    monkeypatch.setattr(gpt, "sampling_tokens_per_second", sampling)
    row = gpt.bench_default([])
    assert sampled == [(gpt.SAMPLING_TOKENS, 3)] and row["sampling_new_tokens"] == gpt.SAMPLING_TOKENS
    assert row["sampling_cache_speedup"] == 8.0 and row["steps"] == 5000


def test_nanogpt_s_seed_is_moved_by_the_run_s_seed(tmp_path):
    """Seed 0 is nanoGPT as published (1337); seed s is 1337 + s, else every seed would train the same model."""
    import subprocess
    import sys

    from bench import nanogpt

    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("def manual_seed(value):\n    print('seed', value)\n")
    (tmp_path / "train.py").write_text("import sys, torch\ntorch.manual_seed(1337)\nprint(sys.argv)\n")
    (tmp_path / "seeded_train.py").write_text(nanogpt.SEEDED_TRAIN)
    completed = subprocess.run([sys.executable, "seeded_train.py", "3", "--max_iters=20"], cwd=tmp_path,
                               env={"PYTHONPATH": str(tmp_path)}, capture_output=True, text=True, check=True)
    assert completed.stdout.splitlines() == ["seed 1340", "['train.py', '--max_iters=20']"]


def test_nanogpt_s_smoke_test_overrides_its_recipe_and_a_failed_scoring_is_one_line(tmp_path, monkeypatch):
    import subprocess

    from bench import nanogpt
    from keras_apps.errors import UserError

    checkout = tmp_path / "nanoGPT"
    for name in nanogpt.FILES:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text("")
    (tmp_path / "input.txt").write_text("text")
    commands, scoring = [], []
    monkeypatch.setattr(nanogpt, "environment", lambda: "python")
    monkeypatch.setattr(nanogpt, "_run", lambda python, arguments, workdir: commands.append(arguments) or 60.0)
    monkeypatch.setattr(nanogpt.subprocess, "run", lambda *args, **kwargs: scoring.pop(0))
    scoring.append(subprocess.CompletedProcess([], 0, stdout='GPT\n{"validation_loss": 1.95}\n', stderr=""))
    run = nanogpt.train(checkout, tmp_path / "input.txt", 2, tmp_path / "work", smoke_test=True)
    assert run == {"wall_seconds": 60.0, "validation_loss": 1.95}
    seeded = commands[-1]
    assert seeded[:2] == ["seeded_train.py", "2"] and seeded[-len(nanogpt.SMOKE_TEST):] == nanogpt.SMOKE_TEST
    scoring.append(subprocess.CompletedProcess([], 1, stdout="", stderr="Traceback\nFileNotFoundError: ckpt.pt\n"))
    with pytest.raises(UserError, match="scoring nanoGPT's checkpoint failed"):
        nanogpt.train(checkout, tmp_path / "input.txt", 2, tmp_path / "work2", smoke_test=True)


def test_each_run_is_recorded_under_its_own_name(monkeypatch):
    """The default run's row under nanogpt-cpu's name would replace the nanoGPT comparison in the results."""
    monkeypatch.setattr(gpt, "bench_default", lambda limits: "default row")
    monkeypatch.setattr(gpt, "bench_nanogpt_cpu", lambda limits, seeds, nanogpt_checkout: "nanogpt-cpu row")
    assert dict(gpt.run(["default", "nanogpt-cpu"], 1, [])) == {"gpt-default": "default row",
                                                                "gpt-nanogpt-cpu": "nanogpt-cpu row"}


def test_a_checkout_missing_one_of_nanogpt_s_files_is_refused_naming_it(tmp_path):
    from bench import nanogpt
    from keras_apps.errors import UserError

    for name in nanogpt.FILES[:-1]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    with pytest.raises(UserError, match=f"\\(no {nanogpt.FILES[-1]}\\)"):
        nanogpt.check_checkout(tmp_path)
