"""Behaviour once kept with the e2e tests that needs no cluster: the real entry point and scripts/try."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ckaprep.exit_status import ExitStatus
from tests.testcluster import REPO_ROOT, must_have_cluster

BIN = Path(sys.executable).parent
# CI runs as root; a developer who is not root skips the one test that must drop root.
NOT_ROOT = os.geteuid() != 0 and not must_have_cluster()


def _run(tmp_path: Path, argv: list[str], timeout: float = 180):
    env = {
        "CKAPREP_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
    }
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)


def _doctor(tmp_path, kubeconfig, *extra):
    return _run(tmp_path, [sys.executable, "-m", "ckaprep", "--kubeconfig", kubeconfig, "doctor", "--json", *extra])


def _ckaprep(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The real entry point, in a child process, as a learner runs it."""
    env = {"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "ckaprep", *args], capture_output=True, text=True, env=env, timeout=120
    )


def _assert_one_line_error(result, status: ExitStatus, text: str):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr


def test_doctor_on_an_unreachable_server(tmp_path):
    kubeconfig = tmp_path / "closed.kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    result = _doctor(tmp_path, str(kubeconfig))
    assert result.returncode == ExitStatus.CLUSTER, result.stderr
    assert [f["status"] for f in json.loads(result.stdout)["findings"]] == ["fail"]


def test_missing_kubeconfig(tmp_path):
    result = _ckaprep(tmp_path, "--kubeconfig", str(tmp_path / "nope"), "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, f"kubeconfig {tmp_path / 'nope'}: no such file")


@pytest.mark.skipif(NOT_ROOT, reason="needs root to drop to another user (CI runs as root)")
def test_try_refuses_without_root(tmp_path):
    # The script comes on standard input and runs from /: the other user may not be able to enter
    # the directory the checkout lies in (a `mktemp -d` one is 0700), and must not need to.
    script = (REPO_ROOT / "scripts" / "try").read_text()
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-s"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "root" in result.stderr and "kind" in result.stderr
