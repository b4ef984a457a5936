"""Settings that are also command-line flags: a dataclass field declares its flag once.

A settings dataclass (the training's `TrainingConfig`, a model's config, a schedule) marks each field a user may
set with `setting(default, help=..., type=...)`. `add_flags` makes one flag per such field (`--field-name`,
unset by default), `overlay` lays the flags a user gave over a recipe's values, and `SettingError` names the
flag when a value is refused. So a recipe is typed, its flags are never listed by hand, and an error says
which flag to change.
"""

import argparse
import dataclasses
import math
import os

from keras_apps.errors import UserError


def _argument_type(convert, accept, requirement, most=None):
    """An argparse `type` that converts with `convert` and accepts values for which `accept` holds, up to `most`."""
    expected = "a whole number" if convert is int else "a number"

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {value}")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"must be at most {most:,}, got {text}")
        return value

    return parse


# Counts (steps, examples, sizes) stop at the largest an int32 tensor holds: beyond any run a machine can take,
# and a larger one would fail deep inside TensorFlow, after the run folder is made, instead of at the flag.
LARGEST_COUNT = 2**31 - 1


def count_up_to(most, least=1):
    """An argparse `type`: a whole number from `least` to `most`, for a count whose larger values are typos or
    would exhaust the machine (repeats no benchmark could finish, samples of a prompt that would fill memory)."""
    return _argument_type(int, lambda value: value >= least, f"at least {least}", most=most)


def count_within(flag, count, available, what):
    """`count`, the value of the count flag `flag`, once the data is known to hold that many (`available` of
    `what`, such as "images in MNIST's training split"); None, the flag left unset, stays None: all of them.

    A larger count is refused, in one line naming the flag, the count and how many there are, rather than cut
    to what there is: a run cut silently would report its figures as the count asked for, and a cut found at
    the end of a long run (the report's explanations) comes after the hours spent.
    """
    if count is not None and count > available:
        raise UserError(f"{flag} {count:,}: there are only {available:,} {what}")
    return count


positive_int = count_up_to(LARGEST_COUNT)
non_negative_int = _argument_type(int, lambda value: value >= 0, "0 or more", most=LARGEST_COUNT)
several = count_up_to(LARGEST_COUNT, least=2)
positive_float = _argument_type(float, lambda value: value > 0, "positive")
# A positive number an export's float32 input holds: neither infinite (above 3.4e38) nor 0 there, which a value
# below float32's smallest normal number (1.2e-38) is on a CPU, where TensorFlow flushes such values to zero.
positive_float32 = _argument_type(float, lambda value: 1.1754943508222875e-38 <= value <= 3.4028234663852886e38,
                                  "positive and within float32's normal range (1.2e-38 to 3.4e38)")
finite_float = _argument_type(float, lambda value: True, "a number")
non_negative_float = _argument_type(float, lambda value: value >= 0, "0 or more")
fraction = _argument_type(float, lambda value: 0 < value < 1, "strictly between 0 and 1")
probability = _argument_type(float, lambda value: 0 <= value < 1, "in [0, 1)")
# Random seeds: TensorFlow and NumPy take 0 to 2**32 - 1; a seed that travels as an int32 tensor (an export's
# `seed` input) 0 to 2**31 - 1.
seed = _argument_type(int, lambda value: 0 <= value < 2**32, f"in [0, {2**32 - 1}]")
int32_seed = _argument_type(int, lambda value: 0 <= value < 2**31, f"in [0, {2**31 - 1}]")
port = _argument_type(int, lambda value: 1 <= value <= 65535, "in [1, 65535]")


def _text_type(advice):
    """An argparse `type` for text: refuses what is not valid UTF-8 (Python hands such bytes over as surrogates),
    with `advice`."""
    def parse(value):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise argparse.ArgumentTypeError(f"is not valid UTF-8 text ({advice})") from None
        return value

    return parse


text = _text_type("use a UTF-8 terminal")
text_or_file = _text_type("use a UTF-8 terminal, or --file")  # for a command that reads its texts from --file too


def path(value):
    """An argparse `type` for a file or folder: refuses an empty one, which would be read as the current folder
    or as the flag's default, and a name that is not valid UTF-8; expands a leading `~`, which the shell leaves
    as it is after `=` (`--run-dir=~/runs`)."""
    if not value:
        raise argparse.ArgumentTypeError("expected a path, got an empty one")
    return os.path.expanduser(text(value))


def setting(default=dataclasses.MISSING, *, help, type=None, choices=None, flag=None, metavar=None):
    """A dataclass field that is also the flag `flag` (default `--<name-with-dashes>`).

    `type` converts and checks the flag's text (one of this module's types); a `bool` field becomes an
    on/off pair (`--x` / `--no-x`).
    """
    metadata = {"help": help, "type": type, "choices": choices, "flag": flag, "metavar": metavar}
    return dataclasses.field(default=default, metadata=metadata)


def flag_name(settings_class, name):
    """The command-line flag of the field `name` of `settings_class`."""
    field = settings_class.__dataclass_fields__[name]
    return field.metadata.get("flag") or "--" + name.replace("_", "-")


def _dest(settings_class, name):
    """Where argparse keeps a setting's flag: named after the flag, so that two settings classes in one parser
    (pruning's and distillation's `epochs`) do not collide."""
    return flag_name(settings_class, name).lstrip("-").replace("-", "_")


class SettingError(UserError, ValueError):
    """A settings value refused: the message names the flag that sets it."""

    def __init__(self, settings_class, name, problem):
        super().__init__(f"{flag_name(settings_class, name)} {problem}")


def flag_fields(settings_class, exclude=()):
    """The fields of `settings_class` that are flags, less `exclude`."""
    return [field for field in dataclasses.fields(settings_class)
            if "help" in field.metadata and field.name not in exclude]


def add_flags(parser, settings_class, *, exclude=(), default=None):
    """One flag per setting of `settings_class`, unset (None) unless given. Their help ends `(default: ...)`
    with `default[name]` (the text of what an unset flag takes, such as each recipe's value), or with the field's
    own default when `default` is None."""
    for field in flag_fields(settings_class, exclude):
        meta, flag = field.metadata, flag_name(settings_class, field.name)
        shown = field.default if default is None else default[field.name]
        options = {"dest": _dest(settings_class, field.name), "default": None,
                   "help": f"{meta['help']} (default: {shown})"}
        if field.type in (bool, "bool"):
            options["action"] = argparse.BooleanOptionalAction
        else:
            metavar = meta["metavar"] or (None if meta["choices"] else _dest(settings_class, field.name).upper())
            options.update(type=meta["type"], choices=meta["choices"], metavar=metavar)
        parser.add_argument(flag, **options)


def overlay(settings, args, exclude=()):
    """`settings` (a settings dataclass) with the value of every flag given in `args` laid over it."""
    values = {field.name: getattr(args, _dest(type(settings), field.name), None)
              for field in flag_fields(type(settings), exclude)}
    given = {name: value for name, value in values.items() if value is not None}
    return dataclasses.replace(settings, **given)


def given_flags(settings_class, args):
    """The flags of `settings_class` given on the command line in `args`."""
    return [flag_name(settings_class, field.name) for field in flag_fields(settings_class)
            if getattr(args, _dest(settings_class, field.name), None) is not None]
