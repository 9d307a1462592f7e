"""The package's shape. The layers, the absence of import cycles, the command groups' imports
and the library's freedom from terminal code are import-linter contracts in pyproject.toml;
this runs them. What import-linter cannot say (where in a module an import sits) is checked
here from the source."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ckaprep"
# The one module that may import the kubernetes client when it is imported itself: everything
# else reaches it through `ckaprep.cluster.kube`, inside a function, so that `--help`, `explain`
# and completion never pay for it.
KUBERNETES_AT_TOP = {"ckaprep.cluster.kube"}


def lint_imports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold():
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Contracts: [1-9]\d* kept, 0 broken\.", done.stdout), done.stdout


def test_the_contracts_catch_an_upward_import(tmp_path):
    """The contract file really is read: a copy of the package with one upward import breaks it."""
    copy = tmp_path / "ckaprep"
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy)], check=True)
    errors = copy / "errors.py"
    errors.write_text(errors.read_text(encoding="utf-8") + "\n\ndef later():\n    from ckaprep.cli import base\n")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode != 0
    assert "ckaprep.errors -> ckaprep.cli.base" in done.stdout


def top_level_imports(path: Path) -> set[str]:
    """The modules a file imports when it is imported: its body, outside functions."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.iter_child_nodes(node):
                visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_only_the_cluster_seam_imports_kubernetes_at_the_top():
    at_top = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if any(name.split(".")[0] == "kubernetes" for name in top_level_imports(path)):
            at_top.add(module)
    assert at_top == KUBERNETES_AT_TOP
