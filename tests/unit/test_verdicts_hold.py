"""Verdicts that hold: every sentence of a task that states a requirement is graded, in the form
the task states, for the Pods of tomorrow as well as today's (issue 24)."""

from __future__ import annotations

import copy
import re

import pytest

from ckaprep.catalogue.loading import load_catalogue
from tests.helpers import apply_solution, grade_now, options, solution_manifests, start_on

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


# -- a selector pinned to today's Pods ---------------------------------------------------------------
def _answered(fake, exercise_id: str):
    exercise, attempt = start_on(fake, exercise_id)
    apply_solution(fake, exercise, attempt)
    return exercise, attempt


def _selector_with(fake, exercise, attempt, extra: dict | None = None, *, from_pod: str = ""):
    """The reference answer's selector widened by labels that today's backend Pods carry."""
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    if from_pod:  # what `kubectl expose pod` writes: every label of one Pod
        pod = fake.list("Pod", attempt.namespace, from_pod)[0]
        service["spec"]["selector"] = dict(pod["metadata"]["labels"])
    service["spec"]["selector"].update(extra or {})
    fake.apply(service)
    return _check(grade_now(exercise, attempt, fake), "selector")


def test_a_selector_copied_from_a_pod_is_pinned_to_its_replicaset(fake):
    exercise, attempt = _answered(fake, "clusterip-create")
    result = _selector_with(fake, exercise, attempt, from_pod="tier=backend")
    assert result.status == "fail"
    assert "pod-template-hash=" in result.message
    assert "next rollout" in result.message and "no endpoints" in result.message
    assert f"Deployment {attempt.params['app']}:" in result.message  # the labels to select on instead
    assert "kubectl expose pod" in result.message


def test_a_pinned_selector_fails_even_when_it_picks_exactly_todays_pods(fake):
    """Before this rule the check passed: the hash picks every Pod of today's ReplicaSet."""
    exercise, attempt = start_on(fake, "udp-service")
    apply_solution(fake, exercise, attempt)
    pod = fake.list("Pod", attempt.namespace, f"app={attempt.params['app']}")[0]
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    service["spec"]["selector"]["pod-template-hash"] = pod["metadata"]["labels"]["pod-template-hash"]
    fake.apply(service)
    report = grade_now(exercise, attempt, fake)
    assert {c.id for c in report.checks if c.status != "pass"} == {"selector"}


def test_a_statefulset_revision_pins_the_selector(fake):
    exercise, attempt = _answered(fake, "headless-statefulset")
    pod = fake.list("Pod", attempt.namespace, f"app={attempt.params['app']}")[0]
    revision = pod["metadata"]["labels"]["controller-revision-hash"]
    result = _selector_with(fake, exercise, attempt, {"controller-revision-hash": revision})
    assert result.status == "fail"
    assert f"controller-revision-hash={revision}" in result.message and "no endpoints" in result.message
    assert f"StatefulSet {attempt.params['app']}: app={attempt.params['app']},role=member" in result.message


def test_a_statefulset_pod_name_pins_the_selector_to_one_pod(fake):
    exercise, attempt = _answered(fake, "headless-statefulset")
    name = f"{attempt.params['app']}-0"
    result = _selector_with(fake, exercise, attempt, {"statefulset.kubernetes.io/pod-name": name})
    assert result.status == "fail"
    assert f"statefulset.kubernetes.io/pod-name={name}" in result.message and "one Pod" in result.message


def test_a_label_set_on_todays_pods_by_hand_is_not_the_templates(fake):
    exercise, attempt = _answered(fake, "multi-port-named")
    app = attempt.params["app"]
    for pod in fake.list("Pod", attempt.namespace, f"app={app}"):
        fake.patch(
            "Pod",
            attempt.namespace,
            pod["metadata"]["name"],
            lambda p: p["metadata"]["labels"].update({"picked": "yes"}),
        )
    result = _selector_with(fake, exercise, attempt, {"picked": "yes"})
    assert result.status == "fail"
    assert "picked=yes is not a label of Deployment" in result.found
    assert f"its labels: app={app}" in result.message and "the Service loses them" in result.message


@pytest.mark.parametrize("selector", [{"tier": "backend"}, {"app": "${app}", "tier": "backend"}])
def test_any_template_labels_that_pick_the_same_pods_are_an_equivalent_answer(fake, selector):
    exercise, attempt = _answered(fake, "clusterip-create")
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    service["spec"]["selector"] = {k: v.replace("${app}", attempt.params["app"]) for k, v in selector.items()}
    fake.apply(service)
    result = _check(grade_now(exercise, attempt, fake), "selector")
    assert result.status == "pass", result.message


