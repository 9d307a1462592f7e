"""Exercise files: loading, validation and per-attempt rendering.

An exercise is one YAML file in `exercises/`. Every file is validated whole
on load; a malformed one is an error naming the file, the field and the
problem, and nothing of it is used.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckaprep.cluster import KINDS as CLUSTER_KINDS
from ckaprep.errors import ExerciseFileError, UsageError
from ckaprep.grading.checks import COMMON_FIELDS, KINDS as CHECK_KINDS
from ckaprep.locations import ENV_EXERCISES, exercise_dirs_from, exercises_dir  # noqa: F401 (part of this API)
from ckaprep.parsed_cache import ParsedYamlCache
from ckaprep.service_range import NoServiceRange, address_in_use, claimed_addresses, service_range
from ckaprep.templating import PLACEHOLDER, UnknownPlaceholder, placeholders, render

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
    "externalname": "externalname",
    "service-cidr": "service-cidr",
    "udp": "udp",
}
DIFFICULTIES = ("easy", "medium", "hard")
SETUP_WAITS = ("ready", "running")
PARAM_KINDS = ("pick", "int", "prefix", "template", "value", "service_cidr_offset")
# Parameters whose value comes from the cluster at `start` (before that they hold a description).
CLUSTER_PARAM_KINDS = ("service_cidr_offset",)

REQUIRED = {
    "id": str, "title": str, "difficulty": str, "minutes": int, "weight": int,
    "topics": list, "params": dict, "task": str, "checks": list, "hints": list, "solution": dict,
}  # fmt: skip
OPTIONAL = {
    "summary": str, "namespaces": list, "setup": list, "setup_wait": str, "notes": str, "proofs": list,
}  # fmt: skip

# Exercise ids and proof names are names, never paths: a DNS-label-like word.
NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
FRESH_START = "fresh-start"  # the implicit proof every exercise carries: nothing done scores 0%
STEP_KINDS = ("kubectl", "apply")
STEP_FIELDS = {"kubectl", "apply", "capture", "namespace", "stdin", "may_error"}
PROOF_FIELDS = {"name", "steps", "fails", "may_fail", "says", "wait"}
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

    @property
    def is_right(self) -> bool:
        return not self.fails

    @property
    def style(self) -> str:
        """imperative (kubectl commands only), declarative (YAML only) or mixed.

        Steps that only read or wait (a capture, `get`, `wait`) have no style.
        """
        acting = [
            s for s in self.steps
            if "capture" not in s and not ("kubectl" in s and str(s["kubectl"][0]) in READ_ONLY_VERBS)
        ]  # fmt: skip
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

    def choose_params(self, seed: int, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
        """The attempt's parameters; `fixed` ones (a classroom seat's namespaces) are given, not
        drawn, and the parameters built on them follow. The seed draws the rest the same way."""
        rng = random.Random(seed)
        chosen: dict[str, Any] = {}
        for name, spec in self.params.items():
            avoid = {chosen[other] for other in spec.get("avoid", [])}
            for _ in range(100):
                value = _draw(spec, rng, chosen)
                if value not in avoid:
                    break
            chosen[name] = fixed[name] if fixed and name in fixed else value
        return chosen

    def namespace_params(self) -> list[str | None]:
        """For each entry of `namespaces`, the parameter it names on its own (None for a template
        that builds a name from several parts)."""
        names = []
        for entry in self.namespaces:
            match = PLACEHOLDER.fullmatch(entry.strip()) if isinstance(entry, str) else None
            plain = match and not match.group(2) and match.group(1) in self.params
            names.append(match.group(1) if plain else None)
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
                if all(found.holds(a) and a not in claimed and not address_in_use(cluster, a)
                       for a in addresses.values()):
                    break
            else:
                raise NoServiceRange(
                    f"no free address in {found.text} between {low} and {high} places above its base"
                )
            resolved[offset_name] = offset
            resolved.update(addresses)
        for name, spec in self.params.items():  # templates built on what changed
            if "template" in spec:
                resolved[name] = render(spec["template"], resolved)
        return resolved

    def cluster_addresses(self, params: dict[str, Any]) -> list[str]:
        """The addresses read from the cluster at start, which the attempt claims."""
        return [str(params[n]) for n, spec in self.params.items() if "service_cidr_offset" in spec and n in params]

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
                    constraint=rendered.get("constraint", False),
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
    if "service_cidr_offset" in spec:  # read from the cluster at start; until then, what it will be
        offset = int(chosen[spec["service_cidr_offset"]]) + spec.get("plus", 0)
        return f"<the address {offset} above the base of the Service range>"
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
        for i, namespace in enumerate(data.get("namespaces", [])):
            if not isinstance(namespace, str):
                self.fail(f"namespaces[{i}]", f"must be text, not {type(namespace).__name__}")
        if len(data["hints"]) < 2 or not all(isinstance(h, str) and h.strip() for h in data["hints"]):
            self.fail("hints", "needs at least two non-empty hints")
        for key in ("kubectl", "yaml"):
            if not isinstance(data["solution"].get(key), str):
                self.fail(f"solution.{key}", "is required and must be text")
        proofs = self._proofs(data.get("proofs", []), data)
        exercise = Exercise(
            **{k: v for k, v in data.items() if k not in ("topics", "proofs")},
            topics=tuple(data["topics"]),
            proofs=proofs,
            source=self.source,
        )
        self._renders(exercise)
        return exercise

    def _metadata(self, data: dict):
        if not NAME.fullmatch(data["id"]):
            self.fail("id", "must be a name: lower-case letters, digits and dashes, at most 63 characters")
        if data["difficulty"] not in DIFFICULTIES:
            self.fail("difficulty", f"must be one of {', '.join(DIFFICULTIES)}")
        for key in ("minutes", "weight"):
            if data[key] <= 0:
                self.fail(key, "must be positive")
        for i, topic in enumerate(data["topics"]):
            if not isinstance(topic, str):
                self.fail(f"topics[{i}]", f"must be a topic name, not a {type(topic).__name__}")
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
            unknown = set(spec) - set(PARAM_KINDS) - {"avoid"} - ({"plus"} if "service_cidr_offset" in spec else set())
            if unknown:
                self.fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
            if not PLACEHOLDER.fullmatch(f"${{{name}}}"):
                self.fail(where, "a parameter name is lower-case letters, digits and underscores")
            if "pick" in spec:
                choices = spec["pick"]
                if not (isinstance(choices, list) and choices):
                    self.fail(f"{where}.pick", "must be a non-empty list")
                for j, choice in enumerate(choices):
                    if not _is_scalar(choice):
                        self.fail(f"{where}.pick[{j}]", f"must be text or a number, not {type(choice).__name__}")
            if "int" in spec:
                bounds = spec["int"]
                if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(_is_int, bounds))):
                    self.fail(f"{where}.int", "must be [low, high], two whole numbers")
                if bounds[0] > bounds[1]:
                    self.fail(f"{where}.int", "must be [low, high] with low <= high")
            for key in ("prefix", "template"):
                value = spec.get(key, "")
                texts = value if key == "prefix" and isinstance(value, list) and value else [value]
                if not all(isinstance(v, str) for v in texts):
                    self.fail(f"{where}.{key}", "must be text" + (" or a list of text" if key == "prefix" else ""))
            if "service_cidr_offset" in spec:
                self._cluster_offset(where, spec, params, name)
            if "value" in spec and not _is_scalar(spec["value"]):
                self.fail(f"{where}.value", "must be text or a number")
            avoid = spec.get("avoid", [])
            if not isinstance(avoid, list) or not all(isinstance(a, str) for a in avoid):
                self.fail(f"{where}.avoid", "must be a list of parameter names")
            for other in avoid:
                if other not in params or list(params).index(other) >= list(params).index(name):
                    self.fail(f"{where}.avoid", f"{other!r} must be a parameter defined earlier")

    def _cluster_offset(self, where: str, spec: dict, params: dict, name: str):
        offset = spec["service_cidr_offset"]
        earlier = list(params)[: list(params).index(name)]
        if not isinstance(offset, str) or offset not in earlier or "int" not in (params.get(offset) or {}):
            self.fail(
                f"{where}.service_cidr_offset",
                "must name an earlier parameter of kind int: the offset, which the task states",
            )
        if params[offset]["int"][0] < 1:
            self.fail(f"{where}.service_cidr_offset", f"the offset {offset!r} must start at 1 or more")
        if not _is_int(spec.get("plus", 0)):
            self.fail(f"{where}.plus", "must be a whole number")

    def _checks(self, checks: list):
        seen = set()
        for i, check in enumerate(checks):
            where = f"checks[{i}]"
            if not isinstance(check, dict):
                self.fail(where, "must be a mapping")
            for key in ("id", "kind", "title"):
                if not isinstance(check.get(key), str):
                    self.fail(f"{where}.{key}", "is required text")
            if not NAME.fullmatch(check["id"]):
                self.fail(f"{where}.id", "must be a name: lower-case letters, digits and dashes")
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
            if not isinstance(check.get("constraint", False), bool):
                self.fail(f"{where}.constraint", "must be true or false")
            weight = check.get("weight", 1)
            if not _is_int(weight) or weight <= 0:
                self.fail(f"{where}.weight", "must be a positive whole number")
            if not isinstance(check.get("hint", ""), str):
                self.fail(f"{where}.hint", "must be text")
        if not checks:
            self.fail("checks", "needs at least one check")

    def _setup(self, setup: list):
        for i, manifest in enumerate(setup):
            where = f"setup[{i}]"
            if not isinstance(manifest, dict):
                self.fail(where, "must be a manifest mapping")
            # Only namespaced kinds: everything an exercise creates goes when its namespaces do.
            if manifest.get("kind") not in CLUSTER_KINDS or not CLUSTER_KINDS[manifest["kind"]][2]:
                allowed = ", ".join(k for k, (_, _, namespaced) in CLUSTER_KINDS.items() if namespaced)
                self.fail(f"{where}.kind", f"must be one of {allowed}")
            if not isinstance(manifest.get("metadata"), dict) or not manifest["metadata"].get("name"):
                self.fail(f"{where}.metadata.name", "is required")

    def _proofs(self, proofs: list, data: dict) -> list[Proof]:
        check_ids = [c["id"] for c in data["checks"]]
        known = set(data["params"])
        result, names = [], set()
        for i, raw in enumerate(proofs):
            where = f"proofs[{i}]"
            if not isinstance(raw, dict):
                self.fail(where, "must be a mapping with name and steps")
            for key in set(raw) - PROOF_FIELDS:
                self.fail(f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(PROOF_FIELDS))})")
            name = raw.get("name")
            if not isinstance(name, str) or not NAME.fullmatch(name):
                self.fail(f"{where}.name", "is required: a name of lower-case letters, digits and dashes")
            if name == FRESH_START or name in names:
                self.fail(f"{where}.name", f"{name!r} is taken" + (" (reserved)" if name == FRESH_START else ""))
            names.add(name)
            steps = raw.get("steps")
            if not isinstance(steps, list) or not steps:
                self.fail(f"{where}.steps", "needs at least one step")
            captured: set[str] = set()
            for j, step in enumerate(steps):
                self._step(f"{where}.steps[{j}]", step, known | captured)
                if "capture" in step:
                    if step["capture"] in known | captured:
                        self.fail(f"{where}.steps[{j}].capture", f"{step['capture']!r} is already a parameter")
                    captured.add(step["capture"])
            for key in ("fails", "may_fail"):
                ids = raw.get(key, [])
                if not isinstance(ids, list) or not all(isinstance(c, str) for c in ids):
                    self.fail(f"{where}.{key}", "must be a list of check ids")
                for check_id in ids:
                    if check_id not in check_ids:
                        self.fail(f"{where}.{key}", f"no check {check_id!r} (checks: {', '.join(check_ids)})")
            overlap = set(raw.get("fails", [])) & set(raw.get("may_fail", []))
            if overlap:
                self.fail(f"{where}.may_fail", f"{', '.join(sorted(overlap))} also in fails")
            says = raw.get("says", {})
            if not isinstance(says, dict):
                self.fail(f"{where}.says", "must map check ids to text")
            for check_id, text in says.items():
                if check_id not in check_ids:
                    self.fail(f"{where}.says", f"no check {check_id!r} (checks: {', '.join(check_ids)})")
                if not isinstance(text, str) or not text:
                    self.fail(f"{where}.says.{check_id}", "must be non-empty text")
            wait = raw.get("wait")
            if wait is not None and (not isinstance(wait, (int, float)) or isinstance(wait, bool) or wait < 0):
                self.fail(f"{where}.wait", "must be a number of seconds")
            result.append(
                Proof(
                    name=name, steps=steps, fails=tuple(raw.get("fails", [])),
                    may_fail=tuple(raw.get("may_fail", [])), says=dict(says), wait=wait,
                )
            )  # fmt: skip
        return result

    def _step(self, where: str, step: Any, known: set[str]):
        if not isinstance(step, dict):
            self.fail(where, "must be a mapping such as {kubectl: [...]} or {apply: <yaml>}")
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            self.fail(where, f"needs exactly one of {', '.join(STEP_KINDS)}")
        for key in set(step) - STEP_FIELDS:
            self.fail(f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(STEP_FIELDS))})")
        if "kubectl" in step:
            argv = step["kubectl"]
            if not isinstance(argv, list) or not argv or not all(_is_scalar(a) for a in argv):
                self.fail(f"{where}.kubectl", "must be a non-empty list of arguments (text or numbers)")
        elif not isinstance(step["apply"], str) or not step["apply"].strip():
            self.fail(f"{where}.apply", "must be YAML text")
        for key in ("namespace", "stdin", "capture"):
            if key in step and not isinstance(step[key], str):
                self.fail(f"{where}.{key}", "must be text")
        if "capture" in step:
            if "kubectl" not in step:
                self.fail(f"{where}.capture", "needs a kubectl step whose output it keeps")
            if not PLACEHOLDER.fullmatch(f"${{{step['capture']}}}"):
                self.fail(f"{where}.capture", "a name of lower-case letters, digits and underscores")
        if "stdin" in step and "kubectl" not in step:
            self.fail(f"{where}.stdin", "goes with a kubectl step")
        if not isinstance(step.get("may_error", False), bool):
            self.fail(f"{where}.may_error", "must be true or false")
        unknown = placeholders({k: v for k, v in step.items() if k != "capture"}) - known
        if unknown:
            self.fail(where, f"unknown parameter ${{{sorted(unknown)[0]}}}")

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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str) or _is_int(value)


class _YamlSyntaxError(Exception):
    pass


def parse_yaml(text: str) -> Any:
    """ruamel's safe loader, imported only when a file is not in the parsed cache."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise _YamlSyntaxError(" ".join(str(exc).split())) from None


