"""The results file (`bench/results.json`) and the README table generated from it.

Every row is a measured run: the table is never edited by hand. A benchmark replaces its own rows and
keeps the others', then rewrites the README between the markers `<!-- bench:results:start -->` and
`<!-- bench:results:end -->`.
"""

import contextlib
import datetime
import fcntl
import functools
import json
import os
import statistics
import subprocess
from pathlib import Path

from keras_apps import files
from keras_apps.compress.measure import TRANSLATION_SCORES, language_model_table, markdown_table
from keras_apps.errors import UserError

RESULTS = Path(__file__).with_name("results.json")
README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"


def machine():
    """A short description of this machine: its cores and CPU model (`keras_apps.machine.name`)."""
    from keras_apps.machine import name

    return name()


@functools.cache
def machine_fingerprint():
    """This machine's fingerprint with its measured speeds (`keras_apps.machine.fingerprint`), measured once
    per process: every row a benchmark records carries it."""
    from keras_apps.machine import fingerprint

    return fingerprint()


def load(path=RESULTS):
    """The rows of a results file by name (none where it does not exist yet); a one-line error for one that is
    not a JSON object of rows."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"--results {path} cannot be read as JSON ({exc})") from None
    if not isinstance(rows, dict):
        raise UserError(f"--results {path} holds a JSON {type(rows).__name__}, not the object of rows results hold")
    return rows


def provenance():
    """The commit (with `+` when the work tree differs from it) and the date a figure is measured at."""
    root = Path(__file__).resolve().parents[1]

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    # What the benchmarks write themselves (the results, the README's tables, their plots and screenshot) does not
    # make the code differ.
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results.json",
                     ":!README.md", ":!bench/*.png"))
    return {"commit": commit + ("+" if dirty else ""), "measured": datetime.date.today().isoformat()}


def record(name, row, path=RESULTS, readme=False):
    """Stores `row` under `name` with the commit and date it was measured at and the machine's fingerprint,
    replacing an earlier result of the same name, and rewrites the README's tables from the file when `readme`.

    Another benchmark may record into the same file meanwhile (two terminals): the file is read, changed and
    written, and the README rewritten from it, under a lock on its folder, so neither row is lost; the stamp is
    measured first, since the first fingerprint takes seconds."""
    stamp = {"fingerprint": machine_fingerprint(), **provenance()}
    with _locked(Path(path).resolve().parent):  # the folder written: a link's target's
        results = load(path)
        results[name] = {**row, **stamp}
        files.write_json(path, results)
        if readme:
            update_readme(results)
    return results


@contextlib.contextmanager
def _locked(folder):
    """Holds an exclusive lock (`flock`) on `folder` (made if missing) in the block; the file in it is replaced
    by a rename, so the lock is the folder's, which stays. Storage that cannot lock is written unlocked."""
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing it releases the lock


def _machine(row):
    """The machine a row was measured on, with its matmul and convolution speeds where it has a fingerprint
    (rows measured before fingerprints were recorded have none)."""
    fingerprint = row.get("fingerprint")
    if not fingerprint:
        return f"{row['machine']} (speeds not recorded)"
    return (f"{row['machine']} ({fingerprint['matmul_gflops']:.0f} GFLOP/s matmul, "
            f"{fingerprint['convolution_ms']:.0f} ms convolution)")


def _cell(value, digits=1, percent=False):
    if value is None:
        return "–"
    if percent:
        return f"{100 * value:.2f} %"
    return f"{value:,.{digits}f}"


