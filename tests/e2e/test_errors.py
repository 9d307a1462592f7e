"""Failures a learner meets on a real cluster end in one line and the documented exit status."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ckaprep.exit_status import ExitStatus
from tests.e2e.practice import Practice


def _ckaprep(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The real entry point, in a child process, as a learner runs it."""
    env = {"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "ckaprep", *args], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def _kubeconfig_variant(source: str, tmp_path: Path, *, server=None, token=None) -> str:
    yaml = YAML(typ="safe", pure=True)
    config = yaml.load(Path(source).read_text())
    if server:
        config["clusters"][0]["cluster"]["server"] = server
    if token:
        user = config["users"][0]["user"]
        user.pop("client-certificate-data", None)
        user.pop("client-key-data", None)
        user.pop("client-certificate", None)
        user.pop("client-key", None)
        user["token"] = token
    path = tmp_path / "variant.kubeconfig"
    with path.open("w") as handle:
        yaml.dump(config, handle)
    return str(path)


def _assert_one_line_error(result, status: ExitStatus, text: str):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and text in lines[0], result.stderr


def test_unreachable_cluster(tmp_path, kubeconfig):
    # Loopback port 1: nothing listens, so the connection is refused at once.
    broken = _kubeconfig_variant(kubeconfig, tmp_path, server="https://127.0.0.1:1")
    result = _ckaprep(tmp_path, "--kubeconfig", broken, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "cannot reach the cluster")


def test_rejected_credentials(tmp_path, kubeconfig):
    bogus = _kubeconfig_variant(kubeconfig, tmp_path, token=base64.b64encode(b"not-a-token").decode())
    result = _ckaprep(tmp_path, "--kubeconfig", bogus, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "rejected the credentials")


def test_missing_kubeconfig(tmp_path):
    result = _ckaprep(tmp_path, "--kubeconfig", str(tmp_path / "nope"), "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "kubeconfig")


def test_permission_denied_for_a_namespace_limited_user(tmp_path, limited_kubeconfig):
    result = _ckaprep(tmp_path, "--kubeconfig", limited_kubeconfig, "start", "clusterip-create")
    _assert_one_line_error(result, ExitStatus.CLUSTER, "permission denied")
    assert "namespaces" in result.stderr


def test_probe_image_that_cannot_be_pulled(tmp_path, cluster):
    practice = Practice(tmp_path / "state", cluster)
    practice.start("clusterip-create", seed=424242)
    try:
        x = practice.params
        practice.kubectl("expose", "deployment", x["app"], f"--name={x['service']}", f"--port={x['port']}",
                         f"--target-port={x['target_port']}")  # fmt: skip
        image = "docker.io/library/ckaprep-missing:0.0"
        result = practice.ckaprep("check", "--probe-image", image)
        assert result.exit_code == ExitStatus.IMAGE_PULL, result.output
        assert image in result.stderr
        assert practice.env.state.load() is not None
    finally:
        assert practice.reset().exit_code == 0


def test_status_through_the_real_entry_point(tmp_path, kubeconfig):
    result = _ckaprep(tmp_path, "--kubeconfig", kubeconfig, "status")
    _assert_one_line_error(result, ExitStatus.USAGE, "no active exercise")
    listing = _ckaprep(tmp_path, "list", "--json")
    assert listing.returncode == 0 and len(json.loads(listing.stdout)) == 9


def test_ctrl_c_during_start_leaves_a_resettable_attempt(tmp_path, kubeconfig):
    import signal
    import time

    env = {"CKAPREP_HOME": str(tmp_path / "state"), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    child = subprocess.Popen(
        [sys.executable, "-m", "ckaprep", "--kubeconfig", kubeconfig, "start", "clusterip-create", "--seed", "777"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    state_file = tmp_path / "state" / "attempt.json"
    deadline = time.monotonic() + 30
    while not state_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)  # while the exercise is being set up
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == ExitStatus.INTERRUPTED, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    attempt = json.loads(state_file.read_text())  # whole, never half-written
    assert attempt["exercise"] == "clusterip-create"
    reset = _ckaprep(tmp_path, "--kubeconfig", kubeconfig, "reset")
    assert reset.returncode == 0, reset.stderr
    assert not state_file.exists()
