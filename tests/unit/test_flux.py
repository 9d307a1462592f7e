"""When the cluster is still in flux, and when a failing verdict is final."""

from datetime import datetime, timedelta, timezone

from ckaprep.grading.flux import SETTLE_AFTER_CHANGE_S, NamespaceView, reasons_in_flux

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
LONG_AGO = (NOW - timedelta(hours=1)).isoformat()


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def pod(
    name="web-1",
    *,
    ready=True,
    phase="Running",
    ip="10.244.0.5",
    labels=None,
    started=LONG_AGO,
    waiting=None,
    probe=None,
    deleting=False,
    container_ports=None,
    conditions=None,
):
    container = {"name": "web", "image": "httpd", "ports": container_ports or []}
    if probe is not None:
        container["readinessProbe"] = probe
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": started}}
    meta = {"name": name, "labels": labels or {"app": "web"}, "creationTimestamp": LONG_AGO}
    if deleting:
        meta["deletionTimestamp"] = NOW.isoformat()
    return {
        "metadata": meta,
        "spec": {"containers": [container]},
        "status": {
            "phase": phase,
            "podIP": ip,
            "conditions": conditions or [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"name": "web", "ready": ready, "state": state}],
        },
    }


def service(name="web", selector=None, ports=None):
    return {
        "metadata": {"name": name, "creationTimestamp": LONG_AGO},
        "spec": {
            "selector": selector if selector is not None else {"app": "web"},
            "ports": ports or [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
        },
    }


def endpoint_slice(service_name="web", endpoints=(), ports=(("", 8080),), changed=LONG_AGO):
    return {
        "metadata": {
            "name": f"{service_name}-abcde",
            "creationTimestamp": LONG_AGO,
            "managedFields": [{"manager": "kube-controller-manager", "time": changed}],
            "labels": {
                "kubernetes.io/service-name": service_name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        },
        "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": r}} for ip, r in endpoints],
    }


def view(pods=(), services=(), slices=(), endpoints=(), deployments=(), replica_sets=(), stateful_sets=()):
    return NamespaceView(
        "ns",
        list(pods),
        list(services),
        list(slices),
        list(endpoints),
        list(deployments),
        list(replica_sets),
        list(stateful_sets),
    )


def settled(**parts):
    return reasons_in_flux([view(**parts)], NOW)


def test_a_settled_namespace_has_no_reasons():
    assert settled(pods=[pod()], services=[service()], slices=[endpoint_slice(endpoints=[("10.244.0.5", True)])]) == []


def test_a_pod_that_is_creating_its_container_is_in_flux():
    reasons = settled(pods=[pod(ready=False, phase="Pending", waiting="ContainerCreating")])
    assert reasons == ["pod web-1 is starting (ContainerCreating)"]


