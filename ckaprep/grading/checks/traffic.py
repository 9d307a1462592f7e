"""Check kinds about how a Service spreads traffic: session affinity and tracks
(canary, blue/green)."""

from __future__ import annotations

from collections import Counter

from ckaprep.cluster.labels import matches, parse_selector, selector_string
from ckaprep.grading.checks.base import Outcome, check_kind, find_service_port, labels_of, live_pods, port_label
from ckaprep.grading.context import Fail, GradingContext
from ckaprep.grading.probes import curl_argv, curl_exec_timeout_s, parse_curl_output

DEFAULT_AFFINITY_TIMEOUT_S = 10800  # what the API server fills in for ClientIP without a timeout
# Requests in one sticky probe. Without affinity kube-proxy picks an endpoint at random for
# every new connection, so all of them land on one of k backends with chance k^(1-n):
# 3^-15, about 1 in 14 million, for the 3 backends of the exercise.
AFFINITY_REQUESTS = 16
# Requests per round of a track probe, and the most it sends. A track holding a share p of the
# endpoints stays unanswered after n requests with chance (1-p)^n: for 1 canary endpoint in 5,
# 0.8^100, about 2e-10. A track that is not among the endpoints can never answer.
TRACK_ROUND = 20
TRACK_MAX_REQUESTS = 100


# -- shared helpers ---------------------------------------------------------------------------
def _ready_endpoint_pods(ctx: GradingContext, service: dict) -> tuple[list[dict], list[str]]:
    """The live pods behind the Service's ready endpoints, and ready addresses of no known pod."""
    ns = service["metadata"]["namespace"]
    name = service["metadata"]["name"]
    pods = live_pods(ctx, ns)
    by_name = {p["metadata"]["name"]: p for p in pods}
    by_ip = {(p.get("status") or {}).get("podIP"): p for p in pods}
    found, strangers = {}, []
    for item in ctx.list("EndpointSlice", ns, f"kubernetes.io/service-name={name}"):
        if not item.get("ports") and service["spec"].get("ports"):
            continue  # an unresolved named targetPort: kube-proxy cannot use these endpoints
        for endpoint in item.get("endpoints") or []:
            conditions = endpoint.get("conditions") or {}
            if conditions.get("ready") is False or conditions.get("terminating"):
                continue
            ref = endpoint.get("targetRef") or {}
            addresses = endpoint.get("addresses") or []
            pod = by_name.get(ref.get("name")) if ref.get("kind") == "Pod" else None
            pod = pod or next((by_ip[a] for a in addresses if a in by_ip), None)
            if pod is None:
                strangers.extend(addresses)
            else:
                found[pod["metadata"]["name"]] = pod
    return [found[n] for n in sorted(found)], strangers


def _probe_url(ctx: GradingContext, service: dict, port) -> str:
    entry = find_service_port(service, port=port)
    if entry is None:
        listing = ", ".join(port_label(p) for p in service["spec"].get("ports") or []) or "none"
        raise Fail(
            f"the Service answers on port {port}",
            f"no such port on the Service (its ports: {listing})",
            "The task names this port, and clients use it.",
        )
    return f"http://{service['metadata']['name']}:{port}/"


def _curl_in_turn(ctx: GradingContext, service: dict, url: str, count: int):
    """`count` requests one after the other from one probe pod (one client IP), in one exec,
    from the Service's namespace (the URL uses its short name)."""
    urls = [url] * count
    ns = service["metadata"]["namespace"]
    done = ctx.exec_in_probe(curl_argv(urls), ns, timeout=curl_exec_timeout_s(urls))
    return parse_curl_output(urls, done.returncode, done.stdout, done.stderr)


def _failed_requests(results) -> str | None:
    failed = [r for r in results if r.exit_code != 0 or r.http_status != 200]
    if not failed:
        return None
    causes = ", ".join(sorted({r.cause for r in failed}))
    return f"{len(failed)} of {len(results)} requests to {results[0].url} failed ({causes})"


def _spread(counts: Counter) -> str:
    return ", ".join(f"{name or 'an empty page'} ({n})" for name, n in counts.most_common())


