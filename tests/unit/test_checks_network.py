"""The networking check kinds (ExternalName, UDP, the Service range) and the parameters read
from the cluster at start, on the fake cluster."""

import json

import pytest

from ckaprep.catalogue.loading import find_exercise
from ckaprep.cluster.service_range import NoServiceRange, service_range
from ckaprep.errors import ExerciseFileError
from ckaprep.grading.checks.network import answered_addresses
from tests.helpers import NOW, apply_solution, failed, grade_now, start_on


def _check(report, check_id):
    return next(c for c in report.checks if c.id == check_id)


def _service(name, namespace, spec):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


# -- ExternalName ------------------------------------------------------------------------


def _alias_attempt(fake):
    exercise, attempt = start_on(fake, "externalname-alias")
    return exercise, attempt, attempt.params


def _set_alias(fake, p, external_name):
    fake.apply(_service(p["alias"], p["namespace"], {"type": "ExternalName", "externalName": external_name}))


def test_alias_by_fqdn_passes_with_a_trailing_dot_and_any_case(fake):
    exercise, attempt, p = _alias_attempt(fake)
    _set_alias(fake, p, f"{p['backend']}.{p['backend_ns']}.SVC.cluster.local.")
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == set()
    assert p["backend"] in _check(report, "probe").found or "→" in _check(report, "probe").found


@pytest.mark.parametrize(
    "name, says",
    [
        ("{backend}", "not a fully qualified name"),
        ("{backend}.{backend_ns}", "not a fully qualified name"),
        ("{backend}.{backend_ns}.svc.cka.lab", "This cluster's domain is cluster.local, not cka.lab"),
        ("{backend}.{namespace}.svc.cluster.local", "a Service in namespace {namespace}"),
        ("{app}.{backend_ns}.svc.cluster.local", "That names Service {app}"),
    ],
)
def test_alias_to_the_wrong_name_says_why(fake, name, says):
    exercise, attempt, p = _alias_attempt(fake)
    _set_alias(fake, p, name.format(**p))
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"alias", "probe"}
    assert says.format(**p) in _check(report, "alias").message
    assert "DNS lookup failed" in _check(report, "probe").found


def test_a_clusterip_service_is_not_an_alias(fake):
    exercise, attempt, p = _alias_attempt(fake)
    fake.apply(_service(p["alias"], p["namespace"], {"ports": [{"port": p["port"]}]}))
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"alias", "probe"}
    assert _check(report, "alias").found == "type ClusterIP, no selector"
    assert "no endpoints" in _check(report, "probe").message


# -- UDP ---------------------------------------------------------------------------------

BUSYBOX_ANSWER = (
    "Server:\t\t10.96.0.200\nAddress:\t10.96.0.200:53\n\nName:\tudp-probe.ckaprep.test\nAddress: 10.244.0.16\n\n"
)


def test_answered_addresses_skip_the_server_lines():
    assert answered_addresses(BUSYBOX_ANSWER) == ["10.244.0.16"]
    assert answered_addresses(";; connection timed out; no servers could be reached\n") == []


def _udp_attempt(fake):
    exercise, attempt = start_on(fake, "udp-service")
    return exercise, attempt, attempt.params


def _udp_service(p, **port):
    entry = {"port": p["port"], "targetPort": p["target_port"], "protocol": "UDP"} | port
    return _service(p["service"], p["namespace"], {"selector": {"app": p["app"]}, "ports": [entry]})


def test_udp_answer_names_the_backend_pod(fake):
    exercise, attempt, p = _udp_attempt(fake)
    fake.apply(_udp_service(p))
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == set()
    assert f"answered by {p['app']}-" in _check(report, "probe").found


