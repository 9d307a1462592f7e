"""Validation of exercise files: the schema, every problem gathered with its field, and what
`ckaprep validate` asks beyond loading (proofs, requirements)."""

from __future__ import annotations

import contextlib
import difflib
import itertools
import re
from pathlib import Path
from typing import Any

from ckaprep.catalogue.capabilities import Requirement, RequiresError, parse_requires
from ckaprep.catalogue.check_fields import CHECK_FIELDS, COMMON_FIELDS
from ckaprep.catalogue.exercise import FRESH_START, NAME, Exercise, Proof
from ckaprep.catalogue.faults import FAULT_FIELDS, FAULTS_PARAM, compatible, fault_pool
from ckaprep.catalogue.templating import PLACEHOLDER, UnknownPlaceholder, placeholders, render
from ckaprep.cluster import KINDS as CLUSTER_KINDS
from ckaprep.errors import ExerciseFileError, printable
from ckaprep.study.vocabulary import canonical, topic_names

DIFFICULTIES = ("easy", "medium", "hard")
SETUP_WAITS = ("ready", "running", "started")  # started: running, or stuck on a fault set up on purpose
PARAM_KINDS = ("pick", "int", "prefix", "template", "value", "service_cidr_offset")

REQUIRED = {
    "id": str,
    "title": str,
    "difficulty": str,
    "minutes": int,
    "weight": int,
    "topics": list,
    "params": dict,
    "task": str,
    "checks": list,
    "hints": list,
    "solution": dict,
}
OPTIONAL = {
    "summary": str,
    "namespaces": list,
    "setup": list,
    "setup_wait": str,
    "notes": str,
    "proofs": list,
    "faults": dict,
    "requirements": list,
    "context": list,
    "requires": list,
}


STEP_KINDS = ("kubectl", "apply")
STEP_FIELDS = {"kubectl", "apply", "capture", "namespace", "stdin", "may_error"}
PROOF_FIELDS = {"name", "steps", "fails", "may_fail", "says", "wait", "faults"}
REQUIREMENT_FIELDS = {"says", "checks"}


LINE_BREAKS_AND_TABS = str.maketrans("", "", "\n\t")


