"""`ckaprep doctor`: can this cluster run ckaprep's exercises and grade them?

A plain function from a cluster to a list of findings, each with a fix. It reads
the API, asks SelfSubjectAccessReview about permissions without creating
anything, and then tries the real thing in a temporary namespace of its own:
the exercise and probe images, DNS by short name and FQDN, the ClusterIP, the
injected environment variables and the mirroring of hand-made Endpoints.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from ckaprep.catalogue.capabilities import Capabilities
from ckaprep.catalogue.templating import env_name
from ckaprep.cluster import Cluster
from ckaprep.cluster.images import BUSYBOX_IMAGE, COREDNS_IMAGE, CURL_IMAGE
from ckaprep.cluster.scratch import scratch_name, scratch_namespace
from ckaprep.cluster.waiting import Waiter, raise_if_image_pull_failed, ready_and_running
from ckaprep.errors import ClusterError, ImagePullError, WaitTimeout
from ckaprep.exit_status import ExitStatus
from ckaprep.grading.context import DEFAULT_CLUSTER_DOMAIN, parse_env
from ckaprep.grading.probes import cluster_domain_from_resolv_conf, curl_argv, parse_curl_output

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
# The Kubernetes minors that ckaprep's proofs run on in CI.
PROVEN_MINORS = (35, 36, 37)
DOCTOR_ROLE = "doctor"
POD_START_TIMEOUT_S = 90
MIRROR_TIMEOUT_S = 20
PROBE_SETTLE_S = 15
WEB_PORT, SERVICE_PORT, PORT_NAME = 8080, 80, "http"

# (verb, API group, resource, subresource): what start, check and reset do.
NAMESPACED_PERMISSIONS = [
    ("create", "", "pods", ""),
    ("delete", "", "pods", ""),
    ("create", "", "pods", "exec"),
    ("create", "", "services", ""),
    ("create", "", "endpoints", ""),
    ("create", "discovery.k8s.io", "endpointslices", ""),
    ("create", "", "configmaps", ""),
    ("create", "apps", "deployments", ""),
    ("list", "discovery.k8s.io", "endpointslices", ""),
    ("create", "apps", "statefulsets", ""),
]
# Emptying a seat's namespaces between attempts.
SEAT_EMPTYING_PERMISSIONS = [
    ("delete", "", "services", ""),
    ("delete", "apps", "deployments", ""),
    ("delete", "", "configmaps", ""),
    ("delete", "", "endpoints", ""),
    ("delete", "discovery.k8s.io", "endpointslices", ""),
    ("list", "", "pods", ""),
    ("list", "", "services", ""),
    ("list", "apps", "deployments", ""),
    ("delete", "apps", "statefulsets", ""),
    ("delete", "apps", "replicasets", ""),
]
CLUSTER_PERMISSIONS = [("create", "", "namespaces", ""), ("delete", "", "namespaces", "")]


@dataclass
class Finding:
    id: str
    title: str
    status: str
    detail: str
    fix: str = ""


@dataclass
class Diagnosis:
    server: str
    namespace: str | None = None  # the temporary one, once created
    findings: list[Finding] = field(default_factory=list)
    # What an early stop means for the exit status: the cause of the first failure.
    failure_status: ExitStatus | None = None
    practice_clusters: list[tuple[str, str]] = field(default_factory=list)  # with no cluster at all
    # What the cluster offers for `requires` (ckaprep.grading.capability_probe), once tried.
    capabilities: Capabilities | None = None

    def add(self, finding: Finding, status_if_failed: ExitStatus = ExitStatus.CHECKS_FAILED) -> Finding:
        self.findings.append(finding)
        if finding.status == FAIL and self.failure_status is None:
            self.failure_status = status_if_failed
        return finding

    @property
    def exit_status(self) -> ExitStatus:
        return self.failure_status or ExitStatus.OK

    def to_json(self) -> dict:
        return {
            "server": self.server,
            "namespace": self.namespace,
            "ok": self.failure_status is None,
            "findings": [asdict(f) for f in self.findings],
            "capabilities": self.capabilities.to_json() if self.capabilities else None,
        } | (
            {"practice_clusters": [{"with": what, "command": command} for what, command in self.practice_clusters]}
            if self.practice_clusters
            else {}
        )


def diagnose(
    cluster: Cluster,
    *,
    probe_image: str = CURL_IMAGE,
    busybox_image: str = BUSYBOX_IMAGE,
    waiter: Waiter = Waiter(),
    namespace: str | None = None,
    needed: frozenset[str] | set[str] | None = None,
) -> Diagnosis:
    """Every check in order; stops early where the rest cannot run. Removes its namespace.
    `needed` names the capabilities some exercise requires (network-policy, nodes for 2 or
    more, dual-stack): one the cluster lacks is a warning, any other only a note (None: all)."""
    diagnosis = Diagnosis(server=cluster.describe())
    if not _api(cluster, diagnosis):
        return diagnosis
    from ckaprep.classroom.seats import detect_seat

    seat = detect_seat(cluster)
    if seat is not None:  # a classroom seat never creates namespaces: its own rights are what count
        _seat_permissions(cluster, diagnosis, seat)
        return diagnosis
    if not _permissions(cluster, diagnosis):
        return diagnosis
    namespace = namespace or scratch_name("ckaprep-doctor-")
    diagnosis.namespace = namespace
    with scratch_namespace(cluster, namespace, DOCTOR_ROLE, waiter.progress):
        _in_namespace(cluster, diagnosis, namespace, probe_image, busybox_image, waiter)
    if diagnosis.failure_status not in (ExitStatus.IMAGE_PULL, ExitStatus.TIMEOUT, ExitStatus.CLUSTER):
        _capabilities(cluster, diagnosis, probe_image, busybox_image, waiter, needed)
    return diagnosis


def _capabilities(cluster, diagnosis: Diagnosis, probe_image: str, busybox_image: str, waiter: Waiter, needed) -> None:
    """Nodes, traffic across them, NetworkPolicy and dual-stack, each tried: one finding each.
    What the cluster lacks and no exercise requires passes, with a note that none does."""
    from ckaprep.grading.capability_probe import find_capabilities

    probed = find_capabilities(cluster, busybox_image=busybox_image, curl_image=probe_image, waiter=waiter)
    for found in probed.findings:
        status, detail = found.status, found.detail
        if status == WARN and needed is not None and found.id not in needed:
            status, detail = PASS, f"{detail} (no exercise here requires more)"
        diagnosis.add(Finding(found.id, found.title, status, detail, found.fix))
    diagnosis.capabilities = probed.capabilities


# Ways to get a practice cluster, for a machine with none: (what it takes, the command).
PRACTICE_CLUSTERS = [
    ("kind, with Docker or Podman", "kind create cluster --name cka"),
    ("minikube", "minikube start"),
    ("k3d, with Docker", "k3d cluster create cka"),
    ("a bare Linux machine, as root, no Docker needed (from a ckaprep checkout)", "sudo scripts/try"),
]


def no_cluster(problem: str) -> Diagnosis:
    """What `doctor` finds with no kubeconfig at all: no cluster yet, and how to get one."""
    diagnosis = Diagnosis(server="no cluster", practice_clusters=PRACTICE_CLUSTERS)
    diagnosis.add(
        Finding(
            "kubeconfig",
            "A kubeconfig naming a cluster",
            FAIL,
            problem,
            "Get a practice cluster with kind, minikube or k3d, or with scripts/try on a bare Linux machine "
            "(each one's command follows), then run ckaprep doctor again.",
        ),
        ExitStatus.CLUSTER,
    )
    return diagnosis


# -- the API and permissions ----------------------------------------------------------------
def _api(cluster: Cluster, diagnosis: Diagnosis) -> bool:
    title = "API server reachable"
    try:
        version = cluster.version()
    except ClusterError as exc:
        diagnosis.add(
            Finding(
                "api",
                title,
                FAIL,
                exc.message,
                "Check the kubeconfig and context (kubectl cluster-info), and that the cluster is running.",
            ),
            ExitStatus.CLUSTER,
        )
        return False
    git_version = version.get("gitVersion", "?")
    minor = int("".join(ch for ch in str(version.get("minor", "")) if ch.isdigit()) or 0)
    covered = ", ".join(f"1.{m}" for m in PROVEN_MINORS)
    if minor in PROVEN_MINORS:
        diagnosis.add(Finding("api", title, PASS, f"{diagnosis.server}, Kubernetes {git_version}"))
    else:
        diagnosis.add(
            Finding(
                "api",
                title,
                WARN,
                f"{diagnosis.server}, Kubernetes {git_version}: ckaprep's grading is proven on {covered}",
                f"Grading will most likely work; a cluster on {covered} is what the proofs cover.",
            ),
        )
    return True


def _describe_permission(verb: str, group: str, resource: str, subresource: str) -> str:
    name = f"{resource}/{subresource}" if subresource else resource
    return f"{verb} {name}" + (f" ({group})" if group else "")


def _permissions(cluster: Cluster, diagnosis: Diagnosis) -> bool:
    # Any namespace name will do for a review; it need not exist.
    asked = [(p, None) for p in CLUSTER_PERMISSIONS] + [(p, "ckaprep-doctor") for p in NAMESPACED_PERMISSIONS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda item: cluster.can_i(*item[0], namespace=item[1]), asked))
    denied = [_describe_permission(*perm) for (perm, _), allowed in zip(asked, answers) if not allowed]
    title = "Permissions: namespaces, pods, exec, Services, Endpoints"
    if denied:
        diagnosis.add(
            Finding(
                "permissions",
                title,
                FAIL,
                "not allowed: " + ", ".join(denied),
                "ckaprep needs to create and delete namespaces and work inside them; use an admin "
                "context (kind and minikube give you one) or ask for a ClusterRole with these rights.",
            ),
            ExitStatus.CLUSTER,
        )
        return False
    diagnosis.add(Finding("permissions", title, PASS, f"all {len(asked)} permissions granted"))
    return True


def _seat_permissions(cluster: Cluster, diagnosis: Diagnosis, seat) -> None:
    """What start, check and reset do in a seat: work inside each of its namespaces, empty them,
    and keep the seat's state in its ConfigMap."""
    asked = [(p, ns) for ns in seat.namespaces for p in NAMESPACED_PERMISSIONS + SEAT_EMPTYING_PERMISSIONS]
    asked.append((("update", "", "configmaps", ""), seat.home))
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda item: cluster.can_i(*item[0], namespace=item[1]), asked))
    denied = [f"{_describe_permission(*perm)} in {ns}" for (perm, ns), allowed in zip(asked, answers) if not allowed]
    title = f"Classroom seat {seat.id}: rights in {', '.join(seat.namespaces)}"
    if denied:
        diagnosis.add(
            Finding(
                "seat-permissions",
                title,
                FAIL,
                "not allowed: " + ", ".join(denied),
                "Ask the trainer to run `ckaprep classroom create` for this class again; it restores "
                "the seat's RoleBindings.",
            ),
            ExitStatus.CLUSTER,
        )
        return
    diagnosis.add(
        Finding(
            "seat-permissions",
            title,
            PASS,
            f"all {len(asked)} permissions granted; the seat's namespaces are set up by the trainer",
        )
    )
    diagnosis.add(
        Finding(
            "cluster-features",
            "DNS, ClusterIP, environment variables, mirroring",
            SKIP,
            "not tried from a seat; `ckaprep doctor` with the trainer's credentials tries them",
        )
    )


