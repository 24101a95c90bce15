"""Code versions: a hash that changes when the code (or configuration) that builds a table changes, and
only then.

A table taken from an earlier night (`aidmatch/reuse.py`) must have been built by the same code as
tonight's would be. Its code version is a hash of the source of every aidmatch module its builder
imports — directly or through the modules it imports, found by reading their import statements — of
the data files those modules name beside them (`sources/enum_values.yaml`), and of the configuration
the builder reads, given by the caller (the column map, the intake limits, the linking thresholds). So
a change to the lists' SQL leaves the staged tables' version alone, and a change to a name normalizer or
to the column maps does not. The Dagster assets carry it as their `code_version`: the UI says "has a new
code version" of a night built by other code.

What does not belong here: the release's version on the manifest and the run tags (`version.py`).
"""

import ast
import hashlib
import importlib.util
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PACKAGE = "aidmatch"
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".sql", ".csv")


def _file_of(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    return Path(spec.origin) if spec and spec.origin and spec.origin.endswith(".py") else None


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _names_data_file(node: ast.AST, folder: Path) -> bool:
    """A string constant that is the name of a data file in `folder` (`"enum_values.yaml"`)."""
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.endswith(DATA_SUFFIXES)
        and "/" not in node.value
        and (folder / node.value).is_file()
    )


@cache
def _imports_and_data(module: str) -> tuple[frozenset[str], frozenset[Path]]:
    """The aidmatch modules `module` imports and the data files beside it that its source names."""
    path = _file_of(module)
    if path is None:
        return frozenset(), frozenset()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    data: set[Path] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names if alias.name.startswith(f"{PACKAGE}.")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            for alias in node.names:  # `from aidmatch.sources import tables` imports a module
                submodule = f"{node.module}.{alias.name}"
                imported.add(submodule if _is_module(submodule) else node.module)
        elif _names_data_file(node, path.parent):
            data.add(path.parent / node.value)
    return frozenset(imported), frozenset(data)


def module_files(modules: Iterable[str]) -> list[Path]:
    """The source files of `modules` and of every aidmatch module they import, transitively, and the data
    files those modules name beside them; sorted."""
    seen: set[str] = set()
    files: set[Path] = set()
    waiting = list(modules)
    while waiting:
        module = waiting.pop()
        if module in seen:
            continue
        seen.add(module)
        if (path := _file_of(module)) is not None:
            files.add(path)
        imported, data = _imports_and_data(module)
        files |= data
        waiting += imported - seen
    return sorted(files)


def digest(*parts: str) -> str:
    """A short hash (sha256, 16 hex digits) of the texts `parts`, each told apart from the next."""
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(part.encode("utf-8") + b"\x00")
    return hashed.hexdigest()[:16]


def code_version(modules: Iterable[str], configuration: object = None) -> str:
    """The version of the code of `modules` (and what they import) with the `configuration` it reads (any
    value whose repr says it all: dataclasses, tuples, dicts)."""
    root = Path(importlib.util.find_spec(PACKAGE).origin).parents[1]
    sources = []
    for path in module_files(modules):
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:  # an installed package: its own folder layout
            name = path.name
        sources += [name, path.read_text(encoding="utf-8")]
    return digest(*sources, repr(configuration))
