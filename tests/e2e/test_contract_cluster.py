"""The real cluster against the contract scenarios (tests/contract.py), which the fake meets too.

What is compared is what grading reads: the EndpointSlices, listed through ckaprep's own
cluster seam, and curl's exit code from a Pod, run with ckaprep's own curl command line.
"""

from __future__ import annotations

import json
import time

import pytest

from ckaprep.environment import Environment
from ckaprep.grading.probes import curl_argv, curl_exec_timeout_s, parse_curl_output
from tests.contract import (
    CLIENT,
    SCENARIOS,
    WRITE_REFUSALS,
    client_pod,
    expected_view,
    namespaced,
    slice_view,
    write_refusals,
)

pytestmark = [pytest.mark.second_config, pytest.mark.third_config]
SETTLE_S = 90  # the slices, kube-proxy and DNS catch up within this


def _until(read, wanted, timeout_s: float = SETTLE_S):
    """Read until it gives `wanted` or the time is up; the last reading either way."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = read()
        if got == wanted or time.monotonic() > deadline:
            return got
        time.sleep(1)


@pytest.fixture(scope="module")
def seam(cluster, tmp_path_factory):
    home = tmp_path_factory.mktemp("contract")
    return Environment(environ={"CKAPREP_HOME": str(home), "HOME": str(home)}, kubeconfig=cluster.kubeconfig).cluster()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_cluster_meets_the_contract(scenario, namespace, kubectl, seam):
    items = namespaced(scenario.manifests + [client_pod()], namespace)
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    kubectl(
        "-n",
        namespace,
        "wait",
        "--for=condition=Ready",
        "--timeout=120s",
        *[f"pod/{p}" for p in scenario.ready_pods],
        timeout=180,
    )

    def view():
        return slice_view(
            seam.list("EndpointSlice", namespace, f"kubernetes.io/service-name={scenario.service}"), scenario.service
        )

    if scenario.deletes:
        before = [
            (family, ports, {pod: (True, True, False) if c[2] else c for pod, c in endpoints.items()})
            for family, ports, endpoints in expected_view(scenario)
        ]
        assert _until(view, before) == before, "the slices never listed every Pod before the deletion"
        for pod in scenario.deletes:
            kubectl("-n", namespace, "delete", "pod", pod, "--wait=false")
    assert _until(view, expected_view(scenario)) == expected_view(scenario)

    def curl(url: str) -> int | None:
        argv = curl_argv([url])
        done = kubectl(
            "-n", namespace, "exec", CLIENT, "--", *argv, check=False, timeout=curl_exec_timeout_s([url]) + 30
        )
        return parse_curl_output([url], done.returncode, done.stdout, done.stderr)[0].exit_code

    for url, exit_code in scenario.curls.items():
        assert _until(lambda: [curl(url) for _ in range(4)], [exit_code] * 4, timeout_s=30) == [exit_code] * 4, url


def test_the_cluster_refuses_writes_as_the_contract_says(namespace, seam):
    assert write_refusals(seam, namespace) == WRITE_REFUSALS
