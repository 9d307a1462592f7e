"""`--help` and `explain` stay fast: they never import the kubernetes client."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["--help"], ["explain"], ["explain", "dns"], ["list"]])
def test_kubernetes_is_not_imported(args, tmp_path):
    code = (
        "import sys; from ckaprep.cli import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('KUBERNETES_LOADED' if 'kubernetes' in sys.modules else 'CLEAN', file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        env={"CKAPREP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.stderr.strip().endswith("CLEAN"), result.stderr
