"""object_unchanged: "keep it as it is" grades the whole object, against what start recorded."""

import copy

import pytest

from ckaprep.attempts import Attempt, attempt_from_json
from ckaprep.grading.checks.constraints import differences, parse_path, record_key, record_of, shown_path
from tests.helpers import grade_now, start_on


def _check(report, check_id):
    return next(c for c in report.checks if c.id == check_id)


def _service(fake, attempt, name):
    return fake.objects[("Service", attempt.namespace, name)]


def test_start_records_every_setup_object_with_its_uid(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    ns, params = attempt.namespace, attempt.params
    for kind, name in (("Service", params["service"]), ("Deployment", params["app"])):
        record = attempt.records[record_key(kind, ns, name)]
        assert record["uid"] == fake.get(kind, ns, name)["metadata"]["uid"]
        assert record["content"]["spec"] == fake.get(kind, ns, name)["spec"]


def test_a_kept_service_passes(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    check = _check(grade_now(exercise, attempt, fake), "service-kept")
    assert check.status == "pass" and check.found == "same object, unchanged"


def test_changing_the_type_is_named(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    _service(fake, attempt, attempt.params["service"])["spec"]["type"] = "NodePort"
    check = _check(grade_now(exercise, attempt, fake), "service-kept")
    assert check.status == "fail"
    assert 'spec.type "ClusterIP" → "NodePort"' in check.found


def test_changing_the_port_names_the_port_and_the_probe_blames_the_port(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    params = attempt.params
    service = _service(fake, attempt, params["service"])
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": params["configmap"], "namespace": attempt.namespace},
            "data": {"SERVICE_IP": service["spec"]["clusterIP"]},
        }
    )
    service["spec"]["ports"][0]["port"] = params["target_port"]
    report = grade_now(exercise, attempt, fake)
    kept = _check(report, "service-kept")
    assert kept.status == "fail" and f"spec.ports[{params['port']}]" in kept.found
    works = _check(report, "recorded-ip-works")
    assert works.status == "fail"
    assert f"has no port {params['port']}" in works.message
    assert "no ready endpoints" not in works.message


def test_delete_and_recreate_is_a_new_uid(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    ns, name = attempt.namespace, attempt.params["service"]
    old = fake.get("Service", ns, name)
    fake.delete("Service", ns, name)
    fake.create({k: old[k] for k in ("apiVersion", "kind", "spec")} | {"metadata": {"name": name, "namespace": ns}})
    check = _check(grade_now(exercise, attempt, fake), "service-kept")
    assert check.status == "fail" and check.found.startswith("deleted and recreated: new uid")


def test_a_deleted_object_is_gone(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    fake.delete("Service", attempt.namespace, attempt.params["service"])
    check = _check(grade_now(exercise, attempt, fake), "service-kept")
    assert check.status == "fail" and "is gone" in check.found


def test_a_missing_record_gives_a_clear_reason(fake):
    exercise, attempt = start_on(fake, "clusterip-direct")
    attempt.records = {}
    check = _check(grade_now(exercise, attempt, fake), "service-kept")
    assert check.status == "fail"
    assert "no record of Service" in check.found and "ckaprep reset" in check.message


def test_allowed_fields_may_change_and_others_may_not(fake):
    exercise, attempt = start_on(fake, "troubleshoot-broken")
    params = attempt.params
    service = _service(fake, attempt, params["service"])
    service["spec"]["selector"] = {"app": params["app"], "tier": "web"}
    service["spec"]["ports"][0]["targetPort"] = "http"
    assert _check(grade_now(exercise, attempt, fake), "service-kept").status == "pass"
    service["spec"]["sessionAffinity"] = "ClientIP"
    check = _check(grade_now(exercise, attempt, fake), "service-kept")
    assert check.status == "fail" and "spec.sessionAffinity" in check.found


def test_server_defaults_and_a_rollout_restart_are_not_changes(fake):
    exercise, attempt = start_on(fake, "troubleshoot-broken")
    params = attempt.params
    service = _service(fake, attempt, params["service"])
    # What an apply that leaves the defaults out, and the server filling them in, look like.
    service["spec"].pop("type")
    service["spec"]["sessionAffinity"] = "None"
    service["spec"]["ipFamilies"] = ["IPv4"]
    deployment = fake.objects[("Deployment", attempt.namespace, params["app"])]
    deployment["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "now"}
    report = grade_now(exercise, attempt, fake)
    assert _check(report, "service-kept").status == "pass"
    assert _check(report, "deployment-unchanged").status == "pass"


def test_ports_compare_by_name_in_any_order():
    old = {"ports": [{"name": "a", "port": 1}, {"name": "b", "port": 2}]}
    new = {"ports": [{"name": "b", "port": 2}, {"name": "a", "port": 1}]}
    assert differences(old, new) == []
    new["ports"][0]["port"] = 3
    [(path, before, after)] = differences(old, new)
    assert (shown_path(path), before, after) == ("ports[b].port", 2, 3)


@pytest.mark.parametrize(
    "text, parts",
    [
        ("spec.selector", ("spec", "selector")),
        ("spec.ports[*].targetPort", ("spec", "ports", "[*]", "targetPort")),
        ("spec.template.spec.containers[web].env", ("spec", "template", "spec", "containers", "[web]", "env")),
    ],
)
def test_allow_paths_parse(text, parts):
    assert parse_path(text) == parts


def test_records_survive_the_state_file(tmp_path):
    obj = {"metadata": {"uid": "u1", "labels": {"a": "b"}}, "spec": {"x": 1}, "status": {"y": 2}}
    attempt = Attempt(
        "e", {"namespace": "n"}, ["n"], "2026-01-01T00:00:00+00:00", 1, records={"Service/n/s": record_of(obj)}
    )
    from dataclasses import asdict

    loaded = attempt_from_json(tmp_path / "a.json", copy.deepcopy(asdict(attempt)))
    assert loaded.records == {"Service/n/s": {"uid": "u1", "labels": {"a": "b"}, "content": {"spec": {"x": 1}}}}
    from ckaprep.errors import StateError

    with pytest.raises(StateError, match="records"):
        attempt_from_json(tmp_path / "a.json", asdict(attempt) | {"records": {"x": "not a record"}})


def test_a_pod_scheduled_after_start_is_kept(fake):
    exercise, attempt = start_on(fake, "headless-deployment")
    ns, warming = attempt.namespace, attempt.params["warming"]
    fake.patch("Pod", ns, warming, lambda pod: pod["spec"].update(nodeName="node-1"))  # the scheduler's write
    assert _check(grade_now(exercise, attempt, fake), "warming-kept").status == "pass"
    fake.patch("Pod", ns, warming, lambda pod: pod["spec"].update(hostname="other"))
    check = _check(grade_now(exercise, attempt, fake), "warming-kept")
    assert check.status == "fail" and "spec.hostname" in check.found


def test_the_zone_a_pod_gets_from_its_node_is_not_a_change(fake):
    """Kubernetes 1.37 copies the Node's topology labels onto a Pod when it is bound."""
    exercise, attempt = start_on(fake, "headless-deployment")
    ns, warming = attempt.namespace, attempt.params["warming"]

    def bind(pod):
        pod["spec"]["nodeName"] = "node-b"
        pod["metadata"]["labels"]["topology.kubernetes.io/zone"] = "zone-b"

    fake.patch("Pod", ns, warming, bind)
    assert _check(grade_now(exercise, attempt, fake), "warming-kept").status == "pass"
    fake.patch("Pod", ns, warming, lambda pod: pod["metadata"]["labels"].update(extra="yes"))
    check = _check(grade_now(exercise, attempt, fake), "warming-kept")
    assert check.status == "fail" and "metadata.labels.extra" in check.found
