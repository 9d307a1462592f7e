"""Where the test cluster's tools are, for unit and e2e tests alike."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTCLUSTER = REPO_ROOT / "scripts" / "testcluster"


def must_have_cluster() -> bool:
    """In CI (and with CKAPREP_E2E=1) the test cluster and its tools are there: a missing one is a failure."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("CKAPREP_E2E") == "1"


def find_kubectl() -> str | None:
    """CKAPREP_KUBECTL, else the kubectl built by scripts/testcluster, else one on PATH."""
    explicit = os.environ.get("CKAPREP_KUBECTL")
    if explicit:
        return explicit
    try:
        out = subprocess.run([str(TESTCLUSTER), "env"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    m = re.search(r"PATH=([^:\s]+):", out)
    if m and (Path(m.group(1)) / "kubectl").is_file():
        return str(Path(m.group(1)) / "kubectl")
    return shutil.which("kubectl")


def namespace_state(kubectl: Callable[..., subprocess.CompletedProcess], name: str) -> str:
    """ "gone" (the API answers NotFound), else the namespace's phase; any other error fails the test,
    so an API server that is down never passes for a deleted namespace."""
    found = kubectl("get", "namespace", name, "-o", "jsonpath={.status.phase}", check=False)
    if found.returncode == 0:
        return found.stdout.strip()
    if "NotFound" in found.stderr:
        return "gone"
    pytest.fail(f"kubectl get namespace {name} exited {found.returncode}: {found.stderr.strip()}")