def test_a_pinning_label_the_task_itself_names_is_allowed(fake):
    from ckaprep.grading.checks import KINDS
    from ckaprep.grading.context import GradingContext

    exercise, attempt = start_on(fake, "headless-statefulset")
    apply_solution(fake, exercise, attempt)
    name = f"{attempt.params['app']}-0"
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    service["spec"]["selector"] = {"statefulset.kubernetes.io/pod-name": name}
    fake.apply(service)
    ctx = GradingContext(fake, attempt, options(probe_image="curl"))
    spec = {"service": attempt.params["service"], "backends": f"statefulset.kubernetes.io/pod-name={name}"}
    assert KINDS["service_selector"].run(ctx, spec).found.endswith("selects 1 pod(s)")


def test_a_service_that_finds_its_pods_through_a_pinned_selector_fails_the_probe(fake):
    from ckaprep.catalogue.loading import find_exercise
    from ckaprep.practice.lifecycle import start_attempt
    from tests.helpers import NOW

    pool = find_exercise("troubleshoot-pool")
    attempt = start_attempt(
        pool, fake, seed=11, now=NOW, record=lambda a: None, faults=["selector-typo", "client-short-name"]
    )
    p, ns = attempt.params, attempt.namespace
    pod = fake.list("Pod", ns, f"app={p['app']},tier=web")[0]
    selector = {"app": p["app"], "tier": "web", "pod-template-hash": pod["metadata"]["labels"]["pod-template-hash"]}
    fake.patch("Service", ns, p["service"], lambda s: s["spec"].update(selector=selector))
    result = _check(grade_now(pool, attempt, fake), "short-name")
    assert result.status == "fail"
    assert "selector names pod-template-hash=" in result.found and "no endpoints" in result.message


# -- a named targetPort resolves by name and protocol ----------------------------------------------
def _udp_service_targeting(fake, target):
    exercise, attempt = start_on(fake, "udp-service")
    service = next(m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service")
    service["spec"]["ports"][0]["targetPort"] = target
    fake.apply(service)
    return exercise, attempt, grade_now(exercise, attempt, fake)


def test_a_udp_port_naming_a_tcp_container_port_resolves_to_nothing(fake):
    """The DNS server declares `dns` (UDP) and `dns-tcp` (TCP) on one number: before, the name
    was looked up without its protocol, so both the check and the simulated controller took
    dns-tcp for the UDP port."""
    exercise, attempt, report = _udp_service_targeting(fake, "dns-tcp")
    port, probe = _check(report, "port"), _check(report, "probe")
    assert port.status == "fail" and probe.status == "fail"
    assert "resolve to: nothing (no UDP port of that name)" in port.found
    assert "'dns-tcp' carries TCP" in port.message and "resolves to nothing" in port.message
    assert "'dns-tcp' carries TCP" in probe.message
    service = attempt.params["service"]
    [endpoint_slice] = fake.list("EndpointSlice", attempt.namespace, f"kubernetes.io/service-name={service}")
    assert endpoint_slice["ports"] == []  # the controller leaves the unresolved port out


def test_a_udp_port_naming_the_udp_container_port_resolves(fake):
    exercise, attempt, report = _udp_service_targeting(fake, "dns")
    assert {c.id for c in report.checks if c.status != "pass"} == set()


def test_a_tcp_probe_through_a_name_of_another_protocol_says_why_nothing_answers(fake):
    exercise, attempt = _answered(fake, "named-targetport")
    name = attempt.params["port_name"]
    for deployment in fake.list("Deployment", attempt.namespace):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for entry in container.get("ports") or []:
                if entry.get("name") == name:
                    entry["protocol"] = "UDP"
        fake.apply(deployment)
    report = grade_now(exercise, attempt, fake)
    probe = _check(report, "probe-all")
    assert probe.status == "fail"
    assert f"The container port named {name!r} carries UDP" in probe.message
    assert "resolves to nothing" in probe.message


# -- one image, written several ways ---------------------------------------------------------------
@pytest.mark.parametrize(
    "written, normalized",
    [
        ("busybox:1.36.1", "docker.io/library/busybox:1.36.1"),
        ("docker.io/library/busybox:1.36.1", "docker.io/library/busybox:1.36.1"),
        ("library/busybox:1.36.1", "docker.io/library/busybox:1.36.1"),
        ("index.docker.io/library/busybox:1.36.1", "docker.io/library/busybox:1.36.1"),
        ("busybox", "docker.io/library/busybox:latest"),
        ("curlimages/curl:8.11.1", "docker.io/curlimages/curl:8.11.1"),
        ("registry.k8s.io/coredns/coredns:v1.14.7", "registry.k8s.io/coredns/coredns:v1.14.7"),
        ("localhost:5000/web", "localhost:5000/web:latest"),
        ("busybox@sha256:" + "a" * 64, "docker.io/library/busybox@sha256:" + "a" * 64),
        ("busybox:1.36.1@sha256:" + "a" * 64, "docker.io/library/busybox@sha256:" + "a" * 64),
    ],
)
def test_image_references_are_read_as_the_runtime_reads_them(written, normalized):
    from ckaprep.cluster.images import normalized_image

    assert normalized_image(written) == normalized
    assert normalized_image(normalized) == normalized


def test_a_tag_and_a_digest_are_not_the_same_reference():
    from ckaprep.cluster.images import same_image

    assert not same_image("busybox:1.36.1", "busybox@sha256:" + "a" * 64)
    assert not same_image("busybox:1.36.1", "busybox:1.36")
    assert not same_image("busybox", "busybox:1.36.1")


def _client_recreated_with(fake, image: str):
    exercise, attempt = _answered(fake, "env-vars")
    ns, client = attempt.namespace, attempt.params["client"]
    pod = fake.get("Pod", ns, client)
    fake.delete("Pod", ns, client)
    fake.wait_until_gone("Pod", ns, client)
    spec = copy.deepcopy(pod["spec"])
    spec["containers"][0]["image"] = image
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "spec": spec,
            "metadata": {"name": client, "namespace": ns, "labels": pod["metadata"]["labels"]},
        }
    )
    return _check(grade_now(exercise, attempt, fake), "client-kept")


