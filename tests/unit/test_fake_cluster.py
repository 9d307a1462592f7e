"""The fake cluster is as strict as Kubernetes where grading depends on it.

What both the fake and the real cluster must show is in tests/contract.py; these are the
fake's own mechanics around it: time, rollouts, kube-proxy's choices and its lag.
"""

from datetime import timedelta

from ckaprep.grading.context import GradingContext
from ckaprep.grading.engine import in_flux
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.probes import curl_argv, parse_curl_output
from tests.contract import client_pod, service, web_pod
from tests.helpers import apply_solution, grade_now, solution_manifests, start_on, statuses

NS = "fake"


def _setup(fake, *manifests):
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for manifest in [*manifests, client_pod()]:
        fake.create(manifest | {"metadata": manifest["metadata"] | {"namespace": NS}})


def _curl(fake, url):
    done = fake.exec(NS, "client", curl_argv([url]), timeout=10)
    return parse_curl_output([url], done.returncode, done.stdout, done.stderr)[0]


def _endpoints(fake, name):
    return {
        e["targetRef"]["name"]: e["conditions"]
        for s in fake.list("EndpointSlice", NS, f"kubernetes.io/service-name={name}")
        for e in s["endpoints"]
    }


def test_a_deleted_pod_terminates_for_its_grace_period(fake):
    _setup(
        fake,
        web_pod("web-a", "web", 8080)
        | {"spec": web_pod("web-a", "web", 8080)["spec"] | {"terminationGracePeriodSeconds": 30}},
    )
    fake.quiet_for = timedelta(seconds=1)
    fake.delete("Pod", NS, "web-a")
    pod = fake.get("Pod", NS, "web-a")
    assert pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 30
    fake.advance(20)
    assert fake.get("Pod", NS, "web-a") is not None
    fake.advance(10)
    assert fake.get("Pod", NS, "web-a") is None


def test_a_rollout_leaves_the_old_pods_terminating_beside_the_new_ones(fake):
    exercise, attempt = start_on(fake, "readiness-probe")
    ns, app = attempt.namespace, attempt.params["app"]
    old = {p["metadata"]["name"] for p in fake.list("Pod", ns, f"app={app}")}
    for name in old:  # Pods that take their time to stop (the exercise's own stop within a second)
        fake.patch("Pod", ns, name, lambda pod: pod["spec"].update(terminationGracePeriodSeconds=30))
    fake.quiet_for = timedelta(seconds=1)
    apply_solution(fake, exercise, attempt)  # the probe fixed: a new pod template
    pods = fake.list("Pod", ns, f"app={app}")
    terminating = {p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp")}
    new = {p["metadata"]["name"] for p in pods} - terminating
    assert terminating == old and len(new) == 2 and not new & old
    hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in pods}
    assert len(hashes) == 2
    report = grade_now(exercise, attempt, fake)
    assert report.passed, [(c.id, c.found, c.message) for c in report.checks if c.status != "pass"]
    fake.advance(60)
    assert {p["metadata"]["name"] for p in fake.list("Pod", ns, f"app={app}")} == new


