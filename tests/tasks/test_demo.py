"""`python -m tasks.demo`: its flags and one-line errors (in this process), and the page itself over exports the
digit and review tasks made on tiny data, started as a user starts it and driven in headless Chromium."""

import socket

import numpy as np
import pytest
from PIL import Image

from keras_apps.data import imdb, mnist
from keras_apps.demo.browser import DemoPage, DemoServer
from keras_apps.export.saved_model import image_probabilities, load_serving
from keras_apps.text_classification.exports import scores
from tasks import demo as task
from tasks import imdb as imdb_task
from tasks import mnist as mnist_task
from tests.conftest import TINY_IMDB_SIZES, run_cli, write_tiny_imdb
from tests.training.helpers import tiny_split


def run_task(argv, capsys):
    return run_cli(task.main, argv, capsys)


def test_help(capsys):
    status, out, _ = run_task(["--help"], capsys)
    assert status == 0 and "usage: python -m tasks.demo" in out and "--exports" in out and "--port" in out


@pytest.mark.parametrize("argv, message", [
    (["--port", "0"], "argument --port: must be in [1, 65535], got 0"),
    (["--port", "http"], "argument --port: expected a whole number"),
    (["--exports", "no/such/folder"], "--exports no/such/folder is not a folder"),
    (["--exports", ""], "expected a path, got an empty one"),  # not the current folder
])
def test_bad_arguments_are_one_line(argv, message, capsys):
    status, _, err = run_task(argv, capsys)
    assert status == 2 and message in err and err.count("\n") == 1


def test_one_task_s_folder_as_the_exports_is_refused_naming_the_folder_above(tmp_path, capsys):
    (tmp_path / "mnist" / "3").mkdir(parents=True)  # a version folder: --exports is read as <task>/<version>
    (tmp_path / "mnist" / "3" / "export.json").write_text("{}")
    for given in (tmp_path / "mnist", tmp_path / "mnist" / "3"):
        status, out, err = run_task(["--exports", str(given)], capsys)
        assert status == 2 and "holds one task's exports; give the folder holding each task's" in err, err
        assert f"(e.g. {tmp_path})" in err and err.count("\n") == 1 and "loaded" not in out


