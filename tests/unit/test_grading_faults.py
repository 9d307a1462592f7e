"""The grading faults found when a strong learner tried ckaprep, each as a regression test."""

import io
from datetime import timedelta

from rich.console import Console

from ckaprep.grading.checks import fingerprint
from ckaprep.grading.report import CheckResult, Report
from ckaprep.views.render import report_view
from tests.helpers import failed, grade_now, solution_manifests, start_on


def test_a_fresh_start_scores_zero_on_every_exercise(fake):
    from ckaprep.catalogue.loading import load_catalogue

    for exercise_id in load_catalogue():
        exercise, attempt = start_on(fake, exercise_id)
        report = grade_now(exercise, attempt, fake)
        assert report.score == 0, (exercise_id, [c.id for c in report.checks if c.status == "pass"])


def test_constraints_earn_nothing_and_deduct_when_broken():
    def result(check_id, status, weight, constraint=False):
        return CheckResult(check_id, check_id, status, weight, "", "", constraint=constraint)

    kept = Report("x", [result("a", "pass", 3), result("b", "fail", 1), result("keep", "pass", 2, True)], 0)
    assert (kept.earned, kept.total, kept.score) == (3, 4, 75.0)
    broken = Report("x", [result("a", "pass", 3), result("b", "fail", 1), result("keep", "fail", 2, True)], 0)
    assert (broken.earned, broken.score) == (1, 25.0)
    nothing = Report("x", [result("a", "fail", 3), result("keep", "fail", 2, True)], 0)
    assert nothing.score == 0


def test_rollout_restart_leaves_the_fingerprint_alone():
    deployment = {
        "metadata": {"labels": {"app": "a"}},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": []}},
        },
    }
    before = fingerprint(deployment)
    deployment["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    assert fingerprint(deployment) == before
    deployment["spec"]["template"]["metadata"]["annotations"]["team"] = "x"
    assert fingerprint(deployment) != before


def test_terminating_pods_are_not_backends(fake):
    exercise, attempt = start_on(fake, "troubleshoot-broken")
    for manifest in solution_manifests(exercise, attempt):
        fake.apply(manifest)
    ns, app = attempt.namespace, attempt.params["app"]
    template = fake.get("Deployment", ns, app)
    old = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"{app}-old", "namespace": ns, "labels": {"app": app, "tier": "web"}},
        "spec": template["spec"]["template"]["spec"] | {"terminationGracePeriodSeconds": 30},
    }
    fake.create(old)
    fake.delete("Pod", ns, f"{app}-old")
    fake.quiet_for = timedelta(seconds=2)  # graded right after: the old Pod is still terminating
    assert fake.get("Pod", ns, f"{app}-old")["metadata"]["deletionTimestamp"]
    report = grade_now(exercise, attempt, fake)
    selector = next(c for c in report.checks if c.id == "selector")
    assert selector.status == "pass" and "exactly the 2 backend pod(s)" in selector.expected
    assert "selects 2 pod(s)" in selector.found
    endpoints = next(c for c in report.checks if c.id == "endpoints")
    assert endpoints.status == "pass" and endpoints.found.startswith("2 ready,"), endpoints.found


def test_the_probe_uses_the_port_the_task_names(fake):
    exercise, attempt = start_on(fake, "readiness-probe")
    for manifest in solution_manifests(exercise, attempt):
        if manifest["kind"] == "Deployment":
            fake.apply(manifest)
    service = fake.get("Service", attempt.namespace, attempt.params["service"])
    service["spec"]["ports"][0]["port"] = attempt.params["target_port"]
    fake.apply(service)
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"service-kept", "probe-short"}
    assert report.score < 100


