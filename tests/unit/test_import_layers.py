"""The package's shape, read from its source: no import cycle anywhere (imports inside functions
count too), nothing below the command line imports it, the command groups import only the CLI's
`base`, and the library under the terminal imports neither typer nor rich."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ckaprep"
COMMAND_GROUPS = ("drill", "study", "setup", "exam", "authoring", "classroom")
# What the terminal never reaches into: grading, practice state, exercises, the cluster seam...
LIBRARY = ("catalogue", "classroom", "cluster", "grading", "practice", "study")


def module_imports(package: Path) -> dict[str, set[str]]:
    """Each module of the package, with the package's modules it imports anywhere in its body."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                # `from ckaprep.cli import drill` imports the module ckaprep.cli.drill
                found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = {other for other in found if other in modules and other != name}
    return graph


def third_party_imports(package: Path, module: str) -> set[str]:
    path = package.parent.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other, directly or round about (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


GRAPH = module_imports(PACKAGE)


def test_the_walk_sees_the_whole_package():
    assert {"ckaprep.cli.drill", "ckaprep.grading.engine", "ckaprep.practice.exam"} <= set(GRAPH)
    assert "ckaprep.cli.base" in GRAPH["ckaprep.cli.drill"]


def test_no_module_takes_part_in_an_import_cycle():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    package = tmp_path / "ckaprep"
    (package / "cli").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "cli" / "__init__.py").write_text("")
    (package / "cli" / "one.py").write_text("from ckaprep.cli import two\n")
    (package / "cli" / "two.py").write_text("def later():\n    from ckaprep.cli.one import x\n")
    assert cycles(module_imports(package)) == [["ckaprep.cli.one", "ckaprep.cli.two"]]


def test_nothing_below_the_command_line_imports_it():
    entry_points = ("ckaprep.cli", "ckaprep.__main__")  # `python -m ckaprep` starts the command line
    upward = [f"{module} imports {other}" for module, others in GRAPH.items() if not module.startswith(entry_points)
              for other in others if other.startswith("ckaprep.cli")]  # fmt: skip
    assert upward == []


@pytest.mark.parametrize("group", COMMAND_GROUPS)
def test_a_command_group_imports_only_the_cli_base(group):
    module = f"ckaprep.cli.{group}"
    assert module in GRAPH
    cli_imports = {other for other in GRAPH[module] if other.startswith("ckaprep.cli")}
    assert cli_imports == {"ckaprep.cli.base"}


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m.split(".")[1:2] and m.split(".")[1] in LIBRARY))
def test_the_library_imports_no_terminal_code(module):
    assert not third_party_imports(PACKAGE, module) & {"typer", "rich", "click"}
    assert not [other for other in GRAPH[module] if other.startswith(("ckaprep.views", "ckaprep.cli"))]
