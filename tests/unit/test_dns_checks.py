"""The DNS check kinds, the nslookup probe they use, and the fake cluster's DNS records."""

import pytest

from ckaprep.attempts import Attempt
from ckaprep.grading.checks import KINDS
from ckaprep.grading.context import Fail, GradingContext
from ckaprep.grading.dns_probes import (
    DNS_MARKER,
    ERROR,
    NODATA,
    NXDOMAIN,
    OK,
    SrvRecord,
    nslookup_argv,
    parse_nslookup_output,
    queries_of,
)
from tests.fake_cluster import DOMAIN, FakeCluster
from tests.helpers import options

NS, OTHER = "dns-aaaaa", "other-bbbbb"

# What busybox's nslookup printed in the curl image on the test cluster.
A_OUTPUT = """Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

Name:\tkubernetes.default.svc.cluster.local
Address: 10.96.0.1

__ckaprep_dns__ 0
"""
SRV_OUTPUT = """Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

_https._tcp.kubernetes.default.svc.cluster.local\tservice = 0 100 443 kubernetes.default.svc.cluster.local

__ckaprep_dns__ 0
"""
NXDOMAIN_OUTPUT = """Server:\t\t10.96.0.10
Address:\t10.96.0.10:53

** server can't find nope.default.svc.cluster.local.: NXDOMAIN

__ckaprep_dns__ 1
"""


# -- the probe ------------------------------------------------------------------------------------
def test_names_are_arguments_of_a_fixed_script_and_fully_qualified():
    argv = nslookup_argv([("A", "web.ns.svc.cluster.local"), ("SRV", "_http._tcp.web.ns.svc.cluster.local.")])
    assert argv[:2] == ["sh", "-c"] and argv[3] == DNS_MARKER
    assert "web" not in argv[2]  # nothing from the cluster is ever part of the shell script
    assert argv[4:] == ["a", "web.ns.svc.cluster.local.", "srv", "_http._tcp.web.ns.svc.cluster.local."]
    assert queries_of(argv) == [("A", "web.ns.svc.cluster.local."), ("SRV", "_http._tcp.web.ns.svc.cluster.local.")]
    with pytest.raises(ValueError):
        nslookup_argv([("MX", "web")])


def test_parse_real_nslookup_answers_in_order():
    queries = [
        ("A", "kubernetes.default.svc.cluster.local."),
        ("SRV", "_https._tcp.kubernetes.default.svc.cluster.local."),
        ("A", "nope.default.svc.cluster.local."),
    ]
    a, srv, missing = parse_nslookup_output(queries, 0, A_OUTPUT + SRV_OUTPUT + NXDOMAIN_OUTPUT, "")
    assert (a.status, a.addresses, a.name) == (OK, ("10.96.0.1",), "kubernetes.default.svc.cluster.local")
    assert srv.srv == (SrvRecord(0, 100, 443, "kubernetes.default.svc.cluster.local"),)
    assert srv.cause == "SRV 443 kubernetes.default.svc.cluster.local"
    assert missing.status == NXDOMAIN and "NXDOMAIN" in missing.cause
    assert "10.96.0.10" not in a.addresses  # the server's own address is not an answer


def test_parse_no_answer_and_missing_tool():
    no_answer = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n*** Can't find x.: No answer\n\n__ckaprep_dns__ 1\n"
    [answer] = parse_nslookup_output([("SRV", "x.")], 0, no_answer, "")
    assert answer.status == NODATA and "no SRV record" in answer.cause
    [answer] = parse_nslookup_output([("A", "x.")], 127, "", "sh: nslookup: not found")
    assert answer.status == ERROR and "nslookup: not found" in answer.cause


# -- the fake's records -------------------------------------------------------------------------
def _web(fake: FakeCluster, *, headless=False, publish=False, selector=None, name="web"):
    spec = {"selector": selector or {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}
    if headless:
        spec["clusterIP"] = "None"
    if publish:
        spec["publishNotReadyAddresses"] = True
    return fake.create(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS}, "spec": spec}
    )


def _pod(fake: FakeCluster, name: str, labels: dict, ready: bool = True, ns: str = NS) -> dict:
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {
                "containers": [
                    {"name": "c", "image": "busybox", "command": ["sh", "-c", "exec httpd -f -p 8080 -h /www"]}
                ]
            },
        }
    )
    if not ready:
        fake.set_ready(ns, name, False)
    return fake.get("Pod", ns, name)