def test_pods_stuck_on_their_image_or_crashing_are_settled():
    for reason in ("ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "CreateContainerConfigError"):
        phase = "Running" if reason == "CrashLoopBackOff" else "Pending"
        assert settled(pods=[pod(ready=False, phase=phase, waiting=reason)]) == [], reason


def test_an_unschedulable_pod_is_settled():
    unschedulable = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
    assert settled(pods=[pod(ready=False, phase="Pending", waiting="", conditions=unschedulable)]) == []


def test_a_terminating_pod_is_in_flux():
    assert settled(pods=[pod(deleting=True)]) == ["pod web-1 is terminating"]


def test_a_readiness_probe_gets_its_first_chance_then_a_failing_pod_is_settled():
    probe = {"httpGet": {"path": "/healthz", "port": 8080}, "initialDelaySeconds": 5, "periodSeconds": 3}
    # due after 5 + 3 x 1 + 2 s of slack = 10 s
    assert (
        "readiness probe has until 10 s after the start"
        in settled(pods=[pod(ready=False, probe=probe, started=ago(9))])[0]
    )
    assert settled(pods=[pod(ready=False, probe=probe, started=ago(11))]) == []


def test_a_not_ready_pod_without_a_probe_is_settled():
    assert settled(pods=[pod(ready=False)]) == []


def test_slices_that_miss_a_selected_pod_are_behind():
    pods = [pod("web-1", ip="10.244.0.5"), pod("web-2", ip="10.244.0.6")]
    slices = [endpoint_slice(endpoints=[("10.244.0.5", True)])]
    assert settled(pods=pods, services=[service()], slices=slices) == [
        "the EndpointSlices of Service web do not yet match the pods it selects"
    ]


def test_slices_that_still_show_an_old_readiness_are_behind():
    slices = [endpoint_slice(endpoints=[("10.244.0.5", True)])]
    assert settled(pods=[pod(ready=False)], services=[service()], slices=slices) != []


def test_slices_with_the_old_target_port_are_behind():
    slices = [endpoint_slice(endpoints=[("10.244.0.5", True)], ports=[("", 9090)])]
    assert settled(pods=[pod()], services=[service()], slices=slices) != []


def test_a_named_target_port_the_pod_does_not_declare_leaves_the_slice_without_ports():
    svc = service(ports=[{"name": "http", "port": 80, "targetPort": "web-http", "protocol": "TCP"}])
    slices = [endpoint_slice(endpoints=[("10.244.0.5", True)], ports=[])]
    assert settled(pods=[pod()], services=[svc], slices=slices) == []
    declared = pod(container_ports=[{"name": "web-http", "containerPort": 8080}])
    assert settled(pods=[declared], services=[svc], slices=slices) != []
    resolved = [endpoint_slice(endpoints=[("10.244.0.5", True)], ports=[("http", 8080)])]
    assert settled(pods=[declared], services=[svc], slices=resolved) == []


def test_a_selector_that_picks_nothing_is_settled_with_an_empty_slice():
    svc = service(selector={"app": "typo"})
    assert settled(pods=[pod()], services=[svc], slices=[endpoint_slice()]) == []


def test_a_service_without_a_selector_is_left_to_its_hand_made_endpoints():
    assert settled(pods=[pod()], services=[service(selector={})]) == []


def test_a_recent_change_keeps_the_cluster_in_flux_for_kube_proxy_and_dns():
    fresh = endpoint_slice(endpoints=[("10.244.0.5", True)], changed=ago(SETTLE_AFTER_CHANGE_S - 1))
    reasons = settled(pods=[pod()], services=[service()], slices=[fresh])
    assert reasons == [
        "EndpointSlice web-abcde changed less than 8 s ago (kube-proxy and DNS apply a change "
        "a moment after the API shows it)"
    ]
    older = endpoint_slice(endpoints=[("10.244.0.5", True)], changed=ago(SETTLE_AFTER_CHANGE_S + 1))
    assert settled(pods=[pod()], services=[service()], slices=[older]) == []


def test_probe_pods_are_not_the_learners_and_never_keep_it_in_flux():
    probe_pod = pod(
        "ckaprep-probe-1",
        labels={"ckaprep.io/role": "probe"},
        phase="Pending",
        ready=False,
        waiting="ContainerCreating",
    )
    probe_pod["metadata"]["creationTimestamp"] = ago(1)
    assert settled(pods=[probe_pod]) == []


def test_a_pod_status_rewrite_alone_keeps_nothing_in_flux():
    rewritten = pod()
    rewritten["metadata"]["managedFields"] = [{"manager": "kubelet", "subresource": "status", "time": ago(1)}]
    slices = [endpoint_slice(endpoints=[("10.244.0.5", True)])]
    assert settled(pods=[rewritten], services=[service()], slices=slices) == []


def workload(kind="Deployment", name="web", *, replicas=2, running=2, generation=3, observed=3, uid="d1", owner=None):
    meta = {"name": name, "uid": uid, "generation": generation, "creationTimestamp": LONG_AGO}
    if owner:
        meta["ownerReferences"] = [{"kind": "Deployment", "uid": owner, "controller": True, "name": "web"}]
    return {
        "kind": kind,
        "metadata": meta,
        "spec": {"replicas": replicas},
        "status": {"observedGeneration": observed, "replicas": running},
    }


def test_a_workload_that_matches_its_spec_is_settled():
    assert (
        settled(
            deployments=[workload()],
            replica_sets=[workload("ReplicaSet", "web-abc", uid="r1", owner="d1")],
            stateful_sets=[workload("StatefulSet", "db", uid="s1")],
        )
        == []
    )


def test_a_change_its_controller_has_not_seen_is_in_flux():
    reasons = settled(deployments=[workload(generation=4, observed=3)])
    assert reasons == ["Deployment web has a change its controller has not acted on yet"]


def test_a_workload_running_another_count_than_its_spec_is_in_flux():
    assert settled(stateful_sets=[workload("StatefulSet", "db", replicas=3, running=1)]) == [
        "StatefulSet db runs 1 Pod(s) and is told to run 3"
    ]


def test_a_replica_set_scaled_by_hand_is_about_to_be_scaled_back():
    by_hand = workload("ReplicaSet", "web-abc", replicas=4, running=4, uid="r1", owner="d1")
    reasons = settled(deployments=[workload(replicas=2, running=4)], replica_sets=[by_hand])
    assert (
        "ReplicaSet web-abc holds 4 replica(s) where Deployment web wants 2: the Deployment controller sets it back"
    ) in reasons


def test_a_workload_whose_status_was_never_written_is_judged_by_its_age_only():
    fresh = workload()
    fresh["status"] = {}
    assert settled(deployments=[fresh]) == []


class _Reads:
    """What cluster_dns_down reads: kube-system's EndpointSlices, or a refusal."""

    def __init__(self, slices=None, refused=False):
        self.slices, self.refused = slices or [], refused

    def list(self, kind, namespace, selector=""):
        from ckaprep.errors import PermissionDenied

        if self.refused:
            raise PermissionDenied("permission denied: endpointslices is forbidden")
        assert (kind, namespace, selector) == ("EndpointSlice", "kube-system", "kubernetes.io/service-name=kube-dns")
        return self.slices


def _dns_slice(*conditions):
    return {
        "metadata": {"name": "kube-dns-x"},
        "endpoints": [{"addresses": ["10.244.0.2"], "conditions": c} for c in conditions],
    }


def test_cluster_dns_restarting_keeps_a_check_waiting():
    from ckaprep.grading.engine import cluster_dns_down

    restarting = _dns_slice({"ready": False, "terminating": True}, {"ready": False})
    assert cluster_dns_down(_Reads([restarting])) == [
        "cluster DNS (Service kube-system/kube-dns) has no Ready server: it is restarting"
    ]
    assert cluster_dns_down(_Reads([_dns_slice({"ready": True}, {"ready": False})])) == []
    assert cluster_dns_down(_Reads([])) == []  # no such Service here: not judged
    assert cluster_dns_down(_Reads(refused=True)) == []  # a seat may not read kube-system


def test_a_slice_left_by_a_deleted_service_of_the_same_name_is_in_flux():
    current = service()
    current["metadata"]["uid"] = "new"
    old = endpoint_slice(endpoints=[("10.244.0.5", True)])
    old["metadata"]["ownerReferences"] = [{"kind": "Service", "name": "web", "uid": "old"}]
    assert settled(pods=[pod()], services=[current], slices=[old]) == [
        "an EndpointSlice of an earlier Service named web is still being removed"
    ]
    old["metadata"]["ownerReferences"][0]["uid"] = "new"
    assert settled(pods=[pod()], services=[current], slices=[old]) == []
