"""Traffic check kinds on the fake cluster: session affinity, the sticky probe, endpoints per track
and the track probe, with the reasons they give."""

import pytest

from ckaprep.grading.checks import KINDS
from ckaprep.grading.context import Fail, GradingContext
from tests.helpers import options, start_on

CURL_IMAGE = "docker.io/curlimages/curl:8.11.1"


def _run(fake, attempt, kind, **spec):
    ctx = GradingContext(fake, attempt, options(probe_image=CURL_IMAGE))
    return KINDS[kind].run(ctx, spec)


def _fails(fake, attempt, kind, **spec) -> Fail:
    with pytest.raises(Fail) as caught:
        _run(fake, attempt, kind, **spec)
    return caught.value


def _patch_service(fake, ns, name, **fields):
    service = fake.get("Service", ns, name)
    service["spec"].update(fields)
    fake.apply(service)


def _scale(fake, ns, name, replicas):
    deployment = fake.get("Deployment", ns, name)
    deployment["spec"]["replicas"] = replicas
    fake.apply(deployment)


# -- the fake's own simulation -------------------------------------------------------------------
def test_fake_defaults_and_drops_affinity_fields_like_the_api_server(fake):
    _, attempt = start_on(fake, "session-affinity")
    ns, name = attempt.namespace, attempt.params["service"]
    assert fake.get("Service", ns, name)["spec"]["sessionAffinity"] == "None"
    _patch_service(fake, ns, name, sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}})
    assert "sessionAffinityConfig" not in fake.get("Service", ns, name)["spec"]
    _patch_service(fake, ns, name, sessionAffinity="ClientIP")
    assert fake.get("Service", ns, name)["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_fake_pins_a_client_to_one_endpoint_only_with_client_ip_affinity(fake):
    _, attempt = start_on(fake, "session-affinity")
    ns, name, port = attempt.namespace, attempt.params["service"], attempt.params["port"]
    ctx = GradingContext(fake, attempt, options(probe_image=CURL_IMAGE))
    url = f"http://{name}:{port}/"
    assert len({r.answered_by for r in ctx.curl_many([url] * 6)}) == 3
    _patch_service(fake, ns, name, sessionAffinity="ClientIP")
    assert len({r.answered_by for r in ctx.curl_many([url] * 6)}) == 1


def test_fake_deletes_a_deployments_pods_with_it(fake):
    _, attempt = start_on(fake, "blue-green")
    ns, app = attempt.namespace, attempt.params["app"]
    fake.delete("Deployment", ns, f"{app}-blue")
    assert fake.list("Pod", ns, "version=blue") == []
    assert len(fake.list("Pod", ns, "version=green")) == 2


# -- session_affinity ------------------------------------------------------------------------------
def test_session_affinity_none_names_the_field(fake):
    _, attempt = start_on(fake, "session-affinity")
    fail = _fails(fake, attempt, "session_affinity", service=attempt.params["service"])
    assert fail.found == "sessionAffinity: None"
    assert "sessionAffinity: ClientIP" in fail.message


def test_session_affinity_default_timeout_is_named_as_the_default(fake):
    _, attempt = start_on(fake, "session-affinity")
    ns, name = attempt.namespace, attempt.params["service"]
    _patch_service(fake, ns, name, sessionAffinity="ClientIP")
    assert _run(fake, attempt, "session_affinity", service=name).found.startswith("sessionAffinity: ClientIP")
    fail = _fails(fake, attempt, "session_affinity", service=name, timeout=1800)
    assert "timeoutSeconds 10800" in fail.found
    assert "default" in fail.message and "1800" in fail.message


def test_session_affinity_other_timeout_names_the_one_asked_for(fake):
    _, attempt = start_on(fake, "session-affinity")
    ns, name = attempt.namespace, attempt.params["service"]
    _patch_service(
        fake, ns, name, sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {"timeoutSeconds": 30}}
    )
    fail = _fails(fake, attempt, "session_affinity", service=name, timeout=1800)
    assert fail.found == "sessionAffinity: ClientIP, timeoutSeconds 30"
    assert "asks for 1800 seconds" in fail.message
    _patch_service(fake, ns, name, sessionAffinityConfig={"clientIP": {"timeoutSeconds": 1800}})
    assert _run(fake, attempt, "session_affinity", service=name, timeout=1800).found.endswith("timeoutSeconds 1800")


# -- affinity_probe ----------------------------------------------------------------------------
def test_affinity_probe_fails_when_requests_spread(fake):
    _, attempt = start_on(fake, "session-affinity")
    p = attempt.params
    fail = _fails(fake, attempt, "affinity_probe", service=p["service"], port=p["port"], backends=f"app={p['app']}")
    assert "answered by 3 pods" in fail.found
    assert "does not pin" in fail.message


def test_affinity_probe_passes_with_client_ip_and_states_the_odds(fake):
    _, attempt = start_on(fake, "session-affinity")
    p = attempt.params
    _patch_service(fake, attempt.namespace, p["service"], sessionAffinity="ClientIP")
    outcome = _run(fake, attempt, "affinity_probe", service=p["service"], port=p["port"], backends=f"app={p['app']}")
    assert "all 16 answered by" in outcome.found
    assert "1 in 14,348,907" in outcome.found  # 3 ** 15


