"""DNS lookups run inside a pod with `nslookup`, and what their answers mean.

Busybox's `nslookup` (in the busybox image and in the curl image) asks the
pod's nameserver for one record type. Names are always looked up fully
qualified (with a trailing dot), so the pod's search path never changes the
question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LOOKUP_TIMEOUT_S = 4  # per name, generous: cluster DNS answers its own names at once
# Marks a batch of lookups in the argument vector (the shell's $0), and ends each answer.
DNS_MARKER = "ckaprep-dns"
RESULT_MARKER = "__ckaprep_dns__"
# Each pair of arguments is a record type and a name; nslookup's answer, then its exit status.
SCRIPT = f'while [ $# -ge 2 ]; do nslookup -type="$1" "$2" 2>&1; echo "{RESULT_MARKER} $?"; shift 2; done'
RECORD_TYPES = ("A", "SRV")

OK, NXDOMAIN, NODATA, ERROR = "ok", "nxdomain", "nodata", "error"


@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str  # without the trailing dot


@dataclass(frozen=True)
class DnsAnswer:
    name: str  # as asked, without the trailing dot
    rtype: str
    status: str  # ok, nxdomain (no such name), nodata (the name exists, not this type), error
    addresses: tuple[str, ...] = ()
    srv: tuple[SrvRecord, ...] = field(default_factory=tuple)
    detail: str = ""

    @property
    def cause(self) -> str:
        """What the lookup returned, in a few words."""
        if self.status == OK and self.rtype == "SRV":
            return "SRV " + ", ".join(f"{r.port} {r.target}" for r in self.srv)
        if self.status == OK:
            return ", ".join(self.addresses)
        if self.status == NXDOMAIN:
            return "no such name (NXDOMAIN)"
        if self.status == NODATA:
            return f"the name exists but has no {self.rtype} record"
        return f"lookup failed: {self.detail or 'no detail'}"


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def plain(name: str) -> str:
    """A name as people write it: lower case, no trailing dot, no spaces around it."""
    return name.strip().rstrip(".").lower()


def nslookup_argv(queries: list[tuple[str, str]]) -> list[str]:
    """One shell in the pod runs every lookup in turn; names and types are arguments, never
    part of the script."""
    argv = ["sh", "-c", SCRIPT, DNS_MARKER]
    for rtype, name in queries:
        if rtype not in RECORD_TYPES:
            raise ValueError(f"record type {rtype!r} is not one of {', '.join(RECORD_TYPES)}")
        argv += [rtype.lower(), fqdn(name)]
    return argv


def nslookup_exec_timeout_s(queries: list[tuple[str, str]]) -> float:
    return LOOKUP_TIMEOUT_S * len(queries) + 6


def queries_of(argv: list[str]) -> list[tuple[str, str]]:
    """The (type, name) pairs of an `nslookup_argv`, for a simulated pod to answer."""
    rest = argv[4:]
    return [(rest[i].upper(), rest[i + 1]) for i in range(0, len(rest) - 1, 2)]


_ADDRESS = re.compile(r"^Address:\s*(\S+)\s*$")
_SRV = re.compile(r"service\s*=\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)")
_RESULT = re.compile(rf"^{RESULT_MARKER} (\d+)\s*$", re.MULTILINE)


def parse_nslookup_output(
    queries: list[tuple[str, str]], exit_code: int | None, stdout: str, stderr: str
) -> list[DnsAnswer]:
    """One answer per query, from the output of `nslookup_argv(queries)`.

    A query without its result line (no nslookup in the image, the exec cut
    short) is an error that names what the pod said.
    """
    answers = []
    chunks = _RESULT.split(stdout)  # text, status, text, status, ..., rest
    for index, (rtype, name) in enumerate(queries):
        asked = name.rstrip(".")
        if 2 * index + 1 >= len(chunks):
            said = " ".join((stderr or chunks[-1] or "").split())[:200]
            detail = said or f"no answer from the pod (exec exit {exit_code})"
            answers.append(DnsAnswer(asked, rtype, ERROR, detail=detail))
            continue
        text, status = chunks[2 * index], int(chunks[2 * index + 1])
        answers.append(_answer(asked, rtype, text, status))
    return answers


def _answer(name: str, rtype: str, text: str, status: int) -> DnsAnswer:
    lines = [line.strip() for line in text.splitlines()]
    if rtype == "SRV":
        srv = tuple(
            SrvRecord(int(m[1]), int(m[2]), int(m[3]), m[4].rstrip("."))
            for m in (_SRV.search(line) for line in lines)
            if m
        )
        if srv:
            return DnsAnswer(name, rtype, OK, srv=srv)
    else:
        # The server's own address comes first; the records follow the "Name:" line.
        seen_name, addresses = False, []
        for line in lines:
            if line.startswith("Name:"):
                seen_name = True
            elif seen_name and (m := _ADDRESS.match(line)):
                addresses.append(m[1])
        if addresses:
            return DnsAnswer(name, rtype, OK, addresses=tuple(addresses))
    if "NXDOMAIN" in text:
        return DnsAnswer(name, rtype, NXDOMAIN)
    if "No answer" in text or status == 0:
        return DnsAnswer(name, rtype, NODATA)
    said = " ".join(line for line in lines if line and not line.startswith(("Server:", "Address:")))
    return DnsAnswer(name, rtype, ERROR, detail=said[:200] or f"nslookup exit {status}")


def dashed(ip: str) -> str:
    """A pod's A record name starts with its IP, dots (or colons) turned into dashes."""
    return ip.replace(".", "-").replace(":", "-")
