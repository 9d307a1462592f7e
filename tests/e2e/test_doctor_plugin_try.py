"""On the real cluster: `ckaprep doctor`, the kubectl plugin and scripts/try."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ckaprep.exit_status import ExitStatus
from tests.e2e.conftest import REPO_ROOT, namespace_state
from tests.testcluster import must_have_cluster

BIN = Path(sys.executable).parent


def _run(tmp_path: Path, argv: list[str], *, path_extra: str = "", timeout: float = 180, **environ):
    env = {
        "CKAPREP_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "PATH": f"{path_extra}{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
        **environ,
    }
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)


def _doctor(tmp_path, kubeconfig, *extra):
    return _run(tmp_path, [sys.executable, "-m", "ckaprep", "--kubeconfig", kubeconfig, "doctor", "--json", *extra])


def _namespace_is_going(cluster, name: str) -> bool:
    return namespace_state(cluster.kubectl, name) in ("gone", "Terminating")


@pytest.mark.second_config
def test_doctor_passes_on_the_test_cluster_and_removes_its_namespace(tmp_path, cluster):
    result = _doctor(tmp_path, cluster.kubeconfig)
    report = json.loads(result.stdout)
    # What a cluster offers exercises that require it (one node, no NetworkPolicy, one address
    # family here) is a warning at most: tests/e2e/test_capabilities_on_cluster.py reads those.
    offers = {"nodes", "network-policy", "dual-stack"}
    failed = [
        f for f in report["findings"] if f["status"] != "pass" and not (f["id"] in offers and f["status"] == "warn")
    ]
    assert result.returncode == 0 and not failed, failed or result.stderr
    assert {f["id"] for f in report["findings"]} == {
        "api",
        "permissions",
        "images",
        "cluster-domain",
        "dns-short",
        "dns-fqdn",
        "clusterip",
        "env-vars",
        "endpoints-mirroring",
        "udp-image",
        *offers,
    }
    domain = next(f["detail"] for f in report["findings"] if f["id"] == "cluster-domain")
    expected_domain = os.environ.get("CKAPREP_TEST_CLUSTER_DOMAIN", "cluster.local")
    assert domain == expected_domain
    assert _namespace_is_going(cluster, report["namespace"])


def test_doctor_names_missing_permissions_for_the_limited_user(tmp_path, limited_kubeconfig):
    result = _doctor(tmp_path, limited_kubeconfig)
    assert result.returncode == ExitStatus.CLUSTER, result.stderr
    permissions = next(f for f in json.loads(result.stdout)["findings"] if f["id"] == "permissions")
    assert permissions["status"] == "fail" and "create namespaces" in permissions["detail"]


def test_doctor_names_an_unpullable_probe_image(tmp_path, cluster):
    image = "docker.io/library/ckaprep-missing:0.0"
    result = _doctor(tmp_path, cluster.kubeconfig, "--probe-image", image)
    assert result.returncode == ExitStatus.IMAGE_PULL, result.stderr
    report = json.loads(result.stdout)
    images = next(f for f in report["findings"] if f["id"] == "images")
    assert images["status"] == "fail" and image in images["detail"]
    assert _namespace_is_going(cluster, report["namespace"])


def test_kubectl_runs_ckaprep_as_a_plugin_with_kubectl_flags(tmp_path, cluster):
    kubectl_dir = os.path.dirname(cluster.kubectl_path)
    plugin = ["kubectl", "ckaprep"]
    started = _run(
        tmp_path,
        [*plugin, "start", "clusterip-create", "--seed", "9191", "--json", "--kubeconfig", cluster.kubeconfig],
        path_extra=f"{kubectl_dir}:",
    )
    assert started.returncode == 0, started.stderr
    namespace = json.loads(started.stdout)["namespace"]
    try:
        checked = _run(
            tmp_path,
            [*plugin, "check", "--wait", "0", f"--kubeconfig={cluster.kubeconfig}"],
            path_extra=f"{kubectl_dir}:",
        )
        assert checked.returncode == ExitStatus.CHECKS_FAILED, checked.stderr
    finally:
        reset = _run(tmp_path, [*plugin, "reset", "--kubeconfig", cluster.kubeconfig], path_extra=f"{kubectl_dir}:")
    assert reset.returncode == 0, reset.stderr
    assert _namespace_is_going(cluster, namespace)


# CI runs as root; a developer's non-root run of the e2e suite skips this one.
NOT_ROOT = os.geteuid() != 0 and not must_have_cluster()


@pytest.mark.skipif(NOT_ROOT, reason="scripts/try runs as root (CI runs as root)")
def test_try_prints_the_task_and_the_lines_to_paste_then_reuses_everything(tmp_path, cluster):
    try_script = str(REPO_ROOT / "scripts" / "try")
    # The real HOME: scripts/try finds the cluster's build cache under it.
    environ = {"CKAPREP_VENV": str(BIN.parent), "HOME": os.environ.get("HOME", "/root")}
    first = _run(tmp_path, [try_script, "--print", "clusterip-create"], timeout=600, **environ)
    assert first.returncode == 0, first.stderr
    assert "clusterip-create" in first.stdout or "Service" in first.stdout
    assert f"export KUBECONFIG={cluster.kubeconfig}" in first.stdout
    assert "ckaprep completion bash" in first.stdout
    state = tmp_path / "state" / "attempt.json"
    namespace = json.loads(state.read_text())["namespaces"][0]
    try:
        again = _run(tmp_path, [try_script, "--print", "clusterip-create"], timeout=120, **environ)
        assert again.returncode == 0, again.stderr
        assert "already active" in again.stderr
        assert json.loads(state.read_text())["namespaces"][0] == namespace  # the same attempt carries on
    finally:
        cluster.kubectl("delete", "namespace", namespace, "--wait=false", check=False)
