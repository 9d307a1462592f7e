"""Task texts describe the setup truly, where the simulated cluster can tell.

Readiness is such a claim: the fake answers each readiness probe from what the container serves
(a path it never writes is never served), so a probe that can never pass shows at `start`. Every
setup Pod is Ready at start, except those the task says are not Ready, and no task that has such
a Pod says that something becomes Ready by itself. A fault pool's setup without its faults is
the setup its task describes: every Pod of it is Ready.
"""

import dataclasses
import re

import pytest

from ckaprep.catalogue.loading import load_catalogue
from ckaprep.catalogue.requirements import normalised, sentences
from ckaprep.catalogue.templating import render
from ckaprep.cluster.waiting import pod_is_ready
from ckaprep.practice.lifecycle import start_attempt
from tests.fake_cluster import FakeCluster
from tests.helpers import NOW, offer_what_it_needs

CATALOGUE = load_catalogue()

# The setup objects whose Pods are not Ready at start, on purpose, and the words of the task
# that say so (as the learner reads them, before rendering).
NOT_READY_ON_PURPOSE = {
    "headless-deployment": {"Pod/${warming}": "it is not Ready, and stays so throughout"},
    "readiness-probe": {"Deployment/${app}": "it has no ready endpoints"},
}
# What a task must not claim while one of its Pods can never become Ready.
READY_BY_ITSELF = re.compile(
    r"\b(becomes Ready|will (become|be) Ready|turns Ready|Ready (by itself|on its own)|once it has warmed up)\b",
    re.IGNORECASE,
)


def _owner(pod: dict) -> str:
    """Kind/name of the setup object a Pod comes from."""
    for ref in pod["metadata"].get("ownerReferences") or []:
        if ref.get("kind") == "ReplicaSet":
            return f"Deployment/{ref['name'].rsplit('-', 1)[0]}"
        if ref.get("kind") == "StatefulSet":
            return f"StatefulSet/{ref['name']}"
    return f"Pod/{pod['metadata']['name']}"


def _not_ready_at_start(fake, exercise) -> tuple[set[str], dict]:
    offer_what_it_needs(fake, exercise)
    attempt = start_attempt(exercise, fake, seed=7, now=NOW, record=lambda a: None)
    pods = [p for ns in attempt.namespaces for p in fake.list("Pod", ns)]
    assert pods, exercise.id
    return {_owner(p) for p in pods if not pod_is_ready(p)}, attempt.params


def _untrue(fake, exercise, declared: dict[str, str]) -> list[str]:
    """What the task says of readiness that the setup does not bear out."""
    not_ready, params = _not_ready_at_start(fake, exercise)
    said = {render(key, params): phrase for key, phrase in declared.items()}
    task = normalised(exercise.task)
    problems = [f"{owner}: never Ready, and the task does not say so" for owner in sorted(not_ready - set(said))]
    problems += [
        f"{owner}: Ready, yet the task says {phrase!r}" for owner, phrase in said.items() if owner not in not_ready
    ]
    problems += [f"{owner}: the task does not say {phrase!r}" for owner, phrase in said.items() if phrase not in task]
    if not_ready:
        problems += [
            f"a setup Pod never becomes Ready, yet the task says {s.text!r}"
            for s in sentences(exercise.task)
            if READY_BY_ITSELF.search(s.text)
        ]
    return problems


@pytest.mark.parametrize("exercise_id", sorted(e for e, ex in CATALOGUE.items() if not ex.faults))
def test_setup_pods_are_ready_unless_the_task_says_otherwise(fake, exercise_id):
    assert _untrue(fake, CATALOGUE[exercise_id], NOT_READY_ON_PURPOSE.get(exercise_id, {})) == []


@pytest.mark.parametrize("exercise_id", sorted(e for e, ex in CATALOGUE.items() if ex.faults))
def test_a_fault_pools_setup_without_faults_is_all_ready(fake, exercise_id):
    exercise = dataclasses.replace(CATALOGUE[exercise_id], faults={})
    assert _untrue(fake, exercise, {}) == []


def test_a_pod_that_never_becomes_ready_is_caught_with_what_the_task_says_of_it(fake):
    """headless-deployment as it was: its warming Pod was said to become Ready by itself."""
    exercise = CATALOGUE["headless-deployment"]
    before = (
        "In namespace **`${namespace}`**, every Pod labelled `app=${app}` listens on port **${port}**:\n"
        "the 2 Pods of Deployment `${app}`, and Pod `${warming}`, which is still warming up and is\n"
        "**not Ready**.\n\n"
        "Done means: `${service}.${namespace}.svc.<cluster domain>` resolves to **exactly the IPs of the\n"
        "Ready Pods**; `${warming}` is not among them while it is not Ready. Leave Pod `${warming}` in\n"
        "place: it becomes Ready by itself once it has warmed up.\n"
    )
    old = dataclasses.replace(exercise, task=before)
    problems = _untrue(fake, old, {"Pod/${warming}": "is not Ready"})
    assert problems == [
        "a setup Pod never becomes Ready, yet the task says 'Leave Pod ${warming} in place: it becomes "
        "Ready by itself once it has warmed up.'"
    ]
    # The Pod left undeclared: the setup says more than the task.
    undeclared = _untrue(FakeCluster(), exercise, {})
    assert [p.split(": ", 1)[1] for p in undeclared] == ["never Ready, and the task does not say so"]
