"""Proving an exercise on a live cluster: its answers must get the verdicts they declare.

For each proof: start an attempt in namespaces of its own, run the answer's
steps with kubectl (argument vectors, never a shell), grade, compare the
report with the declaration, and delete the namespaces again. The learner's
active attempt and state file are never touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ckaprep.attempts import Attempt, new_seed
from ckaprep.catalogue.exercise import FRESH_START, Exercise, Proof
from ckaprep.catalogue.templating import render
from ckaprep.cluster import KINDS as CLUSTER_KINDS
from ckaprep.cluster import Cluster
from ckaprep.cluster.waiting import Waiter
from ckaprep.errors import CkaprepError, ClusterError, ClusterUnreachable, ImagePullError, UsageError
from ckaprep.grading.engine import grade
from ckaprep.grading.options import GradingOptions
from ckaprep.grading.report import ERROR, PASS, Report
from ckaprep.practice.lifecycle import delete_attempts, start_attempt, wait_for_deletion
from ckaprep.practice.workspace import Workspace

RIGHT_WAIT_S = 40  # a right answer may need pods to roll out before every check passes
WRONG_WAIT_S = 10  # a wrong answer's failing checks are polled this long before the verdict
STEP_TIMEOUT_S = 180

RIGHT, WRONG, FRESH = "right", "wrong", "fresh"


class StepFailed(Exception):
    pass


@dataclass(frozen=True)
class StepResult:
    returncode: int
    stdout: str
    stderr: str


Runner = Callable[..., subprocess.CompletedProcess]


def find_kubectl(environ: Mapping[str, str]) -> str:
    path = environ.get("CKAPREP_KUBECTL") or shutil.which("kubectl", path=environ.get("PATH"))
    if not path:
        raise UsageError(
            "prove runs the answers with kubectl, and there is no kubectl on PATH "
            "(install it, or set CKAPREP_KUBECTL to its path)"
        )
    return path


@dataclass
class Kubectl:
    """Runs kubectl with an argument vector; the attempt's namespace comes first, so an
    explicit `-n` in the step still wins."""

    path: str
    environ: Mapping[str, str]
    kubeconfig: str | None = None
    context: str | None = None
    run: Runner = subprocess.run

    def __call__(self, args: list[str], *, namespace: str | None, stdin: str | None = None) -> StepResult:
        argv = [self.path]
        if self.kubeconfig:
            argv += ["--kubeconfig", self.kubeconfig]
        if self.context:
            argv += ["--context", self.context]
        argv += (["-n", namespace] if namespace else []) + list(args)
        try:
            done = self.run(
                argv,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT_S,
                env=dict(self.environ),
            )
        except subprocess.TimeoutExpired:
            return StepResult(124, "", f"timed out after {STEP_TIMEOUT_S}s")
        except OSError as exc:
            raise UsageError(f"cannot run {self.path}: {exc.strerror or exc}") from None
        return StepResult(done.returncode, done.stdout, done.stderr)


@dataclass
class Verdict:
    exercise: str
    proof: str
    kind: str  # right, wrong or fresh
    ok: bool
    score: float | None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    seed: int | None = None

    @property
    def declared(self) -> str:
        return {RIGHT: "100%", WRONG: "fails", FRESH: "0%"}[self.kind]

    def to_json(self) -> dict:
        return {
            "exercise": self.exercise,
            "proof": self.proof,
            "kind": self.kind,
            "ok": self.ok,
            "score": self.score,
            "problems": self.problems,
            "seconds": round(self.seconds, 1),
            "seed": self.seed,
        }


def run_steps(proof: Proof, params: dict, namespace: str, kubectl: Kubectl) -> dict:
    """Run the steps in order; a `capture` keeps a step's output as a parameter for later ones."""
    values = dict(params)
    for number, step in enumerate(proof.steps, start=1):
        rendered = render({k: v for k, v in step.items() if k != "capture"}, values)
        ns = str(rendered.get("namespace") or namespace)
        if "apply" in rendered:
            # Each manifest keeps its own namespace (kubectl refuses -n that differs from one).
            args, stdin, ns = ["apply", "-f", "-"], manifests_with_namespace(rendered["apply"], ns, number), None
        else:
            args, stdin = [str(a) for a in rendered["kubectl"]], rendered.get("stdin")
        result = kubectl(args, namespace=ns, stdin=stdin)
        if result.returncode != 0 and not step.get("may_error"):
            detail = " ".join((result.stderr or result.stdout).split())[:300] or "no output"
            where = f"-n {ns} " if ns else ""
            raise StepFailed(f"step {number} (kubectl {where}{' '.join(args)}) exited {result.returncode}: {detail}")
        if "capture" in step:
            values[step["capture"]] = result.stdout.strip()
    return values


