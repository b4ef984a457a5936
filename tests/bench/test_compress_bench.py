import json

import pytest

from bench import __main__ as bench_main
from tests.conftest import run_cli, run_python


class Stopped(Exception):
    """Raised in place of a run, once what it was given is seen."""


def test_an_unknown_run_is_named_with_the_choices(capsys):
    status, _, err = run_cli(bench_main.main, ["compress", "--runs", "bert"], capsys)
    assert status == 2
    assert ("compress has no run named bert; choose from mnist, imdb, imdb-transformer, imdb-bert, gpt, translate, "
            "gpt-lora, bert-lora") in err


def test_an_export_of_another_model_than_the_runs_is_refused(tmp_path):
    version = tmp_path / "imdb" / "1"
    version.mkdir(parents=True)
    (version / "export.json").write_text(json.dumps({"task": "imdb", "model": "transformer", "version": 1}))
    (version / "model.keras").write_bytes(b"")
    completed = run_python("-m", "bench", "compress", "--runs", "imdb", "--exports", str(tmp_path),
                           "--results", str(tmp_path / "results.json"))
    assert completed.returncode == 2 and not (tmp_path / "results.json").exists()
    last_line = completed.stderr.strip().splitlines()[-1]  # TensorFlow's own start-up lines come before it
    assert last_line.startswith(f"error: {version} is an export of --model transformer, not nb-bow")
    assert "Traceback" not in completed.stderr


# What export.json records of the default GPT, `python -m tasks.gpt`.
DEFAULT_GPT = {"recipe": "default", "tokenizer": "char", "text": {"file": "tinyshakespeare.txt"}}


def test_an_export_of_what_a_run_trains_is_taken(tmp_path):
    from bench import compress

    for task, metadata in (("gpt", DEFAULT_GPT), ("translate", {"recipe": "default", "direction": "en-es"}),
                           ("mnist", {"model": "resnet"})):
        version = tmp_path / task / "1"
        version.mkdir(parents=True)
        (version / "export.json").write_text(json.dumps({"task": task, "version": 1, **metadata}))
        (version / "saved_model.pb").write_bytes(b"")
        (version / "model.keras").write_bytes(b"")
        assert compress.existing_export(tmp_path, task) == (version, metadata.get("recipe", metadata.get("model")))


@pytest.mark.parametrize("run, task, metadata, refusal", [
    ("mnist", "mnist", {"model": "convnet"}, "is an export of --model convnet, not resnet"),
    ("gpt", "gpt", {"recipe": "nanogpt-cpu"}, "is an export of --recipe nanogpt-cpu, not default"),
    ("gpt-lora", "gpt", {"recipe": "nanogpt-cpu"}, "is an export of --recipe nanogpt-cpu, not default"),
    ("gpt", "gpt", {**DEFAULT_GPT, "tokenizer": "byte"}, "is an export of --tokenizer byte, not char"),
    ("gpt", "gpt", {**DEFAULT_GPT, "text": {"file": "reviews.txt"}}, "--text-file reviews.txt, not tinyshakespeare"),
    ("gpt-lora", "gpt", {**DEFAULT_GPT, "init_from": {"init_from": "/exports/gpt/1"}},
     "is an export of --init-from /exports/gpt/1, not none"),
    ("translate", "translate", {"recipe": "default", "direction": "es-en"}, "--direction es-en, not en-es"),
    ("translate", "translate", {"recipe": "default", "direction": "en-es", "quantization": "int8"},
     "is a compressed copy .*; compress the export it copies"),
    ("gpt-lora", "gpt", {**DEFAULT_GPT, "quantization": "int4"}, "is a compressed copy .*; fine-tune the export"),
    ("bert-lora", "imdb", {"model": "bert"}, "bert-lora pre-trains the BERT it fine-tunes and takes no export"),
])
def test_an_export_of_another_model_than_a_run_that_names_none_trains_is_refused(tmp_path, monkeypatch, run, task,
                                                                                  metadata, refusal):
    """A run without --model (or --recipe) trains the task's default: `compress --exports` took any export of the
    task, and recorded a convnet's figures as the ResNet's, a 4-step nanogpt-cpu GPT (or one of bytes, of another
    text, fine-tuned) as gpt-lora's default GPT (and bert-lora ignored --exports, pre-training BERT for an hour)."""
    from bench import compress, lora
    from keras_apps.errors import UserError

    version = tmp_path / task / "1"
    version.mkdir(parents=True)
    (version / "export.json").write_text(json.dumps({"task": task, "version": 1, **metadata}))
    (version / "model.keras").write_bytes(b"")
    (version / "saved_model.pb").write_bytes(b"")
    monkeypatch.setattr(compress, "bench_task", lambda *args, **kwargs: pytest.fail("the run started"))
    monkeypatch.setattr(lora, "run", lambda *args, **kwargs: pytest.fail("the run started"))
    with pytest.raises(UserError, match=refusal):
        list(compress.run([run], 1, [], exports=tmp_path))