def _classifier_table(results):
    lines = [
        "| benchmark | model | params | epochs | test accuracy | train time (s) | wall time (s) | "
        "train examples/s | peak memory (MiB) | vs plain Keras | machine |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in sorted(results.items()):
        ratio = row.get("throughput_ratio_vs_plain_keras")
        lines.append(
            f"| `{row['command']}` | {row['model']} | {row['params']:,} | {row['epochs']} | "
            f"{_cell(row['test_accuracy'], percent=True)} | {_cell(row['train_seconds'], 0)} | "
            f"{_cell(row.get('wall_seconds'), 0)} | "
            f"{_cell(row['train_examples_per_second'], 0)} | {_cell(row['peak_memory_mb'], 0)} | "
            f"{'–' if ratio is None else f'{ratio:.2f}x'} | {_machine(row)} |"
        )
    return lines


def _validation_loss_cell(row):
    """One run's loss, or the mean over seeds with their standard deviation (one seed has no spread to show)."""
    seeds = row.get("validation_loss_seeds") or ()
    if len(seeds) < 2:
        return _cell(row["validation_loss"], 4)
    return f"{row['validation_loss']:.4f} ± {row['validation_loss_stdev']:.4f} (mean of {len(seeds)} seeds)"


def _language_model_table(results):
    lines = [
        "| benchmark | recipe | params | steps | validation loss | train time (s) | wall time (s) | "
        "train tokens/s | MFU | sampling tokens/s, cached / uncached | peak memory (MiB) | "
        "nanoGPT, same seeds: validation loss, wall time (s), ours / its wall time | machine |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in sorted(results.items()):
        sampling = "–"
        if row.get("sampling_tokens_per_second_cached"):
            sampling = (f"{row['sampling_tokens_per_second_cached']:,.0f} / "
                        f"{row['sampling_tokens_per_second_uncached']:,.0f}")
        lines.append(
            f"| `{row['command']}` | {row['model']} | {row['params']:,} | {row['steps']:,} | "
            f"{_validation_loss_cell(row)} | {_cell(row['train_seconds'], 0)} | "
            f"{_cell(row.get('wall_seconds'), 0)} | {_cell(row['train_tokens_per_second'], 0)} | "
            f"{_cell(row['mfu'], percent=True)} | {sampling} | {_cell(row['peak_memory_mb'], 0)} | "
            f"{_nanogpt_cell(row)} | {_machine(row)} |"
        )
    return lines


def _nanogpt_cell(row):
    """nanoGPT's own figures, measured beside ours (`python -m bench gpt --nanogpt DIR`)."""
    if "wall_ratio_vs_nanogpt" not in row:
        return "–"
    return (f"{row['nanogpt_validation_loss']:.4f}, {row['nanogpt_wall_seconds']:,.0f}, "
            f"{row['wall_ratio_vs_nanogpt']:.2f}x")


def _translation_table(results):
    lines = [
        "| benchmark | direction | beam | params | epochs | test sentences | BLEU | ROUGE-1 F1 | ROUGE-2 F1 | "
        "masked accuracy | train time (s) | wall time (s) | cached / uncached decoding tokens/s | machine |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, row in sorted(results.items()):
        decoding = "; ".join(
            f"batch {size}: {speed['cached_tokens_per_second']:,.0f} / {speed['uncached_tokens_per_second']:,.0f} "
            f"({speed['speedup']:.1f}x)" for size, speed in sorted(row["decoding"].items(), key=lambda kv: int(kv[0]))
        )
        lines.append(
            f"| `{row['command']}` | {row['direction']} | {row['beam_size']} | {row['params']:,} | {row['epochs']} | "
            f"{row['test_sentences']:,} | {_cell(row['bleu'])} | {_cell(row['rouge1_f1'], 3)} | "
            f"{_cell(row['rouge2_f1'], 3)} | {_cell(row['masked_accuracy'], percent=True)} | "
            f"{_cell(row['train_seconds'], 0)} | {_cell(row['wall_seconds'], 0)} | {decoding} | {_machine(row)} |"
        )
    return lines


def _xla_table(results):
    lines = [
        "| benchmark | model | params | batch | step time, `--no-jit-compile` (ms) | step time, `--jit-compile` (ms) | "
        "XLA speed-up | machine |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in sorted(results.items()):
        plain, compiled = (None if seconds is None else 1000 * seconds
                           for seconds in (row["step_seconds"], row["xla_step_seconds"]))
        speedup = "–" if row["xla_speedup"] is None else f"{row['xla_speedup']:.2f}x"
        lines.append(
            f"| `{row['command']}` | {row['model']} | {row['params']:,} | {row['batch_size']} | {_cell(plain)} | "
            f"{_cell(compiled) if row['xla_compiled'] else 'not compiled'} | {speedup} | {_machine(row)} |"
        )
    return lines


def _pair(values, **cell):
    """Two runs' values side by side: `a / b`."""
    return " / ".join(_cell(value, **cell) for value in values)


def _figures(row):
    """A row's `figure` (what its runs reached) and the runs' values, formatted for that figure."""
    formats = {"test accuracy": {"percent": True}, "test BLEU": {"digits": 1}, "validation loss": {"digits": 4}}
    return f"{row['figure']} {_pair(row['figures'], **formats[row['figure']])}"


def _milliseconds(seconds):
    return [None if value is None else 1000 * value for value in seconds]


def _scaling_table(results):
    lines = [
        "| benchmark | model | params | train examples/s, 1 / 2 workers | step time (ms), 1 / 2 workers | "
        "2-worker scaling | reached, 1 / 2 workers | wall time (s), 1 / 2 workers | machine |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in sorted(results.items()):
        lines.append(
            f"| `{row['command']}` | {row['model']} | {row['params']:,} | "
            f"{_pair(row['examples_per_second'], digits=0)} | {_pair(_milliseconds(row['step_seconds']))} | "
            f"{row['scaling']:.2f}x | {_figures(row)} | {_pair(row['wall_seconds'], digits=0)} | {_machine(row)} |"
        )
    return lines


def _blocks_table(results):
    lines = [
        "| benchmark | model | params | reached, keras-hub / explained | step time (ms), keras-hub / explained | "
        "explained's step time | training time (s), keras-hub / explained | machine |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in sorted(results.items()):
        ratio = "–" if row["blocks_step_ratio"] is None else f"{row['blocks_step_ratio']:.2f}x"
        lines.append(
            f"| `{row['command']}` | {row['model']} | {row['params']:,} | {_figures(row)} | "
            f"{_pair(_milliseconds(row['step_seconds']))} | {ratio} | {_pair(row['train_seconds'], digits=0)} | "
            f"{_machine(row)} |"
        )
    return lines


def _compression_tables(results):
    tables = {"gpt": language_model_table,
              "translate": functools.partial(language_model_table, figures=TRANSLATION_SCORES)}
    lines = []
    for name, result in sorted(results.items()):
        table = tables.get(result.get("task"), markdown_table)
        trained = result["train_wall_seconds"]  # none for an export compressed as it was (`--exports`)
        lines += ["", table(result["title"], result["variants"]).rstrip("\n"), "",
                  f"`{result['command']}`: " + (f"training {_cell(trained, 0)} s, " if trained is not None else "")
                  + f"compression {_cell(result['compress_wall_seconds'], 0)} s wall, on {_machine(result)}."]
    return lines


def _lora_tables(results):
    """One table per fine-tuning comparison (`bench.lora`): each method's trainable parameters, time, memory and
    figure."""
    lines = []
    for name, result in sorted(results.items()):
        figure = result["figure"]
        lines += ["", f"### {result['title']}", "",
                  f"| method | trainable parameters | of the model's | training (s) | step (ms) | peak memory (MiB) | "
                  f"{figure} |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for method in result["lora"]:
            value = method["validation_loss"] if "validation_loss" in method else method["test_accuracy"]
            start = (f" (the start: {method['validation_loss_before']:.4f})" if "validation_loss_before" in method
                     else "")
            lines.append(f"| {method['method']} | {method['trainable_params']:,} | "
                         f"{_cell(method['trainable_params'] / method['params'], percent=True)} | "
                         f"{_cell(method['train_seconds'], 0)} | {_cell(method['train_step_seconds'] * 1000)} | "
                         f"{_cell(method['peak_memory_mb'], 0)} | {value:.4f}{start} |")
        lines += ["", f"`{result['command']}`, on {_machine(result)}."]
    return lines


def _explanation_tables(results):
    """One table per task: each method's deletion and insertion AOPC (random's beside them), its seconds per
    explanation, and how far the methods agree on the ranking."""
    lines = []
    for task in sorted({row["task"] for row in results.values()}):
        lines += [
            "", "| benchmark | model | test inputs | deletion AOPC, IG / LIME / SHAP / random | insertion AOPC, IG / "
            "LIME / SHAP / random | seconds per explanation, IG / LIME / SHAP (slowest) | rank agreement, IG-LIME /"
            " IG-SHAP / LIME-SHAP | machine |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for name, row in sorted(results.items()):
            if row["task"] != task:
                continue
            methods = row["methods"]
            aopc = {kind: " / ".join(f"{methods[m][kind]:.3f}" for m in ("ig", "lime", "shap", "random"))
                    for kind in ("deletion_aopc", "insertion_aopc")}
            seconds = " / ".join(f"{methods[m]['seconds']:.2f} ({methods[m]['max_seconds']:.1f})"
                                 for m in ("ig", "lime", "shap"))
            agreement = " / ".join(f"{row['rank_agreement'][pair]:.2f}" for pair in ("ig-lime", "ig-shap", "lime-shap"))
            model = f"{row['model']} ({_cell(row['model_test_accuracy'], 2, percent=True)})"
            lines.append(f"| `{row['command']}` | {model} | "
                         f"{row['examples']} | {aopc['deletion_aopc']} | {aopc['insertion_aopc']} | {seconds} | "
                         f"{agreement} | {_machine(row)} |")
    return lines


def _demo_table(results):
    """The demo page: its start-up, and the seconds from a button press to the answer on the page, per tab."""
    titles = {"imdb": "review (P + IG words)", "mnist": "digit (IG heat map)", "translate": "translation (+ map)",
              "gpt": "GPT, 200 tokens"}
    lines = ["| command | start-up until the page answers | " + " | ".join(
        f"{title}, median / slowest (answers)" for title in titles.values()) + " | machine |",
        "| --- | ---: | " + "---: | " * len(titles) + "--- |"]
    for name, row in sorted(results.items()):
        cells = []
        for task in titles:
            seconds = row["answer_seconds"].get(task)
            cells.append(f"{seconds['median']:.2f} s / {seconds['max']:.2f} s ({seconds['count']})" if seconds
                         else "no export")
        lines.append(f"| `{row['command']}` | {row['startup_seconds']:.1f} s | {' | '.join(cells)} | "
                     f"{_machine(row)} |")
        served = "; ".join(f"{task}: {row['exports'][task]}" for task in titles if task in row["exports"])
        lines += ["", f"`python -m bench demo`: seconds from the button press to the answer on the page, in headless "
                      f"Chromium, each answer checked against its export's own; start-up from the command to the "
                      f"page's first answer. Served: {served}."]
    return lines


def _fusion_table(results):
    """Digits seen and heard: each sense alone and each fusion under every test condition, then the two readings
    the benchmark is for."""
    from tasks.multimodal import CONDITIONS

    lines = ["| command | " + " | ".join(CONDITIONS) + " | machine |",
             "| --- | " + "---: | " * len(CONDITIONS) + "--- |"]
    for name, row in sorted(results.items()):
        cells = [_seeds_cell(row, condition) for condition in CONDITIONS]
        lines.append(f"| `{row['command']}` | {' | '.join(cells)} | {_machine(row)} |")
    by_fusion = {row["model"]: row["conditions"] for row in results.values()}
    degradations = next(iter(results.values()))["degradations"]
    seeds = max(len(row.get("conditions_by_seed", ())) for row in results.values())
    over = f" (the mean over seeds 0 to {seeds - 1} ± their standard deviation)" if seeds > 1 else ""
    lines += ["", f"`python -m bench multimodal`: accuracy on the 1,000 test pairs{over}. Degraded: each image "
                  "keeps "
                  f"{degradations['principal_components']} principal components ({degradations['kept_variance']:.0%} "
                  f"of the variance), each recording has white noise at {degradations['snr_db']:g} dB SNR; a missing "
                  "sense is a blank image or no audio."]
    fusions = [fusion for fusion in ("early", "late", "gated") if fusion in by_fusion]
    if fusions and {"image", "audio"} <= set(by_fusion):
        best = max(fusions, key=lambda fusion: by_fusion[fusion]["degraded"])
        single = max(("image", "audio"), key=lambda sense: by_fusion[sense]["degraded"])
        gap = 100 * (by_fusion[best]["degraded"] - by_fusion[single]["degraded"])
        missing = "; ".join(f"{fusion} {', '.join(_missing_gaps(by_fusion, fusion))}" for fusion in fusions)
        lines.append(f"On degraded inputs the best fusion ({best}) is {gap:+.1f} points from the best single "
                     f"sense ({single}). With one sense missing, each fusion against that sense's own model: "
                     f"{missing}.")
    return lines


def _seeds_cell(row, condition):
    """A condition's accuracy: the mean over seeds ± their standard deviation, where there are several."""
    if condition not in row["conditions"]:
        return "–"
    seeds = [run[condition] for run in row.get("conditions_by_seed", ())]
    spread = f" ± {100 * statistics.stdev(seeds):.1f}" if len(seeds) > 1 else ""
    return f"{_cell(row['conditions'][condition], percent=True)}{spread}"


def _missing_gaps(by_fusion, fusion):
    """The points a fusion is from a one-sense model, given only that sense (clean, then degraded)."""
    alone = {"image alone": ("image", "clean"), "degraded image alone": ("image", "degraded"),
             "audio alone": ("audio", "clean"), "noisy audio alone": ("audio", "degraded")}
    return [f"{condition} {100 * (by_fusion[fusion][condition] - by_fusion[sense][reference]):+.1f}"
            for condition, (sense, reference) in alone.items()]


PIPELINE_STAGES = ("sft", "reward", "classifier", "judge", "ppo", "dpo")  # in `python -m tasks.rlhf`'s order


def _preference_table(results):
    """Preference tuning: each method's point of the reward–KL frontier, then what the stages reached."""
    lines = []
    for name, row in sorted(results.items()):
        lines += ["| method | judge P(positive) | reward | KL (nats) | machine |", "| --- | ---: | ---: | ---: | --- |"]
        for point in row["frontier"]:
            settings = ", ".join(f"{key} {value}" for key, value in point.items()
                                 if key not in ("method", "judge", "reward", "kl"))
            method = point["method"] + (f" ({settings})" if settings else "")
            lines.append(f"| {method} | {point['judge']:.4f} | {point['reward']:+.3f} | {point['kl']:.2f} | "
                         f"{_machine(row)} |")
        agreement, last = row["reward_agreement"], row["ppo_last_iteration"]
        stages = ", ".join(f"{stage} {row['stage_seconds'][stage] / 60:.1f}" for stage in PIPELINE_STAGES
                           if stage in row["stage_seconds"])
        lines += ["", f"`python -m bench rlhf` (`{row['command']}`, {row['wall_seconds'] / 60:.0f} minutes: {stages}): "
                      f"{row['prompts']} test reviews' openings, each continued by {row['new_tokens']} subwords; the "
                      f"reward PPO and DPO tune against is the log-odds of IMDB's nb-bow classifier "
                      f"({_cell(row['classifier_accuracy'], 2, percent=True)} test accuracy), the judge IMDB's "
                      f"Transformer trained without a teacher ({_cell(row['judge_accuracy'], 2, percent=True)}), "
                      f"which no stage trained against. SFT model: validation loss {row['sft_loss']:.4f} "
                      f"(perplexity {row['sft_perplexity']:.1f}); reward model: pairwise accuracy "
                      f"{agreement['pairwise_accuracy']:.4f} on {agreement['pairs']:,.0f} pairs of test reviews, "
                      f"{agreement['pairwise_accuracy_clear']:.4f} on those rated 4+ points apart; PPO's last "
                      f"iteration: reward {last['score']:+.3f} at KL {last['kl']:.2f} on its own rollouts."]
    return lines


def table(results):
    """The Markdown results tables: classifiers (test accuracy), language models (validation loss),
    translators (BLEU, ROUGE), training steps with and without XLA, one worker against two, keras-hub's
    Transformer blocks against the written-out ones, the faithfulness of explanations per task, the demo page's
    speed, the senses and fusions of digits seen and heard, preference tuning's reward–KL frontier, then one table
    of compressed variants per task."""
    classifiers = {name: row for name, row in results.items() if "test_accuracy" in row}
    language_models = {name: row for name, row in results.items() if "validation_loss" in row}
    translators = {name: row for name, row in results.items() if "bleu" in row}
    xla_comparisons = {name: row for name, row in results.items() if "xla_speedup" in row}
    scalings = {name: row for name, row in results.items() if "scaling" in row}
    block_comparisons = {name: row for name, row in results.items() if "blocks_step_ratio" in row}
    compressions = {name: row for name, row in results.items() if "variants" in row}
    fine_tunings = {name: row for name, row in results.items() if "lora" in row}
    explanations = {name: row for name, row in results.items() if "rank_agreement" in row}
    demos = {name: row for name, row in results.items() if "answer_seconds" in row}
    fusions = {name: row for name, row in results.items() if "conditions" in row}
    preferences = {name: row for name, row in results.items() if "frontier" in row}
    lines = _classifier_table(classifiers)
    if language_models:
        lines += ["", *_language_model_table(language_models)]
    if translators:
        lines += ["", *_translation_table(translators)]
    if xla_comparisons:
        lines += ["", *_xla_table(xla_comparisons)]
    if scalings:
        lines += ["", *_scaling_table(scalings)]
    if block_comparisons:
        lines += ["", *_blocks_table(block_comparisons)]
    if explanations:
        lines += _explanation_tables(explanations)
    if demos:
        lines += ["", *_demo_table(demos)]
    if fusions:
        lines += ["", *_fusion_table(fusions)]
    if preferences:
        lines += ["", *_preference_table(preferences)]
    return "\n".join(lines + _compression_tables(compressions) + _lora_tables(fine_tunings))


def update_readme(results, readme=README):
    """Rewrites the table between the README's markers; returns whether the README changed."""
    text = Path(readme).read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    updated = f"{before}{START}\n{table(results)}\n{END}{after}"
    if updated != text:
        files.write_text(readme, updated)
    return updated != text
