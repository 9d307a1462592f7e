"""What an exercise needs from the cluster (`requires`), and whether a cluster offers it.

The data side only: parsing and checking `requires` in exercise files and fault pools, the
capabilities a cluster was found to have (see `ckaprep.grading.capability_probe` for how they
are found, by trying), and which exercises and faults those capabilities leave out.

An exercise file (or a fault of a fault pool) may say

    requires: [network-policy]          # NetworkPolicy is enforced
    requires: [{nodes: 2}]              # at least 2 schedulable nodes (and Services work across them)
    requires: [dual-stack]              # Services and Pods get IPv4 and IPv6 addresses
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

NETWORK_POLICY, DUAL_STACK, NODES = "network-policy", "dual-stack", "nodes"
FLAGS = (NETWORK_POLICY, DUAL_STACK)  # the capabilities written as a word
CAPABILITIES = (*FLAGS, NODES)


@dataclass(frozen=True)
class Requirement:
    """One item of `requires`: a capability, and for `nodes` how many."""

    capability: str
    count: int = 1

    @property
    def text(self) -> str:
        """As an exercise file writes it: `network-policy`, `nodes: 2`."""
        return f"{NODES}: {self.count}" if self.capability == NODES else self.capability

    @property
    def described(self) -> str:
        """What it asks of the cluster, in words."""
        if self.capability == NODES:
            return f"{self.count} schedulable node" + ("s" if self.count != 1 else "")
        return {NETWORK_POLICY: "NetworkPolicy enforced", DUAL_STACK: "dual-stack (IPv4 and IPv6)"}[self.capability]

    def to_json(self) -> Any:
        return {NODES: self.count} if self.capability == NODES else self.capability


class RequiresError(ValueError):
    """A malformed `requires`: the field (relative to `requires`) and the problem."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field, self.problem = field, problem


def parse_requires(value: Any) -> tuple[Requirement, ...]:
    """`requires` as written in a file, checked; a RequiresError names the item and the problem."""
    shape = "a list of capabilities: network-policy, dual-stack or {nodes: N}"
    if not isinstance(value, list):
        raise RequiresError("", f"must be {shape}")
    found: list[Requirement] = []
    for i, item in enumerate(value):
        where = f"[{i}]"
        if isinstance(item, str):
            if item not in FLAGS:
                import difflib  # only for a mistake: `list` reads capabilities and must start fast

                close = difflib.get_close_matches(item, CAPABILITIES, n=1, cutoff=0.5)
                guess = f"; did you mean {close[0]}?" if close else ""
                hint = " (write nodes as {nodes: N})" if item.strip().startswith(NODES) else ""
                raise RequiresError(
                    where, f"unknown capability {item!r}{guess}{hint} (known: {', '.join(FLAGS)}, {{nodes: N}})"
                )
            requirement = Requirement(item)
        elif isinstance(item, dict):
            keys = list(item)
            if keys != [NODES]:
                unknown = next((k for k in keys if k != NODES), keys[0] if keys else "")
                import difflib

                close = difflib.get_close_matches(str(unknown), CAPABILITIES, n=1, cutoff=0.5)
                guess = f"; did you mean {close[0]}?" if close else ""
                raise RequiresError(where, f"unknown capability {unknown!r}{guess}: a mapping is {{nodes: N}}")
            count = item[NODES]
            if not isinstance(count, int) or isinstance(count, bool) or count < 1:
                raise RequiresError(f"{where}.{NODES}", "must be a whole number of nodes, 1 or more")
            requirement = Requirement(NODES, count)
        else:
            raise RequiresError(where, f"must be {shape}")
        if any(r.capability == requirement.capability for r in found):
            raise RequiresError(where, f"{requirement.capability} is required twice")
        found.append(requirement)
    return tuple(found)


@dataclass(frozen=True)
class Capabilities:
    """What a cluster was found to offer; None where it was not found out."""

    nodes: int | None = None  # schedulable nodes
    network_policy: bool | None = None  # a deny policy really stops a connection
    cross_node: bool | None = None  # a Service answers a Pod on another node (None with one node)
    dual_stack: bool | None = None  # a RequireDualStack Service is accepted

    def unmet(self, requires: Iterable[Requirement]) -> list[str]:
        """Each requirement this cluster is known not to meet, as one phrase."""
        reasons = []
        for requirement in requires:
            reason = self._unmet(requirement)
            if reason:
                reasons.append(reason)
        return reasons

    def _unmet(self, requirement: Requirement) -> str:
        if requirement.capability == NETWORK_POLICY and self.network_policy is False:
            return "NetworkPolicy is not enforced"
        if requirement.capability == DUAL_STACK and self.dual_stack is False:
            return "dual-stack (IPv4 and IPv6) Services are not available"
        if requirement.capability == NODES and self.nodes is not None and self.nodes < requirement.count:
            return f"{requirement.count} schedulable nodes needed, {self.nodes} found"
        if requirement.capability == NODES and requirement.count > 1 and self.cross_node is False:
            return "Service traffic between nodes fails"
        return ""

    def unknown(self, requires: Iterable[Requirement]) -> list[Requirement]:
        """The requirements this record cannot judge: not found out yet."""
        field = {NETWORK_POLICY: "network_policy", DUAL_STACK: "dual_stack", NODES: "nodes"}
        return [r for r in requires if getattr(self, field[r.capability]) is None]

    def merged(self, newer: Capabilities) -> Capabilities:
        """This record with what `newer` found out in place of the old values."""
        return Capabilities(
            **{
                name: getattr(newer, name) if getattr(newer, name) is not None else getattr(self, name)
                for name in ("nodes", "network_policy", "cross_node", "dual_stack")
            }
        )

    def to_json(self) -> dict:
        return {
            "nodes": self.nodes,
            "network_policy": self.network_policy,
            "cross_node": self.cross_node,
            "dual_stack": self.dual_stack,
        }

    @classmethod
    def from_json(cls, data: Any) -> Capabilities | None:
        """None for anything that is not such a record (a damaged cache entry)."""
        if not isinstance(data, Mapping):
            return None
        nodes = data.get("nodes")
        if nodes is not None and (not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 0):
            return None
        flags = {name: data.get(name) for name in ("network_policy", "cross_node", "dual_stack")}
        if any(v is not None and not isinstance(v, bool) for v in flags.values()):
            return None
        return cls(nodes=nodes, **flags)


