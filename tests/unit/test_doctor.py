"""`ckaprep doctor` against the fake cluster: every finding, its exit status, and cleanup."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ckaprep.cli.application import app
from ckaprep.cluster.images import COREDNS_IMAGE, CURL_IMAGE
from ckaprep.cluster.waiting import Waiter
from ckaprep.doctor import FAIL, PASS, WARN, diagnose
from ckaprep.errors import ClusterUnreachable
from ckaprep.exit_status import ExitStatus
from tests.conftest import FakeTime
from tests.fake_cluster import FakeCluster


@pytest.fixture
def healthy() -> FakeCluster:
    cluster = FakeCluster()
    cluster.mirrors_endpoints = True
    return cluster


def instant_waiter() -> Waiter:
    clock = FakeTime()
    return Waiter(clock=clock)


def statuses(diagnosis) -> dict[str, str]:
    return {f.id: f.status for f in diagnosis.findings}


def doctor_namespaces(cluster: FakeCluster) -> list[str]:
    return [name for (kind, _, name) in cluster.objects if kind == "Namespace" and name.startswith("ckaprep-doctor")]


def test_a_healthy_cluster_passes_every_check_and_the_namespace_goes(healthy):
    diagnosis = diagnose(healthy, waiter=instant_waiter())
    assert statuses(diagnosis) == {
        "api": PASS,
        "permissions": PASS,
        "images": PASS,
        "cluster-domain": PASS,
        "dns-short": PASS,
        "dns-fqdn": PASS,
        "clusterip": PASS,
        "env-vars": PASS,
        "endpoints-mirroring": PASS,
        "udp-image": PASS,
        # what the fake offers by default: one node, NetworkPolicy not enforced, one address family
        "nodes": WARN,
        "network-policy": WARN,
        "dual-stack": WARN,
    }
    assert diagnosis.exit_status == ExitStatus.OK
    assert doctor_namespaces(healthy) == []
    assert any(argv[0] == "curl" for _, _, argv in healthy.exec_log)  # it really probed


def test_missing_permissions_are_named_and_nothing_is_created(healthy):
    healthy.denied = {("create", "namespaces"), ("create", "pods/exec")}
    diagnosis = diagnose(healthy, waiter=instant_waiter())
    permissions = next(f for f in diagnosis.findings if f.id == "permissions")
    assert permissions.status == FAIL
    assert "create namespaces" in permissions.detail and "create pods/exec" in permissions.detail
    assert permissions.fix
    assert diagnosis.exit_status == ExitStatus.CLUSTER
    assert not [k for k in healthy.objects if k[0] == "Namespace"]


def test_an_unpullable_probe_image_is_named_and_the_namespace_goes(healthy):
    healthy.unpullable = {"registry.invalid/curl:none"}
    diagnosis = diagnose(healthy, probe_image="registry.invalid/curl:none", waiter=instant_waiter())
    images = next(f for f in diagnosis.findings if f.id == "images")
    assert images.status == FAIL and "registry.invalid/curl:none" in images.detail
    assert "ImagePullBackOff" in images.detail
    assert diagnosis.exit_status == ExitStatus.IMAGE_PULL
    assert "dns-short" not in statuses(diagnosis)
    assert doctor_namespaces(healthy) == []


def test_an_unpullable_udp_server_image_is_only_a_warning(healthy):
    healthy.unpullable = {COREDNS_IMAGE}
    diagnosis = diagnose(healthy, waiter=instant_waiter())
    udp = next(f for f in diagnosis.findings if f.id == "udp-image")
    assert udp.status == WARN and COREDNS_IMAGE in udp.detail and "udp-service" in udp.fix
    assert statuses(diagnosis)["images"] == PASS and diagnosis.exit_status == ExitStatus.OK


def test_endpoints_that_are_not_mirrored_fail_with_the_controller_named():
    cluster = FakeCluster()  # mirrors_endpoints stays off
    diagnosis = diagnose(cluster, waiter=instant_waiter())
    mirroring = next(f for f in diagnosis.findings if f.id == "endpoints-mirroring")
    assert mirroring.status == FAIL and "endpointslicemirroring" in mirroring.fix
    assert diagnosis.exit_status == ExitStatus.CHECKS_FAILED


def test_an_unreachable_cluster_fails_the_api_check():
    cluster = FakeCluster(failure=ClusterUnreachable("cannot reach the cluster at https://127.0.0.1:1"))
    diagnosis = diagnose(cluster, waiter=instant_waiter())
    assert statuses(diagnosis) == {"api": FAIL}
    assert "127.0.0.1:1" in diagnosis.findings[0].detail
    assert diagnosis.exit_status == ExitStatus.CLUSTER


def test_a_version_outside_the_proven_range_is_a_warning(healthy):
    healthy.server_version = {"major": "1", "minor": "31+", "gitVersion": "v1.31.4-eks"}
    diagnosis = diagnose(healthy, waiter=instant_waiter())
    api = diagnosis.findings[0]
    assert api.status == WARN and "v1.31.4" in api.detail and "1.35" in api.detail
    assert diagnosis.exit_status == ExitStatus.OK


def test_ctrl_c_removes_the_namespace(healthy):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    healthy.exec = interrupted
    with pytest.raises(KeyboardInterrupt):
        diagnose(healthy, waiter=instant_waiter())
    assert doctor_namespaces(healthy) == []


@pytest.mark.parametrize(
    "tweak, code",
    [
        (lambda c: None, ExitStatus.OK),
        (lambda c: c.denied.add(("delete", "namespaces")), ExitStatus.CLUSTER),
        (lambda c: c.unpullable.add(CURL_IMAGE), ExitStatus.IMAGE_PULL),
    ],
)
def test_the_command_prints_json_and_exits_with_the_cause(env, fake, tweak, code):
    fake.mirrors_endpoints = True
    tweak(fake)
    result = CliRunner().invoke(app, ["doctor", "--json"], obj=env)
    assert result.exit_code == code, result.output
    payload = json.loads(result.stdout)
    assert payload["ok"] is (code == ExitStatus.OK)
    assert {"id", "title", "status", "detail", "fix"} <= set(payload["findings"][0])


def test_the_table_shows_the_fix_in_full_at_80_columns(env, fake):
    fake.denied = {("create", "namespaces")}
    result = CliRunner().invoke(app, ["doctor"], obj=env, env={"COLUMNS": "80"})
    assert result.exit_code == ExitStatus.CLUSTER
    flat = " ".join(result.stdout.split())
    assert "not allowed: create namespaces" in flat
    assert "fix:" in flat and "…" not in result.stdout


def test_start_points_to_doctor_in_its_one_error_line(tmp_path):
    from ckaprep.environment import Environment

    broken = FakeCluster(failure=ClusterUnreachable("cannot reach the cluster at https://127.0.0.1:1"))
    env = Environment(environ={"CKAPREP_HOME": str(tmp_path)}, cluster_factory=lambda kc, ctx: broken)
    result = CliRunner().invoke(app, ["start", "clusterip-create"], obj=env)
    assert result.exit_code == ExitStatus.CLUSTER
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "ckaprep doctor" in lines[0], result.stderr


def test_probes_wait_for_kube_proxy_to_program_a_new_service(healthy):
    from ckaprep.cluster import ExecResult

    real_exec, refused = healthy.exec, {"left": 4}

    def late_proxy(namespace, pod, argv, timeout):
        if argv[0] == "curl" and refused["left"] > 0:
            refused["left"] -= 1
            return ExecResult(7, "", "curl: (7) Failed to connect: Connection refused")
        return real_exec(namespace, pod, argv, timeout)

    healthy.exec = late_proxy
    diagnosis = diagnose(healthy, waiter=instant_waiter())
    assert statuses(diagnosis)["clusterip"] == PASS and refused["left"] == 0


def test_a_service_that_never_answers_fails_with_the_cause(healthy):
    from ckaprep.cluster import ExecResult

    real_exec = healthy.exec

    def no_proxy(namespace, pod, argv, timeout):
        if argv[0] == "curl" and "10.96." in argv[-1]:
            return ExecResult(7, "", "curl: (7) Failed to connect: Connection refused")
        return real_exec(namespace, pod, argv, timeout)

    healthy.exec = no_proxy
    diagnosis = diagnose(healthy, waiter=instant_waiter())
    clusterip = next(f for f in diagnosis.findings if f.id == "clusterip")
    assert clusterip.status == FAIL and "connection refused" in clusterip.detail and "kube-proxy" in clusterip.fix
    assert diagnosis.exit_status == ExitStatus.CHECKS_FAILED


@pytest.mark.parametrize("width", [60, 80, 120])
def test_doctor_without_a_kubeconfig_says_how_to_get_a_cluster(env, width):
    from ckaprep.errors import NoKubeconfig

    def no_kubeconfig(*_):
        raise NoKubeconfig(
            "no kubeconfig: ~/.kube/config does not exist and KUBECONFIG is not set; pass --kubeconfig PATH"
        )

    env.cluster_factory = no_kubeconfig
    env.out.width = width
    result = CliRunner().invoke(app, ["doctor"], obj=env)
    assert result.exit_code == ExitStatus.CLUSTER, result.output
    lines = [line.strip() for line in result.stdout.splitlines()]
    for command in ("kind create cluster --name cka", "minikube start", "k3d cluster create cka", "sudo scripts/try"):
        assert command in lines, result.stdout  # whole, on a line of its own, to paste
    assert "no kubeconfig" in result.stdout and result.stderr == ""
    as_json = json.loads(CliRunner().invoke(app, ["doctor", "--json"], obj=env).stdout)
    assert [f["id"] for f in as_json["findings"]] == ["kubeconfig"]
    assert [c["command"] for c in as_json["practice_clusters"]][-1] == "sudo scripts/try"
