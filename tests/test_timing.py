"""Where a command's time goes: phases that tile it from the command's start, and add up to it."""

import time

import pytest

from keras_apps import timing
from tests.conftest import run_python


def test_phases_tile_the_time_from_the_start_and_add_up():
    started = timing.now() - 0.3  # the command started 0.3 s ago: its start-up so far
    phases = timing.Phases(started)
    phases.begin("data preparation")
    time.sleep(0.05)
    with phases.during("pre-training"):
        time.sleep(0.1)
    time.sleep(0.05)  # data preparation resumes after the pre-training
    phases.begin("training")
    time.sleep(0.1)
    breakdown = phases.breakdown()
    seconds = breakdown["phases"]
    assert list(seconds) == [timing.STARTUP, "data preparation", "pre-training", "training"]
    assert seconds[timing.STARTUP] == pytest.approx(0.3, abs=0.02)
    assert seconds["data preparation"] == pytest.approx(0.1, abs=0.03)
    assert seconds["pre-training"] == pytest.approx(0.1, abs=0.03)
    assert sum(seconds.values()) == pytest.approx(breakdown["total_seconds"], abs=0.03)
    assert breakdown["total_seconds"] == pytest.approx(timing.now() - started, abs=0.03)


def test_a_phase_is_split_into_parts_measured_inside_it():
    phases = timing.Phases(timing.now())
    phases.begin("training")
    time.sleep(0.1)
    phases.begin("evaluation")
    phases.split("training", {"compilation": 0.06})
    seconds = phases.breakdown()["phases"]
    assert seconds["compilation"] == pytest.approx(0.06) and seconds["training"] == pytest.approx(0.04, abs=0.02)
    with pytest.raises(ValueError, match="take longer than it did"):
        phases.split("training", {"steps": 5.0})


def test_the_parts_of_a_split_phase_are_listed_in_its_place_in_the_order_the_phases_started():
    phases = timing.Phases(timing.now() - 0.1)
    phases.begin("validation and checkpoints")
    time.sleep(0.1)
    phases.begin("evaluation")
    time.sleep(0.01)
    phases.begin("export")
    time.sleep(0.01)
    phases.split("validation and checkpoints", {"compilation": 0.04, "steps": 0.04})
    assert list(phases.breakdown()["phases"]) == [timing.STARTUP, "validation and checkpoints", "compilation",
                                                   "steps", "evaluation", "export"]


def test_a_command_from_the_shell_starts_with_its_process_and_one_from_python_when_called():
    assert 0 <= timing.now() - timing.process_start_time() < 24 * 3600  # this process: started before now
    timing.start_command(from_the_shell=True)
    assert timing.command_start_time() == pytest.approx(timing.process_start_time())
    timing.start_command(from_the_shell=False)
    assert timing.now() - timing.command_start_time() < 0.1


def test_the_open_phase_is_split_with_its_time_so_far():
    phases = timing.Phases(timing.now())
    phases.begin("training")
    time.sleep(0.05)
    phases.split("training", {"steps": 0.04})
    assert phases.current == "training" and phases.breakdown()["phases"]["steps"] == pytest.approx(0.04)


def test_a_process_age_is_read_on_the_phases_clock():
    """A fresh process that sleeps before importing the module reports that sleep as part of its age, on the
    same monotonic clock the phases use (not the wall clock, which a clock sync can move)."""
    script = ("import time; time.sleep(0.5)\n"
              "from keras_apps import timing\n"
              "print(timing.now() - timing.process_start_time())")
    completed = run_python("-c", script)
    assert completed.returncode == 0, completed.stderr
    assert 0.5 <= float(completed.stdout) < 5
