"""NetworkPolicy semantics, probe pods placed by labels and node, and the check kinds that
grade traffic from where a client stands, on the simulated cluster."""

import pytest

from ckaprep.attempts import Attempt
from ckaprep.cluster import netpol
from ckaprep.cluster.labels import OWNER_LABEL, ROLE_LABEL
from ckaprep.grading.checks import KINDS
from ckaprep.grading.context import PLACEMENT_LABEL, Fail, GradingContext, Placement
from tests.fake_cluster import FakeCluster
from tests.helpers import failed, grade_now, options, start_on


def _two_enforcing_nodes(fake=None):
    """The cluster these checks are for: two nodes in two zones, NetworkPolicy enforced."""
    fake = fake or FakeCluster()
    fake.set_nodes(2)
    fake.enforces_network_policy = True
    return fake


@pytest.fixture(autouse=True)
def two_nodes_that_enforce_policies(fake):
    _two_enforcing_nodes(fake)


NS = "shop"


def _policy(name, spec, ns=NS):
    return {"kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _peer(labels, ns=NS, ports=None):
    return netpol.Peer(ns, labels, {netpol.NAMESPACE_NAME_LABEL: ns}, named_ports=ports or {})


# -- the policy model ----------------------------------------------------------------------------
def test_a_pod_no_policy_selects_is_open_and_a_selected_one_takes_only_what_a_rule_allows():
    api, web = _peer({"app": "api"}), _peer({"app": "web"})
    assert netpol.ingress([], web, api, 8080).allowed
    deny = _policy("deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    assert not netpol.ingress([deny], web, api, 8080).allowed
    allow = _policy(
        "allow",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]}],
        },
    )
    assert netpol.ingress([deny, allow], web, api, 8080).allowed  # policies add up
    assert not netpol.ingress([deny, allow], web, api, 80).allowed
    assert not netpol.ingress([deny, allow], _peer({"app": "batch"}), api, 8080).allowed


def test_policy_types_default_to_ingress_plus_egress_when_there_are_egress_rules():
    assert netpol.policy_types(_policy("p", {"podSelector": {}})) == ["Ingress"]
    assert netpol.policy_types(_policy("p", {"podSelector": {}, "egress": [{}]})) == ["Ingress", "Egress"]


def test_a_named_port_resolves_on_the_destination_and_protocol_defaults_to_tcp():
    api = _peer({"app": "api"}, ports={("http", "TCP"): 8123})
    rule = _policy("p", {"podSelector": {}, "ingress": [{"ports": [{"port": "http"}]}]})
    assert netpol.ingress([rule], _peer({}), api, 8123).allowed
    assert not netpol.ingress([rule], _peer({}), api, 8124).allowed
    dns = _policy("p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53}]}]})
    assert netpol.egress([dns], _peer({}), _peer({}), 53, "TCP").allowed
    assert not netpol.egress([dns], _peer({}), _peer({}), 53, "UDP").allowed


def test_namespace_and_pod_selector_in_one_item_are_an_and_in_two_items_an_or():
    client = _peer({"app": "web"})
    coredns = _peer({"k8s-app": "kube-dns"}, "kube-system")
    other_system = _peer({"k8s-app": "metrics"}, "kube-system")
    ns_sel = {"namespaceSelector": {"matchLabels": {netpol.NAMESPACE_NAME_LABEL: "kube-system"}}}
    pod_sel = {"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
    both = _policy("p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [ns_sel | pod_sel]}]})
    split = _policy("p", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [ns_sel, pod_sel]}]})
    assert netpol.egress([both], client, coredns, 53, "UDP").allowed
    assert not netpol.egress([both], client, other_system, 53, "UDP").allowed
    assert netpol.egress([split], client, other_system, 53, "UDP").allowed


def test_match_expressions_and_end_port():
    selector = {
        "matchExpressions": [
            {"key": "app", "operator": "In", "values": ["a", "b"]},
            {"key": "debug", "operator": "DoesNotExist"},
        ]
    }
    assert netpol.selector_matches(selector, {"app": "b"})
    assert not netpol.selector_matches(selector, {"app": "b", "debug": "1"})
    ranged = _policy("p", {"podSelector": {}, "ingress": [{"ports": [{"port": 8000, "endPort": 8100}]}]})
    assert netpol.ingress([ranged], _peer({}), _peer({}), 8050).allowed
    assert not netpol.ingress([ranged], _peer({}), _peer({}), 8101).allowed


