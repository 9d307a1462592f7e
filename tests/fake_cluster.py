"""An in-memory cluster behind the same interface as the real one, for unit tests.

It simulates just enough of Kubernetes for grading, and is as strict as Kubernetes where
grading depends on it:

- Deployments make Pods (named and labelled with a pod-template-hash); a changed pod template
  rolls the Pods: the new ones are created and the old ones start terminating. StatefulSets
  make `<name>-<ordinal>` Pods labelled with their pod name, index and controller-revision-hash.
- Deleting a Pod takes time: it keeps a `deletionTimestamp` (the request's time plus its
  `terminationGracePeriodSeconds`, 30 s by default) and stays, terminating, until the server's
  clock passes it. The clock moves 5 s with each write; reads happen `quiet_for` after the
  last write (a minute by default, so a short grace period has run out by then), and
  `advance(seconds)` lets time pass with no write.
- The EndpointSlice controller is simulated as Kubernetes builds slices: one set per address
  family of the Service, the Service's targetPort resolved on each Pod by name and protocol (a
  named targetPort that resolves to different numbers on different Pods gives separate slices), terminating
  Pods listed with `ready: false`, `serving` (the Pod's Ready condition) and `terminating`,
  and an empty placeholder slice when no Pod is selected.
- Readiness follows the readiness probe against what the container serves (see
  `_readiness_probe_passes`), and a Pod without a probe is Ready once it runs.
- `curl` inside a pod follows DNS and kube-proxy: a Service name or ClusterIP goes to one
  ready endpoint of the Service's EndpointSlices (serving terminating ones only when none is
  ready), a headless Service (clusterIP None) has no virtual IP and its name resolves to the
  ready Pods' IPs, which are reached on the URL's port as it is, and a Pod IP reaches that Pod.
- `dns_lag` and `proxy_lag` (off by default) make DNS and kube-proxy apply a change only that
  long after the API shows it, as they do on a real cluster.
- Pods get service environment variables at creation.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from ckaprep.catalogue.templating import env_name
from ckaprep.cluster import ALL_KINDS as KINDS
from ckaprep.cluster import ExecResult
from ckaprep.cluster.labels import matches
from ckaprep.cluster.waiting import pod_is_ready
from ckaprep.errors import AlreadyExists, CkaprepError, Conflict, NotFound
from ckaprep.grading.dns_probes import DNS_MARKER, dashed, queries_of
from ckaprep.grading.dns_probes import RESULT_MARKER as DNS_RESULT_MARKER
from ckaprep.grading.probes import RESULT_MARKER
from tests.fake_network import NodesAndPolicies

DOMAIN = "cluster.local"
DEFAULT_GRACE_S = 30  # a Pod's terminationGracePeriodSeconds when it sets none
# The container's command, read as a busybox shell script: the web servers it starts and the files it writes.
HTTPD = re.compile(r"httpd\b([^&;|]*)")
WRITTEN_FILE = re.compile(r"(?:>|\btouch)\s*['\"]?(/[^\s'\";&|)]+)")
EXEC_READS = {"cat", "ls", "test", "["}  # exec probes the fake can answer: they look at a file
ENV_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _serialized(method):
    """One call at a time, as tests set exercises up and grade them from several threads."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


