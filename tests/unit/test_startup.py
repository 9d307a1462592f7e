"""`--help` and `explain` stay fast: they never import the kubernetes client, nor grading."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("args", [["--help"], ["explain"], ["explain", "dns"], ["list"]])
def test_kubernetes_is_not_imported(args, tmp_path):
    code = (
        "import sys; from ckaprep.cli.application import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print('KUBERNETES_LOADED' if 'kubernetes' in sys.modules else 'CLEAN', file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"CKAPREP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.stderr.strip().endswith("CLEAN"), result.stderr


@pytest.mark.parametrize("args", [["explain", "dns"], ["list"], ["--help"]])
def test_warm_caches_spare_the_yaml_parser_and_the_markdown_renderer(args, tmp_path):
    code = (
        "import sys; from ckaprep.cli.application import app\n"
        f"for _ in range(2):\n"
        "    for name in [m for m in sys.modules if m.startswith(('ruamel', 'markdown_it'))]:\n"
        "        del sys.modules[name]\n"
        f"    try:\n        app({args!r})\n    except SystemExit:\n        pass\n"
        "print('loaded:', sorted({m.split('.')[0] for m in sys.modules if m.startswith(('ruamel', 'markdown_it'))}),"
        " file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"CKAPREP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.stderr.strip().splitlines()[-1] == "loaded: []", result.stderr
    if args[0] != "--help":
        assert (tmp_path / "cache" / "parsed-yaml.json").is_file()


@pytest.mark.parametrize("args", [["--help"], ["explain"], ["explain", "dns"], ["list"]])
def test_grading_and_setting_up_are_not_imported(args, tmp_path):
    """Reading the state for the notes' personal panel needs the state, not what sets exercises
    up or grades them."""
    code = (
        "import sys; from ckaprep.cli.application import app\n"
        f"try:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('ckaprep.grading.checks', 'ckaprep.grading.engine', 'ckaprep.practice.lifecycle'))),"
        " file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"CKAPREP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.stderr.strip().endswith("[]"), result.stderr


# What a kept `list` page does not need: the state and the attempt model, the cluster seam,
# writing files atomically (tempfile loads shutil, bz2, lzma, random) and suggesting a name.
NOT_FOR_A_KEPT_LIST = ["ckaprep.practice.state", "ckaprep.attempts", "ckaprep.cluster", "tempfile", "difflib"]


def test_a_kept_list_loads_only_what_it_serves(tmp_path):
    """`ckaprep list` served from the kept page reads the exercise files' stamp and what the
    cluster was found to offer, and prints; it loads nothing to set up, keep state or write."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['ckaprep', 'list']\n"
        "try:\n    runpy.run_module('ckaprep', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        f"print('loaded:', sorted(m for m in {NOT_FOR_A_KEPT_LIST!r} if m in sys.modules), file=sys.stderr)"
    )
    env = {"CKAPREP_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    first = subprocess.run([sys.executable, "-m", "ckaprep", "list"], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr  # renders the list and keeps the page
    kept = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert kept.stdout == first.stdout  # served from the kept page
    assert kept.stderr.strip().splitlines()[-1] == "loaded: []", kept.stderr