def test_tcp_port_gets_no_udp_answer_and_the_reason_names_the_protocol(fake):
    exercise, attempt, p = _udp_attempt(fake)
    fake.apply(_udp_service(p, protocol="TCP"))
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"port", "probe"}
    assert "no answer" in _check(report, "probe").found
    assert f"Port {p['port']} is TCP" in _check(report, "probe").message
    assert "TCP unless it says otherwise" in _check(report, "port").message


def test_udp_to_the_wrong_target_port_names_the_target_port(fake):
    exercise, attempt, p = _udp_attempt(fake)
    fake.apply(_udp_service(p, targetPort=p["port"]))
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"port", "probe"}
    assert f"The targetPort {p['port']!r} is not where the backends listen" in _check(report, "probe").message


def test_tcp_and_udp_on_one_number_grade_the_udp_entry(fake):
    exercise, attempt, p = _udp_attempt(fake)
    service = _udp_service(p)
    tcp = {"name": "dns-tcp", "port": p["port"], "targetPort": p["target_port"], "protocol": "TCP"}
    service["spec"]["ports"] = [tcp, service["spec"]["ports"][0] | {"name": "dns"}]
    fake.apply(service)
    assert failed(grade_now(exercise, attempt, fake)) == set()


# -- the Service range -------------------------------------------------------------------


def _cidr_attempt(fake):
    exercise, attempt = start_on(fake, "service-cidr")
    return exercise, attempt, attempt.params


def _web_service(p, cluster_ip=None):
    spec = {"selector": {"app": p["app"]}, "ports": [{"port": p["port"], "targetPort": p["target_port"]}]}
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return _service(p["service"], p["namespace"], spec)


def _facts(fake, p, **data):
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": p["configmap"], "namespace": p["namespace"]},
            "data": data,
        }
    )


def test_start_reads_the_address_from_the_cluster(fake):
    exercise, attempt, p = _cidr_attempt(fake)
    assert p["cluster_ip"] == f"10.96.0.{p['offset']}"
    assert p["one_past"] == f"10.96.0.{p['offset'] + 1}"
    apply_solution(fake, exercise, attempt)
    assert grade_now(exercise, attempt, fake).score == 100.0


def test_before_start_the_address_is_a_description():
    params = find_exercise("service-cidr").choose_params(7)
    assert params["cluster_ip"] == f"<the address {params['offset']} above the base of the Service range>"


def test_a_taken_address_moves_the_offset_and_everything_built_on_it(fake):
    exercise = find_exercise("service-cidr")
    drawn = exercise.choose_params(7)["offset"]
    fake.create(_service("holder", "elsewhere", {"clusterIP": f"10.96.0.{drawn + 1}"}))
    _, attempt = start_on(fake, "service-cidr")
    p = attempt.params
    assert p["offset"] == drawn + 2  # drawn and drawn + 1 both need offset+1 free
    assert (p["cluster_ip"], p["one_past"]) == (f"10.96.0.{drawn + 2}", f"10.96.0.{drawn + 3}")
    assert str(p["offset"]) in exercise.render(exercise.task, p)


def test_an_address_claimed_by_a_starting_attempt_is_not_handed_out_again(fake):
    from ckaprep.cluster.service_range import CLAIMS_ANNOTATION

    exercise, first = start_on(fake, "service-cidr")  # its Service does not exist yet
    [namespace] = [n for n in fake.list("Namespace", None) if n["metadata"]["name"] == first.namespace]
    claimed = f"{first.params['cluster_ip']},{first.params['one_past']}"
    assert namespace["metadata"]["annotations"][CLAIMS_ANNOTATION] == claimed
    again = exercise.resolve_cluster_params(exercise.choose_params(7), fake)  # the same draw
    assert again["offset"] == first.params["offset"] + 2
    assert {again["cluster_ip"], again["one_past"]}.isdisjoint(claimed.split(","))