# -- probe pods placed by labels and node ---------------------------------------------------------
def _ctx(fake, ns=NS):
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    attempt = Attempt(exercise="x", params={}, namespaces=[ns], started_at="2026-01-01T00:00:00+00:00", seed=1)
    return GradingContext(fake, attempt, options(probe_image="curl"))


def test_a_placed_probe_pod_has_the_checks_labels_its_node_and_never_stands_in_for_the_plain_one():
    fake = _two_enforcing_nodes()
    ctx = _ctx(fake)
    plain = ctx.probe_pod(NS)
    placed = ctx.probe_pod(NS, placement=Placement.of({"app": "web", ROLE_LABEL: "learner"}, "fake-node-b"))
    labels = placed["metadata"]["labels"]
    assert labels["app"] == "web" and labels[ROLE_LABEL] == "probe" and labels[OWNER_LABEL] == "ckaprep"
    assert PLACEMENT_LABEL in labels and PLACEMENT_LABEL not in plain["metadata"]["labels"]
    assert placed["spec"]["nodeName"] == "fake-node-b"
    assert placed["metadata"]["name"] != plain["metadata"]["name"]
    # A new grading run finds each pod again by its placement, and makes no more.
    again = _ctx_again(fake)
    assert again.probe_pod(NS)["metadata"]["name"] == plain["metadata"]["name"]
    same = again.probe_pod(NS, placement=Placement.of({"app": "web", ROLE_LABEL: "learner"}, "fake-node-b"))
    assert same["metadata"]["name"] == placed["metadata"]["name"]
    assert len(fake.list("Pod", NS)) == 2


def _ctx_again(fake):
    attempt = Attempt(exercise="x", params={}, namespaces=[NS], started_at="2026-01-01T00:00:00+00:00", seed=1)
    return GradingContext(fake, attempt, options(probe_image="curl"))


def test_nodes_leave_out_a_cordoned_node():
    fake = _two_enforcing_nodes()
    fake.unschedulable_nodes = {"fake-node-a"}
    assert [n["metadata"]["name"] for n in _ctx(fake).nodes()] == ["fake-node-b"]


# -- the simulated cluster -------------------------------------------------------------------------
def _web(fake, name, labels, extra_spec=None, port=8080):
    spec = {"containers": [{"name": "web", "image": "busybox", "command": ["sh", "-c", f"httpd -f -p {port}"]}]} | (
        extra_spec or {}
    )
    return fake.create(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels}, "spec": spec}
    )


def test_the_fake_schedules_by_affinity_and_leaves_a_pod_that_fits_nowhere_pending():
    fake = _two_enforcing_nodes()
    first = _web(fake, "a1", {"app": "a"})
    together = {
        "affinity": {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "a"}}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        }
    }
    apart = {
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "a"}}, "topologyKey": "kubernetes.io/hostname"}
                ]
            }
        }
    }
    assert _web(fake, "a2", {"app": "b"}, together)["spec"]["nodeName"] == first["spec"]["nodeName"]
    assert _web(fake, "b1", {"app": "c"}, apart)["spec"]["nodeName"] != first["spec"]["nodeName"]
    fake.node_names = [first["spec"]["nodeName"]]
    stuck = _web(fake, "b2", {"app": "d"}, apart)
    assert stuck["status"]["phase"] == "Pending" and "podIP" not in stuck["status"]


def _service(fake, name, selector, **spec):
    return fake.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": selector, "ports": [{"port": 80, "targetPort": 8080}]} | spec,
        }
    )


def _curl_from(ctx, node, url, labels=None, times=4):
    return ctx.curl_many([url] * times, NS, placement=Placement.of(labels or {}, node))


def test_the_fake_drops_local_traffic_from_a_node_without_an_endpoint_and_prefers_the_same_node():
    fake = _two_enforcing_nodes()
    ctx = _ctx(fake)
    _web(fake, "on-a", {"app": "w"}, {"nodeName": "fake-node-a"})
    local = _service(fake, "local", {"app": "w"}, internalTrafficPolicy="Local")
    preferred = _service(fake, "pref", {"app": "w"}, trafficDistribution="PreferSameNode")
    url = f"http://{local['spec']['clusterIP']}:80/"
    assert {r.answered_by for r in _curl_from(ctx, "fake-node-a", url)} == {"on-a"}
    dropped = _curl_from(ctx, "fake-node-b", url)
    assert {r.exit_code for r in dropped} == {7}  # kube-proxy rejects it
    fallback = _curl_from(ctx, "fake-node-b", f"http://{preferred['spec']['clusterIP']}:80/")
    assert {r.answered_by for r in fallback} == {"on-a"}


