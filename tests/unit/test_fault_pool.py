"""Exercises with a fault pool: the draw, its setup, hints and solution, and validation."""

import copy
import itertools

import pytest

from ckaprep.catalogue.faults import compatible, fault_pool
from ckaprep.catalogue.loading import find_exercise, parse_yaml
from ckaprep.catalogue.validation import _Validator, authoring_problems
from ckaprep.errors import ExerciseFileError
from ckaprep.practice.lifecycle import start_attempt
from tests.fake_cluster import DEFAULT_GRACE_S
from tests.helpers import NOW, grade_now, offer_what_it_needs, solution_manifests

POOL = find_exercise("troubleshoot-pool")
FAULTS = list(fault_pool(POOL.faults))
PAIRS = [list(p) for p in itertools.combinations(FAULTS, 2) if compatible(POOL.faults, list(p))]


def test_the_pool_has_at_least_eight_kinds_and_every_one_can_be_drawn():
    assert len(FAULTS) >= 8
    assert {f for pair in PAIRS for f in pair} == set(FAULTS)


def test_draws_are_seedable_compatible_and_varied():
    draws = [POOL.choose_params(seed)["faults"] for seed in range(200)]
    assert POOL.choose_params(5) == POOL.choose_params(5)
    assert all(len(d) == 2 and compatible(POOL.faults, d) for d in draws)
    assert {f for d in draws for f in d} == set(FAULTS)


def test_a_pinned_draw_sets_the_broken_values():
    params = POOL.choose_params(3, faults=["selector-typo", "udp-protocol"])
    assert params["faults"] == ["selector-typo", "udp-protocol"]
    assert params["service_app"] == params["app_typo"] != params["app"]
    assert params["service_protocol"] == "UDP"
    assert params["probe_path"] == f"/{params['ready_path']}"  # not drawn: left as it should be


def test_hints_and_solution_are_those_of_the_faults_drawn():
    params = POOL.choose_params(3, faults=["client-short-name", "readiness-path"])
    hints = "\n".join(POOL.hints_for(params))
    assert "short name resolves only" in hints and "readiness probe" in hints
    assert "CreateContainerConfigError" not in hints
    solution = POOL.solution_for(params)
    assert "client-config" in solution["kubectl"] and "readinessProbe/httpGet/path" in solution["kubectl"]
    assert "set selector" not in solution["kubectl"]


@pytest.mark.parametrize("pair", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_every_draw_scores_zero_at_start_and_full_with_its_solution(fake, pair):
    offer_what_it_needs(fake, POOL)  # the faults that need two nodes or NetworkPolicy
    attempt = start_attempt(POOL, fake, seed=11, now=NOW, record=lambda a: None, faults=pair)
    fresh = grade_now(POOL, attempt, fake)
    assert fresh.score == 0, [c.id for c in fresh.checks if c.status == "pass" and not c.constraint]
    assert all(c.status == "pass" for c in fresh.checks if c.constraint), "a constraint fails at start"
    for manifest in solution_manifests(POOL, attempt, fake):
        fake.apply(manifest)
    if "bind-localhost" in pair:  # its YAML says to restart the Pods afterwards, as rollout restart does
        deployment = fake.get("Deployment", attempt.namespace, attempt.params["app"])
        template = deployment["spec"]["template"].setdefault("metadata", {})
        template.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = "now"
        fake.apply({k: deployment[k] for k in ("apiVersion", "kind", "metadata", "spec")})
        fake.advance(DEFAULT_GRACE_S)  # the old Pods finish terminating
    report = grade_now(POOL, attempt, fake)
    assert report.score == 100, [(c.id, c.found, c.message) for c in report.checks if c.status != "pass"]


def _data():
    return parse_yaml(open(POOL.source if POOL.source.startswith("/") else f"exercises/{POOL.source}").read())


def _problem(data) -> str:
    with pytest.raises(ExerciseFileError) as raised:
        _Validator("x.yaml").exercise(data)
    return str(raised.value)


def test_validate_refuses_a_pinned_draw_that_cannot_happen():
    data = _data()
    data["proofs"][0]["faults"] = ["selector-typo", "pod-labels-changed"]  # both touch the selector
    assert "never drawn together" in _problem(data)
    data = _data()
    data["proofs"][0]["faults"] = ["selector-typo", "no-such-fault"]
    assert "no fault 'no-such-fault'" in _problem(data)
    data = _data()
    data["proofs"][0]["faults"] = ["selector-typo"]
    assert "exactly 2" in _problem(data)
    data = _data()
    del data["proofs"][0]["faults"]
    assert "must pin the draw" in _problem(data)


def test_validate_refuses_a_broken_pool():
    data = _data()
    data["faults"]["pool"][0]["params"] = {"nonexistent": "x"}
    assert "not a parameter" in _problem(data)
    data = _data()
    for fault in data["faults"]["pool"]:
        fault["touches"] = ["everything"]
    assert "can be drawn together" in _problem(data)
    data = _data()
    data["faults"]["pool"][1]["id"] = data["faults"]["pool"][0]["id"]
    assert "duplicate fault" in _problem(data)
    data = _data()
    data["faults"]["pool"][0]["solution"] = {"kubectl": "x"}
    assert "solution.yaml" in _problem(data)
    data = _data()
    data["faults"]["pool"][0]["params"] = {"service_app": "${nope}"}
    assert "nope" in _problem(data)


def test_validate_asks_for_a_right_and_a_wrong_proof_per_fault():
    assert authoring_problems(POOL) == []
    data = _data()
    data["proofs"] = [p for p in data["proofs"] if p["name"] != "udp-left"]
    problems = [str(p) for p in authoring_problems(_Validator("x.yaml").exercise(data))]
    assert any("'udp-protocol' has no wrong answer of its own" in p for p in problems)
    data = _data()
    data["proofs"] = [p for p in data["proofs"] if p["name"] != "labels-and-udp-yaml"]
    problems = [str(p) for p in authoring_problems(_Validator("x.yaml").exercise(data))]
    assert any("'udp-protocol' is in no right answer" in p for p in problems)


def test_an_exercise_without_a_pool_cannot_pin_faults():
    data = parse_yaml(open("exercises/clusterip-create.yaml").read())
    data = copy.deepcopy(data)
    data["proofs"][0]["faults"] = ["x"]
    assert "only an exercise with a fault pool" in _problem(data)


def _pod(ns, name, container):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "a"}},
        "spec": {"containers": [container]},
    }


