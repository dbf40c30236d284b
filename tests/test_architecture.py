"""The architecture, kept: imports flow one way, the devkit stays apart, no module grows past
600 lines, and nothing imports in a circle.

    runtime → handlers → domain → storage          domain → prompts
    views ← handlers, domain      (views import no storage, not even through another module)
    devkit → runtime              (nothing in the product imports the devkit)

Imports under `if TYPE_CHECKING:` are type hints only and never run, so they are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("bot", "handlers", "prompts", "storage")
MAX_LINES = 600
# The devkit's Slack stand-in imitates a whole Web API; it is a tool, not product code.
SIZE_EXEMPT = {"bot.devkit.slack_standin"}
# `pilot-pulse demo` is the one door into the devkit: the command loads it when asked for.
DEVKIT_DOOR = ("bot.runtime.cli.service", "bot.devkit.demo")


@dataclass(frozen=True)
class Import:
    source: str
    target: str
    line: int
    top_level: bool  # at module level, run on import (not inside a function)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PRODUCT
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(source: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = source.split(".")
    is_package = MODULES[source].name == "__init__.py"
    base = package if is_package else package[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _targets(source: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The project modules an import statement loads (a module, or names of a package that
    are modules themselves: `from bot.views import status`)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    module = _resolve(source, node)
    yield module
    for alias in node.names:
        if f"{module}.{alias.name}" in MODULES:
            yield f"{module}.{alias.name}"


def _imports_of(name: str, path: Path) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, top_level)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(name, child):
                    if target.split(".")[0] in PRODUCT:
                        found.append(Import(name, target, child.lineno, top_level))
                continue
            inner = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, top_level and not inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), True)
    return found


IMPORTS = [found for name, path in MODULES.items() for found in _imports_of(name, path)]


def _layer(module: str) -> str:
    if module == "bot.__main__":  # `python -m bot` is the command line's other name
        return "runtime"
    parts = module.split(".")
    if parts[0] != "bot":
        return parts[0]
    if len(parts) > 1 and parts[1] in ("runtime", "devkit", "views"):
        return parts[1]
    return "domain"


def _existing(target: str) -> str:
    """The module a dotted import names, or its nearest enclosing package."""
    while target and target not in MODULES:
        target = target.rpartition(".")[0]
    return target


def _breaks(rule: callable) -> list[str]:
    return [
        f"{found.source}:{found.line} imports {found.target}"
        for found in IMPORTS
        if rule(_layer(found.source), _layer(_existing(found.target) or found.target), found)
    ]


def test_storage_imports_nothing_of_the_app() -> None:
    assert _breaks(lambda source, target, _: source == "storage" and target != "storage") == []


def test_prompts_import_nothing_of_the_app() -> None:
    assert _breaks(lambda source, target, _: source == "prompts" and target != "prompts") == []


def test_the_domain_never_imports_the_runtime_or_the_handlers() -> None:
    assert (
        _breaks(
            lambda source, target, _: (
                source in ("domain", "views") and target in ("runtime", "handlers", "devkit")
            )
        )
        == []
    )


def test_handlers_reach_the_domain_not_storage_nor_the_runtime() -> None:
    assert (
        _breaks(
            lambda source, target, _: (
                source == "handlers" and target in ("storage", "runtime", "devkit")
            )
        )
        == []
    )


def test_nothing_in_the_product_imports_the_devkit_but_the_demo_command() -> None:
    def breaks(source: str, target: str, found: Import) -> bool:
        if target != "devkit" or source == "devkit":
            return False
        door = (found.source, _existing(found.target)) == DEVKIT_DOOR
        return not (door and not found.top_level)

    assert _breaks(breaks) == []


def _closure(start: str) -> set[str]:
    """Every project module that importing `start` runs, through module-level imports."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        # Importing a.b.c runs a and a.b first.
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i])]
        todo += [
            _existing(found.target)
            for found in IMPORTS
            if found.source == module and found.top_level and _existing(found.target)
        ]
    return seen


@pytest.mark.parametrize("view", sorted(m for m in MODULES if _layer(m) == "views"))
def test_views_import_no_storage_even_indirectly(view: str) -> None:
    assert sorted(m for m in _closure(view) if m.split(".")[0] == "storage") == []


def test_no_module_imports_in_a_circle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for found in IMPORTS:
        target = _existing(found.target)
        if found.top_level and target and target != found.source:
            # A package's own __init__ importing its modules is how packages work, not a cycle.
            if not found.source or target.startswith(found.source + "."):
                continue
            graph[found.source].add(target)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert cycles == []


def test_no_product_module_is_over_600_lines() -> None:
    long = {
        name: length
        for name, path in MODULES.items()
        if name not in SIZE_EXEMPT
        and (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_every_package_says_what_it_holds() -> None:
    silent = [
        name
        for name, path in MODULES.items()
        if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert silent == []


def test_the_rules_see_real_imports() -> None:
    # The walk itself must work, or every rule above passes by finding nothing.
    assert Import("handlers.pulse", "bot.pulse.answer", 0, True).target in {
        found.target for found in IMPORTS if found.source == "handlers.pulse"
    }
    assert "storage.models" in _closure("bot.reporting.metrics")
    assert any(found.source == "bot.runtime.cli.service" for found in IMPORTS)
