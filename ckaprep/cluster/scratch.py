"""The scratch namespaces in which ckaprep tries the cluster itself out (`doctor`, the
capability probe): labelled as ckaprep's own, and deleted again however the trial ends."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from ckaprep.cluster.labels import ATTEMPT_LABEL, OWNER_LABEL, OWNER_VALUE, ROLE_LABEL
from ckaprep.cluster.waiting import Progress, no_progress

if TYPE_CHECKING:
    from ckaprep.cluster import Cluster


def scratch_name(prefix: str) -> str:
    """`prefix` and five random characters: two runs at once never share a namespace."""
    return prefix + "".join(random.choices(string.ascii_lowercase + string.digits, k=5))


@contextmanager
def scratch_namespace(cluster: Cluster, namespace: str, role: str, progress: Progress = no_progress) -> Iterator[str]:
    """Create `namespace` with ckaprep's labels and `role`, and delete it on the way out, Ctrl-C
    included; the deletion goes on in the background."""
    progress(f"creating namespace {namespace}")
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": namespace,
                "labels": {OWNER_LABEL: OWNER_VALUE, ROLE_LABEL: role, ATTEMPT_LABEL: namespace},
            },
        }
    )
    try:
        yield namespace
    finally:
        cluster.delete("Namespace", None, namespace)