def test_the_fake_holds_a_pod_whose_configmap_is_missing_until_it_exists(fake):
    from ckaprep.cluster.waiting import pod_is_ready, pod_is_stuck

    container = {
        "name": "web",
        "image": "busybox",
        "envFrom": [{"configMapRef": {"name": "settings"}}],
        "command": ["sh", "-c", "exec httpd -f -p $(BIND_ADDRESS):8100"],
        "ports": [{"name": "http", "containerPort": 8100}],
        "readinessProbe": {"tcpSocket": {"port": "http"}},
    }
    fake.create(_pod("ns", "p", container))
    pod = fake.get("Pod", "ns", "p")
    assert pod_is_stuck(pod) and not pod_is_ready(pod)
    assert "settings" in pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "ns"},
            "data": {"BIND_ADDRESS": "127.0.0.1"},
        }
    )
    pod = fake.get("Pod", "ns", "p")
    assert not pod_is_stuck(pod)
    assert not pod_is_ready(pod), "a server bound to 127.0.0.1 fails a probe from outside its pod"
    fake.objects[("ConfigMap", "ns", "settings")]["data"]["BIND_ADDRESS"] = "0.0.0.0"
    assert not pod_is_ready(fake.get("Pod", "ns", "p")), "a running pod keeps the settings it started with"
    fake.delete("Pod", "ns", "p")
    fake.create(_pod("ns", "p", container))
    assert pod_is_ready(fake.get("Pod", "ns", "p"))


def test_the_fake_refuses_tcp_to_a_udp_service_port(fake):
    fake.create(
        _pod(
            "ns",
            "p",
            {
                "name": "web",
                "image": "busybox",
                "command": ["sh", "-c", "httpd -f -p 8100"],
                "ports": [{"containerPort": 8100}],
            },
        )
    )
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "s", "namespace": "ns"},
            "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "targetPort": 8100, "protocol": "UDP"}]},
        }
    )
    assert fake._answer("ns", "http://s:80/")[0] == 28
    fake.objects[("Service", "ns", "s")]["spec"]["ports"][0]["protocol"] = "TCP"
    assert fake._answer("ns", "http://s:80/")[0] == 0


def test_setup_wait_started_accepts_pods_stuck_on_purpose(fake):
    """An image that cannot be pulled fails `start` elsewhere; here it is the fault set up."""
    from ckaprep.practice.lifecycle import _setup_is_settled

    fake.unpullable.add("busybox:nope")
    manifest = _pod("ns", "p", {"name": "web", "image": "busybox:nope"})
    fake.create(manifest)
    manifest["metadata"]["namespace"] = "ns"
    assert _setup_is_settled(fake, [manifest], ["ns"], "started")
    from ckaprep.errors import ImagePullError

    with pytest.raises(ImagePullError):
        _setup_is_settled(fake, [manifest], ["ns"], "running")


def test_a_fault_with_setup_of_its_own_replaces_the_service_and_adds_its_endpoints():
    params = POOL.choose_params(3, faults=["hand-written-endpoints", "udp-protocol"])
    manifests = POOL.setup_for(params)
    services = [m for m in manifests if m["kind"] == "Service"]
    assert len(services) == 1 and "selector" not in services[0]["spec"]
    assert services[0]["spec"]["ports"][0]["protocol"] == "UDP"  # the other fault's parameter still applies
    [endpoints] = [m for m in manifests if m["kind"] == "Endpoints"]
    assert endpoints["metadata"] == {"name": params["service"], "namespace": params["namespace"]}
    assert endpoints["subsets"][0]["addresses"] == [{"ip": params["stale_ip"]}]
    other = POOL.setup_for(POOL.choose_params(3, faults=["selector-typo", "udp-protocol"]))
    assert not [m for m in other if m["kind"] == "Endpoints"]
    assert [m for m in other if m["kind"] == "Service"][0]["spec"]["selector"]


def test_validate_checks_a_faults_own_setup():
    data = _data()
    fault = next(f for f in data["faults"]["pool"] if f["id"] == "hand-written-endpoints")
    fault["setup"][1]["kind"] = "Secret"
    assert "faults.pool #12.setup #2.kind: must be one of" in _problem(data)
    data = _data()
    fault = next(f for f in data["faults"]["pool"] if f["id"] == "hand-written-endpoints")
    fault["setup"][1]["subsets"][0]["addresses"][0]["ip"] = "${nope}"
    assert "nope" in _problem(data)
