"""curl probes run inside a pod, and what their exit codes mean."""

from __future__ import annotations

from dataclasses import dataclass

CURL_TIMEOUT_S = 4
STATUS_MARKER = "\n__ckaprep_http_status="

# curl exit codes that tell the learner what went wrong on the way.
CURL_CAUSES = {
    6: "DNS lookup failed",
    7: "connection refused",
    28: "timed out",
    52: "empty reply from server",
    56: "connection reset",
}


def curl_argv(url: str, timeout_s: int = CURL_TIMEOUT_S) -> list[str]:
    return [
        "curl", "-sS", "--max-time", str(timeout_s), "--connect-timeout", str(timeout_s - 1),
        "-o", "-", "-w", STATUS_MARKER + "%{http_code}", url,
    ]  # fmt: skip


@dataclass(frozen=True)
class ProbeResult:
    url: str
    exit_code: int | None
    http_status: int | None
    body: str
    stderr: str

    @property
    def answered_by(self) -> str:
        """The backends answer with their pod name on the first line."""
        return self.body.strip().splitlines()[0].strip() if self.body.strip() else ""

    @property
    def cause(self) -> str:
        if self.exit_code == 0:
            return f"HTTP {self.http_status}"
        if self.exit_code is None:
            return "no exit status from the probe"
        known = CURL_CAUSES.get(self.exit_code)
        return f"{known} (curl exit {self.exit_code})" if known else (
            f"curl exit {self.exit_code}: {self.stderr.strip() or 'no detail'}"
        )


def parse_curl_output(url: str, exit_code: int | None, stdout: str, stderr: str) -> ProbeResult:
    body, _, status = stdout.rpartition(STATUS_MARKER)
    if not _:
        body, status = stdout, ""
    return ProbeResult(
        url=url,
        exit_code=exit_code,
        http_status=int(status) if status.strip().isdigit() else None,
        body=body,
        stderr=stderr,
    )


def cluster_domain_from_resolv_conf(text: str, namespace: str) -> str | None:
    """The pod's search path starts with `<ns>.svc.<domain>`."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "search":
            prefix = f"{namespace}.svc."
            for entry in fields[1:]:
                if entry.startswith(prefix):
                    return entry[len(prefix):]
    return None
