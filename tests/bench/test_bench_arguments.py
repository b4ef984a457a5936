"""`python -m bench`'s command line: each mistake is one line on stderr (`error: …`) with exit status 2, like every
task's, and a count flag refuses a number no benchmark could finish."""

import json

import pytest

from bench import __main__ as bench_main
from tests.conftest import run_cli

HUGE = "9" * 21


@pytest.mark.parametrize("argv, message", [
    ([], "the following arguments are required: task"),
    (["nonsense"], "argument task: invalid choice: 'nonsense'"),
    (["mnist", "--runs", "bogus"], "mnist has no run named bogus; choose from"),
    (["mnist", "--runs", "convnet", "convnet"], "--runs names convnet more than once"),
    (["mnist", "--repeats", "bogus"], "argument --repeats: expected a whole number, got 'bogus'"),
    (["mnist", "--repeats", "0"], "argument --repeats: must be at least 1, got 0"),
    (["mnist", "--repeats", HUGE], f"argument --repeats: must be at most 100, got {HUGE}"),
    (["mnist", "--epochs", HUGE], "argument --epochs: must be at most 1,000"),
    (["mnist", "--train-examples", HUGE], "argument --train-examples: must be at most 10,000,000"),
    (["imdb", "--nanogpt", "checkout"], "--nanogpt belongs to the gpt benchmark"),
    (["imdb", "--exports", "elsewhere"], "--exports belongs to the demo and compress benchmarks"),
    (["imdb", "--work-dir", "elsewhere"], "--work-dir belongs to the rlhf benchmark"),
    (["demo", "--exports", ""], "argument --exports: expected a path, got an empty one"),
    (["machine", "--runs", "convnet"], "machine has no runs"),
    (["speech", "--train-examples", "100"], "speech takes no --train-examples; it takes --epochs"),
    (["multimodal", "--train-examples", "100"], "multimodal takes no --train-examples; it takes --epochs"),
    (["rlhf", "--epochs", "1"], "rlhf takes no --epochs"),
    (["machine", "--epochs", "3"], "machine takes no --epochs"),
    (["machine", "--train-examples", "5"], "machine takes no --train-examples"),
    (["imdb", "--repeats", "7"], "imdb takes no --repeats: only mnist, gpt, multimodal repeat their runs"),
    (["xla", "--repeats", "9"], "xla takes no --repeats"),
    (["machine", "--repeats", "5"], "machine takes no --repeats"),
    (["gpt", "--runs", "default", "--repeats", "2"],
     "--repeats repeats only gpt's nanogpt-cpu, which --runs leaves out"),
    (["mnist", "--runs", "convnet", "--repeats", "2"], "--repeats repeats only mnist's vs-plain-keras"),
    (["gpt", "--runs", "bogus", "--repeats", "2"], "gpt has no run named bogus; choose from nanogpt-cpu, default"),
    (["mnist", "--runs", "bogus", "--runs", "convnet"], "--runs is given twice; name all its values after one --runs"),
    (["gpt", "--runs", "default", "--nanogpt", "checkout"],
     "--nanogpt runs beside gpt's nanogpt-cpu, which --runs leaves out"),
])
def test_bad_arguments_are_one_line(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(bench_main, "import_tensorflow", lambda: pytest.fail("a refused command went on to run"))
    status, out, err = run_cli(bench_main.main, argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert "(see python -m bench --help)" in err


def test_counts_up_to_their_bound_are_taken():
    args = bench_main.parse_arguments(["mnist", "--repeats", "100", "--epochs", "1000"])
    assert (args.repeats, args.epochs) == (100, 1000)


def test_repeats_are_taken_with_a_run_they_repeat():
    args = bench_main.parse_arguments(["gpt", "--runs", "default", "nanogpt-cpu", "--repeats", "2"])
    assert (args.runs, args.repeats) == (["default", "nanogpt-cpu"], 2)
    assert bench_main.parse_arguments(["multimodal", "--runs", "late", "--repeats", "2"]).repeats == 2
    assert bench_main.parse_arguments(["gpt", "--runs", "default"]).repeats == 3  # the default, given no --repeats
    assert bench_main.parse_arguments(["imdb", "--runs", "bow"]).runs == ["bow"]


def test_repeats_default_to_three_where_a_benchmark_repeats_its_runs():
    assert bench_main.parse_arguments(["multimodal", "--repeats", "2"]).repeats == 2
    assert bench_main.parse_arguments(["mnist"]).repeats == bench_main.parse_arguments(["imdb"]).repeats == 3


def test_the_help_says_what_each_benchmark_does_with_each_flag_it_takes(capsys):
    status, out, _ = run_cli(bench_main.main, ["--help"], capsys)
    shown = "".join(out.split())  # as wrapped, with a line break at any space or hyphen

    def said(text):
        return "".join(text.split()) in shown

    assert status == 0 and said("multimodal: each fusion's seeds")
    for task, benchmark in bench_main.BENCHMARKS.items():
        assert set(benchmark.LIMITS) <= {"--train-examples", "--epochs"}, task
        assert all(said(effect) for effect in benchmark.LIMITS.values()), task
    assert said("not taken by multimodal, rlhf, speech") and said("not taken by rlhf")


@pytest.fixture
def benchmark_calls(monkeypatch):
    """Each benchmark's `run` replaced by one that records what it was given and yields one row per run."""
    from tests.bench.test_results import ROW

    calls = []
    for task, benchmark in bench_main.BENCHMARKS.items():
        def run(runs, repeats, limits, task=task, **options):
            calls.append({"task": task, "runs": list(runs), "repeats": repeats, "limits": limits, **options})
            for name in runs:
                yield f"{task}-{name}", ROW

        monkeypatch.setattr(benchmark, "run", run)
    return calls


def test_the_runs_and_repeats_asked_for_are_the_ones_run(tmp_path, benchmark_calls):
    results_file = tmp_path / "results.json"
    assert bench_main.main(["gpt", "--runs", "nanogpt-cpu", "--repeats", "2", "--results", str(results_file)]) == 0
    assert [(call["runs"], call["repeats"]) for call in benchmark_calls] == [(["nanogpt-cpu"], 2)]
    assert list(json.loads(results_file.read_text())) == ["gpt-nanogpt-cpu"]


def test_a_smoke_test_is_run_with_its_limits_and_records_nothing(tmp_path, benchmark_calls):
    results_file = tmp_path / "results.json"
    assert bench_main.main(["mnist", "--runs", "convnet", "--epochs", "1", "--train-examples", "50",
                            "--results", str(results_file)]) == 0
    assert benchmark_calls[0]["limits"] == ["--train-examples", "50", "--epochs", "1"]
    assert not results_file.exists()


def test_the_folders_a_benchmark_takes_reach_it(tmp_path, benchmark_calls):
    from bench import nanogpt

    checkout = tmp_path / "nanoGPT"
    for name in nanogpt.FILES:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text("")
    results_file = str(tmp_path / "results.json")
    for argv in (["gpt", "--runs", "nanogpt-cpu", "--nanogpt", str(checkout)],
                 ["compress", "--runs", "mnist", "--exports", str(tmp_path / "exports")],
                 ["demo", "--exports", str(tmp_path / "exports"), "--no-readme"],
                 ["rlhf", "--work-dir", str(tmp_path / "work"), "--no-readme"]):
        assert bench_main.main([*argv, "--results", results_file]) == 0
    assert [str(call.get("nanogpt_checkout") or call.get("exports") or call.get("work_dir"))
            for call in benchmark_calls] == [str(checkout), *[str(tmp_path / "exports")] * 2, str(tmp_path / "work")]


@pytest.mark.parametrize("argv", [["--train-examples", "10"], ["--runs", "mnist-convnet"]])
def test_the_readme_s_figure_is_not_redrawn_from_a_smoke_test_or_from_some_of_the_runs(argv, benchmark_calls,
                                                                                       monkeypatch):
    """The README's figure beside its table: a shortened run, or a few of the runs, must not replace it."""
    from bench import results

    monkeypatch.setattr(results, "record", lambda name, row, path, readme: {name: row})
    monkeypatch.setattr(results, "update_readme", lambda recorded: None)
    assert bench_main.main(["explain", *argv]) == 0
    assert benchmark_calls[0]["figures"] is False
