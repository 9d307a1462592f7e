"""The exercise model: an exercise file as loaded, and what it gives each attempt (parameters,
task, setup, checks, hints, solution).

Loading and validation are in `loading` and `validation`; fault pools in `faults`.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from ckaprep.catalogue.capabilities import Requirement
from ckaprep.catalogue.check_fields import COMMON_FIELDS
from ckaprep.catalogue.faults import draw_faults, drawn_faults, with_faults
from ckaprep.catalogue.templating import PLACEHOLDER, render
from ckaprep.cluster import KINDS as CLUSTER_KINDS
from ckaprep.cluster.service_range import NoServiceRange, address_in_use, claimed_addresses, service_range
from ckaprep.errors import printable

# Exercise ids and proof names are names, never paths: a DNS-label-like word.
NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
FRESH_START = "fresh-start"  # the implicit proof every exercise carries: nothing done scores 0%
READ_ONLY_VERBS = {"get", "wait", "describe"}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    kind: str
    title: str
    weight: int
    hint: str
    fields: dict[str, Any]
    constraint: bool = False


@dataclass(frozen=True)
class Proof:
    """An answer written as a learner would make it, and the verdict it must get.

    No `fails` means a right answer (100%); otherwise the listed checks must
    fail, those in `may_fail` may, and every other check must pass.
    """

    name: str
    steps: list[dict]
    fails: tuple[str, ...] = ()
    may_fail: tuple[str, ...] = ()
    says: dict[str, str] = field(default_factory=dict)
    wait: float | None = None
    faults: tuple[str, ...] = ()  # the draw this proof pins, in an exercise with a fault pool

    @property
    def is_right(self) -> bool:
        return not self.fails

    @property
    def style(self) -> str:
        """imperative (kubectl commands only), declarative (YAML only) or mixed.

        Steps that only read or wait (a capture, `get`, `wait`) have no style.
        """
        acting = [
            s
            for s in self.steps
            if "capture" not in s and not ("kubectl" in s and str(s["kubectl"][0]) in READ_ONLY_VERBS)
        ]
        applies = sum("apply" in s for s in acting)
        if not applies:
            return "imperative"
        return "declarative" if applies == len(acting) else "mixed"


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    difficulty: str
    minutes: int
    weight: int
    topics: tuple[str, ...]
    params: dict[str, dict]
    task: str
    checks: list[dict]
    hints: list[str]
    solution: dict[str, str]
    summary: str = ""
    namespaces: list[str] = field(default_factory=lambda: ["${namespace}"])
    setup: list[dict] = field(default_factory=list)
    setup_wait: str = "ready"
    notes: str = ""
    proofs: list[Proof] = field(default_factory=list)
    source: str = ""
    faults: dict = field(default_factory=dict)
    # Which checks grade each sentence of the task, and the sentences that only describe the
    # setup (see ckaprep/catalogue/requirements.py).
    requirements: list[dict] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    # Each field whose text held a control character, with the first one escaped: the text
    # shown to the learner (title, task, hints, check titles, solution) shows it escaped.
    control_characters: tuple[tuple[str, str], ...] = ()
    # What the exercise needs from the cluster (see ckaprep/catalogue/capabilities.py).
    requires: tuple[Requirement, ...] = ()

    def choose_params(
        self, seed: int, faults: list[str] | None = None, fixed: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The attempt's parameters; `fixed` ones (a classroom seat's namespaces) are given, not
        drawn, and the parameters built on them follow. The seed draws the rest the same way.
        `faults` pins the draw of an exercise with a fault pool (a proof does)."""
        rng = random.Random(seed)
        chosen: dict[str, Any] = {}
        for name, spec in self.params.items():
            avoid = {chosen[other] for other in spec.get("avoid", [])}
            for _ in range(100):
                value = _draw(spec, rng, chosen)
                if value not in avoid:
                    break
            chosen[name] = fixed[name] if fixed and name in fixed else value
        if self.faults:
            chosen = with_faults(self.faults, chosen, faults or draw_faults(self.faults, rng))
        return chosen

    def namespace_params(self) -> list[str | None]:
        """For each entry of `namespaces`, the parameter it names on its own (None for a template
        that builds a name from several parts)."""
        names = []
        for entry in self.namespaces:
            match = PLACEHOLDER.fullmatch(entry.strip()) if isinstance(entry, str) else None
            if match is not None and not match.group(2) and match.group(1) in self.params:
                names.append(match.group(1))
            else:
                names.append(None)
        return names

    def resolve_cluster_params(self, params: dict[str, Any], cluster) -> dict[str, Any]:
        """The parameters with those read from the cluster filled in; `start` calls this once.

        A `service_cidr_offset` parameter becomes the address its offset parameter's number of
        places above the base of the cluster's Service range. When one of those addresses is
        taken, the offset moves up (wrapping within its `int` bounds) until all are free, so
        the task, the checks and the solution always agree on a usable address.
        """
        names = [n for n, spec in self.params.items() if "service_cidr_offset" in spec]
        if not names:
            return params
        found = service_range(cluster)
        claimed = claimed_addresses(cluster)
        resolved = dict(params)
        for offset_name in dict.fromkeys(self.params[n]["service_cidr_offset"] for n in names):
            users = [n for n in names if self.params[n]["service_cidr_offset"] == offset_name]
            low, high = self.params[offset_name]["int"]
            span, first = high - low + 1, int(params[offset_name])
            for step in range(span):
                offset = low + (first - low + step) % span
                addresses = {n: found.address(offset + self.params[n].get("plus", 0)) for n in users}
                if all(
                    found.holds(a) and a not in claimed and not address_in_use(cluster, a) for a in addresses.values()
                ):
                    break
            else:
                raise NoServiceRange(f"no free address in {found.text} between {low} and {high} places above its base")
            resolved[offset_name] = offset
            resolved.update(addresses)
        for name, spec in self.params.items():  # templates built on what changed
            if "template" in spec:
                resolved[name] = render(spec["template"], resolved)
        return resolved

    def cluster_addresses(self, params: dict[str, Any]) -> list[str]:
        """The addresses read from the cluster at start, which the attempt claims."""
        return [str(params[n]) for n, spec in self.params.items() if "service_cidr_offset" in spec and n in params]

    def task_for(self, params) -> str:
        """The task the learner reads, with the attempt's values."""
        return printable(render(self.task, params))

    def hints_for(self, params) -> list[str]:
        """The exercise's hints, then those of the faults drawn."""
        extra = [h for fault in drawn_faults(self.faults, params) for h in fault.get("hints", [])]
        return [printable(hint) for hint in render(list(self.hints) + extra, params)]

    def solution_for(self, params) -> dict[str, str]:
        """The exercise's solution, followed by that of each fault drawn."""
        solution = dict(self.solution)
        for fault in drawn_faults(self.faults, params):
            for key in ("kubectl", "yaml"):
                joint = "---\n" if key == "yaml" else ""
                solution[key] = solution[key].rstrip("\n") + "\n" + joint + fault["solution"][key]
        return {key: printable(text) for key, text in render(solution, params).items()}

    def render(self, data: Any, params: dict[str, Any]) -> Any:
        return render(data, params)

    def namespaces_for(self, params) -> list[str]:
        return [str(ns) for ns in render(self.namespaces, params)]

    def setup_for(self, params) -> list[dict]:
        """The setup's manifests; a drawn fault's own `setup` manifests take the place of the
        setup manifest of the same kind, name and namespace, and are added after it otherwise."""
        primary = self.namespaces_for(params)[0]
        manifests = render(self.setup, params)
        for fault in drawn_faults(self.faults, params):
            for manifest in render(fault.get("setup") or [], params):
                key = _manifest_key(manifest, primary)
                same = [i for i, m in enumerate(manifests) if _manifest_key(m, primary) == key]
                if same:
                    manifests[same[0]] = manifest
                else:
                    manifests.append(manifest)
        for manifest in manifests:
            kind_is_namespaced = CLUSTER_KINDS[manifest["kind"]][2]
            if kind_is_namespaced:
                manifest.setdefault("metadata", {}).setdefault("namespace", primary)
        return manifests

    def checks_for(self, params) -> list[CheckSpec]:
        result = []
        for raw in self.checks:
            rendered = render(raw, params)
            fields = {k: v for k, v in rendered.items() if k not in COMMON_FIELDS}
            result.append(
                CheckSpec(
                    id=rendered["id"],
                    kind=rendered["kind"],
                    title=printable(rendered["title"]),
                    weight=rendered.get("weight", 1),
                    hint=printable(rendered.get("hint", "")),
                    fields=fields,
                    constraint=rendered.get("constraint", False),
                )
            )
        return result

    def to_summary(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "difficulty": self.difficulty,
            "minutes": self.minutes,
            "weight": self.weight,
            "topics": list(self.topics),
            "summary": self.summary,
        }


def _manifest_key(manifest: dict, primary: str) -> tuple:
    meta = manifest.get("metadata") or {}
    return manifest.get("kind"), meta.get("name"), meta.get("namespace") or primary


def _draw(spec: dict, rng: random.Random, chosen: dict) -> Any:
    if "pick" in spec:
        # A choice may build on earlier parameters, e.g. a typo of ${app}.
        return render(rng.choice(spec["pick"]), chosen)
    if "int" in spec:
        low, high = spec["int"]
        return rng.randint(low, high)
    if "prefix" in spec:
        suffix = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))
        prefix = spec["prefix"]
        return f"{rng.choice(prefix) if isinstance(prefix, list) else prefix}-{suffix}"
    if "template" in spec:
        return render(spec["template"], chosen)
    if "service_cidr_offset" in spec:  # read from the cluster at start; until then, what it will be
        offset = int(chosen[spec["service_cidr_offset"]]) + spec.get("plus", 0)
        return f"<the address {offset} above the base of the Service range>"
    return spec["value"]
