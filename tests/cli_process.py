"""Running the real entry point, `python -m ckaprep`, in a child process as a learner would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from ckaprep.exit_status import ExitStatus

# Every code a script may see; BUG (70) is documented too, but a test that meets it found a bug.
EXPECTED_STATUSES = {int(s) for s in ExitStatus} - {int(ExitStatus.BUG)}


def child_env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        "CKAPREP_HOME": str(home / "state"),
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
    }
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


def run_ckaprep(home: Path, *args: str | bytes, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """Arguments may be bytes, to pass what is not UTF-8. Output is decoded leniently."""
    result = subprocess.run(
        [sys.executable, "-m", "ckaprep", *args],
        capture_output=True,
        env=child_env(home, **env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        cwd=home,
    )
    result.stdout = result.stdout.decode("utf-8", "backslashreplace")
    result.stderr = result.stderr.decode("utf-8", "backslashreplace")
    return result


def stderr_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line_error(result, status: int, *texts: str) -> str:
    """Exit status as documented, no traceback, one line on stderr holding every text."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert result.returncode == status, (result.returncode, result.stderr)
    for text in texts:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_kubeconfig(path: Path, server: str, *, user: dict | None = None, cluster: dict | None = None) -> Path:
    import json

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {"insecure-skip-tls-verify": True})}}],
        "users": [{"name": "u", "user": user or {"token": "not-a-real-token"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    path.write_text(json.dumps(config))  # JSON is YAML
    return path
