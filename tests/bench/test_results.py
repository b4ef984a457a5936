import pytest

from bench import results
from tests.bench.conftest import FINGERPRINT

MACHINE = {"machine": "2 x CPU", "fingerprint": FINGERPRINT}
SHOWN = "2 x CPU (98 GFLOP/s matmul, 41 ms convolution)"  # how the tables show MACHINE

ROW = {
    "command": "python -m tasks.mnist", "model": "resnet", "params": 78426, "epochs": 15, "test_accuracy": 0.9951,
    "train_seconds": 400.2, "train_examples_per_second": 2000.4, "peak_memory_mb": 1500.0, **MACHINE,
}


def test_record_replaces_its_own_row_and_keeps_others(tmp_path):
    path = tmp_path / "results.json"
    results.record("a", ROW, path)
    results.record("b", {**ROW, "model": "convnet"}, path)
    results.record("a", {**ROW, "epochs": 3}, path)
    stored = results.load(path)
    assert stored["a"]["epochs"] == 3 and stored["b"]["model"] == "convnet"


def test_table_shows_measured_values():
    text = results.table({
        "mnist-resnet": ROW, "side": {**ROW, "throughput_ratio_vs_plain_keras": 1.07},
        "imdb": {**ROW, "command": "python -m tasks.imdb", "wall_seconds": 46.1},
    })
    assert f"| `python -m tasks.mnist` | resnet | 78,426 | 15 | 99.51 % | 400 | – | 2,000 | 1,500 | – | {SHOWN} |" \
        in text
    assert f"| `python -m tasks.imdb` | resnet | 78,426 | 15 | 99.51 % | 400 | 46 | 2,000 | 1,500 | – | {SHOWN} |" \
        in text
    assert "1.07x" in text


def test_language_models_get_their_own_table():
    text = results.table({"mnist-resnet": ROW, "gpt-default": {
        "command": "python -m tasks.gpt", "model": "default", "params": 3209216, "steps": 1750,
        "validation_loss": 1.5512, "train_seconds": 700.4, "wall_seconds": 760.2, "train_tokens_per_second": 9500.2,
        "mfu": 0.451, "sampling_tokens_per_second_cached": 700.4, "sampling_tokens_per_second_uncached": 90.1,
        "peak_memory_mb": 2000.0, **MACHINE}})
    classifiers, language_models = text.split("\n\n")
    assert "99.51 %" in classifiers and "tasks.gpt" not in classifiers
    assert ("| `python -m tasks.gpt` | default | 3,209,216 | 1,750 | 1.5512 | 700 | 760 | 9,500 | 45.10 % | "
            f"700 / 90 | 2,000 | – | {SHOWN} |") in language_models


def test_a_row_over_several_seeds_shows_their_mean_and_spread():
    text = results.table({"gpt-nanogpt-cpu": {
        "command": "python -m tasks.gpt --recipe nanogpt-cpu", "model": "nanogpt-cpu", "params": 809984,
        "steps": 2000, "validation_loss": 1.88691, "validation_loss_seeds": [1.8982, 1.8756],
        "validation_loss_stdev": 0.01603, "train_seconds": 86.2, "wall_seconds": 99.7,
        "train_tokens_per_second": 19000.0,
        "mfu": 0.29, "peak_memory_mb": 1500.0, "nanogpt_validation_loss": 1.89812, "nanogpt_wall_seconds": 140.4,
        "wall_ratio_vs_nanogpt": 0.71, **MACHINE}})
    assert "| 2,000 | 1.8869 ± 0.0160 (mean of 2 seeds) | 86 | 100 |" in text
    assert f"| 1.8981, 140, 0.71x | {SHOWN} |" in text  # nanoGPT measured beside it


