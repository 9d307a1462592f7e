"""Typical wrong answers fail the check that names their cause, and only that one."""

import copy

from tests.helpers import failed, grade_now, solution_manifests, start_on


def _service_from_solution(exercise, attempt) -> dict:
    return next(m for m in solution_manifests(exercise, attempt) if m["kind"] == "Service")


def _grade_with(fake, exercise, attempt, mutate):
    service = copy.deepcopy(_service_from_solution(exercise, attempt))
    mutate(service, attempt.params)
    fake.apply(service)
    return grade_now(exercise, attempt, fake)


def test_create_selector_catching_the_decoy(fake):
    exercise, attempt = start_on(fake, "clusterip-create")

    def loose_selector(svc, p):
        svc["spec"]["selector"] = {"app": p["app"]}

    report = _grade_with(fake, exercise, attempt, loose_selector)
    assert "selector" in failed(report)
    selector = next(c for c in report.checks if c.id == "selector")
    assert f"{attempt.params['app']}-debug" in selector.message
    assert {"service-type", "port"}.isdisjoint(failed(report))


def test_create_wrong_target_port(fake):
    exercise, attempt = start_on(fake, "clusterip-create")

    def wrong_target(svc, p):
        svc["spec"]["ports"][0]["targetPort"] = p["port"]

    report = _grade_with(fake, exercise, attempt, wrong_target)
    assert failed(report) == {"port", "probe-short", "probe-clusterip"}
    probe = next(c for c in report.checks if c.id == "probe-short")
    assert "connection refused" in probe.found


def test_create_wrong_type(fake):
    exercise, attempt = start_on(fake, "clusterip-create")

    def node_port(svc, p):
        svc["spec"]["type"] = "NodePort"

    report = _grade_with(fake, exercise, attempt, node_port)
    assert failed(report) == {"service-type"}


def test_create_headless_service_is_not_clusterip(fake):
    exercise, attempt = start_on(fake, "clusterip-create")

    def headless(svc, p):
        svc["spec"]["clusterIP"] = "None"

    report = _grade_with(fake, exercise, attempt, headless)
    assert failed(report) == {"service-type", "probe-short", "probe-clusterip"}
    assert "headless" in next(c for c in report.checks if c.id == "service-type").found
    # The name resolves to the Pods themselves, where nothing listens on the Service's port.
    assert "connection refused" in next(c for c in report.checks if c.id == "probe-short").found
    assert "http://None:" in next(c for c in report.checks if c.id == "probe-clusterip").found


def test_create_wrong_service_name_fails_everything_with_the_reason(fake):
    exercise, attempt = start_on(fake, "clusterip-create")

    def renamed(svc, p):
        svc["metadata"]["name"] = "web"

    report = _grade_with(fake, exercise, attempt, renamed)
    assert report.score == 0
    assert "Services there: web" in report.checks[0].found


def test_multi_port_missing_port_names(fake):
    exercise, attempt = start_on(fake, "multi-port-named")

    def unnamed(svc, p):
        for port in svc["spec"]["ports"]:
            port["name"] = f"{port['port']}-{port['targetPort']}"

    report = _grade_with(fake, exercise, attempt, unnamed)
    assert {"port-http", "port-metrics"} <= failed(report)
    assert "named" in next(c for c in report.checks if c.id == "port-http").found


def test_multi_port_swapped_targets(fake):
    exercise, attempt = start_on(fake, "multi-port-named")

    def swapped(svc, p):
        a, b = svc["spec"]["ports"]
        a["targetPort"], b["targetPort"] = b["targetPort"], a["targetPort"]

    report = _grade_with(fake, exercise, attempt, swapped)
    assert {"port-http", "port-metrics", "probe-http", "probe-metrics"} <= failed(report)
    assert "wrong port" in next(c for c in report.checks if c.id == "probe-http").found
    assert {"selector", "service-type", "endpoints"}.isdisjoint(failed(report))


def test_multi_port_named_target_ports_are_resolved_through_the_pods(fake):
    exercise, attempt = start_on(fake, "multi-port-named")

    def by_name(svc, p):
        svc["spec"]["ports"][0]["targetPort"] = "web"
        svc["spec"]["ports"][1]["targetPort"] = "stats"

    report = _grade_with(fake, exercise, attempt, by_name)
    assert report.passed, failed(report)


def test_env_vars_unnamed_port_lacks_the_named_variable(fake):
    from tests.helpers import recreate_pod

    exercise, attempt = start_on(fake, "env-vars")
    service = _service_from_solution(exercise, attempt)
    del service["spec"]["ports"][0]["name"]
    fake.apply(service)
    recreate_pod(fake, attempt.namespace, attempt.params["client"])
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"port", "client-env"}
    env_check = next(c for c in report.checks if c.id == "client-env")
    assert "only when the Service port is named" in env_check.message


def test_env_vars_pod_older_than_the_service(fake):
    exercise, attempt = start_on(fake, "env-vars")
    fake.apply(_service_from_solution(exercise, attempt))
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"client-env"}
    assert "before Service" in next(c for c in report.checks if c.id == "client-env").message


def test_named_targetport_misspelt_name_leaves_no_usable_endpoints(fake):
    exercise, attempt = start_on(fake, "named-targetport")

    def typo(svc, p):
        svc["spec"]["ports"][0]["targetPort"] = p["port_name"] + "x"

    report = _grade_with(fake, exercise, attempt, typo)
    assert failed(report) == {"target-by-name", "endpoints", "probe-all"}
    assert "without a usable port" in next(c for c in report.checks if c.id == "endpoints").found