def _statefulset(fake: FakeCluster, service="db-peers"):
    fake.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": NS},
            "spec": {
                "serviceName": service,
                "replicas": 2,
                "selector": {"matchLabels": {"app": "db"}},
                "template": {
                    "metadata": {"labels": {"app": "db"}},
                    "spec": {
                        "containers": [
                            {"name": "db", "image": "busybox", "command": ["sh", "-c", "exec httpd -f -p 7000"]}
                        ]
                    },
                },
            },
        }
    )


def _lookup(fake, rtype, name):
    result = fake.exec(NS, "client", nslookup_argv([(rtype, name)]), timeout=5)
    return parse_nslookup_output([(rtype, name)], result.returncode, result.stdout, result.stderr)[0]


@pytest.fixture
def cluster():
    fake = FakeCluster()
    for ns in (NS, OTHER):
        fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    _pod(fake, "client", {"app": "client"})
    return fake


def test_fake_a_records_follow_the_service_kind(cluster):
    svc = _web(cluster)
    web1 = _pod(cluster, "web-1", {"app": "web"})
    _pod(cluster, "web-2", {"app": "web"}, ready=False)
    assert _lookup(cluster, "A", f"web.{NS}.svc.{DOMAIN}").addresses == (svc["spec"]["clusterIP"],)
    _web(cluster, headless=True, name="web-hl")
    assert _lookup(cluster, "A", f"web-hl.{NS}.svc.{DOMAIN}").addresses == (web1["status"]["podIP"],)
    _web(cluster, headless=True, publish=True, name="web-all")
    assert len(_lookup(cluster, "A", f"web-all.{NS}.svc.{DOMAIN}").addresses) == 2
    _web(cluster, headless=True, selector={"app": "nothing"}, name="web-none")
    assert _lookup(cluster, "A", f"web-none.{NS}.svc.{DOMAIN}").status == NXDOMAIN
    assert _lookup(cluster, "A", f"web.{NS}").status == NXDOMAIN  # never through a search path


def test_fake_srv_and_pod_records(cluster):
    _web(cluster)
    srv = _lookup(cluster, "SRV", f"_http._tcp.web.{NS}.svc.{DOMAIN}")
    assert [(r.port, r.target) for r in srv.srv] == [(80, f"web.{NS}.svc.{DOMAIN}")]
    assert _lookup(cluster, "SRV", f"_admin._tcp.web.{NS}.svc.{DOMAIN}").status == NXDOMAIN
    assert _lookup(cluster, "A", f"10-1-2-3.{NS}.pod.{DOMAIN}").addresses == ("10.1.2.3",)
    assert _lookup(cluster, "A", f"10.1.2.3.{NS}.pod.{DOMAIN}").status == NXDOMAIN


def test_fake_statefulset_pods_have_names_under_their_service(cluster):
    _statefulset(cluster)
    pod = cluster.get("Pod", NS, "db-0")
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("db-0", "db-peers")
    name = f"db-0.db-peers.{NS}.svc.{DOMAIN}"
    assert _lookup(cluster, "A", name).status == NXDOMAIN  # no Service yet
    _web(cluster, headless=True, selector={"app": "db"}, name="db-peers")
    assert _lookup(cluster, "A", name).addresses == (pod["status"]["podIP"],)
    _web(cluster, headless=True, selector={"app": "db"}, name="db")  # another name: no pod names
    assert _lookup(cluster, "A", f"db-0.db.{NS}.svc.{DOMAIN}").status == NXDOMAIN


# -- the check kinds --------------------------------------------------------------------------------
def _ctx(fake) -> GradingContext:
    attempt = Attempt(exercise="t", params={}, namespaces=[NS, OTHER], started_at="2026-01-01T00:00:00+00:00", seed=1)
    return GradingContext(fake, attempt, options(probe_image="curl"))


def _run(fake, kind: str, **spec):
    return KINDS[kind].run(_ctx(fake), spec)


def _fails(fake, kind: str, **spec) -> Fail:
    with pytest.raises(Fail) as caught:
        _run(fake, kind, **spec)
    return caught.value