def test_translators_get_their_own_table():
    text = results.table({"mnist-resnet": ROW, "translate-default": {
        "command": "python -m tasks.translate", "model": "default", "direction": "en-es", "beam_size": 4,
        "params": 7912105, "epochs": 9, "test_sentences": 10444, "bleu": 41.234, "rouge1_f1": 0.6712,
        "rouge2_f1": 0.4523, "masked_accuracy": 0.7123, "train_seconds": 1800.4, "wall_seconds": 2100.2,
        "decoding": {"64": {"cached_tokens_per_second": 9000.4, "uncached_tokens_per_second": 1100.2, "speedup": 8.18},
                     "1": {"cached_tokens_per_second": 700.4, "uncached_tokens_per_second": 420.1, "speedup": 1.67}},
        **MACHINE}})
    classifiers, translators = text.split("\n\n")
    assert "tasks.translate" not in classifiers
    assert ("| `python -m tasks.translate` | en-es | 4 | 7,912,105 | 9 | 10,444 | 41.2 | 0.671 | 0.452 | 71.23 % | "
            f"1,800 | 2,100 | batch 1: 700 / 420 (1.7x); batch 64: 9,000 / 1,100 (8.2x) | {SHOWN} |") in translators


def test_xla_comparisons_get_their_own_table():
    text = results.table({"mnist-resnet": ROW, "xla-gpt": {
        "command": "python -m tasks.gpt --max-steps 100 --eval-interval 50", "task": "gpt", "model": "default",
        "params": 3209216, "batch_size": 32, "step_seconds": 0.3712, "xla_step_seconds": 0.2501,
        "xla_compiled": True, "xla_speedup": 1.48, **MACHINE}, "xla-imdb": {
        "command": "python -m tasks.imdb --epochs 2", "task": "imdb", "model": "nb-bow", "params": 200001,
        "batch_size": 128, "step_seconds": 0.0061, "xla_step_seconds": None, "xla_compiled": False,
        "xla_speedup": None, **MACHINE}})
    classifiers, comparisons = text.split("\n\n")
    assert "tasks.gpt" not in classifiers
    assert ("| `python -m tasks.gpt --max-steps 100 --eval-interval 50` | default | 3,209,216 | 32 | 371.2 | 250.1 | "
            f"1.48x | {SHOWN} |") in comparisons
    assert ("| `python -m tasks.imdb --epochs 2` | nb-bow | 200,001 | 128 | 6.1 | not compiled | – | "
            f"{SHOWN} |") in comparisons


def test_senses_and_fusions_get_a_table_of_conditions_and_its_reading():
    def fused(model, *by_seed):
        means = {condition: sum(run[condition] for run in by_seed) / len(by_seed) for condition in by_seed[0]}
        return {**ROW, "command": f"python -m tasks.multimodal --fusion {model}", "model": model,
                "conditions": means, "conditions_by_seed": list(by_seed),
                "degradations": {"principal_components": 4, "kept_variance": 0.25, "snr_db": -5.0}}

    text = results.table({
        "multimodal-image": fused("image", {"clean": 0.9, "degraded": 0.6, "image alone": 0.9,
                                            "degraded image alone": 0.6}),
        "multimodal-audio": fused("audio", *({"clean": clean, "degraded": noisy, "audio alone": clean,
                                              "noisy audio alone": noisy} for clean, noisy in ((0.94, 0.79),
                                                                                              (0.96, 0.81)))),
        "multimodal-gated": fused("gated", {"clean": 0.99, "degraded": 0.9, "image alone": 0.89,
                                            "degraded image alone": 0.55, "audio alone": 0.96,
                                            "noisy audio alone": 0.79}),
    })
    assert ("| `python -m tasks.multimodal --fusion audio` | 95.00 % ± 1.4 | 80.00 % ± 1.4 | – | 95.00 % ± 1.4 | – "
            f"| 80.00 % ± 1.4 | {SHOWN} |") in text
    assert "accuracy on the 1,000 test pairs (the mean over seeds 0 to 1 ± their standard deviation)" in text
    assert "| `python -m tasks.multimodal --fusion image` | 90.00 % | 60.00 % | 90.00 % | – | 60.00 % | – |" in text
    assert "each image keeps 4 principal components (25% of the variance), each recording has white noise at -5 dB" \
        in text
    assert "the best fusion (gated) is +10.0 points from the best single sense (audio)" in text
    assert ("gated image alone -1.0, degraded image alone -5.0, audio alone +1.0, noisy audio alone -1.0."
            in text)


