"""A wheel carries the exercises and the study notes, not only an editable checkout, and holds
only what the product runs: the fake cluster and the other test helpers stay in tests/."""

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    # hatchling comes with the test extras (pip install -e '.[test]'), so a build that fails is a
    # broken build, whatever its traceback says.
    assert done.returncode == 0, done.stderr
    return next(out.glob("ckaprep-*.whl"))


def test_wheel_contains_exercises_and_topics(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ROOT.glob("exercises/*.yaml"):
        assert f"ckaprep/exercises/{path.name}" in names
    for path in ROOT.glob("ckaprep/study/topics/*.md"):
        assert f"ckaprep/study/topics/{path.name}" in names


# Test code by its name: a test module, a conftest, a fake, or anything under a tests folder.
TEST_CODE = re.compile(r"(^|/)(tests?/|conftest\.py$|test_\w*\.py$|\w*fake\w*\.py$)")


def test_the_wheel_holds_no_test_code(wheel):
    code = [name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")]
    assert code and all(name.startswith("ckaprep/") for name in code)
    assert [name for name in code if TEST_CODE.search(name)] == []


def test_the_product_imports_nothing_from_the_tests():
    """What the wheel leaves out, the product must never need."""
    found = []
    for path in sorted((ROOT / "ckaprep").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            found += [
                f"{path.relative_to(ROOT)} imports {m}"
                for m in modules
                if m.split(".")[0] in ("tests", "pytest", "hypothesis")
            ]
    assert found == []