def test_a_port_in_use_is_one_line_before_anything_loads(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, out, err = run_task(["--exports", str(tmp_path), "--port", str(port)], capsys)
    assert status == 2 and f"cannot serve on 127.0.0.1:{port}" in err and "--port" in err
    assert err.count("\n") == 1 and "loaded" not in out


def test_a_port_a_demo_just_stopped_serving_on_is_free():
    """Its closed connections linger a minute (TIME-WAIT): a restart on the same port was refused as in use."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()
            accepted.close()  # the server closes first: its side of the connection waits in TIME-WAIT
    task._check_port_is_free("127.0.0.1", port)  # no error


@pytest.mark.parametrize("host, server_name, open_to_the_network", [
    ("127.0.0.1", "127.0.0.1", False),
    ("::1", "[::1]", False),  # the port's probe was an IPv4 socket: "Address family for hostname not supported"
    ("::", "[::]", True),
    ("0.0.0.0", "0.0.0.0", True),
])
def test_the_page_sends_no_exception_text_and_says_when_it_is_open_to_the_network(
        host, server_name, open_to_the_network, tmp_path, monkeypatch, capsys):
    """show_error sent the text of any exception a handler let through (server paths, objects' reprs) to the page;
    its handlers turn their errors into the page's own messages (`page.answering`). The page has no login."""
    launched = {}

    class Page:
        def launch(self, **settings):
            launched.update(settings)

    monkeypatch.setattr(task, "build", lambda exports, work_dir: Page())
    monkeypatch.setattr(task, "import_tensorflow", lambda: None)
    monkeypatch.setattr(task.signal, "signal", lambda *args: None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, out, _ = run_task(["--exports", str(tmp_path), "--host", host, "--port", str(port)], capsys)
    assert status == 0 and launched["show_error"] is False and launched["server_name"] == server_name
    assert f"http://{server_name}:{port}" in out
    note = f"note: --host {host} opens the page to the network: anyone who can reach port {port} can use it (it " \
        "has no login)"
    assert (note in out.splitlines()) == open_to_the_network


def test_an_optional_tab_whose_export_cannot_be_served_says_why_on_the_console(tmp_path, monkeypatch, capsys):
    import json

    from keras_apps.demo import answers, page

    foreign = tmp_path / "speech" / "1"  # another task's export where the speech tab looks
    foreign.mkdir(parents=True)
    (foreign / "saved_model.pb").write_bytes(b"")
    (foreign / "model.keras").write_bytes(b"")
    (foreign / "export.json").write_text(json.dumps({"task": "gpt", "version": 1}))
    monkeypatch.setattr(page, "build_page", lambda served, loaded: (served, loaded))
    served, loaded = task.build(tmp_path, str(tmp_path / "work"))
    assert loaded == {}
    lines = capsys.readouterr().out.splitlines()
    assert f"Spoken digits: {foreign} is an export of the 'gpt' task, not of 'speech'; python -m tasks.speech " \
        "makes one" in lines
    assert "Digits: no export; python -m tasks.mnist makes one" in lines
    assert len(lines) == 5  # one line per tab

    def answers_otherwise(path):  # an export whose record names the task but whose model is another's
        raise TypeError("Binding inputs to tf.function failed due to `missing a required argument: 'images'`\n...")

    monkeypatch.setattr(answers, "SpokenDigitAnswers", answers_otherwise)
    (foreign / "export.json").write_text(json.dumps({"task": "speech", "version": 1}))
    served, loaded = task.build(tmp_path, str(tmp_path / "work"))  # the page is built, the tab says why not
    assert loaded == {} and "it does not answer as a speech export does (TypeError: Binding inputs" in str(served)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """A digit export and a review export, each made by its task on tiny data; no translation or GPT export."""
    root = tmp_path_factory.mktemp("demo")
    train, test = tiny_split(640), tiny_split(96, seed=1)
    np.savez_compressed(root / "mnist.npz", x_train=train.images, y_train=train.labels.astype(np.uint8),
                        x_test=test.images, y_test=test.labels.astype(np.uint8))
    write_tiny_imdb(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mnist, "SIZES", {"train": 640, "test": 96})
        patch.setattr(imdb, "SIZES", TINY_IMDB_SIZES)
        patch.setenv("KERAS_APPS_CACHE", str(root / "cache"))
        common = ["--epochs", "2", "--batch-size", "32", "--data-dir", str(root)]
        assert mnist_task.main(["--model", "convnet", "--no-augment", *common, "--run-dir", str(root / "mnist-run"),
                                "--export-dir", str(root / "exports" / "mnist")]) == 0
        assert imdb_task.main(["--model", "nb-bow", *common, "--run-dir", str(root / "imdb-run"),
                               "--export-dir", str(root / "exports" / "imdb")]) == 0
    return root / "exports", test


def test_the_page_answers_as_the_exports_do_in_a_real_browser(exports, tmp_path):
    export_root, digits = exports
    review = "A wonderful film, the acting is superb. Review 3."
    Image.fromarray(digits.images[0]).save(tmp_path / "digit.png")
    expected_probability = float(scores(load_serving(export_root / "imdb")[1], [review])[0])
    expected_class = int(image_probabilities(load_serving(export_root / "mnist")[1], digits.images[:1])[0].argmax())

    with DemoServer(export_root) as server, DemoPage(server.url) as page:
        assert float(page.score_review(review)) == pytest.approx(expected_probability, abs=1e-6)
        assert page.classify_digit(tmp_path / "digit.png").startswith(f"{expected_class}, probability")
        for missing, command in (("translate", "python -m tasks.translate"), ("gpt", "python -m tasks.gpt")):
            assert f"Make one with {command}" in page.tab_text(missing)
        # A newer task's tab shows only with its export; the overview still names the command.
        assert page.page.locator("#speech-tab-button").count() == 0
        assert "python -m tasks.speech" in page.page.locator("#overview").inner_text()
        assert page.error_after(lambda: page.submit_review("   ")) == "type a review first"
        assert page.error_after(lambda: page.submit_review("long " * 5000)).startswith("a review is 24,999 characters")
        page.screenshot(tmp_path / "page.png")
    assert "Translation: no export; python -m tasks.translate makes one" in server.log
    assert "the demo failed to answer" not in server.log  # no answer failed unexpectedly