# -- StatefulSets and cluster DNS ---------------------------------------------------------------
# Kept apart from the rest of the simulation: StatefulSet pods with stable names, and the records
# CoreDNS's kubernetes plugin serves (`pods insecure`), answered as busybox's nslookup prints them.
class _StatefulSetsAndDns:
    def _spawn_statefulset_pods(self, sts: dict) -> None:
        """Pods <name>-0, <name>-1, ... with hostname and subdomain set, as the controller makes them."""
        template = sts["spec"]["template"]
        ns, name = sts["metadata"]["namespace"], sts["metadata"]["name"]
        revision = f"{name}-{_template_hash(sts)}"  # the ControllerRevision of this template
        for ordinal in range(sts["spec"].get("replicas", 1)):
            spec = copy.deepcopy(template["spec"])
            spec["hostname"] = f"{name}-{ordinal}"
            spec["subdomain"] = sts["spec"].get("serviceName", "")
            self.create(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{name}-{ordinal}",
                        "namespace": ns,
                        "labels": copy.deepcopy(template["metadata"].get("labels") or {})
                        | {
                            "statefulset.kubernetes.io/pod-name": f"{name}-{ordinal}",
                            "apps.kubernetes.io/pod-index": str(ordinal),
                            "controller-revision-hash": revision,
                        },
                        "ownerReferences": [
                            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "controller": True}
                        ],
                    },
                    "spec": spec,
                }
            )

    def _delete_statefulset_pods(self, ns: str, name: str) -> None:
        for pod in list(self._pods(ns)):
            owners = pod["metadata"].get("ownerReferences") or []
            if any(o.get("kind") == "StatefulSet" and o.get("name") == name for o in owners):
                self.objects.pop(("Pod", ns, pod["metadata"]["name"]), None)

    def _dns_batch(self, argv: list[str]) -> ExecResult:
        """What `nslookup_argv` prints in a pod: each answer, then its result line."""
        out = []
        for rtype, name in queries_of(argv):
            status, records = self._dns_records(rtype, name.rstrip(".").lower())
            text = "Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
            if status == "ok" and rtype == "SRV":
                text += "".join(f"{name.rstrip('.')}\tservice = {r}\n" for r in records)
            elif status == "ok":
                text += "".join(f"Name:\t{name.rstrip('.')}\nAddress: {ip}\n" for ip in records)
            elif status == "nxdomain":
                text += f"** server can't find {name}: NXDOMAIN\n"
            else:
                text += f"*** Can't find {name}: No answer\n"
            out.append(f"{text}\n{DNS_RESULT_MARKER} {0 if status == 'ok' else 1}\n")
        return ExecResult(0, "".join(out), "")

    def _dns_records(self, rtype: str, name: str) -> tuple[str, list[str]]:
        """("ok", records), ("nodata", []) or ("nxdomain", []) for a lower-case name without the dot."""
        suffix = f".svc.{DOMAIN}"
        pod_suffix = f".pod.{DOMAIN}"
        if name.endswith(pod_suffix):  # <a-b-c-d>.<ns>.pod.<domain>: any dashed IP (`pods insecure`)
            labels = name[: -len(pod_suffix)].split(".")
            ip = labels[0].replace("-", ".")
            if len(labels) == 2 and re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", ip):
                return ("ok", [ip]) if rtype == "A" else ("nodata", [])
            return "nxdomain", []
        if not name.endswith(suffix):
            return "nxdomain", []
        labels = name[: -len(suffix)].split(".")
        if rtype == "SRV":
            if len(labels) != 4 or not labels[0].startswith("_") or not labels[1].startswith("_"):
                return "nxdomain", []
            port_name, protocol, svc = labels[0][1:], labels[1][1:].upper(), self._dns_service(labels[3], labels[2])
            entry = next(
                (
                    p
                    for p in (svc or {"spec": {}})["spec"].get("ports") or []
                    if p.get("name") == port_name and p.get("protocol", "TCP") == protocol
                ),
                None,
            )
            if entry is None:
                return "nxdomain", []
            base = f"{labels[2]}.{labels[3]}{suffix}"
            if svc["spec"].get("clusterIP") != "None":
                return "ok", [f"0 100 {entry['port']} {base}"]
            pods = self._dns_endpoint_pods(svc)
            if not pods:
                return "nxdomain", []
            share = 100 // len(pods)
            return "ok", [
                f"0 {share} {self._resolve_target(p, entry.get('targetPort', entry['port']), protocol)} "
                f"{self._dns_endpoint_host(p, svc)}.{base}"
                for p in pods
            ]
        if len(labels) == 2:  # <service>.<ns>
            svc = self._dns_service(labels[1], labels[0])
            if svc is None:
                return "nxdomain", []
            if svc["spec"].get("clusterIP") != "None":
                return ("ok", [svc["spec"]["clusterIP"]]) if rtype == "A" else ("nodata", [])
            ips = [p["status"]["podIP"] for p in self._dns_endpoint_pods(svc)]
            if not ips:
                return "nxdomain", []
            return ("ok", sorted(ips)) if rtype == "A" else ("nodata", [])
        if len(labels) == 3:  # <hostname>.<service>.<ns>: an endpoint's own name
            pod = self._dns_pod_named(f"{name}")
            if pod is None:
                return "nxdomain", []
            return ("ok", [pod["status"]["podIP"]]) if rtype == "A" else ("nodata", [])
        return "nxdomain", []

    def _dns_service(self, ns: str, name: str) -> dict | None:
        return self.objects.get(("Service", ns, name))

    def _dns_endpoint_pods(self, svc: dict) -> list[dict]:
        """The pods a Service's DNS records name: selected, not terminating, and Ready (or all
        of them with publishNotReadyAddresses)."""
        selector = svc["spec"].get("selector")
        if not selector:
            return []
        publish_all = bool(svc["spec"].get("publishNotReadyAddresses"))
        return [
            p
            for p in self._pods(svc["metadata"]["namespace"])
            if matches(selector, p["metadata"].get("labels"))
            and not p["metadata"].get("deletionTimestamp")
            and (publish_all or p["status"]["conditions"][0]["status"] == "True")
        ]

    @staticmethod
    def _dns_endpoint_host(pod: dict, svc: dict) -> str:
        """The endpoint's hostname when the pod's subdomain is this Service, else its dashed IP."""
        spec = pod["spec"]
        if spec.get("hostname") and spec.get("subdomain") == svc["metadata"]["name"]:
            return spec["hostname"]
        return dashed(pod["status"]["podIP"])

    def _dns_pod_named(self, host: str) -> dict | None:
        """The pod behind <hostname>.<service>.<ns>.svc.<domain> (or a shorter form of it)."""
        labels = host.rstrip(".").lower().split(".")
        if len(labels) < 3 or labels[3:] not in ([], ["svc"], ["svc", *DOMAIN.split(".")]):
            return None
        hostname, service, ns = labels[:3]
        svc = self._dns_service(ns, service)
        if svc is None:  # like CoreDNS, a Service with a ClusterIP names its endpoints too
            return None
        return next((p for p in self._dns_endpoint_pods(svc) if self._dns_endpoint_host(p, svc) == hostname), None)

    def _dns_connect(self, pod: dict, port: int) -> tuple[int, str, str]:
        blocked = self._network_blocks(pod, port)
        if blocked:
            return blocked
        if port in self._listening_ports(pod):
            return 0, f"{pod['metadata']['name']}\nport={port}\n", ""
        return 7, "", "Failed to connect: Connection refused"


