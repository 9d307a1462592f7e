"""What a check sees of the cluster during one grading run: cached reads and probe pods."""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from ckaprep.attempts import Attempt
from ckaprep.cluster import Cluster, ExecResult
from ckaprep.cluster.labels import (
    OWNER_LABEL,
    OWNER_VALUE,
    PROBE_ROLE,
    ROLE_LABEL,
    is_probe_pod,
    matches,
    parse_selector,
)
from ckaprep.cluster.waiting import (
    IMAGE_PULL_REASONS,
    pod_is_running,
    raise_if_image_pull_failed,
)
from ckaprep.errors import CkaprepError, PermissionDenied
from ckaprep.grading.dns_probes import DnsAnswer, nslookup_argv, nslookup_exec_timeout_s, parse_nslookup_output
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.probes import (
    CURL_TIMEOUT_S,
    ProbeResult,
    cluster_domain_from_resolv_conf,
    curl_argv,
    curl_exec_timeout_s,
    parse_curl_output,
)

PROBE_POD_PREFIX = "ckaprep-probe"
PROBE_POD_START_TIMEOUT_S = 120
URLS_PER_EXEC = 4  # one exec runs this many curls in turn; more URLs go to execs in parallel
DEFAULT_CLUSTER_DOMAIN = "cluster.local"


# A probe pod placed where a check needs a client: with the labels a NetworkPolicy selects it
# by, on a given node. It carries this label (a digest of where it is placed), so that each
# placement has its own pod and the plain probe pod is never one of them.
PLACEMENT_LABEL = "ckaprep.io/probe-placement"


@dataclass(frozen=True)
class Placement:
    labels: tuple[tuple[str, str], ...] = ()
    node: str | None = None

    @staticmethod
    def of(labels: dict | None = None, node: str | None = None) -> "Placement":
        return Placement(tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items())), node)

    @property
    def digest(self) -> str:
        return hashlib.sha256(repr((self.labels, self.node)).encode()).hexdigest()[:12]

    def describe(self) -> str:
        parts = []
        if self.labels:
            parts.append("labelled " + ",".join(f"{k}={v}" for k, v in self.labels))
        if self.node:
            parts.append(f"on node {self.node}")
        return " ".join(parts) or "unplaced"


class Fail(Exception):
    """Raised inside a check to fail it early with a reason."""

    def __init__(self, expected: str, found: str, message: str = ""):
        super().__init__(found)
        self.expected, self.found, self.message = expected, found, message


def created_at(obj: dict) -> datetime | None:
    stamp = (obj.get("metadata") or {}).get("creationTimestamp")
    return datetime.fromisoformat(stamp) if stamp else None


