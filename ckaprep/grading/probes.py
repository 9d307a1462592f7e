"""curl probes run inside a pod, and what their exit codes mean."""

from __future__ import annotations

from dataclasses import dataclass

CURL_TIMEOUT_S = 4
# After each URL curl writes this marker, then its exit code, HTTP status, time and error message.
RESULT_MARKER = "\n__ckaprep_result__ "
WRITE_OUT = RESULT_MARKER + "%{exitcode} %{http_code} %{time_total} %{errormsg}\n"

# curl exit codes that tell the learner what went wrong on the way.
CURL_CAUSES = {
    6: "DNS lookup failed",
    7: "connection refused",
    28: "timed out",
    52: "empty reply from server",
    56: "connection reset",
}


def curl_argv(urls: list[str], timeout_s: int = CURL_TIMEOUT_S) -> list[str]:
    """One curl for several URLs (`--next`), each with its own result line; `--url` keeps a URL
    from ever being read as an option."""
    argv = ["curl"]
    for index, url in enumerate(urls):
        if index:
            argv.append("--next")
        argv += [
            "-sS",
            "--max-time",
            str(timeout_s),
            "--connect-timeout",
            str(timeout_s - 1),
            "-o",
            "-",
            "-w",
            WRITE_OUT,
            "--url",
            url,
        ]
    return argv


def curl_exec_timeout_s(urls: list[str], timeout_s: int = CURL_TIMEOUT_S) -> float:
    return timeout_s * len(urls) + 6


@dataclass(frozen=True)
class ProbeResult:
    url: str
    exit_code: int | None
    http_status: int | None
    body: str
    stderr: str
    time_s: float | None = None

    @property
    def answered_by(self) -> str:
        """The backends answer with their pod name on the first line."""
        return self.body.strip().splitlines()[0].strip() if self.body.strip() else ""

    @property
    def cause(self) -> str:
        if self.exit_code == 0:
            return f"HTTP {self.http_status}"
        if self.exit_code is None:
            return (
                f"no result from the probe ({self.stderr.strip()})"
                if self.stderr.strip()
                else ("no exit status from the probe")
            )
        if self.exit_code == 28 and "resolv" in self.stderr.lower():
            return "DNS lookup timed out (curl exit 28)"  # no answer from cluster DNS at all
        known = CURL_CAUSES.get(self.exit_code)
        return (
            f"{known} (curl exit {self.exit_code})"
            if known
            else (f"curl exit {self.exit_code}: {self.stderr.strip() or 'no detail'}")
        )


def parse_curl_output(urls: list[str], exit_code: int | None, stdout: str, stderr: str) -> list[ProbeResult]:
    """One result per URL, from the output of `curl_argv(urls)`.

    A URL without a result line (curl missing, the exec cut short) gets the exec's
    exit code and error output, so the cause is still named.
    """
    chunks = stdout.split(RESULT_MARKER)
    results, body = [], chunks[0]
    for index, url in enumerate(urls):
        if index + 1 < len(chunks):
            line, _, rest = chunks[index + 1].partition("\n")
            code, status, seconds, message = (line.split(" ", 3) + ["", "", "", ""])[:4]
            results.append(
                ProbeResult(
                    url=url,
                    exit_code=int(code) if code.isdigit() else None,
                    http_status=int(status) if status.isdigit() else None,
                    body=body,
                    stderr=message,
                    time_s=_float_or_none(seconds),
                )
            )
            body = rest
        else:
            missing_code = exit_code if exit_code not in (0, None) else None
            results.append(ProbeResult(url, missing_code, None, body, stderr))
            body = ""
    return results


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def cluster_domain_from_resolv_conf(text: str, namespace: str) -> str | None:
    """The pod's search path starts with `<ns>.svc.<domain>`."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "search":
            prefix = f"{namespace}.svc."
            for entry in fields[1:]:
                if entry.startswith(prefix):
                    return entry[len(prefix) :]
    return None