def test_affinity_probe_is_not_fooled_by_a_single_backend(fake):
    _, attempt = start_on(fake, "session-affinity")
    p = attempt.params
    _patch_service(fake, attempt.namespace, p["service"], sessionAffinity="ClientIP")
    _scale(fake, attempt.namespace, p["app"], 1)
    fail = _fails(fake, attempt, "affinity_probe", service=p["service"], port=p["port"], backends=f"app={p['app']}")
    assert fail.found == "1 ready endpoint(s)"
    assert "cannot be shown" in fail.message


def test_affinity_probe_names_a_port_the_service_lacks(fake):
    _, attempt = start_on(fake, "session-affinity")
    p = attempt.params
    fail = _fails(fake, attempt, "affinity_probe", service=p["service"], port=1, backends=f"app={p['app']}")
    assert "no such port on the Service" in fail.found


# -- track_endpoints ---------------------------------------------------------------------------
def _canary(fake, stable=None, canary=1, selector=None):
    _, attempt = start_on(fake, "canary-split")
    p, ns = attempt.params, attempt.namespace
    fake.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": p["service"], "namespace": ns},
            "spec": {
                "selector": selector or {"app": p["app"]},
                "ports": [{"port": p["port"], "targetPort": p["target_port"]}],
            },
        }
    )
    if stable is not None:
        _scale(fake, ns, f"{p['app']}-stable", stable)
        _scale(fake, ns, f"{p['app']}-canary", canary)
    return attempt


TRACKS = {"track=stable": 4, "track=canary": 1}


def test_track_endpoints_pass_with_the_right_counts(fake):
    attempt = _canary(fake, stable=4)
    outcome = _run(fake, attempt, "track_endpoints", service=attempt.params["service"], tracks=TRACKS)
    assert outcome.found == "5 ready: 4 track=stable, 1 track=canary"


def test_track_endpoints_wrong_ratio_says_the_share(fake):
    attempt = _canary(fake)  # setup's 2 and 2
    fail = _fails(fake, attempt, "track_endpoints", service=attempt.params["service"], tracks=TRACKS)
    assert fail.found == "4 ready: 2 track=stable, 2 track=canary"
    assert "the tracks get 2 : 2; the task asks for 4 : 1" in fail.message


def test_track_endpoints_selector_of_one_track(fake):
    attempt = _canary(fake, stable=4)
    p = attempt.params
    _patch_service(fake, attempt.namespace, p["service"], selector={"app": p["app"], "track": "stable"})
    fail = _fails(fake, attempt, "track_endpoints", service=p["service"], tracks=TRACKS)
    assert "misses every track=canary pod" in fail.message


def test_track_endpoints_pods_of_no_track_are_named(fake):
    _, attempt = start_on(fake, "blue-green")
    p = attempt.params
    _patch_service(fake, attempt.namespace, p["service"], selector={"app": p["app"]})
    fail = _fails(fake, attempt, "track_endpoints", service=p["service"], tracks={"version=green": 2})
    blue = sorted(
        pod["metadata"]["name"]
        for pod in fake.list("Pod", attempt.namespace)
        if pod["metadata"]["labels"].get("version") == "blue"
    )
    assert "2 of no track" in fail.found and f"({', '.join(blue)})" in fail.found
    assert "also picks pods outside version=green" in fail.message


def test_track_endpoints_not_ready_pods_do_not_count(fake):
    attempt = _canary(fake, stable=4)
    [canary_pod] = [
        pod["metadata"]["name"]
        for pod in fake.list("Pod", attempt.namespace)
        if pod["metadata"]["labels"].get("track") == "canary"
    ]
    fake.set_ready(attempt.namespace, canary_pod, False)
    fail = _fails(fake, attempt, "track_endpoints", service=attempt.params["service"], tracks=TRACKS)
    assert fail.found == "4 ready: 4 track=stable, 0 track=canary"


# -- track_probe ----------------------------------------------------------------------------------
def test_track_probe_reaches_both_tracks_and_stops_early(fake):
    attempt = _canary(fake, stable=4)
    p = attempt.params
    outcome = _run(
        fake, attempt, "track_probe", service=p["service"], port=p["port"], tracks=["track=stable", "track=canary"]
    )
    assert outcome.found.startswith("20 requests: ")  # the fake's round robin answers both in one round
    curls = [argv for _, _, argv in fake.exec_log if argv[0] == "curl"]
    assert len(curls) == 1


def test_track_probe_a_track_without_endpoints_fails_at_once(fake):
    attempt = _canary(fake, stable=4)
    p = attempt.params
    _patch_service(fake, attempt.namespace, p["service"], selector={"app": p["app"], "version": "v1"})
    fail = _fails(
        fake, attempt, "track_probe", service=p["service"], port=p["port"], tracks=["track=stable", "track=canary"]
    )
    assert fail.found == "20 requests: 20 by track=stable, 0 by track=canary"
    assert "No track=canary pod is a ready endpoint" in fail.message


def test_track_probe_an_answer_from_outside_the_tracks_fails(fake):
    _, attempt = start_on(fake, "blue-green")
    p = attempt.params
    _patch_service(fake, attempt.namespace, p["service"], selector={"app": p["app"]})
    fail = _fails(fake, attempt, "track_probe", service=p["service"], port=p["port"], tracks=["version=green"])
    assert f"{p['app']}-blue-" in fail.found
    assert "outside the tracks" in fail.message
