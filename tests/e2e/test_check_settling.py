"""`check` on the real cluster: final at once when nothing moves, patient while something does."""

from __future__ import annotations

import random
import time

import pytest

from ckaprep.grading.flux import SETTLE_AFTER_CHANGE_S
from tests.e2e.practice import Practice


@pytest.fixture
def practice(tmp_path, cluster):
    session = Practice(tmp_path / "state", cluster)
    yield session
    session.ckaprep("reset")


def _waited(run) -> list[str]:
    return [n for n in run.report["notes"] if n.startswith(("Waited", "The cluster was still moving"))]


@pytest.mark.second_config
def test_a_wrong_answer_in_a_settled_cluster_is_final_without_polling(practice):
    practice.start("clusterip-create", seed=random.SystemRandom().randrange(10**6))
    right = practice.solution()["yaml"]
    app = practice.params["app"]
    practice.apply(right.replace(f"app: {app}", "app: nothing-has-this-label"))
    practice.kubectl("wait", "--for=condition=Ready", "pod", "-l", "tier=backend", "--timeout=120s")
    time.sleep(SETTLE_AFTER_CHANGE_S + 3)  # past the window in which kube-proxy and DNS catch up

    run = practice.check(wait=60)

    assert "endpoints" in run.failed, run.explain()
    assert _waited(run) == [], run.report["notes"]

    # Fixed now: the Service just changed, so the check waits for the cluster and passes.
    practice.apply(right)
    fixed = practice.check(wait=60)
    assert fixed.report["passed"], fixed.explain() + "\n" + "\n".join(fixed.report["notes"])
