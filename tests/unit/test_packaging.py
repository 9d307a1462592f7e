"""A wheel carries the exercises and the study notes, not only an editable checkout."""

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
        capture_output=True, text=True,
    )  # fmt: skip
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