def test_every_export_the_runs_need_is_checked_before_the_first_run(tmp_path, monkeypatch):
    from bench import compress
    from keras_apps.errors import UserError

    version = tmp_path / "imdb" / "1"  # a whole export for the first run; none for translate, the second
    version.mkdir(parents=True)
    (version / "export.json").write_text(json.dumps({"task": "imdb", "model": "nb-bow", "version": 1}))
    (version / "model.keras").write_bytes(b"")
    (version / "saved_model.pb").write_bytes(b"")
    started = []
    monkeypatch.setattr(compress, "bench_task", lambda task, *args, **kwargs: started.append(task))
    with pytest.raises(UserError) as refused:
        list(compress.run(["imdb", "translate"], 1, [], exports=tmp_path))
    assert started == []
    message = str(refused.value)
    assert f"{tmp_path / 'translate'} does not exist" in message and "\n" not in message
    assert message.endswith(f"export one with `python -m tasks.translate --export-dir {tmp_path / 'translate'}`")


@pytest.mark.real_data
def test_a_shortened_benchmark_runs_and_records_nothing(real_imdb_dir, tmp_path):
    results_file = tmp_path / "results.json"
    completed = run_python("-m", "bench", "compress", "--runs", "imdb", "--train-examples", "1000",
                           "--epochs", "1", "--results", str(results_file),
                           env={"KERAS_APPS_DATA": str(real_imdb_dir)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    command = "python -m tasks.imdb --model nb-bow && python -m tasks.imdb compress"
    assert f"compress-imdb: {{'command': '{command}'," in completed.stdout
    assert "'variant': 'litert-int8'" in completed.stdout
    assert not results_file.exists()


def test_translation_is_given_its_training_slice_as_pairs(monkeypatch):
    """The task has no --train-examples: passed on unchanged, it failed after TensorFlow had loaded."""
    from bench import compress

    given = []

    def first_training(task, arguments, workdir, limits):
        given.append(limits)
        raise Stopped

    monkeypatch.setattr(compress, "run_task", first_training)
    with pytest.raises(Stopped):
        compress.bench_task("translate", [], ["--train-examples", "500", "--epochs", "1"])
    assert given == [["--train-pairs", "500", "--epochs", "1"]]


def test_the_runs_after_imdb_bert_keep_their_own_shortened_settings(monkeypatch):
    """BERT's pre-training flags replaced the limits of every run after it: translate then refused them."""
    from bench import compress

    given = {}

    def recorded(task, training, limits, exports):
        given[task] = limits
        return {}

    monkeypatch.setattr(compress, "bench_task", recorded)
    list(compress.run(["imdb-bert", "mnist"], 3, ["--epochs", "1"]))
    assert given["mnist"] == ["--epochs", "1"] and given["imdb"] != given["mnist"]