def test_headless_service(cluster):
    _web(cluster, headless=True, name="hl")
    _web(cluster, name="vip")
    assert _run(cluster, "headless_service", service="hl").found == "clusterIP None"
    failure = _fails(cluster, "headless_service", service="vip")
    assert "a virtual IP" in failure.found and "clusterIP: None" in failure.message


def test_headless_service_named_other_than_service_name(cluster):
    _statefulset(cluster)
    _web(cluster, headless=True, selector={"app": "db"}, name="db")
    failure = _fails(cluster, "headless_service", service="db-peers", statefulset="db")
    assert "no Service named 'db-peers'" in failure.found
    assert "serviceName 'db-peers'" in failure.message and "(db)" in failure.message


def test_a_record_lists_exactly_the_ready_pods(cluster):
    _pod(cluster, "web-1", {"app": "web"})
    _pod(cluster, "web-2", {"app": "web"}, ready=False)
    _web(cluster, headless=True, name="hl")
    assert "10.244" in _run(cluster, "dns_a_record", service="hl", backends="app=web").found


def test_a_record_names_publish_not_ready_addresses(cluster):
    _pod(cluster, "web-1", {"app": "web"})
    _pod(cluster, "web-2", {"app": "web"}, ready=False)
    _web(cluster, headless=True, publish=True, name="hl")
    failure = _fails(cluster, "dns_a_record", service="hl", backends="app=web")
    assert "web-2" in failure.message and "publishNotReadyAddresses" in failure.message


def test_a_record_of_a_service_with_a_virtual_ip(cluster):
    _pod(cluster, "web-1", {"app": "web"})
    svc = _web(cluster, name="vip")
    failure = _fails(cluster, "dns_a_record", service="vip", backends="app=web")
    assert svc["spec"]["clusterIP"] in failure.found and "Only a headless Service" in failure.message
    assert _run(cluster, "dns_a_record", service="vip", expect="cluster-ip").found.endswith(svc["spec"]["clusterIP"])


def test_a_record_with_a_selector_that_misses_the_pods(cluster):
    _pod(cluster, "web-1", {"app": "web"})
    _web(cluster, headless=True, selector={"app": "wbe"}, name="hl")
    failure = _fails(cluster, "dns_a_record", service="hl", backends="app=web")
    assert "NXDOMAIN" in failure.found and "does not pick it" in failure.message


def test_pod_names_resolve_and_answer(cluster):
    _statefulset(cluster)
    _web(cluster, headless=True, selector={"app": "db"}, name="db-peers")
    outcome = _run(cluster, "dns_pod_names", service="db-peers", statefulset="db", port=7000)
    assert "2 names resolve" in outcome.found
    failure = _fails(cluster, "dns_pod_names", service="db-peers", statefulset="db", port=7001)
    assert "connection refused" in failure.found and "do not answer on port 7001" in failure.message


def test_pod_names_with_a_wrong_selector(cluster):
    _statefulset(cluster)
    _web(cluster, headless=True, selector={"app": "db-peers"}, name="db-peers")
    failure = _fails(cluster, "dns_pod_names", service="db-peers", statefulset="db", port=7000)
    assert "NXDOMAIN" in failure.found and "picks none of the StatefulSet's Pods" in failure.message


def _answers(fake, **data):
    fake.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "answers", "namespace": NS}, "data": data}
    )


def _answer_check(record, key, **extra):
    return {"configmap": "answers", "key": key, "record": record, **extra}


def test_answers_compared_with_live_dns(cluster):
    _web(cluster)
    ip = cluster.get("Pod", NS, "client")["status"]["podIP"]
    srv = {"service": "web", "port_name": "http"}
    _answers(
        cluster,
        FQDN=f"web.{NS}.svc.{DOMAIN}.",
        SRV=f"_http._tcp.web.{NS}.svc.{DOMAIN}",
        PORT="80",
        POD=f"{ip.replace('.', '-')}.{NS}.pod.{DOMAIN}",
    )
    _run(cluster, "dns_answer", **_answer_check("service-fqdn", "FQDN", service="web"))
    _run(cluster, "dns_answer", **_answer_check("srv-name", "SRV", **srv))
    _run(cluster, "dns_answer", **_answer_check("srv-port", "PORT", **srv))
    _run(cluster, "dns_answer", **_answer_check("pod-a-record", "POD", pod="client"))


