"""troubleshoot-pool: answers that make the clients work the wrong way, graded on the fake."""

from ckaprep.catalogue.loading import find_exercise
from ckaprep.practice.lifecycle import start_attempt
from tests.helpers import NOW, failed, grade_now, refuse_listing_nodes

POOL = find_exercise("troubleshoot-pool")


def _start(fake, faults, seed=11):
    return start_attempt(POOL, fake, seed=seed, now=NOW, record=lambda a: None, faults=faults)


def _check(report, check_id):
    return next(c for c in report.checks if c.id == check_id)


def _deployment_pods(fake, attempt):
    app = attempt.params["app"]
    return [p for p in fake.list("Pod", attempt.namespace) if p["metadata"]["name"].startswith(f"{app}-")]


def _relabel(fake, attempt, **labels):
    """`kubectl label pods -l app=<app> key=value --overwrite`."""
    for pod in _deployment_pods(fake, attempt):
        fake.patch("Pod", attempt.namespace, pod["metadata"]["name"], lambda p: p["metadata"]["labels"].update(labels))


def _fix_udp(fake, attempt):
    fake.patch(
        "Service", attempt.namespace, attempt.params["service"], lambda s: s["spec"]["ports"][0].update(protocol="TCP")
    )


def test_relabelling_the_pods_instead_of_fixing_the_service_breaks_a_constraint(fake):
    attempt = _start(fake, ["pod-labels-changed", "udp-protocol"])
    _fix_udp(fake, attempt)
    _relabel(fake, attempt, tier="web")
    report = grade_now(POOL, attempt, fake)
    assert failed(report) == {"pod-labels-kept"}, [(c.id, c.found) for c in report.checks]
    assert report.score < 100
    check = _check(report, "pod-labels-kept")
    new_tier = attempt.params["new_tier"]
    assert "relabelled by hand: tier=web where the template gives tier=" + new_tier in check.found
    assert "and 1 more Pod(s)" in check.found
    assert "Service's selector" in check.message


def test_the_service_made_to_follow_the_pods_keeps_the_constraint(fake):
    attempt = _start(fake, ["pod-labels-changed", "udp-protocol"])
    _fix_udp(fake, attempt)
    p = attempt.params
    fake.patch(
        "Service",
        attempt.namespace,
        p["service"],
        lambda s: s["spec"].update(selector={"app": p["app"], "tier": p["new_tier"]}),
    )
    report = grade_now(POOL, attempt, fake)
    assert report.score == 100, [(c.id, c.found) for c in report.checks if c.status != "pass"]
    assert "2 Pod(s), each labelled as the template says" in _check(report, "pod-labels-kept").found


def test_an_added_label_or_a_pod_released_from_its_replicaset_counts_as_relabelled(fake):
    attempt = _start(fake, ["selector-typo", "readiness-path"])
    _relabel(fake, attempt, extra="yes")
    assert "extra=yes added" in _check(grade_now(POOL, attempt, fake), "pod-labels-kept").found

    attempt = _start(fake, ["selector-typo", "udp-protocol"], seed=12)
    [first, _] = _deployment_pods(fake, attempt)
    typo = attempt.params["app_typo"]

    def release(pod):  # out of its ReplicaSet's selector: the controller drops the owner reference
        pod["metadata"]["labels"]["app"] = typo
        pod["metadata"].pop("ownerReferences")

    fake.patch("Pod", attempt.namespace, first["metadata"]["name"], release)
    check = _check(grade_now(POOL, attempt, fake), "pod-labels-kept")
    assert check.status == "fail"
    assert f"{first['metadata']['name']} was relabelled by hand: app={typo} where" in check.found


def test_pods_of_another_owner_are_not_the_deployments(fake):
    attempt = _start(fake, ["selector-typo", "readiness-path"])
    app = attempt.params["app"]
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": f"{app}-debug", "namespace": attempt.namespace, "labels": {"run": "debug"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )
    assert _check(grade_now(POOL, attempt, fake), "pod-labels-kept").status == "pass"


def test_an_external_name_service_left_as_it_is_fails_naming_the_alias(fake):
    attempt = _start(fake, ["external-name", "udp-protocol"])
    p = attempt.params
    service = fake.get("Service", attempt.namespace, p["service"])
    assert service["spec"]["type"] == "ExternalName" and "clusterIP" not in service["spec"]
    _fix_udp(fake, attempt)
    report = grade_now(POOL, attempt, fake)
    assert failed(report) == {"short-name", "client-url"}
    for check_id in ("short-name", "client-url"):
        check = _check(report, check_id)
        assert "DNS lookup failed" in check.found
        assert f"of type ExternalName, a DNS alias for {p['legacy_host']}, which does not resolve" in check.message


def test_the_external_name_fixed_back_to_cluster_ip_gets_an_address_and_full_marks(fake):
    attempt = _start(fake, ["external-name", "udp-protocol"])
    p = attempt.params
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": p["app"], "tier": "web"},
                "ports": [{"name": "http", "port": p["port"], "targetPort": "http"}],
            },
        }
    )
    assert fake.get("Service", attempt.namespace, p["service"])["spec"]["clusterIP"].startswith("10.96.")
    report = grade_now(POOL, attempt, fake)
    assert report.score == 100, [(c.id, c.found) for c in report.checks if c.status != "pass"]


def _hand_written_endpoints(fake, attempt, ip, port):
    """The Service's selector removed, and Endpoints written for it by hand."""
    p = attempt.params
    fake.patch("Service", attempt.namespace, p["service"], lambda s: s["spec"].pop("selector"))
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "http", "port": port}]}],
        }
    )


