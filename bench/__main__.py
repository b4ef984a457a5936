"""Benchmarks: `python -m bench mnist|imdb|gpt|translate|compress` runs each task configuration on the full
data, `python -m bench xla` times each task's training step with and without XLA, `python -m bench
distribute` compares one worker with two, `python -m bench blocks` keras-hub's Transformer blocks with the
written-out ones, `python -m bench explain` measures how faithful integrated gradients, LIME and SHAP
are, `python -m bench demo` times the demo page over the exports in a real browser, and `python -m bench
speech` trains the spoken-digit model on the official split and with each speaker held out, and `python -m bench
multimodal` each sense alone and each fusion of the two, and `python -m bench rlhf` the preference-tuning pipeline
and its reward–KL frontier; the figures go to
`bench/results.json` and the README's results tables, each row with the fingerprint of the machine it was
measured on. `python -m bench machine` prints that fingerprint alone."""

import json
import sys
from pathlib import Path

from bench import (
    blocks,
    compress,
    demo,
    distribute,
    explain,
    gpt,
    imdb,
    mnist,
    multimodal,
    nanogpt,
    results,
    rlhf,
    speech,
    translate,
    xla,
)
from keras_apps import cli, files
from keras_apps.tensorflow_start import import_tensorflow

BENCHMARKS = {"blocks": blocks, "compress": compress, "demo": demo, "distribute": distribute, "explain": explain,
              "gpt": gpt, "imdb": imdb, "mnist": mnist, "multimodal": multimodal, "rlhf": rlhf, "speech": speech,
              "translate": translate, "xla": xla}
RUNS = {"compress": [*compress.RUNS, *compress.lora.RUNS], "gpt": list(gpt.RUNS), "imdb": list(imdb.RUNS),
        "mnist": [*sorted(mnist.task.RECIPES), mnist.SIDE_BY_SIDE_RUN], "translate": list(translate.RUNS),
        "xla": list(xla.RUNS), "distribute": list(distribute.RUNS), "blocks": list(blocks.RUNS),
        "explain": list(explain.RUNS), "demo": list(demo.RUNS), "speech": list(speech.RUNS),
        "multimodal": list(multimodal.RUNS), "rlhf": list(rlhf.RUNS)}
# What `--repeats` counts in the benchmarks that repeat a run; the others take no --repeats.
REPEATS = {"mnist": f"{mnist.SIDE_BY_SIDE_RUN}'s alternating repeats", "gpt": "nanogpt-cpu's seeds",
           "multimodal": "each fusion's seeds"}
# The runs those repeat: `--runs` without any of them takes no --repeats either.
REPEATED_RUNS = {"mnist": [mnist.SIDE_BY_SIDE_RUN], "gpt": ["nanogpt-cpu"], "multimodal": RUNS["multimodal"]}
DEFAULT_REPEATS = 3
# The benchmarks that draw a figure the README shows beside their table (a plot, the demo's screenshot).
DRAWS_README_FIGURES = ("demo", "explain", "rlhf")
# The most a count flag takes: beyond these a benchmark would run for weeks, so a huge number is a typo.
MAX_REPEATS = 100
MAX_EPOCHS = 1000
MAX_TRAIN_EXAMPLES = 10_000_000


def given_limits(args):
    """The smoke-test flags given in `args`, each followed by its number (`["--epochs", "2"]`); each benchmark's
    `LIMITS` says what those it takes do there."""
    numbers = {"--train-examples": args.train_examples, "--epochs": args.epochs}
    return [text for flag, number in numbers.items() if number is not None for text in (flag, str(number))]


def _limit_help(flag):
    """What the smoke-test flag `flag` does in each benchmark, those doing the same grouped, and which refuse it."""
    tasks_by_effect = {}
    for task, benchmark in sorted(BENCHMARKS.items()):
        tasks_by_effect.setdefault(benchmark.LIMITS.get(flag), []).append(task)
    refusing = tasks_by_effect.pop(None, [])
    effects = [f"{', '.join(tasks)}: {effect}" for effect, tasks in tasks_by_effect.items()]
    return "; ".join([*effects, f"not taken by {', '.join(refusing)}"] if refusing else effects)


