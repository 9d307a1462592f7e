"""The grading engine: polling, error status, probe pods, and curl's exit codes."""

from collections import Counter
from datetime import timedelta

import pytest

from ckaprep.errors import ImagePullError
from ckaprep.grading.engine import grade
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.probes import cluster_domain_from_resolv_conf, curl_argv, parse_curl_output
from tests.conftest import FakeTime
from tests.helpers import apply_solution, options, start_on


def test_settling_checks_are_polled_until_they_pass(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    backends = [p["metadata"]["name"] for p in fake.list("Pod", attempt.namespace, "tier=backend")]
    for name in backends:
        fake.set_ready(attempt.namespace, name, False)
    fake.quiet_for = timedelta(seconds=1)  # the readiness change just happened

    def after_sleep(seconds):
        fake.quiet_for += timedelta(seconds=seconds)  # the server's clock moves on too
        if clock.elapsed == 1:
            for name in backends:
                fake.set_ready(attempt.namespace, name, True)

    clock = FakeTime(on_sleep=after_sleep)
    report, _ = grade(exercise, attempt, fake, options(wait_s=15, clock=clock))
    assert report.passed
    assert 1 <= clock.elapsed < 15
    assert not any("still moving" in n for n in report.notes)


def test_polling_gives_up_after_wait_and_reports_the_last_state(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    for pod in fake.list("Pod", attempt.namespace, "tier=backend"):
        fake.set_ready(attempt.namespace, pod["metadata"]["name"], False)
    fake.quiet_for = timedelta(seconds=1)
    clock = FakeTime()
    report, _ = grade(exercise, attempt, fake, options(wait_s=5, clock=clock))
    endpoints = next(c for c in report.checks if c.id == "endpoints")
    assert endpoints.status == "fail" and "0 ready, 2 not ready" in endpoints.found
    assert "not Ready" in endpoints.message
    assert 5 <= clock.elapsed <= 6
    assert any("still moving" in n and "when --wait (5 s) ran out" in n and "changed" in n for n in report.notes)


def test_a_wrong_answer_in_a_settled_cluster_is_final_at_once(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    for pod in fake.list("Pod", attempt.namespace, "tier=backend"):
        fake.set_ready(attempt.namespace, pod["metadata"]["name"], False)
    clock = FakeTime()  # fake.quiet_for is a minute: nothing is moving
    report, _ = grade(exercise, attempt, fake, options(wait_s=60, clock=clock))
    assert not report.passed
    assert clock.elapsed == 0
    assert not any("Waited" in n or "still moving" in n for n in report.notes)


def test_a_starting_pod_is_waited_for_even_in_a_quiet_cluster(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    backends = [p["metadata"]["name"] for p in fake.list("Pod", attempt.namespace, "tier=backend")]
    for name in backends:
        fake.patch(
            "Pod",
            attempt.namespace,
            name,
            lambda pod: pod["status"].update(
                phase="Pending",
                containerStatuses=[{"name": "web", "state": {"waiting": {"reason": "ContainerCreating"}}}],
                conditions=[{"type": "Ready", "status": "False"}],
            ),
        )

    def after_sleep(seconds):
        if clock.elapsed >= 4:
            for name in backends:
                fake.patch(
                    "Pod",
                    attempt.namespace,
                    name,
                    lambda pod: pod["status"].update(
                        phase="Running", containerStatuses=[], conditions=[{"type": "Ready", "status": "True"}]
                    ),
                )

    clock = FakeTime(on_sleep=after_sleep)
    report, _ = grade(exercise, attempt, fake, options(wait_s=30, clock=clock))
    assert report.passed
    assert 4 <= clock.elapsed < 6
    waited = next(n for n in report.notes if n.startswith("Waited"))
    assert "is starting (ContainerCreating)" in waited


def test_no_waiting_when_everything_passes(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    clock = FakeTime()
    report, _ = grade(exercise, attempt, fake, options(wait_s=60, clock=clock))
    assert report.passed and clock.elapsed == 0


def test_a_broken_check_is_an_error_not_a_crash(fake, monkeypatch):
    exercise, attempt = start_on(fake, "clusterip-create")
    from ckaprep.grading import checks

    def explode(ctx, spec):
        raise RuntimeError("boom")

    monkeypatch.setitem(
        checks.KINDS,
        "service_type",
        checks.KINDS["service_type"].__class__(
            "service_type", explode, frozenset({"service"}), frozenset({"type", "namespace"}), False, "x"
        ),
    )
    report, _ = grade(exercise, attempt, fake, options())
    broken = next(c for c in report.checks if c.id == "service-type")
    assert broken.status == "error" and "boom" in broken.message


def test_probe_image_that_cannot_be_pulled_stops_grading(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    original = fake._admit_pod

    def image_pull_backoff(pod):
        original(pod)
        if pod["metadata"]["name"].startswith("ckaprep-probe"):
            pod["status"] = {
                "phase": "Pending",
                "containerStatuses": [
                    {
                        "image": pod["spec"]["containers"][0]["image"],
                        "state": {"waiting": {"reason": "ImagePullBackOff"}},
                    }
                ],
            }

    fake._admit_pod = image_pull_backoff
    with pytest.raises(ImagePullError, match="mirror.example/curl:1"):
        grade(exercise, attempt, fake, options(probe_image="mirror.example/curl:1"))


def test_env_probe_recreates_a_probe_pod_older_than_the_service(fake):
    from ckaprep.grading.context import GradingContext

    exercise, attempt = start_on(fake, "env-vars")
    from ckaprep.cluster.images import CURL_IMAGE

    GradingContext(fake, attempt, GradingOptions(probe_image=CURL_IMAGE)).probe_pod()  # started before the Service
    apply_solution(fake, exercise, attempt)
    report, ctx = grade(exercise, attempt, fake, options())
    assert report.passed
    assert any("predates Service" in note for note in report.notes)


@pytest.mark.parametrize(
    "code, cause",
    [(6, "DNS lookup failed"), (7, "connection refused"), (28, "timed out"), (52, "empty reply")],
)
def test_curl_exit_codes_name_the_cause(code, cause):
    [result] = parse_curl_output(["http://x/"], 1, f"\n__ckaprep_result__ {code} 000 0.5 boom\n", "")
    assert cause in result.cause and str(code) in result.cause


def test_one_curl_runs_every_url_and_each_keeps_its_own_result():
    urls = ["http://web:80/", "http://10.96.0.9:81/", "http://nowhere:80/"]
    argv = curl_argv(urls)
    assert argv[0] == "curl" and argv.count("--next") == 2
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--url"] == urls  # never read as options
    stdout = (
        "web-1\nport=80\n\n__ckaprep_result__ 0 200 0.003 \n"
        "\n__ckaprep_result__ 7 000 0.001 Failed to connect to 10.96.0.9 port 81: Connection refused\n"
        "\n__ckaprep_result__ 6 000 0.002 Could not resolve host: nowhere\n"
    )
    first, second, third = parse_curl_output(urls, 6, stdout, "")
    assert (first.exit_code, first.http_status, first.answered_by, first.time_s) == (0, 200, "web-1", 0.003)
    assert second.exit_code == 7 and "connection refused" in second.cause
    assert third.exit_code == 6 and third.stderr == "Could not resolve host: nowhere"


def test_urls_without_a_result_line_get_the_execs_error():
    first, second = parse_curl_output(["http://a/", "http://b/"], 127, "", "curl: not found")
    assert first.exit_code == 127 and "curl: not found" in first.cause
    assert second.exit_code == 127


def test_cluster_domain_comes_from_the_search_path():
    text = "search shop.svc.corp.internal svc.corp.internal corp.internal\nnameserver 10.0.0.10\n"
    assert cluster_domain_from_resolv_conf(text, "shop") == "corp.internal"
    assert cluster_domain_from_resolv_conf("nameserver 1.1.1.1\n", "shop") is None


def test_exec_status_fallback_reads_the_exit_code():
    from ckaprep.cluster.kube import _returncode_from_status

    assert _returncode_from_status('{"status": "Success"}') == 0
    failure = '{"status":"Failure","details":{"causes":[{"reason":"ExitCode","message":"7"}]}}'
    assert _returncode_from_status(failure) == 7
    assert _returncode_from_status("not json") is None


@pytest.mark.parametrize("exercise_id", ["clusterip-create", "multi-port-named", "selectorless-endpoints"])
def test_each_kind_is_read_once_per_namespace_in_a_round_and_curls_share_an_exec(fake, exercise_id):
    exercise, attempt = start_on(fake, exercise_id)
    apply_solution(fake, exercise, attempt)
    grade(exercise, attempt, fake, options())  # starts the probe pod
    fake.read_log.clear()
    fake.exec_log.clear()
    report, _ = grade(exercise, attempt, fake, options())
    assert report.passed, [(c.id, c.found) for c in report.checks if c.status != "pass"]
    reads = Counter(r for r in fake.read_log if r[1] != "Namespace")
    assert all(verb == "list" for verb, _, _ in reads), reads
    # The probe pod is looked up once per run, outside the round's reads.
    allowed = {("list", "Pod", ns): 2 for ns in attempt.namespaces}
    assert {r: n for r, n in reads.items() if n > allowed.get(r, 1)} == {}
    curl_execs = [argv for _, _, argv in fake.exec_log if argv[0] == "curl"]
    probe_checks = [c for c in exercise.checks_for(attempt.params) if c.kind == "http_probe"]
    assert len(curl_execs) == len(probe_checks)


def test_no_check_passes_while_a_controller_is_about_to_undo_the_answer(fake):
    """A right answer on a cluster still moving is graded again until it settles; at the end of
    --wait the verdict says the cluster was still moving."""
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    fake.quiet_for = timedelta(minutes=5)
    deployment = fake.get("Deployment", attempt.namespace, attempt.params["app"])
    deployment["metadata"]["generation"] = 7
    deployment["status"] = {"observedGeneration": 6, "replicas": 2}  # its controller has not caught up
    fake.objects[("Deployment", attempt.namespace, attempt.params["app"])] = deployment
    clock = FakeTime()
    report, _ = grade(exercise, attempt, fake, options(wait_s=5, clock=clock))
    assert 5 <= clock.elapsed <= 6  # not at once, as a pass used to be
    assert any("still moving" in n and "a passing check may not hold" in n for n in report.notes), report.notes

    deployment["status"]["observedGeneration"] = 7  # caught up: the same answer passes at once
    clock = FakeTime()
    report, _ = grade(exercise, attempt, fake, options(wait_s=5, clock=clock))
    assert report.passed and clock.elapsed == 0 and not report.notes


def test_setup_waits_for_a_new_namespaces_default_service_account(fake):
    """After an API server restart, a new namespace has no `default` ServiceAccount for a while,
    and Pods are refused until the controller makes it: start waits, then creates them."""
    from ckaprep.cluster.waiting import Waiter
    from ckaprep.errors import PermissionDenied
    from ckaprep.practice.lifecycle import create_once_admitted

    refusals = [2]
    real_create = fake.create

    def create(manifest):
        if manifest["kind"] == "Pod" and refusals[0]:
            refusals[0] -= 1
            raise PermissionDenied(
                'permission denied: pods "web" is forbidden: error looking up service account '
                'shop/default: serviceaccount "default" not found'
            )
        return real_create(manifest)

    fake.create = create
    fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    clock = FakeTime()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }
    made = create_once_admitted(fake, pod, Waiter(clock=clock))
    assert made["metadata"]["name"] == "web" and refusals == [0] and 1 <= clock.elapsed < 5
    fake.create = lambda manifest: (_ for _ in ()).throw(PermissionDenied("permission denied: pods is forbidden"))
    with pytest.raises(PermissionDenied):  # any other refusal is not waited for
        create_once_admitted(fake, pod, Waiter(clock=clock))