# -- exercises and faults the capabilities leave out -----------------------------------------------
def fault_requires(fault: Mapping) -> tuple[Requirement, ...]:
    """A fault's `requires` (checked when its exercise was loaded)."""
    return parse_requires(fault["requires"]) if "requires" in fault else ()


def supported_faults(faults: Mapping, capabilities: Capabilities | None) -> list[str]:
    """The ids of a fault pool's faults this cluster is known to support. A fault whose
    requirement was not found out (credentials that may not try it, such as a classroom seat's)
    is left out: it might not show, and its check could not tell."""
    pool = faults.get("pool") or []
    if capabilities is None:
        return [fault["id"] for fault in pool if not fault_requires(fault)]
    return [
        fault["id"]
        for fault in pool
        if not capabilities.unmet(fault_requires(fault)) and not capabilities.unknown(fault_requires(fault))
    ]


def needs_fault_pin(faults: Mapping, capabilities: Capabilities | None) -> bool:
    return bool(faults) and len(supported_faults(faults, capabilities)) < len(faults.get("pool") or [])


def fault_draw(faults: Mapping, seed: int, capabilities: Capabilities | None) -> list[str] | None:
    """The faults an attempt with this seed draws when the cluster cannot support some of the
    pool: drawn by the seed among the others. None when every fault fits (the usual draw), or
    when no draw fits at all (see `unmet_reasons`)."""
    if not needs_fault_pin(faults, capabilities):
        return None
    usable = set(supported_faults(faults, capabilities))
    pool = [fault for fault in faults["pool"] if fault["id"] in usable]
    draws = [list(c) for c in itertools.combinations([f["id"] for f in pool], faults["draw"]) if _apart(pool, c)]
    if not draws:
        return None
    import random  # drawing happens at start, never in `list`

    return random.Random(seed).choice(draws)


def _apart(pool: list[Mapping], ids) -> bool:
    """No two of these faults touch the same thing (as a fault pool draws them)."""
    touched = [t for fault in pool if fault["id"] in ids for t in fault.get("touches", [])]
    return len(set(touched)) == len(touched)


def unmet_reasons(exercise, capabilities: Capabilities | None) -> list[str]:
    """Why this cluster cannot run the exercise; [] when it can, or when that is not known."""
    if capabilities is None:
        return []
    reasons = capabilities.unmet(exercise.requires)
    faults = exercise.faults
    if faults and needs_fault_pin(faults, capabilities):
        usable = supported_faults(faults, capabilities)
        if fault_draw(faults, 0, capabilities) is None:
            reasons.append(
                f"too few of its faults fit this cluster ({len(usable)}, and an attempt draws "
                f"{faults['draw']} that touch different things)"
            )
    return reasons


def needs_any(exercise) -> bool:
    """Whether the exercise, or any of its faults, requires something of the cluster."""
    return bool(exercise.requires) or any("requires" in f for f in (exercise.faults or {}).get("pool") or [])


def all_requirements(exercise) -> list[Requirement]:
    """The exercise's requirements and its faults', each capability once (the most nodes)."""
    found: dict[str, Requirement] = {}
    for fault in (exercise.faults or {}).get("pool") or []:
        for requirement in fault_requires(fault):
            found[requirement.capability] = max(
                found.get(requirement.capability, requirement), requirement, key=lambda r: r.count
            )
    for requirement in exercise.requires:
        found[requirement.capability] = max(
            found.get(requirement.capability, requirement), requirement, key=lambda r: r.count
        )
    return list(found.values())


@dataclass(frozen=True)
class Selection:
    """The exercises a cluster can run, and those left out with the reasons why."""

    kept: dict
    left_out: dict[str, list[str]]  # exercise id -> reasons
    known: bool  # False when the capabilities were not known (nothing was left out)

    def summary(self) -> str:
        """One line: how many were left out and why, or "" when none was."""
        if not self.left_out:
            return ""
        counts: dict[str, int] = {}
        for reasons in self.left_out.values():
            for reason in dict.fromkeys(reasons):
                counts[reason] = counts.get(reason, 0) + 1
        n = len(self.left_out)
        why = "; ".join(f"{reason} ({count} exercise{'s' if count != 1 else ''})" for reason, count in counts.items())
        return f"left out {n} exercise{'s' if n != 1 else ''} this cluster cannot support: {why}"


def select(exercises: Mapping[str, Any], capabilities: Capabilities | None) -> Selection:
    kept, left_out = {}, {}
    for exercise_id, exercise in exercises.items():
        reasons = unmet_reasons(exercise, capabilities)
        if reasons:
            left_out[exercise_id] = reasons
        else:
            kept[exercise_id] = exercise
    return Selection(kept, left_out, capabilities is not None)