def manifests_with_namespace(text: str, namespace: str, number: int) -> str:
    """The step's YAML as one JSON List, each namespaced manifest in `namespace` unless it names one."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        docs = [d for d in YAML(typ="safe", pure=True).load_all(text) if d]
    except YAMLError as exc:
        raise StepFailed(f"step {number}: the YAML does not parse: {' '.join(str(exc).split())}") from None
    for doc in docs:
        if not isinstance(doc, dict):
            raise StepFailed(f"step {number}: every YAML document must be a manifest mapping")
        cluster_scoped = CLUSTER_KINDS.get(doc.get("kind"), ("", "", True))[2] is False
        if not cluster_scoped:
            doc.setdefault("metadata", {}).setdefault("namespace", namespace)
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, default=str)


def judge(proof: Proof, report: Report, values: dict) -> list[str]:
    """What differs between the report and the proof's declaration; empty when they agree."""
    problems = [f"check {c.id} broke: {c.message}" for c in report.checks if c.status == ERROR]
    by_id = {c.id: c for c in report.checks}
    failed = {c.id for c in report.checks if c.status != PASS}
    for check_id in proof.fails:
        if check_id not in failed:
            problems.append(f"{check_id} passed, but this answer must fail it")
    for check in report.checks:
        if check.status != ERROR and check.id in failed - set(proof.fails) - set(proof.may_fail):
            problems.append(f"{check.id} failed: {check.found}" + (f" ({check.message})" if check.message else ""))
    for check_id, text in render(proof.says, values).items():
        check = by_id[check_id]
        said = f"{check.expected} {check.found} {check.message}"
        if str(text) not in said:
            problems.append(f"{check_id} does not say {text!r}; it says: {' '.join(said.split())}")
    return problems


def judge_fresh(report: Report) -> list[str]:
    if report.score == 0:
        return []
    earning = [c.id for c in report.checks if c.status == PASS and not c.constraint]
    return [f"scores {report.score}% with nothing done: {', '.join(earning)} pass after setup alone"]