def test_a_selectorless_service_with_a_stale_endpoint_names_the_address(fake):
    attempt = _start(fake, ["target-port-number", "client-short-name"])
    p = attempt.params
    _hand_written_endpoints(fake, attempt, "192.0.2.10", p["target_port"])
    check = _check(grade_now(POOL, attempt, fake), "short-name")
    assert check.status == "fail"
    assert (
        f"Service {p['service']} has no selector, so its endpoints are what was written by hand: "
        f"Endpoints {p['service']} points at 192.0.2.10 (port {p['target_port']}), "
        "and no Pod has that address now."
    ) in check.message
    assert "kubectl set selector" in check.message


def test_a_selectorless_service_sending_a_pod_the_wrong_port_names_the_port(fake):
    attempt = _start(fake, ["target-port-number", "client-short-name"])
    p = attempt.params
    pod = _deployment_pods(fake, attempt)[0]
    ip = pod["status"]["podIP"]
    _hand_written_endpoints(fake, attempt, ip, p["wrong_target"])
    check = _check(grade_now(POOL, attempt, fake), "short-name")
    assert check.status == "fail"
    assert (
        f"Endpoints {p['service']} sends port {p['wrong_target']} to Pod {pod['metadata']['name']} ({ip}), "
        f"which declares {p['target_port']}."
    ) in check.message


def test_endpoints_written_by_hand_for_todays_pods_answer_but_do_not_pass(fake):
    attempt = _start(fake, ["hand-written-endpoints", "client-short-name"])
    p = attempt.params
    fake.mirrors_endpoints = True  # as the real controller: hand-made Endpoints become a slice
    fake.delete("Endpoints", attempt.namespace, p["service"])
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "subsets": [
                {
                    "addresses": [{"ip": pod["status"]["podIP"]} for pod in _deployment_pods(fake, attempt)],
                    "ports": [{"name": "http", "port": p["target_port"]}],
                }
            ],
        }
    )
    check = _check(grade_now(POOL, attempt, fake), "short-name")
    assert check.status == "fail"
    assert "→" in check.found and check.found.endswith(f"but Service {p['service']} has no selector")
    assert "go stale as soon as the Pods are replaced" in check.message


def test_a_fixed_service_whose_name_dns_still_caches_says_so():
    from tests.fake_cluster import FakeCluster

    class CachingDns(FakeCluster):
        """Cluster DNS that still answers from its cache: the name does not resolve yet."""

        def _answer(self, source_ns, url):
            return 6, "", "Could not resolve host"

    fake = CachingDns()
    attempt = _start(fake, ["external-name", "udp-protocol"])
    p = attempt.params
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": p["app"], "tier": "web"},
                "ports": [{"name": "http", "port": p["port"], "targetPort": "http"}],
            },
        }
    )
    report = grade_now(POOL, attempt, fake)
    short, client = _check(report, "short-name"), _check(report, "client-url")
    assert f"Service {p['service']} exists now, yet {p['service']} did not resolve" in short.message
    assert f"yet {p['service']}.{attempt.namespace} did not resolve" in client.message
    assert "answers from its cache" in client.message


def test_a_url_in_another_cluster_domain_is_not_blamed_on_the_dns_cache(fake):
    attempt = _start(fake, ["external-name", "udp-protocol"])
    p = attempt.params
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "spec": {
                "type": "ClusterIP",
                "selector": {"app": p["app"], "tier": "web"},
                "ports": [{"name": "http", "port": p["port"], "targetPort": "http"}],
            },
        }
    )
    url = f"http://{p['service']}.{attempt.namespace}.svc.example.org:{p['port']}"
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "client-config", "namespace": p["client_ns"]},
            "data": {"BACKEND_URL": url},
        }
    )
    client = _check(grade_now(POOL, attempt, fake), "client-url")
    assert client.status == "fail" and "DNS lookup failed" in client.found
    assert "cache" not in client.message and "does not resolve" in client.message


def test_the_zone_the_api_server_copies_from_the_node_is_not_a_relabelling(fake):
    """From Kubernetes 1.37 a Pod bound to a Node in a zone carries the Node's zone label."""
    attempt = _start(fake, ["selector-typo", "readiness-path"])
    _relabel(fake, attempt, **{"topology.kubernetes.io/zone": "zone-a", "topology.kubernetes.io/region": "r1"})
    check = _check(grade_now(POOL, attempt, fake), "pod-labels-kept")
    assert check.status == "pass", check.found


def test_credentials_that_may_not_list_nodes_ask_from_one_plain_client(fake):
    """A classroom seat may not list Nodes: the short-name check, which spreads its clients over
    the nodes where it can, still grades, from one client, on a two-node cluster too."""
    fake.set_nodes(2)
    attempt = _start(fake, ["pod-labels-changed", "udp-protocol"])
    _fix_udp(fake, attempt)
    report = grade_now(POOL, attempt, fake)
    assert failed(report) == {"short-name", "client-url"}  # the selector still misses the Pods
    refuse_listing_nodes(fake)
    p = attempt.params
    fake.patch(
        "Service",
        attempt.namespace,
        p["service"],
        lambda s: s["spec"].update(selector={"app": p["app"], "tier": p["new_tier"]}),
    )
    report = grade_now(POOL, attempt, fake)
    assert report.score == 100, [(c.id, c.found) for c in report.checks if c.status != "pass"]
    assert "from node" not in _check(report, "short-name").found
