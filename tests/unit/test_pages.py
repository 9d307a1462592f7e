"""Kept pages: `explain TOPIC` and `list` print last time's bytes without loading the command line."""

import subprocess
import sys

import pytest

from ckaprep.cli import kept_pages as pages
from ckaprep.environment import Environment


def run(tmp_path, *args, importtime=False):
    env = {"CKAPREP_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "ckaprep", *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("args", [["explain", "dns"], ["list"]])
def test_the_second_run_prints_the_same_bytes_without_loading_typer(tmp_path, args):
    first = run(tmp_path, *args, importtime=True)
    second = run(tmp_path, *args, importtime=True)
    assert first.returncode == second.returncode == 0
    assert second.stdout == first.stdout and first.stdout.strip()
    assert " typer" in first.stderr  # the first run rendered through the command line
    imported = [line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines() if "|" in line]
    assert "ckaprep.cli.kept_pages" in imported  # the probe really saw the kept page served
    assert not [
        m for m in imported if m.split(".")[0] == "typer" or m in ("ckaprep.cli.base", "ckaprep.cli.application")
    ]


def test_options_and_unknown_topics_go_to_the_command_line(tmp_path):
    kept = run(tmp_path, "explain", "dns").stdout
    assert run(tmp_path, "--context", "x", "explain", "dns", importtime=True).stderr.count(" typer") > 0
    unknown = run(tmp_path, "explain", "dnz")
    assert unknown.returncode == 2 and "did you mean dns" in unknown.stderr
    assert run(tmp_path, "explain", "dns").stdout == kept


def test_a_changed_note_is_not_served_from_an_old_page(tmp_path, monkeypatch):
    env = Environment(environ={"CKAPREP_HOME": str(tmp_path), "HOME": str(tmp_path)})
    run(tmp_path, "explain", "dns")
    assert pages.kept_page(["explain", "dns"], env) is not None
    import ckaprep.study.notes

    monkeypatch.setattr(ckaprep.study.notes, "personal_note", lambda topic, attempt: "your Service is web")
    assert pages.kept_page(["explain", "dns"], env) is None


def test_completion_and_debug_runs_are_never_served(tmp_path, monkeypatch):
    run(tmp_path, "list")
    monkeypatch.setenv("CKAPREP_HOME", str(tmp_path))
    assert pages.serve_kept_page(["list"]) is True
    monkeypatch.setenv("_CKAPREP_COMPLETE", "bash_complete")
    assert pages.serve_kept_page(["list"]) is False


def test_a_reader_that_is_gone_gets_no_traceback(tmp_path):
    run(tmp_path, "list")
    env = {"CKAPREP_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    child = subprocess.Popen(
        [sys.executable, "-m", "ckaprep", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    child.stdout.close()  # nobody reads: the write fails with EPIPE
    stderr = child.stderr.read().decode()
    assert child.wait() == 0 and stderr == ""
