"""The one exception type a user sees as a one-line message instead of a traceback."""


class UserError(Exception):
    """A problem the user can fix: a missing file, a bad flag, an input of the wrong shape.

    Command-line entry points catch it and print `error: <message>` with a non-zero exit status, so the
    message must say what is wrong and, where it can, what to do about it.
    """