def load_exercise(path: Path, cache: ParsedYamlCache | None = None) -> Exercise:
    source = str(path) if path.parent != exercises_dir() else path.name
    try:
        data = (cache or ParsedYamlCache(None)).parsed(path, parse_yaml)
    except UnicodeDecodeError as exc:
        raise ExerciseFileError(source, "(encoding)", f"not UTF-8 text (byte {exc.start})") from None
    except _YamlSyntaxError as exc:
        raise ExerciseFileError(source, "(syntax)", str(exc)) from None
    except OSError as exc:
        raise ExerciseFileError(source, "(file)", exc.strerror or str(exc)) from None
    exercise = _Validator(source).exercise(data)
    if exercise.id != path.stem:
        raise ExerciseFileError(source, "id", f"must match the file name ({path.stem!r})")
    return exercise


def check_name(exercise_id: str) -> str:
    """Exercise ids are names, never paths; refuse anything else before touching a file."""
    if not NAME.fullmatch(exercise_id):
        shown = exercise_id if len(exercise_id) <= 70 else exercise_id[:60] + "…"
        raise UsageError(
            f"{shown!r} is not an exercise id: ids are lower-case letters, digits and dashes "
            "(at most 63 characters); see `ckaprep list`"
        )
    return exercise_id


class Catalogue:
    """The built-in exercises plus trainers' directories.

    A broken file in a trainer's directory is reported and skipped when listing;
    one in the built-in directory is an error. An id found twice is an error
    naming both files.
    """

    def __init__(self, builtin: Path | None = None, extra: Sequence[Path] = (), cache: ParsedYamlCache | None = None):
        self.builtin = builtin or exercises_dir()
        self.extra = [Path(d) for d in extra]
        self.cache = cache or ParsedYamlCache(None)

    @property
    def dirs(self) -> list[Path]:
        return [self.builtin, *self.extra]

    def _files(self) -> dict[str, list[Path]]:
        files: dict[str, list[Path]] = {}
        for directory in self.dirs:
            if directory != self.builtin and not directory.is_dir():
                raise UsageError(f"exercise directory {directory} does not exist")
            for path in sorted(directory.glob("*.yaml")):
                files.setdefault(path.stem, []).append(path)
        return files

    @staticmethod
    def _clash(exercise_id: str, paths: list[Path]) -> UsageError:
        return UsageError(f"exercise id {exercise_id!r} is defined twice: {paths[0]} and {paths[1]}")

    def load(self) -> tuple[dict[str, Exercise], list[ExerciseFileError]]:
        """Every exercise, and the problems of the trainers' files that were skipped."""
        exercises, skipped = {}, []
        for exercise_id, paths in sorted(self._files().items()):
            if len(paths) > 1:
                raise self._clash(exercise_id, paths)
            try:
                exercises[exercise_id] = load_exercise(paths[0], self.cache)
            except ExerciseFileError as exc:
                if paths[0].parent == self.builtin:
                    raise
                skipped.append(exc)
        self.cache.save()
        return exercises, skipped

    def find(self, exercise_id: str) -> Exercise:
        check_name(exercise_id)
        paths = [d / f"{exercise_id}.yaml" for d in self.dirs if (d / f"{exercise_id}.yaml").is_file()]
        if len(paths) > 1:
            raise self._clash(exercise_id, paths)
        if not paths:
            known = ", ".join(sorted(self._files()))
            raise UsageError(f"no exercise {exercise_id!r} (try one of: {known})")
        exercise = load_exercise(paths[0], self.cache)
        self.cache.save()
        return exercise


