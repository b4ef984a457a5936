import argparse
import errno
import os
import shlex
import signal
import subprocess
import sys

import pytest

from keras_apps import cli
from keras_apps.errors import UserError
from tests.conftest import REPOSITORY, run_python


@pytest.mark.parametrize("parse, text", [(cli.positive_int, "0"), (cli.positive_int, "-3"), (cli.positive_int, "x"),
                                         (cli.positive_float, "0"), (cli.fraction, "1"), (cli.non_negative_int, "-1")])
def test_argument_types_reject_bad_values(parse, text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)


def test_argument_types_accept_good_values():
    assert cli.positive_int("3") == 3
    assert cli.positive_float("1e-3") == 1e-3
    assert cli.fraction("0.25") == 0.25
    assert cli.non_negative_int("0") == 0


def test_run_turns_user_errors_into_one_line_and_exit_2(capsys):
    def main(argv):
        raise UserError("the file is missing")

    assert cli.run(main, []) == 2
    assert capsys.readouterr().err == "error: the file is missing\n"


def test_ctrl_c_names_the_run_folder_to_resume_only_when_the_command_was_training(tmp_path, capsys):
    import tensorflow as tf

    from keras_apps.training.runner import open_run_directory

    def training(argv):
        open_run_directory("tiny", tmp_path / "run", tf.distribute.get_strategy())
        raise KeyboardInterrupt

    def evaluating(argv):
        raise KeyboardInterrupt

    assert cli.run(training, []) == 130
    assert capsys.readouterr().err == f"interrupted; rerun with --run-dir {tmp_path / 'run'} to resume it\n"
    assert cli.run(evaluating, []) == 130 and capsys.readouterr().err == "interrupted\n"  # a command of its own


def test_the_run_folder_to_resume_is_named_as_the_shell_reads_it(tmp_path, capsys):
    """`--run-dir 'my runs/gpt 1'` was named unquoted: pasted back, the shell split it into three arguments."""
    import tensorflow as tf

    from keras_apps.training.runner import open_run_directory

    def training(argv):
        open_run_directory("tiny", tmp_path / "my runs" / "gpt 1", tf.distribute.get_strategy())
        raise KeyboardInterrupt

    assert cli.run(training, []) == 130
    assert capsys.readouterr().err == f"interrupted; rerun with --run-dir '{tmp_path}/my runs/gpt 1' to resume it\n"


def test_a_training_its_reader_left_names_the_run_folder_to_resume(tmp_path, capsys):
    """`python -m tasks.mnist | head -4` stopped mid-run without a word: a Ctrl-C's stop says how to go on."""
    import tensorflow as tf

    from keras_apps.training.runner import open_run_directory

    def training(argv):
        open_run_directory("tiny", tmp_path / "run", tf.distribute.get_strategy())
        raise BrokenPipeError

    assert cli.run(training, []) == cli.BROKEN_PIPE
    assert capsys.readouterr().err == (f"stopped: its output's reader went away; rerun with --run-dir "
                                       f"{tmp_path}/run to resume it\n")


def _write_python(path):
    with open(path, "w") as file:
        file.write("x" * 100_000)


def _write_hdf5(path):  # Keras's weights files
    import h5py
    import numpy as np

    with h5py.File(path, "w") as file:
        file["kernel"] = np.zeros(100_000)


def _write_tensorflow(path):  # SavedModels, TensorBoard
    import tensorflow as tf

    tf.io.write_file(str(path), tf.constant("x" * 100_000))


@pytest.mark.parametrize("write", [_write_python, _write_hdf5, _write_tensorflow])
def test_a_full_disk_is_one_line_that_says_how_to_go_on(tmp_path, capsys, write):
    """Each writer's own error for a full disk (`/dev/full` refuses every write with ENOSPC), raised in a
    training command: one line naming the cause and the run folder to resume from, not a traceback."""
    import tensorflow as tf

    from keras_apps.training.runner import open_run_directory

    def training(argv):
        open_run_directory("tiny", tmp_path / "run", tf.distribute.get_strategy())
        write("/dev/full")

    assert cli.run(training, []) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: out of disk space (No space left on device)") and err.count("\n") == 1
    assert err.endswith(f": free some space, then rerun with --run-dir {tmp_path / 'run'} to resume it\n")


