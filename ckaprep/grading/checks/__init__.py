"""The typed check kinds that exercise files use, one module per concern.

Importing this package registers every kind in `KINDS`.
"""

from ckaprep.grading.checks import (  # noqa: F401  (imported to register their kinds)
    answers,
    constraints,
    dns,
    endpoints,
    http_probes,
    network,
    placement,
    service_links,
    service_shape,
    traffic,
)
from ckaprep.grading.checks.base import COMMON_FIELDS, KINDS, CheckKind, Outcome, check_kind
from ckaprep.grading.checks.constraints import fingerprint

__all__ = ["COMMON_FIELDS", "KINDS", "CheckKind", "Outcome", "check_kind", "fingerprint"]