def test_each_compression_gets_a_table_of_its_variants():
    variant = {"variant": "litert-int8", "size_bytes": 43568, "gzip_bytes": 35175, "test_accuracy": 0.99461,
               "latency_ms_batch1": 0.0161, "examples_per_second_batch64": 81278.4}
    text = results.table({"mnist-resnet": ROW, "compress-mnist": {
        "command": "python -m tasks.mnist && python -m tasks.mnist compress", "title": "MNIST, resnet",
        "train_wall_seconds": 760.4, "compress_wall_seconds": 612.3, **MACHINE, "variants": [variant]}})
    assert "### MNIST, resnet" in text and "| litert-int8 | 43.6 | 35.2 | 0.9946 | 0.016 | 81,278 |" in text
    assert "`python -m tasks.mnist && python -m tasks.mnist compress`: training 760 s, compression 612 s" in text


def test_a_translator_s_compression_gets_its_scores_and_an_export_compressed_as_it_was_no_training_time():
    speeds = {"decoding_tokens_per_second_batch1": 500.0, "decoding_tokens_per_second_batch64": 9_000.0}
    variant = {"variant": "float32", "compute_dtype": "float32", "size_bytes": 4000, "gzip_bytes": 3600,
               "bleu": 40.5, "rouge1_f1": 0.7, "rouge2_f1": 0.5, **speeds}
    text = results.table({"mnist-resnet": ROW, "compress-translate": {
        "command": "python -m tasks.translate compress --export-dir <export>", "task": "translate",
        "title": "Translation en-es, default", "train_wall_seconds": None, "compress_wall_seconds": 1800.2,
        **MACHINE, "variants": [variant]}})
    assert "| float32 | float32 | 4.0 | 100% | 3.6 | 40.50 | +0.00 | 0.7000 | +0.0000 | 0.5000 |" in text
    assert (f"`python -m tasks.translate compress --export-dir <export>`: compression 1,800 s wall, "
            f"on {SHOWN}.") in text


def test_each_lora_comparison_gets_a_table_of_its_methods():
    full = {"method": "full", "trainable_params": 3_200_000, "params": 3_200_000, "train_seconds": 300.4,
            "train_step_seconds": 0.41, "wall_seconds": 330.0, "peak_memory_mb": 2100.0, "validation_loss": 1.5,
            "validation_loss_before": 2.25}
    adapters = {**full, "method": "LoRA rank 8", "trainable_params": 80_000, "train_step_seconds": 0.3012,
                "validation_loss": 1.6}
    text = results.table({"mnist-resnet": ROW, "gpt-lora": {
        "command": "python -m tasks.gpt --init-from x --lora-rank 8", "title": "GPT fine-tuned on reviews",
        "figure": "validation loss", **MACHINE, "lora": [full, adapters]}})
    assert "### GPT fine-tuned on reviews" in text
    assert "| full | 3,200,000 | 100.00 % | 300 | 410.0 | 2,100 | 1.5000 (the start: 2.2500) |" in text
    assert "| LoRA rank 8 | 80,000 | 2.50 % | 300 | 301.2 | 2,100 | 1.6000 (the start: 2.2500) |" in text
    assert f"`python -m tasks.gpt --init-from x --lora-rank 8`, on {SHOWN}." in text


def test_readme_table_is_rewritten_between_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{results.START}\nold table\n{results.END}\noutro\n")
    assert results.update_readme({"mnist-resnet": ROW}, readme)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old table" not in text
    assert "99.51 %" in text
    assert not results.update_readme({"mnist-resnet": ROW}, readme)  # unchanged the second time