@pytest.mark.parametrize("code, reason, path, named", [
    (errno.EROFS, "Read-only file system", "exports/.export-1", "exports"),  # its making refused: the folder
    (errno.EACCES, "Permission denied", "exports/.export-1", "exports"),
    (errno.EPERM, "Operation not permitted", "run/history.csv", "run/history.csv"),  # a file made immutable
])
def test_a_write_the_system_stopped_allowing_is_one_line_naming_what_to_make_writable(tmp_path, capsys, code, reason,
                                                                                      path, named):
    """An export folder remounted read-only while the model trained: not a traceback, and how to resume."""
    import tensorflow as tf

    from keras_apps.training.runner import open_run_directory

    (tmp_path / "exports").mkdir()

    def training(argv):
        open_run_directory("tiny", tmp_path / "run", tf.distribute.get_strategy())
        (tmp_path / "run" / "history.csv").write_text("epoch\n")
        raise OSError(code, reason, str(tmp_path / path))

    assert cli.run(training, []) == 2
    assert capsys.readouterr().err == (f"error: the system refused a write to {tmp_path / named} ({reason}): make it "
                                       f"writable, then rerun with --run-dir {tmp_path / 'run'} to resume it\n")


def test_other_system_errors_are_not_taken_for_a_refused_write():
    def failing(argv):
        raise OSError(errno.EBADF, "Bad file descriptor")

    with pytest.raises(OSError, match="Bad file descriptor"):
        cli.run(failing, [])


def test_an_error_a_library_raised_for_a_ctrl_c_is_the_interrupt(capsys):
    def tracing(argv):  # as TensorFlow's tracing may turn the KeyboardInterrupt raised inside it into another error
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            raise TypeError("converted") from None

    def failing(argv):
        raise TypeError("a defect, no Ctrl-C")

    handler = signal.getsignal(signal.SIGINT)
    assert cli.run(tracing, []) == 130 and capsys.readouterr().err == "interrupted\n"
    with pytest.raises(TypeError, match="a defect"):
        cli.run(failing, [])
    assert signal.getsignal(signal.SIGINT) is handler  # given back when the command ends


def test_a_second_ctrl_c_ends_a_command_that_swallows_them():
    script = ("import os, signal, time\nfrom keras_apps import cli\n\n"
              "def swallowing(argv):  # as a destructor does: an exception raised in one is printed, then dropped\n"
              "    for _ in range(2):\n"
              "        try:\n            os.kill(os.getpid(), signal.SIGINT)\n"
              "        except KeyboardInterrupt:\n            pass\n"
              "    time.sleep(30)\n\n"
              "cli.exit_process(cli.run(swallowing, []))\n")
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20)
    assert (ended.returncode, ended.stderr) == (130, "interrupted\n")


def test_a_ctrl_c_a_destructor_swallowed_stops_the_command():
    script = ("import os, signal, time\nfrom keras_apps import cli\n\n"
              "class Graph:\n    def __del__(self):  # as TensorFlow's free their resources, Ctrl-C landing there\n"
              "        os.kill(os.getpid(), signal.SIGINT)\n\n"
              "def freeing(argv):\n    Graph()\n    time.sleep(5)\n    print('published')\n    return 0\n\n"
              "cli.exit_process(cli.run(freeing, []))\n")
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=20)
    assert (ended.returncode, ended.stdout, ended.stderr.splitlines()[-1]) == (130, "", "interrupted")


@pytest.mark.parametrize("parse, text", [(cli.seed, "-1"), (cli.seed, str(2**32)), (cli.int32_seed, str(2**31)),
                                         (cli.positive_float, "nan"), (cli.positive_float, "inf"),
                                         (cli.non_negative_float, "-inf")])
def test_seeds_out_of_range_and_non_finite_numbers_are_refused(parse, text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)


def test_seeds_take_their_whole_range():
    assert cli.seed("0") == 0 and cli.seed(str(2**32 - 1)) == 2**32 - 1
    assert cli.int32_seed(str(2**31 - 1)) == 2**31 - 1


def test_text_that_is_not_utf8_is_refused():
    # Python hands a command line's undecodable bytes (b"\xff\xfe") to the program as lone surrogates.
    invalid = b"bad \xff\xfe".decode("utf-8", "surrogateescape")
    with pytest.raises(argparse.ArgumentTypeError, match="not valid UTF-8"):
        cli.text(invalid)
    assert cli.text("café ☕") == "café ☕"