def parse_arguments(argv=None):
    """The parsed command line; any mistake in it, a run the benchmark does not have included, is one line."""
    parser = cli.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("task", choices=[*sorted(BENCHMARKS), "machine"],
                        help="which task's benchmarks to run, or machine: this machine's fingerprint")
    parser.add_argument("--runs", nargs="+", action=cli.GivenOnce, metavar="RUN",
                        help="which runs (default: all): mnist: " + ", ".join(RUNS["mnist"])
                        + f" ({mnist.SIDE_BY_SIDE_RUN}: the convnet trained by our runner and by plain Keras); "
                        + "; ".join(f"{task}: {', '.join(RUNS[task])}"
                                    for task in ("imdb", "gpt", "translate", "compress", "xla", "distribute",
                                                 "blocks", "explain", "demo", "speech", "multimodal", "rlhf")))
    parser.add_argument("--repeats", type=cli.count_up_to(MAX_REPEATS),
                        help=f"how often a run is repeated, at most {MAX_REPEATS} (default: {DEFAULT_REPEATS}): "
                        + "; ".join(f"{task}: {counted}" for task, counted in REPEATS.items()))
    parser.add_argument("--nanogpt", type=cli.path, metavar="DIR",
                        help="gpt nanogpt-cpu: also run nanoGPT's own train.py from this checkout of "
                             "karpathy/nanoGPT, seed by seed (PyTorch goes into an environment of its own)")
    parser.add_argument("--exports", type=cli.path, metavar="DIR",
                        help="demo: the folder of exports the page serves (default: saved_models); compress: take "
                        "each task's latest export in DIR/<task> instead of training one (bert-lora takes none)")
    parser.add_argument("--work-dir", type=cli.path, metavar="DIR",
                        help="rlhf: where the pipeline works until its row is recorded; the same command again "
                        f"resumes an interrupted pipeline there (default: {rlhf.WORK_DIR})")
    parser.add_argument("--train-examples", type=cli.count_up_to(MAX_TRAIN_EXAMPLES), metavar="N",
                        help="a smoke test, never recorded: " + _limit_help("--train-examples"))
    parser.add_argument("--epochs", type=cli.count_up_to(MAX_EPOCHS), metavar="N",
                        help=f"a smoke test, never recorded, N at most {MAX_EPOCHS}: " + _limit_help("--epochs"))
    parser.add_argument("--results", type=cli.path, default=str(results.RESULTS),
                        help="results file (default: bench/results.json, the only one the README's tables show)")
    parser.add_argument("--no-readme", dest="readme", action="store_false", help="do not rewrite the README table")
    args = parser.parse_args(argv)
    files.check_writable_file(args.results, "--results")
    results.load(args.results)  # a damaged results file, refused before hours of benchmarks, not after them
    if args.task == "machine" and args.runs:
        parser.error("machine has no runs")
    if args.repeats is not None and args.task not in REPEATS:
        parser.error(f"{args.task} takes no --repeats: only {', '.join(REPEATS)} repeat their runs")
    taken = BENCHMARKS[args.task].LIMITS if args.task in BENCHMARKS else {}
    for flag in given_limits(args)[::2]:
        if flag not in taken:
            parser.error(f"{args.task} takes no {flag}" + (f"; it takes {', '.join(taken)}" if taken else ""))
    if args.nanogpt is not None and args.task != "gpt":
        parser.error("--nanogpt belongs to the gpt benchmark")
    if args.nanogpt is not None and args.runs and "nanogpt-cpu" not in args.runs:
        parser.error("--nanogpt runs beside gpt's nanogpt-cpu, which --runs leaves out")
    if args.exports is not None and args.task not in ("demo", "compress"):
        parser.error("--exports belongs to the demo and compress benchmarks")
    if args.work_dir is not None and args.task != "rlhf":
        parser.error("--work-dir belongs to the rlhf benchmark")
    unknown = set(args.runs or ()) - set(RUNS.get(args.task, ()))
    if unknown:
        parser.error(f"{args.task} has no run named {', '.join(sorted(unknown))}; "
                     f"choose from {', '.join(RUNS[args.task])}")
    if args.repeats is not None and args.runs and not set(args.runs) & set(REPEATED_RUNS[args.task]):
        parser.error(f"--repeats repeats only {args.task}'s {', '.join(REPEATED_RUNS[args.task])}, "
                     "which --runs leaves out")
    if args.repeats is None:
        args.repeats = DEFAULT_REPEATS
    return args


def main(argv=None):
    args = parse_arguments(argv)
    import_tensorflow()  # for the machine's fingerprint, which every row carries
    if args.task == "machine":
        print(json.dumps(results.machine_fingerprint(), indent=2))
        return 0

    limits = given_limits(args)
    recorded = None
    options = {}
    if args.nanogpt is not None:
        nanogpt.check_checkout(args.nanogpt)  # before an hour of our runs, not after the first
        options["nanogpt_checkout"] = args.nanogpt
    if args.exports is not None:
        options["exports"] = args.exports
    if args.work_dir is not None:
        options["work_dir"] = args.work_dir
    readme = args.readme and Path(args.results).resolve() == results.RESULTS.resolve()
    runs = args.runs or RUNS[args.task]
    if args.task in DRAWS_README_FIGURES:  # the README's figure of these runs, redrawn only where its table is
        options["figures"] = readme and not limits and set(runs) == set(RUNS[args.task])
    for name, row in BENCHMARKS[args.task].run(runs, args.repeats, limits, **options):
        print(f"{name}: {row}", flush=True)
        if limits:
            continue  # a shortened run is a smoke test, not a result
        # Row by row: a later run's failure leaves the README showing what the results file holds.
        recorded = results.record(name, row, args.results, readme=readme)
    if recorded and readme:
        print(results.table(recorded))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
