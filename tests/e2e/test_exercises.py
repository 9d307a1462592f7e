"""Every exercise on the real cluster: a fresh start fails, the reference solution passes in two
styles, typical wrong answers fail the check that names their cause, and reset cleans up.

Wrong answers are made with kubectl, the way a learner makes them.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.e2e.practice import Practice


@pytest.fixture
def practice(tmp_path, cluster):
    session = Practice(tmp_path / "state", cluster)
    yield session
    # Reset itself is tested below; here the namespaces go without waiting, to save time.
    if session.env.state.load() is not None:
        for ns in session.namespaces:
            cluster.kubectl("delete", "namespace", ns, "--wait=false", check=False)
        session.env.state.clear()


@dataclass
class Scenario:
    exercise: str
    name: str
    act: Callable[[Practice], None]
    fails: set[str]
    # Checks whose outcome depends on which endpoint kube-proxy picks.
    may_fail: set[str] = field(default_factory=set)
    says: dict[str, str] = field(default_factory=dict)  # check id -> text its report must contain


def yaml_solution(p: Practice, replace: dict[str, str] | None = None):
    text = p.solution()["yaml"]
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    p.cluster.kubectl("apply", "-f", "-", input=text)  # the manifests name their namespaces


def kubectl_solution(p: Practice):
    p.run_script(p.solution()["kubectl"])


# -- clusterip-create ----------------------------------------------------------------------
def create_expose(p, *extra, target=None):
    x = p.params
    p.kubectl("expose", "deployment", x["app"], f"--name={x['service']}", f"--port={x['port']}",
              f"--target-port={target or x['target_port']}", *extra)  # fmt: skip


def create_loose_selector(p):
    x = p.params
    p.kubectl("create", "service", "clusterip", x["service"], f"--tcp={x['port']}:{x['target_port']}")
    p.kubectl("set", "selector", "service", x["service"], f"app={x['app']}")


# -- multi-port-named ----------------------------------------------------------------------
def multi_port_unnamed(p):
    x = p.params
    p.kubectl("create", "service", "clusterip", x["service"],
              f"--tcp={x['http_port']}:{x['http_target']},{x['metrics_port']}:{x['metrics_target']}")  # fmt: skip


def multi_port_imperative(p):
    multi_port_unnamed(p)
    patch = [
        {"op": "replace", "path": "/spec/ports/0/name", "value": "http"},
        {"op": "replace", "path": "/spec/ports/1/name", "value": "metrics"},
    ]
    p.kubectl("patch", "service", p.params["service"], "--type=json", "-p", json.dumps(patch))


def multi_port_service(p, ports):
    x = p.params
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": x["service"]},
           "spec": {"selector": {"app": x["app"]}, "ports": ports}}  # fmt: skip
    p.apply(json.dumps(svc))


def multi_port_swapped(p):
    x = p.params
    multi_port_service(p, [
        {"name": "http", "port": x["http_port"], "targetPort": x["metrics_target"]},
        {"name": "metrics", "port": x["metrics_port"], "targetPort": x["http_target"]},
    ])  # fmt: skip


def multi_port_only_http(p):
    x = p.params
    multi_port_service(p, [{"name": "http", "port": x["http_port"], "targetPort": x["http_target"]}])


# -- selectorless-endpoints ----------------------------------------------------------------------
def server_ip(p):
    return p.pod_ip(p.params["server"], p.params["legacy_ns"])


def selectorless_service(p):
    x = p.params
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": x["service"]},
           "spec": {"ports": [{"name": x["port_name"], "port": x["port"], "targetPort": x["server_port"]}]}}
    p.apply(json.dumps(svc))


def manual_endpoints(p, *, name=None, port_name=None, ip=None):
    x = p.params
    endpoints = {
        "apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": name or x["service"]},
        "subsets": [{"addresses": [{"ip": ip or server_ip(p)}],
                     "ports": [{"name": port_name or x["port_name"], "port": x["server_port"]}]}],
    }  # fmt: skip
    p.apply(json.dumps(endpoints))


def selectorless_yaml(p):
    yaml_solution(p, {"SERVER_IP": server_ip(p)})


def selectorless_wrong_name(p):
    selectorless_service(p)
    manual_endpoints(p, name=f"{p.params['service']}-endpoints")


def selectorless_wrong_port_name(p):
    selectorless_service(p)
    manual_endpoints(p, port_name="other")


def selectorless_with_selector(p):
    x = p.params
    p.kubectl("create", "service", "clusterip", x["service"], f"--tcp={x['port']}:{x['server_port']}")
    manual_endpoints(p, port_name=f"{x['port']}-{x['server_port']}")


def selectorless_stale_ip(p):
    selectorless_service(p)
    manual_endpoints(p)
    x = p.params
    pod = p.kubectl("get", "pod", x["server"], "-o", "json", namespace=x["legacy_ns"]).stdout
    p.kubectl("replace", "--force", "-f", "-", namespace=x["legacy_ns"], input=pod)
    p.kubectl("wait", "--for=condition=Ready", f"pod/{x['server']}", "--timeout=90s", namespace=x["legacy_ns"])


# -- dns-cross-namespace ----------------------------------------------------------------------
def dns_url(p, url):
    x = p.params
    create_expose(p)
    p.kubectl("patch", "configmap", x["configmap"], "--type=merge", "-p",
              json.dumps({"data": {"BACKEND_URL": url}}), namespace=x["client_ns"])  # fmt: skip


def dns_url_clusterip(p):
    dns_url(p, "http://placeholder")
    x = p.params
    url = f"http://{p.cluster_ip(x['service'])}:{x['port']}"
    p.kubectl("patch", "configmap", x["configmap"], "--type=merge", "-p",
              json.dumps({"data": {"BACKEND_URL": url}}), namespace=x["client_ns"])  # fmt: skip


# -- env-vars ------------------------------------------------------------------------------------
def recreate_client(p, *, service_links=True):
    x = p.params
    pod = json.loads(p.kubectl("get", "pod", x["client"], "-o", "json").stdout)
    if not service_links:
        pod["spec"]["enableServiceLinks"] = False
    p.kubectl("replace", "--force", "--grace-period=1", "-f", "-", input=json.dumps(pod))
    p.kubectl("wait", "--for=condition=Ready", f"pod/{x['client']}", "--timeout=90s")


def env_named_service(p):
    yaml_solution(p)


def env_yaml(p):
    env_named_service(p)
    recreate_client(p)


def env_unnamed_port(p):
    create_expose(p)
    recreate_client(p)


def env_links_off(p):
    env_named_service(p)
    recreate_client(p, service_links=False)


# -- clusterip-direct ----------------------------------------------------------------------------
def record_ip(p, ip, key="SERVICE_IP"):
    p.kubectl("create", "configmap", p.params["configmap"], f"--from-literal={key}={ip}")


def direct_yaml(p):
    yaml_solution(p, {"CLUSTER_IP": p.cluster_ip(p.params["service"])})


def direct_pod_ip(p):
    pod = p.kubectl("get", "pods", "-l", f"app={p.params['app']}", "-o", "jsonpath={.items[0].status.podIP}").stdout
    record_ip(p, pod)


def direct_recreated_service(p):
    x = p.params
    record_ip(p, p.cluster_ip(x["service"]))
    p.kubectl("delete", "service", x["service"])
    create_expose(p)


# -- named-targetport ----------------------------------------------------------------------------
def named_imperative(p):
    x = p.params
    p.kubectl("create", "service", "clusterip", x["service"], f"--tcp={x['port']}:{x['port_name']}")


def named_numeric(p):
    x = p.params
    p.kubectl("create", "service", "clusterip", x["service"], f"--tcp={x['port']}:{x['stable_port']}")


def named_one_track(p):
    x = p.params
    p.kubectl("expose", "deployment", f"{x['app']}-stable", f"--name={x['service']}", f"--port={x['port']}",
              f"--target-port={x['port_name']}")  # fmt: skip


def named_typo(p):
    x = p.params
    p.kubectl("create", "service", "clusterip", x["service"], f"--tcp={x['port']}:{x['port_name']}x")


# -- troubleshoot-broken --------------------------------------------------------------------------
def fix_selector(p):
    p.kubectl("set", "selector", "service", p.params["service"], f"app={p.params['app']},tier=web")


def fix_target(p):
    patch = [{"op": "replace", "path": "/spec/ports/0/targetPort", "value": "http"}]
    p.kubectl("patch", "service", p.params["service"], "--type=json", "-p", json.dumps(patch))


def fix_all_and_debug_deployment(p):
    fix_selector(p)
    fix_target(p)
    p.kubectl("set", "env", f"deployment/{p.params['app']}", "DEBUG=1")
    p.wait_rollout(p.params["app"])


# -- readiness-probe ------------------------------------------------------------------------------
def readiness_patch(p, **changes):
    x = p.params
    base = "/spec/template/spec/containers/0/readinessProbe"
    ops = [{"op": "replace", "path": f"{base}/httpGet/{k}", "value": v} for k, v in changes.items()]
    if not changes:
        ops = [{"op": "remove", "path": base}]
    p.kubectl("patch", "deployment", x["app"], "--type=json", "-p", json.dumps(ops))
    p.kubectl("rollout", "status", f"deployment/{x['app']}", "--timeout=60s", check=False)


def readiness_kubectl_and_wait(p):
    kubectl_solution(p)


def readiness_yaml(p):
    yaml_solution(p)
    p.kubectl("rollout", "status", f"deployment/{p.params['app']}", "--timeout=120s")


SCENARIOS = [
    # clusterip-create
    Scenario("clusterip-create", "imperative expose", create_expose, set()),
    Scenario("clusterip-create", "yaml", yaml_solution, set()),
    Scenario("clusterip-create", "selector also picks the debug pod", create_loose_selector,
             {"selector", "endpoints"}, may_fail={"probe-short", "probe-clusterip"},
             says={"selector": "-debug"}),
    Scenario("clusterip-create", "targetPort is the service port",
             lambda p: create_expose(p, target=p.params["port"]), {"port", "probe-short", "probe-clusterip"},
             says={"probe-short": "connection refused"}),
    Scenario("clusterip-create", "type NodePort", lambda p: create_expose(p, "--type=NodePort"), {"service-type"},
             says={"service-type": "NodePort"}),
    # multi-port-named
    Scenario("multi-port-named", "create service then name ports", multi_port_imperative, set()),
    Scenario("multi-port-named", "yaml", yaml_solution, set()),
    Scenario("multi-port-named", "ports left unnamed", multi_port_unnamed,
             {"port-http", "port-metrics", "probe-http", "probe-metrics"}, says={"port-http": "named"}),
    Scenario("multi-port-named", "target ports swapped", multi_port_swapped,
             {"port-http", "port-metrics", "probe-http", "probe-metrics"}, says={"probe-http": "wrong port"}),
    Scenario("multi-port-named", "metrics port missing", multi_port_only_http,
             {"port-metrics", "probe-metrics"}),
    # selectorless-endpoints
    Scenario("selectorless-endpoints", "kubectl with Endpoints", kubectl_solution, set()),
    Scenario("selectorless-endpoints", "yaml with EndpointSlice", selectorless_yaml, set()),
    Scenario("selectorless-endpoints", "Endpoints named differently", selectorless_wrong_name,
             {"endpoints", "probe-short", "probe-clusterip"}, says={"endpoints": "named exactly like the Service"}),
    Scenario("selectorless-endpoints", "port name differs", selectorless_wrong_port_name,
             {"endpoints", "probe-short", "probe-clusterip"}, says={"endpoints": "must match the Service port name"}),
    Scenario("selectorless-endpoints", "Service keeps a selector", selectorless_with_selector,
             {"no-selector", "port", "endpoints", "probe-short", "probe-clusterip"}),
    Scenario("selectorless-endpoints", "IP went stale", selectorless_stale_ip,
             {"endpoints", "probe-short", "probe-clusterip"}, says={"endpoints": "stale"}),
    # dns-cross-namespace
    Scenario("dns-cross-namespace", "kubectl", kubectl_solution, set()),
    Scenario("dns-cross-namespace", "yaml", yaml_solution, set()),
    Scenario("dns-cross-namespace", "short name in the URL",
             lambda p: dns_url(p, f"http://{p.params['service']}:{p.params['port']}"),
             {"url-is-dns", "url-works"}, says={"url-works": "DNS lookup failed"}),
    Scenario("dns-cross-namespace", "ClusterIP in the URL",
             dns_url_clusterip, {"url-is-dns"}),
    Scenario("dns-cross-namespace", "container port in the URL",
             lambda p: dns_url(p, f"http://{p.params['service']}.{p.ns}:{p.params['target_port']}"),
             {"url-is-dns", "url-works"}),
    # env-vars
    Scenario("env-vars", "kubectl", kubectl_solution, set()),
    Scenario("env-vars", "yaml and recreate", env_yaml, set()),
    Scenario("env-vars", "client pod not recreated", env_named_service, {"client-env"},
             says={"client-env": "before Service"}),
    Scenario("env-vars", "port not named", env_unnamed_port, {"port", "client-env"}),
    Scenario("env-vars", "service links turned off", env_links_off, {"client-env"},
             says={"client-env": "enableServiceLinks"}),
    # clusterip-direct
    Scenario("clusterip-direct", "kubectl", kubectl_solution, set()),
    Scenario("clusterip-direct", "yaml", direct_yaml, set()),
    Scenario("clusterip-direct", "a pod IP instead", direct_pod_ip, {"recorded-ip", "recorded-ip-works"}),
    Scenario("clusterip-direct", "Service recreated after recording", direct_recreated_service,
             {"recorded-ip", "recorded-ip-works"}, says={"recorded-ip": "recreated"}),
    Scenario("clusterip-direct", "wrong key", lambda p: record_ip(p, p.cluster_ip(p.params["service"]), "CLUSTER_IP"),
             {"recorded-ip", "recorded-ip-works"}, says={"recorded-ip": "no key"}),
    # named-targetport
    Scenario("named-targetport", "create service with a named target", named_imperative, set()),
    Scenario("named-targetport", "yaml", yaml_solution, set()),
    Scenario("named-targetport", "numeric targetPort", named_numeric, {"target-by-name", "probe-all"},
             says={"probe-all": "connection refused"}),
    Scenario("named-targetport", "exposed one track", named_one_track, {"selector", "endpoints"}),
    Scenario("named-targetport", "misspelt port name", named_typo, {"target-by-name", "endpoints", "probe-all"}),
    # troubleshoot-broken
    Scenario("troubleshoot-broken", "kubectl patch", kubectl_solution, set()),
    Scenario("troubleshoot-broken", "yaml", yaml_solution, set()),
    Scenario("troubleshoot-broken", "selector fixed only", fix_selector, {"port", "probe-short", "probe-clusterip"},
             may_fail={"endpoints"}),
    Scenario("troubleshoot-broken", "targetPort fixed only", fix_target,
             {"selector", "endpoints", "probe-short", "probe-clusterip"}),
    Scenario("troubleshoot-broken", "Deployment changed", fix_all_and_debug_deployment, {"deployment-unchanged"}),
    # readiness-probe
    Scenario("readiness-probe", "kubectl patch", readiness_kubectl_and_wait, set()),
    Scenario("readiness-probe", "yaml", readiness_yaml, set()),
    Scenario("readiness-probe", "probe removed", lambda p: readiness_patch(p), {"probe-kept"}),
    Scenario("readiness-probe", "path fixed, port still wrong",
             lambda p: readiness_patch(p, path=f"/{p.params['ready_path']}"),
             {"pods-ready", "endpoints", "probe-short"}, says={"endpoints": "not Ready"}),
    Scenario("readiness-probe", "port fixed, path still wrong",
             lambda p: readiness_patch(p, port=p.params["target_port"]),
             {"pods-ready", "endpoints", "probe-short"}),
]


FRESH_START_FAILS = {
    "clusterip-create": {"service-type", "selector", "port", "endpoints", "probe-short", "probe-clusterip"},
    "multi-port-named": {"service-type", "selector", "port-http", "port-metrics", "endpoints",
                         "probe-http", "probe-metrics", "probe-fqdn"},
    "selectorless-endpoints": {"service-type", "no-selector", "port", "endpoints", "probe-short",
                               "probe-clusterip"},
    "dns-cross-namespace": {"service-type", "selector", "port", "url-is-dns", "url-works", "probe-fqdn",
                            "probe-namespaced", "short-name-is-local"},
    "env-vars": {"service-type", "selector", "port", "client-env", "probe-env"},
    "clusterip-direct": {"recorded-ip", "recorded-ip-works"},
    "named-targetport": {"service-type", "selector", "target-by-name", "endpoints", "probe-all"},
    "troubleshoot-broken": {"selector", "port", "endpoints", "probe-short", "probe-clusterip"},
    "readiness-probe": {"pods-ready", "endpoints", "probe-short"},
}  # fmt: skip


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: f"{s.exercise}:{s.name}")
def test_answer_is_graded_for_its_real_cause(practice, scenario):
    # A seed of its own per scenario: fresh names, and no clash with a namespace still terminating.
    practice.start(scenario.exercise, seed=zlib.crc32(scenario.name.encode()) % 10**6)
    scenario.act(practice)
    run = practice.check(wait=10 if scenario.fails else 30)
    unexpected = run.failed - scenario.fails - scenario.may_fail
    missing = scenario.fails - run.failed
    assert not unexpected and not missing, run.explain()
    for check_id, text in scenario.says.items():
        reported = run.check(check_id)
        assert text in f"{reported['found']} {reported['message']}", run.explain()
    if scenario.fails:
        assert run.exit_code == 1 and 0 < run.report["score"] < 100.0, run.explain()
    else:
        assert run.exit_code == 0 and run.report["score"] == 100.0, run.explain()


def test_every_exercise_has_two_right_styles_and_three_wrong_answers():
    from ckaprep.catalogue import load_catalogue

    for exercise_id in load_catalogue():
        right = [s for s in SCENARIOS if s.exercise == exercise_id and not s.fails]
        wrong = [s for s in SCENARIOS if s.exercise == exercise_id and s.fails]
        assert len(right) >= 2 and len(wrong) >= 3, exercise_id
    assert set(FRESH_START_FAILS) == set(load_catalogue())


@pytest.mark.parametrize("exercise_id", sorted(FRESH_START_FAILS))
def test_fresh_start_fails_and_reset_cleans_up(practice, exercise_id):
    practice.start(exercise_id, seed=zlib.crc32(exercise_id.encode()) % 10**6)
    run = practice.check(wait=0)
    assert run.failed == FRESH_START_FAILS[exercise_id], run.explain()
    assert run.exit_code == 1
    result = practice.reset()
    assert result.exit_code == 0, result.output
    assert sorted(json.loads(result.stdout)["deleted"]) == sorted(practice.namespaces)
    for ns in practice.namespaces:
        gone = practice.cluster.kubectl("get", "namespace", ns, check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr
    assert practice.env.state.load() is None
