"""The demo benchmark's harness: its table shows what it measured, its flag belongs to it, and it refuses a folder
with no IMDB export before starting anything. (Its browser driver is the one tests/tasks/test_demo.py runs.)"""

import pytest

from bench import demo, results
from bench.__main__ import parse_arguments
from keras_apps.errors import UserError

ROW = {"command": "python -m tasks.demo", "startup_seconds": 14.55, "page_seconds": 1.8, "machine": "2 x CPU",
       "exports": {"imdb": "saved_models/imdb/1 (nb-bow; test accuracy 0.9168)"},
       "answer_seconds": {"imdb": {"count": 20, "median": 0.386, "max": 0.634},
                          "gpt": {"count": 2, "median": 0.315, "max": 0.321}}}


def test_the_table_shows_start_up_and_each_tab_s_answers():
    table = results.table({"demo": ROW})
    line = next(line for line in table.splitlines() if line.startswith("| `python -m tasks.demo`"))
    assert "| 14.6 s |" in line and "0.39 s / 0.63 s (20)" in line and "0.32 s / 0.32 s (2)" in line
    assert line.count("no export") == 2  # digits and translation were not served
    assert "Served: imdb: saved_models/imdb/1 (nb-bow; test accuracy 0.9168)." in table


def test_exports_is_the_demo_benchmark_s_flag():
    assert parse_arguments(["demo", "--exports", "elsewhere"]).exports == "elsewhere"
    with pytest.raises(SystemExit):
        parse_arguments(["imdb", "--exports", "elsewhere"])


def test_a_folder_without_an_imdb_export_is_refused_before_anything_starts(tmp_path):
    with pytest.raises(UserError, match="has no IMDB export to serve: run python -m tasks.imdb first"):
        list(demo.run(["demo"], 1, [], exports=tmp_path))