def load_catalogue(directory: Path | None = None) -> dict[str, Exercise]:
    return Catalogue(directory).load()[0]


def find_exercise(exercise_id: str, directory: Path | None = None) -> Exercise:
    return Catalogue(directory).find(exercise_id)


MIN_RIGHT_PROOFS, MIN_WRONG_PROOFS = 2, 3


def authoring_problems(exercise: Exercise) -> list[ExerciseFileError]:
    """What `ckaprep validate` asks of an exercise beyond loading: proofs, and a task that
    states what the checks check."""
    problems = []

    def problem(where: str, text: str):
        problems.append(ExerciseFileError(exercise.source, where, text))

    right = [p for p in exercise.proofs if p.is_right]
    wrong = [p for p in exercise.proofs if not p.is_right]
    if len(right) < MIN_RIGHT_PROOFS:
        problem("proofs", f"needs at least {MIN_RIGHT_PROOFS} right answers (proofs without fails), has {len(right)}")
    elif len({p.style for p in right}) < 2:
        problem(
            "proofs",
            f"the right answers are all {right[0].style}; give them in different styles "
            "(kubectl commands, YAML)",
        )
    if len(wrong) < MIN_WRONG_PROOFS:
        problem("proofs", f"needs at least {MIN_WRONG_PROOFS} wrong answers (proofs with fails), has {len(wrong)}")
    in_task = placeholders(exercise.task)
    for i, check in enumerate(exercise.checks):
        used = placeholders({k: v for k, v in check.items() if k != "hint"}) - in_task
        for name in sorted(used):
            problem(f"checks[{i}]", f"check {check['id']!r} uses ${{{name}}}, which the task text never mentions")
    return problems