class FakeCluster(_StatefulSetsAndDns, NodesAndPolicies):
    def __init__(self, *, failure: CkaprepError | None = None):
        self._lock = threading.RLock()
        self.objects: dict[tuple[str, str | None, str], dict] = {}
        self.failure = failure  # raised by every call, to test error paths
        self.exec_log: list[tuple[str, str, list[str]]] = []
        self.read_log: list[tuple[str, str, str | None]] = []  # (get or list, kind, namespace)
        self.pod_ready_default = True
        self._clock = datetime(2026, 1, 1, tzinfo=timezone.utc)
        self._next_ip = {"pod": 10, "svc": 10}
        self.denied: set[tuple[str, str]] = set()  # (verb, resource) the user may not do
        self.server_version = {"major": "1", "minor": "36", "gitVersion": "v1.36.0-fake"}
        self.unpullable: set[str] = set()  # images whose pods end in ImagePullBackOff
        self.mirrors_endpoints = False  # the real controller mirrors hand-made Endpoints into a slice
        self._requests = 0
        self._next_uid = 0
        self._affinity: dict[tuple[str, str, str], str] = {}  # (ns, service, client ns) -> pod
        # How long ago the last write happened, as the server's clock sees it: a test that wants a
        # cluster still in flux makes this short.
        self.quiet_for = timedelta(minutes=1)
        self.account: tuple[str, str] | None = None  # the ServiceAccount the credentials belong to
        self.tokens: list[tuple[str, str, int]] = []  # (namespace, service account, seconds) asked for
        self._versions = 0
        # The Service range, as ServiceCIDR `kubernetes` shows it; empty for a cluster before 1.33.
        self.service_cidrs = ["10.96.0.0/16"]
        # DNS and kube-proxy apply a change this long after the API shows it (a test turns them on).
        self.dns_lag = timedelta(0)
        self.proxy_lag = timedelta(0)
        self._serial = 0  # for the generated part of Pod names
        self._owners: dict[tuple[str, str], str] = {}  # (namespace, pod) -> its Deployment
        # (namespace, pod) -> [(time, ready, terminating)]: what kube-proxy sees, with its lag
        self._pod_history: dict[tuple[str, str], list[tuple[datetime, bool, bool]]] = {}
        self._network_init()  # nodes, NetworkPolicy, traffic fields, address families (fake_network.py)

    def describe(self) -> str:
        return "fake://cluster"

    # -- the Cluster interface ------------------------------------------------------
    def version(self):
        self._maybe_fail()
        return dict(self.server_version)

    def server_time(self):
        return self._clock + self.quiet_for

    def can_i(self, verb, group, resource, subresource="", *, namespace):
        self._maybe_fail()
        return (verb, f"{resource}/{subresource}" if subresource else resource) not in self.denied

    @_serialized
    def get(self, kind, namespace, name):
        self._maybe_fail()
        self._reap()
        self.read_log.append(("get", kind, namespace))
        if kind == "EndpointSlice":
            return next((s for s in self._slices(namespace) if s["metadata"]["name"] == name), None)
        if kind == "ServiceCIDR":
            return next((o for o in self.list(kind, None) if o["metadata"]["name"] == name), None)
        if kind == "Node":
            return next((o for o in self._node_objects() if o["metadata"]["name"] == name), None)
        if kind == "IPAddress":  # one per ClusterIP in use, named by the address
            held = any(o["spec"].get("clusterIP") == name for (k, _, _), o in self.objects.items() if k == "Service")
            return {"kind": "IPAddress", "metadata": {"name": name}, "spec": {}} if held else None
        obj = self.objects.get((kind, namespace if KINDS[kind][2] else None, name))
        return copy.deepcopy(obj)

    @_serialized
    def list(self, kind, namespace, label_selector=""):
        self._maybe_fail()
        self._reap()
        self.read_log.append(("list", kind, namespace))
        selector = dict(p.split("=", 1) for p in label_selector.split(",") if p)
        items = (
            self._slices(namespace)
            if kind == "EndpointSlice"
            else [o for (k, ns, _), o in self.objects.items() if k == kind and (namespace is None or ns == namespace)]
        )
        if kind == "Node":
            items = self._node_objects()
        if kind == "ServiceCIDR" and self.service_cidrs:
            items = [
                {"kind": "ServiceCIDR", "metadata": {"name": "kubernetes"}, "spec": {"cidrs": list(self.service_cidrs)}}
            ]
        if selector:
            items = [o for o in items if matches(selector, o["metadata"].get("labels"))]
        return copy.deepcopy(sorted(items, key=lambda o: o["metadata"]["name"]))

    @_serialized
    def create(self, manifest):
        self._maybe_fail()
        self._reap()
        obj = copy.deepcopy(manifest)
        kind, meta = obj["kind"], obj.setdefault("metadata", {})
        ns = meta.get("namespace") if KINDS[kind][2] else None
        key = (kind, ns, meta["name"])
        if key in self.objects:
            raise AlreadyExists(
                f"the cluster refused POST {kind} {meta['name']}: {kind} {meta['name']!r} already exists"
            )
        meta["creationTimestamp"] = self._tick()
        self._next_uid += 1
        meta["uid"] = f"00000000-0000-4000-8000-{self._next_uid:012d}"
        meta["resourceVersion"] = self._version()
        getattr(self, f"_admit_{kind.lower()}", lambda o: None)(obj)
        self.objects[key] = obj
        if kind == "Pod":
            self._owners.pop((ns, meta["name"]), None)
            self._pod_history[(ns, meta["name"])] = []
            self._record(obj)
        if kind == "Deployment":
            self._spawn_pods(obj)
        if kind == "ConfigMap":  # the kubelet retries containers that waited for it
            self._restart_waiting_for_config(ns)
        if kind == "StatefulSet":
            self._spawn_statefulset_pods(obj)
        return copy.deepcopy(obj)

    @_serialized
    def delete(self, kind, namespace, name):
        self._maybe_fail()
        self._reap()
        ns = namespace if KINDS[kind][2] else None
        if kind == "Pod":
            if ("Pod", ns, name) in self.objects:
                self._delete_pod(ns, name)
            return
        removed = self.objects.pop((kind, ns, name), None)
        if kind == "Deployment" and removed:  # garbage collection takes its pods along
            for pod_ns, pod in [key for key, owner in self._owners.items() if key[0] == ns and owner == name]:
                if ("Pod", pod_ns, pod) in self.objects:
                    self._delete_pod(pod_ns, pod)
        if kind == "StatefulSet":
            self._delete_statefulset_pods(ns, name)
        if kind == "Namespace":
            for key in [k for k in self.objects if k[1] == name]:
                del self.objects[key]
        if kind == "Deployment":  # the garbage collector deletes its Pods, gracefully
            for pod_ns, pod in [k for k, owner in self._owners.items() if k[0] == ns and owner == name]:
                if ("Pod", pod_ns, pod) in self.objects:
                    self._delete_pod(pod_ns, pod)

    @_serialized
    def replace(self, manifest):
        self._maybe_fail()
        obj = copy.deepcopy(manifest)
        kind, meta = obj["kind"], obj["metadata"]
        key = (kind, meta.get("namespace") if KINDS[kind][2] else None, meta["name"])
        current = self.objects.get(key)
        if current is None:
            raise NotFound(f"the cluster refused PUT {kind} {meta['name']}: not found")
        wanted = meta.get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise Conflict(f"the cluster refused PUT {kind} {meta['name']}: the object has been modified")
        meta["creationTimestamp"] = current["metadata"].get("creationTimestamp")
        meta["resourceVersion"] = self._version()
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def request_token(self, namespace, service_account, seconds):
        self._maybe_fail()
        if ("ServiceAccount", namespace, service_account) not in self.objects:
            raise NotFound(f"the cluster refused POST token: serviceaccounts {service_account!r} not found")
        self.tokens.append((namespace, service_account, seconds))
        expiry = self._clock + timedelta(seconds=seconds)
        return {
            "token": f"fake-token-{namespace}-{service_account}-{len(self.tokens)}",
            "expiration": expiry.isoformat().replace("+00:00", "Z"),
        }

    def endpoint(self):
        return {"server": "https://fake.invalid:6443", "ca_pem": None, "insecure": False}

    def service_account(self):
        return self.account

    @_serialized
    def exec(self, namespace, pod, argv, timeout):
        self._maybe_fail()
        self._reap()
        self.exec_log.append((namespace, pod, list(argv)))
        source = self.objects.get(("Pod", namespace, pod))
        if source is None:
            return ExecResult(1, "", f'pods "{pod}" not found')
        if argv == ["env"]:
            env = source.get("_env", {})
            return ExecResult(0, "".join(f"{k}={v}\n" for k, v in env.items()), "")
        if argv == ["cat", "/etc/resolv.conf"]:
            search = f"{namespace}.svc.{DOMAIN} svc.{DOMAIN} {DOMAIN}"
            return ExecResult(0, f"search {search}\nnameserver 10.96.0.10\noptions ndots:5\n", "")
        if argv and argv[0] == "curl":
            return self._in_pod(source, lambda: self._curl_batch(namespace, argv))
        if argv[:2] == ["sh", "-c"] and argv[3:4] == [DNS_MARKER]:
            return self._dns_batch(argv)
        if "nslookup" in argv:
            return self._nslookup(argv[argv.index("nslookup") :])
        return ExecResult(127, "", f"{argv[0]}: not found")

    # -- helpers for tests -------------------------------------------------------------
    @_serialized
    def apply(self, manifest: dict) -> dict:
        """Create, or replace an existing object's spec (like kubectl apply for our needs)."""
        self._reap()
        kind, meta = manifest["kind"], manifest["metadata"]
        key = (kind, meta.get("namespace") if KINDS[kind][2] else None, meta["name"])
        if key not in self.objects:
            return self.create(manifest)
        obj = self.objects[key]
        spec_before = copy.deepcopy(obj.get("spec") or {})
        cluster_ip = (obj.get("spec") or {}).get("clusterIP")
        for field in ("spec", "data", "subsets", "endpoints", "ports", "addressType"):
            if field in manifest:
                obj[field] = copy.deepcopy(manifest[field])
        obj["metadata"]["labels"] = copy.deepcopy(meta.get("labels") or {})
        if kind == "Service":
            obj["spec"].setdefault("clusterIP", cluster_ip)  # immutable, kept by apply
            # An ExternalName alias has no address: turned into another type, it gets one.
            self._admit_service(obj, keep_ip=cluster_ip is not None)
        if kind == "Deployment":
            if _template_hash(obj) != _template_hash({"spec": spec_before}):
                self._tick()
                self._spawn_pods(obj)  # a rollout: new Pods, and the old ones terminate
            elif obj["spec"].get("replicas", 1) != spec_before.get("replicas", 1):
                self._tick()
                self._spawn_pods(obj)
        return copy.deepcopy(obj)

    def patch(self, kind: str, namespace: str | None, name: str, update) -> None:
        update(self.objects[(kind, namespace if KINDS[kind][2] else None, name)])

    @_serialized
    def set_ready(self, namespace: str, name: str, ready: bool) -> None:
        pod = self.objects[("Pod", namespace, name)]
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
        pod["metadata"]["managedFields"] = [{"manager": "kubelet", "subresource": "status", "time": self._tick()}]
        self._record(pod)

    def advance(self, seconds: float) -> None:
        """Let time pass on the server's clock with no write: terminating Pods finish, changes age."""
        with self._lock:
            self.quiet_for += timedelta(seconds=seconds)
            self._reap()

    def wait_until_gone(self, kind: str, namespace: str | None, name: str) -> None:
        """Let time pass until a terminating object is gone, as `kubectl delete` waits for it."""
        with self._lock:
            obj = self.objects.get((kind, namespace if KINDS[kind][2] else None, name))
            stamp = _parse((obj or {}).get("metadata", {}).get("deletionTimestamp"))
            if stamp is not None and stamp > self.server_time():
                self.advance((stamp - self.server_time()).total_seconds())

    # -- simulation ---------------------------------------------------------------------
    def _maybe_fail(self):
        if self.failure is not None:
            raise self.failure

    def _version(self) -> str:
        self._versions += 1
        return str(self._versions)

    def _tick(self) -> str:
        self._clock += timedelta(seconds=5)
        return _stamp(self._clock)

    def _reap(self) -> None:
        """Terminating Pods whose grace period is over are gone."""
        now = self.server_time()
        for key, obj in list(self.objects.items()):
            stamp = _parse(obj["metadata"].get("deletionTimestamp")) if key[0] == "Pod" else None
            if stamp is not None and stamp <= now:
                del self.objects[key]

    def _delete_pod(self, ns: str, name: str) -> None:
        pod = self.objects[("Pod", ns, name)]
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return
        self._tick()  # the delete request is a write
        grace = pod["spec"].get("terminationGracePeriodSeconds", DEFAULT_GRACE_S)
        if grace <= 0:
            del self.objects[("Pod", ns, name)]
            return
        meta["deletionTimestamp"] = _stamp(self._clock + timedelta(seconds=grace))
        meta["deletionGracePeriodSeconds"] = grace
        self._record(pod)

    def _record(self, pod: dict) -> None:
        """What the Pod looks like to the endpoint machinery from now on (kube-proxy reads it with its lag)."""
        meta = pod["metadata"]
        state = (self._clock, pod_is_ready(pod), bool(meta.get("deletionTimestamp")))
        self._pod_history.setdefault((meta["namespace"], meta["name"]), []).append(state)

    def _admit_service(self, obj, keep_ip=False):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port["port"])
        self._admit_session_affinity(spec)
        if spec["type"] == "ExternalName":  # a DNS alias: no address
            spec.pop("clusterIP", None)
            return
        wanted = spec.get("clusterIP")
        if wanted not in (None, "", "None") and not keep_ip:
            if any(
                o is not obj and o["spec"].get("clusterIP") == wanted
                for (k, _, _), o in self.objects.items()
                if k == "Service"
            ):
                raise ValueError(f"spec.clusterIP: Invalid value: {wanted!r}: provided IP is already allocated")
        if spec.get("clusterIP") in (None, "") and not keep_ip:
            # As the API server does, dynamic addresses come from above the range's static band
            # (its first 256 addresses in a /16), which is left to addresses asked for.
            self._next_ip["svc"] += 1
            number = self._next_ip["svc"]
            spec["clusterIP"] = f"10.96.{1 + number // 254}.{1 + number % 254}"
        spec.setdefault("ipFamilies", ["IPv4"])
        self._admit_address_families(spec)

    @staticmethod
    def _admit_session_affinity(spec):
        """Defaults and validation as the API server applies them."""
        spec.setdefault("sessionAffinity", "None")
        if spec["sessionAffinity"] == "ClientIP":
            client_ip = spec.setdefault("sessionAffinityConfig", {}).setdefault("clientIP", {})
            client_ip.setdefault("timeoutSeconds", 10800)
            if not 0 < client_ip["timeoutSeconds"] <= 86400:
                raise ValueError("spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be in (0, 86400]")
        else:  # the API server drops a timeout given without ClientIP
            spec.pop("sessionAffinityConfig", None)

    def _admit_pod(self, obj):
        ns = obj["metadata"]["namespace"]
        if not self._schedule(obj):  # no node fits it (fake_network.py)
            obj["status"], obj["_env"], obj["_listening"] = self._unscheduled_status(), {}, []
            return
        self._next_ip["pod"] += 1
        obj.pop("_listening", None)
        obj["_listening"] = sorted(self._listening_ports(obj))
        ready = self.pod_ready_default and self._readiness_probe_passes(obj)
        number = self._next_ip["pod"]  # past 255 Pods, the next /24 of the Pod network
        ip = f"10.244.{number // 256}.{number % 256}"
        obj["status"] = {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        images = [c.get("image") for c in obj["spec"].get("containers") or []]
        if self.unpullable & set(images):
            image = next(i for i in images if i in self.unpullable)
            obj["status"] = {  # the sandbox has an IP before the image is pulled
                "phase": "Pending",
                "podIP": obj["status"]["podIP"],
                "podIPs": [{"ip": ip}],
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"image": image, "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
            }
        missing = self._missing_config_maps(obj)
        if missing:
            obj["status"] = {  # like the kubelet: the sandbox runs, the container cannot be created
                "phase": "Pending",
                "podIP": obj["status"]["podIP"],
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {
                        "state": {
                            "waiting": {
                                "reason": "CreateContainerConfigError",
                                "message": f'configmap "{missing[0]}" not found',
                            }
                        }
                    }
                ],
            }
        env = {}
        if obj.get("spec", {}).get("enableServiceLinks", True):
            for (kind, svc_ns, name), svc in self.objects.items():
                if kind == "Service" and svc_ns == ns and svc["spec"].get("clusterIP") not in (None, "None"):
                    prefix, ports = env_name(name), svc["spec"].get("ports") or []
                    env[f"{prefix}_SERVICE_HOST"] = svc["spec"]["clusterIP"]
                    if ports:
                        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
                    for port in ports:
                        if port.get("name"):
                            env[f"{prefix}_SERVICE_PORT_{env_name(port['name'])}"] = str(port["port"])
        obj["_env"] = env

    def _missing_config_maps(self, pod) -> list[str]:
        ns = pod["metadata"]["namespace"]
        wanted = [
            ref["configMapRef"]
            for c in pod["spec"].get("containers") or []
            for ref in c.get("envFrom") or []
            if "configMapRef" in ref
        ]
        return [r["name"] for r in wanted if not r.get("optional") and ("ConfigMap", ns, r["name"]) not in self.objects]

    def _restart_waiting_for_config(self, ns) -> None:
        for pod in self._pods(ns):
            waiting = [
                (s.get("state") or {}).get("waiting") or {} for s in pod["status"].get("containerStatuses") or []
            ]
            if any(w.get("reason") == "CreateContainerConfigError" for w in waiting):
                self._admit_pod(pod)

    def _readiness_probe_passes(self, pod) -> bool:
        """Each container's readiness probe, asked of what the Pod serves (see `_served`).

        tcpSocket passes when something in the Pod listens on the port; httpGet when a web
        server listens there and serves the path (a file it was started to serve, `index.html`
        for a path ending in /); exec when it only reads a file (`cat`, `ls`, `test -e`) that
        the container wrote, or is `true`. Any other probe fails: the fake cannot run it.
        A probe that passes makes the Pod Ready at once; its timing fields are not modelled.
        """
        listening, files = self._served(pod)
        for container in pod["spec"].get("containers") or []:
            probe = container.get("readinessProbe")
            if not probe:
                continue
            if "exec" in probe:
                command = [str(a) for a in (probe["exec"] or {}).get("command") or []]
                target = next((a for a in command[1:] if a.startswith("/")), None)
                if command != ["true"] and not (command and command[0] in EXEC_READS and target in files):
                    return False
                continue
            action = probe.get("httpGet") or probe.get("tcpSocket")
            if action is None:  # grpc, or nothing the fake can answer
                return False
            port = action.get("port")
            if isinstance(port, str) and not port.isdigit():
                port = next((p["containerPort"] for p in container.get("ports") or [] if p.get("name") == port), None)
            if port is None or int(port) not in listening:
                return False
            if "httpGet" in probe:
                path = probe["httpGet"].get("path") or "/"
                path = path.split("?", 1)[0]
                wanted = listening[int(port)].rstrip("/") + (path + "index.html" if path.endswith("/") else path)
                if wanted not in files:
                    return False
        return True

    def _served(self, pod) -> tuple[dict[int, str], set[str]]:
        """({port: directory} of the busybox web servers its containers start, {files they write}).

        A server bound to 127.0.0.1 (`httpd -p 127.0.0.1:PORT`) serves its own pod only, so it is
        not listed."""
        listening: dict[int, str] = {}
        files: set[str] = set()
        for container in pod["spec"].get("containers") or []:
            if "/coredns:" in str(container.get("image", "")):
                # A DNS server (udp-service): it listens on the ports it declares, over TCP as well.
                listening.update(
                    {
                        int(p["containerPort"]): "/"
                        for p in container.get("ports") or []
                        if p.get("protocol", "TCP") == "TCP"
                    }
                )
                continue
            script = " ".join([self._expanded(pod, container)] + [str(a) for a in container.get("args") or []])
            for options in HTTPD.findall(script):
                port = re.search(r"-p\s*(?:[\d.]+:)?(\d+)", options)
                if re.search(r"-p\s*127\.", options):
                    continue
                home = re.search(r"-h\s*(\S+)", options)
                if port:
                    listening[int(port.group(1))] = home.group(1) if home else "/"
            files |= set(WRITTEN_FILE.findall(script))
        return listening, files

    def _spawn_pods(self, deployment):
        """The Deployment's Pods for its current template; Pods of an older template terminate."""
        template = deployment["spec"]["template"]
        ns, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
        pod_hash = _template_hash(deployment)
        mine = [
            (pns, pod)
            for (pns, pod), owner in self._owners.items()
            if pns == ns
            and owner == name
            and ("Pod", pns, pod) in self.objects
            and not self.objects[("Pod", pns, pod)]["metadata"].get("deletionTimestamp")
        ]
        current = [
            key
            for key in mine
            if self.objects[("Pod", *key)]["metadata"]["labels"].get("pod-template-hash") == pod_hash
        ]
        for key in mine:
            if key not in current:
                self._delete_pod(*key)
        wanted = deployment["spec"].get("replicas", 1)
        for key in current[wanted:]:
            self._delete_pod(*key)
        for _ in range(wanted - len(current)):
            self._serial += 1
            pod_name = f"{name}-{pod_hash}-{self._serial:05d}"
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": ns,
                    "labels": copy.deepcopy(template["metadata"].get("labels") or {}) | {"pod-template-hash": pod_hash},
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": f"{name}-{pod_hash}",
                            "controller": True,
                        }
                    ],
                },
                "spec": copy.deepcopy(template["spec"]),
            }
            self.create(pod)
            self._owners[(ns, pod_name)] = name

    def _listening_ports(self, pod, protocol: str = "TCP") -> set[int]:
        """The ports other pods reach. Fixed when the pod starts, as a process reads its settings once."""
        if protocol != "TCP":
            # UDP servers (CoreDNS in udp-service) are known by the container ports they declare.
            return {
                int(p["containerPort"])
                for container in pod["spec"].get("containers") or []
                for p in container.get("ports") or []
                if p.get("protocol", "TCP") == protocol
            }
        if "_listening" in pod:
            return set(pod["_listening"])
        return set(self._served(pod)[0])

    def _expanded(self, pod, container) -> str:
        """The command as the kubelet runs it: $(VAR) replaced from env and envFrom ConfigMaps."""
        ns = pod["metadata"]["namespace"]
        env = {}
        for ref in container.get("envFrom") or []:
            config = self.objects.get(("ConfigMap", ns, (ref.get("configMapRef") or {}).get("name")))
            env.update((config or {}).get("data") or {})
        env.update({e["name"]: e.get("value", "") for e in container.get("env") or [] if "name" in e})
        text = " ".join(container.get("command") or [])
        return ENV_REFERENCE.sub(lambda m: env.get(m.group(1), m.group(0)), text)

    def _pods(self, ns):
        return [o for (k, pns, _), o in self.objects.items() if k == "Pod" and pns == ns]

    def _slices(self, ns):
        slices = [o for (k, sns, _), o in self.objects.items() if k == "EndpointSlice" and sns == ns]
        if self.mirrors_endpoints:
            slices += [self._mirror(o) for (k, ens, _), o in self.objects.items() if k == "Endpoints" and ens == ns]
        for (kind, sns, _), svc in self.objects.items():
            if kind == "Service" and sns == ns and svc["spec"].get("selector"):
                slices += self._controller_slices(svc)
        return slices

    def _controller_slices(self, svc, as_of: datetime | None = None) -> list[dict]:
        """The EndpointSlices the controller writes for a Service with a selector.

        With `as_of`, the Pods as they were then (what a lagging kube-proxy still sees).
        """
        ns, name, spec = svc["metadata"]["namespace"], svc["metadata"]["name"], svc["spec"]
        families = spec.get("ipFamilies") or ["IPv4"]
        publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
        groups: dict[tuple[str, tuple], list[dict]] = {}
        changes: dict[tuple[str, tuple], list[datetime]] = {}
        for pod in self._pods(ns):
            status = pod.get("status") or {}
            if not matches(spec["selector"], pod["metadata"].get("labels")) or not status.get("podIP"):
                continue
            if status.get("phase") in ("Succeeded", "Failed"):
                continue
            history = self._pod_history.get((ns, pod["metadata"]["name"])) or []
            if as_of is None:
                serving, terminating = pod_is_ready(pod), bool(pod["metadata"].get("deletionTimestamp"))
            else:
                seen = [h for h in history if h[0] <= as_of]
                if not seen:
                    continue  # created after that moment
                _, serving, terminating = seen[-1]
            # The targetPort is resolved on each Pod: Pods that resolve it differently get their own slice.
            ports = []
            for entry in spec.get("ports") or []:
                protocol = entry.get("protocol") or "TCP"
                target = self._resolve_target(pod, entry.get("targetPort", entry["port"]), protocol)
                if target is not None:  # like the real controller, a port the Pod lacks is left out
                    ports.append((entry.get("name") or "", int(target), entry.get("protocol") or "TCP"))
            for ip in [a.get("ip") for a in status.get("podIPs") or []] or [status["podIP"]]:
                family = "IPv6" if ":" in ip else "IPv4"
                if family not in families:
                    continue
                key = (family, tuple(ports))
                groups.setdefault(key, []).append(
                    {
                        "addresses": [ip],
                        "conditions": {
                            "ready": publish_not_ready or (serving and not terminating),
                            "serving": serving,
                            "terminating": terminating,
                        },
                        "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": ns},
                    }
                )
                changes.setdefault(key, []).extend(h[0] for h in history)
                changes[key] += [_parse(f.get("time")) for f in pod["metadata"].get("managedFields") or []]
        if not groups:  # no Pod selected: one empty placeholder slice
            groups[(families[0], ())] = []
        slices = []
        for (family, ports), endpoints in sorted(groups.items()):
            times = [t for t in changes.get((family, ports), []) if t is not None]
            digest = hashlib.sha256(repr((family, ports)).encode()).hexdigest()[:5]
            slices.append(
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "addressType": family,
                    "metadata": {
                        "managedFields": [{"manager": "kube-controller-manager", "time": _stamp(max(times))}]
                        if times
                        else [],
                        "name": f"{name}-{digest}",
                        "namespace": ns,
                        "labels": {
                            "kubernetes.io/service-name": name,
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                        },
                        "ownerReferences": [
                            {
                                "apiVersion": "v1",
                                "kind": "Service",
                                "name": name,
                                "controller": True,
                                "uid": svc["metadata"].get("uid", ""),
                            }
                        ],
                    },
                    "ports": [{"name": n, "port": port, "protocol": protocol} for n, port, protocol in ports],
                    "endpoints": sorted(endpoints, key=lambda e: e["addresses"][0]),
                }
            )
        return slices

    @staticmethod
    def _mirror(endpoints: dict) -> dict:
        name, subsets = endpoints["metadata"]["name"], endpoints.get("subsets") or []
        return {
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{name}-mirror",
                "namespace": endpoints["metadata"]["namespace"],
                "labels": {
                    "kubernetes.io/service-name": name,
                    "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io",
                },
            },
            "ports": [p for s in subsets for p in s.get("ports") or []],
            "endpoints": [{"addresses": [a["ip"]]} for s in subsets for a in s.get("addresses") or []],
        }

    @staticmethod
    def _resolve_target(pod, target, protocol="TCP"):
        """A Service port's targetPort on this Pod; a name resolves by name and protocol, as the
        EndpointSlice controller does (a UDP port never resolves to a TCP container port)."""
        if not isinstance(target, str):
            return target
        if target.isdigit():
            return int(target)
        return next(
            (
                int(p["containerPort"])
                for c in pod["spec"]["containers"]
                for p in c.get("ports") or []
                if p.get("name") == target and (p.get("protocol") or "TCP") == protocol
            ),
            None,
        )

    def _resolve(self, source_ns: str, host: str):
        """The Service that a name or ClusterIP belongs to; None when there is none."""
        for (kind, ns, name), svc in self.objects.items():
            if kind != "Service":
                continue
            names = {f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.{DOMAIN}"}
            if ns == source_ns:
                names.add(name)
            if host in names or host == svc["spec"].get("clusterIP"):
                if svc["spec"].get("type") == "ExternalName":
                    # A CNAME: its target is looked up as written, never through the search path.
                    target = (svc["spec"].get("externalName") or "").rstrip(".").lower()
                    return self._resolve("", target) if target.endswith(f".svc.{DOMAIN}") else None
                return svc
        return None

    def _curl_batch(self, source_ns: str, argv: list[str]) -> ExecResult:
        """curl's output for `curl_argv(urls)`: each body, then its result line."""
        urls = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--url"]
        out, code, errors = [], 0, []
        for url in urls:
            exit_code, body, message = self._answer(source_ns, url)
            status = "200" if exit_code == 0 else "000"
            out.append(f"{body}{RESULT_MARKER}{exit_code} {status} 0.001 {message}\n")
            if exit_code:
                code, errors = exit_code, errors + [f"curl: ({exit_code}) {message}"]
        return ExecResult(code, "".join(out), "\n".join(errors))

    def _answer(self, source_ns: str, url: str) -> tuple[int, str, str]:
        """(curl exit code, body, error message) for one request from a pod in `source_ns`."""
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or 80
        decided = self._network_answer(host, port)  # NetworkPolicy on DNS (fake_network.py)
        if decided is not None:
            return decided
        named_pod = self._dns_pod_named(host)
        if named_pod is not None:  # a StatefulSet pod's own name: straight to that pod
            return self._dns_connect(named_pod, port)
        is_ip = bool(re.fullmatch(r"[\d.]+", host))
        if is_ip:
            pod = next((p for p in self._all_pods() if (p.get("status") or {}).get("podIP") == host), None)
            if pod is not None:  # the pod network is flat: a Pod IP reaches that Pod
                return self._connect(pod, port)
        svc = self._resolve(source_ns, host)
        now = self.server_time()
        if svc is not None and not is_ip and self.dns_lag and created_at(svc) > now - self.dns_lag:
            svc = None  # DNS has not caught up with the new Service yet
        headless = svc is not None and svc["spec"].get("clusterIP") == "None"
        if svc is None or (headless and is_ip) or host == "None":
            return (28, "", "Connection timed out") if is_ip else (6, "", f"Could not resolve host: {host}")
        if headless:
            # No virtual IP: the name resolves to the ready Pods' IPs, and the URL's port is used as it is.
            ips = [
                ip
                for e in self._proxied_endpoints(svc)
                if e["conditions"].get("ready") is not False
                for ip in e["addresses"]
            ]
            if not ips:
                return 6, "", f"Could not resolve host: {host}"
            self._requests += 1
            ip = ips[self._requests % len(ips)]
            pod = next((p for p in self._all_pods() if (p.get("status") or {}).get("podIP") == ip), None)
            return self._connect(pod, port) if pod is not None else (28, "", "Connection timed out")
        if self.proxy_lag and created_at(svc) > now - self.proxy_lag:
            return 28, "", "Connection timed out"  # kube-proxy has no rules for this ClusterIP yet
        entry = next((p for p in svc["spec"].get("ports") or [] if p["port"] == port), None)
        if entry is not None and entry.get("protocol", "TCP") != "TCP":
            return 28, "", "Connection timed out"  # curl speaks TCP; nothing forwards TCP to that port
        if entry is None:
            return 7, "", "Failed to connect: Connection refused"
        # Like kube-proxy, each request goes to one endpoint; here in turn, so repeats see them all.
        endpoints = self._route(svc, list(self._endpoints(svc, entry)))  # traffic fields, per node
        if (
            not endpoints
            and svc["spec"].get("internalTrafficPolicy") == "Local"
            and self._client is not None
            and list(self._endpoints(svc, entry))
        ):
            return 7, "", "Failed to connect: Connection refused"  # no local endpoint: kube-proxy rejects it
        if endpoints:
            self._requests += 1
            pod, target = endpoints[self._requests % len(endpoints)]
            if svc["spec"].get("sessionAffinity") == "ClientIP":  # a client keeps its first endpoint
                key = (svc["metadata"]["namespace"], svc["metadata"]["name"], source_ns)
                pinned = self._affinity.setdefault(key, pod["metadata"]["name"])
                pod, target = next((e for e in endpoints if e[0]["metadata"]["name"] == pinned), (pod, target))
                self._affinity[key] = pod["metadata"]["name"]
            return self._connect(pod, target)
        return 7, "", "Failed to connect: Connection refused"

    def _nslookup(self, argv: list[str]) -> ExecResult:
        """busybox `nslookup -type=a NAME SERVER:PORT` against a backend that answers every
        A query over UDP with its own pod IP."""
        server, _, port = argv[-1].rpartition(":")
        name = argv[-2]
        header = f"Server:\t\t{server}\nAddress:\t{server}:{port}\n\n"
        services = [o for (k, _, _), o in self.objects.items() if k == "Service"]
        svc = next((o for o in services if o["spec"].get("clusterIP") == server), None)
        entry = next(
            (
                p
                for p in (svc or {"spec": {}})["spec"].get("ports") or []
                if p["port"] == int(port) and p.get("protocol", "TCP") == "UDP"
            ),
            None,
        )
        if entry is not None:
            for pod, target in self._endpoints(svc, entry):
                if target in self._listening_ports(pod, "UDP"):
                    return ExecResult(0, f"{header}Name:\t{name}\nAddress: {pod['status']['podIP']}\n\n", "")
        return ExecResult(1, ";; connection timed out; no servers could be reached\n\n", "")

    def _connect(self, pod: dict, port) -> tuple[int, str, str]:
        blocked = self._network_blocks(pod, port)
        if blocked:
            return blocked
        if port is not None and int(port) in self._listening_ports(pod):
            return 0, f"{pod['metadata']['name']}\nport={port}\n", ""
        return 7, "", "Failed to connect: Connection refused"

    def _all_pods(self) -> list[dict]:
        return [o for (k, _, _), o in self.objects.items() if k == "Pod"]

    def _proxied_endpoints(self, svc) -> list[dict]:
        """The endpoints of a selector Service as kube-proxy (or DNS) sees them, with its lag."""
        as_of = self.server_time() - self.proxy_lag if self.proxy_lag else None
        endpoints = []
        for item in self._controller_slices(svc, as_of):
            for endpoint in item["endpoints"]:
                endpoints.append(endpoint | {"ports": item["ports"]})
        return endpoints

    def _endpoints(self, svc, entry):
        ns = svc["metadata"]["namespace"]
        selector = svc["spec"].get("selector")
        if selector:
            # kube-proxy: ready endpoints; when there are none, the serving ones that are terminating.
            by_name = {p["metadata"]["name"]: p for p in self._pods(ns)}
            usable = []
            for endpoint in self._proxied_endpoints(svc):
                port = next((p["port"] for p in endpoint["ports"] if p["name"] == (entry.get("name") or "")), None)
                pod = by_name.get(endpoint["targetRef"]["name"])
                if port is not None and pod is not None:
                    usable.append((endpoint["conditions"], pod, port))
            ready = [(pod, port) for c, pod, port in usable if c.get("ready") is not False]
            yield from ready or [(pod, port) for c, pod, port in usable if c.get("serving") and c.get("terminating")]
            return
        # Selectorless: hand-made Endpoints or EndpointSlices, matched by port name.
        by_ip = {p["status"].get("podIP"): p for (k, _, _), p in self.objects.items() if k == "Pod"}
        name = svc["metadata"]["name"]
        sources = []
        endpoints = self.objects.get(("Endpoints", ns, name))
        if endpoints:
            for subset in endpoints.get("subsets") or []:
                sources.append(([a["ip"] for a in subset.get("addresses") or []], subset.get("ports") or []))
        for s in self._slices(ns):
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name:
                ready = [e for e in s.get("endpoints") or [] if (e.get("conditions") or {}).get("ready") is not False]
                sources.append(([a for e in ready for a in e["addresses"]], s.get("ports") or []))
        for ips, ports in sources:
            port = next((p["port"] for p in ports if p.get("name") == entry.get("name")), None)
            for ip in ips:
                if ip in by_ip and port is not None:
                    yield by_ip[ip], port


def _template_hash(deployment: dict) -> str:
    """Like the pod-template-hash label: the same template gives the same hash."""
    template = (deployment.get("spec") or {}).get("template") or {}
    return hashlib.sha256(json.dumps(template, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _parse(stamp: str | None) -> datetime | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def created_at(obj: dict) -> datetime:
    return _parse(obj["metadata"].get("creationTimestamp")) or datetime.min.replace(tzinfo=timezone.utc)
