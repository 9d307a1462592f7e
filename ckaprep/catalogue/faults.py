"""Fault pools: the faults an attempt draws, and the parameters they break."""

from __future__ import annotations

import random
from typing import Any

from ckaprep.catalogue.templating import render
from ckaprep.errors import UsageError

# An exercise may carry `faults: {draw: N, pool: [...]}`: each attempt draws N faults whose
# `touches` do not overlap (so no fault hides or undoes another), and each drawn fault sets
# some parameters to its broken values, which the setup's templates then build on. The draw is
# kept in the attempt's params as `faults`.
FAULTS_PARAM = "faults"
FAULT_FIELDS = {"id", "title", "touches", "params", "setup", "hints", "solution", "requires"}


def fault_pool(faults: dict) -> dict[str, dict]:
    return {fault["id"]: fault for fault in faults.get("pool", [])}


def compatible(faults: dict, ids: list[str]) -> bool:
    pool = fault_pool(faults)
    touched = [t for i in ids for t in pool[i].get("touches", [])]
    return len(set(ids)) == len(ids) and len(set(touched)) == len(touched)


def draw_faults(faults: dict, rng: random.Random) -> list[str]:
    """`draw` faults at random, none touching what another touches."""
    ids = list(fault_pool(faults))
    for _ in range(1000):
        picked = rng.sample(ids, faults["draw"])
        if compatible(faults, picked):
            return picked
    raise ValueError("no compatible draw")  # validation makes sure one exists


def with_faults(faults: dict, params: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    pool = fault_pool(faults)
    unknown = [i for i in ids if i not in pool]
    if unknown:
        raise UsageError(f"no fault {unknown[0]!r} in this exercise (faults: {', '.join(pool)})")
    result = dict(params)
    for fault_id in ids:
        for name, value in (pool[fault_id].get("params") or {}).items():
            result[name] = render(value, params)
    result[FAULTS_PARAM] = list(ids)
    return result


def drawn_faults(faults: dict, params) -> list[dict]:
    pool = fault_pool(faults)
    return [pool[i] for i in params.get(FAULTS_PARAM) or [] if i in pool] if faults else []