def test_the_same_template_applied_again_rolls_nothing(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    before = fake.list("Pod", attempt.namespace, "tier=backend")
    [deployment] = [m for m in solution_manifests(exercise, attempt) if m["kind"] == "Deployment"] or [
        fake.get("Deployment", attempt.namespace, attempt.params["app"])
    ]
    fake.apply(deployment)
    assert fake.list("Pod", attempt.namespace, "tier=backend") == before


def test_deleting_a_deployment_deletes_its_pods(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    fake.delete("Deployment", attempt.namespace, attempt.params["app"])
    assert fake.list("Pod", attempt.namespace, "tier=backend") == []  # a minute later, they are gone


def test_the_right_answer_to_named_targetport_settles(fake):
    """Pods that resolve the port name differently get separate slices, which is what flux expects."""
    exercise, attempt = start_on(fake, "named-targetport")
    apply_solution(fake, exercise, attempt)
    assert grade_now(exercise, attempt, fake).passed
    ports = {tuple(p["port"] for p in s["ports"]) for s in fake.list("EndpointSlice", attempt.namespace)}
    assert len(ports) == 2, ports
    ctx = GradingContext(fake, attempt, GradingOptions(probe_image="curl"))
    assert in_flux(ctx, attempt.namespaces) == []


def test_kube_proxy_uses_serving_terminating_endpoints_only_when_none_is_ready(fake):
    slow = web_pod("slow", "web", 8080, slow_to_stop=True)
    _setup(fake, web_pod("quick", "web", 8080), slow, service("web", "web", 80, 8080))
    fake.quiet_for = timedelta(seconds=1)
    fake.delete("Pod", NS, "slow")
    assert {_curl(fake, "http://web/").answered_by for _ in range(4)} == {"quick"}
    fake.set_ready(NS, "quick", False)
    assert {_curl(fake, "http://web/").answered_by for _ in range(4)} == {"slow"}
    fake.set_ready(NS, "slow", False)  # terminating and no longer serving
    assert _curl(fake, "http://web/").exit_code == 7


def test_readiness_follows_the_probe_against_what_the_container_serves(fake):
    probes = {
        "tcp-open": {"tcpSocket": {"port": 8080}},
        "tcp-closed": {"tcpSocket": {"port": 9999}},
        "http-index": {"httpGet": {"path": "/", "port": 8080}},
        "http-written": {"httpGet": {"path": "/ready", "port": 8080}},
        "http-prefix-only": {"httpGet": {"path": "/rea", "port": 8080}},
        "exec-file": {"exec": {"command": ["cat", "/www/ready"]}},
        "exec-missing": {"exec": {"command": ["cat", "/tmp/nothing"]}},
        "exec-other": {"exec": {"command": ["sh", "-c", "wget -q localhost:8080"]}},
    }
    _setup(fake, *[web_pod(name, "web", 8080, writes=("ready",), probe=probe) for name, probe in probes.items()])
    ready = {p["metadata"]["name"] for p in fake.list("Pod", NS) if p["status"]["conditions"][0]["status"] == "True"}
    assert ready - {"client"} == {"tcp-open", "http-index", "http-written", "exec-file"}


def test_dns_lag_hides_a_new_service_name_but_not_its_cluster_ip(fake):
    _setup(fake, web_pod("web-a", "web", 8080))
    fake.dns_lag = timedelta(seconds=30)
    fake.create(service("web", "web", 80, 8080) | {"metadata": {"name": "web", "namespace": NS}})
    fake.quiet_for = timedelta(seconds=5)
    assert _curl(fake, "http://web/").exit_code == 6
    ip = fake.get("Service", NS, "web")["spec"]["clusterIP"]
    assert _curl(fake, f"http://{ip}/").exit_code == 0
    fake.advance(30)
    assert _curl(fake, "http://web/").answered_by == "web-a"


def test_proxy_lag_routes_as_before_the_change(fake):
    _setup(fake, web_pod("web-a", "web", 8080), service("web", "web", 80, 8080))
    fake.proxy_lag = timedelta(seconds=10)
    fake.advance(60)
    fake.create(
        web_pod("web-b", "web", 8080) | {"metadata": {"name": "web-b", "namespace": NS, "labels": {"app": "web"}}}
    )
    fake.set_ready(NS, "web-a", False)
    fake.quiet_for = timedelta(seconds=1)
    # The API shows web-b ready and web-a not; kube-proxy still sends to web-a only.
    assert set(_endpoints(fake, "web")) == {"web-a", "web-b"}
    assert {_curl(fake, "http://web/").answered_by for _ in range(4)} == {"web-a"}
    fake.advance(10)
    assert {_curl(fake, "http://web/").answered_by for _ in range(4)} == {"web-b"}


def test_proxy_lag_leaves_a_new_cluster_ip_without_rules(fake):
    _setup(fake, web_pod("web-a", "web", 8080))
    fake.proxy_lag = timedelta(seconds=10)
    fake.create(service("web", "web", 80, 8080) | {"metadata": {"name": "web", "namespace": NS}})
    fake.quiet_for = timedelta(seconds=1)
    assert _curl(fake, "http://web/").exit_code == 28
    fake.advance(10)
    assert _curl(fake, "http://web/").exit_code == 0


def test_a_pod_ip_reaches_that_pod(fake):
    _setup(fake, web_pod("web-a", "web", 8080))
    ip = fake.get("Pod", NS, "web-a")["status"]["podIP"]
    assert _curl(fake, f"http://{ip}:8080/").answered_by == "web-a"
    assert _curl(fake, f"http://{ip}:80/").exit_code == 7


def test_the_readiness_probe_exercise_setup_is_not_ready_and_its_answer_is(fake):
    exercise, attempt = start_on(fake, "readiness-probe")
    app = attempt.params["app"]
    assert all(
        p["status"]["conditions"][0]["status"] == "False" for p in fake.list("Pod", attempt.namespace, f"app={app}")
    )
    apply_solution(fake, exercise, attempt)
    assert statuses(grade_now(exercise, attempt, fake))["pods-ready"] == "pass"


def test_addresses_left_to_the_fake_stay_out_of_the_static_band(fake):
    """As on the API server, a Service given no clusterIP never gets one of the range's first 256
    addresses, which are left to Services that ask for one (service-cidr asks for 20 to 250)."""
    for n in range(600):
        fake.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": f"s{n}", "namespace": "ns"},
                "spec": {"ports": [{"port": 80}]},
            }
        )
    addresses = [s["spec"]["clusterIP"] for s in fake.list("Service", "ns")]
    assert len(set(addresses)) == 600
    assert not [a for a in addresses if a.startswith("10.96.0.")]