def test_the_fake_enforces_policies_and_a_client_without_dns_egress_cannot_resolve():
    fake = _two_enforcing_nodes()
    ctx = _ctx(fake)
    _web(fake, "api", {"app": "api"})
    svc = _service(fake, "api", {"app": "api"})
    fake.create(_policy("deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}))
    fake.create(
        _policy(
            "out",
            {
                "podSelector": {"matchLabels": {"app": "web"}},
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}]}],
            },
        )
    )
    fake.create(
        _policy(
            "in",
            {
                "podSelector": {"matchLabels": {"app": "api"}},
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]}],
            },
        )
    )
    by_ip = _curl_from(ctx, None, f"http://{svc['spec']['clusterIP']}:80/", {"app": "web"}, times=1)[0]
    assert by_ip.exit_code == 0 and by_ip.answered_by == "api"
    by_name = _curl_from(ctx, None, "http://api:80/", {"app": "web"}, times=1)[0]
    assert by_name.exit_code == 6  # rejected at once, as the third test cluster does
    stranger = _curl_from(ctx, None, f"http://{svc['spec']['clusterIP']}:80/", {"app": "batch"}, times=1)[0]
    assert stranger.exit_code == 7
    fake.policy_drops = True  # a plugin that drops: curl waits out its time
    by_name = _curl_from(ctx, None, "http://api:80/", {"app": "web"}, times=1)[0]
    assert by_name.exit_code == 28 and "DNS lookup timed out" in by_name.cause
    assert _curl_from(ctx, None, f"http://{svc['spec']['clusterIP']}:80/", {"app": "batch"}, times=1)[0].exit_code == 28


# -- the check kinds -------------------------------------------------------------------------------
def test_a_must_fail_probe_waits_a_short_bounded_time_and_one_answer_fails_it(monkeypatch):
    fake = _two_enforcing_nodes()
    ctx = _ctx(fake)
    _web(fake, "api", {"app": "api"})
    _service(fake, "api", {"app": "api"})
    answers = iter([28, 0])  # the first try times out, the second is answered
    real = ctx.curl_many
    calls = []

    def flaky(urls, ns=None, **kw):
        calls.append(kw)
        results = real(urls, ns, **kw)
        code = next(answers)
        return [r if code == 0 else type(r)(r.url, 28, None, "", "Connection timed out") for r in results]

    monkeypatch.setattr(ctx, "curl_many", flaky)
    spec = {"expect": "blocked", "service": "api", "port": 80, "via": "clusterip", "from_labels": "app=batch"}
    with pytest.raises(Fail) as caught:
        KINDS["traffic_probe"].run(ctx, spec)
    assert [c["timeout_s"] for c in calls] == [3, 3]
    assert "2 tries, 3 s each" in caught.value.expected
    assert "was answered" in caught.value.found
    assert "nor api for ingress" in caught.value.message


def test_a_must_fail_probe_never_passes_against_a_service_with_nothing_behind_it():
    fake = _two_enforcing_nodes()
    ctx = _ctx(fake)
    _service(fake, "api", {"app": "nobody"})
    with pytest.raises(Fail) as caught:
        KINDS["traffic_probe"].run(ctx, {"expect": "blocked", "service": "api", "port": 80, "from_labels": "app=x"})
    assert "no ready endpoints" in caught.value.found


def test_netpol_allow_service_grades_the_service_port_rule_by_its_cause(fake):
    exercise, attempt = start_on(fake, "netpol-allow-service")
    p = attempt.params
    fake.apply(
        _policy(
            f"{p['app']}-in",
            {
                "podSelector": {"matchLabels": {"app": p["app"]}},
                "ingress": [
                    {"from": [{"podSelector": {"matchLabels": {"app": p["client"]}}}], "ports": [{"port": p["port"]}]}
                ],
            },
            attempt.namespace,
        )
    )
    fake.apply(
        _policy(
            f"{p['client']}-out",
            {"podSelector": {"matchLabels": {"app": p["client"]}}, "policyTypes": ["Egress"], "egress": [{}]},
            attempt.namespace,
        )
    )
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"reach", "pods-port"}
    reason = next(c for c in report.checks if c.id == "pods-port")
    assert "the Service's port" in reason.found and str(p["target_port"]) in reason.message
    reach = next(c for c in report.checks if c.id == "reach")
    assert f"port {p['target_port']}" in reach.message
