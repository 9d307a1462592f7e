"""Polling until the cluster settles, and spotting pods that never will."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ckaprep.clock import SYSTEM_CLOCK, Clock
from ckaprep.errors import ImagePullError, WaitTimeout

IMAGE_PULL_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}

Progress = Callable[[str], None]


def no_progress(_: str) -> None:
    pass


def raise_if_image_pull_failed(pod: dict) -> None:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    statuses += (pod.get("status") or {}).get("initContainerStatuses") or []
    for status in statuses:
        waiting = (status.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in IMAGE_PULL_REASONS:
            name = pod["metadata"]["name"]
            raise ImagePullError(status.get("image", "?"), waiting["reason"], name)


# A container waiting for one of these reasons will not start until something is fixed.
STUCK_REASONS = IMAGE_PULL_REASONS | {"CreateContainerConfigError", "CreateContainerError", "CrashLoopBackOff"}


def pod_is_stuck(pod: dict | None) -> bool:
    """A pod that will not run as it is: its image, its configuration or its command is broken."""
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    return any(((s.get("state") or {}).get("waiting") or {}).get("reason") in STUCK_REASONS for s in statuses)


def pod_is_running(pod: dict | None) -> bool:
    if not pod:
        return False
    return (pod.get("status") or {}).get("phase") == "Running"


def pod_is_ready(pod: dict | None) -> bool:
    conditions = ((pod or {}).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def ready_and_running(cluster, namespace: str, ready: str, running: str) -> Callable[[], bool]:
    """A wait's condition: Pod `ready` is Ready and Pod `running` runs (a server and its client);
    an image that cannot be pulled ends the wait with an ImagePullError."""

    def started() -> bool:
        server, client = cluster.get("Pod", namespace, ready), cluster.get("Pod", namespace, running)
        for pod in (server, client):
            if pod:
                raise_if_image_pull_failed(pod)
        return pod_is_ready(server) and pod_is_running(client)

    return started


@dataclass(frozen=True)
class Waiter:
    """How to wait: where progress goes, and which clock to poll and sleep on (tests pass a fake)."""

    progress: Progress = no_progress
    clock: Clock = SYSTEM_CLOCK

    def until(self, condition: Callable[[], bool], *, timeout_s: float, what: str) -> None:
        wait_until(condition, timeout_s=timeout_s, what=what, progress=self.progress, clock=self.clock)


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout_s: float,
    what: str,
    progress: Progress = no_progress,
    clock: Clock = SYSTEM_CLOCK,
    interval_s: float = 1.0,
) -> None:
    deadline = clock.monotonic() + timeout_s
    progress(what)
    while not condition():
        if clock.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout_s:.0f}s {what}")
        clock.sleep(interval_s)
