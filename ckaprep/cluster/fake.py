"""An in-memory cluster behind the same interface as the real one, for unit tests.

It simulates just enough of Kubernetes for grading: Deployments make Pods,
Services get ClusterIPs and EndpointSlices, pods get service environment
variables at creation, and `curl` inside a pod follows DNS, the Service's
ports and its endpoints the way kube-proxy would.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from ckaprep.cluster import ALL_KINDS as KINDS, ExecResult
from ckaprep.errors import CkaprepError, UsageError
from ckaprep.grading.probes import RESULT_MARKER
from ckaprep.labels import matches
from ckaprep.templating import env_name

DOMAIN = "cluster.local"
HTTPD_PORT = re.compile(r"httpd\b[^&;]*?-p (\d+)")


def _serialized(method):
    """One call at a time, as tests set exercises up and grade them from several threads."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


class FakeCluster:
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
        # How long ago the last write happened, as the server's clock sees it: a test that wants a
        # cluster still in flux makes this short.
        self.quiet_for = timedelta(minutes=1)
        self.account: tuple[str, str] | None = None  # the ServiceAccount the credentials belong to
        self.tokens: list[tuple[str, str, int]] = []  # (namespace, service account, seconds) asked for
        self._versions = 0
        # The Service range, as ServiceCIDR `kubernetes` shows it; empty for a cluster before 1.33.
        self.service_cidrs = ["10.96.0.0/16"]

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
        self.read_log.append(("get", kind, namespace))
        if kind == "EndpointSlice":
            return next((s for s in self._slices(namespace) if s["metadata"]["name"] == name), None)
        if kind == "ServiceCIDR":
            return next((o for o in self.list(kind, None) if o["metadata"]["name"] == name), None)
        if kind == "IPAddress":  # one per ClusterIP in use, named by the address
            held = any(o["spec"].get("clusterIP") == name for (k, _, _), o in self.objects.items() if k == "Service")
            return {"kind": "IPAddress", "metadata": {"name": name}, "spec": {}} if held else None
        obj = self.objects.get((kind, namespace if KINDS[kind][2] else None, name))
        return copy.deepcopy(obj)

    @_serialized
    def list(self, kind, namespace, label_selector=""):
        self._maybe_fail()
        self.read_log.append(("list", kind, namespace))
        selector = dict(p.split("=", 1) for p in label_selector.split(",") if p)
        items = self._slices(namespace) if kind == "EndpointSlice" else [
            o for (k, ns, _), o in self.objects.items() if k == kind and (namespace is None or ns == namespace)
        ]  # fmt: skip
        if kind == "ServiceCIDR" and self.service_cidrs:
            items = [{"kind": "ServiceCIDR", "metadata": {"name": "kubernetes"},
                      "spec": {"cidrs": list(self.service_cidrs)}}]  # fmt: skip
        if selector:
            items = [o for o in items if matches(selector, o["metadata"].get("labels"))]
        return copy.deepcopy(sorted(items, key=lambda o: o["metadata"]["name"]))

    @_serialized
    def create(self, manifest):
        self._maybe_fail()
        obj = copy.deepcopy(manifest)
        kind, meta = obj["kind"], obj.setdefault("metadata", {})
        ns = meta.get("namespace") if KINDS[kind][2] else None
        key = (kind, ns, meta["name"])
        if key in self.objects:
            raise ValueError(f"{kind} {meta['name']} already exists")
        meta["creationTimestamp"] = self._tick()
        meta["resourceVersion"] = self._version()
        getattr(self, f"_admit_{kind.lower()}", lambda o: None)(obj)
        self.objects[key] = obj
        if kind == "Deployment":
            self._spawn_pods(obj)
        return copy.deepcopy(obj)

    @_serialized
    def delete(self, kind, namespace, name):
        self._maybe_fail()
        ns = namespace if KINDS[kind][2] else None
        self.objects.pop((kind, ns, name), None)
        if kind == "Namespace":
            for key in [k for k in self.objects if k[1] == name]:
                del self.objects[key]

    @_serialized
    def replace(self, manifest):
        self._maybe_fail()
        obj = copy.deepcopy(manifest)
        kind, meta = obj["kind"], obj["metadata"]
        key = (kind, meta.get("namespace") if KINDS[kind][2] else None, meta["name"])
        current = self.objects.get(key)
        if current is None:
            raise UsageError(f"the cluster refused PUT {kind} {meta['name']}: not found")
        wanted = meta.get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            raise UsageError(f"the cluster refused PUT {kind} {meta['name']}: the object has been modified")
        meta["creationTimestamp"] = current["metadata"].get("creationTimestamp")
        meta["resourceVersion"] = self._version()
        self.objects[key] = obj
        return copy.deepcopy(obj)

    def request_token(self, namespace, service_account, seconds):
        self._maybe_fail()
        if ("ServiceAccount", namespace, service_account) not in self.objects:
            raise UsageError(f"the cluster refused POST token: serviceaccounts {service_account!r} not found")
        self.tokens.append((namespace, service_account, seconds))
        expiry = self._clock + timedelta(seconds=seconds)
        return {"token": f"fake-token-{namespace}-{service_account}-{len(self.tokens)}",
                "expiration": expiry.isoformat().replace("+00:00", "Z")}  # fmt: skip

    def endpoint(self):
        return {"server": "https://fake.invalid:6443", "ca_pem": None, "insecure": False}

    def service_account(self):
        return self.account

    @_serialized
    def exec(self, namespace, pod, argv, timeout):
        self._maybe_fail()
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
            return self._curl_batch(namespace, argv)
        if "nslookup" in argv:
            return self._nslookup(argv[argv.index("nslookup"):])
        return ExecResult(127, "", f"{argv[0]}: not found")

    # -- helpers for tests -------------------------------------------------------------
    @_serialized
    def apply(self, manifest: dict) -> dict:
        """Create, or replace an existing object's spec (like kubectl apply for our needs)."""
        kind, meta = manifest["kind"], manifest["metadata"]
        key = (kind, meta.get("namespace") if KINDS[kind][2] else None, meta["name"])
        if key not in self.objects:
            return self.create(manifest)
        obj = self.objects[key]
        cluster_ip = (obj.get("spec") or {}).get("clusterIP")
        for field in ("spec", "data", "subsets", "endpoints", "ports", "addressType"):
            if field in manifest:
                obj[field] = copy.deepcopy(manifest[field])
        obj["metadata"]["labels"] = copy.deepcopy(meta.get("labels") or {})
        if kind == "Service":
            obj["spec"].setdefault("clusterIP", cluster_ip)  # immutable, kept by apply
            self._admit_service(obj, keep_ip=True)
        if kind == "Deployment":  # a rollout replaces the pods
            for pod in self._pods(obj["metadata"]["namespace"]):
                if matches(obj["spec"]["selector"]["matchLabels"], pod["metadata"].get("labels")):
                    del self.objects[("Pod", pod["metadata"]["namespace"], pod["metadata"]["name"])]
            self._spawn_pods(obj)
        return copy.deepcopy(obj)

    def patch(self, kind: str, namespace: str | None, name: str, update) -> None:
        update(self.objects[(kind, namespace if KINDS[kind][2] else None, name)])

    def set_ready(self, namespace: str, name: str, ready: bool) -> None:
        pod = self.objects[("Pod", namespace, name)]
        pod["status"]["conditions"] = [{"type": "Ready", "status": "True" if ready else "False"}]
        pod["metadata"]["managedFields"] = [{"manager": "kubelet", "subresource": "status", "time": self._tick()}]

    # -- simulation ---------------------------------------------------------------------
    def _maybe_fail(self):
        if self.failure is not None:
            raise self.failure

    def _version(self) -> str:
        self._versions += 1
        return str(self._versions)

    def _tick(self) -> str:
        self._clock += timedelta(seconds=5)
        return self._clock.isoformat().replace("+00:00", "Z")

    def _admit_service(self, obj, keep_ip=False):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        for port in spec.get("ports") or []:
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port["port"])
        if spec["type"] == "ExternalName":  # a DNS alias: no address
            spec.pop("clusterIP", None)
            return
        wanted = spec.get("clusterIP")
        if wanted not in (None, "", "None") and not keep_ip:
            if any(o is not obj and o["spec"].get("clusterIP") == wanted
                   for (k, _, _), o in self.objects.items() if k == "Service"):  # fmt: skip
                raise ValueError(f"spec.clusterIP: Invalid value: {wanted!r}: provided IP is already allocated")
        if spec.get("clusterIP") in (None, "") and not keep_ip:
            self._next_ip["svc"] += 1
            spec["clusterIP"] = f"10.96.0.{self._next_ip['svc']}"

    def _admit_pod(self, obj):
        ns = obj["metadata"]["namespace"]
        self._next_ip["pod"] += 1
        ready = self.pod_ready_default and self._readiness_probe_passes(obj)
        obj["status"] = {
            "phase": "Running",
            "podIP": f"10.244.0.{self._next_ip['pod']}",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        }
        images = [c.get("image") for c in obj["spec"].get("containers") or []]
        if self.unpullable & set(images):
            image = next(i for i in images if i in self.unpullable)
            obj["status"] = {  # the sandbox has an IP before the image is pulled
                "phase": "Pending",
                "podIP": obj["status"]["podIP"],
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"image": image, "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
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

    def _readiness_probe_passes(self, pod) -> bool:
        """A probe passes when its port listens and, for HTTP, its path is served.

        A path counts as served when the container's command writes a file of that name.
        """
        for container in pod["spec"].get("containers") or []:
            probe = container.get("readinessProbe")
            if not probe:
                continue
            action = probe.get("httpGet") or probe.get("tcpSocket") or {}
            port = action.get("port")
            if isinstance(port, str):
                port = next((p["containerPort"] for p in container.get("ports") or [] if p.get("name") == port), None)
            if port is None or int(port) not in self._listening_ports(pod):
                return False
            path = (probe.get("httpGet") or {}).get("path", "/")
            if path != "/" and path not in " ".join(container.get("command") or []):
                return False
        return True

    def _spawn_pods(self, deployment):
        template = deployment["spec"]["template"]
        for i in range(deployment["spec"].get("replicas", 1)):
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{deployment['metadata']['name']}-{i}",
                    "namespace": deployment["metadata"]["namespace"],
                    "labels": copy.deepcopy(template["metadata"].get("labels") or {}),
                },
                "spec": copy.deepcopy(template["spec"]),
            }
            self.create(pod)

    def _listening_ports(self, pod, protocol: str = "TCP") -> set[int]:
        ports = set()
        for container in pod["spec"].get("containers") or []:
            ports |= {int(p["containerPort"]) for p in container.get("ports") or []
                      if p.get("protocol", "TCP") == protocol}  # fmt: skip
            if protocol != "TCP":
                continue
            ports |= {int(m) for m in HTTPD_PORT.findall(" ".join(container.get("command") or []))}
        return ports

    def _pods(self, ns):
        return [o for (k, pns, _), o in self.objects.items() if k == "Pod" and pns == ns]

    def _slices(self, ns):
        slices = [o for (k, sns, _), o in self.objects.items() if k == "EndpointSlice" and sns == ns]
        if self.mirrors_endpoints:
            slices += [self._mirror(o) for (k, ens, _), o in self.objects.items() if k == "Endpoints" and ens == ns]
        for (kind, sns, name), svc in self.objects.items():
            if kind != "Service" or sns != ns or not svc["spec"].get("selector"):
                continue
            pods = [p for p in self._pods(ns) if matches(svc["spec"]["selector"], p["metadata"].get("labels"))]
            # Like the real controller: an unresolved named targetPort leaves `ports` empty.
            ports = []
            for entry in svc["spec"].get("ports") or []:
                target = self._resolve_target(pods[0], entry["targetPort"]) if pods else entry["targetPort"]
                if target is not None:
                    protocol = entry.get("protocol", "TCP")
                    ports.append({"name": entry.get("name") or "", "port": target, "protocol": protocol})
            # The controller rewrites the slice when a selected pod's readiness changes.
            changes = [f["time"] for p in pods for f in p["metadata"].get("managedFields") or []]
            slices.append({
                "ports": ports,
                "kind": "EndpointSlice",
                "metadata": {
                    "managedFields": [{"manager": "kube-controller-manager", "time": max(changes)}] if changes else [],
                    "name": f"{name}-auto", "namespace": ns,
                    "labels": {"kubernetes.io/service-name": name,
                               "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                },
                "endpoints": [
                    {"addresses": [p["status"]["podIP"]],
                     "conditions": {"ready": p["status"]["conditions"][0]["status"] == "True"},
                     "targetRef": {"kind": "Pod", "name": p["metadata"]["name"]}}
                    for p in pods
                ],
            })  # fmt: skip
        return slices

    @staticmethod
    def _mirror(endpoints: dict) -> dict:
        name, subsets = endpoints["metadata"]["name"], endpoints.get("subsets") or []
        return {
            "kind": "EndpointSlice",
            "metadata": {"name": f"{name}-mirror", "namespace": endpoints["metadata"]["namespace"],
                         "labels": {"kubernetes.io/service-name": name,
                                    "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io"}},
            "ports": [p for s in subsets for p in s.get("ports") or []],
            "endpoints": [{"addresses": [a["ip"]]} for s in subsets for a in s.get("addresses") or []],
        }  # fmt: skip

    @staticmethod
    def _resolve_target(pod, target):
        if not isinstance(target, str):
            return target
        return next(
            (int(p["containerPort"]) for c in pod["spec"]["containers"]
             for p in c.get("ports") or [] if p.get("name") == target), None,
        )  # fmt: skip

    def _resolve(self, source_ns: str, host: str):
        """(service, None) for a Service name or IP; (None, pod) for a pod IP; DNS failure -> None."""
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
        svc = self._resolve(source_ns, host)
        if svc is None:
            is_ip = bool(re.fullmatch(r"[\d.]+", host))
            return (28, "", "Connection timed out") if is_ip else (6, "", f"Could not resolve host: {host}")
        tcp = [p for p in svc["spec"].get("ports") or [] if p.get("protocol", "TCP") == "TCP"]
        entry = next((p for p in tcp if p["port"] == port), None)
        if entry is None:
            return 7, "", "Failed to connect: Connection refused"
        # Like kube-proxy, each request goes to one endpoint; here in turn, so repeats see them all.
        endpoints = list(self._endpoints(svc, entry))
        if endpoints:
            self._requests += 1
            pod, target = endpoints[self._requests % len(endpoints)]
            if target in self._listening_ports(pod):
                return 0, f"{pod['metadata']['name']}\nport={target}\n", ""
        return 7, "", "Failed to connect: Connection refused"

    def _nslookup(self, argv: list[str]) -> ExecResult:
        """busybox `nslookup -type=a NAME SERVER:PORT` against a backend that answers every
        A query over UDP with its own pod IP."""
        server, _, port = argv[-1].rpartition(":")
        name = argv[-2]
        header = f"Server:\t\t{server}\nAddress:\t{server}:{port}\n\n"
        services = [o for (k, _, _), o in self.objects.items() if k == "Service"]
        svc = next((o for o in services if o["spec"].get("clusterIP") == server), None)
        entry = next((p for p in (svc or {"spec": {}})["spec"].get("ports") or []
                      if p["port"] == int(port) and p.get("protocol", "TCP") == "UDP"), None)  # fmt: skip
        if entry is not None:
            for pod, target in self._endpoints(svc, entry):
                if target in self._listening_ports(pod, "UDP"):
                    return ExecResult(0, f"{header}Name:\t{name}\nAddress: {pod['status']['podIP']}\n\n", "")
        return ExecResult(1, ";; connection timed out; no servers could be reached\n\n", "")

    def _endpoints(self, svc, entry):
        ns = svc["metadata"]["namespace"]
        selector = svc["spec"].get("selector")
        if selector:
            for pod in self._pods(ns):
                ready = pod["status"]["conditions"][0]["status"] == "True"
                if ready and matches(selector, pod["metadata"].get("labels")):
                    yield pod, self._resolve_target(pod, entry["targetPort"])
            return
        # Selectorless: hand-made Endpoints or EndpointSlices, matched by port name.
        by_ip = {p["status"]["podIP"]: p for (k, _, _), p in self.objects.items() if k == "Pod"}
        name = svc["metadata"]["name"]
        sources = []
        endpoints = self.objects.get(("Endpoints", ns, name))
        if endpoints:
            for subset in endpoints.get("subsets") or []:
                sources.append(([a["ip"] for a in subset.get("addresses") or []], subset.get("ports") or []))
        for s in self._slices(ns):
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name:
                sources.append(([a for e in s.get("endpoints") or [] for a in e["addresses"]], s.get("ports") or []))
        for ips, ports in sources:
            port = next((p["port"] for p in ports if p.get("name") == entry.get("name")), None)
            for ip in ips:
                if ip in by_ip and port is not None:
                    yield by_ip[ip], port