def test_a_file_of_texts_without_a_line_is_refused_by_name(tmp_path):
    """Not "give reviews as arguments or with --file" (it was given), nor quietly skipped beside other texts."""
    (tmp_path / "blank.txt").write_text("\n  \n")
    (tmp_path / "two.txt").write_text("Great.\n\nDull.\n")
    for texts in ([], ["Fine."]):
        with pytest.raises(UserError, match=r"blank.txt holds no lines of reviews$"):
            cli.given_texts(texts, [tmp_path / "two.txt", tmp_path / "blank.txt"], "reviews")
    assert cli.given_texts(["Fine."], [tmp_path / "two.txt"], "reviews") == ["Fine.", "Great.", "Dull."]
    with pytest.raises(UserError, match="^give reviews as arguments or with --file$"):
        cli.given_texts([], [], "reviews")


def test_a_file_s_blank_lines_are_kept_where_each_answer_must_stay_beside_its_line(tmp_path):
    (tmp_path / "sentences.txt").write_text("Hello.\n\nGood night.\n")
    assert cli.given_texts([], [tmp_path / "sentences.txt"], "sentences") == ["Hello.", "Good night."]
    kept = cli.given_texts(["Hi."], [tmp_path / "sentences.txt"], "sentences", keep_blank_lines=True)
    assert kept == ["Hi.", "Hello.", "", "Good night."]
    (tmp_path / "blank.txt").write_text("\n \n")
    with pytest.raises(UserError, match="blank.txt holds no lines of sentences$"):
        cli.given_texts([], [tmp_path / "blank.txt"], "sentences", keep_blank_lines=True)


def test_a_line_ends_where_an_editor_ends_it_not_at_a_form_feed_or_u2028(tmp_path):
    """pdftotext writes a form feed at each page break, cp1252's ellipsis is U+0085: split there, a file of two
    lines got three answers, each after the split beside the wrong line."""
    (tmp_path / "pages.txt").write_bytes("End of page one.\fNext page.\r\nA pause\x85 then\u2028more.\rLast".encode())
    lines = ["End of page one.\fNext page.", "A pause\x85 then\u2028more.", "Last"]
    assert cli.given_texts([], [tmp_path / "pages.txt"], "sentences", keep_blank_lines=True) == lines
    assert cli.given_texts([], [tmp_path / "pages.txt"], "reviews") == lines


def test_a_blank_text_argument_is_refused_not_answered():
    """An empty review was classified "negative 0.264": an answer about no text, read as one about something."""
    with pytest.raises(UserError, match=r"^argument 2 is blank: reviews to classify need some text$"):
        cli.given_texts(["Fine.", " \t"], [], "reviews to classify")
    with pytest.raises(UserError, match=r"^argument 1, 3 are blank"):
        cli.given_texts(["", "Fine.", "\n"], [], "reviews to classify")


def test_a_text_its_model_has_no_word_to_read_in_is_refused_too(tmp_path):
    """A review of only `<br />`, `&nbsp;`, zero-width or control characters was classified "positive 0.500": an
    answer about the nothing the model read, as if about something."""
    from keras_apps.data.imdb import has_words

    with pytest.raises(UserError, match=r"^argument 2, 3 are without words \(only markup, punctuation, control or "
                                        r"invisible characters\): reviews to classify need some text$"):
        cli.given_texts(["Fine.", "<br /><br />", "\u200b\x01\u200e"], [], "reviews to classify",
                        readable=has_words)
    (tmp_path / "reviews.txt").write_text("Great.\n&nbsp;\n!!!\nDull.\n")
    assert cli.given_texts([], [tmp_path / "reviews.txt"], "reviews", readable=has_words) == ["Great.", "Dull."]
    (tmp_path / "markup.txt").write_text("<br />\n\ufeff\n")
    with pytest.raises(UserError, match="markup.txt holds no lines of reviews$"):
        cli.given_texts([], [tmp_path / "markup.txt"], "reviews", readable=has_words)
    assert cli.given_texts(["<br />"], [], "sentences") == ["<br />"]  # a command that reads markup as text


