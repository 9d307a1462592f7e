"""How to grade, as one value: the probe pod's image, how long to poll a cluster that is still
settling, and how to wait (progress, clock, sleep). A command builds it once, from its options
and the environment (`Environment.grading_options`); every grading function takes it whole."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ckaprep.cluster.images import CURL_IMAGE
from ckaprep.cluster.waiting import Progress, Waiter


@dataclass(frozen=True)
class GradingOptions:
    probe_image: str = CURL_IMAGE
    wait_s: float = 0.0  # at most this long polling failing checks while the cluster settles
    waiter: Waiter = field(default_factory=Waiter)

    def with_progress(self, progress: Progress) -> GradingOptions:
        return replace(self, waiter=replace(self.waiter, progress=progress))

    def with_wait(self, wait_s: float) -> GradingOptions:
        return replace(self, wait_s=wait_s)
