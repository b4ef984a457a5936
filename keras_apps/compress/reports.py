"""What every `compress` command shares around its variants: the export's Keras model, loaded with the export's
checks, and the report, `compression.json` (one object per variant) and `compression.md`.

The report is written once, when every variant is measured: a report in a folder is a whole one, and a folder
that an interrupted or failed run left (variants, no report) takes the same command again.
"""

import json
from pathlib import Path

from keras_apps import files
from keras_apps.errors import UserError
from keras_apps.training.run_directory import OPENED_FOR_COMPRESSION

JSON, MARKDOWN = "compression.json", "compression.md"
# Written first into a compression's folder: the export it compresses. A folder without it holds no compression.
CLAIM = "compressing.json"


def load_export_model(export_path):
    """A fresh copy of the Keras model of the export version `export_path`, without its optimizer; a damaged
    `model.keras` is one line of error (`load_keras_model`), not Keras's "file not found"."""
    from keras_apps.export.saved_model import export_metadata, load_keras_model

    return load_keras_model(export_path, export_metadata(export_path).get("task"))[1]


def output_folder(task, run_dir, export_path):
    """The folder a compression of the export version `export_path` writes into: a new
    `runs/<task>-compress/<timestamp>/`, or `run_dir`, which must lie in no export version (its variants would join
    the SavedModel a server serves from there). Made only once the export's `model.keras` is found whole and the
    export is no compressed copy, so a damaged export leaves no empty folder behind. Whoever writes the report
    checks the folder holds none yet (`check_no_report`)."""
    from keras_apps.export.saved_model import check_outside_exports
    from keras_apps.training.run_directory import RunDirectory

    check_compressible(export_path)
    if run_dir is not None:
        check_outside_exports(run_dir, "--run-dir")
        _check_compresses(Path(run_dir), export_path)
    directory = RunDirectory.create(f"{task}-compress", run_dir).path
    if not (directory / CLAIM).exists():
        files.write_json(directory / CLAIM, {"export": str(Path(export_path).resolve())})
    OPENED_FOR_COMPRESSION.append(directory)  # an interrupted command names it (`cli.run`)
    return directory


def check_compressible(export_path):
    """Refuses, in one line, an export whose `model.keras` is not whole, or a compressed copy: its rows would be
    measured against a copy as if the original. Asked by `output_folder`, and first by a command that reads data
    before it (a refusal about the data would hide this one)."""
    from keras_apps.export.saved_model import check_not_a_copy, check_whole_archive

    check_whole_archive(Path(export_path) / "model.keras")
    check_not_a_copy(export_path, "compress")


def _check_compresses(directory, export_path):
    """Refuses a `--run-dir` that holds files but no compression (a project's folder, an export folder: its files
    named as the variants would be replaced), or an unfinished compression of another export (its variants and
    this run's would meet in one report)."""
    claim = directory / CLAIM
    if claim.exists():
        try:
            compressed = json.loads(claim.read_text()).get("export")
        except (OSError, ValueError, AttributeError):
            compressed = None
        if compressed != str(Path(export_path).resolve()):
            raise UserError(f"--run-dir {directory} holds a compression of {compressed}, not of {export_path}; "
                            f"choose another --run-dir")
    elif foreign := files.entries_besides(directory, (".lock",)):
        raise UserError(f"--run-dir {directory} holds files that are not a compression's ({foreign}); give a new or "
                        f"empty folder")


def check_no_report(directory):
    """Refuses a folder that holds a finished report, which the run would replace."""
    if (Path(directory) / JSON).exists():
        raise UserError(f"{directory} already holds a compression report; choose another --run-dir (a report is "
                        f"written only once every variant is measured: that one is whole)")


def write_report(directory, rows, table, export_path, notes=()):
    """`table` (the rows in Markdown), the export measured (its absolute version path) and `notes` (facts the table
    cannot show) as `compression.md`; then `rows`, each naming that export, as `compression.json`. The .json is
    written last as it marks a finished report (`check_no_report`): a run interrupted between the two leaves a
    folder the same command finishes."""
    export = str(Path(export_path).resolve())
    files.write_text(Path(directory) / MARKDOWN,
                     "\n\n".join([table.rstrip("\n"), f"Export measured: `{export}`", *notes]) + "\n")
    files.write_json(Path(directory) / JSON, [{**row, "export": export} for row in rows])
    OPENED_FOR_COMPRESSION.clear()  # finished: there is nothing to make again
