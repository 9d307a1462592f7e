"""Shared test helpers: running exercises against the fake cluster."""

from __future__ import annotations

from datetime import datetime, timezone

from ruamel.yaml import YAML

from ckaprep.catalogue.loading import find_exercise
from ckaprep.cluster.images import CURL_IMAGE
from ckaprep.cluster.waiting import Waiter, no_progress
from ckaprep.grading.engine import grade
from ckaprep.grading.options import GradingOptions
from ckaprep.practice.lifecycle import start_attempt
from tests.conftest import FakeTime
from tests.fake_cluster import DOMAIN, FakeCluster

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def offer_what_it_needs(cluster, exercise) -> None:
    """Make the fake cluster offer what the exercise, and each fault of its pool, requires."""
    from ckaprep.catalogue.capabilities import parse_requires

    if hasattr(cluster, "meet"):
        cluster.meet(exercise.requires)
        for fault in (exercise.faults or {}).get("pool") or []:
            cluster.meet(parse_requires(fault.get("requires") or []))


def start_on(cluster, exercise_id: str, seed: int = 7):
    exercise = find_exercise(exercise_id)
    offer_what_it_needs(cluster, exercise)
    attempt = start_attempt(exercise, cluster, seed=seed, now=NOW, record=lambda a: None)
    return exercise, attempt


def live_values(cluster, attempt) -> dict[str, str]:
    """Values a learner reads from the cluster and pastes into the YAML solution."""
    params = attempt.params
    if "offset" in params and "cluster_ip" in params:  # service-cidr: the range kubectl shows
        return {"SERVICE_CIDR": cluster.list("ServiceCIDR", None)[0]["spec"]["cidrs"][0]}
    if "server" in params:  # selectorless-endpoints: the legacy Pod's IP
        pod = cluster.get("Pod", params["legacy_ns"], params["server"])
        return {"SERVER_IP": pod["status"]["podIP"]}
    if attempt.exercise == "dns-records":  # the cluster domain and the Pod's IP, with dashes
        pod = cluster.get("Pod", attempt.namespace, params["pod"])
        return {"<domain>": DOMAIN, "<a-b-c-d>": pod["status"]["podIP"].replace(".", "-")}
    if attempt.exercise == "cross-node-service":  # where the Pods run, from kubectl get pods -o wide

        def node(selector: str) -> str:
            return cluster.list("Pod", attempt.namespace, selector)[0]["spec"]["nodeName"]

        return {"BACKENDS_NODE": node(f"app={params['app']}"), "CLIENT_NODE": node(f"app={params['client']}")}
    if "configmap" in params and cluster.get("Service", attempt.namespace, params["service"]):
        service = cluster.get("Service", attempt.namespace, params["service"])
        return {"CLUSTER_IP": service["spec"]["clusterIP"]}
    return {}


def solution_manifests(exercise, attempt, cluster=None) -> list[dict]:
    text = exercise.solution_for(attempt.params)["yaml"]
    for placeholder, value in (live_values(cluster, attempt) if cluster else {}).items():
        text = text.replace(placeholder, value)
    return [doc for doc in YAML(typ="safe", pure=True).load_all(text) if doc]


def recreate_pod(fake: FakeCluster, namespace: str, name: str) -> None:
    """What `kubectl get pod -o yaml | kubectl replace --force -f -` does."""
    pod = fake.get("Pod", namespace, name)
    fake.delete("Pod", namespace, name)
    fake.wait_until_gone("Pod", namespace, name)
    fake.create(
        {k: v for k, v in pod.items() if k in ("apiVersion", "kind", "spec")}
        | {"metadata": {k: pod["metadata"][k] for k in ("name", "namespace", "labels")}}
    )


def apply_solution(fake: FakeCluster, exercise, attempt) -> None:
    for manifest in solution_manifests(exercise, attempt, fake):
        fake.apply(manifest)
    if exercise.id == "env-vars":  # the solution's second step
        recreate_pod(fake, attempt.namespace, attempt.params["client"])


def options(*, probe_image=CURL_IMAGE, wait_s=0.0, clock=None, progress=no_progress):
    """Grading options for a test: waits take no real time unless a test gives its own clock."""
    return GradingOptions(
        probe_image=probe_image, wait_s=wait_s, waiter=Waiter(progress=progress, clock=clock or FakeTime())
    )


def grade_now(exercise, attempt, cluster, **kw):
    report, _ = grade(exercise, attempt, cluster, options(**kw))
    return report


def statuses(report) -> dict[str, str]:
    return {c.id: c.status for c in report.checks}


def failed(report) -> set[str]:
    return {c.id for c in report.checks if c.status != "pass"}


def refuse_listing_nodes(cluster) -> None:
    """Make the fake refuse to list Nodes, as a classroom seat's credentials are refused."""
    from ckaprep.errors import PermissionDenied

    listed = cluster.list

    def seat_list(kind, namespace, *args, **kw):
        if kind == "Node":
            raise PermissionDenied('permission denied: nodes is forbidden: User "seat" cannot list resource "nodes"')
        return listed(kind, namespace, *args, **kw)

    cluster.list = seat_list