def test_selector_on_the_decoy_only_says_it_misses_the_backends(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    [service] = [m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service"]
    service["spec"]["selector"] = {"tier": "debug"}
    fake.apply(service)
    selector = next(c for c in grade_now(exercise, attempt, fake).checks if c.id == "selector")
    assert "selects only pods that are not backends" in selector.message
    assert "misses every backend" in selector.message and "also selects" not in selector.message


def test_swapped_named_target_ports_name_the_real_cause(fake):
    exercise, attempt = start_on(fake, "multi-port-named")
    [service] = [m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service"]
    service["spec"]["ports"][0]["targetPort"] = "stats"
    service["spec"]["ports"][1]["targetPort"] = "web"
    fake.apply(service)
    report = grade_now(exercise, attempt, fake)
    port = next(c for c in report.checks if c.id == "port-http")
    probe = next(c for c in report.checks if c.id == "probe-http")
    assert "must be one of their containerPorts" not in port.message
    assert f"is the backends' port {attempt.params['metrics_target']}" in port.message
    assert "needs a name" not in port.hint
    assert "on the wrong container port" in probe.message and "selector" not in probe.message


def test_ports_named_otherwise_do_not_claim_a_missing_name(fake):
    exercise, attempt = start_on(fake, "multi-port-named")
    [service] = [m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service"]
    service["spec"]["ports"][0]["name"] = "web"
    fake.apply(service)
    port = next(c for c in grade_now(exercise, attempt, fake).checks if c.id == "port-http")
    assert "need a name on every port" not in port.message
    assert port.found.endswith("is named 'web'") and "'http'" in port.message


def test_recorded_ip_names_what_was_recorded_instead(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    ns, p = attempt.namespace, attempt.params
    cluster_ip = fake.get("Service", ns, p["service"])["spec"]["clusterIP"]
    pod_ip = fake.list("Pod", ns)[0]["status"]["podIP"]
    cases = {
        f"{cluster_ip}:{p['port']}": "with a port",
        f"http://{cluster_ip}": "That is a URL",
        p["service"]: "not an IP address",
        pod_ip: "IP of Pod",
        "10.96.99.99": "changes when the Service is recreated",
    }
    for value, text in cases.items():
        fake.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": p["configmap"], "namespace": ns},
                "data": {"SERVICE_IP": value},
            }
        )
        check = next(c for c in grade_now(exercise, attempt, fake).checks if c.id == "recorded-ip")
        assert text in check.message, (value, check.message)


def test_unnamed_endpoints_port_is_not_called_none(fake):
    exercise, attempt = start_on(fake, "selectorless-endpoints")
    p = attempt.params
    ip = fake.get("Pod", p["legacy_ns"], p["server"])["status"]["podIP"]
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "spec": {"ports": [{"name": p["port_name"], "port": p["port"], "targetPort": p["server_port"]}]},
        }
    )
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": p["service"], "namespace": attempt.namespace},
            "subsets": [{"addresses": [{"ip": ip}], "ports": [{"port": p["server_port"]}]}],
        }
    )
    check = next(c for c in grade_now(exercise, attempt, fake).checks if c.id == "endpoints")
    assert "None" not in check.found and "leaves its port unnamed" in check.found


def test_env_vars_client_recreated_from_another_image_fails(fake):
    from tests.helpers import apply_solution

    exercise, attempt = start_on(fake, "env-vars")
    apply_solution(fake, exercise, attempt)
    fake.patch(
        "Pod",
        attempt.namespace,
        attempt.params["client"],
        lambda pod: pod["spec"]["containers"][0].update(image="docker.io/curlimages/curl:8.11.1"),
    )
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"client-kept"} and report.score < 100


def test_failed_checks_are_readable_in_full_at_80_columns(fake):
    long_found = "http://a-rather-long-service-name.some-namespace-abcde.svc.cluster.local:8080/: connection refused"
    checks = [
        CheckResult(
            "probe",
            "curl reaches a backend",
            "fail",
            1,
            "HTTP 200 from a backend via fqdn",
            long_found,
            "Nothing accepted the connection: check the Service port.",
            "a hint",
        )
    ]
    buffer = io.StringIO()
    Console(file=buffer, width=80, color_system=None).print(report_view(Report("x", checks, 0.1), 10, 5))
    text = buffer.getvalue()
    assert "…" not in text
    flat = "".join(line.strip() for line in text.splitlines())
    for fact in (long_found, "HTTP 200 from a backend via fqdn", "Nothing accepted the connection"):
        assert fact.replace(" ", "") in flat.replace(" ", ""), fact
