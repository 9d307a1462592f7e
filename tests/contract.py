"""Scenarios that the fake cluster and a real one must show alike, in what grading reads.

Each scenario creates a few Pods and a Service in an empty namespace (and may then act on
them), and states what the EndpointSlices of its Service must say: per slice, the address
family, the ports, and each endpoint's Pod with its ready, serving and terminating
conditions; and what curl from a client Pod gets for some URLs (curl's exit code).
tests/unit/test_contract_fake.py holds the fake to it, tests/e2e/test_contract_cluster.py
the real cluster: a behaviour of the fake that Kubernetes does not share fails one of them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from ckaprep.cluster.images import BUSYBOX_IMAGE, CURL_IMAGE
from ckaprep.errors import Refused

CLIENT = "client"
# A Pod deleted in a scenario ignores SIGTERM and keeps this grace period, so it stays terminating
# for the whole comparison.
SLOW_GRACE_S = 90


def web_pod(
    name: str,
    app: str,
    port: int,
    *,
    port_name: str | None = None,
    probe: dict | None = None,
    writes: tuple[str, ...] = (),
    slow_to_stop: bool = False,
) -> dict:
    """A busybox web server on `port`, serving /www (its index names the Pod)."""
    script = "mkdir -p /www && hostname > /www/index.html"
    script += "".join(f" && echo ok > /www/{path}" for path in writes)
    script += f" && exec httpd -f -p {port} -h /www"
    if slow_to_stop:
        script = "trap '' TERM; " + script  # the ignored signal stays ignored in httpd
    declared = {"containerPort": port} | ({"name": port_name} if port_name else {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": app}},
        "spec": {
            "terminationGracePeriodSeconds": SLOW_GRACE_S if slow_to_stop else 1,
            "containers": [
                {
                    "name": "web",
                    "image": BUSYBOX_IMAGE,
                    "command": ["sh", "-c", script],
                    "ports": [declared],
                    "readinessProbe": (probe or {"tcpSocket": {"port": port}}) | {"periodSeconds": 1},
                }
            ],
        },
    }


def client_pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": CLIENT, "labels": {"role": "client"}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {"name": "curl", "image": CURL_IMAGE, "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 86400 & wait"]}
            ],
        },
    }


def service(name: str, app: str, port: int, target, *, headless: bool = False) -> dict:
    spec = {"selector": {"app": app}, "ports": [{"port": port, "targetPort": target, "protocol": "TCP"}]}
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


@dataclass(frozen=True)
class Scenario:
    name: str
    service: str
    manifests: list[dict]
    # (ready, serving, terminating) per Pod, for each slice: (address type, ports, endpoints)
    slices: list[tuple[str, tuple, dict[str, tuple[bool, bool, bool]]]]
    deletes: tuple[str, ...] = ()  # Pods deleted (without waiting) once the slices list them all
    curls: dict[str, int] = field(default_factory=dict)  # URL -> curl's exit code

    @property
    def ready_pods(self) -> list[str]:
        """The Pods to wait for before the Service is compared: all that should be Ready."""
        wanted = {pod for _, _, endpoints in self.slices for pod, c in endpoints.items() if c[1]}
        return sorted(wanted | {CLIENT})


SCENARIOS = [
    Scenario(
        "two-ready-pods",
        "web",
        [web_pod("web-a", "web", 8080), web_pod("web-b", "web", 8080), service("web", "web", 80, 8080)],
        [("IPv4", (("", 8080, "TCP"),), {"web-a": (True, True, False), "web-b": (True, True, False)})],
        curls={"http://web:80/": 0},
    ),
    Scenario(
        # The targetPort is resolved on each Pod: one name, two numbers, two slices.
        "named-target-port",
        "np",
        [
            web_pod("np-a", "np", 8080, port_name="http"),
            web_pod("np-b", "np", 9090, port_name="http"),
            service("np", "np", 80, "http"),
        ],
        [
            ("IPv4", (("", 8080, "TCP"),), {"np-a": (True, True, False)}),
            ("IPv4", (("", 9090, "TCP"),), {"np-b": (True, True, False)}),
        ],
        curls={"http://np:80/": 0},
    ),
    Scenario(
        # A terminating Pod stays listed, not ready but still serving, until it is gone.
        "terminating-pod",
        "going",
        [
            web_pod("stays", "going", 8080),
            web_pod("leaves", "going", 8080, slow_to_stop=True),
            service("going", "going", 80, 8080),
        ],
        [("IPv4", (("", 8080, "TCP"),), {"stays": (True, True, False), "leaves": (False, True, True)})],
        deletes=("leaves",),
        curls={"http://going:80/": 0},
    ),
    Scenario(
        # With no ready endpoint left, kube-proxy still sends traffic to a serving terminating one.
        "only-a-terminating-pod",
        "last",
        [web_pod("last-one", "last", 8080, slow_to_stop=True), service("last", "last", 80, 8080)],
        [("IPv4", (("", 8080, "TCP"),), {"last-one": (False, True, True)})],
        deletes=("last-one",),
        curls={"http://last:80/": 0},
    ),
    Scenario(
        # No virtual IP: the name resolves to the Pods, and the URL's port is the Pod's port.
        "headless-service",
        "direct",
        [
            web_pod("direct-a", "direct", 8080),
            web_pod("direct-b", "direct", 8080),
            service("direct", "direct", 80, 8080, headless=True),
        ],
        [("IPv4", (("", 8080, "TCP"),), {"direct-a": (True, True, False), "direct-b": (True, True, False)})],
        curls={"http://direct:8080/": 0, "http://direct:80/": 7},
    ),
    Scenario(
        # Readiness from the probe: a path the server serves, and one it does not.
        "readiness-probe-path",
        "probed",
        [
            web_pod(
                "serves-path", "probed", 8080, writes=("ready",), probe={"httpGet": {"path": "/ready", "port": 8080}}
            ),
            web_pod("lacks-path", "probed", 8080, probe={"httpGet": {"path": "/missing", "port": 8080}}),
            service("probed", "probed", 80, 8080),
        ],
        [("IPv4", (("", 8080, "TCP"),), {"serves-path": (True, True, False), "lacks-path": (False, False, False)})],
        curls={"http://probed:80/": 0},
    ),
]


def slice_view(slices: list[dict], service_name: str) -> list[tuple[str, tuple, dict]]:
    """What grading reads of a Service's EndpointSlices, in the scenarios' form, sorted."""
    view = []
    for item in slices:
        if (item["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != service_name:
            continue
        ports = tuple(
            sorted((p.get("name") or "", p.get("port"), p.get("protocol") or "TCP") for p in item.get("ports") or [])
        )
        endpoints = {}
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            pod = (endpoint.get("targetRef") or {}).get("name", "?")
            endpoints[pod] = tuple(conditions.get(c) is True for c in ("ready", "serving", "terminating"))
        view.append((item.get("addressType"), ports, endpoints))
    return sorted(view, key=lambda s: (s[0], s[1], sorted(s[2])))


def expected_view(scenario: Scenario) -> list[tuple[str, tuple, dict]]:
    return sorted(scenario.slices, key=lambda s: (s[0], s[1], sorted(s[2])))


def namespaced(manifests: list[dict], namespace: str) -> list[dict]:
    return [m | {"metadata": m["metadata"] | {"namespace": namespace}} for m in manifests]


# -- refused writes -------------------------------------------------------------------------------
# Creating what exists, replacing a stale copy, replacing what does not exist: each refusal
# is an error of its own, so the code that retries a conflict retries nothing else.
WRITE_REFUSALS = ["AlreadyExists", "Conflict", "NotFound"]


def write_refusals(cluster, namespace: str) -> list[str]:
    """The name of the error each refused write raises on `cluster` (a ckaprep cluster seam)."""
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "refusals", "namespace": namespace},
        "data": {"value": "1"},
    }

    def refusal(write) -> str:
        try:
            write()
        except Refused as exc:
            return type(exc).__name__
        return "accepted"

    created = cluster.create(manifest)
    found = [refusal(lambda: cluster.create(manifest))]
    cluster.replace(copy.deepcopy(created) | {"data": {"value": "2"}})  # moves its resourceVersion on
    found.append(refusal(lambda: cluster.replace(created)))
    gone = copy.deepcopy(manifest)
    gone["metadata"]["name"] = "refusals-gone"
    found.append(refusal(lambda: cluster.replace(gone)))
    return found
