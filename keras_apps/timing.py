"""Where a command's time goes: its phases, one after another, from its start to its last write.

    phases = Phases()                  # "start-up and imports" runs from the command's start until now
    phases.begin("data preparation")   # ends the open phase, opens the next
    with phases.during("pre-training"): ...   # a phase inside another, which resumes after it
    phases.breakdown()                 # {"total_seconds": ..., "phases": {"start-up and imports": ..., ...}}

The phases tile the command's time, so they add up to it: a speed-up is chosen by where the time went, not
guessed. A phase entered twice (evaluation before and after decoding) adds up. The breakdown lists the phases in
the order they were first entered.
"""

import os
import time
from contextlib import contextmanager
from pathlib import Path

STARTUP = "start-up and imports"
SAMPLING = "sampling and decoding"  # a model's sampling of text, in evaluation or training (PPO's rollouts)


def now():
    """The clock phases are measured on: monotonic (`time.perf_counter`'s on Linux), which a correction of the
    wall clock (NTP, a virtual machine's clock sync) never moves, so a phase is never shortened or stretched by
    one and the breakdown adds up to the time a benchmark measures from outside."""
    return time.monotonic()


def process_start_time():
    """When this process started, on `now()`'s clock: its age from /proc on Linux (the start in clock ticks,
    10 ms, on the boot-time clock; /proc/stat's boot time is wall-clock whole seconds, too coarse), elsewhere
    when this module was first imported (the interpreter's own start-up then goes uncounted)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rpartition(")")[2].split()[19])
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
        return now() - age
    except (OSError, ValueError, IndexError, AttributeError):  # AttributeError: no CLOCK_BOOTTIME off Linux
        return _IMPORTED


_IMPORTED = now()
_command_started = None


def start_command(from_the_shell):
    """Marks the start of a command: the process's start for one typed in a shell (`python -m tasks.X`),
    now for one called from Python (a test, a notebook), whose process was doing other things before."""
    global _command_started
    _command_started = process_start_time() if from_the_shell else now()


def command_start_time():
    """When the running command started (`start_command`; the process's start if nothing marked it)."""
    return process_start_time() if _command_started is None else _command_started


class Phases:
    """A command's phases and their seconds (see the module's docstring)."""

    def __init__(self, started=None):
        self.seconds = {}
        self._started = command_start_time() if started is None else started
        self._phase, self._since = STARTUP, self._started

    @property
    def current(self):
        return self._phase

    def begin(self, phase):
        """Ends the open phase and opens `phase`."""
        ended = now()
        self.seconds[self._phase] = self.seconds.get(self._phase, 0.0) + ended - self._since
        self._phase, self._since = phase, ended

    @contextmanager
    def during(self, phase):
        """`phase` for the time of a `with` block; the phase open before it resumes after."""
        resumed = self._phase
        self.begin(phase)
        try:
            yield
        finally:
            self.begin(resumed)

    def split(self, phase, parts):
        """Divides the seconds recorded under `phase` into `parts` (`{name: seconds}`, measured inside it);
        what the parts leave stays under `phase`. A new part is listed right after `phase`, as it started inside
        it; one already recorded keeps its place."""
        self.begin(self._phase)  # the open phase's time so far counts too
        if sum(parts.values()) > self.seconds.get(phase, 0.0) + 1e-6:
            raise ValueError(f"the parts of {phase!r} ({parts}) take longer than it did")
        new = {name: 0.0 for name in parts if name not in self.seconds}
        ordered = {}
        for name, seconds in self.seconds.items():
            ordered[name] = seconds
            if name == phase:
                ordered.update(new)
        for name, seconds in parts.items():
            ordered[phase] -= seconds
            ordered[name] += seconds
        self.seconds = ordered

    def breakdown(self):
        """`{"total_seconds", "phases": {phase: seconds}}` from the process's start to now (the open phase so far)."""
        self.begin(self._phase)
        phases = {phase: round(seconds, 2) for phase, seconds in self.seconds.items() if seconds >= 0.005}
        return {"total_seconds": round(self._since - self._started, 2), "phases": phases}
