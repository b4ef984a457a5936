"""`python -m bench`'s command line: each mistake is one line on stderr (`error: …`) with exit status 2, like every
task's, and a count flag refuses a number no benchmark could finish."""

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
