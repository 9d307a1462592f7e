"""Fixtures for end-to-end tests against a live cluster.

The cluster is the one `scripts/testcluster up` starts (or any cluster that
KUBECONFIG points at). Every test in this directory is marked `e2e`.

Without a reachable cluster the tests are skipped, unless CI=true or
CKAPREP_E2E=1, where a missing cluster is a failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Callable

import pytest

from tests.testcluster import REPO_ROOT, TESTCLUSTER, namespace_state  # noqa: F401 (tests import it from here)
from tests.testcluster import find_kubectl as _find_kubectl
from tests.testcluster import must_have_cluster as _must_have_cluster

DEFAULT_KUBECONFIG = Path("/var/lib/ckaprep-testcluster/admin.kubeconfig")
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by=ckaprep-tests"
E2E_DIR = Path(__file__).resolve().parent

KubectlFn = Callable[..., subprocess.CompletedProcess]


# Which test cluster configuration the run is on: the run of the third (two nodes, NetworkPolicy
# enforced) says `third`; unset is the default or the second, both one node without policy.
ON_THIRD_CONFIG = os.environ.get("CKAPREP_TEST_CLUSTER_CONFIG", "") == "third"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _reachable(kubectl: str, kubeconfig: str) -> tuple[bool, str]:
    try:
        p = subprocess.run(
            [kubectl, "--kubeconfig", kubeconfig, "--request-timeout=5s", "get", "--raw=/readyz"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return False, str(e)
    return p.returncode == 0, (p.stderr or p.stdout).strip()


class Cluster:
    def __init__(self, kubeconfig: str, kubectl_path: str):
        self.kubeconfig = kubeconfig
        self.kubectl_path = kubectl_path

    def kubectl(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 120,
        input: str | None = None,
        kubeconfig: str | None = None,
    ) -> subprocess.CompletedProcess:
        cmd = [self.kubectl_path, "--kubeconfig", kubeconfig or self.kubeconfig, *args]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
        except subprocess.TimeoutExpired:
            pytest.fail(f"kubectl {' '.join(args)} timed out after {timeout}s")
        if check and p.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    def unavailable(reason: str):
        if _must_have_cluster():
            pytest.fail(f"no Kubernetes cluster for e2e tests: {reason} (run scripts/testcluster up)")
        pytest.skip(f"no Kubernetes cluster reachable ({reason}); run `sudo scripts/testcluster up`")

    kubectl = _find_kubectl()
    if not kubectl:
        unavailable("no kubectl found")
    candidates = []
    if os.environ.get("KUBECONFIG"):
        candidates.append(os.environ["KUBECONFIG"])
    candidates.append(str(DEFAULT_KUBECONFIG))
    reasons = []
    for kc in candidates:
        if not Path(kc).is_file():
            reasons.append(f"{kc}: no such file")
            continue
        ok, why = _reachable(kubectl, kc)
        if ok:
            return Cluster(kc, kubectl)
        reasons.append(f"{kc}: {why}")
    unavailable("; ".join(reasons))


@pytest.fixture(scope="session")
def kubeconfig(cluster: Cluster) -> str:
    return cluster.kubeconfig


@pytest.fixture(scope="session")
def kubectl_path(cluster: Cluster) -> str:
    return cluster.kubectl_path


@pytest.fixture(scope="session")
def kubectl(cluster: Cluster) -> KubectlFn:
    """kubectl(*args, check=True, timeout=120, input=None, kubeconfig=None) -> CompletedProcess."""
    return cluster.kubectl


@pytest.fixture
def namespace(request, kubectl: KubectlFn):
    """A fresh namespace for one test, deleted afterwards (without waiting for it to go)."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"e2e-{base}-{uuid.uuid4().hex[:6]}"
    kubectl("create", "namespace", name)
    kubectl("label", "namespace", name, MANAGED_BY_LABEL)
    yield name
    kubectl("delete", "namespace", name, "--wait=false", "--request-timeout=30s", check=False, timeout=60)


@pytest.fixture
def limited_kubeconfig(cluster: Cluster, namespace: str) -> str:
    """Kubeconfig of a user who may edit only `namespace` and is Forbidden elsewhere."""
    p = subprocess.run([str(TESTCLUSTER), "kubeconfig-limited", namespace], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        pytest.fail(f"scripts/testcluster kubeconfig-limited {namespace} failed: {p.stderr}")
    return p.stdout.strip().splitlines()[-1]
