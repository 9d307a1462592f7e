"""On the real cluster: `doctor` finds out what the cluster offers by trying it (nodes, Service
traffic across nodes, NetworkPolicy), and `list` and `start` act on what it found.

The default and second configurations are one node whose bridge network enforces no
NetworkPolicy; the third is two nodes with kube-router's firewall enforcing it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.exit_status import ExitStatus
from tests.e2e.conftest import ON_THIRD_CONFIG, REPO_ROOT

# Every scratch namespace of the cluster's capability probes is looked at, whoever made it.
pytestmark = pytest.mark.alone

BIN = Path(sys.executable).parent
CAPABILITIES_ROLE = "ckaprep.io/role=capabilities"


def _run(tmp_path: Path, argv: list[str], timeout: float = 240):
    """As test_doctor_plugin_try runs ckaprep: a state directory and HOME of the test's own."""
    env = {
        "CKAPREP_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "PATH": f"{BIN}:/usr/sbin:/usr/bin:/sbin:/bin",
    }
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)


def _doctor(tmp_path: Path, kubeconfig: str):
    return _run(tmp_path, [sys.executable, "-m", "ckaprep", "--kubeconfig", kubeconfig, "doctor", "--json"])


def _findings(report: dict) -> dict[str, str]:
    return {f["id"]: f["detail"] for f in report["findings"]}


def _own_exercise(directory: Path, new_id: str, requires: str) -> Path:
    """A copy of clusterip-create under another id, requiring `requires`."""
    text = (REPO_ROOT / "exercises" / "clusterip-create.yaml").read_text()
    text = re.sub(r"^id: .*$", f"id: {new_id}", text, count=1, flags=re.MULTILINE)
    directory.mkdir(exist_ok=True)
    path = directory / f"{new_id}.yaml"
    path.write_text(text + f"\nrequires: {requires}\n")
    return path


def _ckaprep(tmp_path: Path, kubeconfig: str, *args: str):
    return _run(tmp_path, [sys.executable, "-m", "ckaprep", "--kubeconfig", kubeconfig, *args])


def _scratch_namespaces_are_going(cluster) -> None:
    """Every scratch namespace the capability probe made is gone or terminating."""
    listed = cluster.kubectl("get", "namespaces", "-l", CAPABILITIES_ROLE, "-o", "json")
    phases = [item["status"].get("phase") for item in json.loads(listed.stdout)["items"]]
    assert all(phase == "Terminating" for phase in phases), phases


@pytest.mark.second_config
@pytest.mark.skipif(ON_THIRD_CONFIG, reason="the third configuration has two nodes and enforces NetworkPolicy")
def test_doctor_finds_one_node_and_no_network_policy_and_list_and_start_follow(tmp_path, cluster):
    result = _doctor(tmp_path, cluster.kubeconfig)
    assert result.returncode == 0, result.stderr  # what a cluster lacks is a warning, not a failure
    report = json.loads(result.stdout)
    found = _findings(report)
    assert "one node" in found["nodes"], found
    assert "NetworkPolicy not enforced" in found["network-policy"], found
    assert "cross-node" not in found  # not tried with one node
    assert report["capabilities"]["nodes"] == 1 and report["capabilities"]["network_policy"] is False
    _scratch_namespaces_are_going(cluster)

    own = tmp_path / "own"
    _own_exercise(own, "np-demo", "[network-policy]")
    _own_exercise(own, "two-node-demo", "[{nodes: 2}]")
    listed = _ckaprep(tmp_path, cluster.kubeconfig, "--exercises", str(own), "list")
    assert listed.returncode == 0, listed.stderr
    assert "np-demo" not in listed.stdout and "two-node-demo" not in listed.stdout
    text = " ".join(listed.stdout.split())
    built_in = sum(1 for ex in load_catalogue().values() if ex.requires)  # they are left out too
    assert f"left out {2 + built_in} exercises this cluster cannot support" in text
    assert "NetworkPolicy is not enforced" in text
    started = _ckaprep(tmp_path, cluster.kubeconfig, "--exercises", str(own), "start", "np-demo")
    assert started.returncode == ExitStatus.UNSUPPORTED, started.stderr
    assert len(started.stderr.strip().splitlines()) == 1 and "NetworkPolicy is not enforced" in started.stderr
    assert not (tmp_path / "state" / "attempt.json").exists()


@pytest.mark.third_config
@pytest.mark.skipif(not ON_THIRD_CONFIG, reason="needs the third configuration: two nodes, NetworkPolicy enforced")
def test_doctor_finds_two_nodes_enforced_network_policy_and_traffic_across_nodes(tmp_path, cluster):
    result = _doctor(tmp_path, cluster.kubeconfig)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    found = _findings(report)
    assert "2 nodes" in found["nodes"], found
    assert "NetworkPolicy enforced" in found["network-policy"], found
    assert "cross-node Service: ok" in found["cross-node"], found
    assert report["capabilities"] | {"dual_stack": None} == {
        "nodes": 2,
        "network_policy": True,
        "cross_node": True,
        "dual_stack": None,
    }
    _scratch_namespaces_are_going(cluster)

    own = tmp_path / "own"
    _own_exercise(own, "np-demo", "[network-policy, {nodes: 2}]")
    listed = _ckaprep(tmp_path, cluster.kubeconfig, "--exercises", str(own), "list", "--json")
    assert "np-demo" in {item["id"] for item in json.loads(listed.stdout)}, listed.stderr
