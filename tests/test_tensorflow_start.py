import os
import subprocess
import sys

import pytest

from keras_apps.tensorflow_start import litert_notes_dropped, shown, shown_lines

NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
INFO = "I0000 00:00:1796538744.396592    5187 port.cc:153] oneDNN custom operations are on.\n"
WARNING = "W0000 00:00:1796538744.397377    5187 cudart_stub.cc:31] Could not find cuda drivers.\n"
ERROR = "E0000 00:00:1796538744.397377    5187 cuda_dnn.cc:8579] Unable to register cuDNN factory.\n"


@pytest.mark.parametrize("level, kept", [(0, [NOTICE, INFO, WARNING, ERROR]), (1, [NOTICE, WARNING, ERROR]),
                                         (2, [ERROR]), (3, [])])
def test_absl_lines_below_the_log_level_are_dropped(level, kept):
    assert [line for line in (NOTICE, INFO, WARNING, ERROR) if shown(line, level)] == kept


@pytest.mark.parametrize("line", ["Traceback (most recent call last):\n", "Illegal instruction\n",
                                  "UserWarning: something TensorFlow's Python says\n", "I0000 without a header\n"])
def test_any_other_line_is_kept_at_every_level(line):
    assert shown(line, 3)


def test_the_int64_notice_is_shown_only_at_the_info_level():
    notice = ("E0000 00:00:1.5  7 util.cc:131] oneDNN supports DT_INT64 only on platforms with AVX-512. Falling back "
              "to the default Eigen-based implementation if present.\n")
    assert shown_lines([notice, ERROR], 2) == [ERROR] and shown_lines([notice], 0) == [notice]
    assert shown_lines([notice, ERROR], 1) == [ERROR]  # warnings and errors: still a notice


def test_cuinit_failing_is_dropped_only_where_no_driver_was_found():
    no_driver = "I0000 00:00:1.5  7 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU ...\n"
    failed = "E0000 00:00:1.9  7 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: (303)\n"
    assert shown_lines([no_driver, failed, ERROR], 2) == [ERROR]
    assert shown_lines([failed, ERROR], 2) == [failed, ERROR]  # a driver that fails is worth its error


def test_loading_tensorflow_prints_nothing_at_the_commands_log_level_and_keeps_what_else_was_written():
    """In a fresh process (TensorFlow loads once): at the level the commands set, its load prints nothing and
    imports none of the modules it hides, which import afterwards; a line written to stderr by other code in the
    meantime would still come through."""
    script = ("import os, sys; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\n"
              "from keras_apps.tensorflow_start import import_tensorflow\n"
              "tf = import_tensorflow(); assert import_tensorflow() is tf\n"
              "cpu = tf.config.list_physical_devices('CPU')[0]  # devices are still free to set\n"
              "tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)\n"
              "tf.constant(1.0) + 1\n"
              "tf.transpose(tf.constant([[1, 2]], tf.int64))  # as keras-hub's packers do\n"
              "assert not {'sklearn', 'pandas', 'matplotlib.pyplot', 'rouge_score'} & set(sys.modules)\n"
              "import keras, keras_hub, tensorflow_text\n"
              "import sklearn, pandas, matplotlib.pyplot, rouge_score.rouge_scorer  # as usual, once loaded\n"
              "print('after', file=sys.stderr)\n")
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert finished.stderr == "after\n"


def test_a_failed_import_still_shows_what_was_written_and_raises():
    script = ("import builtins, os, sys\n"
              "from keras_apps import tensorflow_start\n"
              "real = builtins.__import__\n"
              "def broken(name, *args, **kwargs):\n"
              "    if name == 'tensorflow':\n"
              "        os.write(2, b'I0000 00:00:1.5  7 port.cc:1] hidden\\nnative crash note\\n')\n"
              "        raise ImportError('no tensorflow here')\n"
              "    return real(name, *args, **kwargs)\n"
              "builtins.__import__ = broken\n"
              "os.environ['TF_CPP_MIN_LOG_LEVEL'] = '2'\n"
              "tensorflow_start.import_tensorflow()\n")
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert finished.returncode == 1
    assert finished.stderr.startswith("native crash note\n")
    assert "ImportError: no tensorflow here" in finished.stderr and "hidden" not in finished.stderr


LITERT_NOTES = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\nfully_quantize: 0, inference_type: 6\n"
OTHER = "RuntimeError: the converter failed (its INFO: lines above)\n"


@pytest.mark.parametrize("level, kept", [(None, LITERT_NOTES + OTHER), ("0", LITERT_NOTES + OTHER), ("2", OTHER),
                                         ("not a level", LITERT_NOTES + OTHER)])
def test_litert_notes_are_dropped_above_the_info_level_and_nothing_else_is(monkeypatch, capfd, level, kept):
    if level is None:
        monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    else:
        monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", level)
    with litert_notes_dropped():
        os.write(2, (LITERT_NOTES + OTHER).encode())
    assert capfd.readouterr().err == kept
