"""Labels that mark what ckaprep created. Nothing without them is ever changed or deleted.

Also the names a classroom gives its seats' ServiceAccounts, which the cluster seam reads to
explain a rejected token."""

import re

OWNER_LABEL = "app.kubernetes.io/managed-by"
OWNER_VALUE = "ckaprep"
EXERCISE_LABEL = "ckaprep.io/exercise"
# The attempt (and exam) a namespace was created for. A namespace is deleted only when both
# this and the ownership label match, so one state directory never takes another's namespace.
ATTEMPT_LABEL = "ckaprep.io/attempt"
EXAM_LABEL = "ckaprep.io/exam"
ROLE_LABEL = "ckaprep.io/role"
PROBE_ROLE = "probe"


def is_owned(obj: dict | None) -> bool:
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(OWNER_LABEL) == OWNER_VALUE


def attempt_of(obj: dict | None) -> str | None:
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(ATTEMPT_LABEL)


def belongs_to(obj: dict | None, attempt_id: str | None) -> bool:
    """Owned by ckaprep and created for this attempt. An attempt from before attempt ids
    (None) matches only namespaces without an attempt label."""
    return is_owned(obj) and attempt_of(obj) == attempt_id


def is_probe_pod(pod: dict) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get(ROLE_LABEL) == PROBE_ROLE


def matches(selector: dict[str, str] | None, labels: dict[str, str] | None) -> bool:
    """Equality-based selection, as a Service selector works. An empty selector matches nothing."""
    if not selector:
        return False
    labels = labels or {}
    return all(labels.get(key) == value for key, value in selector.items())


def selector_string(selector: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in selector.items())


def parse_selector(text: str | dict) -> dict[str, str]:
    if isinstance(text, dict):
        return {str(k): str(v) for k, v in text.items()}
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    return {k.strip(): v.strip() for k, v in pairs}


# A class's name, and the namespace (CLASS-seats) that holds its seats' ServiceAccounts.
CLASS_NAME = re.compile(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?")
ACCOUNTS_SUFFIX = "-seats"


def seat_of_account(namespace: str, name: str) -> str | None:
    """The home namespace of the seat a ServiceAccount is for (CLASS-03 in CLASS-seats gives
    CLASS-03-a), or None when it is no seat's account."""
    if not namespace.endswith(ACCOUNTS_SUFFIX):
        return None
    class_name = namespace[: -len(ACCOUNTS_SUFFIX)]
    number = name[len(class_name) + 1 :] if name.startswith(class_name + "-") else ""
    if not (CLASS_NAME.fullmatch(class_name) and number.isdigit()):
        return None
    return f"{name}-a"
