"""Grading paths that no exercise's proofs reach on their own, each on the fake cluster."""

import copy
import dataclasses
from datetime import timedelta

from ckaprep.grading.engine import grade
from tests.conftest import FakeTime
from tests.helpers import (
    apply_solution,
    grade_now,
    options,
    recreate_pod,
    refuse_listing_nodes,
    solution_manifests,
    start_on,
    statuses,
)


def _check(report, check_id):
    return next(c for c in report.checks if c.id == check_id)


def _service(exercise, attempt) -> dict:
    return copy.deepcopy(next(m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service"))


def test_a_terminating_endpoint_that_says_ready_is_not_counted(fake):
    """publishNotReadyAddresses keeps `ready: true` on a terminating endpoint; only `terminating` tells."""
    exercise, attempt = start_on(fake, "clusterip-create")
    ns, p = attempt.namespace, attempt.params
    service = _service(exercise, attempt)
    service["spec"]["publishNotReadyAddresses"] = True
    fake.apply(service)
    backend = fake.list("Pod", ns, "tier=backend")[0]
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "leaving", "namespace": ns, "labels": backend["metadata"]["labels"]},
            "spec": backend["spec"] | {"terminationGracePeriodSeconds": 30},
        }
    )
    fake.delete("Pod", ns, "leaving")
    fake.quiet_for = timedelta(seconds=2)
    [slice_] = fake.list("EndpointSlice", ns, f"kubernetes.io/service-name={p['service']}")
    leaving = next(e for e in slice_["endpoints"] if e["targetRef"]["name"] == "leaving")
    assert leaving["conditions"] == {"ready": True, "serving": True, "terminating": True}
    endpoints = _check(grade_now(exercise, attempt, fake), "endpoints")
    assert endpoints.status == "pass" and endpoints.found.startswith("2 ready,"), endpoints.found


def test_an_answer_from_a_pod_that_is_not_a_backend(fake):
    """The Service selects only the decoy, which serves on the same port: the probe names who answered."""
    exercise, attempt = start_on(fake, "clusterip-create")
    service = _service(exercise, attempt)
    service["spec"]["selector"] = {"tier": "debug"}
    fake.apply(service)
    probe = _check(grade_now(exercise, attempt, fake), "probe-short")
    assert probe.status == "fail"
    assert f"answered by '{attempt.params['app']}-debug', not a backend pod" in probe.found
    assert "not a backend: check which pods the selector picks" in probe.message


def test_check_gives_up_at_wait_while_the_cluster_keeps_moving(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    ns = attempt.namespace
    backends = [p["metadata"]["name"] for p in fake.list("Pod", ns, "tier=backend")]
    fake.set_ready(ns, backends[0], False)

    def after_sleep(seconds):  # time passes on both clocks, and a backend keeps flapping
        fake.advance(seconds)
        fake.set_ready(ns, backends[1], clock.elapsed % 2 == 0)

    fake.quiet_for = timedelta(seconds=1)
    clock = FakeTime(on_sleep=after_sleep)
    report, _ = grade(exercise, attempt, fake, options(wait_s=6, clock=clock))
    assert statuses(report)["endpoints"] == "fail"
    assert 6 <= clock.elapsed <= 7
    assert any(
        n.startswith("The cluster was still moving (") and "when --wait (6 s) ran out" in n for n in report.notes
    ), report.notes


def test_a_failure_is_final_once_the_cluster_has_been_quiet_long_enough(fake):
    """The same wrong state, but nothing moves: once changes are older than the settling time, check stops."""
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    ns = attempt.namespace
    fake.set_ready(ns, fake.list("Pod", ns, "tier=backend")[0]["metadata"]["name"], False)
    fake.quiet_for = timedelta(seconds=1)

    def after_sleep(seconds):
        fake.advance(seconds)

    clock = FakeTime(on_sleep=after_sleep)
    report, _ = grade(exercise, attempt, fake, options(wait_s=60, clock=clock))
    assert statuses(report)["endpoints"] == "fail"
    # It waited while the change was recent on the server's clock, and no longer: far from --wait.
    assert 1 <= clock.elapsed <= 8, report.notes
    assert any(n.startswith("Waited") and "changed less than 8 s ago" in n for n in report.notes), report.notes
    assert not any(n.startswith("The cluster was still moving") for n in report.notes), report.notes


def test_env_vars_with_values_of_a_replaced_service(fake):
    """The client started after the first Service, which was then recreated with a new ClusterIP."""
    exercise, attempt = start_on(fake, "env-vars")
    apply_solution(fake, exercise, attempt)
    ns, p = attempt.namespace, attempt.params
    old_ip = fake.get("Service", ns, p["service"])["spec"]["clusterIP"]
    fake.delete("Service", ns, p["service"])
    fake.apply(_service(exercise, attempt))
    new_ip = fake.get("Service", ns, p["service"])["spec"]["clusterIP"]
    assert new_ip != old_ip
    env = _check(grade_now(exercise, attempt, fake), "client-env")
    assert env.status == "fail"
    assert f"_SERVICE_HOST={old_ip}" in env.found and new_ip in env.expected
    assert "recreate the pod after changing it" in env.message


def test_client_recreated_with_another_command(fake):
    exercise, attempt = start_on(fake, "env-vars")
    apply_solution(fake, exercise, attempt)
    ns, client = attempt.namespace, attempt.params["client"]
    fake.patch("Pod", ns, client, lambda pod: pod["spec"]["containers"][0].update(command=["sleep", "3600"]))
    report = grade_now(exercise, attempt, fake)
    kept = _check(report, "client-kept")
    assert kept.status == "fail" and kept.found == 'command ["sleep", "3600"]'
    assert "same command" in kept.message
    recreate_pod(fake, ns, client)  # recreated as it is now: still the other command
    assert _check(grade_now(exercise, attempt, fake), "client-kept").status == "fail"


def test_deployment_unchanged_without_a_record_from_start(fake):
    exercise, attempt = start_on(fake, "troubleshoot-broken")
    assert attempt.records  # start records them
    unrecorded = dataclasses.replace(attempt, fingerprints={}, records={})
    check = _check(grade_now(exercise, unrecorded, fake), "deployment-unchanged")
    assert check.status == "fail" and check.found == f"no record of Deployment {attempt.params['app']} from start"
    assert "ckaprep reset" in check.message


def test_service_selector_on_a_service_without_selector(fake):
    exercise, attempt = start_on(fake, "troubleshoot-broken")
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    del service["spec"]["selector"]
    fake.patch("Service", attempt.namespace, attempt.params["service"], lambda svc: svc["spec"].pop("selector"))
    selector = _check(grade_now(exercise, attempt, fake), "selector")
    assert selector.status == "fail" and selector.found == "the Service has no selector"
    assert "Without a selector nothing keeps its endpoints current" in selector.message


def test_a_wrong_answer_is_graded_by_credentials_that_may_not_list_nodes(fake):
    """A classroom seat may not list Nodes. Advice that would read them (a policy, Local without a
    local endpoint) does without, and the wrong answer fails by its cause: never an error."""
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    port = attempt.params["port"]
    fake.patch(
        "Service", attempt.namespace, attempt.params["service"], lambda s: s["spec"]["ports"][0].update(targetPort=port)
    )
    refuse_listing_nodes(fake)
    report = grade_now(exercise, attempt, fake)
    assert "error" not in statuses(report).values(), [(c.id, c.found) for c in report.checks]
    assert "fail" in statuses(report).values()