def test_readme_without_markers_is_refused(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("no markers")
    with pytest.raises(ValueError):
        results.update_readme({}, readme)


def test_the_readme_tables_are_the_ones_the_results_file_gives():
    readme = results.README.read_text()
    shown = readme.split(results.START, 1)[1].split(results.END, 1)[0].strip()
    assert shown == results.table(results.load()).strip()


def test_a_recorded_row_carries_the_commit_and_date_it_was_measured_at(tmp_path):
    import datetime

    stored = results.record("a", ROW, tmp_path / "results.json")["a"]
    assert stored["measured"] == datetime.date.today().isoformat()
    assert len(stored["commit"].rstrip("+")) == 12 and stored["command"] == ROW["command"]


def test_a_recorded_row_carries_the_machine_s_fingerprint_and_the_table_its_speeds(tmp_path, fixed_fingerprint):
    row = {key: value for key, value in ROW.items() if key != "fingerprint"}
    stored = results.record("a", row, tmp_path / "results.json")["a"]
    assert stored["fingerprint"] == fixed_fingerprint
    assert f"| {SHOWN} |" in results.table({"a": stored})
    assert "| 2 x CPU (speeds not recorded) |" in results.table({"a": row})  # measured before fingerprints


def test_bench_machine_prints_the_fingerprint(capsys, fixed_fingerprint):
    import json

    from bench import __main__ as bench_main

    assert bench_main.main(["machine"]) == 0
    assert json.loads(capsys.readouterr().out) == fixed_fingerprint
    with pytest.raises(SystemExit):
        bench_main.main(["machine", "--runs", "convnet"])


def test_a_results_file_other_than_the_default_leaves_the_readme_alone(tmp_path, monkeypatch):
    from bench import __main__ as bench_main

    def one_row(runs, repeats, limits):
        yield "mnist-convnet", ROW

    monkeypatch.setattr(bench_main.mnist, "run", one_row)
    monkeypatch.setattr(results, "update_readme", lambda recorded: pytest.fail("the README was rewritten"))
    assert bench_main.main(["mnist", "--runs", "convnet", "--results", str(tmp_path / "mine.json")]) == 0
    assert results.load(tmp_path / "mine.json")["mnist-convnet"]["model"] == "resnet"


@pytest.mark.parametrize("content, message", [
    (None, "is a folder; name a file to write"), ("{damaged", "cannot be read as JSON"),
    ("[1, 2]", "holds a JSON list"),
])
def test_a_results_file_that_cannot_take_a_row_is_refused_before_the_runs(tmp_path, monkeypatch, capsys, content,
                                                                           message):
    """Found only when the first row was recorded: after an hour of benchmarks, whose row was then lost."""
    from bench import __main__ as bench_main
    from tests.conftest import run_cli

    monkeypatch.setattr(bench_main.mnist, "run", lambda *args: pytest.fail("the benchmark ran"))
    path = tmp_path / "results.json"
    path.mkdir() if content is None else path.write_text(content)
    status, _, err = run_cli(bench_main.main, ["mnist", "--results", str(path)], capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_each_recorded_row_reaches_the_readme_before_a_later_run_fails(monkeypatch, capsys):
    """The README's tables were rewritten only once every run succeeded: a failure after the first left the
    results file holding a row the README did not show."""
    from bench import __main__ as bench_main
    from keras_apps.errors import UserError
    from tests.conftest import run_cli

    def convnet_then_a_failure(runs, repeats, limits):
        yield "mnist-convnet", ROW
        raise UserError("the resnet run failed")

    shown = []
    monkeypatch.setattr(bench_main.mnist, "run", convnet_then_a_failure)
    monkeypatch.setattr(results, "record", lambda name, row, path, readme: shown.append((name, readme)) or {})
    status, _, err = run_cli(bench_main.main, ["mnist", "--runs", "convnet", "resnet"], capsys)
    assert status == 2 and "the resnet run failed" in err and shown == [("mnist-convnet", True)]


def test_a_row_recorded_for_the_readme_rewrites_its_tables_from_the_whole_file(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(results, "update_readme", shown.append)
    path = tmp_path / "results.json"
    results.record("a", ROW, path)
    results.record("b", ROW, path, readme=True)
    assert [sorted(rows) for rows in shown] == [["a", "b"]]


@pytest.mark.parametrize("through_a_link", [False, True])
def test_a_row_recorded_while_another_benchmark_records_into_the_same_file_loses_neither(tmp_path, through_a_link):
    """Two benchmarks in two terminals: each read the file, measured, and wrote back its own reading with its
    row, so the row the other recorded in between was lost without a word (also where one names the file through
    a link, and locked the link's folder while writing its target's)."""
    import threading

    path = tmp_path / "results.json"
    if through_a_link:
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "link.json").symlink_to(path)
    given = tmp_path / "elsewhere" / "link.json" if through_a_link else path
    with results._locked(tmp_path):  # the other benchmark, recording
        recording = threading.Thread(target=results.record, args=("mine", ROW, given))
        recording.start()
        recording.join(timeout=0.5)
        assert recording.is_alive(), "the row was recorded while the other benchmark was writing the file"
        results.files.write_json(path, {"theirs": ROW})
    recording.join()
    assert sorted(results.load(path)) == ["mine", "theirs"]


@pytest.mark.parametrize("argv, drawn", [([], True), (["--no-readme"], False)])
def test_a_figure_the_readme_shows_is_drawn_only_where_its_table_is_written(tmp_path, monkeypatch, argv, drawn):
    """`bench rlhf --no-readme` redrew the README's frontier from a run its table did not show."""
    from bench import __main__ as bench_main

    asked = []

    def pipeline(runs, repeats, limits, figures):
        asked.append(figures)
        yield from ()

    monkeypatch.setattr(bench_main.rlhf, "run", pipeline)
    assert bench_main.main(["rlhf", *argv]) == 0 and asked == [drawn]


def test_a_recorded_row_carries_this_machine_s_fingerprint_not_one_it_came_with(tmp_path, fixed_fingerprint):
    """A row carried over from another machine (or an older measurement) must not keep its speeds."""
    stale = {**ROW, "fingerprint": {**fixed_fingerprint, "name": "another machine", "matmul_gflops": 1.0}}
    assert results.record("a", stale, tmp_path / "results.json")["a"]["fingerprint"] == fixed_fingerprint


@pytest.mark.parametrize("before, write", [
    ('{"a": {}}', lambda path: results.record("b", ROW, path)),
    (f"{results.START}\nold table\n{results.END}\n", lambda path: results.update_readme({"mnist-resnet": ROW}, path)),
])
def test_a_write_that_fails_half_way_leaves_the_file_as_it_was(tmp_path, monkeypatch, before, write):
    """The results file and the README are rewritten whole: a disk that fills half-way must not leave either cut."""
    from pathlib import Path

    path = tmp_path / "file"
    path.write_text(before)

    def half_then_full_disk(self, text, *args, **kwargs):
        with open(self, "w") as file:
            file.write(text[:len(text) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half_then_full_disk)
    with pytest.raises(OSError):
        write(path)
    monkeypatch.undo()
    assert path.read_text() == before


def test_the_commit_is_marked_only_where_the_code_differs_from_it(tmp_path, monkeypatch):
    """What the benchmarks write themselves (the results, the README, plots) is not a change of the code."""
    import subprocess

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    (tmp_path / "bench").mkdir()
    for name in ("bench/results.py", "bench/results.json", "README.md", "bench/plot.png"):
        (tmp_path / name).write_text("first\n")
    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    monkeypatch.setattr(results, "__file__", str(tmp_path / "bench" / "results.py"))
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=tmp_path, capture_output=True,
                            text=True).stdout.strip()
    for name in ("bench/results.json", "README.md", "bench/plot.png"):
        (tmp_path / name).write_text("rewritten by a benchmark\n")
    assert results.provenance()["commit"] == commit
    (tmp_path / "bench" / "results.py").write_text("changed\n")
    assert results.provenance()["commit"] == commit + "+"


def test_the_best_fusion_is_the_one_with_the_highest_degraded_accuracy():
    def fused(model, clean, degraded):
        conditions = {"clean": clean, "degraded": degraded, "image alone": clean, "degraded image alone": degraded,
                      "audio alone": clean, "noisy audio alone": degraded}
        return {**ROW, "command": f"python -m tasks.multimodal --fusion {model}", "model": model,
                "conditions": conditions,
                "degradations": {"principal_components": 4, "kept_variance": 0.25, "snr_db": -5.0}}

    text = results.table({f"multimodal-{model}": fused(model, clean, degraded) for model, clean, degraded in (
        ("image", 0.9, 0.6), ("audio", 0.95, 0.7), ("early", 0.99, 0.75), ("late", 0.99, 0.85))})
    assert "the best fusion (late) is +15.0 points from the best single sense (audio)" in text


def test_decoding_speeds_are_shown_in_order_of_batch_size():
    speed = {"cached_tokens_per_second": 100.0, "uncached_tokens_per_second": 50.0, "speedup": 2.0}
    text = results.table({"translate-default": {
        "command": "python -m tasks.translate", "model": "default", "direction": "en-es", "beam_size": 4,
        "params": 1, "epochs": 1, "test_sentences": 1, "bleu": 1.0, "rouge1_f1": 0.1, "rouge2_f1": 0.1,
        "masked_accuracy": 0.1, "train_seconds": 1.0, "wall_seconds": 1.0,
        "decoding": {"64": speed, "8": speed, "1": speed}, **MACHINE}})
    assert text.index("batch 1:") < text.index("batch 8:") < text.index("batch 64:")