class GradingContext:
    def __init__(self, cluster: Cluster, attempt: Attempt, options: GradingOptions = GradingOptions()):
        self.cluster = cluster
        self.attempt = attempt
        self.options = options
        self.probe_image = options.probe_image
        self.waiter = options.waiter
        self.notes: list[str] = []
        self._cache: dict[tuple, Future] = {}
        self._lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._probe_pods: dict[str, dict] = {}
        self._probe_failures: dict[str, CkaprepError] = {}
        self._domains: dict[str, str] = {}

    @property
    def namespace(self) -> str:
        return self.attempt.namespace

    def note(self, text: str) -> None:
        with self._lock:
            if text not in self.notes:
                self.notes.append(text)

    def refresh(self) -> None:
        """Forget cached reads before a new polling round."""
        with self._lock:
            self._cache.clear()

    def _cached(self, key: tuple, load: Callable[[], object]):
        """One read per key and round, even when several checks ask at the same moment."""
        with self._lock:
            pending = self._cache.get(key)
            loading = pending is None
            if loading:
                pending = self._cache[key] = Future()
        if loading:
            try:
                pending.set_result(load())
            except BaseException as exc:
                pending.set_exception(exc)
        return pending.result()

    # -- reads ---------------------------------------------------------------
    # Each kind is listed once per namespace and round; gets and label selections are
    # answered from that list.
    def get(self, kind: str, name: str, namespace: str | None = None) -> dict | None:
        ns = namespace or self.namespace
        return next((o for o in self.list(kind, ns) if o["metadata"]["name"] == name), None)

    def list(self, kind: str, namespace: str | None = None, selector: str = "") -> list[dict]:
        ns = namespace or self.namespace
        everything = self._cached(("list", kind, ns), lambda: self.cluster.list(kind, ns))
        if not selector:
            return everything
        wanted = parse_selector(selector)
        return [o for o in everything if matches(wanted, (o.get("metadata") or {}).get("labels"))]

    def pods(self, namespace: str | None = None) -> list[dict]:
        """The learner's and the setup's pods, without ckaprep's probe pods."""
        return [p for p in self.list("Pod", namespace) if not is_probe_pod(p)]

    def require_service(self, name: str, namespace: str | None = None) -> dict:
        service = self.get("Service", name, namespace)
        if service is None:
            ns = namespace or self.namespace
            names = sorted(s["metadata"]["name"] for s in self.list("Service", ns))
            found = f"no Service named {name!r} in namespace {ns}"
            if names:
                found += f" (Services there: {', '.join(names)})"
            raise Fail(f"Service {name!r} exists", found)
        return service

    # -- probe pods -----------------------------------------------------------
    def probe_pod(
        self, namespace: str | None = None, *, newer_than: dict | None = None, placement: Placement | None = None
    ) -> dict:
        """A running probe pod; a new one when the current one predates `newer_than`.

        Environment variables are fixed when a container starts, so a pod
        started before a Service cannot show that Service's variables. With `placement`,
        a pod of its own with those labels, on that node.
        """
        ns = namespace or self.namespace
        key = ns if placement is None else f"{ns}/{placement.digest}"
        with self._probe_lock:
            if key in self._probe_failures:  # one failed pod per run, not one per check
                raise self._probe_failures[key]
            pod = self._probe_pods.get(key) or self._find_probe_pod(ns, placement)
            if pod is not None and newer_than is not None:
                pod_time, obj_time = created_at(pod), created_at(newer_than)
                if pod_time and obj_time and pod_time <= obj_time:
                    self.note(
                        f"The probe pod {pod['metadata']['name']} predates Service "
                        f"{newer_than['metadata']['name']}, so it was recreated to see its variables."
                    )
                    self.cluster.delete("Pod", ns, pod["metadata"]["name"])
                    pod = None
            if pod is None:
                try:
                    pod = self._create_probe_pod(ns, placement)
                except CkaprepError as exc:
                    self._probe_failures[key] = exc
                    raise
            self._probe_pods[key] = pod
            return pod

    def _find_probe_pod(self, ns: str, placement: Placement | None = None) -> dict | None:
        """A running probe pod with the image asked for; stale or failed ones are deleted."""
        found = None
        # Only pods ckaprep made: a learner's pod is never deleted, whatever its labels say.
        for pod in self.cluster.list("Pod", ns, f"{ROLE_LABEL}={PROBE_ROLE},{OWNER_LABEL}={OWNER_VALUE}"):
            meta = pod["metadata"]
            if meta.get("deletionTimestamp"):
                continue
            placed = (meta.get("labels") or {}).get(PLACEMENT_LABEL)
            if placed != (placement.digest if placement else None):
                continue  # another placement's pod
            image = probe_image_of(pod)
            if image != self.probe_image:
                self.note(f"The probe pod {meta['name']} ran {image}, not {self.probe_image}, so it was replaced.")
                self.cluster.delete("Pod", ns, meta["name"])
            elif probe_pod_failed(pod):
                self.cluster.delete("Pod", ns, meta["name"])
            elif found is None and pod_is_running(pod):
                found = pod
        return found

    def _create_probe_pod(self, ns: str, placement: Placement | None = None) -> dict:
        name = f"{PROBE_POD_PREFIX}-{secrets.token_hex(4)}"  # random: two graders never collide
        labels = {OWNER_LABEL: OWNER_VALUE, ROLE_LABEL: PROBE_ROLE}
        if placement is not None:
            # The check's labels first: ckaprep's own always win, so the pod stays a probe pod.
            labels = dict(placement.labels) | labels | {PLACEMENT_LABEL: placement.digest}
        manifest = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": labels,
            },
            "spec": {
                "containers": [
                    {
                        "name": "probe",
                        "image": self.probe_image,
                        "imagePullPolicy": "IfNotPresent",
                        # Exit promptly on TERM so cleanup does not wait out the grace period.
                        "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 86400 & wait"],
                    }
                ],
                "automountServiceAccountToken": False,
                "terminationGracePeriodSeconds": 1,
            },
        }
        if placement is not None and placement.node:
            manifest["spec"]["nodeName"] = placement.node  # bound there, past the scheduler
        self.cluster.create(manifest)
        latest: dict = {}

        def running() -> bool:
            pod = self.cluster.get("Pod", ns, name)
            if pod:
                latest.update(pod)
                raise_if_image_pull_failed(pod)
            return pod_is_running(pod)

        try:
            self.waiter.until(
                running,
                timeout_s=PROBE_POD_START_TIMEOUT_S,
                what=f"starting probe pod {ns}/{name} ({self.probe_image})",
            )
        except BaseException:
            # A pod that never started is of no use to the next check either: leave nothing behind.
            with contextlib.suppress(Exception):
                self.cluster.delete("Pod", ns, name)
            raise
        return latest

    def nodes(self) -> builtins.list[dict]:
        """The nodes a Pod can be placed on: not cordoned, without a NoSchedule or NoExecute
        taint; read once per run."""

        def load() -> builtins.list[dict]:
            found = []
            for node in self.cluster.list("Node", None):
                spec = node.get("spec") or {}
                taints = [t for t in spec.get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
                if not spec.get("unschedulable") and not taints:
                    found.append(node)
            return sorted(found, key=lambda n: n["metadata"]["name"])

        return self._cached(("nodes",), load)

    def nodes_if_readable(self) -> builtins.list[dict] | None:
        """The nodes as `nodes()`, or None when these credentials may not list Nodes (a classroom
        seat): a check that only spreads its clients over the nodes then uses one plain client."""
        try:
            return self.nodes()
        except PermissionDenied:
            return None

    def exec_in_probe(
        self, argv: list[str], namespace: str | None = None, *, timeout: float | None = None, **kw
    ) -> ExecResult:
        pod = self.probe_pod(namespace, **kw)
        meta = pod["metadata"]
        return self.cluster.exec(meta["namespace"], meta["name"], argv, timeout=timeout or CURL_TIMEOUT_S + 6)

    def curl(self, url: str, namespace: str | None = None) -> ProbeResult:
        return self.curl_many([url], namespace)[0]

    def curl_many(
        self,
        urls: list[str],
        namespace: str | None = None,
        *,
        placement: Placement | None = None,
        timeout_s: int = CURL_TIMEOUT_S,
    ) -> builtins.list[ProbeResult]:
        """Every URL from the probe pod, a few per exec and the execs in parallel, results in order.

        `placement` sends them from a probe pod of its own (see `Placement`); `timeout_s` bounds
        each request (a connection a policy drops is waited for that long)."""
        batches = [urls[i : i + URLS_PER_EXEC] for i in range(0, len(urls), URLS_PER_EXEC)]
        extra = {"placement": placement} if placement is not None else {}

        def run(batch: list[str]) -> list[ProbeResult]:
            done = self.exec_in_probe(
                curl_argv(batch, timeout_s), namespace, timeout=curl_exec_timeout_s(batch, timeout_s), **extra
            )
            return parse_curl_output(batch, done.returncode, done.stdout, done.stderr)

        if len(batches) == 1:
            return run(batches[0])
        with ThreadPoolExecutor(max_workers=len(batches)) as pool:
            return [result for batch in pool.map(run, batches) for result in batch]

    def probe_env(self, service: dict, namespace: str | None = None) -> dict[str, str]:
        result = self.exec_in_probe(["env"], namespace, newer_than=service)
        return parse_env(result.stdout)

    # -- DNS lookups ----------------------------------------------------------
    def dns_lookup(self, name: str, rtype: str = "A", namespace: str | None = None) -> DnsAnswer:
        return self.dns_lookup_many([(rtype, name)], namespace)[0]

    def dns_lookup_many(self, queries: list[tuple[str, str]], namespace: str | None = None) -> list[DnsAnswer]:
        """Each (record type, name) looked up from the probe pod, in one exec, answers in order."""
        if not queries:
            return []
        done = self.exec_in_probe(nslookup_argv(queries), namespace, timeout=nslookup_exec_timeout_s(queries))
        return parse_nslookup_output(queries, done.returncode, done.stdout, done.stderr)

    def known_domains(self) -> dict[str, str]:
        return dict(self._domains)

    def cluster_domain(self, namespace: str | None = None) -> str:
        ns = namespace or self.namespace
        if ns not in self._domains:
            result = self.exec_in_probe(["cat", "/etc/resolv.conf"], ns)
            domain = cluster_domain_from_resolv_conf(result.stdout, ns)
            if domain is None:
                self.note(
                    f"No '{ns}.svc.<domain>' search entry in the probe pod's resolv.conf; "
                    f"assuming {DEFAULT_CLUSTER_DOMAIN}."
                )
            self._domains[ns] = domain or DEFAULT_CLUSTER_DOMAIN
        return self._domains[ns]


def probe_image_of(pod: dict) -> str | None:
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    return containers[0].get("image")


def probe_pod_failed(pod: dict) -> bool:
    """Finished, or stuck on its image: it will never run a probe."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Failed", "Succeeded"):
        return True
    for container in status.get("containerStatuses") or []:
        if ((container.get("state") or {}).get("waiting") or {}).get("reason") in IMAGE_PULL_REASONS:
            return True
    return False


def parse_env(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            env[key] = value
    return env
