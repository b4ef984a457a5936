import numpy as np
import pytest
from PIL import Image as PILImage

from keras_apps.evaluate.classification import evaluate_classifier
from keras_apps.evaluate.plots import plot_confusion_matrix, plot_image_grid, plot_reliability
from keras_apps.evaluate.report import Code, Image, Table, Text, write_report
from tests.evaluate.html_check import check_page


def test_the_same_report_in_markdown_and_self_contained_html(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 200)
    probabilities = rng.dirichlet(np.ones(3), 200)
    evaluation = evaluate_classifier(labels, probabilities, ["a", "b", "c"])
    confusion = plot_confusion_matrix(evaluation["confusion_matrix"], evaluation["class_names"], tmp_path / "cm.png")
    reliability = plot_reliability(evaluation["reliability"], evaluation["expected_calibration_error"],
                                   tmp_path / "rel.png")
    grid = plot_image_grid(rng.integers(0, 256, (5, 28, 28)), [f"#{i}" for i in range(5)], tmp_path / "grid.png")
    for path in (confusion, reliability, grid):
        assert PILImage.open(path).format == "PNG"

    sections = [("Evaluation", [Text("Accuracy <low> & honest."), Table(["class", "F1"], [("a|b", "0.5")]),
                                Image(confusion, "confusion"), Image(reliability, "reliability")]),
                ("Examples", [Image(grid, "mistakes"), Code("saved_model_cli show --dir x --all")])]
    page = write_report(tmp_path, "A <tiny> run", sections)

    text, images = check_page(page.read_text())
    assert "A <tiny> run" in text and "Accuracy <low> & honest." in text and len(images) == 3
    assert images[0].size[0] > 100
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.startswith("# A <tiny> run\n\n## Evaluation")
    assert "| a\\|b | 0.5 |" in markdown and "![confusion](cm.png)" in markdown
    assert "```\nsaved_model_cli show --dir x --all\n```" in markdown


def test_the_explained_inputs_are_a_fixed_draw_of_exactly_the_count_asked_for():
    from keras_apps.evaluate.run_report import _sample

    drawn = _sample(3, 10)
    assert len(set(drawn)) == 3 and drawn.tolist() == _sample(3, 10).tolist() and len(_sample(10, 10)) == 10
    with pytest.raises(ValueError):  # never fewer than asked: --explain-examples is checked before the run
        _sample(11, 10)


def test_a_review_s_explanations_give_its_probability_and_each_class_only_the_words_that_pushed_toward_it(
        monkeypatch):
    from keras_apps.evaluate import run_report
    from keras_apps.explain.perturbation import Explanation
    from keras_apps.text_classification import exports

    class Explainer:  # every method finds "dull", "boring" and "awful" toward positive, nothing toward negative
        def __init__(self, export, task):
            pass

        def explain(self, review, method):
            values = np.array([0.0, 0.3, 0.0, 0.2, 0.0, 0.1, 0.0])
            return exports.ReviewExplanation(review.split(), Explanation(values, method, 0.1, 10), 0.8123)

    monkeypatch.setattr(exports, "ReviewExplainer", Explainer)
    text, table = run_report.text_explanations("export", "imdb", ["A dull and boring film, awful acting."], 1)
    assert text.text == "Test review 0: positive, P(positive) 0.812."
    assert [row[1:] for row in table.rows] == [("dull boring awful", "none")] * 3


def test_what_a_user_wrote_stays_text_in_the_markdown(tmp_path):
    """A line of backticks in a GPT's sample closed its code block early; a review's line breaks split its table
    row, and its `<script>` ran as the page's HTML wherever the Markdown is rendered."""
    sample = "def f():\n````\n```\nreturn 1"
    review = "Great <script>alert(1)</script> film.\n\nReally | good."
    write_report(tmp_path, "A run", [("Samples", [Code(sample), Text("From <b>my</b> text."),
                                                  Table(["review"], [(review,)])])])
    markdown = (tmp_path / "report.md").read_text()
    assert f"`````\n{sample}\n`````" in markdown  # longer than any run of backticks in it
    assert "| Great &lt;script>alert(1)&lt;/script> film. Really \\| good. |" in markdown
    assert "From &lt;b>my&lt;/b> text." in markdown


def test_the_configuration_shows_each_setting_as_recorded(tmp_path):
    """A learning rate of 3e-05 read 0.0000, and a beta 2 of 0.99995, 1.0000."""
    from keras_apps.evaluate.run_report import configuration_section, export_section
    from keras_apps.training.run_directory import RunDirectory

    run = RunDirectory(tmp_path)
    run.write_config({"learning_rate": 3e-05, "adam_beta_2": 0.99995, "epochs": 12_000, "model": "gpt"})
    (table,) = configuration_section(run)[1]
    assert dict(table.rows) == {"learning_rate": "3e-05", "adam_beta_2": "0.99995", "epochs": "12,000",
                                "model": "gpt"}
    export = tmp_path / "my exports #1" / "1"  # the command shown is one a shell runs on that folder
    export.mkdir(parents=True)
    (export / "export.json").write_text("{}")
    assert export_section(str(export))[1][-1] == Code(f"saved_model_cli show --dir '{export}' --all")
