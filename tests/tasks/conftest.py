"""What the task tests of preference tuning share: one tiny SFT model, made once per test process."""

from types import SimpleNamespace

import pytest

from tests.conftest import TINY_IMDB_SIZES, write_tiny_imdb


@pytest.fixture(scope="session")
def tiny_sft(tmp_path_factory):
    """`python -m tasks.rlhf sft` for two steps on the tiny archive of reviews (`write_tiny_imdb`): the archive's
    folder (`data_dir`, its extraction cache in `cache`), the run folder (`run`) and the export (`export`). The
    RLHF stages after SFT and GPT-1's recipe start from it."""
    from keras_apps import cli
    from keras_apps.data import imdb
    from tasks import rlhf

    root = tmp_path_factory.mktemp("tiny-sft")
    write_tiny_imdb(root)
    made = SimpleNamespace(data_dir=root, cache=root / "cache", run=root / "run", export=root / "export")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_APPS_CACHE", str(made.cache))
        patch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
        status = cli.run(rlhf.main, ["sft", "--max-steps", "2", "--eval-interval", "1", "--sample-tokens", "12",
                                     "--data-dir", str(root), "--run-dir", str(made.run),
                                     "--export-dir", str(made.export)])
    assert status == 0, "the tiny SFT run failed (its output is above)"
    return made