# -- inside a namespace of its own -----------------------------------------------------------
def _web_pod(namespace: str, image: str) -> dict:
    serve = f"mkdir -p /www && hostname > /www/index.html && exec httpd -f -p {WEB_PORT} -h /www"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace, "labels": {"app": "doctor-web"}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [
                {
                    "name": "web",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", serve],
                    "ports": [{"name": PORT_NAME, "containerPort": WEB_PORT}],
                    "readinessProbe": {"tcpSocket": {"port": WEB_PORT}, "periodSeconds": 1},
                }
            ],
        },
    }


def _service(namespace: str, name: str, selector: dict | None) -> dict:
    spec: dict = {"ports": [{"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": WEB_PORT}]}
    if selector:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _probe_pod(namespace: str, image: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": namespace},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "containers": [
                {
                    "name": "probe",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"],
                }
            ],
        },
    }


def _udp_server_pod(namespace: str, image: str) -> dict:
    """`coredns -version`, which exits at once: enough to show that the image pulls and starts."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "udp-server", "namespace": namespace},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "containers": [
                {"name": "coredns", "image": image, "imagePullPolicy": "IfNotPresent", "args": ["-version"]}
            ],
        },
    }


def _udp_image(cluster, diagnosis, namespace, waiter) -> None:
    """Only the UDP exercise runs this image, so a cluster that cannot pull it gets a warning."""
    title = "The UDP exercise's DNS server image starts"

    def started() -> bool:
        pod = cluster.get("Pod", namespace, "udp-server")
        if pod:
            raise_if_image_pull_failed(pod)
        return ((pod or {}).get("status") or {}).get("phase") in ("Running", "Succeeded", "Failed")  # it ran

    fix = "Make it pullable from the nodes or load it into the cluster; until then skip udp-service."
    try:
        waiter.until(started, timeout_s=POD_START_TIMEOUT_S, what=f"starting {COREDNS_IMAGE}")
    except ImagePullError as exc:
        diagnosis.add(Finding("udp-image", title, WARN, f"cannot pull {exc.image} ({exc.reason})", fix))
        return
    except WaitTimeout:
        diagnosis.add(
            Finding("udp-image", title, WARN, f"{COREDNS_IMAGE} not started after {POD_START_TIMEOUT_S}s", fix)
        )
        return
    diagnosis.add(Finding("udp-image", title, PASS, f"{COREDNS_IMAGE} starts"))


def _in_namespace(cluster, diagnosis, namespace, probe_image, busybox_image, waiter) -> None:
    cluster.create(_udp_server_pod(namespace, COREDNS_IMAGE))  # pulled meanwhile, looked at last
    cluster.create(_web_pod(namespace, busybox_image))
    service = cluster.create(_service(namespace, "doctor-web", {"app": "doctor-web"}))
    # After the Service, so that the probe pod gets its environment variables.
    cluster.create(_probe_pod(namespace, probe_image))
    if not _images_start(cluster, diagnosis, namespace, probe_image, busybox_image, waiter):
        return
    web = cluster.get("Pod", namespace, "web")
    cluster.create(_service(namespace, "doctor-manual", None))
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "doctor-manual", "namespace": namespace},
            "subsets": [
                {"addresses": [{"ip": web["status"]["podIP"]}], "ports": [{"name": PORT_NAME, "port": WEB_PORT}]}
            ],
        }
    )
    exec_ = lambda argv: cluster.exec(namespace, "probe", argv, timeout=15)  # noqa: E731
    resolv = exec_(["cat", "/etc/resolv.conf"]).stdout
    domain = cluster_domain_from_resolv_conf(resolv, namespace)
    if domain:
        diagnosis.add(Finding("cluster-domain", "Cluster domain", PASS, domain))
    else:
        diagnosis.add(
            Finding(
                "cluster-domain",
                "Cluster domain",
                WARN,
                f"no {namespace}.svc.<domain> search entry in a pod's resolv.conf; assuming {DEFAULT_CLUSTER_DOMAIN}",
                "Check the kubelet's clusterDomain and the DNS add-on's configuration.",
            )
        )
        domain = DEFAULT_CLUSTER_DOMAIN
    cluster_ip = service["spec"].get("clusterIP") or (cluster.get("Service", namespace, "doctor-web") or {}).get(
        "spec", {}
    ).get("clusterIP")
    targets = [
        ("dns-short", "A pod reaches a Service by its short name", "doctor-web"),
        ("dns-fqdn", "A pod reaches a Service by its FQDN", f"doctor-web.{namespace}.svc.{domain}"),
        ("clusterip", "A pod reaches a Service by its ClusterIP", cluster_ip),
    ]
    waiter.progress("probing the Service by name, FQDN and ClusterIP")
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda t: _curl(exec_, f"http://{t[2]}:{SERVICE_PORT}/", waiter), targets))
    for (finding_id, title, _), (ok, detail) in zip(targets, results):
        fix = ""
        if not ok:
            fix = (
                "Check the DNS add-on (kubectl -n kube-system get pods -l k8s-app=kube-dns)."
                if finding_id.startswith("dns")
                else "Check kube-proxy and the CNI plugin on the nodes."
            )
        diagnosis.add(Finding(finding_id, title, PASS if ok else FAIL, detail, fix))
    _environment(exec_, diagnosis, cluster_ip)
    _mirroring(cluster, diagnosis, namespace, web["status"]["podIP"], waiter)
    _udp_image(cluster, diagnosis, namespace, waiter)


def _images_start(cluster, diagnosis, namespace, probe_image, busybox_image, waiter) -> bool:
    title = "The exercise and probe images start"

    started = ready_and_running(cluster, namespace, "web", "probe")
    try:
        waiter.until(started, timeout_s=POD_START_TIMEOUT_S, what=f"starting {busybox_image} and {probe_image}")
    except ImagePullError as exc:
        diagnosis.add(
            Finding(
                "images",
                title,
                FAIL,
                f"cannot pull {exc.image} ({exc.reason})",
                "Make the image pullable from the nodes (network, registry mirror), or load it into "
                "the cluster; for the probe, --probe-image or CKAPREP_PROBE_IMAGE can name a mirror.",
            ),
            ExitStatus.IMAGE_PULL,
        )
        return False
    except WaitTimeout:
        diagnosis.add(
            Finding(
                "images",
                title,
                FAIL,
                f"{busybox_image} and {probe_image} not running after {POD_START_TIMEOUT_S}s",
                "See kubectl get events in the doctor's namespace while it runs.",
            ),
            ExitStatus.TIMEOUT,
        )
        return False
    diagnosis.add(Finding("images", title, PASS, f"{busybox_image} and {probe_image} running"))
    return True


def _curl(exec_, url: str, waiter: Waiter) -> tuple[bool, str]:
    """Tried again for a few seconds: kube-proxy programs a new Service a moment after its
    endpoints are ready, and some modes (nftables) take longer than others."""
    deadline = waiter.clock.monotonic() + PROBE_SETTLE_S
    while True:
        done = exec_(curl_argv([url]))
        [result] = parse_curl_output([url], done.returncode, done.stdout, done.stderr)
        if result.exit_code == 0 and result.http_status == 200 and result.answered_by == "web":
            return True, f"{url} answered by pod web"
        if waiter.clock.monotonic() >= deadline:
            return False, f"{url}: {result.cause} (still after {PROBE_SETTLE_S}s)"
        waiter.clock.sleep(1.0)


def _environment(exec_, diagnosis: Diagnosis, cluster_ip: str) -> None:
    prefix = env_name("doctor-web")
    wanted = {f"{prefix}_SERVICE_HOST": cluster_ip, f"{prefix}_SERVICE_PORT_{env_name(PORT_NAME)}": str(SERVICE_PORT)}
    env = parse_env(exec_(["env"]).stdout)
    wrong = [f"{k}={env.get(k, '(unset)')}" for k, v in wanted.items() if env.get(k) != v]
    title = "Pods see a Service's environment variables"
    if wrong:
        diagnosis.add(
            Finding(
                "env-vars",
                title,
                FAIL,
                "expected " + ", ".join(f"{k}={v}" for k, v in wanted.items()) + "; found " + ", ".join(wrong),
                "Service links may be off cluster-wide (an admission policy setting "
                "enableServiceLinks: false); the env-vars exercise needs them.",
            )
        )
    else:
        diagnosis.add(Finding("env-vars", title, PASS, ", ".join(f"{k}={v}" for k, v in wanted.items())))


def _mirroring(cluster, diagnosis: Diagnosis, namespace: str, pod_ip: str, waiter: Waiter) -> None:
    title = "Hand-made Endpoints are mirrored into an EndpointSlice"

    def mirrored() -> bool:
        slices = cluster.list("EndpointSlice", namespace, "kubernetes.io/service-name=doctor-manual")
        return any(pod_ip in e.get("addresses", []) for s in slices for e in s.get("endpoints") or [])

    try:
        waiter.until(mirrored, timeout_s=MIRROR_TIMEOUT_S, what="waiting for the EndpointSlice mirror")
    except WaitTimeout:
        diagnosis.add(
            Finding(
                "endpoints-mirroring",
                title,
                FAIL,
                f"no EndpointSlice for Service doctor-manual after {MIRROR_TIMEOUT_S}s",
                "The kube-controller-manager's endpointslicemirroring controller is off; "
                "the selectorless exercise relies on it.",
            )
        )
        return
    diagnosis.add(Finding("endpoints-mirroring", title, PASS, f"EndpointSlice lists {pod_ip}"))
