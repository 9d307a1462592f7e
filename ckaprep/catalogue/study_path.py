"""The study path: the built-in exercises in the order to learn them, from the basics to the
advanced and to troubleshooting. `ckaprep next` follows it on a fresh history (and wherever
the weakest topic leaves a tie), and `ckaprep list --path` shows it.

A new built-in exercise takes its place here (a test checks that every one has one).
Exercises of a trainer's own come after the path.
"""

from __future__ import annotations

STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "basics",
        (
            "clusterip-create",
            "clusterip-direct",
            "multi-port-named",
            "named-targetport",
            "dns-cross-namespace",
            "env-vars",
            "udp-service",
        ),
    ),
    (
        "advanced",
        (
            "externalname-alias",
            "selectorless-endpoints",
            "headless-deployment",
            "headless-statefulset",
            "dns-records",
            "session-affinity",
            "blue-green",
            "canary-split",
            "service-cidr",
            "cross-node-service",
            "internal-traffic-local",
            "traffic-distribution",
            "netpol-allow-service",
            "netpol-dns-egress",
        ),
    ),
    ("troubleshooting", ("readiness-probe", "troubleshoot-broken", "troubleshoot-pool")),
)
PATH = tuple(exercise for _, exercises in STAGES for exercise in exercises)
STAGE_OF = {exercise: stage for stage, exercises in STAGES for exercise in exercises}
OFF_PATH = "your own"  # the stage of an exercise that is not on the path


def step(exercise_id: str) -> int:
    """The exercise's place on the path, from 1; exercises off the path come after it."""
    return PATH.index(exercise_id) + 1 if exercise_id in PATH else len(PATH) + 1


def along_the_path(exercise_ids) -> list[str]:
    """The ids in the path's order, those off the path after them, by id."""
    return sorted(exercise_ids, key=lambda exercise_id: (step(exercise_id), exercise_id))
