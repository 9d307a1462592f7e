"""What each cluster was found to offer, kept for an hour so that `list` never has to ask.

A cluster is its API server's URL and the kubeconfig context naming it, read from the
kubeconfig files without the kubernetes client (which `list` must not load). What the files
say is kept too, by their size, times and inode, so an unchanged kubeconfig is not parsed
again; only the context names and server URLs are kept, never a credential.

`doctor` finds everything out and replaces the entry; `start`, `exam start` and `classroom
exam` find out what they need when the entry is missing or older than an hour, and add it.
`list` and `next` only read the entry. The file is written atomically; one that cannot be
read counts as empty, and deleting it at any time is safe.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from ckaprep.catalogue.capabilities import NODES, Capabilities, Requirement, all_requirements
from ckaprep.parsed_cache import cache_dir

CACHE_FILE = "capabilities.json"
FRESH_FOR = timedelta(hours=1)
DEFAULT_KUBECONFIG = os.path.join("~", ".kube", "config")


@dataclass(frozen=True)
class Known:
    """A cluster's capabilities as last found, and when."""

    capabilities: Capabilities
    found_at: datetime

    def fresh(self, now: datetime) -> bool:
        return timedelta(0) <= now - self.found_at < FRESH_FOR


class CapabilityCache:
    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def for_environ(cls, environ: Mapping[str, str]) -> CapabilityCache:
        return cls(cache_dir(environ) / CACHE_FILE)

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict) -> None:
        """Atomically; a cache that cannot be written is only slower next time."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            import tempfile  # only when writing: reading, on the way to a kept page, must start fast

            handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".capabilities-")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(name, self.path)
        except OSError:
            pass

    def get(self, cluster: str | None) -> Known | None:
        if cluster is None:
            return None
        entry = (self._read().get("clusters") or {}).get(cluster)
        if not isinstance(entry, dict):
            return None
        capabilities = Capabilities.from_json(entry.get("capabilities"))
        try:
            found_at = datetime.fromisoformat(entry.get("found_at", ""))
        except (TypeError, ValueError):
            return None
        if capabilities is None or found_at.tzinfo is None:
            return None
        return Known(capabilities, found_at)

    def fresh(self, cluster: str | None, now: datetime) -> Capabilities | None:
        known = self.get(cluster)
        return known.capabilities if known is not None and known.fresh(now) else None

    def put(self, cluster: str | None, capabilities: Capabilities, now: datetime, *, replace: bool = False) -> None:
        """Keep what was found; unless `replace`, merged into a fresh entry's other findings."""
        if cluster is None:
            return
        data = self._read()
        clusters = data.get("clusters")
        clusters = clusters if isinstance(clusters, dict) else {}
        earlier = None if replace else self.fresh(cluster, now)
        merged = earlier.merged(capabilities) if earlier is not None else capabilities
        clusters[cluster] = {"found_at": now.isoformat(), "capabilities": merged.to_json()}
        data["clusters"] = clusters
        self._write(data)

    # -- which cluster: the kubeconfig, read without the kubernetes client -----------------------
    def cluster_of(self, environ: Mapping[str, str], kubeconfig: str | None, context: str | None) -> str | None:
        """`<server URL> <context>` of the cluster these settings reach; None when no kubeconfig
        file names one (inside a Pod, say)."""
        paths = _kubeconfig_paths(environ, kubeconfig)
        stamps = [(str(p), _stamp(p)) for p in paths]
        stamps = [(p, s) for p, s in stamps if s is not None]
        if not stamps:
            return None
        key = json.dumps(stamps)
        data = self._read()
        memo = data.get("kubeconfigs")
        memo = memo if isinstance(memo, dict) else {}
        seen = memo.get(key)
        if not isinstance(seen, dict):
            seen = _read_kubeconfigs([Path(p) for p, _ in stamps])
            if seen is None:
                return None
            data["kubeconfigs"] = {key: seen}  # only the files in use now are worth keeping
            self._write(data)
        name = context or seen.get("current")
        server = (seen.get("contexts") or {}).get(name) if isinstance(name, str) else None
        return f"{server} {name}" if isinstance(server, str) and server else None


def _kubeconfig_paths(environ: Mapping[str, str], kubeconfig: str | None) -> list[Path]:
    """The files kubectl would read, in its order: --kubeconfig, else $KUBECONFIG, else ~/.kube/config."""
    home = environ.get("HOME") or os.path.expanduser("~")
    if kubeconfig:
        raw = [kubeconfig]
    elif environ.get("KUBECONFIG"):
        raw = [p for p in environ["KUBECONFIG"].split(os.pathsep) if p]
    else:
        raw = [DEFAULT_KUBECONFIG]
    return [Path(home + p[1:] if p.startswith("~") else p) for p in raw]


def _stamp(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] if path.is_file() else None


def _read_kubeconfigs(paths: list[Path]) -> dict | None:
    """{"current": context name, "contexts": {name: server URL}}, merged as kubectl merges
    files (the first file to set a value wins); None when the files cannot be read."""
    from ruamel.yaml import YAML

    current = None
    contexts: dict = {}
    clusters: dict = {}
    for path in paths:
        try:
            document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        except Exception:  # a broken kubeconfig is for the command that connects to report
            return None
        if not isinstance(document, dict):
            continue
        if current is None and isinstance(document.get("current-context"), str) and document["current-context"]:
            current = document["current-context"]
        for item in document.get("contexts") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("context"), dict):
                contexts.setdefault(item["name"], item["context"].get("cluster"))
        for item in document.get("clusters") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("cluster"), dict):
                clusters.setdefault(item["name"], item["cluster"].get("server"))
    servers = {
        name: clusters.get(cluster) for name, cluster in contexts.items() if isinstance(clusters.get(cluster), str)
    }
    return {"current": current, "contexts": servers}


# -- what a command needs, found out or read -----------------------------------------------------
def needed(exercises: Iterable) -> list[Requirement]:
    """Everything these exercises (and their faults) require, each capability once."""
    found: dict[str, Requirement] = {}
    for exercise in exercises:
        for requirement in all_requirements(exercise):
            current = found.get(requirement.capability)
            if current is None or requirement.count > current.count:
                found[requirement.capability] = requirement
    return list(found.values())


def to_try(requirements: Iterable[Requirement]) -> set[str]:
    """What capability_probe must try for these requirements."""
    from ckaprep.grading.capability_probe import CROSS_NODE

    want = {r.capability for r in requirements}
    if any(r.capability == NODES and r.count > 1 for r in requirements):
        want.add(CROSS_NODE)
    return want


def capabilities_for(
    exercises: Iterable,
    *,
    cache: CapabilityCache,
    cluster_name: str | None,
    now: datetime,
    probe: Callable[[set[str]], Capabilities] | None = None,
) -> Capabilities | None:
    """What the cluster offers, as far as these exercises need it: a fresh cached record, else
    (with `probe`) what `probe(want)` finds, which is kept. None when nothing is needed, or
    nothing is known and `probe` is not given."""
    requirements = needed(exercises)
    if not requirements:
        return None
    known = cache.fresh(cluster_name, now)
    if probe is None or (known is not None and not known.unknown(requirements)):
        return known
    missing = known.unknown(requirements) if known is not None else requirements
    found = probe(to_try(missing))
    if found != Capabilities():  # nothing found out (a classroom seat may not try): nothing to keep
        cache.put(cluster_name, found, now)
    return known.merged(found) if known is not None else found