@dataclass
class Prover:
    """Everything a proof run needs from the world, so tests can pass fakes."""

    cluster: Cluster
    kubectl: Kubectl
    options: GradingOptions = field(default_factory=GradingOptions)  # each proof sets its own wait
    seeds: Callable[[], int] = new_seed  # called with no argument: a fresh seed each time
    stop: threading.Event = field(default_factory=threading.Event)
    on_start: Callable[[str, str], None] = lambda exercise, proof: None  # progress for long runs
    # Namespaces of finished proofs, deleted but not yet gone. The next proof does not wait for
    # them (it has namespaces of its own); the run waits for all of them once, at its end.
    deleting: list[str] = field(default_factory=list)
    # Where to prove: a cluster of one's own, or a classroom seat (its namespaces, emptied between
    # proofs) with `cluster` and `kubectl` holding the seat's own credentials: what a learner in a
    # class can and cannot do.
    workspace: Workspace | None = None
    # "Kind namespace/name" of every object a proof's setup may have created, even if it was
    # deleted since: when nothing is here, a stopped run left nothing behind.
    created: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)  # of run_all, as they came

    def exercise(
        self, exercise: Exercise, proofs: list[Proof], *, fresh: bool, report: Callable[[Verdict], None]
    ) -> list[Verdict]:
        """Prove the given proofs of one exercise, and the fresh start when `fresh`.

        The fresh start is graded in the first proof's attempt, before its steps run.
        """
        verdicts: list[Verdict] = []

        def record(verdict: Verdict) -> None:
            verdicts.append(verdict)
            report(verdict)

        try:
            for task in plan_tasks(exercise, proofs, fresh):
                self.run(*task, record=record)
        finally:
            self.finish_deletions()
        return verdicts

    def finish_deletions(self) -> None:
        """Wait until the namespaces of every finished proof are gone."""
        deleting, self.deleting = self.deleting, []
        wait_for_deletion(self.cluster, deleting, waiter=self.waiter)

    def run_all(
        self,
        tasks: list[tuple],
        *,
        jobs: int,
        report: Callable[[Verdict, int], None] = lambda verdict, done: None,
        keep_going: bool = True,
    ) -> list[Verdict]:
        """Run (exercise, proof, fresh) tasks, `jobs` at a time; each has its own namespaces.
        `report` hears each verdict as it comes, with how many are done; unless `keep_going`, the
        first verdict that differs from its declaration stops the run (proofs under way finish).
        The verdicts, in the order they came, are also in `self.verdicts` when the run fails."""
        from concurrent.futures import ThreadPoolExecutor

        lock = threading.Lock()

        def record(verdict: Verdict) -> None:
            with lock:
                self.verdicts.append(verdict)
                report(verdict, len(self.verdicts))
                if not verdict.ok and not keep_going:
                    self.stop.set()

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(self.run, *task, record=record) for task in tasks]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                self.stop.set()
                for future in futures:
                    future.cancel()
                raise
        self.finish_deletions()
        return self.verdicts

    def run(self, exercise: Exercise, proof: Proof | None, fresh: bool, *, record) -> None:
        if not self.stop.is_set():
            self.on_start(exercise.id, proof.name if proof else FRESH_START)
            try:
                self._one(exercise, proof, fresh=fresh, record=record)
            except (ClusterError, ImagePullError):  # no other proof can run: none starts now
                self.stop.set()
                raise

    def _one(self, exercise: Exercise, proof: Proof | None, *, fresh: bool, record) -> None:
        seed = self.seeds()
        started = self.clock()
        attempts: list[Attempt] = []
        kind = RIGHT if proof is None or proof.is_right else WRONG
        name = proof.name if proof else FRESH_START
        score, problems = None, []
        try:
            attempt = start_attempt(
                exercise,
                _NotingCreates(self.cluster, self.created),
                seed=seed,
                now=self.waiter.clock.now(),
                record=attempts.append,
                waiter=self.waiter,
                faults=list(proof.faults) if proof and proof.faults else None,
                workspace=self.workspace,
            )
            if fresh:
                fresh_report = self._grade(exercise, attempt, 0)
                problems_fresh = judge_fresh(fresh_report)
                record(
                    Verdict(
                        exercise.id,
                        FRESH_START,
                        FRESH,
                        not problems_fresh,
                        fresh_report.score,
                        problems_fresh,
                        self.clock() - started,
                        seed,
                    )
                )
            if proof is None:
                return
            values = run_steps(proof, attempt.params, attempt.namespace, self.kubectl)
            wait_s = proof.wait if proof.wait is not None else (RIGHT_WAIT_S if proof.is_right else WRONG_WAIT_S)
            result = self._grade(exercise, attempt, wait_s)
            score, problems = result.score, judge(proof, result, values)
        except (ClusterError, ImagePullError):
            raise  # the cluster itself is the problem: no proof can run
        except StepFailed as exc:
            problems = [str(exc)]
        except CkaprepError as exc:
            problems = [exc.message]
        finally:
            if attempts:
                delete_attempts(
                    self.cluster,
                    [attempts[-1]],
                    waiter=self.waiter,
                    deleting_out=self.deleting,
                    workspace=self.workspace,
                )
        if proof is not None:
            record(Verdict(exercise.id, name, kind, not problems, score, problems, self.clock() - started, seed))

    @property
    def waiter(self) -> Waiter:
        return self.options.waiter

    def clock(self) -> float:
        return self.options.waiter.clock.monotonic()

    def _grade(self, exercise: Exercise, attempt: Attempt, wait_s: float) -> Report:
        report, _ = grade(exercise, attempt, self.cluster, self.options.with_wait(wait_s))
        return report


class _NotingCreates:
    """The cluster, noting each object whose create may have taken effect: it succeeded, or it
    failed in a way that may have reached the API server (a timeout, say)."""

    def __init__(self, cluster: Cluster, created: list[str]):
        self._cluster, self._created = cluster, created

    def create(self, manifest: dict, *args, **kwargs):
        meta = manifest.get("metadata") or {}
        name = f"{manifest.get('kind')} {meta.get('namespace') or ''}/{meta.get('name')}".replace(" /", " ")
        try:
            result = self._cluster.create(manifest, *args, **kwargs)
        except ClusterUnreachable as exc:
            if exc.reached_server:
                self._created.append(name)
            raise
        self._created.append(name)
        return result

    def __getattr__(self, name: str):
        return getattr(self._cluster, name)


def select_proofs(exercise: Exercise, names: list[str]) -> tuple[list[Proof], bool]:
    """The proofs to run and whether the fresh start is among them; no names means all.

    A name is a proof's name in any exercise given, or EXERCISE:NAME for one exercise's only."""
    if not names:
        return list(exercise.proofs), True

    def chosen(name: str) -> bool:
        return name in names or f"{exercise.id}:{name}" in names

    return [p for p in exercise.proofs if chosen(p.name)], chosen(FRESH_START)


def selecting_names(exercise: Exercise) -> set[str]:
    """Every name that selects one of the exercise's proofs, plain and qualified."""
    plain = {FRESH_START} | {p.name for p in exercise.proofs}
    return plain | {f"{exercise.id}:{name}" for name in plain}


def plan_tasks(exercise: Exercise, proofs: list[Proof], fresh: bool) -> list[tuple]:
    """One task per proof; the fresh start rides on the first (or runs alone)."""
    if not proofs:
        return [(exercise, None, True)] if fresh else []
    return [(exercise, proof, fresh and index == 0) for index, proof in enumerate(proofs)]