def test_an_empty_path_is_refused_not_read_as_the_current_folder():
    with pytest.raises(argparse.ArgumentTypeError, match="expected a path, got an empty one"):
        cli.path("")
    assert cli.path("runs/imdb") == "runs/imdb"
    with pytest.raises(argparse.ArgumentTypeError, match="not valid UTF-8"):
        cli.path(b"bad \xff".decode("utf-8", "surrogateescape"))


DEMO = {
    "train": cli.Command(lambda args: args.epochs,
                         lambda parser: parser.add_argument("--epochs", type=cli.positive_int), "train", "Train."),
    "show": cli.Command(lambda args: f"shown {args.what}", lambda parser: parser.add_argument("what"), "show", "Show."),
}


def test_commands_are_declared_once_and_train_is_the_default():
    assert cli.main("demo", "A demo.", DEMO, ["--epochs", "3"]) == 3
    assert cli.main("demo", "A demo.", DEMO, ["train", "--epochs", "4"]) == 4
    assert cli.main("demo", "A demo.", DEMO, ["show", "it"]) == "shown it"


def test_a_bad_command_line_is_one_line_on_stderr_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main("demo", "A demo.", DEMO, ["--epochs", "0"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == (
        "error: argument --epochs: must be at least 1, got 0 (see python -m tasks.demo train --help)\n")


def test_a_flag_of_another_command_points_to_the_help_of_the_command_given(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main("demo", "A demo.", DEMO, ["show", "it", "--epochs", "3"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == (
        "error: unrecognized arguments: --epochs 3 (see python -m tasks.demo show --help)\n")


def test_a_command_ends_with_its_status_and_all_it_printed():
    ended = subprocess.run([sys.executable, "-c", "from keras_apps import cli; print('written', end=''); "
                            "print('noted', end='', file=__import__('sys').stderr); cli.exit_process(3)"],
                           capture_output=True, text=True)
    assert (ended.returncode, ended.stdout, ended.stderr) == (3, "written", "noted")


# A task's command line as the shell runs it (`cli.exit_process(cli.run(main))`): `say WHAT --lines N --done FILE`
# prints WHAT N times, then creates FILE, the step after the printing. It needs no TensorFlow, which is not loaded.
SAY = """import sys
from keras_apps import cli

cli.import_tensorflow = lambda: None


def say(args):
    for _ in range(args.lines):
        print(args.what)
    open(args.done, "w").close()
    return 0


def arguments(parser):
    parser.add_argument("what")
    parser.add_argument("--lines", type=int, default=1)
    parser.add_argument("--done")


cli.exit_process(cli.run(lambda argv: cli.main("demo", "A demo.", {"say": cli.Command(say, arguments, "", "")}, argv)))
"""


def _say(tmp_path, *argv, shell_redirection="", **options):
    """Runs `SAY` with `argv` (and `shell_redirection`, through the shell), its stdout and stderr piped."""
    script = tmp_path / "say.py"
    script.write_text(SAY)
    command = shlex.join([sys.executable, str(script), "say", *argv, "--done", str(tmp_path / "done")])
    return subprocess.Popen(f"exec {command} {shell_redirection}", shell=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **options)


def test_text_the_terminal_cannot_encode_is_printed_escaped_not_a_traceback(tmp_path):
    """On an ASCII stdout (`PYTHONIOENCODING=ascii`, a C locale), `predict "Un film très beau"` ended in
    UnicodeEncodeError, and so did a help holding an en dash."""
    ascii_only = {**os.environ, "PYTHONIOENCODING": "ascii"}
    said = _say(tmp_path, "Un film très beau", env=ascii_only)
    assert said.communicate() == ("Un film tr\\xe8s beau\n", "") and said.returncode == 0
    helped = run_python("-m", "tasks.translate", "train", "--help", env={"PYTHONIOENCODING": "ascii"})
    assert helped.returncode == 0 and "\\u2013" in helped.stdout, helped.stderr


def test_a_reader_that_goes_away_stops_the_command_quietly_with_the_status_of_sigpipe(tmp_path):
    """`predict --file many.txt | head -2` ended in a BrokenPipeError traceback. Stopped where its reader left,
    the command does nothing after (training does not go on to export), and ends with 141 as `yes | head` does."""
    said = _say(tmp_path, "a line of output", "--lines", "100000")
    assert said.stdout.readline() == "a line of output\n"
    said.stdout.close()
    assert (said.wait(timeout=60), said.stderr.read()) == (128 + signal.SIGPIPE, "")
    assert not (tmp_path / "done").exists()


def test_output_its_reader_no_longer_takes_at_the_end_is_a_broken_pipe_too(tmp_path):
    """The last lines, held in stdout's buffer, are written as the command ends: after its reader left."""
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    said = _say(tmp_path, "the only line", env=buffered)
    said.stdout.close()
    assert (said.wait(timeout=60), said.stderr.read()) == (128 + signal.SIGPIPE, "")
    assert (tmp_path / "done").exists()
    helped = subprocess.Popen([sys.executable, "-m", "tasks.translate", "--help"], cwd=REPOSITORY, env=buffered,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    helped.stdout.close()
    assert (helped.wait(timeout=60), helped.stderr.read()) == (128 + signal.SIGPIPE, "")


def test_a_broken_pipe_leaves_nothing_to_fail_when_the_interpreter_exits():
    """Run without `exit_process` (from Python), the interpreter flushes stdout as it exits: the output its reader
    left behind is dropped then, not reported as `Exception ignored … BrokenPipeError`."""
    script = ("from keras_apps import cli\n\ndef printing(argv):\n    while True:\n"
              "        print('a line', flush=True)\n\nraise SystemExit(cli.run(printing, []))\n")
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    printed = subprocess.Popen([sys.executable, "-c", script], env=buffered, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    printed.stdout.close()
    assert (printed.wait(timeout=60), printed.stderr.read()) == (128 + signal.SIGPIPE, "")


def test_a_command_with_stdout_closed_runs_to_its_end(tmp_path):
    """`>&-`: Python leaves sys.stdout None, and the command ended in AttributeError (training, on isatty)."""
    said = _say(tmp_path, "unseen", shell_redirection=">&-")
    assert (said.communicate()[1], said.returncode) == ("", 0)
    assert (tmp_path / "done").exists()


def test_a_command_ends_after_the_cleanups_its_libraries_registered(tmp_path):
    """AutoGraph's converted functions live in files of the temporary folder until an exit handler removes them."""
    script, temporary = tmp_path / "converts.py", tmp_path / "temporary"
    script.write_text("import tensorflow as tf\nfrom keras_apps import cli\n\n\n@tf.function\ndef double(x):\n"
                      "    return 2 * x if x > 0 else x\n\n\ndouble(tf.constant(1))\ncli.exit_process(0)\n")
    temporary.mkdir()
    ended = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                           env={**os.environ, "TMPDIR": str(temporary)})
    assert ended.returncode == 0, ended.stderr
    assert list(temporary.iterdir()) == []


def test_an_output_that_would_replace_an_input_an_export_or_lie_about_its_format_is_refused(tmp_path):
    """`explain seven.png --output seven.png` replaced the user's picture with its heat map; an output inside an
    export version replaced the SavedModel's own files; `--output map.jpg` held PNG bytes."""
    (tmp_path / "seven.png").write_bytes(b"a picture")
    version = tmp_path / "exports" / "1"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"")
    for output, reading, message in [
        (tmp_path / "seven.png", [tmp_path / "seven.png"], "is the file given to read; name another"),
        (version / "saved_model.png", [], "lies inside the export"),
        (tmp_path / "map.jpg", [], "the file written is PNG; name a .png file"),
        (tmp_path / "map", [], "the file written is PNG; name a .png file"),
    ]:
        with pytest.raises(UserError, match=message):
            cli.check_output(output, ".png", reading=reading)
    assert (tmp_path / "seven.png").read_bytes() == b"a picture"
    cli.check_output(tmp_path / "heat" / "seven.PNG", ".png", reading=[tmp_path / "seven.png"])


def _explaining(parser):
    parser.add_argument("image")
    cli.add_explanation_arguments(parser)


def _compressing(parser):
    from keras_apps import settings
    from keras_apps.compress.config import Distillation, Pruning

    cli.add_compression_arguments(parser, "demo", ("quantize", "prune", "distill"))
    settings.add_flags(parser.add_argument_group("pruning"), Pruning, default=None)
    settings.add_flags(parser.add_argument_group("distillation"), Distillation, default=None)


# A classifier's `explain` and `compress`, as the tasks declare them.
CLASSIFIER = {"explain": cli.Command(None, _explaining, "", ""), "compress": cli.Command(None, _compressing, "", "")}


@pytest.mark.parametrize("argv, refused", [
    (["explain", "d.npy", "--method", "shap", "--steps", "3"], "--steps applies to --method ig only"),
    (["explain", "d.npy", "--seed", "5"], "--seed applies to --method lime only"),
    (["explain", "d.npy", "--method", "shap", "--seed", "0"], "--seed applies to --method lime only"),
    (["explain", "d.npy", "--samples", "100"], "--samples applies to --method lime or shap only"),
    (["compress", "--techniques", "quantize", "--sparsity", "0.5"],
     "--sparsity applies to the prune technique only: add prune to --techniques"),
    (["compress", "--techniques", "quantize", "prune", "--sparsity", "0.5", "--student-epochs", "3"],
     "--student-epochs applies to the distill technique only: add distill to --techniques"),
])
def test_a_flag_the_chosen_method_or_techniques_do_not_read_is_refused_not_ignored(capsys, argv, refused):
    """`explain --method shap --steps 3` and `compress --techniques quantize --sparsity 0.5` ran, the flag given
    to change something quietly unused."""
    with pytest.raises(SystemExit) as exit:
        cli.parse_arguments("demo", "", CLASSIFIER, argv)
    assert exit.value.code == 2
    assert capsys.readouterr().err == f"error: {refused} (see python -m tasks.demo {argv[0]} --help)\n"


def test_a_list_flag_given_twice_is_refused_and_given_once_replaces_its_default(capsys):
    """argparse keeps a list flag's last list: `--techniques prune --techniques distill` only distilled."""
    with pytest.raises(SystemExit) as exit:
        cli.parse_arguments("demo", "", CLASSIFIER, ["compress", "--techniques", "prune", "--techniques", "distill"])
    assert exit.value.code == 2
    assert capsys.readouterr().err == ("error: --techniques is given twice; name all its values after one "
                                       "--techniques (see python -m tasks.demo compress --help)\n")
    with pytest.raises(SystemExit):
        cli.parse_arguments("demo", "", CLASSIFIER, ["compress", "--techniques", "prune", "prune"])
    assert capsys.readouterr().err.startswith("error: --techniques names prune more than once (see")
    assert cli.parse_arguments("demo", "", CLASSIFIER, ["compress", "--techniques", "distill"]).techniques == [
        "distill"]
    assert cli.parse_arguments("demo", "", CLASSIFIER, ["compress"]).techniques == ["quantize", "prune", "distill"]


def test_the_flags_a_method_or_technique_reads_are_taken_and_the_others_default():
    args = cli.parse_arguments("demo", "", CLASSIFIER, ["explain", "d.npy", "--method", "lime", "--seed", "5"])
    assert (args.steps, args.samples, args.seed) == (64, 1000, 5)
    args = cli.parse_arguments("demo", "", CLASSIFIER, ["explain", "d.npy", "--steps", "8"])
    assert (args.method, args.steps, args.samples, args.seed) == ("ig", 8, 1000, 0)
    args = cli.parse_arguments("demo", "", CLASSIFIER, ["compress", "--techniques", "prune", "--sparsity", "0.5"])
    assert (args.techniques, args.sparsity, args.seed) == (["prune"], 0.5, 0)
    assert cli.parse_arguments("demo", "", CLASSIFIER, ["compress", "--student-epochs", "3"]).student_epochs == 3


def test_a_command_that_fails_after_its_reader_left_ends_with_its_own_status_not_a_broken_pipe():
    """Only a command that succeeded is taken for one `| head` cut short: a failure keeps its status (2)."""
    script = "import sys\nfrom keras_apps import cli\n\nprint('a line')\nsys.stdin.readline()\ncli.exit_process(2)\n"
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    failed = subprocess.Popen([sys.executable, "-c", script], env=buffered, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    failed.stdout.close()
    failed.stdin.write("the reader has gone\n")
    failed.stdin.close()
    assert (failed.wait(timeout=60), failed.stderr.read()) == (2, "")
