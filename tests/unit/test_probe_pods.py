"""Probe pods: one per run, the image asked for, and none left behind when they fail."""

import pytest

from ckaprep.cluster.labels import PROBE_ROLE, ROLE_LABEL
from ckaprep.errors import ImagePullError
from ckaprep.grading.context import GradingContext
from ckaprep.grading.engine import grade
from ckaprep.grading.options import GradingOptions
from tests.conftest import FakeTime
from tests.helpers import apply_solution, options, start_on

GOOD = "mirror.example/curl:1"
BAD = "mirror.example/missing:0"


def probe_pods(fake, namespace):
    return fake.list("Pod", namespace, f"{ROLE_LABEL}={PROBE_ROLE}")


def images_fail_to_pull(fake, images):
    """Probe pods whose image is in `images` sit in ImagePullBackOff, as on a real cluster."""
    original = fake._admit_pod

    def admit(pod):
        original(pod)
        image = pod["spec"]["containers"][0]["image"]
        if image in images:
            pod["status"] = {
                "phase": "Pending",
                "containerStatuses": [{"image": image, "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
            }

    fake._admit_pod = admit


def count_creates(fake):
    created = []
    original = fake.create

    def create(manifest):
        created.append(manifest["metadata"]["name"])
        return original(manifest)

    fake.create = create
    return created


def test_a_probe_pod_that_cannot_pull_is_deleted_and_made_once(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    images_fail_to_pull(fake, {BAD})
    created = count_creates(fake)
    with pytest.raises(ImagePullError, match=BAD):
        grade(exercise, attempt, fake, options(probe_image=BAD))
    assert probe_pods(fake, attempt.namespace) == []
    assert len([n for n in created if n.startswith("ckaprep-probe")]) == 1


def test_a_running_probe_pod_with_another_image_is_replaced(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    report, _ = grade(exercise, attempt, fake, options(probe_image=GOOD))
    assert report.passed
    [old] = probe_pods(fake, attempt.namespace)

    images_fail_to_pull(fake, {BAD})
    with pytest.raises(ImagePullError, match=BAD):  # never graded with the old pod's image
        grade(exercise, attempt, fake, options(probe_image=BAD))
    assert probe_pods(fake, attempt.namespace) == []
    assert fake.get("Pod", attempt.namespace, old["metadata"]["name"]) is None


def test_the_replacement_runs_the_image_asked_for(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    GradingContext(fake, attempt, GradingOptions(probe_image=GOOD)).probe_pod()
    apply_solution(fake, exercise, attempt)
    report, _ = grade(exercise, attempt, fake, options(probe_image="other.example/curl:2"))
    assert report.passed
    [pod] = probe_pods(fake, attempt.namespace)
    assert pod["spec"]["containers"][0]["image"] == "other.example/curl:2"
    assert any("not other.example/curl:2, so it was replaced" in note for note in report.notes)


def test_failed_probe_pods_from_an_earlier_run_are_cleaned_up(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    ctx = GradingContext(fake, attempt, GradingOptions(probe_image=GOOD))
    stale = ctx.probe_pod()
    fake.patch("Pod", attempt.namespace, stale["metadata"]["name"], lambda pod: pod["status"].update(phase="Failed"))
    report, _ = grade(exercise, attempt, fake, options(probe_image=GOOD))
    assert report.passed
    names = [p["metadata"]["name"] for p in probe_pods(fake, attempt.namespace)]
    assert stale["metadata"]["name"] not in names and len(names) == 1


def test_ctrl_c_while_a_probe_pod_starts_deletes_it(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    original = fake._admit_pod

    def pending(pod):
        original(pod)
        if pod["metadata"]["name"].startswith("ckaprep-probe"):
            pod["status"] = {"phase": "Pending"}

    fake._admit_pod = pending

    def interrupt(_seconds):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grade(exercise, attempt, fake, options(probe_image=GOOD, clock=FakeTime(on_sleep=interrupt)))
    assert probe_pods(fake, attempt.namespace) == []


def test_a_pod_ckaprep_did_not_make_is_never_deleted(fake):
    exercise, attempt = start_on(fake, "clusterip-create")
    apply_solution(fake, exercise, attempt)
    fake.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "learners", "namespace": attempt.namespace, "labels": {ROLE_LABEL: PROBE_ROLE}},
            "spec": {"containers": [{"name": "c", "image": "somebody/else:1"}]},
        }
    )
    grade(exercise, attempt, fake, options(probe_image=GOOD))
    assert fake.get("Pod", attempt.namespace, "learners") is not None
