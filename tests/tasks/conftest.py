"""What the task tests of preference tuning share: one tiny SFT model, made once per pytest run."""

from types import SimpleNamespace

import pytest

from tests.conftest import TINY_IMDB_SIZES, write_tiny_imdb


@pytest.fixture(scope="session")
def tiny_sft(tmp_path_factory, worker_id):
    """`python -m tasks.rlhf sft` for two steps on the tiny archive of reviews (`write_tiny_imdb`): the archive's
    folder (`data_dir`, its extraction cache in `cache`), the run folder (`run`) and the export (`export`). The
    RLHF stages after SFT and GPT-1's recipe start from it, and only read it.

    Made once per pytest run: the first test process that needs it makes it, under a lock, in the folder that
    pytest-xdist's processes share (this run's temporary base); another that needs it meanwhile waits, then reads
    it. A finished run's `metrics.json` says it was made whole."""
    import fcntl

    from keras_apps import cli
    from keras_apps.data import imdb
    from tasks import rlhf

    shared = tmp_path_factory.getbasetemp()
    shared = shared if worker_id == "master" else shared.parent  # without xdist, this process's own base
    root = shared / "tiny-sft"
    made = SimpleNamespace(data_dir=root, cache=root / "cache", run=root / "run", export=root / "export")
    with open(shared / "tiny-sft.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (made.run / "metrics.json").is_file():
            root.mkdir(exist_ok=True)
            write_tiny_imdb(root)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("KERAS_APPS_CACHE", str(made.cache))
                patch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
                status = cli.run(rlhf.main, ["sft", "--max-steps", "2", "--eval-interval", "1", "--sample-tokens",
                                             "12", "--data-dir", str(root), "--run-dir", str(made.run),
                                             "--export-dir", str(made.export)])
            assert status == 0, "the tiny SFT run failed (its output is above)"
    return made
