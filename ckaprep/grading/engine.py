"""The grading engine: a plain function from an attempt and a cluster to a report.

It knows nothing of the terminal; progress goes to a callback.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ckaprep.attempts import Attempt
from ckaprep.catalogue.exercise import CheckSpec, Exercise
from ckaprep.cluster import Cluster
from ckaprep.errors import CkaprepError, PermissionDenied, StateError
from ckaprep.grading.checks import KINDS
from ckaprep.grading.context import Fail, GradingContext
from ckaprep.grading.flux import NamespaceView, reasons_in_flux
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.report import ERROR, FAIL, PASS, CheckResult, Report

POLL_INTERVAL_S = 1.0
MAX_PARALLEL_CHECKS = 6


def run_check(ctx: GradingContext, check: CheckSpec) -> CheckResult:
    base = dict(id=check.id, title=check.title, weight=check.weight, constraint=check.constraint)
    try:
        outcome = KINDS[check.kind].run(ctx, check.fields)
    except Fail as failed:
        return CheckResult(
            **base,
            status=FAIL,
            expected=failed.expected,
            found=failed.found,
            message=failed.message,
            hint=check.hint,
        )
    except CkaprepError:
        raise  # cluster access and image problems end the whole run
    except Exception as exc:  # a check that broke is reported, not fatal
        return CheckResult(**base, status=ERROR, expected="", found="", message=f"{type(exc).__name__}: {exc}")
    return CheckResult(**base, status=PASS, expected=outcome.expected, found=outcome.found, message=outcome.message)


def grade(
    exercise: Exercise,
    attempt: Attempt,
    cluster: Cluster,
    options: GradingOptions = GradingOptions(),
) -> tuple[Report, GradingContext]:
    """Grade every check. While the cluster is in flux (see `ckaprep.grading.flux`), every check
    that depends on it settling is graded again, passing or failing, for up to `options.wait_s`:
    no verdict is given while a controller may still change it. At the end of the wait, the
    verdict says that the cluster was still moving."""
    wait_s, waiter = options.wait_s, options.waiter
    progress, clock = waiter.progress, waiter.clock
    started = clock.monotonic()
    for namespace in attempt.namespaces:
        if cluster.get("Namespace", None, namespace) is None:
            raise StateError(
                f"namespace {namespace} of the active exercise no longer exists; run `ckaprep reset`, then start again"
            )
    ctx = GradingContext(cluster, attempt, options)
    checks = exercise.checks_for(attempt.params)
    results: dict[str, CheckResult] = {}
    pending = checks
    waited_for: list[str] = []
    settling = [c for c in checks if KINDS[c.kind].settles]
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL_CHECKS) as pool:
        while True:
            for check, result in zip(pending, pool.map(lambda c: run_check(ctx, c), pending)):
                results[check.id] = result
            if not settling:
                break
            reasons = in_flux(ctx, attempt.namespaces, policies=_reads_policies(checks))
            if not reasons:
                break  # nothing can change the verdict any more
            if clock.monotonic() - started >= wait_s:
                passing = any(results[c.id].status == PASS for c in settling)
                if wait_s > 0 or passing:
                    ctx.note(
                        f"The cluster was still moving ({reasons[0]})"
                        + (f" when --wait ({wait_s:g} s) ran out" if wait_s > 0 else "")
                        + (", so a passing check may not hold" if passing else "")
                        + "; run check again in a moment."
                    )
                break
            pending = settling
            waited_for += [r for r in reasons if r not in waited_for]
            progress(f"waiting: {reasons[0]}")
            clock.sleep(POLL_INTERVAL_S)
            ctx.refresh()
    if waited_for:
        ctx.note(
            f"Waited {clock.monotonic() - started:.0f} s while the cluster settled: " + "; ".join(waited_for) + "."
        )
    report = Report(
        exercise=exercise.id,
        checks=[results[c.id] for c in checks],
        grading_s=clock.monotonic() - started,
        notes=ctx.notes,
    )
    return report, ctx


# Check kinds whose verdict a NetworkPolicy decides (ckaprep.grading.checks.placement).
POLICY_KINDS = {"traffic_probe", "policy_allows_port", "dns_egress_allowed"}


def _reads_policies(checks) -> bool:
    return any(c.kind in POLICY_KINDS for c in checks)


def in_flux(ctx: GradingContext, namespaces: list[str], *, policies: bool = False) -> list[str]:
    """Why the cluster may still change, read once per kind and namespace for this round."""
    views = [
        NamespaceView(
            name=ns,
            pods=ctx.list("Pod", ns),
            services=ctx.list("Service", ns),
            endpoint_slices=ctx.list("EndpointSlice", ns),
            endpoints=ctx.list("Endpoints", ns),
            deployments=ctx.list("Deployment", ns),
            replica_sets=ctx.list("ReplicaSet", ns),
            stateful_sets=ctx.list("StatefulSet", ns),
            network_policies=ctx.list("NetworkPolicy", ns) if policies else (),
        )
        for ns in namespaces
    ]
    return reasons_in_flux(views, ctx.cluster.server_time()) + cluster_dns_down(ctx)


CLUSTER_DNS = ("kube-system", "kube-dns")  # the Service name kubeadm, kind, k3s and minikube give it


def cluster_dns_down(ctx: GradingContext) -> list[str]:
    """Cluster DNS restarting (no Ready server behind kube-system/kube-dns) is no fault of the
    answer: a check that resolves a name waits for it. Credentials that may not read kube-system
    (a classroom seat) and clusters without that Service are not judged."""
    namespace, service = CLUSTER_DNS
    try:
        slices = ctx.list("EndpointSlice", namespace, f"kubernetes.io/service-name={service}")
    except PermissionDenied:
        return []
    endpoints = [e for s in slices for e in s.get("endpoints") or []]
    if not slices or any(
        (e.get("conditions") or {}).get("ready") is not False
        for e in endpoints
        if not (e.get("conditions") or {}).get("terminating")
    ):
        return []
    return [f"cluster DNS (Service {namespace}/{service}) has no Ready server: it is restarting"]
