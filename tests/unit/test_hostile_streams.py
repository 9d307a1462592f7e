"""Every command that needs no cluster, run as `python -m ckaprep` with hostile streams: an
encoding that cannot hold the output, stdout closed, a full disk, a reader that goes away, a
terminal 0 or 20 columns wide. Nothing prints a traceback, and each ends with its documented
exit status: its own, or 74 (ExitStatus.OUTPUT) when its output cannot be written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ckaprep.catalogue.locations import exercises_dir
from ckaprep.cli.application import app
from ckaprep.environment import Environment
from ckaprep.exit_status import ExitStatus
from tests.cli_process import child_env, run_ckaprep
from tests.conftest import FakeTime
from tests.fake_cluster import FakeCluster

COMMANDS = [
    ("list",),
    ("list", "--json"),
    ("explain",),
    ("explain", "dns"),
    ("explain", "dnz"),
    ("--help",),
    ("check", "--help"),
    ("--version",),
    ("progress",),
    ("next",),
    ("completion", "bash"),
    ("validate", str(exercises_dir() / "dns-records.yaml")),
    ("task",),
    ("status",),
    ("hint",),
    ("solution",),
    ("start", "nope"),
    ("exam", "status"),
    ("reset", "--forget", "--json"),
]
KEPT = {("list",), ("explain", "dns")}  # served from a kept page once rendered: run twice


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A home with an active exercise (started on a fake cluster), so `task`, `status`, `hint`
    and `solution` have something to print."""
    home = tmp_path_factory.mktemp("home")
    env = Environment(
        environ={"CKAPREP_HOME": str(home / "state"), "HOME": str(home)},
        cluster_factory=lambda *_: FakeCluster(),
        clock=FakeTime(),
    )
    started = CliRunner().invoke(app, ["start", "clusterip-create", "--seed", "3"], obj=env)
    assert started.exit_code == 0, started.output
    return home


@pytest.fixture(scope="module")
def normal(home):
    """Each command's exit status and whether it writes to stdout, on an ordinary terminal."""
    found = {}
    for args in COMMANDS:
        if args[0] == "reset":
            continue  # it forgets the exercise: run last, by its own test
        result = run_ckaprep(home, *args)
        assert "Traceback" not in result.stderr
        found[args] = (result.returncode, bool(result.stdout))
    return found


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    assert "this is a bug" not in result.stderr, result.stderr


def _spawn(home, args, **streams) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "ckaprep", *args],
        env=child_env(home),
        cwd=home,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
        **streams,
    )
    result.stderr = result.stderr.decode("utf-8", "backslashreplace")
    return result


def _commands():
    return [
        pytest.param(args, id=" ".join(args).replace(str(exercises_dir()) + "/", ""))
        for args in COMMANDS
        if args[0] != "reset"
    ]


@pytest.mark.parametrize("args", _commands())
def test_any_encoding_prints_with_the_documented_status(home, normal, args):
    status, _ = normal[args]
    for encoding in ("ascii", "latin-1"):
        for _ in range(2 if args in KEPT else 1):
            result = run_ckaprep(home, *args, PYTHONIOENCODING=encoding)
            _no_traceback(result)
            assert result.returncode == status, (encoding, result.stderr)


@pytest.mark.parametrize("args", _commands())
def test_unwritable_stdout_is_one_line_and_exit_74(home, normal, args):
    status, writes = normal[args]
    expected = ExitStatus.OUTPUT if writes else status
    with open("/dev/full", "w") as full:
        cases = {"/dev/full": {"stdout": full}, "closed": {"preexec_fn": _close_stdout}}
        for case, streams in cases.items():
            result = _spawn(home, args, **streams)
            _no_traceback(result)
            assert result.returncode == expected, (case, result.stderr)
            if writes:
                lines = result.stderr.strip().splitlines()
                assert lines[-1].startswith("error: cannot write to standard output: "), (case, result.stderr)
                assert len(lines) == 1, (case, result.stderr)


def _close_stdout():
    os.close(1)


@pytest.mark.parametrize("args", _commands())
def test_a_reader_that_goes_away_changes_no_status(home, normal, args):
    status, _ = normal[args]
    child = subprocess.Popen(
        [sys.executable, "-m", "ckaprep", *args],
        env=child_env(home),
        cwd=home,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # gone before the first write: every write fails with EPIPE
    stderr = child.stderr.read().decode("utf-8", "backslashreplace")
    assert child.wait(timeout=60) == status, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr


@pytest.mark.parametrize("args", _commands())
def test_any_columns_prints_output_and_errors(home, normal, args):
    status, writes = normal[args]
    for columns in ("0", "20"):
        result = run_ckaprep(home, *args, COLUMNS=columns)
        _no_traceback(result)
        assert result.returncode == status, (columns, result.stderr)
        assert bool(result.stdout.strip()) == writes, (columns, result.stdout)
        if status not in (ExitStatus.OK, ExitStatus.CHECKS_FAILED):
            assert result.stderr.startswith("error: "), (columns, result.stderr)


def test_reset_forget_with_hostile_streams(home, normal):
    """Last: it forgets the exercise (and then says there is none)."""
    with open("/dev/full", "w") as full:
        result = _spawn(home, ("reset", "--forget", "--json"), stdout=full)
    _no_traceback(result)
    assert result.returncode == ExitStatus.OUTPUT, result.stderr
    again = run_ckaprep(home, "reset", "--forget", "--json", PYTHONIOENCODING="ascii", COLUMNS="0")
    _no_traceback(again)
    assert again.returncode == ExitStatus.USAGE and again.stderr.startswith("error: no active exercise"), again.stderr