def test_wrong_answers_name_their_cause(cluster):
    _web(cluster)
    ip = cluster.get("Pod", NS, "client")["status"]["podIP"]
    srv = {"service": "web", "port_name": "http"}
    _answers(
        cluster,
        FQDN=f"web.{NS}",
        OTHER_DOMAIN=f"web.{NS}.svc.cka.lab",
        SRV=f"http.tcp.web.{NS}.svc.{DOMAIN}",
        PORT="8080",
        POD=f"{ip}.{NS}.pod.{DOMAIN}",
    )
    assert (
        "ends with the cluster domain"
        in _fails(cluster, "dns_answer", **_answer_check("service-fqdn", "FQDN", service="web")).message
    )
    wrong_domain = _fails(cluster, "dns_answer", **_answer_check("service-fqdn", "OTHER_DOMAIN", service="web"))
    assert f"domain is {DOMAIN}, not cka.lab" in wrong_domain.message
    assert "underscore" in _fails(cluster, "dns_answer", **_answer_check("srv-name", "SRV", **srv)).message
    assert "is the targetPort" in _fails(cluster, "dns_answer", **_answer_check("srv-port", "PORT", **srv)).message
    assert (
        "dashes, not dots"
        in _fails(cluster, "dns_answer", **_answer_check("pod-a-record", "POD", pod="client")).message
    )
    _answers(cluster, POD=f"{ip.replace('.', '-')}.{OTHER}.pod.{DOMAIN}")
    assert (
        f"is in namespace {NS}"
        in _fails(cluster, "dns_answer", **_answer_check("pod-a-record", "POD", pod="client")).message
    )
    missing = _fails(cluster, "dns_answer", **_answer_check("srv-port", "NOPE", **srv))
    assert "no key 'NOPE'" in missing.found


def test_no_configmap_fails_before_any_lookup(cluster):
    failure = _fails(cluster, "dns_answer", **_answer_check("service-fqdn", "FQDN", service="web"))
    assert "no ConfigMap 'answers'" in failure.found
    assert not [argv for _, _, argv in cluster.exec_log if DNS_MARKER in argv]


def test_a_record_cluster_ip_expected_of_a_headless_service(cluster):
    _pod(cluster, "web-1", {"app": "web"})
    _web(cluster, headless=True, name="hl")
    failure = _fails(cluster, "dns_a_record", service="hl", expect="cluster-ip")
    assert "headless" in failure.message


def test_a_failed_lookup_is_named_as_such(cluster, monkeypatch):
    _pod(cluster, "web-1", {"app": "web"})
    _web(cluster, headless=True, name="hl")
    real_exec = cluster.exec

    def no_nslookup(namespace, pod, argv, timeout):
        if DNS_MARKER in argv:
            from ckaprep.cluster import ExecResult

            return ExecResult(127, "", "sh: nslookup: not found")
        return real_exec(namespace, pod, argv, timeout)

    monkeypatch.setattr(cluster, "exec", no_nslookup)
    failure = _fails(cluster, "dns_a_record", service="hl", backends="app=web")
    assert "nslookup: not found" in failure.found and "lookup itself failed" in failure.message


@pytest.mark.parametrize("exercise_id", ["headless-statefulset", "headless-deployment", "dns-records"])
def test_proofs_hold_in_another_cluster_domain(monkeypatch, exercise_id):
    """Nothing assumes cluster.local: every proof gets its verdict under cka.lab too."""
    from ckaprep.catalogue.loading import load_catalogue
    from ckaprep.practice.proving import Prover
    from tests.conftest import FakeTime
    from tests.fake_kubectl import FakeKubectl

    monkeypatch.setattr("tests.fake_cluster.DOMAIN", "cka.lab")
    fake, clock, seeds = FakeCluster(), FakeTime(), iter(range(300, 400))
    prover = Prover(
        cluster=fake,
        kubectl=FakeKubectl(fake),
        seeds=lambda: next(seeds),
        options=options(probe_image="curl", clock=clock),
    )
    exercise = load_catalogue()[exercise_id]
    verdicts = prover.exercise(exercise, exercise.proofs, fresh=True, report=lambda v: None)
    assert [v.problems for v in verdicts if not v.ok] == []
    assert len(verdicts) == len(exercise.proofs) + 1
    lookups = [argv for _, _, argv in fake.exec_log if DNS_MARKER in argv]
    assert lookups and all(name.endswith(".cka.lab.") for argv in lookups for name in argv[5::2])
