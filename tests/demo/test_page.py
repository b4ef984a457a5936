"""The demo page's overview: what each tab serves, or why it serves nothing."""

from pathlib import Path

from keras_apps.demo.catalog import TABS, Served
from keras_apps.demo.page import overview


def test_the_overview_shows_why_an_export_that_is_there_cannot_be_served():
    tabs = {tab.task: tab for tab in TABS}
    served = [Served(tabs["mnist"], Path("saved_models/mnist/2"), {"test": {"accuracy": 0.99}}),
              Served(tabs["imdb"], problem="saved_models/imdb/1 has no readable export.json: it is not an export\n"
                                           "of this | suite"),
              Served(tabs["translate"])]
    rows = overview(served, {"mnist": object()}).splitlines()
    assert "| Digits | `saved_models/mnist/2` | test accuracy 0.99 |" in rows
    assert ("| Reviews | saved_models/imdb/1 has no readable export.json: it is not an export of this \\| suite: "
            "`python -m tasks.imdb` makes one | |") in rows
    assert "| Translation | no export: `python -m tasks.translate` makes one | |" in rows