# -- session affinity -----------------------------------------------------------------------------
@check_kind("session_affinity")
def session_affinity(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service pins each client to one endpoint (ClientIP), with the timeout the task states."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    want_s = spec.get("timeout")
    expected = "sessionAffinity: ClientIP" + (f", timeoutSeconds {want_s}" if want_s is not None else "")
    got = service["spec"].get("sessionAffinity") or "None"
    if got != "ClientIP":
        raise Fail(
            expected,
            f"sessionAffinity: {got}",
            "Without ClientIP affinity kube-proxy picks an endpoint anew for every connection, so "
            "one client's requests land on different Pods. Set spec.sessionAffinity: ClientIP.",
        )
    config = (service["spec"].get("sessionAffinityConfig") or {}).get("clientIP") or {}
    got_s = config.get("timeoutSeconds")
    found = f"sessionAffinity: ClientIP, timeoutSeconds {got_s if got_s is not None else 'unset'}"
    if want_s is None or got_s == want_s:
        return Outcome(expected, found)
    if got_s in (None, DEFAULT_AFFINITY_TIMEOUT_S):
        why = (
            f"{DEFAULT_AFFINITY_TIMEOUT_S} s (3 hours) is the default when no timeout is given; "
            f"set spec.sessionAffinityConfig.clientIP.timeoutSeconds: {want_s}."
        )
    else:
        why = f"The task asks for {want_s} seconds: set spec.sessionAffinityConfig.clientIP.timeoutSeconds."
    raise Fail(expected, found, why)


@check_kind("affinity_probe", settles=True)
def affinity_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """Repeated requests from one client all reach the same backend pod, which chance cannot explain."""
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    url = _probe_url(ctx, service, spec["port"])
    count = int(spec.get("requests", AFFINITY_REQUESTS))
    expected = f"{count} requests from one client to {url} all answered by one backend pod"
    ready, _ = _ready_endpoint_pods(ctx, service)
    if len(ready) < 2:
        raise Fail(
            expected,
            f"{len(ready)} ready endpoint(s)",
            "With fewer than two ready endpoints every request reaches the same Pod whatever the "
            "affinity, so stickiness cannot be shown; the Deployment's Pods must all be Ready.",
        )
    backends = {
        p["metadata"]["name"]
        for p in ctx.pods(spec.get("namespace"))
        if matches(parse_selector(spec["backends"]), labels_of(p))
    }
    results = _curl_in_turn(ctx, service, url, count)
    failure = _failed_requests(results)
    if failure:
        raise Fail(expected, failure, "Every request must be answered before stickiness can be judged.")
    counts = Counter(r.answered_by for r in results)
    strangers = sorted(set(counts) - backends)
    if strangers:
        raise Fail(
            expected,
            f"answered by {_spread(counts)}",
            f"{', '.join(strangers)} is not a backend pod labelled {spec['backends']}.",
        )
    if len(counts) > 1:
        raise Fail(
            expected,
            f"answered by {len(counts)} pods: {_spread(counts)}",
            "Each request went to whichever endpoint kube-proxy picked: the Service does not pin a "
            "client to one Pod (spec.sessionAffinity: ClientIP).",
        )
    chance = len(ready) ** (count - 1)
    pod = next(iter(counts))
    return Outcome(
        expected,
        f"all {count} answered by {pod}, one of {len(ready)} ready endpoints (by chance: 1 in {chance:,})",
    )


# -- tracks (canary, blue/green) --------------------------------------------------------------------
def _track_of(pod: dict, tracks: list[str]) -> str | None:
    return next((t for t in tracks if matches(parse_selector(t), labels_of(pod))), None)


@check_kind("track_endpoints", settles=True)
def track_endpoints(ctx: GradingContext, spec: dict) -> Outcome:
    """The Service's ready endpoints are so many pods of each track (`tracks`: selector -> count), and no others.

    kube-proxy spreads requests evenly over ready endpoints, so these counts are each track's share.
    """
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    wanted = {str(track): int(count) for track, count in spec["tracks"].items()}
    tracks, total = list(wanted), sum(wanted.values())
    expected = f"{total} ready endpoint(s): " + ", ".join(f"{n} labelled {t}" for t, n in wanted.items())
    pods, strangers = _ready_endpoint_pods(ctx, service)
    per_track = Counter(_track_of(p, tracks) for p in pods)
    outside = [p["metadata"]["name"] for p in pods if _track_of(p, tracks) is None] + strangers
    parts = [f"{per_track[t]} {t}" for t in tracks]
    if outside:
        parts.append(f"{len(outside)} of no track ({', '.join(outside)})")
    found = f"{len(pods) + len(strangers)} ready: " + ", ".join(parts)
    if not outside and all(per_track[t] == n for t, n in wanted.items()):
        return Outcome(expected, found)
    selector = service["spec"].get("selector") or {}
    shown = selector_string(selector) if selector else "none"
    missed = [t for t, n in wanted.items() if n and not per_track[t]]
    if not pods and not strangers:
        why = f"The Service has no ready endpoints: its selector ({shown}) picks no Ready pod."
    elif outside:
        why = (
            f"The selector ({shown}) also picks pods outside {' and '.join(tracks)}, "
            "so they get a share of the requests."
        )
    elif missed:
        why = f"The selector ({shown}) misses every {' and every '.join(missed)} pod."
    elif len(wanted) > 1:
        got = " : ".join(str(per_track[t]) for t in tracks)
        asked = " : ".join(str(n) for n in wanted.values())
        why = (
            f"kube-proxy shares requests evenly over the ready endpoints, so the tracks get "
            f"{got}; the task asks for {asked}. Set the Deployments' replicas."
        )
    else:
        why = f"The Service has {len(pods)} ready endpoints, not {total}: check the replicas and readiness."
    raise Fail(expected, found, why)


@check_kind("track_probe", settles=True)
def track_probe(ctx: GradingContext, spec: dict) -> Outcome:
    """Requests through the Service are answered by pods of every track, and only of those.

    The endpoint counts are graded by `track_endpoints`; this probe shows that traffic really
    reaches each track through the Service. kube-proxy cannot be steered to one endpoint, so
    the probe sends rounds of requests until every track has answered, up to a limit at which
    missing a track that holds an endpoint is negligible (see TRACK_MAX_REQUESTS).
    """
    service = ctx.require_service(spec["service"], spec.get("namespace"))
    tracks = list(spec["tracks"])
    url = _probe_url(ctx, service, spec["port"])
    expected = f"requests to {url} answered by pods of every track: {', '.join(tracks)}"
    track_by_pod = {p["metadata"]["name"]: _track_of(p, tracks) for p in ctx.pods(spec.get("namespace"))}
    ready, _ = _ready_endpoint_pods(ctx, service)
    ready_tracks = {_track_of(p, tracks) for p in ready}
    missing_endpoints = [t for t in tracks if t not in ready_tracks]
    counts: Counter = Counter()
    sent = 0
    while sent < TRACK_MAX_REQUESTS:
        results = _curl_in_turn(ctx, service, url, TRACK_ROUND)
        sent += len(results)
        failure = _failed_requests(results)
        if failure:
            raise Fail(expected, failure, "Every request through the Service must be answered.")
        counts.update(r.answered_by for r in results)
        answered = {track_by_pod.get(name) for name in counts}
        if None in answered or missing_endpoints or set(tracks) <= answered:
            break  # a stranger answered, or a track without endpoints can never answer
    per_track = Counter()
    for name, n in counts.items():
        per_track[track_by_pod.get(name) or "other"] += n
    found = f"{sent} requests: " + ", ".join(f"{per_track[t]} by {t}" for t in tracks)
    strangers = sorted(name or "an empty page" for name in counts if track_by_pod.get(name) is None)
    if strangers:
        raise Fail(
            expected,
            f"{found}, {per_track['other']} by others ({', '.join(strangers)})",
            "Something outside the tracks answered: check which pods the selector picks.",
        )
    unanswered = [t for t in tracks if not per_track[t]]
    if unanswered:
        why = (
            f"No {' or '.join(unanswered)} pod is a ready endpoint of the Service, so none can answer."
            if missing_endpoints
            else f"{sent} requests never reached {' or '.join(unanswered)}, although it has ready endpoints."
        )
        raise Fail(expected, found, why)
    return Outcome(expected, found)
