"""The run report: `report.md` and a self-contained `report.html` (images embedded) from the same blocks.

A report is a title and a list of sections, each a list of blocks — `Text`, `Table`, `Image`, `Code` — so
that Markdown and HTML say the same thing without a Markdown library: the HTML opens offline in any browser,
the Markdown reads on GitHub beside the PNGs it links.
"""

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path

from keras_apps import files


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Table:
    header: list
    rows: list


@dataclass(frozen=True)
class Image:
    path: Path
    caption: str


@dataclass(frozen=True)
class Code:
    text: str


def fenced(text, info=""):
    """`text` as a Markdown code block whose fence is longer than any run of backticks in it: a fixed ``` was
    closed early by a line of backticks in a text (a GPT's sample of code or Markdown), and the rest read as page."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _inline(text):
    """`text` as Markdown shows it, not runs: its HTML (a review's `<script>`, a file name's `<b>`) escaped, a cell's
    line breaks (a review's) and `|` kept from breaking its table row."""
    return " ".join(str(text).replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|").split())


def _markdown(block, directory):
    if isinstance(block, Text):
        return block.text.replace("&", "&amp;").replace("<", "&lt;")
    if isinstance(block, Table):
        lines = ["| " + " | ".join(map(_inline, block.header)) + " |", "|" + " --- |" * len(block.header)]
        lines += ["| " + " | ".join(map(_inline, row)) + " |" for row in block.rows]
        return "\n".join(lines)
    if isinstance(block, Image):
        return f"![{block.caption}]({Path(block.path).relative_to(directory).as_posix()})\n\n*{block.caption}*"
    if isinstance(block, Code):
        return fenced(block.text)
    raise TypeError(f"not a report block: {block!r}")


def _html(block):
    if isinstance(block, Text):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in block.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if isinstance(block, Image):
        data = base64.b64encode(Path(block.path).read_bytes()).decode("ascii")
        caption = html.escape(block.caption)
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{caption}">'
                f"<figcaption>{caption}</figcaption></figure>")
    if isinstance(block, Code):
        return f"<pre>{html.escape(block.text)}</pre>"
    raise TypeError(f"not a report block: {block!r}")


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; } h2 { margin-top: 2rem; color: #333; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td { font-variant-numeric: tabular-nums; }
figure { margin: .5rem 0 1.5rem; } img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85rem; color: #555; } pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; }
"""


def write_report(directory, title, sections):
    """Writes `report.md` and `report.html` into `directory`; `sections` is a list of (heading, blocks)."""
    directory = Path(directory)
    markdown = [f"# {title}"]
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, blocks in sections:
        markdown += [f"## {heading}", *(_markdown(block, directory) for block in blocks)]
        body += [f"<h2>{html.escape(heading)}</h2>", *(_html(block) for block in blocks)]
    files.write_text(directory / "report.md", "\n\n".join(markdown) + "\n")
    files.write_text(
        directory / "report.html",
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n",
    )
    return directory / "report.html"