def test_no_free_address_is_an_error(fake):
    exercise = find_exercise("service-cidr")
    fake.service_cidrs = ["10.96.0.0/28"]  # 16 addresses: every offset from 20 up is outside
    from ckaprep.practice.lifecycle import start_attempt

    with pytest.raises(NoServiceRange, match="no free address in 10.96.0.0/28"):
        start_attempt(exercise, fake, seed=7, now=NOW, record=lambda a: None)


def test_without_servicecidr_the_range_starts_below_the_kubernetes_service(fake):
    fake.service_cidrs = []
    with pytest.raises(NoServiceRange):
        service_range(fake)
    fake.create(_service("kubernetes", "default", {"clusterIP": "10.43.0.1", "ports": [{"port": 443}]}))
    found = service_range(fake)
    assert (str(found.base), found.cidr, found.address(200)) == ("10.43.0.0", None, "10.43.0.200")


def test_the_address_kubernetes_picked_fails_and_says_so(fake):
    exercise, attempt, p = _cidr_attempt(fake)
    fake.apply(_web_service(p))
    report = grade_now(exercise, attempt, fake)
    assert "static-ip" in failed(report)
    assert "Without spec.clusterIP" in _check(report, "static-ip").message


def test_counting_from_the_first_address_is_named(fake):
    exercise, attempt, p = _cidr_attempt(fake)
    fake.apply(_web_service(p, p["one_past"]))
    _facts(fake, p, **{"service-cidr": "10.96.0.0/16"})
    report = grade_now(exercise, attempt, fake)
    assert failed(report) == {"static-ip"}
    assert "the first address handed out" in _check(report, "static-ip").message


def test_the_cluster_refuses_an_address_in_use(fake):
    fake.create(_service("a", "ns", {"clusterIP": "10.96.0.99"}))
    with pytest.raises(ValueError, match="already allocated"):
        fake.create(_service("b", "ns", {"clusterIP": "10.96.0.99"}))


@pytest.mark.parametrize(
    "value, says",
    [
        ("10.96.0.0/16", None),
        ("10.96.0.1/16", "address with a prefix length"),
        ("10.96.0.0/24", "overlaps the Service range"),
        ("10.244.0.0/16", "not the Service range"),
        ("10.96.0.0", "needs its prefix length"),
        ("the service range", "CIDR notation"),
    ],
)
def test_service_cidr_answer(fake, value, says):
    exercise, attempt, p = _cidr_attempt(fake)
    fake.apply(_web_service(p, p["cluster_ip"]))
    _facts(fake, p, **{"service-cidr": value})
    report = grade_now(exercise, attempt, fake)
    if says is None:
        assert failed(report) == set()
    else:
        assert failed(report) == {"cidr"}
        assert says in _check(report, "cidr").message


# -- validation of the parameter kind ----------------------------------------------------


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"cluster_ip": {"service_cidr_offset": "offset"}, "offset": {"int": [20, 30]}}, "earlier parameter"),
        ({"offset": {"pick": [20, 30]}, "cluster_ip": {"service_cidr_offset": "offset"}}, "of kind int"),
        ({"offset": {"int": [0, 30]}, "cluster_ip": {"service_cidr_offset": "offset"}}, "start at 1"),
        ({"offset": {"int": [20, 30]}, "cluster_ip": {"service_cidr_offset": "offset", "plus": "1"}}, "whole number"),
        ({"offset": {"int": [20, 30], "plus": 1}}, "unknown key(s) plus"),
    ],
)
def test_validate_refuses_a_bad_service_cidr_offset(tmp_path, params, problem):
    from ruamel.yaml import YAML

    from ckaprep.catalogue.loading import load_exercise

    data = YAML(typ="safe").load(_exercise_text())
    data["id"] = "bad"
    data["params"] = {"namespace": {"prefix": "x"}, **params}
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(data))
    with pytest.raises(ExerciseFileError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        load_exercise(path)


def _exercise_text() -> str:
    from ckaprep.catalogue.locations import exercises_dir

    return (exercises_dir() / "service-cidr.yaml").read_text()
