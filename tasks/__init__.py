"""One command-line module per task: `python -m tasks.<task> --help`."""