def control_characters(value: Any, where: str = "") -> list[tuple[str, str]]:
    """Each text in `value` holding a control character other than a line break or a tab, as
    (field, the first such character escaped)."""
    if isinstance(value, str):
        if value.translate(LINE_BREAKS_AND_TABS).isprintable():  # the usual case, at C speed
            return []
        odd = next((char for char in value if char not in "\n\t" and printable(char) != char), None)
        return [(where or "(top level)", printable(odd))] if odd else []
    if isinstance(value, dict):
        items = ((f"{where}.{key}" if where else str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", item) for i, item in enumerate(value))
    else:
        return []
    return [found for place, item in items for found in control_characters(item, place)]


def kind_name(kind: type) -> str:
    """A YAML value's type as an author reads it: `must be an integer, not text`."""
    names = {
        str: "text",
        int: "an integer",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a mapping",
        type(None): "empty",
    }
    return names.get(kind, kind.__name__)


def did_you_mean(word: Any, known, *, among: str) -> str:
    """ "; did you mean X?" when a known word is close, then the list of them all."""
    close = difflib.get_close_matches(word, list(known), n=2, cutoff=0.6) if isinstance(word, str) else []
    guess = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"{guess} ({among}: {', '.join(known)})"


class _Validator:
    """Checks a parsed exercise file. Every problem is gathered, section by section (each
    parameter, check, manifest and proof on its own); a section that others build on stops the
    checking when broken, and the first problem is raised carrying the others (`more`)."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[ExerciseFileError] = []

    def fail(self, field_path: str, problem: str):
        raise ExerciseFileError(self.source, field_path, problem)

    @contextlib.contextmanager
    def gathering(self):
        """Keep the problem of this section and go on with the next."""
        try:
            yield
        except ExerciseFileError as exc:
            self.problems.append(exc)

    def stop_if_any(self) -> None:
        if self.problems:
            first, *more = self.problems
            raise first.with_more(more)

    def refuse_unknown(self, where: str, mapping: dict, allowed) -> None:
        """Fail on a field of `mapping` that is not in `allowed`."""
        for key in set(mapping) - set(allowed):
            self.fail(f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def exercise(self, data: Any) -> Exercise:
        if not isinstance(data, dict):
            self.fail("(top level)", "must be a mapping")
        broken = set()  # fields missing or of the wrong type: nothing more is asked of them
        for key in REQUIRED:
            if key not in data:
                broken.add(key)
                with self.gathering():
                    self.fail(key, "is required")
        for key, value in data.items():
            kind = REQUIRED.get(key) or OPTIONAL.get(key)
            with self.gathering():
                if kind is None:
                    broken.add(key)
                    allowed = did_you_mean(key, sorted(REQUIRED | OPTIONAL), among="allowed")
                    self.fail(key, f"unknown field{allowed}")
                if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                    broken.add(key)
                    self.fail(key, f"must be {kind_name(kind)}, not {kind_name(type(value))}")
        self._metadata(data, broken)
        sections = [("params", self._params), ("checks", self._checks), ("setup", self._setup)]
        for key, section in sections:
            if key not in broken and key in data:
                section(data[key])
        for i, namespace in enumerate(data.get("namespaces", []) if "namespaces" not in broken else []):
            with self.gathering():
                if not isinstance(namespace, str):
                    self.fail(f"namespaces[{i}]", f"must be text, not {kind_name(type(namespace))}")
        with self.gathering():
            hints = data.get("hints", [])
            if "hints" not in broken and (len(hints) < 2 or not all(isinstance(h, str) and h.strip() for h in hints)):
                self.fail("hints", "needs at least two non-empty hints")
        for key in ("kubectl", "yaml") if "solution" not in broken else ():
            with self.gathering():
                if not isinstance(data["solution"].get(key), str):
                    self.fail(f"solution.{key}", "is required and must be text")
        requires: tuple[Requirement, ...] = ()
        if "requires" in data and "requires" not in broken:
            with self.gathering():
                requires = self._requires(data["requires"], "requires")
        if "faults" in data and not broken & {"faults", "params"}:
            with self.gathering():
                self._faults(data["faults"], data)
        if not broken & {"checks", "requirements", "context"}:
            with self.gathering():
                self._requirements(data)
        self.stop_if_any()  # the proofs and the rendering build on all of the above
        proofs = self._proofs(data.get("proofs", []), data)
        self.stop_if_any()
        exercise = Exercise(
            **{k: v for k, v in data.items() if k not in ("topics", "proofs", "title", "summary", "requires")},
            requires=requires,
            title=printable(data["title"]),
            summary=printable(data.get("summary", "")),
            topics=tuple(dict.fromkeys(canonical(t) for t in data["topics"])),  # aliases read as their topic
            proofs=proofs,
            source=self.source,
            control_characters=tuple(control_characters(data)),
        )
        with self.gathering():
            self._renders(exercise)
        with self.gathering():
            self._task_states_what_is_graded(exercise)
        self.stop_if_any()
        return exercise

    def _requires(self, value, where: str) -> tuple[Requirement, ...]:
        try:
            return parse_requires(value)
        except RequiresError as exc:
            self.fail(where + exc.field, exc.problem)

    def _task_states_what_is_graded(self, exercise: Exercise):
        """Every value a check grades is one the task text states: the same rule for `validate`,
        `list` and `start`, so no command runs a file another refuses."""
        in_task = placeholders(exercise.task)
        for i, check in enumerate(exercise.checks):
            used = placeholders({k: v for k, v in check.items() if k != "hint"}) - in_task
            with self.gathering():
                if used:
                    self.fail(
                        f"checks[{i}]",
                        f"check {check['id']!r} uses ${{{sorted(used)[0]}}}, which the task text never mentions",
                    )

    def _metadata(self, data: dict, broken: set[str]):
        def ok(key: str) -> bool:
            return key in data and key not in broken

        with self.gathering():
            if ok("id") and not NAME.fullmatch(data["id"]):
                self.fail("id", "must be a name: lower-case letters, digits and dashes, at most 63 characters")
        with self.gathering():
            if ok("difficulty") and data["difficulty"] not in DIFFICULTIES:
                self.fail("difficulty", f"must be one of {', '.join(DIFFICULTIES)}")
        for key in ("minutes", "weight"):
            with self.gathering():
                if ok(key) and data[key] <= 0:
                    self.fail(key, "must be positive")
        for i, topic in enumerate(data["topics"] if ok("topics") else []):
            with self.gathering():
                if not isinstance(topic, str):
                    self.fail(f"topics[{i}]", f"must be a topic name, not {kind_name(type(topic))}")
                if canonical(topic) is None:  # a topic is a page of `ckaprep explain`
                    known = did_you_mean(topic, topic_names(), among="topics")
                    self.fail(f"topics[{i}]", f"unknown topic {topic!r}{known}")
        with self.gathering():
            if ok("setup_wait") and data["setup_wait"] not in SETUP_WAITS:
                self.fail("setup_wait", f"must be one of {', '.join(SETUP_WAITS)}")
        with self.gathering():
            if ok("params") and "namespace" not in data["params"]:
                self.fail("params.namespace", "is required: every exercise has a namespace")

    def _params(self, params: dict):
        for name, spec in params.items():
            with self.gathering():
                self._param(params, name, spec)

    def _param(self, params: dict, name: str, spec: Any):
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
        seen: set[str] = set()
        for i, check in enumerate(checks):
            with self.gathering():
                self._check(i, check, seen)
        with self.gathering():
            if not checks:
                self.fail("checks", "needs at least one check")

    def _check(self, i: int, check: Any, seen: set[str]):
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
        kind, name = CHECK_FIELDS.get(check["kind"]), check["kind"]
        if kind is None:
            known = did_you_mean(name, CHECK_FIELDS, among="known")
            self.fail(f"{where}.kind", f"unknown kind {name!r}{known}")
        problems = [(key, f"is required by kind {name}") for key in sorted(kind.required - set(check))]
        problems += [
            (key, f"is not a field of kind {name}")
            for key in sorted(set(check) - kind.required - kind.optional - COMMON_FIELDS)
        ]
        problems += [
            (key, f"must be one of {', '.join(allowed)}")
            for key, allowed in kind.choices.items()
            if key in check and check[key] not in allowed
        ]
        if not isinstance(check.get("constraint", False), bool):
            problems.append(("constraint", "must be true or false"))
        weight = check.get("weight", 1)
        if not _is_int(weight) or weight <= 0:
            problems.append(("weight", "must be a positive whole number"))
        if not isinstance(check.get("hint", ""), str):
            problems.append(("hint", "must be text"))
        for key, problem in problems:
            with self.gathering():
                self.fail(f"{where}.{key}", problem)

    def _faults(self, faults: dict, data: dict):
        """A fault pool: how many to draw, and per fault the parameters it breaks, its hints and
        its solution. At least one compatible draw must exist."""
        self.refuse_unknown("faults", faults, {"draw", "pool"})
        draw, pool = faults.get("draw"), faults.get("pool")
        if not _is_int(draw) or draw < 1:
            self.fail("faults.draw", "must be a positive whole number: how many faults each attempt draws")
        if not isinstance(pool, list) or len(pool) < draw:
            self.fail("faults.pool", f"must be a list of at least {draw} faults")
        if FAULTS_PARAM in data["params"]:
            self.fail(f"params.{FAULTS_PARAM}", "is reserved for the faults drawn")
        seen = set()
        for i, fault in enumerate(pool):
            where = f"faults.pool[{i}]"
            if not isinstance(fault, dict):
                self.fail(where, "must be a mapping with id, touches, params, hints and solution")
            self.refuse_unknown(where, fault, FAULT_FIELDS)
            if not isinstance(fault.get("id"), str) or not NAME.fullmatch(fault["id"]):
                self.fail(f"{where}.id", "is required: a name of lower-case letters, digits and dashes")
            if fault["id"] in seen:
                self.fail(f"{where}.id", f"duplicate fault {fault['id']!r}")
            seen.add(fault["id"])
            if not isinstance(fault.get("title", ""), str):
                self.fail(f"{where}.title", "must be text")
            touches = fault.get("touches")
            if not isinstance(touches, list) or not touches or not all(isinstance(t, str) for t in touches):
                self.fail(f"{where}.touches", "must list what the fault breaks (two faults never share one)")
            params = fault.get("params", {})
            if not isinstance(params, dict) or not (params or fault.get("setup")):
                self.fail(f"{where}.params", "must set at least one parameter to its broken value (or give setup)")
            if "setup" in fault:
                if not isinstance(fault["setup"], list) or not fault["setup"]:
                    self.fail(f"{where}.setup", "must be a list of manifests")
                self._setup(fault["setup"], where=f"{where}.setup")
            for name, value in params.items():
                if name not in data["params"]:
                    self.fail(f"{where}.params.{name}", "is not a parameter of this exercise")
                if not _is_scalar(value):
                    self.fail(f"{where}.params.{name}", "must be text or a number")
            if "requires" in fault:
                self._requires(fault["requires"], f"{where}.requires")
            hints = fault.get("hints")
            if not isinstance(hints, list) or not hints or not all(isinstance(h, str) and h.strip() for h in hints):
                self.fail(f"{where}.hints", "needs at least one non-empty hint")
            solution = fault.get("solution")
            for key in ("kubectl", "yaml"):
                if not isinstance(solution, dict) or not isinstance(solution.get(key), str):
                    self.fail(f"{where}.solution.{key}", "is required and must be text")
        ids = list(seen)
        if not any(compatible(faults, list(c)) for c in itertools.combinations(ids, draw)):
            self.fail("faults.pool", f"no {draw} faults can be drawn together: their touches overlap")

    def _requirements(self, data: dict):
        """The shape of `requirements` and `context`; whether they match the task is for
        `authoring_problems`, which lists every sentence at once."""
        check_ids = [c["id"] for c in data["checks"]]
        for i, requirement in enumerate(data.get("requirements", [])):
            where = f"requirements[{i}]"
            if not isinstance(requirement, dict):
                self.fail(where, "must be a mapping such as {says: <a phrase of the task>, checks: [<check id>, ...]}")
            self.refuse_unknown(where, requirement, REQUIREMENT_FIELDS)
            if not isinstance(requirement.get("says"), str) or not requirement["says"].strip():
                self.fail(f"{where}.says", "is required: a phrase of the task text, as written (${param} included)")
            ids = requirement.get("checks")
            if not isinstance(ids, list) or not ids or not all(isinstance(c, str) for c in ids):
                self.fail(f"{where}.checks", "must list the ids of the checks that grade this phrase")
            for check_id in ids:
                if check_id not in check_ids:
                    self.fail(f"{where}.checks", f"no check {check_id!r} (checks: {', '.join(check_ids)})")
        for i, phrase in enumerate(data.get("context", [])):
            if not isinstance(phrase, str) or not phrase.strip():
                self.fail(f"context[{i}]", "must be a phrase of the task text that only describes the setup")

    def _proof_faults(self, where: str, raw: dict, data: dict) -> tuple[str, ...]:
        pinned = raw.get("faults")
        faults = data.get("faults")
        if not faults:
            if pinned is not None:
                self.fail(f"{where}.faults", "only an exercise with a fault pool pins faults")
            return ()
        if pinned is None:
            self.fail(f"{where}.faults", f"must pin the draw: {faults['draw']} fault id(s) of faults.pool")
        pool = fault_pool(faults)
        if not isinstance(pinned, list) or not all(isinstance(f, str) for f in pinned):
            self.fail(f"{where}.faults", "must be a list of fault ids")
        for fault_id in pinned:
            if fault_id not in pool:
                self.fail(f"{where}.faults", f"no fault {fault_id!r} (faults: {', '.join(pool)})")
        if len(pinned) != faults["draw"]:
            self.fail(f"{where}.faults", f"must pin exactly {faults['draw']} fault(s), as an attempt draws")
        if not compatible(faults, pinned):
            self.fail(f"{where}.faults", "these faults touch the same thing and are never drawn together")
        return tuple(pinned)

    def _setup(self, setup: list, where: str = "setup"):
        for i, manifest in enumerate(setup):
            with self.gathering():
                self._manifest(f"{where}[{i}]", manifest)

    def _manifest(self, where: str, manifest: Any):
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
            with self.gathering():
                result.append(self._proof(i, raw, data, check_ids, known, names))
        return result

    def _proof(self, i: int, raw: Any, data: dict, check_ids: list[str], known: set[str], names: set[str]) -> Proof:
        where = f"proofs[{i}]"
        if not isinstance(raw, dict):
            self.fail(where, "must be a mapping with name and steps")
        self.refuse_unknown(where, raw, PROOF_FIELDS)
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
        pinned = self._proof_faults(where, raw, data)
        return Proof(
            name=name,
            steps=steps,
            fails=tuple(raw.get("fails", [])),
            may_fail=tuple(raw.get("may_fail", [])),
            says=dict(says),
            wait=wait,
            faults=pinned,
        )

    def _step(self, where: str, step: Any, known: set[str]):
        if not isinstance(step, dict):
            self.fail(where, "must be a mapping such as {kubectl: [...]} or {apply: <yaml>}")
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            self.fail(where, f"needs exactly one of {', '.join(STEP_KINDS)}")
        self.refuse_unknown(where, step, STEP_FIELDS)
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
        draws = [None] + [[fault_id] for fault_id in fault_pool(exercise.faults)]
        for seed in (0, 1):
            for pinned in draws:
                if pinned is not None and exercise.faults.get("draw") != 1:
                    # Each fault once, with a partner it may be drawn with.
                    partners = [f for f in fault_pool(exercise.faults) if compatible(exercise.faults, pinned + [f])]
                    pinned = (pinned + partners)[: exercise.faults["draw"]]
                where = f"faults ({', '.join(pinned)})" if pinned else "params"
                try:
                    params = exercise.choose_params(seed, faults=pinned)
                except UnknownPlaceholder as exc:
                    self.fail(where, f"a template names unknown parameter {exc.args[0]!r}")
                for key in ("task", "checks", "setup", "namespaces", "notes"):
                    try:
                        render(getattr(exercise, key), params)
                    except UnknownPlaceholder as exc:
                        self.fail(key, f"unknown parameter ${{{exc.args[0]}}}")
                try:
                    exercise.setup_for(params)  # with the drawn faults' own manifests
                except UnknownPlaceholder as exc:
                    self.fail(where, f"a fault's setup names unknown parameter {exc.args[0]!r}")
                for key, method in (("hints", exercise.hints_for), ("solution", exercise.solution_for)):
                    try:
                        method(params)
                    except UnknownPlaceholder as exc:
                        self.fail(key if not pinned else where, f"unknown parameter ${{{exc.args[0]}}}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str) or _is_int(value)


def line_of(path: Path, field: str) -> int | None:
    """The line (1-based) of a field such as `checks[1].weight` in an exercise file, or of the
    nearest enclosing item that exists; None when the file cannot say."""
    from ruamel.yaml import YAML

    try:
        node = YAML().load(path.read_text(encoding="utf-8"))
    except Exception:  # the line is a courtesy: any problem reading it leaves it out
        return None
    line = None
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        try:
            if part.startswith("["):
                index = int(part[1:-1])
                line, node = node.lc.item(index)[0], node[index]
            else:
                line, node = node.lc.key(part)[0], node[part]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
    return None if line is None else line + 1


MIN_RIGHT_PROOFS, MIN_WRONG_PROOFS = 2, 3


def control_character_warnings(exercise: Exercise, path: Path) -> list[str]:
    """What `validate` says of text holding control characters: a title or hint with a
    terminal escape sequence (`\\e[31m`) is shown escaped, never acted on by the terminal."""
    return [
        ExerciseFileError(
            exercise.source,
            where,
            f"holds a control character ({char}), which is shown as an escape, never sent to the terminal; remove it",
            line_of(path, where),
        ).message
        for where, char in exercise.control_characters
    ]


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
            f"the right answers are all {right[0].style}; give them in different styles (kubectl commands, YAML)",
        )
    if len(wrong) < MIN_WRONG_PROOFS:
        problem("proofs", f"needs at least {MIN_WRONG_PROOFS} wrong answers (proofs with fails), has {len(wrong)}")
    for fault_id in fault_pool(exercise.faults):
        if not any(fault_id in p.faults for p in right):
            problem("proofs", f"fault {fault_id!r} is in no right answer's draw (proof faults:)")
        if not any(p.faults[:1] == (fault_id,) for p in wrong):
            problem("proofs", f"fault {fault_id!r} has no wrong answer of its own (one whose faults: list it first)")
    problems += requirement_problems(exercise)
    return problems  # a check using a value the task never states fails at load: see _Validator


def requirement_problems(exercise: Exercise) -> list[ExerciseFileError]:
    """Task and checks agree (see ckaprep/catalogue/requirements.py): every `says` and `context`
    phrase names one sentence of the task, every check is named by a requirement, and every
    sentence that states a requirement is quoted by one (or marked as context)."""
    from ckaprep.catalogue.requirements import phrase_problem, requirement_words, uncovered

    def problem(where: str, text: str):
        problems.append(ExerciseFileError(exercise.source, where, text))

    problems: list[ExerciseFileError] = []
    if not exercise.requirements:
        problem(
            "requirements",
            "is required: map each sentence of the task that states a requirement to the checks "
            "that grade it, as [{says: <a phrase of the sentence>, checks: [<check id>, ...]}]",
        )
        return problems
    for i, requirement in enumerate(exercise.requirements):
        why = phrase_problem(exercise.task, requirement["says"])
        if why:
            problem(f"requirements[{i}].says", why)
    for i, phrase in enumerate(exercise.context):
        why = phrase_problem(exercise.task, phrase)
        if why:
            problem(f"context[{i}]", why)
    named = {check_id for requirement in exercise.requirements for check_id in requirement["checks"]}
    for i, check in enumerate(exercise.checks):
        if check["id"] not in named:
            problem(
                f"checks[{i}]",
                f"check {check['id']!r} is named by no requirement: quote the sentence of the task that "
                "asks for it (requirements: says), or say it in the task; a check the task does not ask "
                "for grades what the learner was never told",
            )
    phrases = [r["says"] for r in exercise.requirements] + list(exercise.context)
    for sentence in uncovered(exercise.task, phrases):
        words = requirement_words(sentence.text)
        because = "it is a list item" if sentence.in_item else f"it says {words[0]!r}"
        problem(
            "task",
            f"the sentence {sentence.text!r} states a requirement ({because}) that no requirement "
            "quotes: add {says: <a phrase of it>, checks: [<the checks that grade it>]} to "
            "requirements, or, if it only describes the setup, the phrase to context",
        )
    return problems
