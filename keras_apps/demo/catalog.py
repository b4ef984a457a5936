"""Which export each tab of the demo serves: the latest version under `<exports>/<task>`, what it scored on its
test split, and, for a task without one, the command that makes it."""

import json
from dataclasses import dataclass
from pathlib import Path

from keras_apps.errors import UserError


@dataclass(frozen=True)
class Tab:
    """One task's tab: its title, what it offers, and the command that trains and exports its model. An
    `optional` tab shows only when its export exists (the overview still names its command). Its page takes
    the inputs of one `kind` of its task's exports (facts their `export.json` records, as a translator's
    direction): another kind is not served."""

    task: str
    title: str
    offers: str
    command: str
    optional: bool = False
    kind: tuple = ()  # (fact, value) pairs


TABS = (
    Tab("mnist", "Digits", "draw or upload a digit: the class probabilities and the pixels behind them",
        "python -m tasks.mnist"),
    Tab("imdb", "Reviews", "type a review: P(positive) and the words behind it", "python -m tasks.imdb"),
    Tab("translate", "Translation", "English to Spanish, with where each written word looked",
        "python -m tasks.translate", kind=(("direction", "en-es"),)),
    Tab("gpt", "GPT", "continue a prompt: seeded, so the same inputs give the same text", "python -m tasks.gpt"),
    Tab("speech", "Spoken digits", "record or upload a spoken digit (WAV): the class probabilities",
        "python -m tasks.speech", optional=True),
)


@dataclass(frozen=True)
class Served:
    """A tab and the export it serves: `path` is None when there is none, `problem` says why one is unusable."""

    tab: Tab
    path: Path | None = None
    metadata: dict | None = None
    problem: str = ""

    @property
    def figures(self):
        """The export's recorded quality in a few words, e.g. "test accuracy 0.9168, loss 0.2557"."""
        for split in ("test", "validation"):
            values = {name: value for name, value in (self.metadata or {}).get(split, {}).items()
                      if isinstance(value, (int, float))}
            if values:
                named = (f"{name.replace('_', ' ')} {value:.4g}" for name, value in values.items())
                return f"{split} " + ", ".join(named)
        return "no figures recorded"


def find(exports_root, tabs=TABS):
    """A `Served` per tab: the latest export of its task under `exports_root/<task>`, checked to be whole. Only
    a folder that does not exist means "no export"; one that exists but holds none says why in `problem`."""
    from keras_apps.export.saved_model import resolve_task_export

    found = []
    for tab in tabs:
        root = Path(exports_root) / tab.task
        if not root.exists():
            found.append(Served(tab))
            continue
        try:
            path = resolve_task_export(root, tab.task)
            metadata = json.loads((path / "export.json").read_text())
        except UserError as exc:
            found.append(Served(tab, problem=str(exc)))
            continue
        other = [f"{fact} {metadata.get(fact)!r}, not {value!r}" for fact, value in tab.kind
                 if metadata.get(fact) != value]
        found.append(Served(tab, problem=f"{path} is an export of {', '.join(other)}") if other
                     else Served(tab, path, metadata))
    return found
