"""The run reports' tables put each figure in the row and column that name it."""

import numpy as np

from keras_apps.evaluate import run_report
from keras_apps.evaluate.report import Table
from keras_apps.explain.senses import SenseShares
from keras_apps.training.run_directory import RunDirectory


def test_the_training_table_names_the_parameters_and_the_epochs(tmp_path):
    metrics = {"params": 1234, "epochs": 2, "train_seconds": 3.0, "peak_memory_mb": 10.0, "strategy": "default",
               "replicas": 1}
    (table,) = run_report.training_section(RunDirectory(tmp_path), metrics, ("examples per second", "5"))[1]
    assert table.rows[:3] == [("parameters", "1,234"), ("epochs", "2"), ("training time (s)", "3.0")]


def test_each_sense_s_share_is_in_its_own_column():
    shares = SenseShares(answer=np.array([3, 5]), image_share=np.array([0.5, 0.3]), audio_share=np.array([0.1, 0.1]),
                         decided_by=np.array([1, 0]))
    degradations = {"principal_components": 20, "kept_variance": 0.25, "snr_db": 0}
    _, blocks = run_report.senses_section({"both senses": 0.9}, {"both senses": shares}, degradations, [3, 5])
    summary = next(block for block in blocks if isinstance(block, Table) and "image's share" in block.header)
    assert summary.header[1:3] == ["image's share", "audio's share"]
    assert summary.rows[0][:3] == ("both senses", "0.400", "0.100")


def test_the_translation_scores_are_each_in_their_own_row(monkeypatch):
    monkeypatch.setattr(run_report, "write_run_report", lambda run_directory, title, metrics, sections, speed: sections)
    metrics = {"test": {"bleu": 30.0, "rouge1_f1": 0.7, "rouge2_f1": 0.5, "masked_accuracy": 0.6},
               "extra": {"decoding": {"tokens": 8, "repeats": 3, "batches": []}, "test_sentences": 10, "beam_size": 4,
                         "bleu_signature": "nrefs:1", "test_translate_seconds": 2.0, "test_sentences_per_second": 5.0},
               "train_examples_per_second": 100.0}
    sections = run_report.write_translation_report(None, title="t", metrics=metrics, samples=[],
                                                   attention_map=("map.png", "map"), whole_split=True)
    scores = dict(sections[0][1][1].rows)
    assert (scores["ROUGE-1 F1"], scores["ROUGE-2 F1"]) == ("0.7000", "0.5000")


def test_a_named_mistake_shows_the_true_class_before_the_predicted_one():
    probabilities = np.array([[0.8, 0.1, 0.1], [0.05, 0.05, 0.9], [0.1, 0.1, 0.8]])
    (table,) = run_report.named_mistakes(["a.wav", "b.wav", "c.wav"], np.array([0, 1, 2]), probabilities,
                                         ["zero", "one", "two"])
    assert table.header[:3] == ["input", "true", "predicted"]
    assert table.rows == [("b.wav", "one", "two", "0.900")]
