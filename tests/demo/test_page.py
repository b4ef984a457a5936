"""The demo page's overview: what each tab serves, or why it serves nothing."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from keras_apps.demo.catalog import TABS, Served
from keras_apps.demo.page import overview, with_bounded_layers


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


def test_the_digit_picture_refuses_a_layer_index_beyond_a_few_layers():
    """Gradio's editor grew its list of layers to any index a request gave: 100,000,000 took 800 MB, kept."""
    import gradio as gr

    picture = with_bounded_layers(gr.ImageEditor())

    def blob(index):
        return SimpleNamespace(data={"type": "layer", "index": index, "id": "x1"}, files=[("blob", b"png")])

    for index in ("100000000", "-1"):
        with pytest.raises(ValueError, match=f"a drawing has at most 4 layers, not a layer {index}"):
            picture.accept_blobs(blob(index))
    assert "x1" not in picture.blob_storage
    picture.accept_blobs(blob("0"))
    assert picture.blob_storage["x1"].layers == [b"png"]
    assert picture.get_block_name() == "imageeditor" and "accept_blobs" in picture.get_config()["server_fns"]
