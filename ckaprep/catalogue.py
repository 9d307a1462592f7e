"""Exercise files: loading, validation and per-attempt rendering.

An exercise is one YAML file in `exercises/`. Every file is validated whole
on load; a malformed one is an error naming the file, the field and the
problem, and nothing of it is used.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from ckaprep.cluster import KINDS as CLUSTER_KINDS
from ckaprep.errors import ExerciseFileError, UsageError
from ckaprep.grading.checks import COMMON_FIELDS, KINDS as CHECK_KINDS
from ckaprep.templating import UnknownPlaceholder, render

# The topic vocabulary, each with the `ckaprep explain` page that teaches it.
TOPICS = {
    "create": "clusterip",
    "multi-port": "multi-port",
    "selectorless": "selectorless",
    "dns": "dns",
    "env-vars": "env-vars",
    "cluster-ip": "clusterip",
    "named-ports": "ports",
    "troubleshooting": "troubleshooting",
    "readiness": "selectors-and-endpoints",
}
DIFFICULTIES = ("easy", "medium", "hard")
SETUP_WAITS = ("ready", "running")
PARAM_KINDS = ("pick", "int", "prefix", "template", "value")

REQUIRED = {
    "id": str, "title": str, "difficulty": str, "minutes": int, "weight": int,
    "topics": list, "params": dict, "task": str, "checks": list, "hints": list, "solution": dict,
}  # fmt: skip
OPTIONAL = {"summary": str, "namespaces": list, "setup": list, "setup_wait": str, "notes": str}


def exercises_dir() -> Path:
    """Inside an installed wheel the data sits in the package; in a checkout, beside it."""
    packaged = Path(__file__).parent / "exercises"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "exercises"


@dataclass(frozen=True)
class CheckSpec:
    id: str
    kind: str
    title: str
    weight: int
    hint: str
    fields: dict[str, Any]


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
    source: str = ""

    def choose_params(self, seed: int) -> dict[str, Any]:
        rng = random.Random(seed)
        chosen: dict[str, Any] = {}
        for name, spec in self.params.items():
            avoid = {chosen[other] for other in spec.get("avoid", [])}
            for _ in range(100):
                value = _draw(spec, rng, chosen)
                if value not in avoid:
                    break
            chosen[name] = value
        return chosen

    def render(self, data: Any, params: dict[str, Any]) -> Any:
        return render(data, params)

    def namespaces_for(self, params) -> list[str]:
        return [str(ns) for ns in render(self.namespaces, params)]

    def setup_for(self, params) -> list[dict]:
        manifests = render(self.setup, params)
        primary = self.namespaces_for(params)[0]
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
                    id=rendered["id"], kind=rendered["kind"], title=rendered["title"],
                    weight=rendered.get("weight", 1), hint=rendered.get("hint", ""), fields=fields,
                )
            )  # fmt: skip
        return result

    def to_summary(self) -> dict:
        return {
            "id": self.id, "title": self.title, "difficulty": self.difficulty,
            "minutes": self.minutes, "weight": self.weight, "topics": list(self.topics),
            "summary": self.summary,
        }  # fmt: skip


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
    return spec["value"]


# -- validation -------------------------------------------------------------------------
class _Validator:
    def __init__(self, source: str):
        self.source = source

    def fail(self, field_path: str, problem: str):
        raise ExerciseFileError(self.source, field_path, problem)

    def exercise(self, data: Any) -> Exercise:
        if not isinstance(data, dict):
            self.fail("(top level)", "must be a mapping")
        for key, kind in REQUIRED.items():
            if key not in data:
                self.fail(key, "is required")
        for key, value in data.items():
            kind = REQUIRED.get(key) or OPTIONAL.get(key)
            if kind is None:
                self.fail(key, f"unknown field (allowed: {', '.join(sorted(REQUIRED | OPTIONAL))})")
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                self.fail(key, f"must be a {kind.__name__}, not {type(value).__name__}")
        self._metadata(data)
        self._params(data["params"])
        self._checks(data["checks"])
        self._setup(data.get("setup", []))
        if len(data["hints"]) < 2 or not all(isinstance(h, str) and h.strip() for h in data["hints"]):
            self.fail("hints", "needs at least two non-empty hints")
        for key in ("kubectl", "yaml"):
            if not isinstance(data["solution"].get(key), str):
                self.fail(f"solution.{key}", "is required and must be text")
        exercise = Exercise(
            **{k: v for k, v in data.items() if k != "topics"},
            topics=tuple(data["topics"]),
            source=self.source,
        )
        self._renders(exercise)
        return exercise

    def _metadata(self, data: dict):
        if data["difficulty"] not in DIFFICULTIES:
            self.fail("difficulty", f"must be one of {', '.join(DIFFICULTIES)}")
        for key in ("minutes", "weight"):
            if data[key] <= 0:
                self.fail(key, "must be positive")
        for i, topic in enumerate(data["topics"]):
            if topic not in TOPICS:
                self.fail(f"topics[{i}]", f"unknown topic {topic!r} (allowed: {', '.join(TOPICS)})")
        if data.get("setup_wait", "ready") not in SETUP_WAITS:
            self.fail("setup_wait", f"must be one of {', '.join(SETUP_WAITS)}")
        if "namespace" not in data["params"]:
            self.fail("params.namespace", "is required: every exercise has a namespace")

    def _params(self, params: dict):
        for name, spec in params.items():
            where = f"params.{name}"
            if not isinstance(spec, dict):
                self.fail(where, "must be a mapping such as {pick: [...]} or {int: [low, high]}")
            kinds = [k for k in spec if k in PARAM_KINDS]
            if len(kinds) != 1:
                self.fail(where, f"needs exactly one of {', '.join(PARAM_KINDS)}")
            unknown = set(spec) - set(PARAM_KINDS) - {"avoid"}
            if unknown:
                self.fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
            if "pick" in spec and not (isinstance(spec["pick"], list) and spec["pick"]):
                self.fail(f"{where}.pick", "must be a non-empty list")
            if "int" in spec:
                bounds = spec["int"]
                if not (isinstance(bounds, list) and len(bounds) == 2 and bounds[0] <= bounds[1]):
                    self.fail(f"{where}.int", "must be [low, high]")
            for other in spec.get("avoid", []):
                if other not in params or list(params).index(other) >= list(params).index(name):
                    self.fail(f"{where}.avoid", f"{other!r} must be a parameter defined earlier")

    def _checks(self, checks: list):
        seen = set()
        for i, check in enumerate(checks):
            where = f"checks[{i}]"
            if not isinstance(check, dict):
                self.fail(where, "must be a mapping")
            for key in ("id", "kind", "title"):
                if not isinstance(check.get(key), str):
                    self.fail(f"{where}.{key}", "is required text")
            if check["id"] in seen:
                self.fail(f"{where}.id", f"duplicate id {check['id']!r}")
            seen.add(check["id"])
            kind = CHECK_KINDS.get(check["kind"])
            if kind is None:
                self.fail(f"{where}.kind", f"unknown kind {check['kind']!r} (known: {', '.join(CHECK_KINDS)})")
            for key in kind.required - set(check):
                self.fail(f"{where}.{key}", f"is required by kind {kind.name}")
            for key in set(check) - kind.required - kind.optional - COMMON_FIELDS:
                self.fail(f"{where}.{key}", f"is not a field of kind {kind.name}")
            for key, allowed in kind.choices.items():
                if key in check and check[key] not in allowed:
                    self.fail(f"{where}.{key}", f"must be one of {', '.join(allowed)}")
            weight = check.get("weight", 1)
            if not isinstance(weight, int) or isinstance(weight, bool) or weight <= 0:
                self.fail(f"{where}.weight", "must be a positive whole number")
        if not checks:
            self.fail("checks", "needs at least one check")

    def _setup(self, setup: list):
        for i, manifest in enumerate(setup):
            where = f"setup[{i}]"
            if not isinstance(manifest, dict):
                self.fail(where, "must be a manifest mapping")
            if manifest.get("kind") not in CLUSTER_KINDS or manifest.get("kind") == "Namespace":
                allowed = ", ".join(k for k in CLUSTER_KINDS if k != "Namespace")
                self.fail(f"{where}.kind", f"must be one of {allowed}")
            if not (manifest.get("metadata") or {}).get("name"):
                self.fail(f"{where}.metadata.name", "is required")

    def _renders(self, exercise: Exercise):
        """Render everything once, so a template naming an unknown parameter fails now."""
        for seed in (0, 1):
            try:
                params = exercise.choose_params(seed)
            except UnknownPlaceholder as exc:
                self.fail("params", f"a template names unknown parameter {exc.args[0]!r}")
            for key in ("task", "checks", "hints", "solution", "setup", "namespaces", "notes"):
                try:
                    render(getattr(exercise, key), params)
                except UnknownPlaceholder as exc:
                    self.fail(key, f"unknown parameter ${{{exc.args[0]}}}")


_yaml = YAML(typ="safe")  # the C loader where available


def load_exercise(path: Path) -> Exercise:
    try:
        data = _yaml.load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        raise ExerciseFileError(path.name, "(syntax)", str(exc).replace("\n", " ")) from None
    exercise = _Validator(path.name).exercise(data)
    if exercise.id != path.stem:
        raise ExerciseFileError(path.name, "id", f"must match the file name ({path.stem!r})")
    return exercise


def load_catalogue(directory: Path | None = None) -> dict[str, Exercise]:
    directory = directory or exercises_dir()
    return {ex.id: ex for ex in map(load_exercise, sorted(directory.glob("*.yaml")))}


def find_exercise(exercise_id: str, directory: Path | None = None) -> Exercise:
    directory = directory or exercises_dir()
    path = directory / f"{exercise_id}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in directory.glob("*.yaml")))
        raise UsageError(f"no exercise {exercise_id!r} (try one of: {known})")
    return load_exercise(path)
