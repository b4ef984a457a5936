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
])
def test_bad_arguments_are_one_line(argv, message, capsys):
    status, out, err = run_cli(bench_main.main, argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert "(see python -m bench --help)" in err


def test_counts_up_to_their_bound_are_taken():
    args = bench_main.parse_arguments(["mnist", "--repeats", "100", "--epochs", "1000"])
    assert (args.repeats, args.epochs) == (100, 1000)
