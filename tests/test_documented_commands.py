"""The documentation cannot drift from the code: every `python -m tasks.…` and `python -m bench …` command that
README.md and COURSE.md show is accepted by that command's parser (every flag exists, every value is valid),
and every repository file COURSE.md names exists (with the class or function it names after `::`)."""

import ast
import importlib
import itertools
import re
import shlex
from pathlib import Path

import pytest

from bench.__main__ import parse_arguments as parse_bench_arguments
from keras_apps import cli

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "COURSE.md")
COMMAND = re.compile(r"python -m (tasks\.\w+|bench)\b([^#|]*)")
FILE = re.compile(r"`((?:keras_apps|tasks|bench|tests)/[\w/.]+\.(?:py|md|json))(?:::(\w+))?`")


def expand_braces(arguments):
    """`--strategy {cpu,multi_worker}` is two commands, one per choice."""
    choices = [re.fullmatch(r"\{(.+)\}", argument).group(1).split(",") if re.fullmatch(r"\{.+,.+\}", argument)
               else [argument] for argument in arguments]
    return [list(combination) for combination in itertools.product(*choices)]


def code(text):
    """`(line number, code)` of each line of a fenced block and each inline span (joined if it wraps)."""
    fenced = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
    for block in fenced.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        yield from ((first + offset, line) for offset, line in enumerate(block.group(1).splitlines()))
    prose = fenced.sub(lambda block: "\n" * block.group(0).count("\n"), text)
    for span in re.finditer(r"`([^`]+)`", prose):
        yield prose.count("\n", 0, span.start()) + 1, span.group(1).replace("\n", " ")


def documented_commands():
    commands = []
    for document in DOCUMENTS:
        for line_number, snippet in code((ROOT / document).read_text()):
            for module, rest in COMMAND.findall(snippet):
                rest = rest.split("&&")[0].replace("…", "PATH").strip()
                for arguments in expand_braces(shlex.split(rest)):
                    commands.append(pytest.param(module, arguments, id=f"{document}:{line_number}"))
    return commands


def parse(module, arguments):
    if module == "bench":
        return parse_bench_arguments(arguments)
    task = importlib.import_module(module)
    if not hasattr(task, "COMMANDS"):  # a command without sub-commands (tasks.demo)
        return task.build_parser().parse_args(arguments)
    return cli.parse_arguments(task.TASK, "", task.COMMANDS, arguments)


def test_the_documents_show_commands_of_every_task_and_benchmark():
    modules = {param.values[0] for param in documented_commands()}
    assert {"tasks.mnist", "tasks.imdb", "tasks.translate", "tasks.gpt", "bench"} <= modules


@pytest.mark.parametrize("module, arguments", documented_commands())
def test_a_documented_command_parses(module, arguments):
    try:
        parse(module, arguments)
    except SystemExit as exit:  # --help exits 0; a refused command line exits 2
        assert exit.code == 0, f"python -m {module} {shlex.join(arguments)} is refused by its parser"


def defined_names(path):
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, (ast.ClassDef, ast.FunctionDef))}


def test_every_file_the_course_names_exists_with_what_it_names():
    named = FILE.findall((ROOT / "COURSE.md").read_text())
    assert len(named) > 20
    for path, name in named:
        assert (ROOT / path).is_file(), f"COURSE.md names {path}, which does not exist"
        if name:
            assert name in defined_names(ROOT / path), f"COURSE.md names {path}::{name}, which it does not define"