@pytest.mark.parametrize("image", ["busybox:1.36.1", "library/busybox:1.36.1", "docker.io/library/busybox:1.36.1"])
def test_the_same_image_written_another_way_is_kept(fake, image):
    result = _client_recreated_with(fake, image)
    assert result.status == "pass", result.message
    assert image in result.found


def test_another_image_is_not_kept_and_the_reason_names_the_image(fake):
    result = _client_recreated_with(fake, "busybox:1.36")
    assert result.status == "fail"
    assert "docker.io/library/busybox:1.36.1" in result.message


def test_a_deployment_kept_as_it_is_may_have_its_image_written_another_way(fake):
    exercise, attempt = _answered(fake, "blue-green")
    blue = fake.get("Deployment", attempt.namespace, f"{attempt.params['app']}-blue")
    blue["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36.1"
    fake.apply(blue)
    assert _check(grade_now(exercise, attempt, fake), "blue-unchanged").status == "pass"
    blue["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.37.0"
    fake.apply(blue)
    result = _check(grade_now(exercise, attempt, fake), "blue-unchanged")
    assert result.status == "fail" and "image" in result.found


# -- a failing probe says what the task says -------------------------------------------------------
def _clusterip_direct_with(fake, data: dict):
    exercise, attempt = start_on(fake, "clusterip-direct")
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "data": data,
            "metadata": {"name": attempt.params["configmap"], "namespace": attempt.namespace},
        }
    )
    return attempt, _check(grade_now(exercise, attempt, fake), "recorded-ip-works")


def test_the_probe_of_a_recorded_address_asks_for_an_address_not_a_url(fake):
    attempt, result = _clusterip_direct_with(fake, {"CLUSTER_IP": "10.96.0.1"})
    assert result.status == "fail"
    assert "URL" not in result.expected
    assert (
        f"holds the address of Service {attempt.params['service']} (just the address, no port and no scheme)"
        in result.expected
    )


def test_the_probe_of_a_recorded_address_names_the_clients_request(fake):
    attempt, result = _clusterip_direct_with(fake, {"SERVICE_IP": "10.96.255.254"})
    assert result.status == "fail"
    assert "URL" not in result.expected
    assert (
        f"for curl http://<SERVICE_IP>:{attempt.params['port']}, SERVICE_IP being the address in ConfigMap"
        in result.expected
    )
    assert f"holds 10.96.255.254, which is not the ClusterIP of Service {attempt.params['service']}" in result.message


def test_a_probe_through_a_recorded_url_still_asks_for_a_url(fake):
    exercise, attempt = _answered(fake, "dns-cross-namespace")
    fake.delete("ConfigMap", attempt.params["client_ns"], attempt.params["configmap"])
    result = _check(grade_now(exercise, attempt, fake), "url-works")
    assert result.status == "fail" and result.expected.endswith("holds a URL")


def test_endpoints_without_a_usable_port_say_the_name_carries_another_protocol(fake):
    exercise, attempt = _answered(fake, "named-targetport")
    name = attempt.params["port_name"]
    for track in ("stable", "canary"):
        deployment = fake.get("Deployment", attempt.namespace, f"{attempt.params['app']}-{track}")
        deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = "UDP"
        fake.apply(deployment)
    result = _check(grade_now(exercise, attempt, fake), "endpoints")
    assert result.status == "fail" and "without a usable port" in result.found
    assert f"The container port named {name!r} carries UDP, and a TCP Service port" in result.message


def test_a_zone_copied_from_the_node_pins_the_selector(fake):
    """On a cluster with zones, `kubectl expose pod` copies the zone the Pod was placed in."""
    exercise, attempt = _answered(fake, "clusterip-create")
    result = _selector_with(fake, exercise, attempt, {"topology.kubernetes.io/zone": "zone-a"})
    assert result.status == "fail"
    assert "topology.kubernetes.io/zone=zone-a" in result.message
    assert "Node it is placed on" in result.message and "another zone" in result.message
