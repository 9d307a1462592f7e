"""Grading on the real cluster while it moves: a rollout's terminating Pods, a decoy that
answers, and the give-up at --wait."""

from __future__ import annotations

import json
import random
import threading
import time

import pytest

from tests.e2e.practice import Practice


@pytest.fixture
def practice(tmp_path, cluster):
    session = Practice(tmp_path / "state", cluster)
    yield session
    session.ckaprep("reset")


def _seed() -> int:
    return random.SystemRandom().randrange(10**6)


def _terminating(practice: Practice, selector: str) -> list[str]:
    pods = json.loads(practice.kubectl("get", "pods", "-l", selector, "-o", "json").stdout)["items"]
    return [p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp")]


def test_the_right_answer_right_after_a_rollout_is_graded_on_the_pods_that_stay(practice):
    practice.start("clusterip-create", seed=_seed())
    app = practice.params["app"]
    # Pods that take their time to stop: the old ones stay terminating for three minutes after a
    # rollout, longer than a check takes on a loaded machine.
    practice.kubectl(
        "patch",
        "deployment",
        app,
        "--type=merge",
        "-p",
        '{"spec":{"template":{"spec":{"terminationGracePeriodSeconds":180}}}}',
    )
    practice.wait_rollout(app)
    practice.apply(practice.solution()["yaml"])
    before = set(_terminating(practice, f"app={app},tier=backend"))

    practice.kubectl("rollout", "restart", f"deployment/{app}")
    practice.wait_rollout(app)  # the new Pods are available; the old ones are still terminating
    leaving = set(_terminating(practice, f"app={app},tier=backend")) - before
    assert len(leaving) == 2, leaving
    try:
        run = practice.check(wait=60)

        assert run.report["passed"], run.explain() + "\n" + "\n".join(run.report["notes"])
        assert "selects 2 pod(s)" in run.check("selector")["found"]
        assert run.check("endpoints")["found"].startswith("2 ready,")
        assert not any(pod in run.check("probe-short")["found"] for pod in leaving)
        still = set(_terminating(practice, f"app={app},tier=backend")) & leaving
        assert still, "the old Pods were gone before the check ended: the test proved nothing"
    finally:  # no reset waiting minutes for any Pod of the slow template, old or new
        practice.kubectl("scale", "deployment", app, "--replicas=0", check=False)
        practice.kubectl(
            "delete", "pod", "-l", f"app={app}", "--grace-period=0", "--force", "--wait=false", check=False
        )


def test_a_decoy_answering_through_a_wrong_selector_is_named(practice):
    """The selector picks only the decoy Pod, which serves on the same port, so it is the one that answers."""
    practice.start("clusterip-create", seed=_seed())
    app = practice.params["app"]
    practice.apply(practice.solution()["yaml"].replace("tier: backend", "tier: debug"))
    practice.kubectl("wait", "--for=condition=Ready", f"pod/{app}-debug", "--timeout=120s")

    run = practice.check(wait=30)

    assert {"selector", "probe-short", "probe-clusterip"} <= run.failed, run.explain()
    probe = run.check("probe-short")
    assert f"answered by '{app}-debug', not a backend pod" in probe["found"], run.explain()
    assert "not a backend: check which pods the selector picks" in probe["message"]
    assert "misses every backend" in run.check("selector")["message"]


def test_check_gives_up_at_wait_while_the_cluster_keeps_moving(practice):
    practice.start("clusterip-create", seed=_seed())
    service = practice.params["service"]
    port = practice.params["port"]
    wrong = practice.solution()["yaml"].replace(f"targetPort: {practice.params['target_port']}", f"targetPort: {port}")
    practice.apply(wrong)
    stop = threading.Event()

    def keep_changing():  # the Service changes every 2 s, so it is never quiet for 8 s
        tick = 0
        while not stop.is_set():
            tick += 1
            practice.kubectl("annotate", "service", service, f"ckaprep-tests/tick={tick}", "--overwrite", check=False)
            stop.wait(2)

    mover = threading.Thread(target=keep_changing, daemon=True)
    mover.start()
    try:
        started = time.monotonic()
        run = practice.check(wait=10)
        took = time.monotonic() - started
    finally:
        stop.set()
        mover.join(timeout=30)

    assert "probe-short" in run.failed, run.explain()
    notes = run.report["notes"]
    assert any(n.startswith("The cluster was still moving (") and "when --wait (10 s) ran out" in n for n in notes), (
        notes
    )
    assert any(f"Service {service}" in n and "changed less than" in n for n in notes), notes
    assert 10 <= took < 60, took
