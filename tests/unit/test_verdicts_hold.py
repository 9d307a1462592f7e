"""Verdicts that hold: every sentence of a task that states a requirement is graded, in the form
the task states, for the Pods of tomorrow as well as today's (issue 24)."""

from __future__ import annotations

import copy
import re

import pytest

from ckaprep.catalogue.exercise import load_catalogue
from tests.helpers import apply_solution, grade_now, solution_manifests, start_on

CATALOGUE = load_catalogue()


def _check(report, check_id: str):
    return next(c for c in report.checks if c.id == check_id)


def _said(result) -> str:
    return " ".join(f"{result.expected} {result.found} {result.message}".split())


# -- a sentence no check grades: "a ClusterIP Service" -----------------------------------------
# The sentences that ask for the type: "a ClusterIP Service", "of type **ClusterIP**",
# "type ClusterIP", "type (ClusterIP)". "the **ClusterIP** of Service x" names an address.
CLUSTERIP_TYPE = re.compile(r"ClusterIP\** Service|type \**\(?ClusterIP\b")
ASKS_FOR_CLUSTERIP = sorted(i for i, ex in CATALOGUE.items() if CLUSTERIP_TYPE.search(ex.task))


def test_the_type_sentences_are_found():
    assert {"clusterip-create", "service-cidr", "udp-service", "troubleshoot-broken"} <= set(ASKS_FOR_CLUSTERIP)
    assert "clusterip-direct" not in ASKS_FOR_CLUSTERIP


@pytest.mark.parametrize("other_type", ["NodePort", "LoadBalancer"])
@pytest.mark.parametrize("exercise_id", ASKS_FOR_CLUSTERIP)
def test_a_service_of_another_type_fails_where_the_task_says_clusterip(fake, exercise_id, other_type):
    exercise, attempt = start_on(fake, exercise_id)
    apply_solution(fake, exercise, attempt)
    service = copy.deepcopy(fake.get("Service", attempt.namespace, attempt.params["service"]))
    service["spec"]["type"] = other_type
    fake.apply(service)
    report = grade_now(exercise, attempt, fake)
    failing = [c for c in report.checks if c.status != "pass"]
    assert failing, f"a {other_type} Service passes every check of {exercise_id}"
    assert any("ClusterIP" in _said(c) and other_type in _said(c) for c in failing), [_said(c) for c in failing]


def test_the_type_reason_names_both_types_and_what_the_other_one_does(fake):
    exercise, attempt = start_on(fake, "service-cidr")
    apply_solution(fake, exercise, attempt)
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    service["spec"]["type"] = "NodePort"
    fake.apply(service)
    result = _check(grade_now(exercise, attempt, fake), "type")
    assert result.status == "fail"
    assert "asks for type ClusterIP" in result.message
    assert "is of type NodePort" in result.message
    assert "every node" in result.message


# -- a sentence no check grades: "only the Ready Pods" -------------------------------------------
def _headless_publishing_not_ready(fake):
    exercise, attempt = start_on(fake, "headless-deployment")
    service = next(m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service")
    service["spec"]["publishNotReadyAddresses"] = True
    fake.apply(service)
    return exercise, attempt


def test_publishing_not_ready_pods_fails_even_while_every_pod_is_ready(fake):
    exercise, attempt = _headless_publishing_not_ready(fake)
    warming = attempt.params["warming"]
    fake.delete("Pod", attempt.namespace, warming)  # the one Pod that is not Ready
    fake.wait_until_gone("Pod", attempt.namespace, warming)
    result = _check(grade_now(exercise, attempt, fake), "a-record")
    assert result.status == "fail"
    assert "publishNotReadyAddresses: true" in result.found
    assert "every selected Pod" in result.message and "Ready Pods only" in result.message


def test_publishing_not_ready_pods_names_the_field_while_one_is_not_ready(fake):
    exercise, attempt = _headless_publishing_not_ready(fake)
    result = _check(grade_now(exercise, attempt, fake), "a-record")
    assert result.status == "fail"
    assert attempt.params["warming"] in result.message and "publishNotReadyAddresses" in result.message


def test_publishing_not_ready_pods_is_allowed_where_the_task_does_not_forbid_it(fake):
    exercise, attempt = start_on(fake, "headless-statefulset")
    service = next(m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service")
    service["spec"]["publishNotReadyAddresses"] = True  # peers that must find each other early
    fake.apply(service)
    assert _check(grade_now(exercise, attempt, fake), "service-record").status == "pass"


# -- formats the task states ---------------------------------------------------------------------
def _service_cidr_answer(fake, value: str):
    exercise, attempt = start_on(fake, "service-cidr")
    apply_solution(fake, exercise, attempt)
    configmap = fake.get("ConfigMap", attempt.namespace, attempt.params["configmap"])
    configmap["data"]["service-cidr"] = value
    fake.apply(configmap)
    return _check(grade_now(exercise, attempt, fake), "cidr")


@pytest.mark.parametrize("value", ["10.96.0.0/255.255.0.0", "10.96.0.0/0.0.255.255"])
def test_cidr_notation_refuses_a_mask_after_the_slash(fake, value):
    result = _service_cidr_answer(fake, value)
    assert result.status == "fail"
    assert "CIDR notation" in result.message and "10.96.0.0/16" in result.message


def test_cidr_notation_accepts_the_prefix_length(fake):
    assert _service_cidr_answer(fake, " 10.96.0.0/16\n").status == "pass"


def _dns_records_answers(fake, dot: str):
    exercise, attempt = start_on(fake, "dns-records")
    apply_solution(fake, exercise, attempt)
    configmap = fake.get("ConfigMap", attempt.namespace, attempt.params["configmap"])
    for key in ("SERVICE_FQDN", "SRV_NAME", "POD_RECORD"):
        configmap["data"][key] += dot
    fake.apply(configmap)
    return grade_now(exercise, attempt, fake)


def test_names_with_a_trailing_dot_fail_where_the_task_says_without(fake):
    report = _dns_records_answers(fake, ".")
    for check_id in ("service-fqdn", "srv-name", "pod-record"):
        result = _check(report, check_id)
        assert result.status == "fail"
        assert "without a trailing dot" in result.message
        assert result.found.rstrip("'").endswith(".")
    assert _check(report, "srv-port").status == "pass"


def test_names_compare_without_case(fake):
    exercise, attempt = start_on(fake, "dns-records")
    apply_solution(fake, exercise, attempt)
    configmap = fake.get("ConfigMap", attempt.namespace, attempt.params["configmap"])
    configmap["data"]["SERVICE_FQDN"] = configmap["data"]["SERVICE_FQDN"].upper()
    fake.apply(configmap)
    assert _check(grade_now(exercise, attempt, fake), "service-fqdn").status == "pass"
