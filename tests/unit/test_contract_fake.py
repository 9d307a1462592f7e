"""The fake cluster against the contract scenarios (tests/contract.py), which the real cluster meets too."""

from datetime import timedelta

import pytest

from ckaprep.grading.probes import curl_argv, parse_curl_output
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


def run_on_fake(fake, scenario, namespace="contract"):
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for manifest in namespaced(scenario.manifests + [client_pod()], namespace):
        fake.create(manifest)
    for pod in scenario.deletes:
        fake.delete("Pod", namespace, pod)
    fake.quiet_for = timedelta(seconds=1)  # read right after: a Pod that was deleted is still terminating
    return slice_view(fake.list("EndpointSlice", namespace), scenario.service)


def curl_on_fake(fake, url, namespace="contract"):
    done = fake.exec(namespace, CLIENT, curl_argv([url]), timeout=10)
    return parse_curl_output([url], done.returncode, done.stdout, done.stderr)[0].exit_code


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_fake_meets_the_contract(fake, scenario):
    assert run_on_fake(fake, scenario) == expected_view(scenario)
    for url, exit_code in scenario.curls.items():
        for _ in range(4):  # every endpoint in turn
            assert curl_on_fake(fake, url) == exit_code, url


def test_the_terminating_pod_is_gone_once_its_grace_period_is_over(fake):
    scenario = next(s for s in SCENARIOS if s.deletes)
    run_on_fake(fake, scenario)
    fake.advance(scenario.manifests[1]["spec"]["terminationGracePeriodSeconds"])
    [(_, _, endpoints)] = slice_view(fake.list("EndpointSlice", "contract"), scenario.service)
    assert list(endpoints) == ["stays"]


def test_the_fake_refuses_writes_as_the_contract_says(fake):
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "contract"}})
    assert write_refusals(fake, "contract") == WRITE_REFUSALS
