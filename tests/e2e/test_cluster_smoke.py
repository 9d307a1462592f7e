"""What ckaprep relies on, checked on the live cluster: ClusterIP Services
reached by name, FQDN, ClusterIP and injected env vars; multi-port Services;
selectorless Services with hand-made endpoints; env vars only for pods
created after their Service."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

KubectlFn = Callable[..., subprocess.CompletedProcess]


def _pinned_images() -> dict[str, str]:
    """Image references from testcluster/versions.env, the one place they are pinned."""
    env = Path(__file__).resolve().parents[2] / "testcluster" / "versions.env"
    pairs = (line.split("=", 1) for line in env.read_text().splitlines() if re.match(r"^[A-Z_]+=", line))
    return {k: v.strip() for k, v in pairs}


# Every smoke test runs on both test cluster configurations.
pytestmark = [pytest.mark.second_config, pytest.mark.third_config]
# The second configuration uses another cluster domain; scripts/test names it.
DOMAIN = os.environ.get("CKAPREP_TEST_CLUSTER_DOMAIN", "cluster.local")

BUSYBOX = _pinned_images()["BUSYBOX_IMAGE"]
CURL = _pinned_images()["CURL_IMAGE"]
WAIT = "120s"


def _httpd_cmd(port: int, body: str | None = None) -> str:
    content = f"echo {body}" if body else "hostname"
    return f"mkdir -p /www{port} && {content} > /www{port}/index.html && exec httpd -f -p {port} -h /www{port}"


def _curl_pod(name: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"role": "client"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "curl", "image": CURL, "command": ["sleep", "3600"]}],
        },
    }


def _httpd_pod(name: str, labels: dict, port: int, body: str | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "httpd",
                    "image": BUSYBOX,
                    "command": ["sh", "-c", _httpd_cmd(port, body)],
                    "ports": [{"containerPort": port}],
                    "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1},
                }
            ],
        },
    }


def _service(name: str, ports: list[dict], selector: dict | None) -> dict:
    spec: dict = {"type": "ClusterIP", "ports": ports}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def apply(kubectl: KubectlFn, ns: str, *objs: dict) -> None:
    kubectl("-n", ns, "apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objs)}))


def wait_ready(kubectl: KubectlFn, ns: str, *pods: str) -> None:
    kubectl("-n", ns, "wait", "--for=condition=Ready", *[f"pod/{p}" for p in pods], f"--timeout={WAIT}", timeout=150)


def sh(kubectl: KubectlFn, ns: str, pod: str, script: str, check: bool = True) -> str:
    return kubectl("-n", ns, "exec", pod, "--", "sh", "-c", script, check=check, timeout=90).stdout


def curl(kubectl: KubectlFn, ns: str, pod: str, url: str) -> str:
    """One HTTP GET from inside `pod`; retried briefly while kube-proxy catches up."""
    return sh(
        kubectl, ns, pod, f"curl -sS --fail --max-time 5 --retry 10 --retry-all-errors --retry-delay 1 {url}"
    ).strip()


def cluster_ip(kubectl: KubectlFn, ns: str, svc: str) -> str:
    ip = kubectl("-n", ns, "get", "svc", svc, "-o", "jsonpath={.spec.clusterIP}").stdout.strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", ip), ip
    return ip


def wait_ready_endpoints(kubectl: KubectlFn, ns: str, svc: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    n = -1
    while time.monotonic() < deadline:
        out = kubectl("-n", ns, "get", "endpointslices", "-l", f"kubernetes.io/service-name={svc}", "-o", "json").stdout
        n = sum(
            1
            for s in json.loads(out)["items"]
            for e in (s.get("endpoints") or [])
            if (e.get("conditions") or {}).get("ready", True)
        )
        if n == count:
            return
        time.sleep(1)
    pytest.fail(f"service {svc}: {n} ready endpoints, wanted {count}")


def test_clusterip_service_reached_by_name_fqdn_ip_and_env(kubectl: KubectlFn, namespace: str):
    ns = namespace
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": _httpd_pod("x", {}, 8080)["spec"]},
        },
    }
    apply(kubectl, ns, deployment, _service("web", [{"port": 80, "targetPort": 8080}], {"app": "web"}))
    kubectl("-n", ns, "rollout", "status", "deployment/web", f"--timeout={WAIT}", timeout=150)
    backends = set(
        kubectl("-n", ns, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    )
    assert len(backends) == 2, backends
    wait_ready_endpoints(kubectl, ns, "web", 2)

    apply(kubectl, ns, _curl_pod("client"))  # created after the Service: gets its env vars
    wait_ready(kubectl, ns, "client")
    ip = cluster_ip(kubectl, ns, "web")

    assert curl(kubectl, ns, "client", "http://web/") in backends
    assert curl(kubectl, ns, "client", f"http://web.{ns}.svc.{DOMAIN}/") in backends
    assert curl(kubectl, ns, "client", f"http://{ip}/") in backends
    env = sh(kubectl, ns, "client", "echo $WEB_SERVICE_HOST:$WEB_SERVICE_PORT").strip()
    assert env == f"{ip}:80"
    assert curl(kubectl, ns, "client", "http://$WEB_SERVICE_HOST:$WEB_SERVICE_PORT/") in backends

    # Fresh connections are spread over both backends.
    out = sh(kubectl, ns, "client", "for i in $(seq 40); do curl -sS --max-time 3 http://web/; done")
    answers = out.split()
    assert len(answers) == 40, out
    assert set(answers) == backends, f"answers {sorted(set(answers))} vs backends {sorted(backends)}"


def test_two_port_service_routes_each_named_port(kubectl: KubectlFn, namespace: str):
    ns = namespace
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "two-ports", "labels": {"app": "two"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [
                {
                    "name": "alpha",
                    "image": BUSYBOX,
                    "command": ["sh", "-c", _httpd_cmd(8080, "alpha-8080")],
                    "ports": [{"name": "web-alpha", "containerPort": 8080}],
                },
                {
                    "name": "beta",
                    "image": BUSYBOX,
                    "command": ["sh", "-c", _httpd_cmd(9090, "beta-9090")],
                    "ports": [{"name": "web-beta", "containerPort": 9090}],
                },
            ],
        },
    }
    svc = _service(
        "multi",
        [
            {"name": "alpha", "port": 80, "targetPort": "web-alpha"},
            {"name": "beta", "port": 8000, "targetPort": "web-beta"},
        ],
        {"app": "two"},
    )
    apply(kubectl, ns, pod, svc, _curl_pod("client"))
    wait_ready(kubectl, ns, "two-ports", "client")
    ip = cluster_ip(kubectl, ns, "multi")

    assert curl(kubectl, ns, "client", "http://multi:80/") == "alpha-8080"
    assert curl(kubectl, ns, "client", "http://multi:8000/") == "beta-9090"
    assert curl(kubectl, ns, "client", f"http://{ip}:8000/") == "beta-9090"
    # Named ports get their own env vars.
    env = sh(kubectl, ns, "client", "echo $MULTI_SERVICE_PORT_ALPHA $MULTI_SERVICE_PORT_BETA").split()
    assert env == ["80", "8000"]
    # A port the Service does not expose is not reachable through it.
    p = kubectl(
        "-n",
        ns,
        "exec",
        "client",
        "--",
        "curl",
        "-sS",
        "--max-time",
        "3",
        "http://multi:8080/",
        check=False,
        timeout=60,
    )
    assert p.returncode != 0, p.stdout


def test_selectorless_service_with_manual_endpoints(kubectl: KubectlFn, namespace: str):
    ns = namespace
    apply(kubectl, ns, _httpd_pod("backend", {"role": "backend"}, 8080, "manual-backend"), _curl_pod("client"))
    wait_ready(kubectl, ns, "backend", "client")
    pod_ip = kubectl("-n", ns, "get", "pod", "backend", "-o", "jsonpath={.status.podIP}").stdout.strip()
    assert pod_ip

    # 1. A hand-made EndpointSlice.
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "manual-1", "labels": {"kubernetes.io/service-name": "manual"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [pod_ip], "conditions": {"ready": True}}],
    }
    apply(kubectl, ns, _service("manual", [{"name": "http", "port": 80, "targetPort": 8080}], None), slice_)
    assert "selector" not in json.loads(kubectl("-n", ns, "get", "svc", "manual", "-o", "json").stdout)["spec"]
    assert curl(kubectl, ns, "client", "http://manual/") == "manual-backend"

    # 2. A hand-made Endpoints object, mirrored into an EndpointSlice by the control plane.
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "mirrored"},
        "subsets": [{"addresses": [{"ip": pod_ip}], "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}],
    }
    apply(kubectl, ns, _service("mirrored", [{"name": "http", "port": 80, "targetPort": 8080}], None), endpoints)
    wait_ready_endpoints(kubectl, ns, "mirrored", 1)
    managed = kubectl(
        "-n",
        ns,
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=mirrored",
        "-o",
        "jsonpath={.items[*].metadata.labels.endpointslice\\.kubernetes\\.io/managed-by}",
    ).stdout
    assert "endpointslicemirroring-controller.k8s.io" in managed
    assert curl(kubectl, ns, "client", "http://mirrored/") == "manual-backend"


def test_service_env_vars_only_in_pods_created_after_it(kubectl: KubectlFn, namespace: str):
    ns = namespace
    apply(kubectl, ns, _curl_pod("before"), _httpd_pod("backend", {"app": "late"}, 8080, "late-backend"))
    wait_ready(kubectl, ns, "before", "backend")
    apply(kubectl, ns, _service("late-svc", [{"port": 80, "targetPort": 8080}], {"app": "late"}))
    ip = cluster_ip(kubectl, ns, "late-svc")
    apply(kubectl, ns, _curl_pod("after"))
    wait_ready(kubectl, ns, "after")

    env_before = sh(kubectl, ns, "before", "env")
    env_after = sh(kubectl, ns, "after", "env")
    assert "LATE_SVC_SERVICE_HOST" not in env_before
    assert f"LATE_SVC_SERVICE_HOST={ip}" in env_after.splitlines()
    assert "LATE_SVC_SERVICE_PORT=80" in env_after.splitlines()
    # Both reach it by DNS, which does not depend on creation order.
    assert curl(kubectl, ns, "before", "http://late-svc/") == "late-backend"
    assert curl(kubectl, ns, "after", "http://late-svc/") == "late-backend"


def test_limited_kubeconfig_is_confined_to_its_namespace(kubectl: KubectlFn, namespace: str, limited_kubeconfig: str):
    ns = namespace
    svc = json.dumps(_service("limited", [{"port": 80, "targetPort": 8080}], {"app": "x"}))
    created = kubectl("-n", ns, "apply", "-f", "-", input=svc, kubeconfig=limited_kubeconfig, check=False)
    assert created.returncode == 0, created.stderr
    assert kubectl("-n", ns, "get", "svc", "limited", kubeconfig=limited_kubeconfig).returncode == 0
    for args in (
        ["-n", "kube-system", "get", "pods"],
        ["get", "nodes"],
        ["get", "namespaces"],
        ["-n", "default", "apply", "-f", "-"],
    ):
        p = kubectl(*args, input=svc if "apply" in args else None, kubeconfig=limited_kubeconfig, check=False)
        assert p.returncode != 0 and "Forbidden" in p.stderr, (args, p.stdout, p.stderr)
